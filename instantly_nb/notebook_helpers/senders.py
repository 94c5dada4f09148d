"""Deliverability helpers: the sending accounts in scope, their health and placement tests."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from .. import metrics
from ..report.periods import Window
from ._common import Scope

__all__ = [
    "SenderData",
    "account_table",
    "bounce_table",
    "in_window",
    "placement_results",
    "scope_accounts",
    "sender_data",
]


@dataclass
class SenderData:
    """The frames behind the deliverability notebook (accounts in scope only)."""

    accounts: pl.DataFrame
    warmup_daily: pl.DataFrame
    warmup_summary: pl.DataFrame
    account_daily: pl.DataFrame


def scope_accounts(scope: Scope) -> pl.DataFrame:
    """``accounts.list`` rows of the accounts that send for the selected campaigns (or all)."""
    accounts = scope.client.accounts.list()
    if not scope.campaign_ids or "email_list" not in scope.campaigns.columns:
        return accounts
    used = scope.campaigns["email_list"].explode().drop_nulls().unique()
    return accounts.filter(pl.col("email").is_in(used.implode()))


def sender_data(scope: Scope, window_days: int = 7) -> SenderData:
    """Accounts, warmup analytics and campaign sends of the accounts in scope.

    Campaign sends start ``window_days - 1`` days before the window so the trailing bounce
    rate of the first day covers a full window.
    """
    accounts = scope_accounts(scope)
    emails = accounts["email"].to_list()
    start = scope.window.start - dt.timedelta(days=window_days - 1)
    return SenderData(
        accounts,
        scope.client.accounts.warmup_daily(emails=emails),
        scope.client.accounts.warmup_summary(emails=emails),
        scope.client.accounts.analytics_daily(emails=emails, start_date=start,
                                              end_date=scope.window.end),
    )


def in_window(frame: pl.DataFrame, window: Window, column: str = "date") -> pl.DataFrame:
    """Rows whose ``column`` lies in the window (both ends included)."""
    return frame.filter(pl.col(column).is_between(window.start, window.end))


def account_table(health: pl.DataFrame, accounts: pl.DataFrame, window: Window) -> pl.DataFrame:
    """Latest state of each account in the window, weakest health first."""
    rows = in_window(health, window)
    sent = rows.group_by("email").agg(pl.col("campaign_sent").sum().alias("campaign_sent"))
    # The API's score is today's; the window figures are those of the window's last day.
    score = health.sort("date").group_by("email").agg(
        pl.col("health_score").drop_nulls().last().alias("score"))
    latest = rows.sort("date").group_by("email").last().drop("campaign_sent", "health_score")
    latest = latest.join(score, on="email", how="left")
    placed = (latest["window_inbox"].fill_null(0) + latest["window_spam"].fill_null(0))
    low, high = metrics.proportion_ci(latest["window_inbox"].fill_null(0).to_numpy(),
                                      placed.to_numpy(), 0.95)
    labels = accounts.select("email", *[c for c in ("status_label", "warmup_status_label")
                                        if c in accounts.columns])
    out = latest.with_columns(pl.Series("inbox_rate_low", low).fill_nan(None),
                              pl.Series("inbox_rate_high", high).fill_nan(None))
    out = out.join(sent, on="email", how="left").join(labels, on="email", how="left")
    return out.select(
        "email", pl.col("date").alias("as_of"), *[c for c in ("status_label",
                                                              "warmup_status_label")
                                                  if c in out.columns],
        pl.col("score").alias("health_score"), "health_estimate", "health_change",
        pl.col("window_inbox_rate").alias("inbox_rate"), "inbox_rate_low", "inbox_rate_high",
        pl.col("window_bounce_rate").alias("bounce_rate"), "campaign_sent", "daily_limit",
    ).sort(pl.coalesce("health_score", "health_estimate"), nulls_last=True)


def placement_results(scope: Scope, accounts: pl.DataFrame | None = None) -> pl.DataFrame:
    """Inbox placement tests with their results in the window and an inbox-rate interval.

    With a campaign selection, only tests of those campaigns or of their sending accounts.
    """
    tests = scope.client.inbox_placement_tests.list()
    if scope.campaign_ids and accounts is not None:
        mine = pl.col("campaign_id").is_in(scope.campaign_ids) | pl.col("emails").list.eval(
            pl.element().is_in(accounts["email"].implode())).list.any()
        tests = tests.filter(mine.fill_null(False))
    if tests.is_empty():
        return pl.DataFrame(schema={"test": pl.String, "status": pl.String, "placed": pl.Float64})
    stats = scope.client.inbox_placement_analytics.stats_by_test(
        test_ids=tests["id"].to_list(), date_from=scope.window.start, date_to=scope.window.end)
    joined = tests.join(stats, left_on="id", right_on="test_id", how="left")
    low, high = metrics.proportion_ci(joined["inbox_count"].fill_null(0).to_numpy(),
                                      joined["count"].fill_null(0).to_numpy(), 0.95)
    return joined.select(
        pl.col("name").alias("test"), pl.col("status_label").alias("status"),
        pl.col("count").fill_null(0).cast(pl.Int64).alias("placed"),
        *[pl.col(c).cast(pl.Int64) for c in ("inbox_count", "spam_count", "category_count")],
        pl.when(pl.col("count") > 0).then(pl.col("inbox_count") / pl.col("count"))
        .alias("inbox_rate"),
        pl.Series("inbox_rate_low", low).fill_nan(None),
        pl.Series("inbox_rate_high", high).fill_nan(None),
        pl.when(pl.col("count") > 0).then(pl.col("spam_count") / pl.col("count"))
        .alias("spam_rate"),
    ).sort("inbox_rate", nulls_last=True)


def bounce_table(account_daily: pl.DataFrame, window: Window, level: float = 0.95) -> pl.DataFrame:
    """Campaign bounce rate per account over the window (bounced / sent), highest first."""
    rows = in_window(account_daily, window)
    rates = metrics.rate(rows, "bounce", denominator="sent", by="email_account", level=level)
    return rates.select(
        pl.col("email_account").alias("email"), pl.col("denominator").cast(pl.Int64).alias("sent"),
        pl.col("numerator").cast(pl.Int64).alias("bounced"), pl.col("rate").alias("bounce_rate"),
        pl.col("ci_low").alias("bounce_rate_low"), pl.col("ci_high").alias("bounce_rate_high"),
    ).filter(pl.col("sent") > 0).sort("bounce_rate", descending=True, nulls_last=True)
