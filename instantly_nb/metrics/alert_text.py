"""Plain-language sentences for the deliverability alerts, one builder per rule.

Each function returns a polars expression over the columns of the frame its rule is evaluated
on; the sentence says what happened, with the few numbers a marketer needs, and what to do.
The technical ``message`` (thresholds, intervals) stays beside it.
"""

from __future__ import annotations

import polars as pl


def _pct(expr: pl.Expr, digits: int = 0) -> pl.Expr:
    return (expr * 100).round(digits).cast(pl.Int64 if digits == 0 else pl.Float64).cast(
        pl.String) + pl.lit("%")


def _int(expr: pl.Expr) -> pl.Expr:
    return expr.cast(pl.Int64).cast(pl.String)


def health_low() -> pl.Expr:
    """The sentence of the low-health rule (little warmup mail reached the inbox)."""
    return (pl.col("email") + ": only " + _pct(pl.col("window_inbox_rate"))
            + " of its warmup mail reached the inbox in the last "
            + _int(pl.col("window_days")) + " days (" + _int(pl.col("window_inbox")) + " of "
            + _int(pl.col("_placed")) + "). Mail from this account is likely landing in spam: "
              "slow its campaigns down and check its domain setup (SPF, DKIM, DMARC).")


def health_falling(days: int) -> pl.Expr:
    """The sentence of the falling-health rule (inbox share fell over ``days`` days)."""
    return (pl.col("email") + ": the share of its warmup mail reaching the inbox fell from "
            + _pct(pl.col("_early_rate")) + " to " + _pct(pl.col("_late_rate"))
            + f" over the last {days} days. Watch it, and lower its daily volume if it keeps "
              "falling.")


def spam_placement() -> pl.Expr:
    """The sentence of the spam-placement rule."""
    return (pl.col("email") + ": " + _pct(pl.col("window_spam_rate"))
            + " of its warmup mail went to spam in the last " + _int(pl.col("window_days"))
            + " days (" + _int(pl.col("window_spam")) + " of " + _int(pl.col("_placed"))
            + "). Recipients may not see its campaigns: reduce its volume and check its "
              "domain setup.")


def bounce() -> pl.Expr:
    """The sentence of the bounce-rate rule."""
    return (pl.col("email") + ": " + _pct(pl.col("window_bounce_rate"), 1)
            + " of its campaign e-mails bounced in the last " + _int(pl.col("window_days"))
            + " days (" + _int(pl.col("window_bounced")) + " of " + _int(pl.col("window_sent"))
            + "). Clean the lead list (verify addresses) before sending more.")


def volume_near_limit() -> pl.Expr:
    """The sentence of the volume-near-daily-limit rule."""
    return (pl.col("email") + ": it sends close to its daily limit of "
            + _int(pl.col("daily_limit")) + " every day. Add sending accounts or lower the "
              "campaign volume so mail is not held back.")


def status(column: str, label: pl.Expr) -> pl.Expr:
    """Sentence for a negative ``status`` / ``warmup_status`` code."""
    what = "the account" if column == "status" else "its warmup"
    return (pl.col("email") + f": {what} reports a problem (" + label
            + "). Reconnect or fix the account in Instantly before it sends again.")


__all__ = ["bounce", "health_falling", "health_low", "spam_placement", "status",
           "volume_near_limit"]
