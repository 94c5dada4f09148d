"""Sender health: warmup inbox placement, health-score trend and bounce rate per account and day.

Inputs (all optional except the first): ``accounts.warmup_daily`` (email, date, sent,
landed_inbox, landed_spam, received), ``accounts.warmup_summary`` (one health_score per account
at fetch time), ``accounts.list`` (status, warmup_status, daily_limit), ``accounts.analytics_daily``
(date, email_account, sent, bounced) and a health history (snapshot_date, email, health_score)
built by keeping summaries over time.

Definitions

* inbox rate = landed_inbox / (landed_inbox + landed_spam); spam rate = 1 - inbox rate;
  ``window_*`` columns pool the trailing ``window_days`` calendar days (ratio of sums).
* health_estimate = 100 x the window inbox rate: the published definition of the warmup health
  score (share of warmup mail landing in the inbox over the last 7 days) rebuilt from the
  daily rows, so it has a history even when the API's score has none.
* health_slope = least-squares slope (points per day) of the health figure over the trailing
  ``trend_days`` (at least two points); health_change = slope x window_days. The figure is the API's
  health_score from the history frame when one is given, else health_estimate
  (``health_trend_source`` says which).
* bounce rate = bounced / sent of campaign mail (accounts.analytics_daily).
"""

from __future__ import annotations

import polars as pl

from instantly_nb.metrics._frame import empty, require
from instantly_nb.metrics.stats import proportion_ci

HEALTH_SCHEMA: dict[str, pl.DataType] = {
    "email": pl.String(), "date": pl.Date(),
    "warmup_sent": pl.Float64(), "landed_inbox": pl.Float64(), "landed_spam": pl.Float64(),
    "received": pl.Float64(), "inbox_rate": pl.Float64(), "spam_rate": pl.Float64(),
    "inbox_ci_low": pl.Float64(), "inbox_ci_high": pl.Float64(),
    "window_inbox": pl.Float64(), "window_spam": pl.Float64(),
    "window_inbox_rate": pl.Float64(), "window_spam_rate": pl.Float64(),
    "health_score": pl.Float64(), "health_estimate": pl.Float64(),
    "health_slope": pl.Float64(), "health_change": pl.Float64(),
    "health_trend_source": pl.String(),
    "campaign_sent": pl.Float64(), "bounced": pl.Float64(), "bounce_rate": pl.Float64(),
    "window_sent": pl.Float64(), "window_bounced": pl.Float64(),
    "window_bounce_rate": pl.Float64(),
    "daily_limit": pl.Float64(), "status": pl.Int64(), "warmup_status": pl.Int64(),
    "window_days": pl.Int64(),
}
WARMUP_COLS = ("email", "date", "landed_inbox", "landed_spam")


def deliverability(
    warmup_daily: pl.DataFrame,
    warmup_summary: pl.DataFrame | None = None,
    accounts: pl.DataFrame | None = None,
    account_daily: pl.DataFrame | None = None,
    window_days: int = 7,
    *,
    trend_days: int = 14,
    health_history: pl.DataFrame | None = None,
    level: float = 0.95,
) -> pl.DataFrame:
    """Per account and day: inbox/spam placement, health score and trend, bounce rate.

    Parameters
    ----------
    warmup_daily : pl.DataFrame
        accounts.warmup_daily (email, date, landed_inbox, landed_spam; sent, received optional).
    warmup_summary : pl.DataFrame, optional
        accounts.warmup_summary; its health_score is placed on each account's latest day.
    accounts : pl.DataFrame, optional
        accounts.list; adds status, warmup_status and daily_limit.
    account_daily : pl.DataFrame, optional
        accounts.analytics_daily (date, email_account, sent, bounced); adds bounce columns.
    window_days : int
        Length of the trailing window (calendar days) for window rates; ``health_change`` is the
        fitted change over this many days.
    trend_days : int
        Length of the trailing window the health slope is fitted over (longer than
        ``window_days`` so that day-to-day noise in placement does not read as a trend).
    health_history : pl.DataFrame, optional
        Snapshots (snapshot_date, email, health_score); used for health_score by day and for
        the trend.
    level : float
        Confidence level of the daily inbox-rate interval (Wilson).

    Returns
    -------
    pl.DataFrame
        Columns of ``HEALTH_SCHEMA``, one row per (email, date) present in the warmup or
        account daily frames, sorted by email and date.

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> w = pl.DataFrame({"email": ["a@x.io"], "date": [dt.date(2025, 3, 1)],
    ...                   "landed_inbox": [9], "landed_spam": [1]})
    >>> deliverability(w)["inbox_rate"].item()
    0.9
    """
    if window_days < 1 or trend_days < 2:
        raise ValueError(f"window_days must be at least 1 and trend_days at least 2, got "
                         f"{window_days} and {trend_days}")
    require(warmup_daily, WARMUP_COLS, "deliverability(warmup_daily)")
    base = _daily_base(warmup_daily, account_daily)
    if base.is_empty():
        return empty(HEALTH_SCHEMA)
    base = _windows(base, window_days)
    base = _health(base, warmup_summary, health_history, window_days, trend_days)
    base = _join_accounts(base, accounts)
    low, high = proportion_ci(
        base["landed_inbox"].fill_null(0).to_numpy(),
        (base["landed_inbox"].fill_null(0) + base["landed_spam"].fill_null(0)).to_numpy(),
        level,
    )
    base = base.with_columns(
        pl.Series("inbox_ci_low", low).fill_nan(None),
        pl.Series("inbox_ci_high", high).fill_nan(None),
        pl.lit(window_days).alias("window_days"),
    )
    for col, dtype in HEALTH_SCHEMA.items():
        if col not in base.columns:
            base = base.with_columns(pl.lit(None, dtype=dtype).alias(col))
    return base.select(list(HEALTH_SCHEMA)).cast(HEALTH_SCHEMA).sort(["email", "date"])  # type: ignore[arg-type]


def _f(col: str, df: pl.DataFrame) -> pl.Expr:
    if col in df.columns:
        return pl.col(col).cast(pl.Float64, strict=False)
    return pl.lit(None, dtype=pl.Float64)


def _daily_base(warmup: pl.DataFrame, account_daily: pl.DataFrame | None) -> pl.DataFrame:
    w = warmup.select(
        pl.col("email").cast(pl.String), pl.col("date").cast(pl.Date, strict=False),
        _f("sent", warmup).alias("warmup_sent"), _f("landed_inbox", warmup),
        _f("landed_spam", warmup), _f("received", warmup),
    ).group_by(["email", "date"]).agg(pl.all().sum())
    if account_daily is None:
        return w.sort(["email", "date"])
    require(account_daily, ["date", "email_account", "sent", "bounced"],
            "deliverability(account_daily)")
    a = account_daily.select(
        pl.col("email_account").cast(pl.String).alias("email"),
        pl.col("date").cast(pl.Date, strict=False),
        _f("sent", account_daily).alias("campaign_sent"), _f("bounced", account_daily),
    ).group_by(["email", "date"]).agg(pl.all().sum())
    both = w.join(a, on=["email", "date"], how="full", coalesce=True)
    return both.sort(["email", "date"])


def _windows(base: pl.DataFrame, window_days: int) -> pl.DataFrame:
    has_bounce = "campaign_sent" in base.columns
    sums = [pl.col("landed_inbox").sum().alias("window_inbox"),
            pl.col("landed_spam").sum().alias("window_spam")]
    if has_bounce:
        sums += [pl.col("campaign_sent").sum().alias("window_sent"),
                 pl.col("bounced").sum().alias("window_bounced")]
    rolled = base.rolling("date", period=f"{window_days}d", group_by="email").agg(sums)
    out = base.join(rolled, on=["email", "date"], how="left")

    def ratio(num: str, den: pl.Expr) -> pl.Expr:
        return pl.when(den > 0).then(pl.col(num) / den)

    placed = pl.col("landed_inbox") + pl.col("landed_spam")
    w_placed = pl.col("window_inbox") + pl.col("window_spam")
    cols = [
        ratio("landed_inbox", placed).alias("inbox_rate"),
        ratio("landed_spam", placed).alias("spam_rate"),
        ratio("window_inbox", w_placed).alias("window_inbox_rate"),
        ratio("window_spam", w_placed).alias("window_spam_rate"),
    ]
    if has_bounce:
        cols += [ratio("bounced", pl.col("campaign_sent")).alias("bounce_rate"),
                 ratio("window_bounced", pl.col("window_sent")).alias("window_bounce_rate")]
    out = out.with_columns(cols)
    return out.with_columns((pl.col("window_inbox_rate") * 100.0).alias("health_estimate"))


def rolling_slope(df: pl.DataFrame, value: str, window_days: int, key: str = "email") -> pl.DataFrame:
    """Least-squares slope per day of ``value`` over a trailing window, per ``key`` and date.

    Returns ``key, date, slope`` (null with fewer than two points or a single date).
    """
    pts = df.filter(pl.col(value).is_not_null()).select(key, "date", value).sort([key, "date"])
    if pts.is_empty():
        return pl.DataFrame(schema={key: pl.String(), "date": pl.Date(), "slope": pl.Float64()})
    origin = pts["date"].min()
    pts = pts.with_columns(((pl.col("date") - pl.lit(origin)).dt.total_days()
                            .cast(pl.Float64)).alias("_t"))
    t_dev = pl.col("_t") - pl.col("_t").mean()
    y_dev = pl.col(value) - pl.col(value).mean()
    rolled = pts.rolling("date", period=f"{window_days}d", group_by=key).agg(
        (t_dev * y_dev).sum().alias("_sty"), (t_dev**2).sum().alias("_stt"),
        pl.len().alias("_n"),
    )
    return rolled.select(
        key, "date",
        pl.when((pl.col("_n") >= 2) & (pl.col("_stt") > 0))
        .then(pl.col("_sty") / pl.col("_stt")).alias("slope"),
    )


def _health(base: pl.DataFrame, summary: pl.DataFrame | None,
            history: pl.DataFrame | None, window_days: int, trend_days: int) -> pl.DataFrame:
    if history is not None:
        require(history, ["snapshot_date", "email", "health_score"],
                "deliverability(health_history)")
        hist = history.select(
            pl.col("email").cast(pl.String), pl.col("snapshot_date").cast(pl.Date).alias("date"),
            pl.col("health_score").cast(pl.Float64, strict=False),
        ).group_by(["email", "date"]).agg(pl.col("health_score").mean())
        slope = rolling_slope(hist, "health_score", trend_days).sort(["email", "date"])
        # each day takes the latest snapshot trend at or before it
        base = base.sort("date").join_asof(
            slope, on="date", by="email", strategy="backward", tolerance=f"{trend_days}d",
            check_sortedness=False,
        )
        base = base.join(hist, on=["email", "date"], how="left")
        source = "history"
    else:
        slope = rolling_slope(base, "health_estimate", trend_days)
        base = base.join(slope, on=["email", "date"], how="left")
        base = base.with_columns(pl.lit(None, dtype=pl.Float64).alias("health_score"))
        source = "estimate"
    if summary is not None and history is None:
        require(summary, ["email", "health_score"], "deliverability(warmup_summary)")
        latest = base.group_by("email").agg(pl.col("date").max())
        scores = summary.select(pl.col("email").cast(pl.String),
                                pl.col("health_score").cast(pl.Float64, strict=False)
                                .alias("_summary_score"))
        base = base.join(latest.join(scores, on="email"), on=["email", "date"], how="left")
        base = base.with_columns(pl.coalesce("health_score", "_summary_score")
                                 .alias("health_score")).drop("_summary_score")
    return base.with_columns(
        pl.col("slope").alias("health_slope"),
        (pl.col("slope") * window_days).alias("health_change"),
        pl.when(pl.col("slope").is_not_null()).then(pl.lit(source)).alias("health_trend_source"),
    ).drop("slope")


def _join_accounts(base: pl.DataFrame, accounts: pl.DataFrame | None) -> pl.DataFrame:
    if accounts is None:
        return base
    require(accounts, ["email"], "deliverability(accounts)")
    cols = [pl.col("email").cast(pl.String)]
    for name, dtype in (("daily_limit", pl.Float64), ("status", pl.Int64),
                        ("warmup_status", pl.Int64)):
        if name in accounts.columns:
            cols.append(pl.col(name).cast(dtype, strict=False))
    return base.join(accounts.select(cols).unique("email", keep="last"), on="email", how="left")
