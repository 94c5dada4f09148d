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


def test_per_campaign_stages_rates_and_conversions(analytics: pl.DataFrame) -> None:
    out = metrics.funnel(analytics, by="campaign_id")
    c1 = out.filter(pl.col("campaign_id") == "c1")
    assert c1["stage"].to_list() == ["contacted", "opened", "clicked", "replied", "opportunity"]
    assert c1["count"].to_list() == [1000, 400, 30, 50, 8]
    assert c1["rate"].to_list() == pytest.approx([1.0, 0.4, 0.03, 0.05, 0.008])
    replied = c1.filter(pl.col("stage") == "replied").row(0, named=True)
    # clicks are not a subset of replies: conversion > 1 gets a note and no interval
    assert replied["prev_stage"] == "clicked" and replied["conversion"] == pytest.approx(50 / 30)
    assert replied["conv_ci_low"] is None and "not nested" in replied["note"]
    opp = c1.filter(pl.col("stage") == "opportunity").row(0, named=True)
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


def test_overview_frame_uses_its_stages() -> None:
    overview = pl.DataFrame({
        "open_count": [900], "open_count_unique": [700], "link_click_count": [80],
        "link_click_count_unique": [60], "reply_count": [120], "reply_count_unique": [110],
        "emails_sent_count": [5000], "new_leads_contacted_count": [2000],
        "total_opportunities": [30], "total_interested": [25], "total_meeting_booked": [12],
        "total_meeting_completed": [8], "total_closed": [3],
    })
    out = metrics.funnel(overview)
    assert out["stage"].to_list() == ["contacted", "opened", "clicked", "replied",
                                      "opportunity", "interested", "meeting_booked",
                                      "meeting_completed", "closed"]
    first = out.row(0, named=True)
    assert first["source_col"] == "new_leads_contacted_count"
    assert first["label"] == "New leads contacted"
    # unique counts are preferred over totals
    assert out.filter(pl.col("stage") == "opened")["count"].item() == 700
    closed = out.filter(pl.col("stage") == "closed").row(0, named=True)
    assert closed["conversion"] == pytest.approx(3 / 8)
    assert closed["rate"] == pytest.approx(3 / 2000)


def test_only_present_stages_and_zero_counts() -> None:
    df = pl.DataFrame({"contacted_count": [0], "reply_count": [0]})
    out = metrics.funnel(df)
    assert out["stage"].to_list() == ["contacted", "replied"]
    assert out["rate"].to_list() == [None, None]
    assert out["ci_low"].to_list() == [None, None]


def test_errors_and_empty(analytics: pl.DataFrame) -> None:
    with pytest.raises(ValueError, match="stage columns"):
        metrics.funnel(pl.DataFrame({"x": [1]}))
    with pytest.raises(ValueError, match="'workspace'"):
        metrics.funnel(analytics, by="workspace")
    empty = metrics.funnel(analytics.clear(), by="campaign_id")
    assert empty.is_empty()
    assert empty.columns == ["campaign_id", *FUNNEL_TAIL]
