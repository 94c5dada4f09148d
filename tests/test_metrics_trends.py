"""Trends with period-over-period change, reply timing from emails, workspace roll-ups."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from statsmodels.stats.proportion import proportion_confint, proportions_ztest

from instantly_nb import metrics
from instantly_nb.metrics.timeseries import TREND_TAIL
from instantly_nb.metrics.timing import DELAY_SCHEMA, TIMING_TAIL

UTC = dt.UTC


def daily(days: int, start: dt.date = dt.date(2025, 3, 3), campaign: str = "c1") -> pl.DataFrame:
    dates = [start + dt.timedelta(days=i) for i in range(days)]
    return pl.DataFrame({
        "campaign_id": [campaign] * days, "date": dates,
        "sent": [100 + 10 * i for i in range(days)],
        "unique_replies": [i % 5 for i in range(days)],
        "unique_opened": [30 + i for i in range(days)],
    })


def test_weekly_iso_buckets_and_week_over_week_change() -> None:
    # 2025-03-05 is a Wednesday: the first ISO week starts Monday 2025-03-03
    df = daily(14, start=dt.date(2025, 3, 5))
    out = metrics.trends(df, by="campaign_id")
    assert out.columns == ["campaign_id", *TREND_TAIL]
    assert out["period_start"].to_list() == [dt.date(2025, 3, 3), dt.date(2025, 3, 10),
                                            dt.date(2025, 3, 17)]
    assert out["period"].to_list() == ["2025-W10", "2025-W11", "2025-W12"]
    assert out["period_end"][0] == dt.date(2025, 3, 9)
    assert out["days"].to_list() == [5, 7, 2]
    w1 = df.filter(pl.col("date") <= dt.date(2025, 3, 9))
    w2 = df.filter(pl.col("date").is_between(dt.date(2025, 3, 10), dt.date(2025, 3, 16)))
    x1, n1 = w1["unique_replies"].sum(), w1["sent"].sum()
    x2, n2 = w2["unique_replies"].sum(), w2["sent"].sum()
    second = out.row(1, named=True)
    assert (second["numerator"], second["denominator"]) == (x2, n2)
    assert second["change_abs"] == pytest.approx(x2 / n2 - x1 / n1)
    assert second["change_rel"] == pytest.approx((x2 / n2) / (x1 / n1) - 1)
    assert second["denominator_change_rel"] == pytest.approx(n2 / n1 - 1)
    assert second["change_test"] == "z-test (pooled)"
    assert second["change_p"] == pytest.approx(proportions_ztest([x2, x1], [n2, n1])[1],
                                               abs=1e-9)
    low, high = proportion_confint(x2, n2, method="wilson")
    assert (second["ci_low"], second["ci_high"]) == (pytest.approx(low), pytest.approx(high))
    assert out["prev_rate"][0] is None and out["change_abs"][0] is None


def test_gap_means_no_previous_period_and_daily_frequency() -> None:
    df = pl.concat([daily(3, start=dt.date(2025, 3, 3)), daily(3, start=dt.date(2025, 3, 17))])
    out = metrics.trends(df, by="campaign_id")
    assert out["period"].to_list() == ["2025-W10", "2025-W12"]
    assert out["prev_rate"].to_list() == [None, None]  # the week before W12 had no data
    days = metrics.trends(daily(3), freq="1d", rates=("reply", "open"))
    assert days.height == 6 and set(days["metric"]) == {"reply", "open"}
    assert days.filter(pl.col("metric") == "open")["numerator"].to_list() == [30, 31, 32]


def test_monthly_and_errors() -> None:
    out = metrics.trends(daily(40, start=dt.date(2025, 1, 20)), freq="1mo")
    assert out["period"].to_list() == ["2025-01", "2025-02"]
    assert out["period_end"].to_list() == [dt.date(2025, 1, 31), dt.date(2025, 2, 28)]
    with pytest.raises(ValueError, match="freq"):
        metrics.trends(daily(3), freq="1q")
    with pytest.raises(ValueError, match="'date'"):
        metrics.trends(daily(3).drop("date"))
    with pytest.raises(ValueError, match="unique_clicks"):
        metrics.trends(daily(3), rates=("click",))
    assert metrics.trends(daily(3).clear(), by="campaign_id").is_empty()


def ts(hours: float) -> dt.datetime:
    return dt.datetime(2025, 3, 3, 9, tzinfo=UTC) + dt.timedelta(hours=hours)


@pytest.fixture
def emails() -> pl.DataFrame:
    rows = [
        # (ue_type, hours, thread, lead, step, auto)
        (1, 0, "t1", "l1", "1", 0), (2, 5, "t1", "l1", "1", 0), (2, 6, "t1", "l1", "1", 0),
        (1, 0, "t2", "l2", "1", 0), (1, 72, "t2", "l2", "2", 0), (2, 74, "t2", "l2", "2", 0),
        (1, 0, "t3", "l3", "1", 0), (2, 0.5, "t3", "l3", "1", 1),
        (2, 30, "t4", "l4", "1", 0),  # no send in the frame: unmatched
        (1, 0, None, "l5", "1", 0), (2, 400, None, "l5", "1", 0),  # no thread: campaign+lead
    ]
    return pl.DataFrame({
        "ue_type": [r[0] for r in rows], "timestamp_email": [ts(r[1]) for r in rows],
        "thread_id": [r[2] for r in rows], "lead": [r[3] for r in rows],
        "campaign_id": ["c1"] * len(rows), "step": [r[4] for r in rows],
        "is_auto_reply": [r[5] for r in rows],
    })


def test_reply_delays_match_the_latest_earlier_send(emails: pl.DataFrame) -> None:
    out = metrics.reply_delays(emails)
    assert out.schema == pl.Schema(DELAY_SCHEMA)
    got = {(r["lead"], r["step"], r["hours"]) for r in out.iter_rows(named=True)}
    assert got == {("l1", "1", 5.0), ("l2", "2", 2.0), ("l4", "1", None), ("l5", "1", 400.0)}
    with_auto = metrics.reply_delays(emails, exclude_auto_replies=False)
    assert ("l3", "1", 0.5) in {(r["lead"], r["step"], r["hours"])
                                for r in with_auto.iter_rows(named=True)}


def test_reply_delays_accept_iso_text_timestamps(emails: pl.DataFrame) -> None:
    text = emails.with_columns(pl.col("timestamp_email").dt.strftime("%Y-%m-%dT%H:%M:%S.%3fZ"))
    assert metrics.reply_delays(text).equals(metrics.reply_delays(emails))


def test_reply_timing_buckets(emails: pl.DataFrame) -> None:
    out = metrics.reply_timing(emails, by="step", bucket_hours=(1, 4, 24))
    assert out.columns == ["step", *TIMING_TAIL]
    s1 = out.filter(pl.col("step") == "1")
    assert s1["bucket"].to_list() == ["0-1h", "1-4h", "4-24h", ">24h"]
    assert s1["replies_in_bucket"].to_list() == [0, 0, 1, 1]
    assert s1["cumulative_share"].to_list() == [0.0, 0.0, 0.5, 1.0]
    first = s1.row(0, named=True)
    assert (first["replies"], first["unmatched_replies"]) == (2, 1)
    assert first["median_hours"] == pytest.approx(202.5)
    s2 = out.filter(pl.col("step") == "2")
    assert s2["replies_in_bucket"].to_list() == [0, 1, 0, 0]
    overall = metrics.reply_timing(emails, by=None)
    assert overall["replies"][0] == 3 and overall.columns == list(TIMING_TAIL)


def test_reply_timing_errors_and_empty(emails: pl.DataFrame) -> None:
    with pytest.raises(ValueError, match="'thread_id'"):
        metrics.reply_timing(emails.drop("thread_id"))
    with pytest.raises(ValueError, match="increasing"):
        metrics.reply_timing(emails, bucket_hours=(4, 1))
    assert metrics.reply_timing(emails.clear()).is_empty()


def test_rollup_pools_and_shows_mean_of_ratios() -> None:
    ws1 = pl.DataFrame({"contacted_count": [1000, 10], "reply_count": [10, 5]})
    ws2 = pl.DataFrame({"contacted_count": [500], "reply_count": [25]})
    out = metrics.rollup({"north": ws1, "south": ws2})
    assert out["workspace"].to_list() == ["north", "south", "(all)"]
    north = out.row(0, named=True)
    assert north["rate"] == pytest.approx(15 / 1010)
    assert north["mean_of_ratios"] == pytest.approx((0.01 + 0.5) / 2)  # the misleading figure
    total = out.row(2, named=True)
    assert total["is_total"] and total["rate"] == pytest.approx(40 / 1510)
    stacked = metrics.rollup([ws1.with_columns(workspace=pl.lit("north")),
                              ws2.with_columns(workspace=pl.lit("south"))], total=False)
    assert stacked.drop("is_total").equals(out.head(2).drop("is_total"))
    with pytest.raises(ValueError, match="'workspace'"):
        metrics.rollup(ws1)
    assert metrics.rollup(ws1.with_columns(workspace=pl.lit("x")).clear()).is_empty()
