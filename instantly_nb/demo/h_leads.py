"""Handlers of leads, lead lists, Unibox emails, e-mail verification and SuperSearch."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

import numpy as np
import polars as pl

from .ids import COMPANY_WORDS, FIRST_NAMES, JOB_TITLES, LAST_NAMES
from .leads import Leads
from .listing import filter_key
from .lookup import by_id, campaign_of, require
from .protocol import ApiError, Call, Raw, page, parse_date, struct_page
from .registry import handles
from .workspace import Workspace


def _lead_filters(ld: Leads) -> dict[str, Any]:
    contacted = ld.last_day >= 0
    replied = ld.reply_day >= 0
    interest = {f"FILTER_LEAD_{k}": v for k, v in (
        ("INTERESTED", 1), ("MEETING_BOOKED", 2), ("MEETING_COMPLETED", 3), ("CLOSED", 4),
        ("OUT_OF_OFFICE", 0), ("NOT_INTERESTED", -1), ("WRONG_PERSON", -2), ("LOST", -3),
        ("NO_SHOW", -4))}
    out: dict[str, Any] = {k: lambda v=v: ld.interest == v for k, v in interest.items()}
    out.update({
        "FILTER_VAL_CONTACTED": lambda: contacted,
        "FILTER_VAL_NOT_CONTACTED": lambda: ~contacted,
        "FILTER_VAL_COMPLETED": lambda: ld.status == 3,
        "FILTER_VAL_UNSUBSCRIBED": lambda: ld.status == -2,
        "FILTER_VAL_ACTIVE": lambda: ld.status == 1,
        "FILTER_VAL_BOUNCED": lambda: ld.status == -1,
        "FILTER_VAL_SKIPPED": lambda: ld.status == -3,
        "FILTER_VAL_RISKY": lambda: ld.verification == -2,
        "FILTER_VAL_INVALID": lambda: ld.verification == -1,
        "FILTER_VAL_VALID": lambda: ld.verification == 1,
        "FILTER_VAL_IN_SUBSEQUENCE": lambda: ld.sub >= 0,
        "FILTER_VAL_OPENED_NO_REPLY": lambda: (ld.open_day >= 0) & ~replied,
        "FILTER_VAL_COMPLETED_NO_REPLY": lambda: (ld.status == 3) & ~replied,
        "FILTER_VAL_NO_OPENS": lambda: contacted & (ld.open_day < 0),
        "FILTER_VAL_REPLIED": lambda: replied,
        "FILTER_VAL_LINK_CLICKED": lambda: ld.click_day >= 0,
        "FILTER_LEAD_CUSTOM_LABEL_POSITIVE": lambda: np.zeros(ld.n, bool),
        "FILTER_LEAD_CUSTOM_LABEL_NEGATIVE": lambda: np.zeros(ld.n, bool),
    })
    return out


def _indexes(ws: Workspace, ids: list[str]) -> np.ndarray:
    found = [ws.leads.index_of(i) for i in ids]
    return np.array([i for i in found if i is not None], dtype=np.int64)


def _lead_mask(ws: Workspace, call: Call) -> np.ndarray:
    ld = ws.leads
    mask = np.ones(ld.n, dtype=bool)
    if call.has("campaign"):
        mask &= ld.campaign == campaign_of(ws, call.uuid("campaign"))
    if call.has("list_id"):
        mask &= ld.list == int(require(ws.list_index.get(call.uuid("list_id") or ""), "List"))
    for name, column in (("in_campaign", ld.campaign), ("in_list", ld.list)):
        if call.has(name):
            mask &= (column >= 0) == call.flag(name)
    if call.has("ids"):
        keep = np.zeros(ld.n, dtype=bool)
        keep[_indexes(ws, call.array("ids"))] = True
        mask &= keep
    if call.has("excluded_ids"):
        mask[_indexes(ws, call.array("excluded_ids"))] = False
    if call.has("contacts"):
        keep = np.zeros(ld.n, dtype=bool)
        for address in call.array("contacts"):
            keep[ld.find_email(address)] = True
        mask &= keep
    if call.text("search"):
        mask &= ld.matches(call.text("search") or "")
    if call.has("filter"):
        name = call.text("filter") or ""
        filters = _lead_filters(ld)
        if name not in filters:
            raise ApiError(400, f"filter must be one of {sorted(filters)}")
        mask &= filters[name]()
    if call.has("enrichment_status"):
        mask &= ld.enrichment == call.integer("enrichment_status")
    esg = call.text("esg_code")
    if esg not in (None, "all"):
        mask &= ld.esg == (0 if esg == "none" else int(esg or 0))
    if call.has("is_website_visitor"):
        mask &= ld.visitor == call.flag("is_website_visitor")
    return mask


@handles("leads.list")
def leads_list(ws: Workspace, call: Call) -> Raw:
    if call.has("queries"):  # refused rather than ignored: an unfiltered answer would mislead
        raise ApiError(400, "queries (smart-view filters) are not evaluated by the demo workspace")
    selected = ws.listings.get(filter_key(call), lambda: np.flatnonzero(_lead_mask(ws, call)))
    limit = call.limit()
    start = 0
    after = call.text("starting_after")
    if after:
        idx = ws.leads.index_of(after)
        if idx is None:
            raise ApiError(400, "starting_after is not the id of a lead of this workspace")
        start = idx + 1
    first = int(np.searchsorted(selected, start))
    hits = selected[first:first + limit + 1]
    chunk = hits[:limit]
    last = ws.leads.lead_id(int(chunk[-1])) if len(chunk) else None
    return struct_page(call, ws.lead_json.records(chunk), len(hits) > limit, last)


@handles("leads.get")
def leads_get(ws: Workspace, call: Call) -> dict[str, Any]:
    idx = require(ws.leads.index_of(call.uuid("id") or ""), "Lead")
    return ws.leads.record(idx, ws.lead_context)


@handles("lead_lists.list")
def lead_lists_list(ws: Workspace, call: Call) -> dict[str, Any]:
    rows = ws.lists
    if call.has("has_enrichment_task"):
        rows = [r for r in rows if r["has_enrichment_task"] == call.flag("has_enrichment_task")]
    search = (call.text("search") or "").lower()
    if search:
        rows = [r for r in rows if search in r["name"].lower()]
    return page(call, rows)


@handles("lead_lists.get")
def lead_lists_get(ws: Workspace, call: Call) -> dict[str, Any]:
    return by_id(ws.lists, call.uuid("id"), "List")


@handles("lead_lists.verification_stats")
def lead_lists_stats(ws: Workspace, call: Call) -> dict[str, Any]:
    idx = int(require(ws.list_index.get(call.uuid("id") or ""), "List"))
    codes = ws.leads.verification[ws.leads.list == idx]
    names = {"verified": 1, "invalid": -1, "risky": -2, "catch_all": -3, "job_change": -4,
             "verification_job_pending_leadfinder": 12, "verification_job_pending_user": 11}
    return {"stats": {k: int((codes == v).sum()) for k, v in names.items()},
            "total_leads": int(len(codes))}


def _email_rows(ws: Workspace, call: Call) -> pl.DataFrame:
    t = ws.unibox.table
    if call.has("campaign_id"):
        t = t.filter(pl.col("c") == campaign_of(ws, call.uuid("campaign_id")))
    if call.has("list_id"):
        require(ws.list_index.get(call.uuid("list_id") or ""), "List")
        t = t.clear()  # list leads are never emailed by a campaign
    if call.has("eaccount"):
        wanted = [ws.account_index.get(e.lower(), -1) for e in call.array("eaccount")]
        t = t.filter(pl.col("acct").is_in(wanted))
    kind = {"received": 2, "sent": 1, "manual": 3}.get(call.text("email_type") or "")
    if kind:
        t = t.filter(pl.col("kind") == kind)
    if call.has("is_unread"):
        t = t.filter(pl.col("unread") == call.flag("is_unread"))
    if call.has("i_status"):
        t = t.filter((pl.col("kind") == 2) & pl.col("lead").is_in(
            np.flatnonzero(ws.leads.interest == call.integer("i_status")).tolist()))
    mode = call.text("mode")
    if mode in ("emode_focused", "emode_others"):
        t = t.filter(pl.col("auto") == (mode == "emode_others"))
    for name in ("lead", "search"):
        text = call.text(name)
        if text and text.startswith("thread:"):
            thread = ws.unibox.thread_of(text[len("thread:"):])
            t = t.filter(pl.col("thread") == (-1 if thread is None else thread))
        elif text:
            t = t.filter(pl.col("lead").is_in(ws.leads.find_email(text).tolist()))
    if call.text("company_domain"):
        domain = (call.text("company_domain") or "").lower()
        t = t.filter(pl.col("lead").is_in([i for i in t["lead"].unique().to_list()
                                           if ws.leads.company_domain(i) == domain]))
    if call.flag("scheduled_only") or call.flag("has_reminder") or call.has("assigned_to"):
        t = t.clear()
    for name, op in (("min_timestamp_created", "ge"), ("max_timestamp_created", "le")):
        if call.has(name):
            ms = _ms(call.text(name) or "", name)
            t = t.filter(pl.col("ts") >= ms if op == "ge" else pl.col("ts") <= ms)
    if call.flag("latest_of_thread"):
        t = t.sort("ts").group_by("thread").last()
    return t.sort("ts", descending=(call.text("sort_order") or "desc") == "desc")


def _ms(text: str, name: str) -> int:
    day = parse_date(name, text)
    if len(text.strip()) == 10:
        moment = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
    else:
        moment = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        moment = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp() * 1000)


@handles("emails.list")
def emails_list(ws: Workspace, call: Call) -> Raw:
    positions, order = ws.listings.get(filter_key(call), lambda: _email_order(ws, call))
    limit = call.limit()
    start = 0
    after = call.text("starting_after")
    if after:
        pos = ws.unibox.position(after)
        if pos is None or order[pos] < 0:
            raise ApiError(400, "starting_after is not the id of an email of this listing")
        start = int(order[pos]) + 1
    chunk = positions[start:start + limit]
    last = ws.unibox.email_id(int(chunk[-1])) if len(chunk) else None
    return struct_page(call, ws.mail_json.records(chunk, call.flag("preview_only")),
                       start + limit < len(positions), last)


def _email_order(ws: Workspace, call: Call) -> tuple[np.ndarray, np.ndarray]:
    """(positions of the listed e-mails in listing order, listing rank of each position or
    -1 when it is not listed)."""
    positions = _email_rows(ws, call)["pos"].to_numpy().astype(np.int64)
    order = np.full(ws.unibox.table.height, -1, dtype=np.int64)
    order[positions] = np.arange(len(positions))
    return positions, order


@handles("emails.get")
def emails_get(ws: Workspace, call: Call) -> dict[str, Any]:
    pos = require(ws.unibox.position(call.uuid("id") or ""), "Email")
    return ws.unibox.record(pos, ws.account_emails, ws.campaign_ids, ws.subsequence_ids)


@handles("emails.unread_count")
def emails_unread(ws: Workspace, call: Call) -> dict[str, Any]:
    return {"count": ws.unibox.unread_count()}


def _digest(*parts: Any) -> int:
    text = json.dumps(parts, sort_keys=True, default=str)
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=4).digest(), "big")


@handles("email_verification.get")
def email_verification(ws: Workspace, call: Call) -> dict[str, Any]:
    email = call.text("email") or ""
    if "@" not in email or email.startswith("@") or email.endswith("@"):
        raise ApiError(400, "email must be a valid email address")
    hits = ws.leads.find_email(email)
    code = int(ws.leads.verification[hits[0]]) if len(hits) else (
        1 if _digest(email) % 5 else -1)
    status = {1: "verified", -1: "invalid", 11: "pending", 12: "pending"}.get(code, "verified")
    return {"status": "success", "email": email, "verification_status": status,
            "catch_all": code == -3, "credits": 2500, "credits_used": 1}


def _resource(ws: Workspace, call: Call) -> tuple[str, int, bool]:
    rid = call.uuid("resource_id") or ""
    if rid in ws.list_index:
        lst = ws.plan.lists[ws.list_index[rid]]
        return rid, 2, lst.has_enrichment_task
    if rid in ws.campaign_index:
        return rid, 1, ws.campaign_index[rid] % 4 == 0
    raise ApiError(404, "Resource not found")


@handles("supersearch.get")
def supersearch_get(ws: Workspace, call: Call) -> dict[str, Any]:
    rid, _, enriched = _resource(ws, call)
    return {"resource_id": rid, "in_progress": False, "has_no_leads": False,
            "exists": enriched,
            "enrichment_payload": {"work_email_enrichment": enriched,
                                   "email_verification": enriched, "limit": 1000},
            "auto_update": enriched, "is_evergreen": False, "search_filters": {}}


@handles("supersearch.ai_in_progress")
def supersearch_ai(ws: Workspace, call: Call) -> list[dict[str, Any]]:
    rid, kind, enriched = _resource(ws, call)
    if not enriched:
        return []
    return [{"id": f"ai-{rid[:8]}", "organization_id": ws.plan.org_id, "resource_id": rid,
             "resource_type": kind, "output_column": "ai_company_summary", "status": 1}]


@handles("supersearch.history")
def supersearch_history(ws: Workspace, call: Call) -> list[dict[str, Any]]:
    rid, _, enriched = _resource(ws, call)
    count = 130 if enriched else 0
    offset = max(0, call.integer("offset") or 0)
    limit = max(1, call.integer("limit") or 100)
    return [{"id": f"{rid[:8]}-{k:04d}", "timestamp_created": ws.dates[k % len(ws.dates)]
             + "T10:00:00.000Z", "type": "work_email_enrichment", "leads_enriched": 10 + k % 7,
             "credits_used": 10 + k % 7} for k in range(offset, min(count, offset + limit))]


@handles("supersearch.count_leads")
def supersearch_count(ws: Workspace, call: Call) -> dict[str, Any]:
    return {"number_of_leads": 500 + _digest(call.body.get("search_filters")) % 50_000}


@handles("supersearch.preview_leads")
def supersearch_preview(ws: Workspace, call: Call) -> dict[str, Any]:
    seed = _digest(call.body.get("search_filters"))
    leads = []
    for k in range(10):
        first, last = FIRST_NAMES[(seed + k) % len(FIRST_NAMES)], LAST_NAMES[
            (seed // 7 + 3 * k) % len(LAST_NAMES)]
        company = COMPANY_WORDS[(seed + 5 * k) % len(COMPANY_WORDS)]
        leads.append({"firstName": first, "lastName": last, "fullName": f"{first} {last}",
                      "jobTitle": JOB_TITLES[(seed + k) % len(JOB_TITLES)],
                      "location": "Austin, Texas", "linkedIn": "",
                      "companyName": company, "companyLogo": "", "companyId": str(seed % 9999 + k),
                      "isOwned": False})
    return {"number_of_leads": 500 + seed % 50_000, "number_of_redacted_results": 0,
            "leads": leads}


@handles("supersearch.signal_keywords")
def supersearch_keywords(ws: Workspace, call: Call) -> dict[str, Any]:
    prefix = (call.text("prefix") or "").lower()
    limit = call.integer("limit") or 20
    words = ["hiring", "funding", "expansion", "new office", "product launch", "partnership",
             "acquisition", "headcount growth", "new cto", "series a", "series b", "ipo"]
    hits = [w for w in words if w.startswith(prefix)][:limit]
    return {"keywords": [{"keyword": w, "count": 1000 - 60 * n} for n, w in enumerate(hits)]}
