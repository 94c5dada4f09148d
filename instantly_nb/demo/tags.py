"""Custom tags and their mappings, lead labels, block-list entries, webhooks and the webhook
events they delivered.

Webhook events are drawn from the sends table (a reply event for each reply after the webhook
was created...), so their counts agree with the analytics.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from .ids import DAY_MS, day_date, iso_ms, uid_at
from .leads import Leads
from .model import Plan

__all__ = ["TagData", "build_tags"]

TAG_LABELS = ("Priority", "EU", "Warmup watch", "Q4 push", "Enterprise", "Agency", "Test",
              "Retired")
LEAD_LABELS = (("Hot lead", "positive"), ("Send pricing", "positive"), ("Call later", "neutral"),
               ("Referral given", "neutral"), ("Competitor user", "negative"),
               ("Do not contact", "negative"))
WEBHOOKS = (("Replies to CRM", "reply_received", "https://hooks.example/crm/replies", 1),
            ("Interested leads", "lead_interested", "https://hooks.example/slack/wins", 1),
            ("Bounce monitor", "email_bounced", "https://hooks.example/ops/bounces", 1),
            ("Legacy Zap", "all_events", "https://hooks.example/legacy/zap", -1))


class TagData:
    """Tag, label, block-list and webhook collections of one workspace."""

    def __init__(self) -> None:
        self.tags: list[dict[str, Any]] = []
        self.mappings: list[dict[str, Any]] = []
        self.labels: list[dict[str, Any]] = []
        self.blocklist: list[dict[str, Any]] = []
        self.webhooks: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []


def _tags(plan: Plan, data: TagData, campaign_ids: list[str], owner: str) -> None:
    for i, label in enumerate(TAG_LABELS):
        created = plan.ms(-50 + 3 * i, 10)
        data.tags.append({
            "id": uid_at(created, plan.seed, "tag", i), "timestamp_created": iso_ms(created),
            "timestamp_updated": iso_ms(created), "organization_id": plan.org_id,
            "label": label, "description": None if i % 3 else f"Demo tag {label.lower()}",
        })
    pairs: list[tuple[int, int, int]] = []  # (tag, resource_type, index)
    for c in range(len(campaign_ids)):
        pairs.append((c % 5, 2, c))
    watch = [a.index for a in plan.accounts if a.kind != "healthy"]
    pairs += [(2, 1, a) for a in watch]
    pairs += [(1, 1, a.index) for a in plan.accounts if a.index % 3 == 0]
    for k, (tag, rtype, idx) in enumerate(pairs):
        created = plan.ms(-40, 12) + k
        resource = campaign_ids[idx] if rtype == 2 else uid_at(
            plan.accounts[idx].created_ms, plan.seed, "account", idx)
        data.mappings.append({
            "id": uid_at(created, plan.seed, "tag-map", k), "tag_id": data.tags[tag]["id"],
            "resource_id": resource, "resource_type": rtype, "timestamp_created": iso_ms(created),
            "organization_id": plan.org_id,
        })
    for i, (label, mood) in enumerate(LEAD_LABELS):
        created = plan.ms(-70 + 5 * i, 9)
        data.labels.append({
            "id": uid_at(created, plan.seed, "label", i), "timestamp_created": iso_ms(created),
            "created_by": owner, "organization_id": plan.org_id, "label": label,
            "interest_status_label": mood, "interest_status": 1001 + i,
            "description": None, "use_with_ai": i % 2 == 0,
        })


def _blocklist(plan: Plan, data: TagData) -> None:
    rng = np.random.default_rng([plan.seed, 9])
    n = 150 if plan.size.campaigns <= 12 else 3000
    times = np.sort(rng.integers(plan.ms(-200), plan.ms(plan.days), size=n))
    times = np.maximum.accumulate(times - np.arange(n)) + np.arange(n)
    for i, ms in enumerate(times):
        is_domain = i % 4 == 0
        value = f"blocked{i}.example" if is_domain else f"no-contact{i}@competitor{i % 9}.example"
        data.blocklist.append({
            "id": uid_at(int(ms), plan.seed, "block", i), "timestamp_created": iso_ms(int(ms)),
            "organization_id": plan.org_id, "bl_value": value, "is_domain": is_domain,
        })


def _webhooks(plan: Plan, data: TagData, sends: pl.DataFrame, leads: Leads,
              campaign_ids: list[str]) -> None:
    start = max(0, plan.days - 30)
    for i, (name, event, url, status) in enumerate(WEBHOOKS):
        created = plan.ms(start - 5 + i, 10)
        data.webhooks.append({
            "id": uid_at(created, plan.seed, "webhook", i), "organization": plan.org_id,
            "campaign": None, "name": name, "target_hook_url": url, "event_type": event,
            "custom_interest_value": None, "headers": {"X-Demo-Source": "instantly-nb"},
            "timestamp_created": iso_ms(created), "status": status,
            "timestamp_error": iso_ms(plan.ms(plan.days - 4, 3)) if status < 0 else None,
        })
    rows: list[tuple[int, int, int, int]] = []  # (ms, webhook, lead, campaign)
    picks = (("reply_day", 0), ("opp_day", 1), ("day", 2))
    for col, hook in picks:
        cond = pl.col(col) >= start
        if hook == 2:
            cond = cond & pl.col("bounce")
        hit = sends.filter(cond & (pl.col("sub") < 0)).select(col, "lead", "c")
        for day, lead, c in hit.iter_rows():
            rows.append((plan.ms(day, 15) + (lead * 131) % 3_600_000, hook, lead, c))
    legacy = sends.filter((pl.col("day") >= plan.days - 12) & (pl.col("day") < plan.days - 4)
                          & (pl.col("reply_day") >= 0)).select("reply_day", "lead", "c")
    rows += [(plan.ms(d, 16) + lead % 1000, 3, lead, c) for d, lead, c in legacy.iter_rows()]
    rows.sort()
    for k, (ms, hook, lead, c) in enumerate(rows):
        ms += k  # unique, increasing times
        ok = hook != 3 and (lead % 50 != 0)
        event = WEBHOOKS[hook][1] if hook != 3 else "reply_received"
        email = leads.email(lead)
        data.events.append({
            "id": uid_at(ms, plan.seed, "hook-event", k), "timestamp_created": iso_ms(ms),
            "timestamp_created_date": day_date(plan.first_day, (ms - plan.ms(0)) // DAY_MS)
            .isoformat(), "organization_id": plan.org_id,
            "payload": {"event_type": event, "campaign_id": campaign_ids[c], "lead_email": email},
            "success": ok, "retry_count": 0 if ok else 3, "will_retry": False,
            "webhook_url": WEBHOOKS[hook][2], "status_code": 200 if ok else 500,
            "error_message": None if ok else "Target answered 500", "timestamp_next_retry": None,
            "retry_group_id": None, "retry_successful": None if ok else False,
            "lead_email": email, "response_time_ms": 80 + (lead * 7) % 400,
        })


def build_tags(plan: Plan, sends: pl.DataFrame, leads: Leads, campaign_ids: list[str],
               owner: str) -> TagData:
    """Every tag, label, block-list and webhook collection of one workspace."""
    data = TagData()
    _tags(plan, data, campaign_ids, owner)
    _blocklist(plan, data)
    _webhooks(plan, data, sends, leads, campaign_ids)
    return data
