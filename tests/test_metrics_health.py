"""Warmup deliverability per account and day, and the alert rules."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from instantly_nb import metrics
from instantly_nb.metrics.alerts import ALERT_SCHEMA, AlertRules
from instantly_nb.metrics.health import HEALTH_SCHEMA

D0 = dt.date(2025, 3, 1)


def day(i: int) -> dt.date:
    return D0 + dt.timedelta(days=i)


def warmup(email: str, inbox: list[int], spam: list[int], days: list[int] | None = None
           ) -> pl.DataFrame:
    days = days if days is not None else list(range(len(inbox)))
    return pl.DataFrame({
        "email": [email] * len(inbox), "date": [day(i) for i in days],
        "sent": [a + b for a, b in zip(inbox, spam, strict=True)], "landed_inbox": inbox,
        "landed_spam": spam, "received": [a + b for a, b in zip(inbox, spam, strict=True)],
    })


def test_inbox_rates_and_calendar_windows() -> None:
    # day 3 is missing: the 3-day window of day 4 covers days 2..4 (only 2 and 4 have data)
    w = warmup("a@x.io", [9, 8, 5, 10], [1, 2, 5, 0], days=[0, 1, 2, 4])
    out = metrics.deliverability(w, window_days=3)
    assert out.schema == pl.Schema(HEALTH_SCHEMA)
    assert out["inbox_rate"].to_list() == pytest.approx([0.9, 0.8, 0.5, 1.0])
    assert out["spam_rate"].to_list() == pytest.approx([0.1, 0.2, 0.5, 0.0])
    assert out["window_inbox"].to_list() == [9, 17, 22, 15]
    assert out["window_inbox_rate"][3] == pytest.approx(15 / 20)
    assert out["health_estimate"][3] == pytest.approx(75.0)
    assert out["inbox_ci_low"][0] < 0.9 < out["inbox_ci_high"][0]


def test_trend_from_estimate_matches_least_squares() -> None:
    inbox = [10, 10, 9, 9, 8, 7, 7, 6, 5, 5]
    w = warmup("a@x.io", inbox, [10 - v for v in inbox])
    out = metrics.deliverability(w, window_days=4, trend_days=4)
    last = out.row(-1, named=True)
    t = np.arange(6, 10)
    y = out["health_estimate"].to_numpy()[6:10]
    assert last["health_slope"] == pytest.approx(np.polyfit(t, y, 1)[0], abs=1e-9)
    assert last["health_change"] == pytest.approx(last["health_slope"] * 4)
    assert last["health_trend_source"] == "estimate"
    assert out["health_slope"][0] is None  # one point: no slope


def test_trend_from_history_and_summary_score() -> None:
    w = warmup("a@x.io", [9] * 8, [1] * 8)
    hist = pl.DataFrame({"snapshot_date": [day(i) for i in (0, 2, 3, 5, 7)],
                         "email": ["a@x.io"] * 5, "health_score": [95.0, 93, 90, 84, 80]})
    out = metrics.deliverability(w, health_history=hist, window_days=7, trend_days=7)
    last = out.row(-1, named=True)
    t, y = np.array([2, 3, 5, 7]), np.array([93.0, 90, 84, 80])  # days 1..7 in the window
    assert last["health_slope"] == pytest.approx(np.polyfit(t, y, 1)[0], abs=1e-9)
    assert last["health_score"] == 80.0 and last["health_trend_source"] == "history"
    assert out.filter(pl.col("date") == day(1))["health_score"].item() is None
    summary = pl.DataFrame({"email": ["a@x.io"], "health_score": [88.0]})
    plain = metrics.deliverability(w, warmup_summary=summary)
    assert plain["health_score"].to_list() == [None] * 7 + [88.0]


def test_bounce_and_account_columns() -> None:
    w = warmup("a@x.io", [9, 9], [1, 1])
    ad = pl.DataFrame({"date": [day(0), day(1), day(2)], "email_account": ["a@x.io"] * 3,
                       "sent": [100, 50, 0], "bounced": [2, 4, 0]})
    acc = pl.DataFrame({"email": ["a@x.io"], "status": [1], "warmup_status": [1],
                        "daily_limit": [120]})
    out = metrics.deliverability(w, accounts=acc, account_daily=ad)
    assert out["date"].to_list() == [day(0), day(1), day(2)]  # union of both daily frames
    assert out["bounce_rate"].to_list() == pytest.approx([0.02, 0.08, None], nan_ok=True)
    assert out["window_bounce_rate"][1] == pytest.approx(6 / 150)
    assert out["daily_limit"].to_list() == [120.0] * 3
    assert out["landed_inbox"][2] is None


def test_deliverability_errors_and_empty() -> None:
    with pytest.raises(ValueError, match="'landed_spam'"):
        metrics.deliverability(pl.DataFrame({"email": ["a"], "date": [D0], "landed_inbox": [1]}))
    with pytest.raises(ValueError, match="window_days"):
        metrics.deliverability(warmup("a@x.io", [1], [0]), window_days=0)
    with pytest.raises(ValueError, match="'bounced'"):
        metrics.deliverability(warmup("a@x.io", [1], [0]), account_daily=pl.DataFrame(
            {"date": [D0], "email_account": ["a@x.io"], "sent": [1]}))
    empty = metrics.deliverability(warmup("a@x.io", [1], [0]).clear())
    assert empty.is_empty() and empty.schema == pl.Schema(HEALTH_SCHEMA)


@pytest.fixture
def senders() -> tuple[pl.DataFrame, pl.DataFrame]:
    days = list(range(7))
    good = warmup("good@x.io", [10] * 7, [0] * 7)
    bad = warmup("bad@x.io", [20, 18, 16, 14, 12, 10, 8], [0, 2, 4, 6, 8, 10, 12])
    ad = pl.DataFrame({
        "date": [day(i) for i in days] * 2,
        "email_account": ["good@x.io"] * 7 + ["bad@x.io"] * 7,
        "sent": [40] * 7 + [98] * 7, "bounced": [0] * 7 + [5] * 7,
    })
    acc = pl.DataFrame({"email": ["good@x.io", "bad@x.io", "idle@x.io"],
                        "status": [1, 1, -3], "warmup_status": [1, -1, 1],
                        "daily_limit": [100, 100, 50]})
    health = metrics.deliverability(pl.concat([good, bad]), accounts=acc, account_daily=ad)
    return health, acc


def test_alert_rules_fire_with_numbers(senders: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    health, acc = senders
    out = metrics.alerts(health, acc)
    assert out.schema == pl.Schema(ALERT_SCHEMA)
    fired = {(r["email"], r["rule"], r["severity"]) for r in out.iter_rows(named=True)}
    assert fired == {
        ("idle@x.io", "account_status", "critical"),
        ("bad@x.io", "warmup_status", "critical"),
        ("bad@x.io", "bounce", "critical"),
        ("bad@x.io", "health_low", "warning"),
        ("bad@x.io", "health_falling", "warning"),
        ("bad@x.io", "spam_placement", "warning"),
        ("bad@x.io", "volume_near_limit", "info"),
    }
    assert out["severity"].to_list()[:3] == ["critical"] * 3
    bounce = out.filter(pl.col("rule") == "bounce").row(0, named=True)
    assert bounce["value"] == pytest.approx(35 / 686)
    assert "35/686" in bounce["message"] and bounce["threshold"] == 0.05
    idle = out.filter(pl.col("email") == "idle@x.io").row(0, named=True)
    assert "sending error" in idle["message"] and idle["date"] == day(6)
    spam = out.filter(pl.col("rule") == "spam_placement").row(0, named=True)
    assert spam["value"] == pytest.approx(42 / 140) and "42/140" in spam["message"]
    # every alert also reads as a plain sentence naming the account
    assert out["sentence"].str.starts_with(out["email"]).all()
    assert "30% of its warmup mail went to spam" in spam["sentence"]
    falling = out.filter(pl.col("rule") == "health_falling").row(0, named=True)
    assert "fell from 85% to 50%" in falling["sentence"]


def test_small_or_noisy_samples_do_not_alert() -> None:
    # 3 warmup mails a day, one in spam on two days: 2/21 in spam is no evidence of 10 %
    quiet = warmup("small@x.io", [3, 3, 2, 3, 3, 2, 3], [0, 0, 1, 0, 0, 1, 0])
    # plenty of mail, spam rate 12 % but its interval reaches below 10 %: no alert either
    close = warmup("close@x.io", [44] * 7, [6] * 7)
    health = metrics.deliverability(pl.concat([quiet, close]))
    assert metrics.alerts(health).is_empty()
    loud = warmup("loud@x.io", [40] * 7, [10] * 7)  # 20 %: the interval is above 10 %
    fired = metrics.alerts(metrics.deliverability(loud))
    assert fired["rule"].to_list() == ["spam_placement"]
    lax = AlertRules(min_placed=10, confidence=0.5)
    assert "spam_placement" in metrics.alerts(health, rules=lax)["rule"].to_list()


def test_alert_thresholds_are_configurable(senders: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    health, acc = senders
    rules = AlertRules(bounce_critical=0.06, health_min=None, health_drop=None,
                       spam_rate_max=None, volume_share=None, warmup_status_negative=False,
                       status_negative=False)
    out = metrics.alerts(health, acc, rules=rules)
    assert out.select("email", "rule", "severity").rows() == [("bad@x.io", "bounce", "warning")]
    quiet = AlertRules(bounce_warn=None, bounce_critical=None, health_min=None,
                       health_drop=None, spam_rate_max=None, volume_share=None,
                       status_negative=False, warmup_status_negative=False)
    assert metrics.alerts(health, acc, rules=quiet).is_empty()
    few = AlertRules(min_sent=10_000)
    assert "bounce" not in metrics.alerts(health, acc, rules=few)["rule"].to_list()


def test_alerts_as_of_and_status_only(senders: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    health, acc = senders
    early = metrics.alerts(health, rules=AlertRules(), as_of=day(1))
    assert "spam_placement" not in early["rule"].to_list()
    assert set(early["date"].drop_nulls()) <= {day(1)}
    only = metrics.alerts(pl.DataFrame(), acc)
    assert only.select("email", "rule").rows() == [("bad@x.io", "warmup_status"),
                                                   ("idle@x.io", "account_status")]
    assert metrics.alerts(pl.DataFrame()).is_empty()
    with pytest.raises(ValueError, match="health_estimate"):
        metrics.alerts(pl.DataFrame({"email": ["a"], "date": [D0]}))
