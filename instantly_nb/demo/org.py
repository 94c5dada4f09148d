"""Organisation records of the demo workspace: the workspace itself, members, group members,
API keys, billing, audit logs, background jobs, DFY orders and CRM phone numbers.

API keys are listed with a masked, obviously fake ``key``; no secret is ever generated.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .ids import DAY_MS, iso_ms, uid_at
from .model import Plan

__all__ = ["OrgData", "build_org"]

ROLES = ("owner", "admin", "editor", "view", "editor")
MEMBER_NAMES = (("Dana", "Ortiz"), ("Lee", "Morgan"), ("Priya", "Shah"), ("Tom", "Becker"),
                ("Ana", "Lima"))
AUDIT_TYPES = (1, 1, 1, 4, 5, 6, 8, 9, 9, 11, 12, 18, 19, 34, 36, 37)
USER_AGENTS = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5)", "instantly-nb/0.1 (demo)",
               "python-httpx/0.27")


class OrgData:
    """The organisation-level collections (lists of API records) of one workspace."""

    def __init__(self) -> None:
        self.workspace: dict[str, Any] = {}
        self.members: list[dict[str, Any]] = []
        self.group_members: list[dict[str, Any]] = []
        self.api_keys: list[dict[str, Any]] = []
        self.audit_logs: list[dict[str, Any]] = []
        self.jobs: list[dict[str, Any]] = []
        self.dfy_orders: list[dict[str, Any]] = []
        self.dfy_accounts: list[dict[str, Any]] = []
        self.phone_numbers: list[dict[str, Any]] = []
        self.owner_id = ""
        self.plan_details: dict[str, Any] = {}
        self.subscriptions: dict[str, Any] = {}


def _members(plan: Plan, org: OrgData, name: str) -> None:
    for i, (role, (first, last)) in enumerate(zip(ROLES, MEMBER_NAMES, strict=True)):
        created = plan.ms(-300 + 40 * i, 10)
        user = uid_at(created, plan.seed, "user", i)
        if i == 0:
            org.owner_id = user
        email = f"{first.lower()}@{name}-workspace.example"
        org.members.append({
            "id": uid_at(created + 1, plan.seed, "member", i), "email": email, "user_id": user,
            "user_email": email, "nickname": first, "name": {"first": first, "last": last},
            "role": role, "timestamp_created": iso_ms(created), "workspace_id": plan.org_id,
            "accepted": i != 4, "issuer_id": None if i == 0 else org.owner_id,
            "permissions": ["dashboard.view", "campaigns.view", "analytics.view"]
            if role in ("view", "editor") else None,
        })


def _group_members(plan: Plan, org: OrgData, name: str) -> None:
    for i, status in enumerate(("accepted", "accepted", "pending")):
        created = plan.ms(-200 + 30 * i, 12)
        org.group_members.append({
            "id": uid_at(created, plan.seed, "group-member", i), "admin_workspace_id": plan.org_id,
            "sub_workspace_id": uid_at(created - 5000, plan.seed, "sub-workspace", i),
            "status": status, "timestamp_created": iso_ms(created),
            "timestamp_updated": iso_ms(created + 3 * DAY_MS),
            "sub_workspace_name": f"{name.title()} client {i + 1}",
            "admin_workspace_name": org.workspace["name"],
        })


def _api_keys(plan: Plan, org: OrgData) -> None:
    for i, (label, scopes) in enumerate((("Notebook (read only)", ["all:read"]),
                                         ("Reporting job", ["campaigns:read", "accounts:read"]),
                                         ("Old integration", ["all:all"]))):
        created = plan.ms(-90 + 35 * i, 16)
        org.api_keys.append({
            "id": uid_at(created, plan.seed, "api-key", i), "name": label, "scopes": scopes,
            "key": f"demo-masked-key-{i + 1:04d}", "organization_id": plan.org_id,
            "timestamp_created": iso_ms(created), "timestamp_updated": iso_ms(created),
        })


def _audit_logs(plan: Plan, org: OrgData, campaign_ids: list[str]) -> None:
    rng = np.random.default_rng([plan.seed, 7])
    n = max(300, len(campaign_ids) * 120)
    times = np.sort(rng.integers(plan.ms(0), plan.ms(plan.days), size=n))
    times = np.maximum.accumulate(times - np.arange(n)) + np.arange(n)
    for i, ms in enumerate(times):
        kind = int(AUDIT_TYPES[int(rng.integers(0, len(AUDIT_TYPES)))])
        member = org.members[int(rng.integers(0, 4))]
        from_api = kind in (9, 34, 37) or rng.random() < 0.2
        campaign = campaign_ids[int(rng.integers(0, len(campaign_ids)))] if kind in (
            4, 5, 11, 9) else None
        org.audit_logs.append({
            "id": uid_at(int(ms), plan.seed, "audit", i), "timestamp": iso_ms(int(ms)),
            "organization_id": plan.org_id, "activity_type": kind,
            "user_agent": USER_AGENTS[2 if from_api else 0], "user_id": member["user_id"],
            "ip_address": f"198.51.100.{int(rng.integers(1, 255))}", "from_api": bool(from_api),
            "api_key_id": org.api_keys[0]["id"] if from_api else None,
            "affected_count": int(rng.integers(1, 500)) if kind in (8, 9, 34) else None,
            "campaign_id": campaign, "webhook_id": None, "subsequence_id": None, "list_id": None,
            "audit_metadata": {}, "user_name": f"{member['name']['first']} "
                                               f"{member['name']['last']}",
        })


def _jobs(plan: Plan, org: OrgData, campaign_ids: list[str], list_ids: list[str]) -> None:
    rng = np.random.default_rng([plan.seed, 8])
    kinds = (("import-leads", "list"), ("export-leads", "campaign"), ("move-leads", "campaign"),
             ("update-warmup-accounts", "workspace"), ("rename-variable", "campaign"))
    statuses = ("success",) * 6 + ("failed", "in-progress", "pending", "cancelled")
    for i in range(24):
        created = plan.ms(int(rng.integers(0, plan.days)), float(rng.uniform(7, 19)))
        kind, entity = kinds[i % len(kinds)]
        status = statuses[int(rng.integers(0, len(statuses)))] if i > 2 else "success"
        target = {"list": list_ids, "campaign": campaign_ids}.get(entity)
        org.jobs.append({
            "id": f"{uid_at(created, plan.seed, 'job', i).replace('-', '')[:24]}",
            "workspace_id": plan.org_id, "user_id": org.owner_id, "type": kind,
            "entity_id": target[i % len(target)] if target else plan.org_id,
            "entity_type": entity, "data": {"moved_lead_emails": []} if kind == "move-leads"
            else {}, "progress": 100 if status == "success" else int(rng.integers(0, 100)),
            "status": status, "created_at": iso_ms(created),
            "updated_at": iso_ms(created + int(rng.integers(10_000, 900_000))),
        })
    org.jobs.sort(key=lambda j: j["created_at"])


def _dfy(plan: Plan, org: OrgData, name: str) -> None:
    for i, (domain, warmed) in enumerate(((f"try{name}hq.example", True),
                                          (f"get{name}team.example", False),
                                          (f"{name}-outbound.example", True))):
        created = plan.ms(-60 + 20 * i, 11)
        org.dfy_orders.append({
            "workspace_id": plan.org_id, "domain": domain, "forwarding_domain": None,
            "forwarding_mode": None, "is_pre_warmed_up": warmed,
            "timestamp_cancelled": iso_ms(created + 40 * DAY_MS) if i == 1 else None,
            "timestamp_created": iso_ms(created),
        })
        for k, (first, last) in enumerate((("Jordan", "Blake"), ("Sasha", "Cole"))):
            org.dfy_accounts.append({
                "id": uid_at(created + k + 1, plan.seed, "dfy-account", 2 * i + k),
                "domain": domain, "email": f"{first.lower()}@{domain}",
                "email_provider": 1 + (i % 3), "first_name": first, "last_name": last,
                "is_pre_warmed_up": warmed,
                "timestamp_cancelled": iso_ms(created + 40 * DAY_MS) if i == 1 else "",
                "timestamp_created": iso_ms(created + k + 1),
            })


def _billing(plan: Plan, org: OrgData) -> None:
    period_end = int(plan.ms(plan.days + 20) // 1000)
    org.plan_details = {
        "organization_id": plan.org_id, "organization_name": org.workspace["name"],
        "subscriptions": {"outreach": {
            "plan_name": "Hypergrowth", "addons_qty": 1, "total_lead_limit": 125_000,
            "current_lead_count": 0, "base_lead_limit": 100_000, "interval": "month",
            "current_period_end": period_end, "cancel_at_time": None, "price_in_dollars": 97,
            "product_id": "pid_hg_v1"}},
        "addons": {"outreach": {
            "product_id": "pid_addon_25kl_v1", "unit_lead_limit": 25_000, "existing_quantity": 1,
            "max_quantity": 20, "interval": "month", "can_purchase": True,
            "purchase_blocked_reason": None, "annual_discount_percent": 20,
            "monthly_pricing_tiers": [{"from_quantity": 1, "to_quantity": None,
                                       "price_in_dollars": 30}]}},
    }
    org.subscriptions = {"subscriptions": [
        {"workspace_id": plan.org_id, "interval": "month", "quantity": 1,
         "product_id": "pid_hg_v1", "product_type": "prt_outreach", "plan_type": "plt_primary",
         "current_period_end": period_end, "cancel_at_time": None, "price_in_dollars": 97,
         "price_id": "price_demo_hypergrowth"},
        {"workspace_id": plan.org_id, "interval": "month", "quantity": 1,
         "product_id": "pid_addon_25kl_v1", "product_type": "prt_outreach",
         "plan_type": "plt_addon", "current_period_end": period_end, "cancel_at_time": None,
         "price_in_dollars": 30, "price_id": "price_demo_addon"},
    ], "all_subs_cancelled": False}


def build_org(plan: Plan, name: str, campaign_ids: list[str], list_ids: list[str]) -> OrgData:
    """Every organisation-level collection of one workspace."""
    org = OrgData()
    created = plan.ms(-400, 9)
    _members(plan, org, name)
    org.workspace = {
        "id": plan.org_id, "timestamp_created": iso_ms(created),
        "timestamp_updated": iso_ms(plan.ms(plan.days - 3, 9)), "scheduled_for_removal_at": None,
        "owner": org.owner_id, "name": "Demo Workspace" if name == "demo" else f"{name.title()} Demo Workspace",
        "plan_id": "pid_hg_v1", "plan_id_bundle": None, "add_unsub_to_block": True,
        "default_opportunity_value": 1000, "plan_id_leadfinder": None,
        "plan_id_verification": {"quantity": 1, "product_id": "pid_verify_v1_monthly",
                                 "timestamp_updated": iso_ms(created)},
        "org_logo_url": None, "org_client_domain": None, "plan_id_crm": None,
        "plan_id_website_visitor": None, "plan_id_inbox_placement": "pid_ip_g",
    }
    _group_members(plan, org, name)
    _api_keys(plan, org)
    _audit_logs(plan, org, campaign_ids)
    _jobs(plan, org, campaign_ids, list_ids)
    _dfy(plan, org, name)
    _billing(plan, org)
    for i, (number, country, locality) in enumerate((("+15555550142", "US", "Austin"),
                                                     ("+445555550177", "GB", "London"))):
        made = plan.ms(-30 + 10 * i, 14)
        org.phone_numbers.append({
            "id": uid_at(made, plan.seed, "phone", i), "timestamp_created": iso_ms(made),
            "organization_id": plan.org_id, "phone_number": number, "country": country,
            "locality": locality, "subscription_id": f"sub_demo_{i + 1}",
            "twilio_sid": f"PN_demo_{i + 1:04d}",
            "renewal_date": iso_ms(plan.ms(plan.days + 10 + i))[:10], "price": 1.15,
        })
    return org
