"""Handlers of campaigns, campaign analytics and subsequences."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from . import analytics
from .lookup import by_id, campaign_of, day_window, require
from .protocol import ApiError, Call, page
from .registry import handles
from .workspace import Workspace

SENDING_STATUS = {0: "campaign_draft", 1: "healthy", 2: "campaign_paused",
                  3: "campaign_completed", 4: "campaign_running_subsequences",
                  -1: "campaign_accounts_unhealthy", -2: "campaign_bounce_protect",
                  -99: "campaign_account_suspended"}


def _tagged(ws: Workspace, tag_ids: list[str], resource_type: int) -> set[str]:
    wanted = set(tag_ids)
    return {m["resource_id"] for m in ws.tags.mappings
            if m["tag_id"] in wanted and m["resource_type"] == resource_type}


@handles("campaigns.list")
def campaigns_list(ws: Workspace, call: Call) -> dict[str, Any]:
    rows = ws.campaigns
    search = (call.text("search") or "").lower()
    if search:
        rows = [r for r in rows if search in r["name"].lower()]
    if call.has("status"):
        rows = [r for r in rows if r["status"] == call.integer("status")]
    if call.has("exclude_status"):
        rows = [r for r in rows if r["status"] != call.integer("exclude_status")]
    if call.has("tag_ids"):
        keep = _tagged(ws, call.array("tag_ids"), 2)
        rows = [r for r in rows if r["id"] in keep]
    if call.has("ai_sales_agent_id"):
        rows = [r for r in rows if r["ai_sdr_id"] == call.text("ai_sales_agent_id")]
    return page(call, rows)


@handles("campaigns.get")
def campaigns_get(ws: Workspace, call: Call) -> dict[str, Any]:
    return by_id(ws.campaigns, call.uuid("id"), "Campaign")


@handles("campaigns.search_by_contact")
def campaigns_search(ws: Workspace, call: Call) -> dict[str, Any]:
    search = call.text("search") or ""
    hits = ws.leads.find_email(search) if search else np.zeros(0, dtype=np.int64)
    wanted = {ws.campaign_ids[c] for c in ws.leads.campaign[hits] if c >= 0}
    rows = [r for r in ws.campaigns if r["id"] in wanted]
    column = call.text("sort_column") or "timestamp_created"
    if rows and column not in rows[0]:
        raise ApiError(400, f"sort_column {column!r} is not a campaign field")
    rows.sort(key=lambda r: str(r[column]), reverse=call.text("sort_order") == "desc")
    return {"items": rows}


def _selected(ws: Workspace, call: Call, omit_drafts: bool) -> list[int]:
    ids = [i for i in [call.uuid("id")] if i] + call.array("ids")
    if ids:
        chosen = [campaign_of(ws, i) for i in dict.fromkeys(ids)]
    else:
        chosen = [c.index for c in ws.plan.campaigns
                  if not (omit_drafts and c.status == 0)]
    if call.has("campaign_status"):
        status = call.integer("campaign_status")
        chosen = [i for i in chosen if ws.plan.campaigns[i].status == status]
    order = {cid: n for n, cid in enumerate(r["id"] for r in ws.campaigns)}
    return sorted(chosen, key=lambda i: order[ws.campaign_ids[i]])


def _totals(ws: Workspace, chosen: list[int], w: tuple[int, int] | None) -> dict[int, Any]:
    if w is None or not chosen:
        return {}
    # every campaign's totals (each one's own group), computed once per window
    every = ws.by_window.get(f"totals:{w}", lambda: analytics.campaign_totals(ws.main, w))
    return {i: every[i] for i in chosen if i in every}


@handles("campaigns.analytics")
def campaigns_analytics(ws: Workspace, call: Call) -> list[dict[str, Any]]:
    chosen = _selected(ws, call, omit_drafts=True)
    totals = _totals(ws, chosen, day_window(ws, call))
    skip_leads = call.flag("exclude_total_leads_count")
    rows = []
    for idx in chosen:
        camp = ws.plan.campaigns[idx]
        found = totals.get(idx) or analytics.zero_totals()
        row: dict[str, Any] = {
            "campaign_name": camp.name, "campaign_id": camp.id, "campaign_status": camp.status,
            "campaign_is_evergreen": camp.is_evergreen,
            "leads_count": 0 if skip_leads else ws.leads_in_campaign(idx),
        }
        row.update({k: found[k] for k in analytics.CAMPAIGN_FIELDS[1:]})
        rows.append(row)
    return rows


@handles("campaigns.analytics_overview")
def campaigns_overview(ws: Workspace, call: Call) -> dict[str, Any]:
    chosen = _selected(ws, call, omit_drafts=False)
    out = analytics.zero_totals()
    for found in _totals(ws, chosen, day_window(ws, call)).values():
        for k in analytics.OVERVIEW_FIELDS:
            out[k] += found[k]
    return {k: out[k] for k in analytics.OVERVIEW_FIELDS}


@handles("campaigns.analytics_daily")
def campaigns_daily(ws: Workspace, call: Call) -> list[dict[str, Any]]:
    cid = call.uuid("campaign_id")
    chosen = [campaign_of(ws, cid)] if cid else [c.index for c in ws.plan.campaigns]
    if call.has("campaign_status"):
        status = call.integer("campaign_status")
        chosen = [i for i in chosen if ws.plan.campaigns[i].status == status]
    w = day_window(ws, call)
    if w is None:
        return []
    # (campaign, day) counts of every campaign, computed once per window
    per_campaign = ws.by_window.get(f"daily:{w}", lambda: analytics.day_columns_of(
        ws.main, w, ws.main["c"].to_numpy(), len(ws.plan.campaigns)))
    return analytics.daily_of(per_campaign, chosen, w, ws.dates[w[0]:w[1] + 1])


def _combos(step_lists: list[list[Any]]) -> list[tuple[int, int]]:
    seen = {(s, v) for steps in step_lists for s, step in enumerate(steps)
            for v in range(len(step.multipliers))}
    return sorted(seen)


@handles("campaigns.analytics_steps")
def campaigns_steps(ws: Workspace, call: Call) -> list[dict[str, Any]]:
    cid = call.uuid("campaign_id")
    chosen = [campaign_of(ws, cid)] if cid else [c.index for c in ws.plan.campaigns]
    combos = _combos([ws.plan.campaigns[i].steps for i in chosen])
    with_opp = call.flag("include_opportunities_count")
    w = day_window(ws, call) or (1, 0)
    if cid is not None and w[0] <= w[1]:  # one campaign: its figures of every campaign's
        every = ws.by_window.get(f"steps:{w}", lambda: analytics.steps_by_campaign(ws.main, w))
        return analytics.steps_of(every.get(chosen[0], {}), w, combos, with_opp)
    rows = ws.main.filter(pl.col("c").is_in(chosen)) if w[0] <= w[1] else ws.main.clear()
    out = analytics.steps(rows, w, combos, with_opp)
    if cid is None:
        # leads outside any sequence step (e.g. list leads) are reported on a step-null row
        blank = analytics.steps(ws.main.clear(), w, [(0, 0)], with_opp)[0]
        out.append({**blank, "step": None, "variant": None})
    return out


@handles("campaigns.count_launched")
def campaigns_count_launched(ws: Workspace, call: Call) -> dict[str, Any]:
    return {"count": sum(1 for c in ws.plan.campaigns if c.status != 0)}


def _diagnostics(ws: Workspace, idx: int, sub_id: str | None, status: str) -> dict[str, Any]:
    camp = ws.plan.campaigns[idx]
    accts = [ws.plan.accounts[a] for a in camp.accounts]
    broken = sum(1 for a in accts if a.status < 0)
    today = ws.plan.days - 1
    sent_today = ws.main.filter((pl.col("c") == idx) & (pl.col("day") == today)).height
    stamp = ws.dates[-1] + "T06:30:00.000Z"
    diag: dict[str, Any] = {
        "campaign_id": camp.id, "last_updated": stamp, "status": status,
        "issue_tracking": {"current_status_code": None if status == "healthy" else status,
                           "issue_first_seen_at": None if status == "healthy" else stamp,
                           "consecutive_loops_with_issue": 0 if status == "healthy" else 12,
                           "last_healthy_send_at": stamp},
        "accounts_summary": {"total_connected": len(accts), "available": len(accts) - broken,
                             "unavailable": {"daily_limit_hit": 0, "slow_ramp_limit_hit": 0,
                                             "disconnected": broken, "global_gap_not_met": 0}},
        "campaign_daily_limit": {"limit": 400, "sent": sent_today, "limit_hit": False},
        "new_lead_limit": {"enabled": True, "limit": camp.per_day, "contacted": 0,
                           "limit_hit": False},
        "schedule_status": {"in_schedule": True},
        "send_one_by_one": {"enabled": False, "single_account_per_wait_gap": False},
        "follow_ups_waiting": {"count": 0, "earliest_wait_time_seconds": None},
        "esp_routing_status": {"enabled": False, "waiting_for_match": False,
                               "connected_esps": [1, 2]},
        "domain_limiter": {"active": False, "domains_at_limit": 0},
        "leads_status": {"no_leads_ready": status != "healthy", "account_unavailable_skips": 0,
                         "delay_not_met_skips": 0},
    }
    if sub_id:
        diag["subsequence_id"] = sub_id
    return {"diagnostics": diag, "summary": {
        "status": status, "status_message": status.replace("_", " "),
        "issue_started_at": None if status == "healthy" else stamp,
        "last_healthy_send_at": stamp,
        "ai_summary": "Sending normally." if status == "healthy" else None}}


@handles("campaigns.sending_status")
def campaigns_sending_status(ws: Workspace, call: Call) -> dict[str, Any]:
    idx = campaign_of(ws, call.uuid("id"))
    return _diagnostics(ws, idx, None, SENDING_STATUS[ws.plan.campaigns[idx].status])


@handles("subsequences.list")
def subsequences_list(ws: Workspace, call: Call) -> dict[str, Any]:
    rows = ws.subsequences
    if call.has("parent_campaign"):
        rows = [r for r in rows if r["parent_campaign"] == call.uuid("parent_campaign")]
    if call.has("parent_campaign_not"):
        rows = [r for r in rows if r["parent_campaign"] != call.uuid("parent_campaign_not")]
    search = (call.text("search") or "").lower()
    if search:
        rows = [r for r in rows if search in r["name"].lower()]
    return page(call, rows)


@handles("subsequences.get")
def subsequences_get(ws: Workspace, call: Call) -> dict[str, Any]:
    return by_id(ws.subsequences, call.uuid("id"), "Subsequence")


def _subsequence(ws: Workspace, call: Call) -> int:
    return int(require(ws.subsequence_index.get(call.uuid("id") or ""), "Subsequence"))


@handles("subsequences.analytics")
def subsequences_analytics(ws: Workspace, call: Call) -> list[dict[str, Any]]:
    idx = campaign_of(ws, call.uuid("campaign_id"))
    subs = [s for s in ws.plan.subsequences if s.campaign == idx]
    rows = ws.sends.filter(pl.col("sub").is_in([s.index for s in subs]))
    found = {int(r["sub"]): r for r in rows.group_by("sub").agg(
        pl.len().alias("sent"), (pl.col("open_day") >= 0).sum().alias("opens"),
        ((pl.col("reply_day") >= 0) | (pl.col("auto_day") >= 0)).sum().alias("replies"),
    ).iter_rows(named=True)}
    out = []
    for s in sorted(subs, key=lambda s: s.id):
        got = found.get(s.index, {})
        out.append({"subsequence_id": s.id, "emails_sent": int(got.get("sent", 0)),
                    "unique_opens": int(got.get("opens", 0)),
                    "unique_replies": int(got.get("replies", 0))})
    return out


@handles("subsequences.analytics_steps")
def subsequences_steps(ws: Workspace, call: Call) -> list[dict[str, Any]]:
    idx = _subsequence(ws, call)
    w = day_window(ws, call) or (1, 0)
    rows = ws.sends.filter(pl.col("sub") == idx) if w[0] <= w[1] else ws.sends.clear()
    return analytics.steps(rows, w, _combos([ws.plan.subsequences[idx].steps]), False)


@handles("subsequences.sending_status")
def subsequences_sending_status(ws: Workspace, call: Call) -> dict[str, Any]:
    idx = _subsequence(ws, call)
    sq = ws.plan.subsequences[idx]
    return _diagnostics(ws, sq.campaign, sq.id, SENDING_STATUS.get(sq.status, "healthy"))
