"""Campaigns, accounts, lead lists and subsequences of a plan as API records.

Only fields the official schemas declare are emitted (they forbid extra properties).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from .ids import day_date, iso_ms
from .model import AccountDef, CampaignDef, ListDef, Plan, StepDef, SubsequenceDef

__all__ = ["account_record", "campaign_record", "list_record", "subsequence_record"]

WEEKDAYS = {str(d): d not in (0, 6) for d in range(7)}


def _schedule(plan: Plan, start_day: int | None, timezone: str, end: dt.date | None = None
              ) -> dict[str, Any]:
    start = None if start_day is None else day_date(plan.first_day, start_day).isoformat()
    return {
        "start_date": start, "end_date": None if end is None else end.isoformat(),
        "schedules": [{"name": "Working hours", "timing": {"from": "08:00", "to": "17:30"},
                       "days": dict(WEEKDAYS), "timezone": timezone}],
    }


def _sequences(steps: list[StepDef]) -> list[dict[str, Any]]:
    out = []
    for s, step in enumerate(steps):
        wait = steps[s + 1].delay_days if s + 1 < len(steps) else 0
        out.append({
            "type": "email", "delay": wait, "delay_unit": "days",
            "variants": [{"subject": subject,
                          "body": f"Hi {{{{firstName}}}},\n\nVariant {chr(65 + v)} of step "
                                  f"{s + 1}.\n\n{{{{sendingAccountFirstName}}}}",
                          "v_disabled": False}
                         for v, subject in enumerate(step.subjects)],
        })
    return [{"steps": out}]


def campaign_record(plan: Plan, camp: CampaignDef, accounts: list[AccountDef],
                    owner_id: str) -> dict[str, Any]:
    """One ``Campaign``."""
    updated = camp.created_ms + 3_600_000
    if camp.start_day is not None:
        updated = plan.ms(min(camp.stop_day, plan.days - 1), 6.5)
    return {
        "id": camp.id, "name": camp.name, "pl_value": camp.opportunity_value,
        "status": camp.status, "is_evergreen": camp.is_evergreen,
        "campaign_schedule": _schedule(plan, camp.start_day, camp.timezone),
        "sequences": _sequences(camp.steps), "timestamp_created": iso_ms(camp.created_ms),
        "timestamp_updated": iso_ms(updated), "email_gap": 10, "random_wait_max": 5,
        "text_only": False, "first_email_text_only": False,
        "email_list": [accounts[a].email for a in camp.accounts], "daily_limit": 400,
        "stop_on_reply": True, "email_tag_list": [], "link_tracking": camp.link_tracking,
        "open_tracking": camp.open_tracking, "stop_on_auto_reply": False,
        "daily_max_leads": camp.per_day, "prioritize_new_leads": False,
        "auto_variant_select": {"trigger": "reply_rate"} if camp.index % 4 == 1 else None,
        "match_lead_esp": False, "stop_for_company": False,
        "core_variables": None, "custom_variables": None, "insert_unsubscribe_header": True,
        "allow_risky_contacts": False, "disable_bounce_protect": False,
        "limit_emails_per_company_override": None, "cc_list": [], "bcc_list": [],
        "organization": plan.org_id, "owned_by": owner_id, "ai_sdr_id": None,
        "provider_routing_rules": [],
    }


STATUS_MESSAGES = {
    -1: ("EAUTH", "AUTH", "535 5.7.8 Username and Password not accepted", 535),
    -2: ("EENVELOPE", "RCPT TO", "452 4.2.2 The email account is over quota", 452),
    -3: ("ESOCKET", "DATA", "421 4.7.0 Try again later, closing connection", 421),
}


def account_record(plan: Plan, acct: AccountDef, health: int) -> dict[str, Any]:
    """One ``Account``; ``health`` is its warmup score over the last 30 days."""
    out: dict[str, Any] = {
        "email": acct.email, "timestamp_created": iso_ms(acct.created_ms),
        "timestamp_updated": iso_ms(plan.ms(min(acct.trouble_day, plan.days - 1), 5)),
        "first_name": acct.first_name, "last_name": acct.last_name,
        "warmup": {"limit": 40, "advanced": {"warm_ctd": False, "open_rate": 0.95,
                                             "important_rate": 0.6, "read_emulation": True,
                                             "spam_save_rate": 0.02, "weekday_only": False},
                   "warmup_custom_ftag": "", "increment": "2", "reply_rate": 30},
        "added_by": None, "daily_limit": acct.daily_limit, "daily_limit_max": 100,
        "warmup_limit_max": 50, "modified_by": None,
        "tracking_domain_name": None if acct.index % 4 == 3 else f"track.{acct.domain}",
        "tracking_domain_status": None if acct.index % 4 == 3 else "active",
        "status": acct.status, "enable_slow_ramp": acct.index % 2 == 0,
        "inbox_placement_test_limit": 10, "organization": plan.org_id,
        "warmup_status": acct.warmup_status,
        "timestamp_warmup_start": iso_ms(plan.ms(acct.warmup_start_day, 9)),
        "provider_code": acct.provider_code, "setup_pending": False,
        "is_managed_account": False, "stat_warmup_score": health, "sending_gap": 10,
        "signature": f"{acct.first_name} {acct.last_name}", "reply_to": None,
        "autofix_failed": None,
    }
    code = STATUS_MESSAGES.get(acct.status)
    if code is None and acct.warmup_status < 0:
        code = ("EWARMUP", "WARMUP", "Warmup stopped: the provider flagged this mailbox", 550)
    if code is not None:
        out["status_message"] = {"code": code[0], "command": code[1], "response": code[2],
                                 "e_message": code[2], "responseCode": code[3]}
    return out


def list_record(plan: Plan, lst: ListDef, owner_id: str) -> dict[str, Any]:
    """One ``LeadList``."""
    return {"id": lst.id, "organization_id": plan.org_id,
            "has_enrichment_task": lst.has_enrichment_task, "owned_by": owner_id,
            "name": lst.name, "timestamp_created": iso_ms(lst.created_ms)}


def subsequence_record(plan: Plan, sq: SubsequenceDef, parent: CampaignDef) -> dict[str, Any]:
    """One ``CampaignSubsequence``."""
    return {
        "id": sq.id, "timestamp_created": iso_ms(sq.created_ms), "parent_campaign": parent.id,
        "workspace": plan.org_id, "status": sq.status,
        "timestamp_leads_updated": iso_ms(plan.ms(plan.days - 1, 4)), "name": sq.name,
        "conditions": {"crm_status": [], "lead_activity": list(sq.lead_activity),
                       "reply_contains": ""},
        "subsequence_schedule": _schedule(plan, sq.start_day, parent.timezone),
        "sequences": _sequences(sq.steps), "auto_variant_select": None,
        "daily_limit_mode": "inherit", "daily_limit": None, "ignore_account_daily_limit": False,
    }
