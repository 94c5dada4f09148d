"""Handlers of sending accounts: list/get, warmup and daily analytics, vitals, mappings."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from . import analytics
from .ids import iso_ms, uid_at
from .protocol import ApiError, Call, Raw, finish_page, ints_and_texts, page
from .registry import handles
from .workspace import Workspace

MAX_DAILY_EMAILS = 200  # GET /accounts/analytics/daily: more accounts -> 413
MAX_DAILY_DAYS = 31  # ... and a longer window -> 413
ACCOUNT_FILTERS = {
    "ACC_FILTER_PAUSED": lambda r: r["status"] == 2,
    "ACC_FILTER_ERROR": lambda r: r["status"] < 0,
    "ACC_FILTER_NO_CTD": lambda r: r["tracking_domain_name"] is None,
    "ACC_FILTER_W_ACTIVE": lambda r: r["warmup_status"] == 1,
    "ACC_FILTER_W_PAUSED": lambda r: r["warmup_status"] == 0,
    "ACC_FILTER_W_ERROR": lambda r: r["warmup_status"] < 0,
}


def _cursor(record: dict[str, Any]) -> str:
    return f"{record['timestamp_created']}&{record['email']}"


def _account(ws: Workspace, email: str | None) -> int:
    idx = ws.account_index.get((email or "").strip().lower())
    if idx is None:
        raise ApiError(404, "Account not found")
    return idx


def _tag_map(ws: Workspace) -> dict[str, list[dict[str, str]]]:
    labels = {t["id"]: t["label"] for t in ws.tags.tags}
    by_uuid: dict[str, list[dict[str, str]]] = {}
    for m in ws.tags.mappings:
        if m["resource_type"] == 1:
            by_uuid.setdefault(m["resource_id"], []).append(
                {"id": m["tag_id"], "label": labels[m["tag_id"]]})
    return by_uuid


def _account_uuid(ws: Workspace, idx: int) -> str:
    return uid_at(ws.plan.accounts[idx].created_ms, ws.seed, "account", idx)


@handles("accounts.list")
def accounts_list(ws: Workspace, call: Call) -> dict[str, Any]:
    rows: list[dict[str, Any]] = list(ws.accounts)
    search = (call.text("search") or "").lower()
    if search:
        rows = [r for r in rows if search in r["email"].lower()]
    for name in ("status", "provider_code"):
        if call.has(name):
            rows = [r for r in rows if r[name] == call.integer(name)]
    if call.text("filter") in ACCOUNT_FILTERS:
        rows = [r for r in rows if ACCOUNT_FILTERS[call.text("filter") or ""](r)]
    elif call.has("filter"):
        rows = []  # DFY / pre-warmed filters: the demo workspace has no such accounts
    tags = _tag_map(ws)
    uuids = {r["email"]: _account_uuid(ws, ws.account_index[r["email"].lower()]) for r in rows}
    for name, need_all in (("tag_ids", False), ("tag_ids_all", True)):
        if call.has(name):
            wanted = set(call.array(name))
            test = wanted.issubset if need_all else wanted.intersection
            rows = [r for r in rows
                    if test({t["id"] for t in tags.get(uuids[r["email"]], [])})]
    key = call.text("sort_by") or "timestamp_created"
    rows.sort(key=lambda r: (r[key] is not None, r[key] or 0, r["email"]),
              reverse=(call.text("sort_order") or "desc") == "desc")
    limit = call.limit()
    start = call.integer("skip") or 0
    after = call.text("starting_after")
    if after:
        keys = [_cursor(r) for r in rows]
        if after not in keys:
            raise ApiError(400, "starting_after does not match any account")
        start = keys.index(after) + 1
    chunk = rows[start:start + limit]
    if call.flag("include_tags"):
        chunk = [{**r, "tags": tags.get(uuids[r["email"]], [])} for r in chunk]
    return finish_page(call, chunk, start + limit < len(rows), _cursor)


@handles("accounts.get")
def accounts_get(ws: Workspace, call: Call) -> dict[str, Any]:
    return ws.accounts[_account(ws, call.text("email"))]


@handles("accounts.warmup_analytics")
def accounts_warmup(ws: Workspace, call: Call) -> Raw:
    emails = [e for e in dict.fromkeys(call.array("emails"))
              if e.strip().lower() in ws.account_index]
    rows = {e: ws.warmup_rows(ws.account_index[e.strip().lower()]) for e in emails}
    # maps of dates and addresses to int counts and a label (see ints_and_texts)
    return ints_and_texts(analytics.warmup_maps(emails, rows, ws.warmup_dates()))


@handles("accounts.analytics_daily")
def accounts_daily(ws: Workspace, call: Call) -> Raw:
    asked = list(dict.fromkeys(call.array("emails")))
    if len(asked) > MAX_DAILY_EMAILS or (not asked and len(ws.accounts) > MAX_DAILY_EMAILS):
        raise ApiError(413, f"Too many accounts: ask for at most {MAX_DAILY_EMAILS} at a time")
    a, b = call.window(ws.first_day, ws.today)  # 400 when start_date > end_date
    b = b if call.has("end_date") else ws.today
    a = a if call.has("start_date") else b - dt.timedelta(days=29)
    if (b - a).days + 1 > MAX_DAILY_DAYS:
        raise ApiError(413, f"Date range too large: at most {MAX_DAILY_DAYS} days per request")
    picked = {idx: ws.account_emails[idx] for idx in
              ([ws.account_index[e.lower()] for e in asked if e.lower() in ws.account_index]
               if asked else range(len(ws.accounts)))}
    lo, hi = max(0, ws.day_of(a)), min(ws.plan.days - 1, ws.day_of(b))
    if lo > hi:
        return ints_and_texts([])
    # rows of dates, addresses and counts (ints): written by msgspec (see ints_and_texts)
    return ints_and_texts(analytics.account_daily(ws.sends, (lo, hi), ws.dates[lo:hi + 1],
                                                  picked))


@handles("accounts.ctd_status")
def accounts_ctd(ws: Workspace, call: Call) -> dict[str, Any]:
    host = call.text("host") or ""
    known = any(r["tracking_domain_name"] == host for r in ws.accounts)
    return {"success": known, "ssl": known, "cname": known, "host": host}


def _vitals(domain: str, healthy: bool) -> dict[str, Any]:
    return {"domain": domain, "allPass": healthy, "mx": True, "spf": True, "dkim": True,
            "dmarc": healthy}


@handles("accounts.test_vitals")
def accounts_vitals(ws: Workspace, call: Call) -> dict[str, Any]:
    asked = call.array("accounts") or ws.account_emails
    ok: list[dict[str, Any]] = []
    bad: list[dict[str, Any]] = []
    for email in dict.fromkeys(asked):
        idx = ws.account_index.get(email.strip().lower())
        if idx is None:
            digest = hashlib.blake2b(email.encode(), digest_size=2).digest()[0]
            healthy = digest % 4 != 0
        else:
            healthy = ws.plan.accounts[idx].kind not in ("spam", "error")
        (ok if healthy else bad).append(_vitals(email.split("@")[-1], healthy))
    return {"status": "success", "success_list": ok, "failure_list": bad}


@handles("account_campaign_mappings.list")
def account_mappings(ws: Workspace, call: Call) -> dict[str, Any]:
    idx = _account(ws, call.text("email"))
    rows: list[dict[str, Any]] = [
            {"campaign_id": c.id, "campaign_name": c.name,
             "timestamp_created": iso_ms(c.created_ms + 60_000), "status": c.status}
            for c in ws.plan.campaigns if idx in c.accounts]
    rows.sort(key=lambda r: str(r["campaign_id"]))
    return page(call, rows, key=lambda r: r["campaign_id"])
