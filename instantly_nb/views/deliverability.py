"""Deliverability view: sending accounts of the scope, their health, bounces, placement and alerts.

``load(scope, params)`` fetches the accounts that send for the selected campaigns, their warmup
analytics and campaign sends; ``view(data, params)`` computes ``metrics.deliverability`` and
``metrics.alerts`` with the thresholds of :class:`DeliverabilityParams` (whose defaults are
``metrics.AlertRules``' own) and returns a :class:`~instantly_nb.views.section.Section`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import polars as pl

from .. import charts, metrics
from ..report.periods import Window
from .scope import Scope, scope_accounts
from .section import Charts, Section

__all__ = [
    "DeliverabilityData",
    "DeliverabilityParams",
    "account_table",
    "alert_list",
    "bounce_table",
    "in_window",
    "load",
    "placement_results",
    "reason",
    "view",
]

_RULES = metrics.AlertRules()


@dataclass(frozen=True)
class DeliverabilityParams:
    """Parameters of the deliverability view (thresholds default to ``metrics.AlertRules``).

    Attributes
    ----------
    window_days : int
        Trailing days pooled for inbox, health and bounce figures.
    health_min, health_drop, spam_rate_max, bounce_warn, bounce_critical, volume_share
        Alert thresholds (see :class:`instantly_nb.metrics.AlertRules`); None switches a rule off.
    accounts : tuple of str
        Only these sending accounts (e-mail addresses); empty = every account in scope.
    """

    window_days: int = 7
    health_min: float | None = _RULES.health_min
    health_drop: float | None = _RULES.health_drop
    spam_rate_max: float | None = _RULES.spam_rate_max
    bounce_warn: float | None = _RULES.bounce_warn
    bounce_critical: float | None = _RULES.bounce_critical
    volume_share: float | None = _RULES.volume_share
    accounts: tuple[str, ...] = ()

    def rules(self) -> metrics.AlertRules:
        """The alert rules with these thresholds (every other setting as AlertRules has it)."""
        from dataclasses import replace

        return replace(_RULES, health_min=self.health_min, health_drop=self.health_drop,
                       spam_rate_max=self.spam_rate_max, bounce_warn=self.bounce_warn,
                       bounce_critical=self.bounce_critical, volume_share=self.volume_share)


@dataclass
class DeliverabilityData:
    """The frames behind the deliverability view (accounts in scope only)."""

    window: Window
    accounts: pl.DataFrame
    warmup_daily: pl.DataFrame
    warmup_summary: pl.DataFrame
    account_daily: pl.DataFrame
    placement: pl.DataFrame


def load(scope: Scope, params: DeliverabilityParams = DeliverabilityParams()) -> DeliverabilityData:
    """Accounts, warmup analytics, campaign sends and placement tests of the accounts in scope.

    Campaign sends start ``window_days - 1`` days before the window so the trailing bounce
    rate of the first day covers a full window.
    """
    accounts = scope_accounts(scope.client.accounts.list(), scope.campaigns, scope.campaign_ids)
    emails = accounts["email"].to_list()
    start = scope.window.start - dt.timedelta(days=params.window_days - 1)
    return DeliverabilityData(
        scope.window, accounts,
        scope.client.accounts.warmup_daily(emails=emails),
        scope.client.accounts.warmup_summary(emails=emails),
        scope.client.accounts.analytics_daily(emails=emails, start_date=start,
                                              end_date=scope.window.end),
        placement_results(scope, accounts),
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
    ).sort(pl.coalesce("health_score", "health_estimate"), "email", nulls_last=True)


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
        return pl.DataFrame(schema={"test": pl.String, "status": pl.String, "placed": pl.Int64})
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
    ).sort("inbox_rate", "test", nulls_last=True)


def bounce_table(account_daily: pl.DataFrame, window: Window, level: float = 0.95) -> pl.DataFrame:
    """Campaign bounce rate per account over the window (bounced / sent), highest first."""
    rows = in_window(account_daily, window)
    rates = metrics.rate(rows, "bounce", denominator="sent", by="email_account", level=level)
    return rates.select(
        pl.col("email_account").alias("email"), pl.col("denominator").cast(pl.Int64).alias("sent"),
        pl.col("numerator").cast(pl.Int64).alias("bounced"), pl.col("rate").alias("bounce_rate"),
        pl.col("ci_low").alias("bounce_rate_low"), pl.col("ci_high").alias("bounce_rate_high"),
    ).filter(pl.col("sent") > 0).sort(["bounce_rate", "email"], descending=[True, False],
                                      nulls_last=True)


def reason(row: dict[str, Any]) -> str:
    """One alert as a sentence about the account: the rule's own plain-language sentence
    (``metrics.alerts``), without the leading address, never the rule's name."""
    text = str(row.get("sentence") or row.get("message") or "needs a look").strip()
    email = str(row.get("email") or "")
    text = text.removeprefix(email + ": ") if email else text
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def alert_list(alerts: pl.DataFrame) -> pl.DataFrame:
    """Alerts for readers: severity, account, the reason as a sentence, the day."""
    sentences = [reason(r) for r in alerts.iter_rows(named=True)]
    return alerts.select("severity", "email", "date").with_columns(
        pl.Series("message", sentences, pl.String)).select("severity", "email", "message",
                                                           "date")


def _picked(data: DeliverabilityData, params: DeliverabilityParams) -> DeliverabilityData:
    if not params.accounts:
        return data
    unknown = sorted(set(params.accounts) - set(data.accounts["email"].to_list()))
    if unknown:
        raise ValueError(f"accounts not sending for this selection: {', '.join(unknown)}")
    keep = pl.Series(list(params.accounts)).implode()
    return DeliverabilityData(
        data.window, data.accounts.filter(pl.col("email").is_in(keep)),
        data.warmup_daily.filter(pl.col("email").is_in(keep)),
        data.warmup_summary.filter(pl.col("email").is_in(keep)),
        data.account_daily.filter(pl.col("email_account").is_in(keep)), data.placement)


def view(data: DeliverabilityData,
         params: DeliverabilityParams = DeliverabilityParams()) -> Section:
    """Health, alerts (as of the window's last day), accounts, bounces and placement tests."""
    data = _picked(data, params)
    health = metrics.deliverability(data.warmup_daily, data.warmup_summary, data.accounts,
                                    data.account_daily, window_days=params.window_days)
    alerts = metrics.alerts(health, data.accounts, rules=params.rules(), as_of=data.window.end)
    shown = in_window(health, data.window)
    return Section(
        "Deliverability",
        tables={"health": shown,
                "accounts": account_table(health, data.accounts, data.window),
                "bounces": bounce_table(data.account_daily, data.window),
                "placement": data.placement,
                "alerts": alert_list(alerts)},
        charts=Charts(alerts=lambda: charts.alerts(alerts) if alerts.height else None,
                      health=lambda: charts.deliverability(shown) if shown.height else None),
        notes={"summary": f"{data.accounts.height} sending account(s); {alerts.height} "
                          f"alert(s) on {data.window.end.isoformat()}."},
        alerts=alerts,
        period=data.window.text(),
    )
