"""Campaign charts: funnel, rate trend and reply timing (from the matching metrics frames)."""

from __future__ import annotations

import altair as alt
import polars as pl

from instantly_nb.charts._base import (
    date_x,
    finish,
    first_value,
    group_label,
    inline_data,
    num,
    pct,
    require_columns,
    title,
)
from instantly_nb.metrics.definitions import DENOMINATOR_LABELS, RATES
from instantly_nb.metrics.funnels import FUNNEL_TAIL
from instantly_nb.metrics.timeseries import TREND_TAIL
from instantly_nb.metrics.timing import TIMING_TAIL

MAX_GROUPS = 12


def _groups(df: pl.DataFrame, tail: dict[str, pl.DataType]) -> list[str]:
    return [c for c in df.columns if c not in tail]


def _top_groups(df: pl.DataFrame, weight: str, max_groups: int) -> tuple[pl.DataFrame, str]:
    sizes = df.group_by("group").agg(pl.col(weight).max()).sort(weight, descending=True)
    if sizes.height <= max_groups:
        return df, ""
    keep = sizes.head(max_groups)["group"]
    note = f"Showing the {max_groups} largest of {sizes.height} groups."
    return df.filter(pl.col("group").is_in(keep.implode())), note


def funnel(tidy: pl.DataFrame, *, max_groups: int = MAX_GROUPS, themed: bool = True) -> alt.TopLevelMixin:
    """Horizontal funnel bars with interval whiskers, one bar per stage and group.

    Parameters
    ----------
    tidy : pl.DataFrame
        Output of :func:`instantly_nb.metrics.funnel` (group columns, if any, come first).
    max_groups : int
        Most groups (e.g. campaigns) drawn side by side; the largest are kept.
    themed : bool
        Attach the package theme (set False to layer or concatenate the chart).

    Returns
    -------
    altair.LayerChart
        Bars (x = share of the first stage, y = stage, color/offset = group) and error bars;
        tooltips show count, base, rate, interval, conversion and the source column.
    """
    require_columns(tidy, ["stage", "stage_order", "label", "count", "base", "rate", "ci_low",
                           "ci_high", "conversion", "prev_count", "source_col"], "charts.funnel")
    groups = _groups(tidy, FUNNEL_TAIL)
    df = group_label(tidy, groups)
    df, note = _top_groups(df, "base", max_groups)
    level = float(first_value(tidy, "level", 0.95))
    data = inline_data(df, ["group", "stage", "stage_order", "label", "count", "base", "rate",
                            "ci_low", "ci_high", "conversion", "prev_count", "source_col"])
    y = alt.Y("label:N", sort=alt.EncodingSortField(field="stage_order", op="min"), title=None)
    many = len(groups) > 0
    color = alt.Color("group:N", title=" · ".join(groups) or None,
                      legend=alt.Legend() if many else None)
    offset = {"yOffset": alt.YOffset("group:N")} if many else {}
    tips = [alt.Tooltip("group:N", title=" · ".join(groups) or "group"),
            alt.Tooltip("label:N", title="Stage"), num("count", "Count"),
            num("base", "First stage"), pct("rate", "Share of first stage"),
            pct("ci_low", "CI low"), pct("ci_high", "CI high"),
            num("prev_count", "Previous stage"), pct("conversion", "Conversion from previous"),
            alt.Tooltip("source_col:N", title="Column")]
    bars = alt.Chart().mark_bar().encode(
        y=y, x=alt.X("rate:Q", title="Share of first stage", axis=alt.Axis(format="%")),
        color=color, tooltip=tips, **offset,
    )
    whiskers = alt.Chart().mark_errorbar(ticks=True, color="#333333").encode(
        y=y, x=alt.X("ci_low:Q", title="Share of first stage"), x2="ci_high:Q", tooltip=tips,
        **offset,
    )
    chart = alt.layer(bars, whiskers, data=data).properties(title=title(
        "Campaign funnel",
        ["Each bar: the share of the leads of the first stage that reached this stage; the "
         f"whisker is the range the true share lies in ({level:.0%} confidence).",
         "Opens and clicks count only where tracking is on; hover a bar for the counts.", note],
    ))
    return finish(chart, themed)


def trend(
    tidy: pl.DataFrame, metric: str | None = None, *, max_groups: int = MAX_GROUPS,
    themed: bool = True,
) -> alt.TopLevelMixin:
    """Rate per period with an interval band, one line per group.

    Parameters
    ----------
    tidy : pl.DataFrame
        Output of :func:`instantly_nb.metrics.trends`.
    metric : str, optional
        Which metric to draw when the frame holds several (default: the first).
    max_groups : int
        Most groups drawn; the largest by volume are kept.
    themed : bool
        Attach the package theme.
    """
    require_columns(tidy, ["period_start", "period", "metric", "numerator", "denominator",
                           "rate", "ci_low", "ci_high", "change_abs", "change_p"],
                    "charts.trend")
    metric = metric or str(first_value(tidy, "metric", "reply"))
    groups = _groups(tidy, TREND_TAIL)
    df = group_label(tidy.filter(pl.col("metric") == metric), groups)
    df, note = _top_groups(df, "denominator", max_groups)
    rdef = RATES.get(str(metric))
    den_col = str(first_value(df, "denominator_col", "sent"))
    label = per_label(rdef.label, rdef.denominator, den_col) if rdef else str(metric)
    definition = rdef.definition(den_col) if rdef else ""
    data = inline_data(df, ["group", "period_start", "period", "numerator", "denominator",
                            "rate", "ci_low", "ci_high", "prev_rate", "change_abs", "change_p",
                            "days"])
    color = alt.Color("group:N", title=" · ".join(groups) or None,
                      legend=alt.Legend() if groups else None)
    x = date_x("period_start", "Period start")
    tips = [alt.Tooltip("group:N", title=" · ".join(groups) or "group"),
            alt.Tooltip("period:N", title="Period"), num("days", "Days with data"),
            num("numerator", "Numerator"), num("denominator", "Denominator"),
            pct("rate", label), pct("ci_low", "CI low"), pct("ci_high", "CI high"),
            pct("prev_rate", "Previous period"), pct("change_abs", "Change (abs)"),
            num("change_p", "Change p-value", ".3g")]
    band = alt.Chart().mark_area(opacity=0.18).encode(
        x=x, y="ci_low:Q", y2="ci_high:Q", color=alt.Color("group:N", legend=None))
    line = alt.Chart().mark_line(point=True).encode(
        x=x, y=alt.Y("rate:Q", title=label, axis=alt.Axis(format="%")), color=color,
        tooltip=tips,
    )
    chart = alt.layer(band, line, data=data).properties(title=title(
        f"{label} by period", [definition, "Band = confidence interval; events are counted "
                               "on the day they happened.", note]))
    return finish(chart, themed)


def reply_timing(tidy: pl.DataFrame, *, themed: bool = True) -> alt.TopLevelMixin:
    """Cumulative share of replies by time since the step's send, one line per group.

    Parameters
    ----------
    tidy : pl.DataFrame
        Output of :func:`instantly_nb.metrics.reply_timing`.
    themed : bool
        Attach the package theme.
    """
    require_columns(tidy, ["bucket", "bucket_order", "replies_in_bucket", "share",
                           "cumulative_share", "replies", "median_hours"], "charts.reply_timing")
    groups = _groups(tidy, TIMING_TAIL)
    df = group_label(tidy, groups)
    data = inline_data(df, ["group", "bucket", "bucket_order", "replies_in_bucket", "share",
                            "cumulative_share", "replies", "unmatched_replies", "median_hours",
                            "p90_hours"])
    tips = [alt.Tooltip("group:N", title=" · ".join(groups) or "group"),
            alt.Tooltip("bucket:N", title="Delay"), num("replies_in_bucket", "Replies"),
            pct("share", "Share"), pct("cumulative_share", "Cumulative share"),
            num("replies", "Replies (all delays)"), num("unmatched_replies", "Unmatched"),
            num("median_hours", "Median hours", ".1f"), num("p90_hours", "90th pct hours", ".1f")]
    chart = alt.Chart(data).mark_line(point=True, interpolate="step-after").encode(
        x=alt.X("bucket:N", sort=alt.EncodingSortField(field="bucket_order", op="min"),
                title="Time from send to reply", axis=alt.Axis(labelAngle=-35)),
        y=alt.Y("cumulative_share:Q", title="Replies so far", axis=alt.Axis(format="%"),
                scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("group:N", title=" · ".join(groups) or None,
                        legend=alt.Legend() if groups else None),
        tooltip=tips,
    ).properties(title=title("Reply timing", [
        "Share of first replies arriving within each delay of the step's send "
        "(automatic replies excluded by default)."]))
    return finish(chart, themed)


def per_label(label: str, default: str, used: str) -> str:
    """``label`` as is when the rate is over its usual denominator, else "<label> per <unit>".

    A trend of replies per e-mail sent must not read as the headline's reply rate (replies
    per new lead contacted): the two differ, and a reader compares them.
    """
    usual, actual = DENOMINATOR_LABELS.get(default, default), DENOMINATOR_LABELS.get(used, used)
    if usual == actual:
        return label
    unit = actual.replace("emails", "email").replace("leads", "lead")
    return f"{label} per {unit}"
