"""Counts for the A/B comparison: aggregation per step and variant, cumulative looks, validity.

A scheduled report looks at the same test again and again. Each look holds the counts
accumulated from the test's start up to its ``as_of`` day; the verdict is read on the latest
look and the always-valid p-value is the lowest over all looks so far, so a verdict, once
reached, stays (the p-value process of an always-valid test may be stopped at its minimum).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import polars as pl

PASS_THROUGH = ("subject", "body_preview")


def aggregate(
    df: pl.DataFrame, groups: list[str], look: str | None, success_col: str, auto: str | None,
) -> pl.DataFrame:
    """Sum sends and successes per (groups, look, step, variant).

    ``successes`` = the success column minus ``auto`` (automatic replies) when given; the raw
    parts stay in ``_raw`` and ``_auto`` so an impossible count can be explained.
    """
    label = pl.col("variant_label") if "variant_label" in df.columns else pl.lit(None)
    extra = [pl.col(c).cast(pl.String) for c in PASS_THROUGH if c in df.columns]
    look_cols = [pl.col(look).cast(pl.Date, strict=False).alias("as_of")] if look else []
    work = df.select(
        *groups, *look_cols,
        pl.col("step").cast(pl.Int64, strict=False),
        pl.col("variant").cast(pl.Int64, strict=False),
        label.cast(pl.String).alias("variant_label"),
        pl.col("sent").cast(pl.Float64, strict=False).fill_null(0.0).alias("sends"),
        pl.col(success_col).cast(pl.Float64, strict=False).fill_null(0.0).alias("_raw"),
        (pl.col(auto).cast(pl.Float64, strict=False).fill_null(0.0) if auto
         else pl.lit(0.0)).alias("_auto"),
        *extra,
    )
    keys = [*groups, *(["as_of"] if look else []), "step", "variant"]
    out = work.group_by(keys, maintain_order=True).agg(
        pl.col("variant_label").drop_nulls().first(),
        pl.col("sends").sum().cast(pl.Int64),
        pl.col("_raw").sum().cast(pl.Int64),
        pl.col("_auto").sum().cast(pl.Int64),
        *[pl.col(c).drop_nulls().first() for c in PASS_THROUGH if c in df.columns],
    )
    derived = pl.when(pl.col("variant").is_between(0, 25)).then(
        (pl.col("variant") + 65).cast(pl.UInt8).map_elements(chr, return_dtype=pl.String)
    )
    return out.with_columns(
        pl.coalesce("variant_label", derived).alias("variant_label"),
        (pl.col("_raw") - pl.col("_auto")).alias("successes"),
    )


def latest_look(counts: pl.DataFrame, groups: list[str], look: str | None) -> pl.DataFrame:
    """Rows of each group's latest look (all rows when there are no looks)."""
    if look is None:
        return counts
    last = pl.col("as_of").max()
    return counts.filter(pl.col("as_of") == (last.over(groups) if groups else last))


def invalid_reason(row: dict[str, Any], success_col: str, auto: str | None) -> str | None:
    """Why a row's counts are impossible, or ``None`` when they are fine."""
    n, raw, a = row["sends"], row["_raw"], row["_auto"]
    if n < 0:
        return f"negative sends ({n:,})"
    if raw < 0 or a < 0:
        return f"negative counts ({success_col} {raw:,}" + (f", {auto} {a:,})" if auto else ")")
    if auto and a > raw:
        return f"{auto} ({a:,}) exceeds {success_col} ({raw:,}): negative human replies"
    if row["successes"] > n:
        return f"{row['successes']:,} successes out of {n:,} sends (more than every send)"
    return None


PFunc = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray]
Arms = dict[int, tuple[np.ndarray, np.ndarray]]


def look_arms(hist: pl.DataFrame | None) -> Arms | None:
    """Variant -> (successes, sends) arrays over the step's looks in date order (0 where a
    variant is absent from a look); ``None`` without looks."""
    if hist is None or hist.is_empty():
        return None
    dates = hist["as_of"].unique().sort()
    pos = {d: i for i, d in enumerate(dates.to_list())}
    arms: Arms = {}
    for r in hist.select("as_of", "variant", "sends", "successes").iter_rows():
        x, n = arms.setdefault(r[1], (np.zeros(len(pos)), np.zeros(len(pos))))
        x[pos[r[0]]] += r[3]
        n[pos[r[0]]] += r[2]
    return arms


def running_pvalue(
    arms: Arms | None, control: int, variant: int, pfunc: PFunc,
    current: tuple[float, float, float, float],
) -> tuple[float, float, int]:
    """Lowest always-valid p-value over the looks, the lift's sign there, and the look count.

    ``arms`` comes from :func:`look_arms`; a look where either arm's counts are impossible or
    empty contributes p = 1. Without looks the current counts are the only look.
    """
    if arms is None or control not in arms or variant not in arms:
        xc, nc, xv, nv = (np.array([v], dtype=float) for v in current)
    else:
        (xc, nc), (xv, nv) = arms[control], arms[variant]
    ok = (nc > 0) & (nv > 0) & (xc >= 0) & (xv >= 0) & (xc <= nc) & (xv <= nv)
    p = np.where(ok, pfunc(np.where(ok, xc, 0), np.where(ok, nc, 1), np.where(ok, xv, 0),
                           np.where(ok, nv, 1)), 1.0)
    best = int(np.argmin(p))
    lift = (xv[best] / nv[best] - xc[best] / nc[best]) if ok[best] else math.nan
    return float(p[best]), float(np.sign(lift)) if not math.isnan(lift) else 0.0, len(p)


__all__ = ["PASS_THROUGH", "aggregate", "invalid_reason", "latest_look", "look_arms",
           "running_pvalue"]
