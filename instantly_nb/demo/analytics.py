"""Analytics answers computed from the sends table for any date window and selection.

Each function takes the sends rows already narrowed to the selected campaigns (or accounts),
and a window ``(a, b)`` of history day indexes (inclusive). Every metric is counted on the day
it happened (opens on ``open_day``, replies on ``reply_day``...), so sums over days, over
steps x variants and over campaigns agree with the totals for the same window.

One meaning per field name, chosen so that every per-lead count is a subset of the new leads
contacted in the same window (``new_leads_contacted_count``, leads whose sequence started in
it), itself a subset of ``contacted_count`` (distinct leads sent to in the window):

* ``open_count`` = ``open_count_unique`` = new leads of the window who opened in it; the same
  holds for ``link_click_count_unique``, ``reply_count_unique`` and
  ``reply_count_automatic_unique`` (their first event per lead). Over a campaign's whole life
  these are simply the leads who opened (clicked, replied);
* ``*_unique_by_step`` count (lead, step) pairs on the day of the event;
* replies follow Instantly's analytics guide: ``reply_count``, ``reply_count_unique`` and the
  daily / step ``unique_replies`` count every replying lead, automatic replies included, and the
  ``*_automatic*`` fields count the automatic ones, so human replies = unique - automatic. A lead
  that sent an automatic reply sends no human reply (the generator keeps the two apart), so the
  subtraction is exact.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

__all__ = [
    "CAMPAIGN_FIELDS", "OVERVIEW_ONLY", "account_daily", "campaign_totals", "daily", "steps",
    "steps_by_campaign", "steps_of", "daily_of", "day_columns_of",
    "warmup_maps",
]

_Days = tuple[int, int]  # first and last day index, inclusive


def _in(col: str, w: _Days) -> pl.Expr:
    return (pl.col(col) >= w[0]) & (pl.col(col) <= w[1])


def _count(col: str, w: _Days) -> pl.Expr:
    return _in(col, w).sum().cast(pl.Int64)


def _leads(event: str, w: _Days) -> pl.Expr:
    """Distinct new leads of the window (sequence started in it) whose ``event`` falls in it."""
    return pl.col("lead").filter(_in(event, w) & pl.col("_contacted")).n_unique().cast(pl.Int64)


def _total_exprs(w: _Days) -> list[pl.Expr]:
    sent = _in("day", w)
    any_reply = _count("reply_day", w) + _count("auto_day", w)
    return [
        pl.col("lead").filter(sent).n_unique().cast(pl.Int64).alias("contacted_count"),
        sent.sum().cast(pl.Int64).alias("emails_sent_count"),
        (sent & pl.col("first")).sum().cast(pl.Int64).alias("new_leads_contacted_count"),
        _leads("open_day", w).alias("open_count"),
        _leads("open_day", w).alias("open_count_unique"),
        _count("open_day", w).alias("open_count_unique_by_step"),
        any_reply.alias("reply_count"),
        (_leads("reply_day", w) + _leads("auto_day", w)).alias("reply_count_unique"),
        any_reply.alias("reply_count_unique_by_step"),
        _count("auto_day", w).alias("reply_count_automatic"),
        _leads("auto_day", w).alias("reply_count_automatic_unique"),
        _count("auto_day", w).alias("reply_count_automatic_unique_by_step"),
        pl.col("clicks").filter(_in("click_day", w)).sum().cast(pl.Int64)
        .alias("link_click_count"),
        _leads("click_day", w).alias("link_click_count_unique"),
        _count("click_day", w).alias("link_click_count_unique_by_step"),
        (sent & pl.col("bounce")).sum().cast(pl.Int64).alias("bounced_count"),
        _count("unsub_day", w).alias("unsubscribed_count"),
        _count("complete_day", w).alias("completed_count"),
        _count("opp_day", w).alias("total_opportunities"),
        pl.col("value").filter(_in("opp_day", w)).sum().cast(pl.Float64)
        .alias("total_opportunity_value"),
        _count("opp_day", w).alias("total_interested"),
        _count("booked_day", w).alias("total_meeting_booked"),
        _count("done_day", w).alias("total_meeting_completed"),
        _count("won_day", w).alias("total_closed"),
    ]


# Fields of one campaign row of GET /campaigns/analytics, in answer order (after the
# identity columns campaign_name, campaign_id, campaign_status, campaign_is_evergreen).
CAMPAIGN_FIELDS = (
    "leads_count", "contacted_count", "emails_sent_count", "new_leads_contacted_count",
    "open_count", "open_count_unique", "open_count_unique_by_step", "reply_count",
    "reply_count_unique", "reply_count_unique_by_step", "reply_count_automatic",
    "reply_count_automatic_unique", "reply_count_automatic_unique_by_step", "link_click_count",
    "link_click_count_unique", "link_click_count_unique_by_step", "bounced_count",
    "unsubscribed_count", "completed_count", "total_opportunities", "total_opportunity_value",
)
OVERVIEW_ONLY = ("total_interested", "total_meeting_booked", "total_meeting_completed",
                 "total_closed")
OVERVIEW_FIELDS = (
    "open_count", "open_count_unique", "open_count_unique_by_step", "link_click_count",
    "link_click_count_unique", "link_click_count_unique_by_step", "reply_count",
    "reply_count_unique", "reply_count_unique_by_step", "reply_count_automatic",
    "reply_count_automatic_unique", "reply_count_automatic_unique_by_step", "bounced_count",
    "unsubscribed_count", "completed_count", "emails_sent_count", "contacted_count",
    "new_leads_contacted_count", "total_opportunities", "total_opportunity_value",
    *OVERVIEW_ONLY,
)


def campaign_totals(sends: pl.DataFrame, w: _Days) -> dict[int, dict[str, Any]]:
    """Campaign index -> totals over the window (campaigns without rows are absent)."""
    if sends.height == 0:
        return {}
    contacted = (_in("day", w) & pl.col("first")).any().over("c", "lead").alias("_contacted")
    table = sends.with_columns(contacted).group_by("c").agg(_total_exprs(w))
    return {int(row["c"]): row for row in table.iter_rows(named=True)}


def zero_totals() -> dict[str, Any]:
    out: dict[str, Any] = {name: 0 for name in OVERVIEW_FIELDS}
    out["total_opportunity_value"] = 0.0
    return out


def _bincount(values: np.ndarray, w: _Days, group: np.ndarray, groups: int,
              weights: np.ndarray | None = None) -> np.ndarray:
    """(groups, days of ``w``) counts of ``values`` (day indexes) per row group; rows whose
    group is < 0 or whose day is outside ``w`` are not counted."""
    days = w[1] - w[0] + 1
    keep = (values >= w[0]) & (values <= w[1]) & (group >= 0)
    cell = group[keep].astype(np.int64) * days + values[keep].astype(np.int64) - w[0]
    wt = None if weights is None else weights[keep].astype(np.float64)
    counts = np.bincount(cell, weights=wt, minlength=groups * days)
    return counts.astype(np.int64).reshape(groups, days)


DAILY_FIELDS = ("sent", "contacted", "new_leads_contacted", "opened", "unique_opened", "replies",
                "unique_replies", "replies_automatic", "unique_replies_automatic", "clicks",
                "unique_clicks", "opportunities", "unique_opportunities")


def _day_columns(sends: pl.DataFrame, w: _Days, group: np.ndarray | None = None,
                 groups: int = 1) -> dict[str, np.ndarray]:
    """Daily counts per row group (one group, all rows, when ``group`` is omitted)."""
    def a(name: str) -> np.ndarray:
        return sends[name].to_numpy()

    g = np.zeros(sends.height, dtype=np.int64) if group is None else group

    def count(values: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        return _bincount(values, w, g, groups, weights)

    day = a("day")
    sent = count(day)
    return {
        "sent": sent, "contacted": sent,
        "new_leads_contacted": count(np.where(a("first"), day, -1)),
        "opened": count(a("open_day"), a("opens")),
        "unique_opened": count(a("open_day")),
        "replies": count(a("reply_day"), a("replies")) + count(a("auto_day")),
        "unique_replies": count(a("reply_day")) + count(a("auto_day")),
        "replies_automatic": count(a("auto_day")),
        "unique_replies_automatic": count(a("auto_day")),
        "clicks": count(a("click_day"), a("clicks")),
        "unique_clicks": count(a("click_day")),
        "opportunities": count(a("opp_day")),
        "unique_opportunities": count(a("opp_day")),
        "bounced": count(np.where(a("bounce"), day, -1)),
    }


def daily(sends: pl.DataFrame, w: _Days, dates: list[str]) -> list[dict[str, Any]]:
    """One row per day of the window (``dates[i]`` names day ``w[0] + i``), zeros included."""
    return daily_of(_day_columns(sends, w), [0], w, dates)


def day_columns_of(sends: pl.DataFrame, w: _Days, group: np.ndarray,
                   groups: int) -> dict[str, np.ndarray]:
    """Daily counts of :data:`DAILY_FIELDS` per row group: (groups, days of ``w``) each."""
    cols = _day_columns(sends, w, group.astype(np.int64), groups)
    return {k: cols[k] for k in DAILY_FIELDS}


def daily_of(cols: dict[str, np.ndarray], chosen: list[int], w: _Days,
             dates: list[str]) -> list[dict[str, Any]]:
    """:func:`daily` of the rows of the ``chosen`` groups of ``cols`` (counts add up)."""
    summed = {k: cols[k][chosen].sum(axis=0).tolist() for k in DAILY_FIELDS}
    return [{"date": dates[i], **{k: summed[k][i] for k in DAILY_FIELDS}}
            for i in range(w[1] - w[0] + 1)]


ACCOUNT_FIELDS = ("sent", "bounced", "contacted", "new_leads_contacted", "opened",
                  "unique_opened", "replies", "unique_replies", "replies_automatic",
                  "unique_replies_automatic", "clicks", "unique_clicks")


def account_daily(sends: pl.DataFrame, w: _Days, dates: list[str],
                  emails: dict[int, str]) -> list[dict[str, Any]]:
    """One row per (account, day of the window) for the accounts in ``emails``."""
    if not emails:
        return []
    acct = sends["acct"].to_numpy().astype(np.int64)
    rank = np.full(max(int(acct.max(initial=0)), *emails) + 1, -1, dtype=np.int64)
    rank[list(emails)] = np.arange(len(emails))
    cols = _day_columns(sends, w, rank[acct], len(emails))
    out: list[dict[str, Any]] = []
    for n, email in enumerate(emails.values()):
        mine = {k: cols[k][n].tolist() for k in ACCOUNT_FIELDS}
        for i in range(w[1] - w[0] + 1):
            row: dict[str, Any] = {"date": dates[i], "email_account": email}
            row.update({k: mine[k][i] for k in ACCOUNT_FIELDS})
            out.append(row)
    return out


def _step_exprs(w: _Days) -> list[pl.Expr]:
    return [
        _count("day", w).alias("sent"),
        pl.col("opens").filter(_in("open_day", w)).sum().cast(pl.Int64).alias("opened"),
        _count("open_day", w).alias("unique_opened"),
        (pl.col("replies").filter(_in("reply_day", w)).sum().cast(pl.Int64)
         + _count("auto_day", w)).alias("replies"),
        (_count("reply_day", w) + _count("auto_day", w)).alias("unique_replies"),
        _count("auto_day", w).alias("replies_automatic"),
        _count("auto_day", w).alias("unique_replies_automatic"),
        pl.col("clicks").filter(_in("click_day", w)).sum().cast(pl.Int64).alias("clicks"),
        _count("click_day", w).alias("unique_clicks"),
        _count("opp_day", w).alias("opportunities"),
        _count("opp_day", w).alias("unique_opportunities"),
        _count("booked_day", w).alias("meetings_booked"),
        _count("won_day", w).alias("won"),
    ]


def steps(sends: pl.DataFrame, w: _Days, combos: list[tuple[int, int]],
          with_opportunities: bool) -> list[dict[str, Any]]:
    """One row per (step, variant) in ``combos`` (0-based), as strings ``"1"``/``"0"``."""
    table = sends.group_by("step", "var").agg(_step_exprs(w)) if sends.height else None
    found = {} if table is None else {
        (int(r["step"]), int(r["var"])): r for r in table.iter_rows(named=True)}
    return steps_of(found, w, combos, with_opportunities)


def steps_by_campaign(sends: pl.DataFrame, w: _Days) -> dict[int, dict[tuple[int, int], Any]]:
    """Campaign -> (step, variant) -> the figures :func:`steps` counts, in one grouped query."""
    out: dict[int, dict[tuple[int, int], Any]] = {}
    if sends.height:
        for r in sends.group_by("c", "step", "var").agg(_step_exprs(w)).iter_rows(named=True):
            out.setdefault(int(r["c"]), {})[(int(r["step"]), int(r["var"]))] = r
    return out


def steps_of(found: dict[tuple[int, int], Any], w: _Days, combos: list[tuple[int, int]],
             with_opportunities: bool) -> list[dict[str, Any]]:
    """:func:`steps` from the figures of each (step, variant) found."""
    names = [e.meta.output_name() for e in _step_exprs(w)]
    keep = names if with_opportunities else names[:9]
    out = []
    for s, v in combos:
        row = found.get((s, v), {})
        out.append({"step": str(s + 1), "variant": str(v),
                    **{k: int(row.get(k, 0) or 0) for k in keep}})
    return out


def warmup_maps(emails: list[str], rows: dict[str, tuple[np.ndarray, ...]],
                dates: list[str]) -> dict[str, Any]:
    """The two e-mail keyed maps of POST /accounts/warmup-analytics.

    ``rows[email]`` holds (sent, inbox, spam, received) arrays aligned with ``dates``. As in
    the documented example, ``landed_spam`` is left out where it is zero.
    """
    by_date: dict[str, Any] = {}
    aggregate: dict[str, Any] = {}
    for email in emails:
        sent, inbox, spam, received = rows[email]
        days: dict[str, Any] = {}
        for i, date in enumerate(dates):
            if sent[i] == 0 and received[i] == 0:
                continue
            entry: dict[str, int] = {"sent": int(sent[i]), "landed_inbox": int(inbox[i])}
            if spam[i]:
                entry["landed_spam"] = int(spam[i])
            entry["received"] = int(received[i])
            days[date] = entry
        by_date[email] = days
        tot_in, tot_spam = int(inbox.sum()), int(spam.sum())
        score = round(100 * tot_in / (tot_in + tot_spam)) if tot_in + tot_spam else 0
        agg: dict[str, Any] = {"sent": int(sent.sum()), "landed_inbox": tot_in}
        if tot_spam:
            agg["landed_spam"] = tot_spam
        agg["received"] = int(received.sum())
        agg["health_score_label"] = f"{score}%"
        agg["health_score"] = score
        aggregate[email] = agg
    return {"email_date_data": by_date, "aggregate_data": aggregate}
