"""Leads and replies helpers: lead status and interest breakdowns, reply timing, lead lists."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

from ..report.periods import Window
from ..views.scope import Scope
from ._common import markdown
from .tour import Sample, fetch_pages

__all__ = [
    "EMAIL_PAGES",
    "breakdown",
    "breakdown_by_campaign",
    "interest_breakdown",
    "lead_list_table",
    "sample_emails",
    "sample_note",
    "scope_leads",
    "timing_table",
]

#: Pages of the e-mail listing sampled by default: the API serves 20 pages a minute, so a
#: budget below that never waits on the limit (100 e-mails a page).
EMAIL_PAGES = 15


def scope_leads(scope: Scope) -> pl.DataFrame:
    """Leads of the campaigns in scope (every lead in a campaign when none is selected).

    The ``campaign`` column holds the campaign's display name, ``campaign_id`` its id.
    """
    if scope.campaign_ids:
        leads = scope.client.leads.list(campaign=scope.campaign_ids)
    else:
        leads = scope.client.leads.list(in_campaign=True)
    return scope.with_names(leads.rename({"campaign": "campaign_id"}))


def _labels(column: str, missing: str) -> pl.Expr:
    return pl.col(column).cast(pl.String).fill_null(missing)


def _name(column: str) -> str:
    return column.removeprefix("lt_").removesuffix("_label")


def breakdown(leads: pl.DataFrame, column: str = "status_label", *,
              missing: str = "(none)") -> pl.DataFrame:
    """Leads per value of ``column`` with their share, most frequent first.

    The first column is named after ``column`` (``status_label`` -> ``status``).
    """
    total = max(leads.height, 1)
    name = _name(column)
    return (leads.group_by(_labels(column, missing).alias(name))
            .agg(pl.len().alias("leads"))
            .with_columns((pl.col("leads") / total).alias("share"))
            .sort(["leads", name], descending=[True, False]))


def breakdown_by_campaign(leads: pl.DataFrame, column: str = "status_label", *,
                          missing: str = "(none)") -> pl.DataFrame:
    """One row per campaign, one count column per value of ``column`` (most frequent first)."""
    order = breakdown(leads, column, missing=missing)[_name(column)].to_list()
    counts = (leads.group_by("campaign", _labels(column, missing).alias("value"))
              .agg(pl.len().alias("n")))
    wide = counts.pivot(on="value", index="campaign", values="n").fill_null(0)
    totals = leads.group_by("campaign").agg(pl.len().alias("leads"))
    return (totals.join(wide, on="campaign", how="left")
            .select("campaign", "leads", *[v for v in order if v in wide.columns])
            .sort("leads", descending=True))


def interest_breakdown(leads: pl.DataFrame, window: Window) -> pl.DataFrame:
    """Leads per interest status, and how many of them reached it inside the window."""
    missing = "No interest status yet"
    out = breakdown(leads, "lt_interest_status_label", missing=missing)
    changed_col = "timestamp_last_interest_change"
    if changed_col not in leads.columns:
        return out
    day = pl.col(changed_col).cast(pl.Datetime("us", "UTC"), strict=False).dt.date()
    name = _name("lt_interest_status_label")
    changed = (leads.filter(day.is_between(window.start, window.end))
               .group_by(_labels("lt_interest_status_label", missing).alias(name))
               .agg(pl.len().alias("changed_in_window")))
    return out.join(changed, on=name, how="left").with_columns(
        pl.col("changed_in_window").fill_null(0))


def sample_emails(scope: Scope, max_pages: int | None = EMAIL_PAGES) -> Sample:
    """The most recent e-mails of the window (newest first), at most ``max_pages`` pages.

    With a campaign selection each campaign gets an equal share of the budget (at least one
    page). ``max_pages=None`` fetches every e-mail of the window (slow: 20 pages a minute).
    """
    params: dict[str, Any] = {
        "sort_order": "desc",
        "min_timestamp_created": f"{scope.window.start.isoformat()}T00:00:00.000Z",
        "max_timestamp_created":
            f"{(scope.window.end + dt.timedelta(days=1)).isoformat()}T00:00:00.000Z",
    }
    if not scope.campaign_ids:
        return fetch_pages(scope.client, "emails.list", max_pages=max_pages, **params)
    share = None if max_pages is None else max(1, max_pages // len(scope.campaign_ids))
    parts = [fetch_pages(scope.client, "emails.list", max_pages=share, campaign_id=cid, **params)
             for cid in scope.campaign_ids]
    return Sample("emails.list", pl.concat([p.frame for p in parts], how="diagonal_relaxed"),
                  sum(p.pages for p in parts), any(p.more for p in parts))


def sample_note(sample: Sample) -> Any:
    """What the e-mail sample covers, in one Markdown paragraph."""
    text = (f"Reply timing is measured on **{sample.frame.height:,} e-mails** of the window "
            f"({sample.pages} page(s) of the e-mail listing). ")
    if sample.more:
        text += ("The listing was cut at the page budget (`email_pages`), so it holds the most "
                 "recent e-mails only; a reply whose send is older than the sample counts as "
                 "*unmatched* and has no delay.")
    else:
        text += "That is every e-mail of the window."
    return markdown(text)


def timing_table(timing: pl.DataFrame) -> pl.DataFrame:
    """One row per step: replies, unmatched replies and delay quantiles in hours."""
    keys = [c for c in timing.columns if c not in ("bucket",) and c in ("step", "campaign_id")]
    cols = ["replies", "unmatched_replies", "median_hours", "p25_hours", "p75_hours",
            "p90_hours"]
    if timing.is_empty():
        return timing.select(*keys, *cols)
    return timing.group_by(keys, maintain_order=True).agg(pl.col(cols).first()).sort(
        keys, nulls_last=True)


def lead_list_table(client: Any) -> pl.DataFrame:
    """Every lead list with its verification counts and the verified share."""
    lists = client.lead_lists.list()
    if lists.is_empty():
        return pl.DataFrame(schema={"list": pl.String, "total_leads": pl.Float64})
    stats = client.lead_lists.verification_stats(id=lists["id"].to_list())
    pending = [c for c in stats.columns if c.startswith("stats__verification_job_pending")]
    out = lists.select("id", pl.col("name").alias("list"), pl.col("timestamp_created")
                       .alias("created")).join(stats, left_on="id", right_on="list_id",
                                               how="left")
    return out.select(
        "list", "created", "total_leads",
        *[pl.col(f"stats__{k}").alias(k) for k in ("verified", "invalid", "risky",
                                                   "catch_all", "job_change")
          if f"stats__{k}" in out.columns],
        pl.sum_horizontal(pending).alias("pending") if pending else pl.lit(None).alias("pending"),
        pl.when(pl.col("total_leads") > 0)
        .then(pl.col("stats__verified") / pl.col("total_leads")).alias("verified_share"),
    ).sort("list")
