"""Trends over time: daily / weekly / monthly rate series with period-over-period change.

``trends()`` works on ``campaigns.analytics_daily`` (date, sent, unique_replies, unique_opened,
unique_clicks, ...) or ``accounts.analytics_daily``, optionally per ``campaign_id`` or
``email_account``. Weeks are ISO weeks starting on Monday (``period`` label ``2025-W09``).

Caveat for a reader: daily analytics count events by the day they happened, so a week's
replies partly answer earlier weeks' sends. The rate is "replies this week / sends this
week", a fair trend measure but not a cohort reply rate.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from instantly_nb.metrics._frame import ByArg, as_list, empty, require
from instantly_nb.metrics.definitions import finish_rates, numerator_expr, resolve_columns
from instantly_nb.metrics.stats import compare_2prop

FREQS = {"1d": "%Y-%m-%d", "1w": "%G-W%V", "1mo": "%Y-%m"}

TREND_TAIL: dict[str, pl.DataType] = {
    "period_start": pl.Date(), "period_end": pl.Date(), "period": pl.String(),
    "days": pl.UInt32(), "metric": pl.String(), "numerator": pl.Float64(),
    "denominator": pl.Float64(), "rate": pl.Float64(), "ci_low": pl.Float64(),
    "ci_high": pl.Float64(), "prev_numerator": pl.Float64(), "prev_denominator": pl.Float64(),
    "prev_rate": pl.Float64(), "change_abs": pl.Float64(), "change_rel": pl.Float64(),
    "change_p": pl.Float64(), "change_test": pl.String(), "denominator_change_rel": pl.Float64(),
    "numerator_col": pl.String(), "denominator_col": pl.String(), "definition": pl.String(),
    "level": pl.Float64(),
}


def trends(
    daily_df: pl.DataFrame,
    by: ByArg = None,
    freq: str = "1w",
    rates: Sequence[str] = ("reply",),
    *,
    denominator: str = "sent",
    level: float = 0.95,
    method: str = "wilson",
) -> pl.DataFrame:
    """Rate series per period with change against the previous calendar period.

    Parameters
    ----------
    daily_df : pl.DataFrame
        A daily analytics frame with a ``date`` column.
    by : str or list of str, optional
        Group columns, e.g. ``"campaign_id"``.
    freq : {"1d", "1w", "1mo"}
        Period length; weeks start on Monday (ISO).
    rates : sequence of str
        Rate names from the registry (``"reply"``, ``"open"``, ``"click"``, ``"bounce"``...).
    denominator : str
        Denominator key or column; daily frames only have ``"sent"``.
    level, method
        Confidence level and interval method.

    Returns
    -------
    pl.DataFrame
        ``by`` columns, period_start, period_end, period, days (days with data), metric,
        numerator, denominator, rate, ci_low, ci_high, prev_numerator, prev_denominator,
        prev_rate, change_abs (rate - prev_rate), change_rel, change_p and change_test (the
        two-proportion test of this period against the previous one), denominator_change_rel
        (volume change), numerator_col, denominator_col, definition, level. The previous
        period is the calendar period just before (null when it has no data).

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> df = pl.DataFrame({"date": [dt.date(2025, 3, 3), dt.date(2025, 3, 10)],
    ...                    "sent": [100, 200], "unique_replies": [2, 8]})
    >>> trends(df)["change_abs"].to_list()
    [None, 0.02]
    """
    if freq not in FREQS:
        raise ValueError(f"freq must be one of {tuple(FREQS)}, got {freq!r}")
    groups = as_list(by)
    require(daily_df, [*groups, "date"], "trends")
    schema = {**{c: daily_df.schema[c] for c in groups}, **TREND_TAIL}
    resolved = [resolve_columns(daily_df, name, denominator) for name in rates]
    if daily_df.is_empty():
        return empty(schema)
    work = daily_df.with_columns(
        pl.col("date").cast(pl.Date, strict=False).dt.truncate(freq).alias("period_start")
    )
    parts = []
    for rdef, num_col, den_col in resolved:
        sums = work.group_by([*groups, "period_start"], maintain_order=True).agg(
            numerator_expr(daily_df, rdef, num_col).sum().alias("numerator"),
            pl.col(den_col).cast(pl.Float64, strict=False).sum().alias("denominator"),
            pl.col("date").n_unique().alias("days"),
        )
        part = finish_rates(sums, level=level, method=method, metric=rdef.name, extra={
            "numerator_col": num_col, "denominator_col": den_col,
            "definition": rdef.definition(den_col),
        })
        parts.append(_with_previous(part, groups, freq))
    out = pl.concat(parts, how="diagonal_relaxed")
    out = out.with_columns(
        (pl.col("period_start").dt.offset_by(freq).dt.offset_by("-1d")).alias("period_end"),
        pl.col("period_start").dt.strftime(FREQS[freq]).alias("period"),
    )
    return out.select(list(schema)).cast(schema).sort([*groups, "metric", "period_start"])  # type: ignore[arg-type]


def _with_previous(part: pl.DataFrame, groups: list[str], freq: str) -> pl.DataFrame:
    prev = part.select(
        *groups,
        pl.col("period_start").dt.offset_by(freq).alias("period_start"),
        pl.col("numerator").alias("prev_numerator"),
        pl.col("denominator").alias("prev_denominator"),
        pl.col("rate").alias("prev_rate"),
    )
    joined = part.join(prev, on=[*groups, "period_start"], how="left", nulls_equal=True)
    tests = [
        _change_test(r["prev_numerator"], r["prev_denominator"], r["numerator"],
                     r["denominator"])
        for r in joined.select("prev_numerator", "prev_denominator", "numerator",
                               "denominator").to_dicts()
    ]
    return joined.with_columns(
        (pl.col("rate") - pl.col("prev_rate")).alias("change_abs"),
        pl.when(pl.col("prev_rate") > 0)
        .then(pl.col("rate") / pl.col("prev_rate") - 1.0).alias("change_rel"),
        pl.Series("change_test", [t for t, _ in tests], dtype=pl.String),
        pl.Series("change_p", [p for _, p in tests], dtype=pl.Float64),
        pl.when(pl.col("prev_denominator") > 0)
        .then(pl.col("denominator") / pl.col("prev_denominator") - 1.0)
        .alias("denominator_change_rel"),
    )


def _change_test(
    x1: float | None, n1: float | None, x2: float | None, n2: float | None
) -> tuple[str | None, float | None]:
    if x1 is None or n1 is None or x2 is None or n2 is None:
        return None, None
    if not (n1 > 0 and n2 > 0 and 0 <= x1 <= n1 and 0 <= x2 <= n2):
        return None, None
    name, p = compare_2prop(x1, n1, x2, n2)
    return name, (None if p != p else p)
