"""The tables readers see, built from hand-made frames with every expected number worked out here.

Intervals are checked against the Wilson formula written out below (95 %), not against the
package's own interval function.
"""

from __future__ import annotations

import datetime as dt
import math
from statistics import NormalDist
from types import SimpleNamespace
from typing import Any

import polars as pl
import pytest

from instantly_nb.report.periods import Window
from instantly_nb.views.ab import verdict_table
from instantly_nb.views.deliverability import account_table, bounce_table, placement_results
from instantly_nb.views.scope import Scope

D1, D2, D3, D4 = (dt.date(2026, 11, d) for d in (9, 10, 11, 12))
WINDOW = Window(D2, D3)  # D1 and D4 lie outside
Z = NormalDist().inv_cdf(0.975)


def wilson(x: int, n: int) -> tuple[float, float]:
    centre = (x + Z * Z / 2) / (n + Z * Z)
    half = Z * math.sqrt(x * (n - x) / n + Z * Z / 4) / (n + Z * Z)
    return centre - half, centre + half


def same(row: dict[str, Any], expected: dict[str, Any]) -> None:
    """Equal keys; numbers equal to 1e-12 (relative), everything else exactly."""
    assert list(row) == list(expected)
    for key, want in expected.items():
        if isinstance(want, float):
            assert row[key] == pytest.approx(want, rel=1e-12), key
        else:
            assert row[key] == want, key


def _health_row(email: str, day: dt.date, **values: Any) -> dict[str, Any]:
    base = {"email": email, "date": day, "campaign_sent": 0, "health_score": None,
            "health_estimate": None, "health_change": None, "window_inbox": 0,
            "window_spam": 0, "window_inbox_rate": None, "window_bounce_rate": None,
            "daily_limit": 50.0}
    return {**base, **values}


HEALTH = pl.DataFrame([
    # a@: outside the window (D1) its sends do not count; its score is the latest known (D4)
    _health_row("a@x.com", D1, campaign_sent=100, health_score=99.0),
    _health_row("a@x.com", D2, campaign_sent=10, health_score=90.0, window_inbox=45,
                window_spam=5, window_inbox_rate=0.9, window_bounce_rate=0.01),
    _health_row("a@x.com", D3, campaign_sent=20, health_score=None, health_estimate=88.0,
                health_change=-2.0, window_inbox=72, window_spam=8, window_inbox_rate=0.9,
                window_bounce_rate=0.02),
    _health_row("a@x.com", D4, campaign_sent=1000, health_score=70.0),
    # b@: no API score at all: sorted by its estimate
    _health_row("b@x.com", D2, campaign_sent=7, health_estimate=60.0, health_change=1.5,
                window_inbox=3, window_spam=1, window_inbox_rate=0.75, window_bounce_rate=0.0,
                daily_limit=30.0),
], schema_overrides={"health_score": pl.Float64, "health_estimate": pl.Float64,
                     "health_change": pl.Float64, "window_inbox_rate": pl.Float64,
                     "window_bounce_rate": pl.Float64})
ACCOUNTS = pl.DataFrame({"email": ["a@x.com", "b@x.com"], "status_label": ["Active", "Paused"],
                         "warmup_status_label": ["Active", "Active"]})


def test_account_table_numbers() -> None:
    table = account_table(HEALTH, ACCOUNTS, WINDOW)
    assert table.columns == [
        "email", "as_of", "status_label", "warmup_status_label", "health_score",
        "health_estimate", "health_change", "inbox_rate", "inbox_rate_low", "inbox_rate_high",
        "bounce_rate", "campaign_sent", "daily_limit"]
    b, a = table.to_dicts()  # weakest first: b's estimate 60 before a's score 70
    a_low, a_high = wilson(72, 80)
    same(a, {
        "email": "a@x.com", "as_of": D3, "status_label": "Active",
        "warmup_status_label": "Active", "health_score": 70.0, "health_estimate": 88.0,
        "health_change": -2.0, "inbox_rate": 0.9, "inbox_rate_low": a_low,
        "inbox_rate_high": a_high, "bounce_rate": 0.02, "campaign_sent": 30, "daily_limit": 50.0})
    b_low, b_high = wilson(3, 4)
    same(b, {
        "email": "b@x.com", "as_of": D2, "status_label": "Paused",
        "warmup_status_label": "Active", "health_score": None, "health_estimate": 60.0,
        "health_change": 1.5, "inbox_rate": 0.75, "inbox_rate_low": b_low,
        "inbox_rate_high": b_high, "bounce_rate": 0.0, "campaign_sent": 7, "daily_limit": 30.0})


def test_bounce_table_numbers() -> None:
    daily = pl.DataFrame({
        "email_account": ["a@x.com", "a@x.com", "a@x.com", "b@x.com", "c@x.com"],
        "date": [D1, D2, D3, D2, D3],
        "sent": [500, 100, 300, 50, 0],
        "bounced": [400, 2, 6, 5, 0],
    })
    table = bounce_table(daily, WINDOW)
    rows = table.to_dicts()
    assert [r["email"] for r in rows] == ["b@x.com", "a@x.com"]  # highest first; c sent nothing
    assert [(r["sent"], r["bounced"]) for r in rows] == [(50, 5), (400, 8)]
    assert rows[0]["bounce_rate"] == pytest.approx(0.1, rel=1e-12)
    assert rows[1]["bounce_rate"] == pytest.approx(0.02, rel=1e-12)
    assert (rows[1]["bounce_rate_low"], rows[1]["bounce_rate_high"]) == pytest.approx(
        wilson(8, 400), rel=1e-9)


def _scope(tests: pl.DataFrame, stats: pl.DataFrame, asked: list[dict[str, Any]],
           campaign_ids: list[str] | None = None) -> Scope:
    def stats_by_test(**params: Any) -> pl.DataFrame:
        asked.append(params)
        return stats

    client = SimpleNamespace(
        inbox_placement_tests=SimpleNamespace(list=lambda: tests),
        inbox_placement_analytics=SimpleNamespace(stats_by_test=stats_by_test))
    return Scope(client=client, window=WINDOW, campaigns=pl.DataFrame({"id": ["c1"]}),
                 campaign_ids=campaign_ids or [])


TESTS = pl.DataFrame({
    "id": ["t1", "t2", "t3"], "name": ["Gmail check", "Outlook check", "Own campaign"],
    "status_label": ["Completed", "Active", "Completed"], "campaign_id": ["c9", None, "c1"],
    "emails": [["z@x.com"], ["a@x.com"], []],
})
STATS = pl.DataFrame({
    "test_id": ["t1", "t2"], "count": [40.0, 0.0], "inbox_count": [30.0, 0.0],
    "spam_count": [10.0, 0.0], "category_count": [0.0, 0.0],
})


def test_placement_results_numbers_and_the_window_asked_for() -> None:
    asked: list[dict[str, Any]] = []
    table = placement_results(_scope(TESTS, STATS, asked))
    assert asked == [{"test_ids": ["t1", "t2", "t3"], "date_from": D2, "date_to": D3}]
    rows = {r["test"]: r for r in table.to_dicts()}
    low, high = wilson(30, 40)
    same(rows["Gmail check"], {
        "test": "Gmail check", "status": "Completed", "placed": 40, "inbox_count": 30,
        "spam_count": 10, "category_count": 0, "inbox_rate": 0.75, "inbox_rate_low": low,
        "inbox_rate_high": high, "spam_rate": 0.25})
    # no result in the window: nothing placed, no rate and no interval (not a 0 % inbox rate)
    assert rows["Outlook check"]["placed"] == 0
    assert rows["Own campaign"]["placed"] == 0 and rows["Own campaign"]["inbox_count"] is None
    for name in ("Outlook check", "Own campaign"):
        assert [rows[name][c] for c in ("inbox_rate", "inbox_rate_low", "inbox_rate_high",
                                        "spam_rate")] == [None] * 4
    assert table["test"].to_list()[0] == "Gmail check"  # rated tests first


def test_placement_results_keep_the_selection_and_its_accounts() -> None:
    asked: list[dict[str, Any]] = []
    accounts = pl.DataFrame({"email": ["a@x.com"]})
    table = placement_results(_scope(TESTS, STATS, asked, campaign_ids=["c1"]), accounts)
    assert sorted(table["test"].to_list()) == ["Outlook check", "Own campaign"]
    assert asked[0]["test_ids"] == ["t2", "t3"]


def _ab_row(campaign: str, step: int | None, variant: int | None, label: str, sends: int,
            successes: int, verdict: str, control: bool, reason: str = "") -> dict[str, Any]:
    rate = successes / sends if sends else None
    return {"campaign_id": campaign + "-id", "campaign": campaign, "step": step,
            "variant": variant, "variant_label": label, "subject": f"{campaign} {label}",
            "body_preview": "Hi", "sends": sends, "successes": successes, "rate": rate,
            "ci_low": None if rate is None else rate - 0.01,
            "ci_high": None if rate is None else rate + 0.01, "control_rate": 0.02,
            "lift_abs": None if rate is None else rate - 0.02, "prob_best": 0.5,
            "verdict": verdict, "sends_needed": 1000, "more_sends_needed": 400,
            "reason": reason, "is_control": control}


def test_verdict_table_keeps_compared_variants_with_their_numbers() -> None:
    ab = pl.DataFrame([
        _ab_row("Spring", 1, 0, "A", 1000, 20, "control", True),
        _ab_row("Spring", 1, 1, "B", 1000, 35, "winner", False),
        _ab_row("Spring", 1, 2, "C", 0, 0, "not enough data", False),     # no sends: left out
        _ab_row("Spring", 2, 0, "A", 500, 5, "control", True),            # alone: left out
        _ab_row("Spring", None, None, "-", 50, 1, "control", True),       # no step: left out
        _ab_row("Autumn", 1, 0, "A", 300, 9, "control", True),
        _ab_row("Autumn", 1, 1, "B", 200, 250, "invalid data", False, "more replies than sends"),
    ])
    table = verdict_table(ab)
    assert table.columns == [
        "campaign", "step", "variant", "subject", "body_preview", "sends", "successes",
        "variant_rate", "variant_rate_low", "variant_rate_high", "control_rate", "lift_rate",
        "prob_best_rate", "verdict", "sends_needed", "more_sends_needed", "note"]
    assert table.select("campaign", "step", "variant", "sends", "successes", "verdict",
                        "note").rows() == [
        ("Spring", 1, "A", 1000, 20, "control", None),
        ("Spring", 1, "B", 1000, 35, "winner", None),
        ("Autumn", 1, "A", 300, 9, "control", None),
        ("Autumn", 1, "B", 200, 250, "invalid data", "more replies than sends"),
    ]
    b = table.row(1, named=True)
    assert (b["variant_rate"], b["variant_rate_low"], b["variant_rate_high"]) == pytest.approx(
        (0.035, 0.025, 0.045), rel=1e-12)
    assert b["lift_rate"] == pytest.approx(0.015, rel=1e-12) and b["subject"] == "Spring B"
