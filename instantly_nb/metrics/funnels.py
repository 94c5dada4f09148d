"""Campaign funnel: the nested chain contacted -> replied -> interested -> meeting -> won.

Works on ``campaigns.analytics`` (one row per campaign) and ``campaigns.analytics_overview``
(one row of totals), or any frame with some of the stage columns. Only stages whose members are
members of the stage before are chained (a lead who booked a meeting was interested, replied and
was contacted), so a conversion is a true proportion. Opens and clicks are not part of the chain
(a reply needs no tracked open or click): they are reported beside it (``kind == "beside"``) as
rates of the first stage, with no conversion. Replies are human replies (automatic ones
subtracted when the frame counts them, see :mod:`~instantly_nb.metrics.definitions`); open and
click rows of campaigns whose ``open_tracking`` / ``link_tracking`` is false are left out.

Over a short window a later stage can count events of leads who entered the earlier one before
it; such a conversion is left empty with a note instead of being shown above 100 %.
"""

from __future__ import annotations

import polars as pl

from instantly_nb.metrics._frame import ByArg, as_list, empty, first_present, require
from instantly_nb.metrics.definitions import AUTOMATIC, CLICK_CAVEAT, OPEN_CAVEAT
from instantly_nb.metrics.stats import proportion_ci

# key, label, candidate columns (first present wins), kind, caveat, tracking column
STAGES: tuple[tuple[str, str, tuple[str, ...], str, str, str], ...] = (
    ("contacted", "Contacted", ("contacted_count", "contacted", "new_leads_contacted_count"),
     "chain", "", ""),
    ("replied", "Replied", ("reply_count_unique", "unique_replies", "reply_count"), "chain",
     "", ""),
    ("interested", "Interested", ("total_interested", "total_opportunities",
                                  "unique_opportunities"), "chain", "", ""),
    ("meeting_booked", "Meeting booked", ("total_meeting_booked", "meetings_booked"), "chain",
     "", ""),
    ("closed", "Won", ("total_closed", "won"), "chain", "", ""),
    ("opened", "Opened", ("open_count_unique", "unique_opened", "open_count"), "beside",
     OPEN_CAVEAT, "open_tracking"),
    ("clicked", "Clicked", ("link_click_count_unique", "unique_clicks", "link_click_count"),
     "beside", CLICK_CAVEAT, "link_tracking"),
)

FUNNEL_TAIL: dict[str, pl.DataType] = {
    "stage": pl.String(),
    "stage_order": pl.Int64(),
    "label": pl.String(),
    "kind": pl.String(),
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


def funnel_stages(df: pl.DataFrame) -> list[tuple[str, str, str, str, str, str]]:
    """Stages present in ``df`` as ``(key, label, column, kind, caveat, tracking)``."""
    found = []
    for key, label, candidates, kind, caveat, tracking in STAGES:
        col = first_present(df, candidates)
        if col is not None:
            if key == "contacted" and col.startswith("new_leads"):
                label = "New leads contacted"  # frames without contacted_count
            found.append((key, label, col, kind, caveat, tracking))
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
        One row per group and stage: ``by`` columns, stage, stage_order, label, kind
        ("chain" or "beside"), source_col, count, base (first stage's count), rate
        (= count / base), ci_low, ci_high, prev_stage, prev_count, conversion
        (= count / prev_count, chain stages only), conv_ci_low, conv_ci_high, level, note,
        caveat. Stages missing from the frame are left out.

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
    if not stages or stages[0][0] != "contacted":
        names = sorted({c for _, _, cands, *_ in STAGES for c in cands})
        raise ValueError(
            "funnel: the frame needs a contacted column and stage columns (" + ", ".join(names)
            + "); pass campaigns.analytics or campaigns.analytics_overview."
        )
    schema = {**{c: df.schema[c] for c in groups}, **FUNNEL_TAIL}
    if df.is_empty():
        return empty(schema)
    pooled = _pooled(df, groups, stages)
    parts: list[pl.DataFrame] = []
    prev = ""
    for i, (key, label, col, kind, caveat, _tracking) in enumerate(stages):
        chained = kind == "chain" and prev != ""
        parts.append(pooled.select(
            *groups,
            pl.lit(key).alias("stage"), pl.lit(i, dtype=pl.Int64).alias("stage_order"),
            pl.lit(label).alias("label"), pl.lit(kind).alias("kind"),
            pl.lit(col).alias("source_col"), pl.col(key).alias("count"),
            pl.col(f"_base_{key}").alias("base"),
            pl.lit(prev if chained else None, dtype=pl.String).alias("prev_stage"),
            (pl.col(prev) if chained else pl.lit(None, dtype=pl.Float64)).alias("prev_count"),
            pl.lit(caveat).alias("caveat"),
        ))
        if kind == "chain":
            prev = key
    long = pl.concat(parts).sort([*groups, "stage_order"], maintain_order=True)
    return _add_intervals(long, level, method).select(list(schema)).cast(schema)  # type: ignore[arg-type]


def _pooled(df: pl.DataFrame, groups: list[str],
            stages: list[tuple[str, str, str, str, str, str]]) -> pl.DataFrame:
    """Sum each stage (human replies; tracked campaigns only for opens/clicks) and its base."""
    base_col = stages[0][2]
    sums = []
    for key, _label, col, _kind, _caveat, tracking in stages:
        value = pl.col(col).cast(pl.Float64, strict=False)
        auto = AUTOMATIC.get(col) if key == "replied" else None
        if auto and auto in df.columns:
            value = value - pl.col(auto).cast(pl.Float64, strict=False).fill_null(0.0)
        on = (pl.col(tracking).cast(pl.Boolean, strict=False).fill_null(True)
              if tracking and tracking in df.columns else pl.lit(True))
        base = pl.col(base_col).cast(pl.Float64, strict=False)
        sums += [pl.when(on).then(value).sum().alias(key),
                 pl.when(on).then(base).sum().alias(f"_base_{key}")]
    return df.group_by(groups, maintain_order=True).agg(sums) if groups else df.select(sums)


def _add_intervals(long: pl.DataFrame, level: float, method: str) -> pl.DataFrame:
    count = long["count"].fill_null(0.0).to_numpy()
    base_ok = (pl.col("base") > 0) & (pl.col("count") >= 0) & (pl.col("count") <= pl.col("base"))
    conv_ok = ((pl.col("prev_count") > 0) & (pl.col("count") >= 0)
               & (pl.col("count") <= pl.col("prev_count")))
    low, high = proportion_ci(count, long["base"].fill_null(0.0).to_numpy(), level, method)
    c_low, c_high = proportion_ci(count, long["prev_count"].fill_null(0.0).to_numpy(), level,
                                  method)
    return long.with_columns(
        pl.when(base_ok).then(pl.col("count") / pl.col("base")).alias("rate"),
        pl.Series("ci_low", low).fill_nan(None),
        pl.Series("ci_high", high).fill_nan(None),
        pl.when(conv_ok).then(pl.col("count") / pl.col("prev_count")).alias("conversion"),
        pl.Series("conv_ci_low", c_low).fill_nan(None),
        pl.Series("conv_ci_high", c_high).fill_nan(None),
        pl.lit(level).alias("level"),
        pl.when(pl.col("count") < 0)
        .then(pl.lit("invalid counts (negative; automatic replies above replies?)"))
        .when(pl.col("prev_count").is_not_null() & (pl.col("count") > pl.col("prev_count")))
        .then(pl.lit("more than the previous stage over this window (leads who entered it "
                     "before the window); no conversion shown"))
        .when(pl.col("count") > pl.col("base"))
        .then(pl.lit("more than the first stage over this window; no rate shown"))
        .when((pl.col("kind") == "beside") & (pl.col("base") == 0))
        .then(pl.lit("not tracked"))
        .otherwise(pl.lit(""))
        .alias("note"),
    )
