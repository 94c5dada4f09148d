"""The Unibox of the demo workspace: every thread in which a lead answered.

Each thread starts with the campaign email the lead answered (``ue_type`` 1), holds the lead's
reply or automatic reply (``ue_type`` 2) and, for leads that became opportunities, a manual
answer from the sender (``ue_type`` 3). The emails come from the same sends table as the
analytics, so the number of received non-automatic emails equals the replies counted there.
Emails are held as columns; records are rendered per page.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from .ids import day_ms, iso_ms, ms_of_uuid, uid_at
from .leads import NO_INTEREST, Leads
from .model import Plan

__all__ = ["Unibox"]

REPLY_TEXTS = {
    1: "Thanks for reaching out - this is timely. Could we talk on Thursday afternoon?",
    2: "Happy to chat. I booked a slot through your link for next week.",
    3: "Good call today, sending this over to our ops lead.",
    4: "Let's move forward - please send the order form.",
    -1: "Not interested at the moment, please take me off your list.",
    -2: "I'm not the right person for this, try our operations team.",
    -3: "We went with another vendor this quarter.",
}
AUTO_TEXT = "I am out of the office until next week with limited access to email."
MANUAL_TEXT = "Great to hear! Here is my calendar link - pick any slot that suits you."


class Unibox:
    """Emails as columns: kind (1 campaign, 2 received, 3 manual), time, thread, origin."""

    def __init__(self, plan: Plan, sends: pl.DataFrame, leads: Leads) -> None:
        self.plan, self.leads = plan, leads
        today = plan.days - 1
        rows = sends.with_row_index("row").filter(
            (pl.col("reply_day") >= 0) | (pl.col("auto_day") >= 0))
        r = {k: rows[k].to_numpy() for k in rows.columns}
        n = len(r["row"])
        thread = np.arange(n, dtype=np.int64)
        lead_hash = (r["lead"].astype(np.int64) * 7919) % 3_600_000
        sent_ts = day_ms(plan.first_day, r["day"]) + 7 * 3_600_000 + lead_hash
        parts = [self._part(r, thread, 1, sent_ts, np.ones(n, bool), False)]
        replied = r["reply_day"] >= 0
        reply_ts = day_ms(plan.first_day, np.maximum(r["reply_day"], 0)) + 13 * 3_600_000
        parts.append(self._part(r, thread, 2, reply_ts + 2 * lead_hash, replied, False))
        auto = r["auto_day"] >= 0
        auto_ts = day_ms(plan.first_day, np.maximum(r["auto_day"], 0)) + 11 * 3_600_000
        parts.append(self._part(r, thread, 2, auto_ts + lead_hash, auto, True))
        opp = r["opp_day"] >= 0
        manual_day = np.minimum(np.maximum(r["reply_day"], 0) + 1, today)
        manual_ts = day_ms(plan.first_day, manual_day) + 20 * 3_600_000 + lead_hash // 2
        parts.append(self._part(r, thread, 3, manual_ts, opp, False))
        table = pl.concat(parts).sort("ts", "kind")
        ts = table["ts"].to_numpy()
        steps = np.arange(len(ts), dtype=np.int64)
        ts = np.maximum.accumulate(ts - steps) + steps  # strictly increasing -> unique ids
        recent = (table["day"].to_numpy() >= today - 2) & (table["kind"].to_numpy() == 2)
        unread = recent & ((table["lead"].to_numpy() % 10) < 6)
        self.table = table.with_columns(pl.Series("ts", ts), pl.Series("unread", unread),
                                        pl.Series("pos", steps))
        self.thread_ms = sent_ts

    @staticmethod
    def _part(r: dict[str, np.ndarray], thread: np.ndarray, kind: int, ts: np.ndarray,
              keep: np.ndarray, auto: bool) -> pl.DataFrame:
        day = {1: r["day"], 2: r["auto_day"] if auto else r["reply_day"],
               3: r["reply_day"]}[kind]
        return pl.DataFrame({
            "ts": ts[keep].astype(np.int64), "kind": np.full(keep.sum(), kind, np.int8),
            "auto": np.full(keep.sum(), auto), "thread": thread[keep], "day": day[keep],
            "c": r["c"][keep], "sub": r["sub"][keep], "step": r["step"][keep],
            "var": r["var"][keep], "lead": r["lead"][keep], "acct": r["acct"][keep],
        })

    # -- lookups -------------------------------------------------------------------------------
    def email_id(self, pos: int) -> str:
        return uid_at(int(self.table["ts"][pos]), self.plan.seed, "email", pos)

    def thread_id(self, thread: int) -> str:
        return uid_at(int(self.thread_ms[thread]), self.plan.seed, "thread", thread)

    def position(self, email_id: str) -> int | None:
        ms = ms_of_uuid(email_id)
        if ms is None:
            return None
        ts = self.table["ts"].to_numpy()
        pos = int(np.searchsorted(ts, ms))
        if pos < len(ts) and ts[pos] == ms and self.email_id(pos) == email_id.lower():
            return pos
        return None

    def thread_of(self, thread_id: str) -> int | None:
        ms = ms_of_uuid(thread_id)
        if ms is None:
            return None
        hits = np.flatnonzero(self.thread_ms == ms)
        for t in hits:
            if self.thread_id(int(t)) == thread_id.lower():
                return int(t)
        return None

    def unread_count(self) -> int:
        return int(self.table["unread"].sum())

    # -- records -------------------------------------------------------------------------------
    def record(self, pos: int, accounts: list[str], campaign_ids: list[str],
               subsequence_ids: list[str]) -> dict[str, Any]:
        row = self.table.row(pos, named=True)
        plan, leads = self.plan, self.leads
        lead = int(row["lead"])
        lead_email, acct_email = leads.email(lead), accounts[row["acct"]]
        kind, auto = int(row["kind"]), bool(row["auto"])
        camp = plan.campaigns[row["c"]]
        steps = camp.steps if row["sub"] < 0 else plan.subsequences[row["sub"]].steps
        subject = steps[row["step"]].subjects[row["var"]]
        subject = subject.replace("{{firstName}}", leads.first_name(lead)).replace(
            "{{companyName}}", leads.company_name(lead))
        interest = int(leads.interest[lead])
        text, subject = message_text(kind, auto, interest, subject, leads.first_name(lead))
        sender, to = (lead_email, acct_email) if kind == 2 else (acct_email, lead_email)
        stamp = iso_ms(int(row["ts"]))
        uid = self.email_id(pos)
        return {
            "id": uid, "timestamp_created": stamp, "timestamp_email": stamp,
            "message_id": f"<{uid.replace('-', '')[:24]}@{sender.split('@')[1]}>",
            "subject": subject, "from_address_email": sender, "to_address_email_list": to,
            "cc_address_email_list": None, "bcc_address_email_list": None, "reply_to": None,
            "body": {"text": text, "html": f"<div>{_escape(text)}</div>"},
            "organization_id": plan.org_id, "campaign_id": campaign_ids[row["c"]],
            "subsequence_id": subsequence_ids[row["sub"]] if row["sub"] >= 0 else None,
            "list_id": None, "lead": lead_email, "lead_id": leads.lead_id(lead),
            "eaccount": acct_email, "ue_type": 2 if kind == 2 else kind,
            "step": str(row["step"] + 1) if kind == 1 else None,
            "is_unread": int(row["unread"]), "is_auto_reply": int(auto),
            "reminder_ts": None,
            "ai_interest_value": None if kind != 2 or auto else round(
                0.9 if interest > 0 else 0.1, 2),
            "ai_assisted": 0, "is_focused": 0 if auto else 1,
            "i_status": None if kind != 2 or interest == NO_INTEREST else interest,
            "thread_id": self.thread_id(int(row["thread"])), "content_preview": text[:80],
            "attachment_json": None,
            "from_address_json": [{"address": sender}], "to_address_json": [{"address": to}],
            "cc_address_json": None, "ai_agent_id": None,
        }


def message_text(kind: int, auto: bool, interest: int, subject: str,
                 first_name: str) -> tuple[str, str]:
    """The body text and subject of one e-mail: the step's own (``kind`` 1), the account's
    manual answer (3), an automatic reply or the lead's reply by interest (2)."""
    if kind == 1:
        return f"Hi {first_name}, {subject.lower()} - worth a short call?", subject
    if kind == 3:
        return MANUAL_TEXT, f"Re: {subject}"
    if auto:
        return AUTO_TEXT, f"Automatic reply: {subject}"
    return REPLY_TEXTS.get(interest, REPLY_TEXTS[-1]), f"Re: {subject}"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
