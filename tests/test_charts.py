"""Chart specs checked through ``chart.to_dict()``, and offline export through vl-convert."""

from __future__ import annotations

import datetime as dt
from typing import Any

import altair as alt
import polars as pl
import pytest

from instantly_nb import charts, metrics
from instantly_nb.charts._base import MAX_ROWS, THEME_NAME, inline_data


def layers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    inner = spec.get("spec", spec)
    return inner.get("layer", [inner])


def tooltip_fields(layer: dict[str, Any]) -> set[str]:
    return {t["field"] for t in layer["encoding"]["tooltip"]}


def values(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return spec["data"]["values"]


@pytest.fixture
def funnel_tidy() -> pl.DataFrame:
    df = pl.DataFrame({"campaign_id": ["c1", "c2"], "contacted_count": [1000, 500],
                       "open_count": [400, 100], "reply_count": [50, 10]})
    return metrics.funnel(df, by="campaign_id")


def test_funnel_spec(funnel_tidy: pl.DataFrame) -> None:
    spec = charts.funnel(funnel_tidy).to_dict()
    bars, whiskers = layers(spec)
    assert bars["mark"]["type"] == "bar" and whiskers["mark"]["type"] == "errorbar"
    assert bars["encoding"]["x"]["field"] == "rate"
    assert bars["encoding"]["y"]["sort"] == {"field": "stage_order", "op": "min"}
    assert bars["encoding"]["color"]["field"] == "group"
    assert bars["encoding"]["yOffset"]["field"] == "group"
    assert (whiskers["encoding"]["x"]["field"], whiskers["encoding"]["x2"]["field"]) == (
        "ci_low", "ci_high")
    assert {"count", "base", "rate", "ci_low", "ci_high", "prev_count",
            "conversion"} <= tooltip_fields(bars)
    rows = values(spec)
    assert len(rows) == 6 and {r["group"] for r in rows} == {"c1", "c2"}
    assert set(rows[0]) == {"group", "stage", "stage_order", "label", "count", "base", "rate",
                            "ci_low", "ci_high", "conversion", "prev_count", "source_col"}
    assert "95% confidence" in " ".join(spec["title"]["subtitle"])
    assert spec["config"]["font"].startswith("Helvetica")


def test_funnel_without_groups_has_no_offset_or_legend() -> None:
    tidy = metrics.funnel(pl.DataFrame({"contacted_count": [10], "reply_count": [1]}))
    bars = layers(charts.funnel(tidy, themed=False).to_dict())[0]
    assert "yOffset" not in bars["encoding"]
    assert bars["encoding"]["color"]["legend"] is None


@pytest.fixture
def ab_tidy() -> pl.DataFrame:
    df = pl.DataFrame({"step": [1, 1, 1, 2, 2, None], "variant": [0, 1, 2, 0, 1, None],
                       "sent": [2000, 2000, 2000, 40, 40, 300],
                       "unique_replies": [80, 160, 82, 2, 3, 9]})
    return metrics.step_variants(df, sequential=False)


def test_step_variants_spec(ab_tidy: pl.DataFrame) -> None:
    spec = charts.step_variants(ab_tidy).to_dict()
    assert spec["facet"]["field"] == "panel" and spec["columns"] == 2
    assert spec["resolve"]["scale"] == {"x": "independent", "y": "independent"}
    bars, points, control = layers(spec)
    assert bars["mark"]["type"] == "rule"
    assert (bars["encoding"]["x"]["field"], bars["encoding"]["x2"]["field"]) == ("ci_low",
                                                                                 "ci_high")
    assert bars["encoding"]["x"]["scale"]["zero"] is False
    assert points["mark"]["type"] == "point" and points["encoding"]["y"]["field"] == "label"
    for channel in ("color", "shape"):
        enc = points["encoding"][channel]
        assert enc["field"] == "verdict"
        assert enc["scale"]["domain"] == ["winner", "loser", "no significant difference",
                                          "not enough data", "control"]
    assert {"sends", "successes", "rate", "ci_low", "ci_high", "p_adjusted",
            "prob_best", "verdict", "reason", "more_sends_needed"} <= tooltip_fields(points)
    assert control["mark"]["type"] == "rule"
    rows = values(spec)
    assert len(rows) == 5  # the unattributed row is not drawn ...
    assert {r["panel"] for r in rows} == {"Step 1", "Step 2"}
    subtitle = " ".join(spec["title"]["subtitle"])
    assert "300 sends with no step/variant" in subtitle  # ... but it is reported
    assert "Reply rate = leads who replied" in subtitle and "/ emails sent" in subtitle
    assert {r["verdict"] for r in rows} == {"control", "winner", "no significant difference",
                                            "not enough data"}


def test_step_variants_one_panel_per_campaign_and_step_with_subjects() -> None:
    df = pl.DataFrame({"campaign_id": ["a", "a", "b", "b"], "step": [1, 1, 1, 1],
                       "variant": [0, 1, 0, 1], "sent": [100] * 4,
                       "unique_replies": [1, 2, 3, 4]})
    tidy = metrics.step_variants(df, by="campaign_id").with_columns(
        pl.Series("subject", ["Hi", "A very long subject line that goes on and on forever", "",
                              None]))
    rows = values(charts.step_variants(tidy).to_dict())
    assert [(r["panel"], r["label"]) for r in rows] == [
        ("a · step 1", "A: Hi"), ("a · step 1", "B: A very long subject line that goes on…"),
        ("b · step 1", "A"), ("b · step 1", "B")]


def test_step_variant_pages_cut_many_panels_into_printable_parts() -> None:
    ids = [f"c{i:02d}" for i in range(11)]
    df = pl.DataFrame({"campaign_id": [c for c in ids for _ in (0, 1)] + [None],
                       "step": [1] * 22 + [None], "variant": [0, 1] * 11 + [None],
                       "sent": [100] * 22 + [40], "unique_replies": [3, 5] * 11 + [1]})
    tidy = metrics.step_variants(df, by="campaign_id")
    whole = values(charts.step_variants(tidy).to_dict())
    parts = [c.to_dict() for c in charts.step_variant_pages(tidy, per_page=4)]
    assert len(parts) == 3  # 11 panels: 4 + 4 + 3
    panels = [sorted({r["panel"] for r in values(p)}) for p in parts]
    assert [len(p) for p in panels] == [4, 4, 3]
    assert sum(panels, []) == sorted({r["panel"] for r in whole})  # each panel once, in order
    assert sum(len(values(p)) for p in parts) == len(whole)  # no row lost or repeated
    titles = [p["title"]["text"] for p in parts]
    assert titles[0].endswith("(tests 1–4 of 11)") and titles[2].endswith("(tests 9–11 of 11)")
    lost = [" ".join(p["title"]["subtitle"]) for p in parts]
    assert "40 sends with no step/variant" in lost[0] and "no step/variant" not in lost[1]
    assert len(charts.step_variant_pages(tidy)) == 2  # 8 panels a part by default
    assert len(charts.step_variant_pages(tidy, per_page=20)) == 1
    with pytest.raises(ValueError, match="per_page"):
        charts.step_variant_pages(tidy, per_page=0)


@pytest.fixture
def health_tidy() -> pl.DataFrame:
    days = [dt.date(2025, 3, 1) + dt.timedelta(days=i) for i in range(5)]
    w = pl.DataFrame({"email": ["a@x.io"] * 5, "date": days, "landed_inbox": [9, 9, 8, 7, 6],
                      "landed_spam": [1, 1, 2, 3, 4]})
    return metrics.deliverability(w, warmup_summary=pl.DataFrame(
        {"email": ["a@x.io"], "health_score": [72.0]}))


def test_deliverability_spec_dates_are_utc_dates(health_tidy: pl.DataFrame) -> None:
    assert "vconcat" not in charts.deliverability(health_tidy).to_dict()  # a score of one day
    health_tidy = health_tidy.with_columns(
        pl.when(pl.col("date") >= dt.date(2025, 3, 4)).then(pl.lit(72.0)).alias("health_score"))
    spec = charts.deliverability(health_tidy).to_dict()
    top, bottom = spec["vconcat"]
    band, median, line = top["layer"]
    assert (band["mark"]["type"], median["mark"]["type"]) == ("area", "line")
    assert line["mark"]["type"] == "line"
    assert line["encoding"]["y"]["field"] == "window_inbox_rate"
    assert line["encoding"]["x"] == {"field": "date", "type": "temporal",
                                     "timeUnit": "utcyearmonthdate",
                                     "axis": {"format": "%b %d", "labelAngle": 0},
                                     "scale": {"nice": False}, "title": None}
    assert band["encoding"]["y"]["scale"]["zero"] is False  # the axis starts at the data
    assert {"landed_inbox", "landed_spam", "window_inbox", "window_spam",
            "health_score"} <= tooltip_fields(line)
    assert bottom["layer"][2]["encoding"]["y"]["field"] == "health_score"
    rows = line["data"]["values"]
    assert [r["date"] for r in rows] == ["2025-03-01", "2025-03-02", "2025-03-03",
                                         "2025-03-04", "2025-03-05"]
    scores = bottom["layer"][2]["data"]["values"]
    assert [(r["date"], r["health_score"]) for r in scores] == [("2025-03-04", 72.0),
                                                               ("2025-03-05", 72.0)]


def test_deliverability_highlights_worst_accounts_against_a_band_of_all() -> None:
    days = [dt.date(2025, 3, 1), dt.date(2025, 3, 2)]
    frames = [pl.DataFrame({"email": [f"s{i}@x.io"] * 2, "date": days,
                            "landed_inbox": [10 - i] * 2, "landed_spam": [i] * 2})
              for i in range(5)]
    tidy = metrics.deliverability(pl.concat(frames))
    spec = charts.deliverability(tidy, max_accounts=2).to_dict()
    band, _, lines = spec["layer"]
    assert {r["email"] for r in lines["data"]["values"]} == {"s4@x.io", "s3@x.io"}
    assert [(r["low"], r["high"], r["accounts"]) for r in band["data"]["values"]] == [
        (0.6, 1.0, 5), (0.6, 1.0, 5)]
    assert "all 5 accounts" in " ".join(spec["title"]["subtitle"])


def test_alerts_spec() -> None:
    acc = pl.DataFrame({"email": ["a@x.io"], "status": [-1], "warmup_status": [-2]})
    spec = charts.alerts(metrics.alerts(pl.DataFrame(), acc)).to_dict()
    assert spec["mark"]["type"] == "rect"
    assert spec["encoding"]["color"]["scale"]["domain"] == ["critical", "warning", "info"]
    assert "message" in tooltip_fields(spec)
    assert len(values(spec)) == 2


def test_trend_spec() -> None:
    days = [dt.date(2025, 3, 3) + dt.timedelta(days=i) for i in range(14)]
    df = pl.DataFrame({"campaign_id": ["c1"] * 14, "date": days, "sent": [100] * 14,
                       "unique_replies": [3] * 14, "unique_opened": [40] * 14})
    tidy = metrics.trends(df, by="campaign_id", rates=("reply", "open"))
    spec = charts.trend(tidy, metric="open").to_dict()
    band, line = layers(spec)
    assert band["mark"]["type"] == "area"
    assert (band["encoding"]["y"]["field"], band["encoding"]["y2"]["field"]) == ("ci_low",
                                                                                 "ci_high")
    assert line["encoding"]["x"]["timeUnit"] == "utcyearmonthdate"
    assert {"numerator", "denominator", "rate", "change_abs", "change_p"} <= tooltip_fields(line)
    rows = values(spec)
    assert [r["period_start"] for r in rows] == ["2025-03-03", "2025-03-10"]
    assert rows[0]["numerator"] == 280
    # over e-mails sent, not the open rate's own leads contacted: the title says so
    assert spec["title"]["text"] == "Open rate per email sent by period"


def test_reply_timing_spec() -> None:
    t0 = dt.datetime(2025, 3, 3, 9, tzinfo=dt.UTC)
    emails = pl.DataFrame({
        "ue_type": [1, 2], "timestamp_email": [t0, t0 + dt.timedelta(hours=3)],
        "thread_id": ["t", "t"], "lead": ["l", "l"], "campaign_id": ["c", "c"],
        "step": ["1", "1"], "is_auto_reply": [0, 0]})
    spec = charts.reply_timing(metrics.reply_timing(emails)).to_dict()
    assert spec["mark"]["type"] == "line"
    assert spec["encoding"]["y"]["field"] == "cumulative_share"
    assert spec["encoding"]["x"]["sort"] == {"field": "bucket_order", "op": "min"}
    assert {"replies_in_bucket", "replies", "median_hours"} <= tooltip_fields(spec)
    assert len(values(spec)) == 9


def test_empty_frames_give_empty_charts(funnel_tidy: pl.DataFrame, ab_tidy: pl.DataFrame,
                                        health_tidy: pl.DataFrame) -> None:
    for chart in (charts.funnel(funnel_tidy.clear()), charts.step_variants(ab_tidy.clear()),
                  charts.deliverability(health_tidy.clear()),
                  charts.alerts(metrics.alerts(pl.DataFrame())),
                  charts.trend(metrics.trends(pl.DataFrame(
                      {"date": [], "sent": [], "unique_replies": []},
                      schema={"date": pl.Date, "sent": pl.Int64, "unique_replies": pl.Int64}))),
                  charts.reply_timing(pl.DataFrame(schema=metrics.timing.TIMING_TAIL))):
        spec = chart.to_dict()
        if "data" in spec:
            assert values(spec) == []
        else:  # one data set per layer
            assert [v for layer in spec["layer"] for v in layer["data"]["values"]] == []


def test_missing_columns_and_unchartable_data(funnel_tidy: pl.DataFrame) -> None:
    with pytest.raises(ValueError, match="'conversion'"):
        charts.funnel(funnel_tidy.drop("conversion"))
    with pytest.raises(ValueError, match="cannot be charted"):
        inline_data(pl.DataFrame({"x": [[1, 2]]}), ["x"])
    with pytest.raises(ValueError, match="aggregate first"):
        inline_data(pl.DataFrame({"x": list(range(MAX_ROWS + 1))}), ["x"])


def test_theme_is_registered_and_optional(funnel_tidy: pl.DataFrame) -> None:
    assert THEME_NAME in alt.theme.names()
    assert "font" not in charts.funnel(funnel_tidy, themed=False).to_dict().get("config", {})
    plain = charts.funnel(funnel_tidy, themed=False)
    combined = charts.apply_theme(alt.vconcat(plain, plain))
    assert combined.to_dict()["config"]["title"]["anchor"] == "start"


@pytest.mark.parametrize("suffix", [".png", ".svg", ".html", ".json"])
def test_save_offline(tmp_path: Any, funnel_tidy: pl.DataFrame, suffix: str) -> None:
    path = charts.save(charts.funnel(funnel_tidy), tmp_path / f"funnel{suffix}")
    data = path.read_bytes()
    assert len(data) > 500
    if suffix == ".png":
        assert data.startswith(b"\x89PNG")
    elif suffix == ".svg":
        assert b"<svg" in data[:400]
    elif suffix == ".html":
        assert b"cdn.jsdelivr" not in data and b"vega" in data
    with pytest.raises(ValueError, match="cannot save"):
        charts.save(charts.funnel(funnel_tidy), tmp_path / "funnel.gif")


def test_a_rate_over_another_denominator_says_so_in_its_label() -> None:
    from instantly_nb.charts.campaign import per_label

    assert per_label("Reply rate", "new_leads", "new_leads_contacted") == "Reply rate"
    assert per_label("Reply rate", "new_leads", "sent") == "Reply rate per email sent"
    assert per_label("Bounce rate", "contacted", "contacted_count") == "Bounce rate"
