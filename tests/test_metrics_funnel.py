"""Funnel from campaigns.analytics and campaigns.analytics_overview frames."""

from __future__ import annotations

import polars as pl
import pytest
from statsmodels.stats.proportion import proportion_confint

from instantly_nb import metrics
from instantly_nb.metrics.funnels import FUNNEL_TAIL


@pytest.fixture
def analytics() -> pl.DataFrame:
    return pl.DataFrame({
        "campaign_id": ["c1", "c2"],
        "campaign_name": ["Alpha", "Beta"],
        "contacted_count": [1000, 500],
        "open_count": [400, 150],
        "link_click_count": [30, 40],
        "reply_count": [50, 10],
        "total_opportunities": [8, 2],
        "emails_sent_count": [2400, 1300],
    })


def test_per_campaign_chain_and_beside_rates(analytics: pl.DataFrame) -> None:
    out = metrics.funnel(analytics, by="campaign_id")
    c1 = out.filter(pl.col("campaign_id") == "c1")
    assert c1["stage"].to_list() == ["contacted", "replied", "interested", "opened", "clicked"]
    assert c1["kind"].to_list() == ["chain"] * 3 + ["beside"] * 2
    assert c1["count"].to_list() == [1000, 50, 8, 400, 30]
    assert c1["rate"].to_list() == pytest.approx([1.0, 0.05, 0.008, 0.4, 0.03])
    # opens and clicks are rates of contacted, never a conversion into or out of them
    beside = c1.filter(pl.col("kind") == "beside")
    assert beside["conversion"].null_count() == 2 and beside["prev_stage"].null_count() == 2
    replied = c1.filter(pl.col("stage") == "replied").row(0, named=True)
    assert replied["prev_stage"] == "contacted" and replied["conversion"] == pytest.approx(0.05)
    opp = c1.filter(pl.col("stage") == "interested").row(0, named=True)
    assert opp["prev_stage"] == "replied" and opp["source_col"] == "total_opportunities"
    low, high = proportion_confint(8, 50, method="wilson")
    assert (opp["conv_ci_low"], opp["conv_ci_high"]) == (pytest.approx(low, abs=1e-12),
                                                         pytest.approx(high, abs=1e-12))
    low, high = proportion_confint(8, 1000, method="wilson")
    assert opp["ci_low"] == pytest.approx(low, abs=1e-12)
    assert "tracking" in c1.filter(pl.col("stage") == "opened")["caveat"].item()


def test_pooled_funnel_sums_counts(analytics: pl.DataFrame) -> None:
    out = metrics.funnel(analytics)
    replied = out.filter(pl.col("stage") == "replied").row(0, named=True)
    assert (replied["count"], replied["base"]) == (60, 1500)
    assert replied["rate"] == pytest.approx(60 / 1500)
    assert out.schema == pl.Schema(FUNNEL_TAIL)


def test_overview_chain_uses_human_replies() -> None:
    overview = pl.DataFrame({
        "open_count": [900], "open_count_unique": [700], "link_click_count": [80],
        "link_click_count_unique": [60], "reply_count": [120], "reply_count_unique": [110],
        "reply_count_automatic_unique": [30],
        "emails_sent_count": [5000], "new_leads_contacted_count": [2000],
        "total_opportunities": [30], "total_interested": [25], "total_meeting_booked": [12],
        "total_meeting_completed": [8], "total_closed": [3],
    })
    out = metrics.funnel(overview)
    assert out["stage"].to_list() == ["contacted", "replied", "interested", "meeting_booked",
                                      "closed", "opened", "clicked"]
    first = out.row(0, named=True)
    assert first["source_col"] == "new_leads_contacted_count"
    assert first["label"] == "New leads contacted"
    assert out.filter(pl.col("stage") == "replied")["count"].item() == 80  # 110 - 30 automatic
    assert out.filter(pl.col("stage") == "opened")["count"].item() == 700
    closed = out.filter(pl.col("stage") == "closed").row(0, named=True)
    assert closed["prev_stage"] == "meeting_booked"
    assert closed["conversion"] == pytest.approx(3 / 12)
    assert closed["rate"] == pytest.approx(3 / 2000)


def test_untracked_opens_and_non_nested_windows() -> None:
    df = pl.DataFrame({"campaign_id": ["a", "b"], "contacted_count": [100, 300],
                       "reply_count_unique": [10, 12], "total_interested": [4, 20],
                       "open_count_unique": [40, 0], "open_tracking": [True, False]})
    pooled = metrics.funnel(df)
    opened = pooled.filter(pl.col("stage") == "opened").row(0, named=True)
    assert (opened["count"], opened["base"]) == (40, 100)  # b left out of both sides
    per = metrics.funnel(df, by="campaign_id")
    b_open = per.filter((pl.col("campaign_id") == "b") & (pl.col("stage") == "opened"))
    assert b_open["rate"].item() is None and b_open["note"].item() == "not tracked"
    b_int = per.filter((pl.col("campaign_id") == "b") & (pl.col("stage") == "interested"))
    assert b_int["conversion"].item() is None and "previous stage" in b_int["note"].item()


def test_only_present_stages_and_zero_counts() -> None:
    df = pl.DataFrame({"contacted_count": [0], "reply_count": [0]})
    out = metrics.funnel(df)
    assert out["stage"].to_list() == ["contacted", "replied"]
    assert out["rate"].to_list() == [None, None]
    assert out["ci_low"].to_list() == [None, None]


def test_errors_and_empty(analytics: pl.DataFrame) -> None:
    with pytest.raises(ValueError, match="stage columns"):
        metrics.funnel(pl.DataFrame({"x": [1]}))
    with pytest.raises(ValueError, match="contacted column"):
        metrics.funnel(pl.DataFrame({"reply_count": [1]}))
    with pytest.raises(ValueError, match="'workspace'"):
        metrics.funnel(analytics, by="workspace")
    empty = metrics.funnel(analytics.clear(), by="campaign_id")
    assert empty.is_empty()
    assert empty.columns == ["campaign_id", *FUNNEL_TAIL]
