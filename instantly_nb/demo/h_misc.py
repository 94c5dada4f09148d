"""Handlers of the organisation-level resources: workspace, members, keys, billing, audit
logs, background jobs, tags, labels, block list, webhooks, DFY orders, CRM and OAuth."""

from __future__ import annotations

import datetime as dt
from typing import Any

from .lookup import by_id
from .protocol import ApiError, Call, Raw, Text, ints_and_texts, page
from .registry import handles
from .workspace import Workspace


@handles("workspaces.current")
def workspace_current(ws: Workspace, call: Call) -> dict[str, Any]:
    return ws.org.workspace


@handles("workspaces.whitelabel_domain")
def workspace_whitelabel(ws: Workspace, call: Call) -> dict[str, Any]:
    return {"verified": False, "name": f"app.{ws.name}-agency.example", "verification": [
        {"type": "CNAME", "domain": f"app.{ws.name}-agency.example",
         "value": "whitelabel.example", "reason": "record not found yet"}]}


@handles("workspace_members.list")
def members_list(ws: Workspace, call: Call) -> dict[str, Any]:
    rows = ws.org.members
    if call.has("accepted"):
        rows = [r for r in rows if r["accepted"] == call.flag("accepted")]
    search = (call.text("search") or "").lower()
    if search:
        rows = [r for r in rows if search in r["email"] or search in r["nickname"].lower()]
    return page(call, rows)


@handles("workspace_members.get")
def members_get(ws: Workspace, call: Call) -> dict[str, Any]:
    return by_id(ws.org.members, call.uuid("id"), "Workspace member")


@handles("workspace_group_members.list")
def group_list(ws: Workspace, call: Call) -> dict[str, Any]:
    return page(call, ws.org.group_members)


@handles("workspace_group_members.get")
def group_get(ws: Workspace, call: Call) -> dict[str, Any]:
    return by_id(ws.org.group_members, call.uuid("id"), "Workspace group member")


@handles("workspace_group_members.admin")
def group_admin(ws: Workspace, call: Call) -> dict[str, Any]:
    return {"workspace_name": ws.org.workspace["name"], "has_admin_workspace": False}


@handles("workspace_billing.plan_details")
def billing_plan(ws: Workspace, call: Call) -> dict[str, Any]:
    details = dict(ws.org.plan_details)
    outreach = dict(details["subscriptions"]["outreach"], current_lead_count=ws.leads.n)
    details["subscriptions"] = {"outreach": outreach}
    return details


@handles("workspace_billing.subscription_details")
def billing_subscriptions(ws: Workspace, call: Call) -> dict[str, Any]:
    return ws.org.subscriptions


@handles("api_keys.list")
def api_keys(ws: Workspace, call: Call) -> dict[str, Any]:
    return page(call, ws.org.api_keys)


@handles("audit_logs.list")
def audit_logs(ws: Workspace, call: Call) -> Raw:
    rows = ws.org.audit_logs
    if call.has("activity_type"):
        rows = [r for r in rows if r["activity_type"] == call.integer("activity_type")]
    search = (call.text("search") or "").lower()
    if search:
        rows = [r for r in rows if search in (r["user_name"] or "").lower()
                or search in r["ip_address"]]
    a, b = call.window(dt.date.min, dt.date.max)
    if call.has("start_date") or call.has("end_date"):
        rows = [r for r in rows if a.isoformat() <= r["timestamp"][:10] <= b.isoformat()]
    return ints_and_texts(page(call, rows))  # texts, ints, booleans and None (org._audit_logs)


@handles("background_jobs.list")
def jobs_list(ws: Workspace, call: Call) -> dict[str, Any]:
    rows = list(ws.org.jobs)
    for name in ("ids", "included_ids"):
        if call.has(name):
            wanted = set(call.array(name))
            rows = [r for r in rows if r["id"] in wanted]
    if call.has("excluded_ids"):
        banned = set(call.array("excluded_ids"))
        rows = [r for r in rows if r["id"] not in banned]
    for name in ("type", "entity_type", "entity_id"):
        if call.has(name):
            rows = [r for r in rows if r[name] == call.text(name)]
    if call.has("status"):
        wanted = set(call.array("status"))
        rows = [r for r in rows if r["status"] in wanted]
    column = call.text("sort_column") or "created_at"
    rows.sort(key=lambda r: r[column], reverse=(call.text("sort_order") or "desc") == "desc")
    return page(call, rows)


@handles("background_jobs.get")
def jobs_get(ws: Workspace, call: Call) -> dict[str, Any]:
    job = by_id(ws.org.jobs, call.text("id"), "Background job")
    fields = call.array("data_fields")
    if fields:
        return {**job, "data": {k: v for k, v in job["data"].items() if k in fields}}
    return job


@handles("custom_tags.list")
def tags_list(ws: Workspace, call: Call) -> dict[str, Any]:
    rows = ws.tags.tags
    search = (call.text("search") or "").lower()
    if search:
        rows = [r for r in rows if search in r["label"].lower()]
    if call.has("tag_ids"):
        wanted = set(call.array("tag_ids"))
        rows = [r for r in rows if r["id"] in wanted]
    if call.has("resource_ids"):
        resources = set(call.array("resource_ids"))
        tagged = {m["tag_id"] for m in ws.tags.mappings if m["resource_id"] in resources}
        rows = [r for r in rows if r["id"] in tagged]
    return page(call, rows)


@handles("custom_tags.get")
def tags_get(ws: Workspace, call: Call) -> dict[str, Any]:
    return by_id(ws.tags.tags, call.uuid("id"), "Custom tag")


@handles("custom_tag_mappings.list")
def tag_mappings(ws: Workspace, call: Call) -> dict[str, Any]:
    rows = ws.tags.mappings
    if call.has("resource_ids"):
        wanted = set(call.array("resource_ids"))
        rows = [r for r in rows if r["resource_id"] in wanted]
    return page(call, rows)


@handles("lead_labels.list")
def labels_list(ws: Workspace, call: Call) -> dict[str, Any]:
    rows = ws.tags.labels
    search = (call.text("search") or "").lower()
    if search:
        rows = [r for r in rows if search in r["label"].lower()]
    if call.has("interest_status"):
        rows = [r for r in rows if r["interest_status_label"] == call.text("interest_status")]
    return page(call, rows)


@handles("lead_labels.get")
def labels_get(ws: Workspace, call: Call) -> dict[str, Any]:
    return by_id(ws.tags.labels, call.uuid("id"), "Lead label")


def _blocked(ws: Workspace, call: Call) -> list[dict[str, Any]]:
    rows = ws.tags.blocklist
    if call.flag("domains_only"):
        rows = [r for r in rows if r["is_domain"]]
    search = (call.text("search") or "").lower()
    if search:
        rows = [r for r in rows if search in r["bl_value"].lower()]
    return rows


@handles("block_list_entries.list")
def blocklist_list(ws: Workspace, call: Call) -> dict[str, Any]:
    return page(call, _blocked(ws, call))


@handles("block_list_entries.get")
def blocklist_get(ws: Workspace, call: Call) -> dict[str, Any]:
    return by_id(ws.tags.blocklist, call.uuid("id"), "Block list entry")


@handles("block_list_entries.download")
def blocklist_download(ws: Workspace, call: Call) -> Text:
    # the header and line ending of the spec's example: "Blocked Email,Date", CRLF
    lines = ["Blocked Email,Date"]
    lines += [f"{r['bl_value']},{r['timestamp_created']}" for r in _blocked(ws, call)]
    return Text("\r\n".join(lines) + "\r\n")


@handles("webhooks.list")
def webhooks_list(ws: Workspace, call: Call) -> dict[str, Any]:
    rows = ws.tags.webhooks
    if call.has("campaign"):
        rows = [r for r in rows if r["campaign"] == call.uuid("campaign")]
    if call.has("event_type"):
        rows = [r for r in rows if r["event_type"] == call.text("event_type")]
    return page(call, rows)


@handles("webhooks.get")
def webhooks_get(ws: Workspace, call: Call) -> dict[str, Any]:
    return by_id(ws.tags.webhooks, call.uuid("id"), "Webhook")


EVENT_TYPES = ("email_sent", "email_opened", "email_link_clicked", "reply_received",
               "email_bounced", "lead_unsubscribed", "campaign_completed", "account_error",
               "lead_interested", "lead_not_interested", "lead_meeting_booked",
               "lead_meeting_completed", "lead_closed")


@handles("webhooks.event_types")
def webhooks_event_types(ws: Workspace, call: Call) -> dict[str, Any]:
    return {"event_types": [{"id": e, "label": e.replace("_", " ").capitalize(),
                             "type": "lead" if e.startswith("lead") else "email"}
                            for e in EVENT_TYPES]}


def _events(ws: Workspace, call: Call) -> list[dict[str, Any]]:
    rows = ws.tags.events
    a, b = call.window(dt.date.min, dt.date.max, "from", "to")
    if call.has("from") or call.has("to"):
        lo, hi = a.isoformat(), b.isoformat()
        rows = [r for r in rows if lo <= r["timestamp_created_date"] <= hi]
    return rows


@handles("webhook_events.list")
def events_list(ws: Workspace, call: Call) -> Raw:
    rows = _events(ws, call)
    if call.has("success"):
        rows = [r for r in rows if r["success"] == call.flag("success")]
    search = (call.text("search") or "").lower()
    if search:
        rows = [r for r in rows if search in (r["lead_email"] or "")]
    return ints_and_texts(page(call, rows))  # texts, ints, booleans and None (tags._webhooks)


@handles("webhook_events.get")
def events_get(ws: Workspace, call: Call) -> dict[str, Any]:
    return by_id(ws.tags.events, call.uuid("id"), "Webhook event")


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    total = len(rows)
    ok = sum(1 for r in rows if r["success"])
    rate = round(100 * ok / total, 2) if total else 0
    return {"total_events": total, "successful_events": ok, "failed_events": total - ok,
            "success_rate": rate, "failure_rate": round(100 - rate, 2) if total else 0}


@handles("webhook_events.summary")
def events_summary(ws: Workspace, call: Call) -> dict[str, Any]:
    return _summary(_events(ws, call))


@handles("webhook_events.summary_by_date")
def events_by_date(ws: Workspace, call: Call) -> dict[str, Any]:
    days: dict[str, list[dict[str, Any]]] = {}
    for r in _events(ws, call):
        days.setdefault(r["timestamp_created_date"], []).append(r)
    items = []
    for date in sorted(days):
        summary = _summary(days[date])
        items.append({"date": date, **{k: summary[k] for k in (
            "total_events", "successful_events", "failed_events", "success_rate")}})
    return {"items": items}


@handles("dfy_orders.list")
def dfy_list(ws: Workspace, call: Call) -> dict[str, Any]:
    return page(call, ws.org.dfy_orders, key=lambda r: r["domain"])


@handles("dfy_orders.accounts")
def dfy_accounts(ws: Workspace, call: Call) -> dict[str, Any]:
    rows = ws.org.dfy_accounts
    if call.flag("with_passwords"):
        rows = [{**r, "password": "demo-password-not-real"} for r in rows]
    return page(call, rows)


@handles("dfy_orders.pre_warmed_domains")
def dfy_pre_warmed(ws: Workspace, call: Call) -> dict[str, Any]:
    extensions = call.array("extensions") or ["com", "org", "co"]
    search = (call.text("search") or "").lower()
    names = [f"{w.lower()}{s}" for w in ("reach", "pipeline", "outbound", "meet", "hello")
             for s in ("hq", "team", "mail")]
    domains = [f"{n}.{ext}" for n in names for ext in extensions if search in n]
    return {"domains": domains, "domains_with_type": [
        {"domain": d, "account_type": 1 + k % 3} for k, d in enumerate(domains)]}


@handles("crm_actions.phone_numbers")
def crm_phone_numbers(ws: Workspace, call: Call) -> list[dict[str, Any]]:
    return ws.org.phone_numbers


@handles("oauth.session_status")
def oauth_status(ws: Workspace, call: Call) -> dict[str, Any]:
    session = call.text("sessionId") or ""
    if not session.startswith("demo-session"):
        raise ApiError(404, "Session not found")
    if session.endswith("ok"):
        return {"status": "success", "email": "new.mailbox@getnorthwind.example",
                "name": "New Mailbox"}
    return {"status": "expired", "error": "session_expired",
            "error_description": "The connection session has expired; start a new one."}
