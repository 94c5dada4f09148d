"""Unibox e-mail records written straight to JSON text, a page at a time.

``MailJson(...).items(positions)`` equals, item for item, ``json.dumps(unibox.record(p, ...),
ensure_ascii=False, separators=(",", ":"))`` (see :mod:`instantly_nb.demo.leadjson` for how):
the e-mail table's columns are gathered once per page instead of reading one polars row per
record, and texts go through the json module's own escaping function.
"""

from __future__ import annotations

from json.encoder import encode_basestring as _q  # type: ignore[attr-defined]

import numpy as np

from .ids import FIRST_NAMES, LAST_NAMES, iso_ms_quoted, uids_at
from .leadjson import json_value
from .leads import NO_INTEREST, _ascii, company_of
from .unibox import Unibox, _escape, message_text

__all__ = ["MailJson"]

_COLUMNS = ("kind", "auto", "c", "sub", "step", "var", "acct", "unread")
_LEAD_COLUMNS = ("first", "last", "company", "interest")  # of the e-mail's lead


class MailJson:
    """JSON text of the Unibox e-mails of one workspace (see module docstring)."""

    def __init__(self, unibox: Unibox, accounts: list[str], campaign_ids: list[str],
                 subsequence_ids: list[str]) -> None:
        self.unibox = unibox
        self.accounts = accounts
        self.org = json_value(unibox.plan.org_id)
        self.campaigns = [json_value(c) for c in campaign_ids]
        self.subsequences = [json_value(s) for s in subsequence_ids]
        self._columns: dict[str, np.ndarray] | None = None
        self.first_ascii = [_ascii(v) for v in FIRST_NAMES]
        self.last_ascii = [_ascii(v) for v in LAST_NAMES]
        self._companies: dict[int, tuple[str, str]] = {}

    def columns(self) -> dict[str, np.ndarray]:
        if self._columns is None:
            table = self.unibox.table
            self._columns = {name: table[name].to_numpy()
                             for name in ("ts", "thread", "lead", *_COLUMNS)}
        return self._columns

    def items(self, positions: np.ndarray, preview: bool = False) -> list[str]:
        """The JSON text of the e-mails at ``positions`` (``preview``: ``preview_only``)."""
        cols, box = self.columns(), self.unibox
        seed, numbers = box.plan.seed, positions.tolist()
        ts, lead, thread = (cols[name][positions] for name in ("ts", "lead", "thread"))
        ids = (uids_at(ts, seed, "email", numbers),  # = Unibox.email_id
               iso_ms_quoted(ts),
               uids_at(box.leads.created_ms[lead], seed, "lead", lead.tolist()),  # Leads.lead_id
               uids_at(box.thread_ms[thread], seed, "thread", thread.tolist()))  # thread_id
        values = [cols[name][positions].tolist() for name in _COLUMNS]
        values += [getattr(box.leads, name)[lead].tolist() for name in _LEAD_COLUMNS]
        return [self._item(*row, preview=preview)
                for row in zip(numbers, *ids, *values, strict=True)]

    def _company(self, c: int) -> tuple[str, str]:
        found = self._companies.get(c)
        if found is None:
            found = company_of(c)
            if len(self._companies) < 50_000:
                self._companies[c] = found
        return found

    def _item(self, pos: int, uid: str, stamp: str, lead_id: str, thread_id: str, kind: int,
              auto: bool, c: int, sub: int, step: int, var: int, acct: int, unread: bool,
              first: int, last: int, company: int, interest: int, *, preview: bool) -> str:
        plan = self.unibox.plan
        company_name, domain = self._company(company)
        first_name = FIRST_NAMES[first]
        lead_email = f"{self.first_ascii[first]}.{self.last_ascii[last]}@{domain}"  # Leads.email
        acct_email = self.accounts[acct]
        steps = plan.campaigns[c].steps if sub < 0 else plan.subsequences[sub].steps
        subject = steps[step].subjects[var].replace("{{firstName}}", first_name).replace(
            "{{companyName}}", company_name)
        text, subject = message_text(kind, auto, interest, subject, first_name)
        sender, to = (lead_email, acct_email) if kind == 2 else (acct_email, lead_email)
        message_id = _q(f"<{uid.replace('-', '')[:24]}@{sender.split('@')[1]}>")
        sender_q, to_q, lead_q = _q(sender), _q(to), _q(lead_email)
        body = (f'{{"text":{_q(text[:80] or "")},"html":""}}' if preview else
                f'{{"text":{_q(text)},"html":{_q(f"<div>{_escape(text)}</div>")}}}')
        received = kind == 2 and not auto
        ai_value = ("0.9" if interest > 0 else "0.1") if received else "null"
        i_status = interest if kind == 2 and interest != NO_INTEREST else "null"
        return (
            f'{{"id":"{uid}","timestamp_created":{stamp},"timestamp_email":{stamp},'
            f'"message_id":{message_id},'
            f'"subject":{_q(subject)},"from_address_email":{sender_q},'
            f'"to_address_email_list":{to_q},"cc_address_email_list":null,'
            f'"bcc_address_email_list":null,"reply_to":null,"body":{body},'
            f'"organization_id":{self.org},"campaign_id":{self.campaigns[c]},'
            f'"subsequence_id":{self.subsequences[sub] if sub >= 0 else "null"},'
            f'"list_id":null,"lead":{lead_q},"lead_id":"{lead_id}",'
            f'"eaccount":{_q(acct_email)},"ue_type":{kind},'
            f'"step":{_q(str(step + 1)) if kind == 1 else "null"},'
            f'"is_unread":{int(unread)},"is_auto_reply":{int(auto)},"reminder_ts":null,'
            f'"ai_interest_value":{ai_value},"ai_assisted":0,"is_focused":{0 if auto else 1},'
            f'"i_status":{i_status},"thread_id":"{thread_id}",'
            f'"content_preview":{_q(text[:80])},"attachment_json":null,'
            f'"from_address_json":[{{"address":{sender_q}}}],'
            f'"to_address_json":[{{"address":{to_q}}}],"cc_address_json":null,'
            f'"ai_agent_id":null}}'
        )
