"""Campaign overview view: totals, one row per campaign, funnel, pooled rates, trends, ranking.

``load(scope)`` fetches ``campaigns.analytics`` and ``campaigns.analytics_daily`` of the
selection for the window; ``view(data, params)`` is pure and returns a
:class:`~instantly_nb.views.section.Section`. Every rate comes from :func:`metrics.rate`, pooled
as a ratio of sums over the campaigns in scope.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from .. import charts, metrics
from ..metrics.definitions import RATES
from ..report.periods import Window
from .scope import Scope
from .section import Charts, Section, evidence

__all__ = [
    "CampaignData",
    "CampaignParams",
    "POOLED",
    "best_and_worst",
    "campaign_table",
    "load",
    "pooled_rates",
    "rate_columns",
    "status_counts",
    "summary_sentence",
    "trend_table",
    "view",
]

#: Rates of the pooled table, in order.
POOLED = ("reply", "interested", "opportunity", "meeting", "bounce", "unsubscribe", "open",
          "click")


@dataclass(frozen=True)
class CampaignParams:
    """Parameters of the campaign overview.

    Attributes
    ----------
    level : float
        Confidence level of every interval.
    min_contacted : int
        Campaigns with fewer leads contacted are not ranked.
    top_n : int
        How many best and worst campaigns to show.
    """

    level: float = 0.95
    min_contacted: int = 100
    top_n: int = 3


@dataclass
class CampaignData:
    """The frames behind the campaign overview of one scope and window."""

    window: Window
    campaigns: pl.DataFrame
    analytics: pl.DataFrame
    daily: pl.DataFrame
    overview: pl.DataFrame


def load(scope: Scope) -> CampaignData:
    """Fetch the campaign analytics (per campaign), daily analytics (summed) and the analytics
    overview (one row, with positive replies and meetings) of the scope."""
    ids = scope.campaign_ids or None
    analytics = scope.client.campaigns.analytics(ids=ids, **scope.dates)
    overview = scope.client.campaigns.analytics_overview(ids=ids, **scope.dates)
    return CampaignData(scope.window, scope.campaigns, scope.with_names(analytics),
                        load_daily(scope), overview)


def load_daily(scope: Scope) -> pl.DataFrame:
    """``campaigns.analytics_daily`` of the selection, summed per date (all: one call)."""
    if not scope.campaign_ids:
        return scope.client.campaigns.analytics_daily(**scope.dates)
    per = scope.client.campaigns.analytics_daily(campaign_id=scope.campaign_ids, **scope.dates)
    numeric = [c for c, t in per.schema.items() if t.is_numeric()]
    return per.group_by("date").agg(pl.col(numeric).sum()).sort("date")


def rate_columns(rates: pl.DataFrame, prefix: str) -> list[pl.Expr]:
    """A metrics rate frame's rate and bounds as ``prefix``, ``prefix_low``, ``prefix_high``."""
    return [pl.col("rate").alias(prefix), pl.col("ci_low").alias(prefix + "_low"),
            pl.col("ci_high").alias(prefix + "_high")]


def _known(frame: pl.DataFrame, names: Sequence[str]) -> list[str]:
    """The rates of ``names`` the frame has the columns for."""
    out = []
    for name in names:
        rdef = RATES.get(name)
        if rdef is not None and any(c in frame.columns for c in rdef.numerators):
            out.append(name)
    return out


def status_counts(campaigns: pl.DataFrame) -> pl.DataFrame:
    """Campaigns per status: status, campaigns, names."""
    label = pl.col("status_label").fill_null(pl.col("status").cast(pl.String))
    return (campaigns.group_by(label.alias("status"))
            .agg(pl.len().alias("campaigns"), pl.col("campaign").sort().str.join(", ")
                 .alias("names"))
            .sort(["campaigns", "status"], descending=[True, False]))


def campaign_table(analytics: pl.DataFrame, level: float = 0.95) -> pl.DataFrame:
    """One row per campaign: volume, replies, opportunities, bounces and rates with intervals."""
    base = analytics.select(
        "campaign", pl.col("campaign_status_label").alias("status"),
        pl.col("leads_count").alias("leads"), pl.col("contacted_count").alias("contacted"),
        pl.col("emails_sent_count").alias("sent"),
        pl.col("total_opportunities").alias("opportunities"),
        pl.col("bounced_count").alias("bounced"), "campaign_id",
    )
    # "Replied" and "new leads contacted" are the reply rate's own numerator and denominator
    # (human replies over new leads contacted), so a reader can redo the division.
    reply = metrics.rate(analytics, "reply", by="campaign_id", level=level).select(
        "campaign_id", pl.col("denominator").cast(pl.Int64).alias("new_leads_contacted"),
        pl.col("numerator").cast(pl.Int64).alias("replied"))
    base = base.join(reply, on="campaign_id", how="left")
    for name in ("reply", "opportunity", "bounce"):
        rates = metrics.rate(analytics, name, by="campaign_id", level=level)
        base = base.join(rates.select("campaign_id", *rate_columns(rates, f"{name}_rate")),
                         on="campaign_id", how="left")
    order = ["campaign", "status", "contacted", "sent", "new_leads_contacted", "replied",
             "reply_rate", "opportunities", "opportunity_rate", "bounced", "bounce_rate",
             "leads"]
    rest = [c for c in base.columns if c not in order and c != "campaign_id"]
    return base.select(*order, *rest, "campaign_id").sort("contacted", descending=True,
                                                          nulls_last=True)


def pooled_rates(analytics: pl.DataFrame, names: Sequence[str] = POOLED,
                 level: float = 0.95) -> pl.DataFrame:
    """Each rate pooled over the campaigns (sums divided), with its interval."""
    rows = []
    for name in _known(analytics, names):
        r = metrics.rate(analytics, name, level=level)
        rows.append(r.select(
            pl.lit(RATES[name].label).alias("metric"), pl.col("numerator").cast(pl.Int64),
            pl.col("denominator").cast(pl.Int64), *rate_columns(r, "rate")))
    if not rows:
        return pl.DataFrame(schema={"metric": pl.String, "numerator": pl.Int64,
                                    "denominator": pl.Int64, "rate": pl.Float64})
    return pl.concat(rows)


def summary_sentence(analytics: pl.DataFrame, level: float = 0.95) -> str:
    """The pooled totals and reply rate of the window, in one sentence (Markdown)."""
    if analytics.is_empty():
        return "No campaign activity in this window."
    r = metrics.rate(analytics, "reply", level=level).row(0, named=True)
    total = analytics.select(pl.col("contacted_count", "emails_sent_count",
                                    "total_opportunities").sum()).row(0, named=True)
    # The reply rate is said with its own numerator and denominator (human replies over new
    # leads contacted), so the sentence never divides one count by another that it names.
    reply = (f"{r['numerator'] or 0:,.0f} of {r['denominator'] or 0:,.0f} new leads contacted "
             f"replied (automatic replies left out) — reply rate **{r['rate']:.1%}** "
             f"({level:.0%} interval {r['ci_low']:.1%}–{r['ci_high']:.1%})"
             if r["rate"] is not None else "no reply rate (nobody contacted)")
    return (f"**{analytics.height} campaigns** with data: {total['contacted_count'] or 0:,.0f} "
            f"leads contacted, {total['emails_sent_count'] or 0:,.0f} emails sent; {reply}; "
            f"{total['total_opportunities'] or 0:,.0f} opportunities.")


def best_and_worst(table: pl.DataFrame, *, min_contacted: int = 100, n: int = 3) -> pl.DataFrame:
    """Top and bottom ``n`` campaigns by reply rate, among those with enough leads contacted.

    ``versus_all`` says whether the campaign's interval lies above or below the pooled reply
    rate of the ranked campaigns, or overlaps it (then the ranking may be luck).
    """
    reached = "new_leads_contacted" if "new_leads_contacted" in table.columns else "contacted"
    ranked = table.filter((pl.col(reached) >= min_contacted) & pl.col("reply_rate")
                          .is_not_null()).sort("reply_rate", descending=True)
    # pooled over the reply rate's own denominator: the same definition as each row's rate
    pooled = float(ranked["replied"].sum()) / max(float(ranked[reached].sum()), 1.0)
    best = ranked.head(n).with_columns(pl.lit("best").alias("rank"))
    worst = ranked.tail(min(n, max(ranked.height - n, 0))).reverse() \
        .with_columns(pl.lit("worst").alias("rank"))
    versus = (pl.when(pl.col("reply_rate_low") > pooled).then(pl.lit("above all campaigns"))
              .when(pl.col("reply_rate_high") < pooled).then(pl.lit("below all campaigns"))
              .otherwise(pl.lit("not clearly different")))
    cols = ["rank", "campaign", "status", reached, "replied", "reply_rate",
            "reply_rate_low", "reply_rate_high"]
    return pl.concat([best.select(cols), worst.select(cols)]).with_columns(
        versus.alias("versus_all"))


def trend_table(trend: pl.DataFrame) -> pl.DataFrame:
    """Period, metric, counts, rate with interval and the change from the previous period."""
    label = pl.col("metric").replace_strict({k: v.label for k, v in RATES.items()},
                                            default=pl.col("metric"))
    return trend.select(
        "period", pl.col("days").alias("days_with_data"), label.alias("metric"),
        pl.col("numerator").cast(pl.Int64), pl.col("denominator").cast(pl.Int64), "rate",
        pl.col("ci_low").alias("rate_low"), pl.col("ci_high").alias("rate_high"),
        pl.col("change_abs").alias("change_rate"),
        pl.col("change_p").map_elements(evidence, return_dtype=pl.String).alias("change_is"),
    )


def view(data: CampaignData, params: CampaignParams = CampaignParams()) -> Section:
    """The campaign overview of ``data``: tables, charts and the summary sentence."""
    level = params.level
    table = campaign_table(data.analytics, level=level)
    funnel = metrics.funnel(data.analytics, level=level)
    daily = metrics.trends(data.daily, freq="1d", level=level)
    weekly = metrics.trends(data.daily, freq="1w", rates=("reply", "click"), level=level)
    return Section(
        "Campaign overview",
        tables={
            "status": status_counts(data.campaigns),
            "campaigns": table,
            "pooled": pooled_rates(data.overview if data.overview.height else data.analytics,
                                   level=level),
            "funnel": funnel,
            "weekly": trend_table(weekly),
            "ranking": best_and_worst(table, min_contacted=params.min_contacted,
                                      n=params.top_n),
        },
        charts=Charts(funnel=lambda: charts.funnel(funnel), daily=lambda: charts.trend(daily),
                      weekly=lambda: charts.trend(weekly, "reply")),
        notes={"summary": summary_sentence(data.analytics, level=level),
               "ranking": f"Ranked among the campaigns with at least {params.min_contacted:,} "
                          f"leads contacted: the {params.top_n} best and the "
                          f"{params.top_n} worst."},
        period=data.window.text(),
    )
