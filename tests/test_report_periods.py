"""Report windows: named periods, explicit windows and file names."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from instantly_nb.report import PERIODS, Window, report_filename, resolve_period

WED = date(2026, 11, 25)  # a Wednesday
MON = date(2026, 11, 23)
SUN = date(2026, 11, 29)


@pytest.mark.parametrize(
    ("name", "today", "expected"),
    [
        ("last-7d", WED, (date(2026, 11, 18), date(2026, 11, 24))),
        ("last-7d", date(2026, 3, 1), (date(2026, 2, 22), date(2026, 2, 28))),
        ("last-30d", WED, (date(2026, 10, 26), date(2026, 11, 24))),
        ("month-to-date", WED, (date(2026, 11, 1), WED)),
        ("month-to-date", date(2026, 12, 1), (date(2026, 12, 1), date(2026, 12, 1))),
        ("previous-week", WED, (date(2026, 11, 16), date(2026, 11, 22))),
        ("previous-week", MON, (date(2026, 11, 16), date(2026, 11, 22))),
        ("previous-week", SUN, (date(2026, 11, 16), date(2026, 11, 22))),
        ("previous-week", date(2027, 1, 6), (date(2026, 12, 28), date(2027, 1, 3))),
        ("previous-month", WED, (date(2026, 10, 1), date(2026, 10, 31))),
        ("previous-month", date(2027, 1, 15), (date(2026, 12, 1), date(2026, 12, 31))),
        ("previous-month", date(2028, 3, 1), (date(2028, 2, 1), date(2028, 2, 29))),
    ],
)
def test_resolve_period(name: str, today: date, expected: tuple[date, date]) -> None:
    assert resolve_period(name, today) == expected


@pytest.mark.parametrize("today", [MON + timedelta(days=i) for i in range(7)])
def test_previous_week_is_a_full_iso_week_before_the_current_one(today: date) -> None:
    start, end = resolve_period("previous-week", today)
    assert start.isoweekday() == 1 and end.isoweekday() == 7
    assert (end - start).days == 6
    assert end < today - timedelta(days=today.weekday())


@pytest.mark.parametrize(("name", "days"), [("last-7d", 7), ("last-30d", 30)])
def test_rolling_windows_end_yesterday(name: str, days: int) -> None:
    start, end = resolve_period(name, WED)
    assert end == WED - timedelta(days=1)
    assert Window(start, end).days == days


def test_every_period_resolves_to_an_ordered_window() -> None:
    for name in PERIODS:
        start, end = resolve_period(name, WED)
        assert start <= end <= WED


def test_unknown_period_names_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="previous-week"):
        resolve_period("fortnight", WED)


def test_window_rejects_start_after_end() -> None:
    with pytest.raises(ValueError, match="starts after it ends"):
        Window(date(2026, 11, 2), date(2026, 11, 1))


def test_window_label() -> None:
    window = Window(date(2026, 11, 17), date(2026, 11, 23), "previous-week")
    assert window.label() == "2026-11-17 – 2026-11-23 (7 days, previous week)"
    assert Window(WED, WED).label() == "2026-11-25 – 2026-11-25 (1 day)"


def test_file_name_derives_from_the_window() -> None:
    window = Window(date(2026, 11, 17), date(2026, 11, 23))
    assert report_filename(window) == "instantly-report_2026-11-17_2026-11-23.html"
    assert report_filename(window, prefix="acme") == "acme_2026-11-17_2026-11-23.html"
    next_week = Window(date(2026, 11, 24), date(2026, 11, 30))
    assert report_filename(next_week) != report_filename(window)


@pytest.mark.parametrize("prefix", ["../etc", "a/b", "", ".hidden", "x" * 90])
def test_file_name_prefix_cannot_leave_the_folder(prefix: str) -> None:
    with pytest.raises(ValueError, match="may only hold"):
        report_filename(Window(WED, WED), prefix=prefix)
