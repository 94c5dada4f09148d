"""Example parameters for every endpoint, valid for a given demo workspace.

``example_params(workspace)`` maps each ENDPOINTS name to keyword arguments (parameter name ->
value, whatever the parameter's location) that the demo server answers with 200. Contract tests
walk it; so can anybody checking that a client covers every endpoint.
"""

from __future__ import annotations

from typing import Any

from ..endpoints import ENDPOINTS
from .workspace import Workspace

__all__ = ["example_params", "split_params"]


def example_params(ws: Workspace) -> dict[str, dict[str, Any]]:
    """Endpoint name -> parameters the demo server answers with 200 (and some data)."""
    camp = ws.campaigns[0]["id"]
    active = next(c.id for c in ws.plan.campaigns if c.start_day is not None)
    sub = ws.subsequences[0]["id"] if ws.subsequences else None
    sub_parent = next(s["parent_campaign"] for s in ws.subsequences) if sub else active
    enriched = next((lst.id for lst in ws.plan.lists if lst.has_enrichment_task), ws.list_ids[0])
    test = ws.placement.tests[0]["id"]
    lead_email = ws.leads.email(ws.plan.campaigns[0].lead_lo)
    account = ws.account_emails[0]
    out: dict[str, dict[str, Any]] = {
        "account_campaign_mappings.list": {"email": ws.account_emails[ws.plan.campaigns[0]
                                                                       .accounts[0]]},
        "accounts.get": {"email": account},
        "accounts.warmup_analytics": {"emails": ws.account_emails[:3]},
        "accounts.analytics_daily": {"emails": ws.account_emails[:3],
                                     "start_date": ws.dates[-14], "end_date": ws.dates[-1]},
        "accounts.ctd_status": {"host": f"track.{ws.plan.accounts[0].domain}"},
        "accounts.test_vitals": {"accounts": ws.account_emails[:4]},
        "background_jobs.get": {"id": ws.org.jobs[0]["id"]},
        "block_list_entries.get": {"id": ws.tags.blocklist[0]["id"]},
        "campaigns.get": {"id": camp},
        "campaigns.search_by_contact": {"search": lead_email},
        "campaigns.analytics_daily": {"campaign_id": active},
        "campaigns.analytics_steps": {"campaign_id": active},
        "campaigns.sending_status": {"id": active},
        "custom_tags.get": {"id": ws.tags.tags[0]["id"]},
        "dfy_orders.pre_warmed_domains": {"extensions": ["com"]},
        "emails.get": {"id": ws.unibox.email_id(0)},
        "email_verification.get": {"email": lead_email},
        "inbox_placement_analytics.list": {"test_id": test},
        "inbox_placement_analytics.get": {"id": ws.placement.records[0]["id"]},
        "inbox_placement_analytics.stats_by_test": {"test_ids": [t["id"] for t in
                                                                 ws.placement.tests]},
        "inbox_placement_analytics.deliverability_insights": {"test_id": test,
                                                              "show_previous": True},
        "inbox_placement_analytics.stats_by_date": {"test_id": test},
        "inbox_placement_reports.list": {"test_id": test},
        "inbox_placement_reports.get": {"id": ws.placement.reports[0]["id"]},
        "inbox_placement_tests.get": {"id": test, "with_metadata": True},
        "lead_labels.get": {"id": ws.tags.labels[0]["id"]},
        "lead_lists.get": {"id": ws.list_ids[0]},
        "lead_lists.verification_stats": {"id": ws.list_ids[0]},
        "leads.get": {"id": ws.leads.lead_id(ws.plan.campaigns[0].lead_lo)},
        "oauth.session_status": {"sessionId": "demo-session-ok"},
        "subsequences.analytics": {"campaign_id": sub_parent},
        "supersearch.get": {"resource_id": enriched},
        "supersearch.ai_in_progress": {"resource_id": enriched},
        "supersearch.history": {"resource_id": enriched},
        "supersearch.count_leads": {"search_filters": {"title": ["CEO"]}},
        "supersearch.preview_leads": {"search_filters": {"title": ["CEO"]}},
        "supersearch.signal_keywords": {"category": "news", "field": "keywords"},
        "webhooks.get": {"id": ws.tags.webhooks[0]["id"]},
        "webhook_events.get": {"id": ws.tags.events[0]["id"]},
        "workspace_group_members.get": {"id": ws.org.group_members[0]["id"]},
        "workspace_members.get": {"id": ws.org.members[0]["id"]},
    }
    if sub:
        for name in ("subsequences.get", "subsequences.analytics_steps",
                     "subsequences.sending_status"):
            out[name] = {"id": sub}
    return {name: out.get(name, {}) for name in ENDPOINTS}


def split_params(name: str, params: dict[str, Any]) -> tuple[str, dict[str, Any],
                                                              dict[str, Any]]:
    """(path with path parameters filled in, query parameters, JSON body) for a raw request."""
    endpoint = ENDPOINTS[name]
    path, query, body = endpoint.path, {}, {}
    for key, value in params.items():
        param = endpoint.param(key)
        where = param.location if param is not None else "query"
        if where == "path":
            path = path.replace("{" + key + "}", str(value))
        elif where == "body":
            body[key] = value
        else:
            query[key] = value
    return path, query, body
