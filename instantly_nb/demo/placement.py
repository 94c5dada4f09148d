"""Inbox placement tests of the demo workspace, the per-email analytics they produced and the
blacklist / SpamAssassin reports.

Every test run sends from each sender to each seed recipient: a "sent" record, and a "received"
record saying where the email landed. Senders with planted spam or decay problems land in spam
more often on recent runs, so placement agrees with warmup health.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from .history import account_factors
from .ids import iso_ms, uid_at
from .model import Plan

__all__ = ["ESP_OPTIONS", "Placement", "build_placement"]

# (email, esp code, geo code, type code, region, sub_region, type, esp)
RECIPIENTS = (
    ("seed.us.gmail@seeds.example", 1, 1, 2, "North America", "US", "Personal", "Google"),
    ("seed.us.gws@seeds.example", 1, 1, 1, "North America", "US", "Professional", "Google"),
    ("seed.us.outlook@seeds.example", 2, 1, 2, "North America", "US", "Personal", "Microsoft"),
    ("seed.us.m365@seeds.example", 2, 1, 1, "North America", "US", "Professional", "Microsoft"),
    ("seed.de.webde@seeds.example", 12, 3, 2, "Europe", "DE", "Personal", "Web.de"),
    ("seed.it.libero@seeds.example", 13, 2, 2, "Europe", "IT", "Personal", "Libero.it"),
    ("seed.fr.gmail@seeds.example", 1, 4, 2, "Europe", "FR", "Personal", "Google"),
    ("seed.us.airmail@seeds.example", 8, 1, 1, "North America", "US", "Professional", "AirMail"),
)
ESP_OPTIONS = [{"region": r[4], "sub_region": r[5], "type": r[6], "esp": r[7]}
               for r in RECIPIENTS]
ESP_SPAM = {1: 0.03, 2: 0.08, 12: 0.05, 13: 0.06, 8: 0.02}


class Placement:
    """Tests (records), the analytics table (columns + records) and the reports."""

    def __init__(self) -> None:
        self.tests: list[dict[str, Any]] = []
        self.test_meta: dict[str, dict[str, Any]] = {}
        self.records: list[dict[str, Any]] = []
        self.table = pl.DataFrame()
        self.reports: list[dict[str, Any]] = []


def _runs(rng: np.random.Generator, automated: bool, days: int) -> list[int]:
    if not automated:
        return [int(rng.integers(days - 60, days - 1))]
    first = int(rng.integers(days - 63, days - 50))
    return list(range(first, days, 7))


def _test_record(plan: Plan, i: int, created: int, senders: list[str], automated: bool,
                 campaign: tuple[str, str] | None, runs: list[int]) -> dict[str, Any]:
    test_id = uid_at(created, plan.seed, "ip-test", i)
    last_run = plan.ms(runs[-1] + 7, 9) if automated else None
    return {
        "id": test_id, "organization_id": plan.org_id,
        "name": f"{'Weekly' if automated else 'One-off'} placement check {i + 1}",
        "delivery_mode": 1, "description": None,
        "schedule": {"days": {str(d): d in (1, 3) for d in range(7)}, "timing": {"from": "09:00"},
                     "timezone": "America/Chicago"},
        "type": 2 if automated else 1, "sending_method": 1,
        "campaign_id": campaign[0] if campaign else None,
        "email_subject": "Quick question about your Q4 plans",
        "email_body": "Hi there, a short note to check placement.", "emails": senders,
        "test_code": None, "tags": [], "text_only": False,
        "recipients": [r[0] for r in RECIPIENTS],
        "recipients_labels": list(ESP_OPTIONS), "timestamp_created": iso_ms(created),
        "timestamp_next_run": iso_ms(last_run) if last_run else None,
        "automations": [], "status": 1 if automated else 3,
    }


def build_placement(plan: Plan, campaigns: list[tuple[str, str]]) -> Placement:
    """Inbox placement tests, analytics and reports of one workspace."""
    rng = np.random.default_rng([plan.seed, 10])
    inbox_f, _, _ = account_factors(plan)
    out = Placement()
    troubled = [a for a in plan.accounts if a.kind in ("spam", "decay")]
    cols: dict[str, list[Any]] = {k: [] for k in (
        "ms", "test", "sender", "sender_esp", "recipient", "esp", "geo", "type", "record_type",
        "is_spam", "has_category", "day")}
    for i in range(plan.size.inbox_tests):
        automated = i % 3 != 2
        created = plan.ms(plan.days - 70 + i, 8)
        chosen = list(rng.choice(len(plan.accounts), size=3, replace=False))
        if troubled:
            chosen[0] = troubled[i % len(troubled)].index
        senders = [plan.accounts[int(a)] for a in chosen]
        runs = _runs(rng, automated, plan.days)
        campaign = campaigns[i % len(campaigns)] if i % 2 == 0 and campaigns else None
        rec = _test_record(plan, i, created, [s.email for s in senders], automated, campaign,
                           runs)
        out.tests.append(rec)
        out.test_meta[rec["id"]] = {"campaign": campaign, "index": i}
        for run in runs:
            for s in senders:
                s_esp = 1 if s.provider_code == 2 else (2 if s.provider_code == 3 else 8)
                health = float(inbox_f[s.index, min(run, plan.days - 1)])
                for r_i, r in enumerate(RECIPIENTS):
                    ms = plan.ms(run, 9) + 60_000 * i + 1000 * (r_i + 8 * chosen.index(s.index))
                    spam_p = ESP_SPAM[r[1]] + (1 - health) * 1.3
                    delivered = rng.random() < 0.97
                    for record_type in (1, 2) if delivered else (1,):
                        spam = bool(record_type == 2 and rng.random() < spam_p)
                        values = (ms + record_type, i, s.email, s_esp, r[0], r[1], r[2], r[3],
                                  record_type, spam,
                                  bool(record_type == 2 and not spam and r[1] == 1
                                       and rng.random() < 0.25), run)
                        for key, value in zip(cols, values, strict=True):
                            cols[key].append(value)
    table = pl.DataFrame(cols).sort("ms").with_row_index("pos")
    out.table = table.with_columns(pl.col("test").replace_strict(
        {k: t["id"] for k, t in enumerate(out.tests)}, return_dtype=pl.String).alias("test_id"))
    out.records = [_analytics_record(plan, row) for row in out.table.iter_rows(named=True)]
    out.reports = _reports(plan, rng, out)
    return out


def _analytics_record(plan: Plan, row: dict[str, Any]) -> dict[str, Any]:
    received = row["record_type"] == 2
    return {
        "id": uid_at(row["ms"], plan.seed, "ip-analytics", row["pos"]),
        "timestamp_created": iso_ms(row["ms"]), "timestamp_created_date": iso_ms(row["ms"])[:10],
        "organization_id": plan.org_id, "test_id": row["test_id"],
        "is_spam": row["is_spam"] if received else None,
        "has_category": row["has_category"] if received else None,
        "sender_email": row["sender"], "sender_esp": row["sender_esp"],
        "recipient_email": row["recipient"], "recipient_esp": row["esp"],
        "recipient_geo": row["geo"], "recipient_type": row["type"],
        "spf_pass": True, "dkim_pass": True, "dmarc_pass": not row["is_spam"],
        "smtp_ip_blacklist_report": None, "authentication_failure_results": None,
        "record_type": row["record_type"],
    }


def _reports(plan: Plan, rng: np.random.Generator, out: Placement) -> list[dict[str, Any]]:
    reports: list[dict[str, Any]] = []
    sent = out.table.filter(pl.col("record_type") == 1)
    runs = sent.group_by("test_id", "day", "sender").agg(pl.col("ms").min()).sort("ms")
    for k, row in enumerate(runs.iter_rows(named=True)):
        domain = row["sender"].split("@")[1]
        listed = int(rng.random() < 0.15)
        score = round(float(rng.uniform(-1.0, 3.5)), 1)
        ms = row["ms"] + 60_000
        reports.append({
            "id": uid_at(ms, plan.seed, "ip-report", k), "timestamp_created": iso_ms(ms),
            "timestamp_created_date": iso_ms(ms)[:10], "organization_id": plan.org_id,
            "test_id": row["test_id"], "domain_blacklist_count": listed, "domain": domain,
            "domain_ip": f"203.0.113.{10 + k % 200}", "domain_ip_blacklist_count": 0,
            "spam_assassin_score": score,
            "spam_assassin_report": {"is_spam": score > 5, "report": [
                {"description": "Message has a valid DKIM signature", "name": "DKIM_VALID",
                 "score": "-0.1"}], "spam_score": int(score)},
            "blacklist_report": {"address": domain, "blacklisted_count": listed, "details": [
                {"blacklist": "demo-rbl.example", "is_listed": bool(listed),
                 "test_type": "domain"}], "ip": f"203.0.113.{10 + k % 200}",
                "is_blacklisted": bool(listed), "is_domain": True},
        })
    reports.sort(key=lambda r: r["id"])
    return reports
