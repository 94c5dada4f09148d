"""Campaign funnel: contacted -> opened -> clicked -> replied -> opportunity -> ... -> closed.

Works on ``campaigns.analytics`` (one row per campaign) and ``campaigns.analytics_overview``
(one row of totals), or any frame with some of the stage columns. Only the stages the frame
has are reported. Stages are not guaranteed to be nested (a click can come without a tracked
open), so a stage may exceed the one before it; the ``note`` column says so and the
conditional interval is left empty.
"""

from __future__ import annotations

import polars as pl

from instantly_nb.metrics._frame import ByArg, as_list, empty, first_present, require
from instantly_nb.metrics.definitions import CLICK_CAVEAT, OPEN_CAVEAT
from instantly_nb.metrics.stats import proportion_ci

# key, label, candidate columns (first present wins), caveat
STAGES: tuple[tuple[str, str, tuple[str, ...], str], ...] = (
    ("contacted", "Contacted", ("contacted_count", "contacted", "new_leads_contacted_count"), ""),
    ("opened", "Opened", ("open_count_unique", "open_count", "unique_opened"), OPEN_CAVEAT),
    ("clicked", "Clicked", ("link_click_count_unique", "link_click_count", "unique_clicks"),
     CLICK_CAVEAT),
    ("replied", "Replied", ("reply_count_unique", "reply_count", "unique_replies"), ""),
    ("opportunity", "Opportunity", ("total_opportunities", "unique_opportunities"), ""),
    ("interested", "Interested", ("total_interested",), ""),
    ("meeting_booked", "Meeting booked", ("total_meeting_booked", "meetings_booked"), ""),
    ("meeting_completed", "Meeting completed", ("total_meeting_completed",), ""),
    ("closed", "Closed", ("total_closed", "won"), ""),
)

FUNNEL_TAIL: dict[str, pl.DataType] = {
    "stage": pl.String(),
    "stage_order": pl.Int64(),
    "label": pl.String(),
    "source_col": pl.String(),
    "count": pl.Float64(),
    "base": pl.Float64(),
    "rate": pl.Float64(),
    "ci_low": pl.Float64(),
    "ci_high": pl.Float64(),
    "prev_stage": pl.String(),
    "prev_count": pl.Float64(),
    "conversion": pl.Float64(),
    "conv_ci_low": pl.Float64(),
    "conv_ci_high": pl.Float64(),
    "level": pl.Float64(),
    "note": pl.String(),
    "caveat": pl.String(),
}


def funnel_stages(df: pl.DataFrame) -> list[tuple[str, str, str, str]]:
    """The stages present in ``df`` as ``(key, label, column, caveat)``, in funnel order."""
    found = []
    for key, label, candidates, caveat in STAGES:
        col = first_present(df, candidates)
        if col is not None:
            if key == "contacted" and col.startswith("new_leads"):
                label = "New leads contacted"  # overview frames carry no contacted_count
            found.append((key, label, col, caveat))
    return found


def funnel(
    df: pl.DataFrame, by: ByArg = None, level: float = 0.95, method: str = "wilson"
) -> pl.DataFrame:
    """Funnel stages with counts, rates of the first stage and stage-to-stage conversion.

    Parameters
    ----------
    df : pl.DataFrame
        campaigns.analytics, campaigns.analytics_overview, or a frame with stage columns.
    by : str or list of str, optional
        Group columns (e.g. ``"campaign_id"``); ``None`` pools every row (sums of counts).
    level : float
        Confidence level of the intervals.
    method : {"wilson", "agresti_coull", "jeffreys"}
        Interval method.

    Returns
    -------
    pl.DataFrame
        One row per group and stage: ``by`` columns, stage, stage_order, label, source_col,
        count, base (first stage's count), rate (= count / base), ci_low, ci_high, prev_stage,
        prev_count, conversion (= count / prev_count), conv_ci_low, conv_ci_high, level, note,
        caveat. The first stage of the frame is the base; stages missing from the frame are
        left out.

    Examples
    --------
    >>> import polars as pl
    >>> df = pl.DataFrame({"contacted_count": [1000], "reply_count": [50]})
    >>> funnel(df)["conversion"].to_list()
    [None, 0.05]
    """
    groups = as_list(by)
    require(df, groups, "funnel")
    stages = funnel_stages(df)
    if not stages:
        names = sorted({c for _, _, cands, _ in STAGES for c in cands})
        raise ValueError(
            "funnel: the frame has none of the stage columns (" + ", ".join(names) + "); "
            "pass campaigns.analytics or campaigns.analytics_overview."
        )
    schema = {**{c: df.schema[c] for c in groups}, **FUNNEL_TAIL}
    if df.is_empty():
        return empty(schema)
    sums = [pl.col(col).cast(pl.Float64, strict=False).sum().alias(key) for key, _, col, _ in stages]
    pooled = df.group_by(groups, maintain_order=True).agg(sums) if groups else df.select(sums)
    parts = []
    for i, (key, label, col, caveat) in enumerate(stages):
        prev = stages[i - 1][0] if i else None
        parts.append(
            pooled.select(
                *groups,
                pl.lit(key).alias("stage"),
                pl.lit(i, dtype=pl.Int64).alias("stage_order"),
                pl.lit(label).alias("label"),
                pl.lit(col).alias("source_col"),
                pl.col(key).alias("count"),
                pl.col(stages[0][0]).alias("base"),
                pl.lit(prev, dtype=pl.String).alias("prev_stage"),
                (pl.col(prev) if prev else pl.lit(None, dtype=pl.Float64)).alias("prev_count"),
                pl.lit(caveat).alias("caveat"),
            )
        )
    long = pl.concat(parts).sort([*groups, "stage_order"], maintain_order=True)
    return _add_intervals(long, level, method).select(list(schema)).cast(schema)  # type: ignore[arg-type]


def _add_intervals(long: pl.DataFrame, level: float, method: str) -> pl.DataFrame:
    count = long["count"].to_numpy()
    low, high = proportion_ci(count, long["base"].to_numpy(), level, method)
    prev = long["prev_count"].fill_null(0.0).to_numpy()
    c_low, c_high = proportion_ci(count, prev, level, method)
    not_nested = (pl.col("prev_count").is_not_null()) & (pl.col("count") > pl.col("prev_count"))
    return long.with_columns(
        pl.when(pl.col("base") > 0).then(pl.col("count") / pl.col("base")).alias("rate"),
        pl.Series("ci_low", low).fill_nan(None),
        pl.Series("ci_high", high).fill_nan(None),
        pl.when(pl.col("prev_count") > 0)
        .then(pl.col("count") / pl.col("prev_count"))
        .alias("conversion"),
        pl.Series("conv_ci_low", c_low).fill_nan(None),
        pl.Series("conv_ci_high", c_high).fill_nan(None),
        pl.lit(level).alias("level"),
        pl.when(not_nested)
        .then(pl.lit("count exceeds the previous stage (stages not nested); no interval"))
        .when(pl.col("count") > pl.col("base"))
        .then(pl.lit("count exceeds the first stage"))
        .otherwise(pl.lit(""))
        .alias("note"),
    )
