"""Roll-ups across workspaces (or any grouping): pooled rates next to the mean of ratios.

An agency view over several client workspaces must pool counts (sum of numerators over sum of
denominators); averaging the workspaces' or campaigns' ratios gives a small campaign as much
weight as a large one and can even reverse a comparison (Simpson's paradox). The roll-up shows
both, so a reader can see the difference, and adds one all-workspaces row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from instantly_nb.metrics._frame import empty, require
from instantly_nb.metrics.definitions import (
    RATE_SCHEMA_TAIL,
    numerator_expr,
    rate,
    resolve_columns,
)

TOTAL_LABEL = "(all)"
Frames = pl.DataFrame | Sequence[pl.DataFrame] | Mapping[str, pl.DataFrame]


def combine(frames: Frames, by: str = "workspace") -> pl.DataFrame:
    """One frame from a frame, a list of frames, or a ``{workspace: frame}`` mapping.

    A mapping's keys become the ``by`` column (placed first); lists are stacked with missing
    columns filled by nulls.
    """
    if isinstance(frames, pl.DataFrame):
        return frames
    if isinstance(frames, Mapping):
        parts = [
            f.drop(by, strict=False).select(pl.lit(str(k)).alias(by), pl.all())
            for k, f in frames.items()
        ]
    else:
        parts = list(frames)
    if not parts:
        raise ValueError("rollup: no frames given")
    return pl.concat(parts, how="diagonal_relaxed")


def rollup(
    frames: Frames,
    rates: Sequence[str] = ("reply",),
    by: str = "workspace",
    *,
    denominator: str | None = None,
    level: float = 0.95,
    method: str = "wilson",
    total: bool = True,
) -> pl.DataFrame:
    """Pooled rates per workspace (or ``by`` group) plus an all-groups total row.

    Parameters
    ----------
    frames : DataFrame, list of DataFrames or mapping of workspace name to DataFrame
        Analytics frames (e.g. campaigns.analytics) with a ``by`` column, or a mapping whose
        keys name the workspaces.
    rates : sequence of str
        Rate names from the registry.
    by : str
        Group column, ``"workspace"`` by default.
    denominator : str, optional
        Denominator key or column applied to every rate (registry default otherwise).
    level, method
        Confidence level and interval method.
    total : bool
        Add a row with ``by`` = ``"(all)"`` pooling every group.

    Returns
    -------
    pl.DataFrame
        ``by``, is_total, then the columns of :func:`~instantly_nb.metrics.rate` (metric,
        numerator, denominator, rate, ci_low, ci_high, level, method, rows, numerator_col,
        denominator_col, definition, caveat, note) and mean_of_ratios (unweighted mean over input
        rows of each row's own ratio, rows with a zero denominator left out) for contrast.
    """
    df = combine(frames, by)
    require(df, [by], "rollup")
    schema = {by: pl.String(), "is_total": pl.Boolean(), **RATE_SCHEMA_TAIL,
              "mean_of_ratios": pl.Float64()}
    for name in rates:
        resolve_columns(df, name, denominator)  # fail early, naming missing columns
    if df.is_empty():
        return empty(schema)
    df = df.with_columns(pl.col(by).cast(pl.String))
    parts = []
    for name in rates:
        rdef, num_col, den_col = resolve_columns(df, name, denominator)
        ratio = pl.when(pl.col(den_col).cast(pl.Float64) > 0).then(
            numerator_expr(df, rdef, num_col) / pl.col(den_col).cast(pl.Float64)
        )
        means = df.group_by(by).agg(ratio.mean().alias("mean_of_ratios"))
        per = rate(df, name, denominator, by=by, level=level, method=method)
        per = per.join(means, on=by, how="left").with_columns(pl.lit(False).alias("is_total"))
        parts.append(per)
        if total:
            all_rows = rate(df, name, denominator, level=level, method=method).with_columns(
                pl.lit(TOTAL_LABEL).alias(by), pl.lit(True).alias("is_total"),
                pl.lit(df.select(ratio.mean()).item(), dtype=pl.Float64).alias("mean_of_ratios"),
            )
            parts.append(all_rows)
    out = pl.concat([p.select(list(schema)).cast(schema) for p in parts])  # type: ignore[arg-type]
    return out.sort(["metric", "is_total", by])
