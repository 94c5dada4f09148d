"""Campaign overview and A/B helpers: analytics of the selection shaped into readable tables."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl

from .. import metrics
from ..metrics.definitions import RATES
from ._common import Scope, markdown, md_escape, rate_columns

__all__ = [
    "ab_note",
    "ab_summary",
    "best_and_worst",
    "campaign_analytics",
    "campaign_daily",
    "campaign_summary",
    "campaign_table",
    "pooled_rates",
    "sends_needed",
    "status_counts",
    "step_analytics",
    "tested",
    "trend_table",
    "verdict_table",
]


def campaign_analytics(scope: Scope) -> pl.DataFrame:
    """``campaigns.analytics`` for the window and selection, with a ``campaign`` name column."""
    frame = scope.client.campaigns.analytics(ids=scope.campaign_ids or None, **scope.dates)
    return scope.with_names(frame)


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
        pl.col("emails_sent_count").alias("sent"), pl.col("reply_count_unique").alias("replied"),
        pl.col("total_opportunities").alias("opportunities"),
        pl.col("bounced_count").alias("bounced"), "campaign_id",
    )
    for name in ("reply", "opportunity", "bounce"):
        rates = metrics.rate(analytics, name, by="campaign_id", level=level)
        base = base.join(rates.select("campaign_id", *rate_columns(rates, f"{name}_rate")),
                         on="campaign_id", how="left")
    order = ["campaign", "status", "leads", "contacted", "sent", "replied", "reply_rate",
             "opportunities", "opportunity_rate", "bounced", "bounce_rate"]
    rest = [c for c in base.columns if c not in order and c != "campaign_id"]
    return base.select(*order, *rest, "campaign_id").sort("contacted", descending=True,
                                                          nulls_last=True)


def pooled_rates(analytics: pl.DataFrame,
                 names: Sequence[str] = ("reply", "open", "click", "bounce", "unsubscribe",
                                         "opportunity"),
                 level: float = 0.95) -> pl.DataFrame:
    """Each rate pooled over the campaigns (sums divided), with its interval and columns."""
    rows = []
    for name in names:
        r = metrics.rate(analytics, name, level=level)
        rows.append(r.select(
            pl.lit(RATES[name].label).alias("metric"), pl.col("numerator").cast(pl.Int64),
            pl.col("denominator").cast(pl.Int64), *rate_columns(r, "rate"),
            pl.format("{} / {}", "numerator_col", "denominator_col").alias("columns"),
            "caveat"))
    return pl.concat(rows)


def campaign_summary(analytics: pl.DataFrame, level: float = 0.95) -> Any:
    """A Markdown paragraph with the pooled totals and reply rate of the window."""
    if analytics.is_empty():
        return markdown("No campaign activity in this window.")
    r = metrics.rate(analytics, "reply", level=level).row(0, named=True)
    total = analytics.select(pl.col("contacted_count", "emails_sent_count", "reply_count_unique",
                                    "total_opportunities").sum()).row(0, named=True)
    reply = (f"reply rate **{r['rate']:.1%}** ({level:.0%} interval {r['ci_low']:.1%}–"
             f"{r['ci_high']:.1%})" if r["rate"] is not None else "no reply rate (nobody contacted)")
    return markdown(
        f"**{analytics.height} campaigns** with data: {total['contacted_count'] or 0:,.0f} leads "
        f"contacted, {total['emails_sent_count'] or 0:,.0f} emails sent, "
        f"{total['reply_count_unique'] or 0:,.0f} leads replied — {reply}; "
        f"{total['total_opportunities'] or 0:,.0f} opportunities.")


def best_and_worst(table: pl.DataFrame, *, min_contacted: int = 100, n: int = 3) -> pl.DataFrame:
    """Top and bottom ``n`` campaigns by reply rate, among those with enough leads contacted.

    ``versus_all`` says whether the campaign's interval lies above or below the pooled reply
    rate of the ranked campaigns, or overlaps it (then the ranking may be luck).
    """
    ranked = table.filter((pl.col("contacted") >= min_contacted) & pl.col("reply_rate")
                          .is_not_null()).sort("reply_rate", descending=True)
    pooled = float(ranked["replied"].sum()) / max(float(ranked["contacted"].sum()), 1.0)
    best = ranked.head(n).with_columns(pl.lit("best").alias("rank"))
    worst = ranked.tail(min(n, max(ranked.height - n, 0))).reverse() \
        .with_columns(pl.lit("worst").alias("rank"))
    versus = (pl.when(pl.col("reply_rate_low") > pooled).then(pl.lit("above all campaigns"))
              .when(pl.col("reply_rate_high") < pooled).then(pl.lit("below all campaigns"))
              .otherwise(pl.lit("not clearly different")))
    cols = ["rank", "campaign", "status", "contacted", "replied", "reply_rate",
            "reply_rate_low", "reply_rate_high"]
    return pl.concat([best.select(cols), worst.select(cols)]).with_columns(
        versus.alias("versus_all"))


def campaign_daily(scope: Scope) -> pl.DataFrame:
    """``campaigns.analytics_daily`` of the selection, summed per date (all campaigns: one call)."""
    if not scope.campaign_ids:
        return scope.client.campaigns.analytics_daily(**scope.dates)
    per = scope.client.campaigns.analytics_daily(campaign_id=scope.campaign_ids, **scope.dates)
    numeric = [c for c, t in per.schema.items() if t.is_numeric()]
    return per.group_by("date").agg(pl.col(numeric).sum()).sort("date")


def trend_table(trend: pl.DataFrame) -> pl.DataFrame:
    """Period, metric, counts, rate with interval and the change from the previous period."""
    label = pl.col("metric").replace_strict({k: v.label for k, v in RATES.items()},
                                            default=pl.col("metric"))
    return trend.select(
        "period", pl.col("days").alias("days_with_data"), label.alias("metric"),
        pl.col("numerator").cast(pl.Int64), pl.col("denominator").cast(pl.Int64), "rate",
        pl.col("ci_low").alias("rate_low"), pl.col("ci_high").alias("rate_high"),
        pl.col("change_abs").alias("change_rate"), pl.col("change_p").alias("change_p_value"),
    )


# -- A/B tests -------------------------------------------------------------------------------
def step_analytics(scope: Scope) -> pl.DataFrame:
    """``campaigns.analytics_steps`` of every campaign in scope, with a ``campaign`` name column.

    The id column is dropped so that ``metrics.step_variants(..., by="campaign")`` compares
    variants within each campaign.
    """
    ids = scope.ids
    if not ids:
        return scope.client.campaigns.analytics_steps(**scope.dates).with_columns(
            pl.lit(None, dtype=pl.String).alias("campaign")).select("campaign", pl.all()
                                                                    .exclude("campaign"))
    steps = scope.client.campaigns.analytics_steps(campaign_id=ids, **scope.dates,
                                                   include_opportunities_count=True)
    return scope.with_names(steps).drop("campaign_id")


def ab_note(scheduled: bool, *, metric: str = "reply", alpha: float = 0.05) -> Any:
    """How the verdicts were reached, in one Markdown paragraph."""
    rdef = RATES[metric]
    text = (f"Each variant is compared with variant A of the same step on **{rdef.label.lower()}**"
            f" ({md_escape(rdef.definition('sent'))}). Verdicts use p-values adjusted for the "
            f"number of variants (Holm) at a {alpha:g} significance level; *sends needed* is "
            "the sends per variant for an 80% chance to detect the lift seen so far.")
    if scheduled:
        text += ("\n\n**Scheduled run: sequential testing.** Because this report is re-run on "
                 "a schedule, the p-values are always-valid sequential (mSPRT) p-values: "
                 "looking at the results every week does not inflate the chance of a false "
                 "winner. They are more cautious than a one-off test.")
    return markdown(text + (f"\n\n*{md_escape(rdef.caveat)}*" if rdef.caveat else ""))


def tested(ab: pl.DataFrame) -> pl.DataFrame:
    """Rows of the (campaign, step) pairs that compare two or more variants with sends."""
    keys = [c for c in ("campaign", "step") if c in ab.columns]
    real = ab.filter(pl.col("step").is_not_null() & pl.col("variant").is_not_null()
                     & (pl.col("sends") > 0))
    return real.filter(pl.len().over(keys) >= 2)


def ab_summary(ab: pl.DataFrame) -> Any:
    """Counts of verdicts, then one line per winner and loser."""
    rows = tested(ab).filter(~pl.col("is_control"))
    if rows.is_empty():
        return markdown("No step of the selected campaigns has two variants with sends in "
                         "this window, so there is nothing to compare yet.")
    counts = rows["verdict"].value_counts(sort=True)
    lines = [", ".join(f"**{c}** {v}" for v, c in counts.iter_rows()) + " (variants vs A)."]
    for r in rows.filter(pl.col("verdict").is_in(["winner", "loser"])).iter_rows(named=True):
        word = "beats" if r["verdict"] == "winner" else "trails"
        lines.append(f"- {md_escape(r.get('campaign') or '')}, step {r['step']}: variant "
                     f"{r['variant_label']} {word} A ({r['rate']:.1%} vs {r['control_rate']:.1%}"
                     f", adjusted p = {r['p_adjusted']:.3g}).")
    return markdown("\n".join(lines))


def verdict_table(ab: pl.DataFrame) -> pl.DataFrame:
    """One row per variant compared with its control: rates, lift, p-values, verdict, sends."""
    keys = [c for c in ("campaign",) if c in ab.columns]
    return tested(ab).select(
        *keys, "step", pl.col("variant_label").alias("variant"), "sends",
        "successes", pl.col("rate").alias("variant_rate"),
        pl.col("ci_low").alias("variant_rate_low"), pl.col("ci_high").alias("variant_rate_high"),
        pl.col("control_rate"), pl.col("lift_abs").alias("lift_rate"), "p_adjusted",
        pl.col("prob_best").alias("prob_best_rate"), "verdict", "sends_needed",
        "more_sends_needed", "reason",
    )


def sends_needed(ab: pl.DataFrame) -> pl.DataFrame:
    """Unsettled comparisons: how many more sends each variant needs before a verdict is likely.

    ``target_rate`` is the lift the figure is sized for (the one seen so far, or ``min_lift``).
    """
    keys = [c for c in ("campaign",) if c in ab.columns]
    open_ = tested(ab).filter(~pl.col("is_control") & pl.col("verdict").is_in(
        ["not enough data", "no significant difference"]))
    return open_.select(
        *keys, "step", pl.col("variant_label").alias("variant"), "sends", "verdict",
        pl.col("target_lift").alias("target_rate"), "sends_needed", "more_sends_needed",
    ).sort("more_sends_needed", nulls_last=True)
