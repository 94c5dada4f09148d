"""Report windows: named periods turned into inclusive (start, end) dates, and file names.

Every window is a pair of calendar dates, both **inclusive**. Analytics days are UTC days, so
"today" is the current UTC date (:func:`utc_today`; pass ``today`` to pin it) on every machine,
whatever its time zone. The named periods:

================  ===================================================================
``last-7d``       the 7 full days that end **yesterday** (today is not over yet, so a
                  morning cron job never reports a half day)
``last-30d``      the 30 full days that end yesterday
``month-to-date`` the 1st of this month up to and **including today**
``previous-week`` the last full ISO week, Monday to Sunday, that ended before this week
                  began (run on a Monday, it is the week that ended yesterday)
``previous-month`` the last full calendar month
================  ===================================================================
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

__all__ = [
    "DEFAULT_PERIOD",
    "PERIODS",
    "UTC_NOTE",
    "Window",
    "report_filename",
    "resolve_period",
    "utc_today",
]

#: The one sentence that tells readers which calendar the figures use.
UTC_NOTE = "Analytics days are UTC days: a day runs from midnight to midnight UTC."


def utc_today() -> date:
    """The current date in UTC, the calendar of the analytics endpoints."""
    return datetime.now(UTC).date()

PERIODS: tuple[str, ...] = (
    "last-7d",
    "last-30d",
    "month-to-date",
    "previous-week",
    "previous-month",
)
DEFAULT_PERIOD = "last-7d"
#: The periods in words, for readers.
PERIOD_NAMES = {"last-7d": "last 7 days", "last-30d": "last 30 days",
                "month-to-date": "month to date", "previous-week": "previous week",
                "previous-month": "previous month"}

# File names may only carry these characters, so a prefix cannot walk out of the folder.
_SAFE_PREFIX = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,80}$")


@dataclass(frozen=True)
class Window:
    """An inclusive date window of a report.

    Attributes
    ----------
    start, end : datetime.date
        First and last day covered, both inclusive.
    period : str or None
        The named period it came from, or None for an explicit ``--start/--end``.
    """

    start: date
    end: date
    period: str | None = None

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise ValueError(
                f"the window starts after it ends ({self.start} > {self.end}); "
                "give --start on or before --end"
            )

    @property
    def days(self) -> int:
        """Number of days covered, both ends included."""
        return (self.end - self.start).days + 1

    def label(self) -> str:
        """Human text such as ``2026-11-17 – 2026-11-23 (7 days, previous week)``."""
        unit = "day" if self.days == 1 else "days"
        name = PERIOD_NAMES.get(self.period or "", self.period)
        words = name if name and name.startswith("last ") else \
            f"{self.days} {unit}" + (f", {name}" if name else "")
        return f"{self.start.isoformat()} – {self.end.isoformat()} ({words})"

    def text(self) -> str:
        """Reader text without the period's code name: ``2026-11-17 – 2026-11-23 (7 days)``."""
        unit = "day" if self.days == 1 else "days"
        return f"{self.start.isoformat()} – {self.end.isoformat()} ({self.days} {unit})"

    def previous(self) -> Window:
        """The window of the same length that ends the day before this one starts."""
        end = self.start - timedelta(days=1)
        return Window(end - timedelta(days=self.days - 1), end)


def resolve_period(name: str, today: date | None = None) -> tuple[date, date]:
    """Turn a named period into its inclusive ``(start, end)`` dates.

    Parameters
    ----------
    name : str
        One of :data:`PERIODS`.
    today : datetime.date, optional
        The day the report runs; defaults to :func:`utc_today`.

    Returns
    -------
    tuple of datetime.date
        ``(start, end)``, both inclusive.

    Raises
    ------
    ValueError
        For an unknown period name (the message lists the valid ones).

    Examples
    --------
    >>> from datetime import date
    >>> resolve_period("previous-week", date(2026, 11, 25))  # a Wednesday
    (datetime.date(2026, 11, 16), datetime.date(2026, 11, 22))
    >>> resolve_period("last-7d", date(2026, 11, 25))
    (datetime.date(2026, 11, 18), datetime.date(2026, 11, 24))
    """
    day = today or utc_today()
    if name == "last-7d":
        return day - timedelta(days=7), day - timedelta(days=1)
    if name == "last-30d":
        return day - timedelta(days=30), day - timedelta(days=1)
    if name == "month-to-date":
        return day.replace(day=1), day
    if name == "previous-week":
        this_monday = day - timedelta(days=day.weekday())
        return this_monday - timedelta(days=7), this_monday - timedelta(days=1)
    if name == "previous-month":
        last_of_previous = day.replace(day=1) - timedelta(days=1)
        return last_of_previous.replace(day=1), last_of_previous
    raise ValueError(f"unknown period {name!r}; choose one of: {', '.join(PERIODS)}")


def report_filename(window: Window, prefix: str = "instantly-report", suffix: str = ".html") -> str:
    """The file name of a report, derived from its window so recurring runs never collide.

    Parameters
    ----------
    window : Window
        The report window.
    prefix : str
        Leading part of the name (letters, digits, ``.``, ``_``, ``-``; no path separators).
    suffix : str
        Extension, ``.html`` by default.

    Examples
    --------
    >>> from datetime import date
    >>> report_filename(Window(date(2026, 11, 17), date(2026, 11, 23)))
    'instantly-report_2026-11-17_2026-11-23.html'
    """
    if not _SAFE_PREFIX.match(prefix):
        raise ValueError(
            f"report name {prefix!r} may only hold letters, digits, '.', '_' and '-' "
            "(at most 81 characters, starting with a letter or digit)"
        )
    return f"{prefix}_{window.start.isoformat()}_{window.end.isoformat()}{suffix}"
