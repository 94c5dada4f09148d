"""Deliverability alerts: explicit, configurable rules over the ``deliverability()`` frame.

Each rule is a threshold in :class:`AlertRules`; each firing rule gives one row (email, rule,
severity, value, threshold, date, message, sentence): ``message`` holds the numbers behind it,
``sentence`` says the same in plain words for a marketer-facing report. Rules look at each
account's latest day (at or before ``as_of``).

Evidence, not noise. A rule on a rate fires only when the *interval* around the rate lies beyond
its threshold, and only with enough mail behind it: ``min_placed`` warmup mails placed (inbox +
spam) in the window for the warmup rules, ``min_sent`` campaign sends for the bounce rule. A
stable account that sends a few warmup mails a day therefore stays quiet.

Rules and default thresholds

* ``health_low``: the upper end of the ``confidence`` (95 %) Wilson interval of the window inbox
  rate, in points, below 80 -> warning (the value shown is the API's score when known, else the
  estimate from warmup placement).
* ``health_falling``: the fitted health change over the window at or below -5 points, and the
  inbox rate of the later half of the trailing ``trend_days`` at least 5 points below the earlier
  half's, a fall whose ``trend_confidence`` (99.9 %) interval excludes zero, with ``min_placed``
  warmup mails in each half -> warning.
* ``spam_placement``: the lower end of the window spam rate's Wilson interval above 10 % ->
  warning.
* ``bounce``: window bounce rate at or above 2 % (warning) / 5 % (critical) with at least 50
  campaign sends in the window and the lower end of its ``bounce_confidence`` (99 %) Wilson
  interval at or above the warning level.
* ``account_status``: accounts.list ``status`` negative (connection, soft-bounce or sending
  error) -> critical.
* ``warmup_status``: ``warmup_status`` negative (banned, spam folder unknown, suspended) ->
  critical.
* ``volume_near_limit``: average daily campaign sends over the window at or above 90 % of
  ``daily_limit`` (sustained saturation: add accounts or lower volume) -> info.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from instantly_nb.metrics import alert_text as say
from instantly_nb.metrics._frame import require
from instantly_nb.metrics.stats import proportion_ci, z_critical

ALERT_SCHEMA: dict[str, pl.DataType] = {
    "email": pl.String(), "rule": pl.String(), "severity": pl.String(),
    "value": pl.Float64(), "threshold": pl.Float64(), "date": pl.Date(), "message": pl.String(),
    "sentence": pl.String(),
}
SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}
# short meanings of the negative codes of the Account schema, used when no *_label column
NEGATIVE_CODES = {
    "status": {-1: "connection error", -2: "soft bounce error", -3: "sending error"},
    "warmup_status": {-1: "banned", -2: "spam folder unknown", -3: "permanent suspension"},
}


@dataclass(frozen=True)
class AlertRules:
    """Thresholds of the deliverability alert rules (rates as fractions, health in points).

    Set a threshold to ``None`` to switch its rule off.
    """

    health_min: float | None = 80.0
    health_drop: float | None = 5.0
    spam_rate_max: float | None = 0.10
    min_placed: int = 50
    confidence: float = 0.95
    trend_days: int = 28
    trend_confidence: float = 0.999
    bounce_warn: float | None = 0.02
    bounce_critical: float | None = 0.05
    min_sent: int = 50
    bounce_confidence: float | None = 0.99
    status_negative: bool = True
    warmup_status_negative: bool = True
    volume_share: float | None = 0.90


def alerts(
    health: pl.DataFrame,
    accounts: pl.DataFrame | None = None,
    *,
    rules: AlertRules | None = None,
    as_of: dt.date | None = None,
) -> pl.DataFrame:
    """Evaluate the alert rules.

    Parameters
    ----------
    health : pl.DataFrame
        Output of :func:`deliverability` (may be empty).
    accounts : pl.DataFrame, optional
        accounts.list (email, status, warmup_status, daily_limit, optional ``*_label``
        columns). Status rules use it so accounts without any warmup or send data are still
        checked; without it they use the status columns of ``health``.
    rules : AlertRules, optional
        Thresholds; ``AlertRules()`` by default.
    as_of : datetime.date, optional
        Evaluate on the latest day at or before this date (default: all data).

    Returns
    -------
    pl.DataFrame
        email, rule, severity, value, threshold, date, message; critical first.

    Examples
    --------
    >>> import polars as pl
    >>> acc = pl.DataFrame({"email": ["a@x.io"], "status": [-1], "warmup_status": [1]})
    >>> alerts(pl.DataFrame(), acc)["rule"].to_list()
    ['account_status']
    """
    rules = rules or AlertRules()
    frames: list[pl.DataFrame] = []
    if not health.is_empty():
        require(health, ["email", "date", "health_estimate", "window_spam_rate"],
                "alerts(health)")
        if as_of is not None:
            health = health.filter(pl.col("date") <= as_of)
        frames += _health_rules(health, rules)
    status_src = accounts
    if status_src is None and not health.is_empty() and "status" in health.columns:
        status_src = health.sort("date").group_by("email").last()
    if status_src is not None and not status_src.is_empty():
        latest = health["date"].max() if not health.is_empty() else None
        frames += _status_rules(status_src, rules, as_of or latest)  # type: ignore[arg-type]
    if not frames:
        return pl.DataFrame(schema=ALERT_SCHEMA)
    out = pl.concat([f.select(list(ALERT_SCHEMA)).cast(ALERT_SCHEMA) for f in frames])  # type: ignore[arg-type]
    rank = pl.col("severity").replace_strict(SEVERITY_ORDER, default=9)
    return out.sort(rank, "email", "rule")


def _rule(df: pl.DataFrame, cond: pl.Expr, rule: str, severity: str, value: pl.Expr,
          threshold: float, message: pl.Expr, sentence: pl.Expr) -> pl.DataFrame:
    return df.filter(cond.fill_null(False)).select(
        "email", pl.lit(rule).alias("rule"), pl.lit(severity).alias("severity"),
        value.alias("value"), pl.lit(threshold, dtype=pl.Float64).alias("threshold"),
        "date", message.alias("message"), sentence.alias("sentence"),
    )


def _pct(expr: pl.Expr) -> pl.Expr:
    return (expr * 100).round(1).cast(pl.String) + pl.lit("%")


def _with_bounds(last: pl.DataFrame, r: AlertRules) -> pl.DataFrame:
    """Wilson bounds of the window inbox and spam rates at ``r.confidence``."""
    inbox = last["window_inbox"].fill_null(0).to_numpy()
    placed = inbox + last["window_spam"].fill_null(0).to_numpy()
    _low, high = proportion_ci(inbox, placed, r.confidence)
    # Wilson intervals are symmetric under p -> 1 - p: spam's lower end = 1 - inbox's upper
    return last.with_columns(
        pl.Series("_inbox_high", high).fill_nan(None),
        (1.0 - pl.Series("_spam_low", high).fill_nan(None)).alias("_spam_low"),
        pl.Series("_placed", placed),
    )


def _latest(health: pl.DataFrame, r: AlertRules) -> pl.DataFrame:
    last = health.sort("date").group_by("email").last()
    known = health.filter(pl.col("health_score").is_not_null()).sort("date")
    api = known.group_by("email").agg(pl.col("health_score").last().alias("_api"))
    last = last.join(api, on="email", how="left").with_columns(
        pl.coalesce("_api", "health_estimate").alias("_health"),
        pl.when(pl.col("_api").is_not_null()).then(pl.lit("health score"))
        .otherwise(pl.lit("estimated health (warmup inbox share)")).alias("_hsrc"),
    )
    return _with_halves(_with_bounds(last, r), health, r)


def _with_halves(last: pl.DataFrame, health: pl.DataFrame, r: AlertRules) -> pl.DataFrame:
    """Inbox rate of the earlier and later half of each account's trailing trend window and
    the lower end of the drop between them (points)."""
    ends = last.select("email", pl.col("date").alias("_end"))
    days = health.join(ends, on="email").filter(
        (pl.col("date") > pl.col("_end") - dt.timedelta(days=r.trend_days))
        & (pl.col("date") <= pl.col("_end"))
    )
    span = pl.col("date").min().over("email"), pl.col("date").max().over("email")
    mid = span[0] + (span[1] - span[0]) / 2
    halves = days.with_columns((pl.col("date") > mid).alias("_late")).group_by("email").agg(
        *[pl.col(c).filter(pl.col("_late") == late).fill_null(0).sum().alias(f"_{tag}_{c}")
          for late, tag in ((False, "early"), (True, "late"))
          for c in ("landed_inbox", "landed_spam")],
    )
    z = z_critical(r.trend_confidence)
    rates = []
    for tag in ("early", "late"):
        n = pl.col(f"_{tag}_landed_inbox") + pl.col(f"_{tag}_landed_spam")
        rates += [n.alias(f"_{tag}_n"),
                  pl.when(n > 0).then(pl.col(f"_{tag}_landed_inbox") / n).alias(f"_{tag}_rate")]
    halves = halves.with_columns(rates)
    var = sum((pl.col(f"_{t}_rate") * (1 - pl.col(f"_{t}_rate")) / pl.col(f"_{t}_n")
               for t in ("early", "late")), pl.lit(0.0))
    drop = pl.col("_early_rate") - pl.col("_late_rate")
    halves = halves.with_columns((100 * (drop - z * var.sqrt())).alias("_drop_low"))
    return last.join(halves.select("email", "_drop_low", "_early_n", "_late_n", "_early_rate",
                                   "_late_rate"), on="email", how="left")


def _health_rules(health: pl.DataFrame, r: AlertRules) -> list[pl.DataFrame]:
    last = _latest(health, r)
    e, out = pl.col("email"), []
    enough = pl.col("_placed") >= r.min_placed
    placed_txt = (pl.col("window_inbox").cast(pl.Int64).cast(pl.String) + "/"
                  + pl.col("_placed").cast(pl.Int64).cast(pl.String))
    if r.health_min is not None:
        out.append(_rule(last, enough & (100 * pl.col("_inbox_high") < r.health_min),
                         "health_low", "warning", pl.col("_health"), r.health_min,
                         e + ": " + pl.col("_hsrc") + " " + pl.col("_health").round(1)
                         .cast(pl.String) + f" is below {r.health_min:g} (inbox " + placed_txt
                         + ", at most " + _pct(pl.col("_inbox_high"))
                         + f" at {r.confidence:.0%} confidence)", say.health_low()))
    if r.health_drop is not None and "health_change" in last.columns:
        falling = ((pl.col("health_change") <= -r.health_drop)
                   & (100 * (pl.col("_early_rate") - pl.col("_late_rate")) >= r.health_drop)
                   & (pl.col("_drop_low") > 0)
                   & (pl.col("_early_n") >= r.min_placed) & (pl.col("_late_n") >= r.min_placed))
        out.append(_rule(last, falling, "health_falling", "warning", pl.col("health_change"),
                         -r.health_drop,
                         e + ": health fell " + (-pl.col("health_change")).round(1)
                         .cast(pl.String) + " points over the window (fitted slope "
                         + pl.col("health_slope").round(2).cast(pl.String) + "/day, "
                         + pl.col("health_trend_source") + "; inbox " + _pct(pl.col("_early_rate"))
                         + " -> " + _pct(pl.col("_late_rate"))
                         + f" over {r.trend_days} days); limit {r.health_drop:g}",
                         say.health_falling(r.trend_days)))
    if r.spam_rate_max is not None:
        out.append(_rule(last, enough & (pl.col("_spam_low") > r.spam_rate_max),
                         "spam_placement", "warning", pl.col("window_spam_rate"),
                         r.spam_rate_max,
                         e + ": " + _pct(pl.col("window_spam_rate")) + " of warmup mail in spam ("
                         + pl.col("window_spam").cast(pl.Int64).cast(pl.String) + "/"
                         + pl.col("_placed").cast(pl.Int64).cast(pl.String)
                         + ") over the window, at least " + _pct(pl.col("_spam_low"))
                         + f" at {r.confidence:.0%} confidence; limit {r.spam_rate_max:.0%}",
                         say.spam_placement()))
    out += _bounce_rules(last, r)
    if r.volume_share is not None and {"window_sent", "daily_limit"} <= set(last.columns):
        limit = pl.col("daily_limit")
        per_day = pl.col("window_sent") / pl.col("window_days")
        out.append(_rule(last, (limit > 0) & (per_day >= r.volume_share * limit),
                         "volume_near_limit", "info", per_day / limit, r.volume_share,
                         e + ": sent " + per_day.round(1).cast(pl.String)
                         + " a day on average over the window, against a daily limit of "
                         + limit.cast(pl.Int64).cast(pl.String)
                         + f" (at or above {r.volume_share:.0%})", say.volume_near_limit()))
    return out


def _bounce_rules(last: pl.DataFrame, r: AlertRules) -> list[pl.DataFrame]:
    if "window_bounce_rate" not in last.columns:
        return []
    rate, sent = pl.col("window_bounce_rate"), pl.col("window_sent")
    enough = sent >= r.min_sent
    if r.bounce_confidence is not None and r.bounce_warn is not None:
        low, _hi = proportion_ci(last["window_bounced"].fill_null(0).to_numpy(),
                                   last["window_sent"].fill_null(0).to_numpy(), r.bounce_confidence)
        last = last.with_columns(pl.Series("_bounce_low", low).fill_nan(None))
        enough = enough & (pl.col("_bounce_low") >= r.bounce_warn)
    msg = (pl.col("email") + ": bounce rate " + _pct(rate) + " over the window ("
           + pl.col("window_bounced").cast(pl.Int64).cast(pl.String) + "/"
           + sent.cast(pl.Int64).cast(pl.String) + " sends)")
    out = []
    crit = r.bounce_critical
    if crit is not None:
        out.append(_rule(last, enough & (rate >= crit), "bounce", "critical", rate, crit,
                         msg + f" at or above the critical level {crit:.0%}", say.bounce()))
    if r.bounce_warn is not None:
        below_crit = rate < crit if crit is not None else pl.lit(True)
        out.append(_rule(last, enough & (rate >= r.bounce_warn) & below_crit, "bounce",
                         "warning", rate, r.bounce_warn,
                         msg + f" at or above the warning level {r.bounce_warn:.0%}",
                         say.bounce()))
    return out


def _status_rules(acc: pl.DataFrame, r: AlertRules, when: dt.date | None) -> list[pl.DataFrame]:
    require(acc, ["email"], "alerts(accounts)")
    date = pl.col("date") if "date" in acc.columns else pl.lit(when, dtype=pl.Date)
    acc = acc.with_columns(date.cast(pl.Date).alias("date"))
    out = []
    for col, flag, rule in (("status", r.status_negative, "account_status"),
                            ("warmup_status", r.warmup_status_negative, "warmup_status")):
        if not flag or col not in acc.columns:
            continue
        code = pl.col(col).cast(pl.Float64, strict=False)
        known = code.cast(pl.Int64).replace_strict(NEGATIVE_CODES[col], default="unknown code",
                                                   return_dtype=pl.String)
        label = (pl.coalesce(pl.col(f"{col}_label").cast(pl.String), known)
                 if f"{col}_label" in acc.columns else known)
        out.append(_rule(acc, code < 0, rule, "critical", code, 0.0,
                         pl.col("email") + f": {col} " + code.cast(pl.Int64).cast(pl.String)
                         + " (" + label + ") is negative: the account needs attention",
                         say.status(col, label)))
    return out
