"""Rate registry and ``metrics.rate``: pooling, denominators, intervals, errors, empty frames."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from statsmodels.stats.proportion import proportion_confint

from instantly_nb import metrics
from instantly_nb.metrics.definitions import RATE_SCHEMA_TAIL, RATES, get


@pytest.fixture
def campaigns() -> pl.DataFrame:
    return pl.DataFrame({
        "campaign_id": ["c1", "c2", "c3"],
        "contacted_count": [1000, 100, 0],
        "emails_sent_count": [2500, 300, 0],
        "new_leads_contacted_count": [400, 100, 0],
        "reply_count": [30, 20, 0],
        "open_count": [500, 60, 0],
        "bounced_count": [10, 5, 0],
        "total_opportunities": [4, 1, 0],
    })


def test_registry_has_the_documented_rates_with_definitions() -> None:
    for name in ("reply", "open", "click", "bounce", "unsubscribe", "opportunity", "meeting"):
        rdef = get(name)
        assert rdef.definition().startswith(rdef.label)
        assert rdef.denominator in rdef.allowed
    assert "tracking" in RATES["open"].caveat
    assert RATES["reply"].caveat == ""
    with pytest.raises(ValueError, match="known rates"):
        get("ctr")


def test_pooled_rate_is_ratio_of_sums_not_mean_of_ratios(campaigns: pl.DataFrame) -> None:
    out = metrics.rate(campaigns, "reply", denominator="contacted")
    assert out.height == 1
    row = out.row(0, named=True)
    assert (row["numerator"], row["denominator"]) == (50.0, 1100.0)
    assert row["rate"] == pytest.approx(50 / 1100)
    mean_of_ratios = (30 / 1000 + 20 / 100) / 2
    assert row["rate"] != pytest.approx(mean_of_ratios)
    low, high = proportion_confint(50, 1100, alpha=0.05, method="wilson")
    assert (row["ci_low"], row["ci_high"]) == (pytest.approx(low, abs=1e-12),
                                               pytest.approx(high, abs=1e-12))
    assert row["numerator_col"] == "reply_count" and row["denominator_col"] == "contacted_count"
    assert row["rows"] == 3


@pytest.mark.parametrize(
    ("denominator", "column", "expected"),
    [("contacted", "contacted_count", 1100), ("sent", "emails_sent_count", 2800),
     ("new_leads", "new_leads_contacted_count", 500)],
)
def test_alternative_denominators(campaigns: pl.DataFrame, denominator: str, column: str,
                                  expected: int) -> None:
    row = metrics.rate(campaigns, "reply", denominator=denominator).row(0, named=True)
    assert row["denominator_col"] == column
    assert row["denominator"] == expected
    assert row["rate"] == pytest.approx(50 / expected)
    assert row["definition"].endswith(
        {"contacted": "leads contacted", "sent": "emails sent",
         "new_leads": "new leads contacted"}[denominator] + "; pooled as a ratio of sums.")


def test_by_group_zero_denominator_gives_null(campaigns: pl.DataFrame) -> None:
    out = metrics.rate(campaigns, "reply", "contacted", by="campaign_id", level=0.9,
                       method="jeffreys")
    assert out["campaign_id"].to_list() == ["c1", "c2", "c3"]
    c3 = out.filter(pl.col("campaign_id") == "c3").row(0, named=True)
    assert c3["rate"] is None and c3["ci_low"] is None and c3["ci_high"] is None
    low, high = proportion_confint(np.array([30, 20]), np.array([1000, 100]), alpha=0.1,
                                   method="jeffreys")
    np.testing.assert_allclose(out["ci_low"].head(2).to_numpy(), low, atol=1e-9)
    np.testing.assert_allclose(out["ci_high"].head(2).to_numpy(), high, atol=1e-9)
    assert set(out["method"]) == {"jeffreys"} and set(out["level"]) == {0.9}


def test_daily_and_step_frames_resolve_their_own_columns() -> None:
    daily = pl.DataFrame({"sent": [100, 200], "unique_replies": [3, 5],
                          "unique_opened": [40, 70]})
    row = metrics.rate(daily, "reply", denominator="sent").row(0, named=True)
    assert (row["numerator_col"], row["denominator_col"]) == ("unique_replies", "sent")
    assert row["rate"] == pytest.approx(8 / 300)
    assert metrics.rate(daily, "open", denominator="sent")["caveat"].item() != ""


def test_exclude_automatic_replies() -> None:
    steps = pl.DataFrame({"sent": [100, 100], "unique_replies": [10, 6],
                          "unique_replies_automatic": [4, None]})
    row = metrics.rate(steps, "reply", denominator="sent", exclude_automatic=True).row(0,
                                                                                        named=True)
    assert row["numerator"] == 12.0
    with pytest.raises(ValueError, match="automatic"):
        metrics.rate(steps.drop("unique_replies_automatic"), "reply", denominator="sent",
                     exclude_automatic=True)


def test_missing_columns_are_named(campaigns: pl.DataFrame) -> None:
    with pytest.raises(ValueError, match="reply_count"):
        metrics.rate(campaigns.drop("reply_count"), "reply")
    with pytest.raises(ValueError, match="'workspace'"):
        metrics.rate(campaigns, "reply", by="workspace")
    with pytest.raises(ValueError, match="unknown rate"):
        metrics.rate(campaigns, "replies")


def test_empty_frame_keeps_schema(campaigns: pl.DataFrame) -> None:
    out = metrics.rate(campaigns.clear(), "reply", by="campaign_id")
    assert out.is_empty()
    assert out.schema == pl.Schema({"campaign_id": pl.String(), **RATE_SCHEMA_TAIL})
    assert metrics.rate(campaigns, "reply").schema == pl.Schema(RATE_SCHEMA_TAIL)


def test_explicit_numerator_column() -> None:
    df = pl.DataFrame({"positive_replies": [5, 5], "contacted_count": [100, 100]})
    assert metrics.rate(df, "reply", numerator="positive_replies")["rate"].item() == 0.05


def test_denominator_must_suit_the_rate(campaigns: pl.DataFrame) -> None:
    with pytest.raises(ValueError, match="not offered"):
        metrics.rate(campaigns, "open", denominator="new_leads")
    # a plain column name is always accepted
    row = metrics.rate(campaigns, "open", denominator="emails_sent_count").row(0, named=True)
    assert row["denominator"] == 2800


def test_public_names_are_documented() -> None:
    from instantly_nb import charts

    for module in (metrics, charts):
        for name in module.__all__:
            obj = getattr(module, name)
            if callable(obj):
                assert obj.__doc__ and obj.__doc__.strip(), f"{module.__name__}.{name}"


def test_vendor_reply_rate_and_its_companions() -> None:
    df = pl.DataFrame({"campaign_id": ["a", "b"], "new_leads_contacted_count": [1000, 400],
                       "contacted_count": [1200, 500], "reply_count_unique": [80, 30],
                       "reply_count_automatic_unique": [50, 10], "total_interested": [9, 4],
                       "total_meeting_booked": [3, 1]})
    reply = metrics.rate(df, "reply").row(0, named=True)
    # (reply_count_unique - reply_count_automatic_unique) / new_leads_contacted_count
    assert (reply["numerator"], reply["denominator"]) == (50.0, 1400.0)
    assert reply["denominator_col"] == "new_leads_contacted_count"
    assert "automatic replies subtracted" in reply["definition"]
    auto = metrics.rate(df, "automatic").row(0, named=True)
    assert (auto["numerator"], auto["denominator"]) == (60.0, 1400.0)
    assert metrics.rate(df, "interested")["rate"].item() == pytest.approx(13 / 1400)
    assert RATES["interested"].label == "Positive-reply rate"
    per = metrics.rate(df, "meeting", by="campaign_id")
    assert per["rate"].to_list() == pytest.approx([3 / 1000, 1 / 400])
    raw = metrics.rate(df, "reply", exclude_automatic=False)
    assert raw["numerator"].item() == 110.0


def test_open_rate_not_tracked_and_left_out_of_pooled() -> None:
    df = pl.DataFrame({"campaign_id": ["a", "b", "c"], "contacted_count": [100, 300, 50],
                       "open_count_unique": [40, 0, 20], "open_tracking": [True, False, None]})
    per = metrics.rate(df, "open", by="campaign_id")
    b = per.filter(pl.col("campaign_id") == "b").row(0, named=True)
    assert b["rate"] is None and b["ci_low"] is None and b["note"].startswith("not tracked")
    pooled = metrics.rate(df, "open").row(0, named=True)
    assert (pooled["numerator"], pooled["denominator"]) == (60.0, 150.0)  # unknown = tracked


def test_numerator_outside_denominator_is_never_a_rate() -> None:
    df = pl.DataFrame({"g": ["short window", "impossible", "fine"],
                       "new_leads_contacted_count": [5, 100, 100],
                       "reply_count_unique": [9, 3, 3], "reply_count_automatic_unique": [0, 7, 1]})
    out = metrics.rate(df, "reply", by="g")
    rows = {r["g"]: r for r in out.iter_rows(named=True)}
    assert rows["short window"]["rate"] is None and "not a proportion" in rows["short window"][
        "note"]
    assert rows["impossible"]["rate"] is None and "negative" in rows["impossible"]["note"]
    assert rows["fine"]["rate"] == pytest.approx(0.02) and rows["fine"]["note"] == ""


def test_definitions_text_is_stated_once() -> None:
    from instantly_nb.metrics.definitions import definitions

    pairs = dict(definitions())
    assert set(pairs) == {r.label for r in RATES.values()}
    assert "new leads contacted" in pairs["Reply rate"]
    assert pairs["Open rate"].startswith("Open rate = leads who opened")
    assert dict(definitions(("reply",), denominator="sent"))["Reply rate"].endswith(
        "emails sent; pooled as a ratio of sums.")
