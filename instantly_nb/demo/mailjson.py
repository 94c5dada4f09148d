"""Unibox e-mail records written straight to JSON, a page at a time.

``MailJson(...).items(positions)`` equals, item for item, ``json.dumps(unibox.record(p, ...),
ensure_ascii=False, separators=(",", ":"))``, and ``page(positions)`` is the JSON array of those
texts in UTF-8 (see :mod:`instantly_nb.demo.leadjson` for how): the e-mail table's columns are
gathered once per page instead of reading one polars row per record, and msgspec writes one
struct per e-mail whose fields are in the record's order.
"""

from __future__ import annotations

from typing import Any

import msgspec
import numpy as np

from .ids import FIRST_NAMES, LAST_NAMES, iso_ms_texts, uids_at
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
        self.org = unibox.plan.org_id
        self.campaigns = list(campaign_ids)
        self.subsequences = list(subsequence_ids)
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

    def _records(self, positions: np.ndarray, preview: bool) -> list[_Email]:
        cols, box = self.columns(), self.unibox
        seed, numbers = box.plan.seed, positions.tolist()
        ts, lead, thread = (cols[name][positions] for name in ("ts", "lead", "thread"))
        ids = (uids_at(ts, seed, "email", numbers),  # = Unibox.email_id
               iso_ms_texts(ts),
               uids_at(box.leads.created_ms[lead], seed, "lead", lead.tolist()),  # Leads.lead_id
               uids_at(box.thread_ms[thread], seed, "thread", thread.tolist()))  # thread_id
        values = [cols[name][positions].tolist() for name in _COLUMNS]
        values += [getattr(box.leads, name)[lead].tolist() for name in _LEAD_COLUMNS]
        return [self._record(*row, preview=preview)
                for row in zip(*ids, *values, strict=True)]

    def records(self, positions: np.ndarray, preview: bool = False) -> list[Any]:
        """The e-mails at ``positions`` as msgspec structs (each written as its item's text)."""
        return self._records(positions, preview)

    def page(self, positions: np.ndarray, preview: bool = False) -> bytes:
        """The e-mails at ``positions`` as one JSON array (UTF-8), in that order."""
        return _ENCODE(self._records(positions, preview))

    def items(self, positions: np.ndarray, preview: bool = False) -> list[str]:
        """The JSON text of the e-mails at ``positions`` (``preview``: ``preview_only``)."""
        return [_ENCODE(record).decode() for record in self._records(positions, preview)]

    def _company(self, c: int) -> tuple[str, str]:
        found = self._companies.get(c)
        if found is None:
            found = company_of(c)
            if len(self._companies) < 50_000:
                self._companies[c] = found
        return found

    def _record(self, uid: str, stamp: str, lead_id: str, thread_id: str, kind: int,
                auto: bool, c: int, sub: int, step: int, var: int, acct: int, unread: bool,
                first: int, last: int, company: int, interest: int, *, preview: bool) -> _Email:
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
        received = kind == 2 and not auto
        return _Email(
            uid, stamp, stamp, f"<{uid.replace('-', '')[:24]}@{sender.split('@')[1]}>", subject,
            sender, to, None, None, None,
            _Body(text[:80] or "", "") if preview else
            _Body(text, f"<div>{_escape(text)}</div>"),
            self.org, self.campaigns[c], self.subsequences[sub] if sub >= 0 else None, None,
            lead_email, lead_id, acct_email, kind, str(step + 1) if kind == 1 else None,
            int(unread), int(auto), None,
            (0.9 if interest > 0 else 0.1) if received else None, 0, 0 if auto else 1,
            interest if kind == 2 and interest != NO_INTEREST else None, thread_id, text[:80],
            None, [_Address(sender)], [_Address(to)], None, None)


class _Body(msgspec.Struct, gc=False):
    text: Any
    html: Any


class _Address(msgspec.Struct, gc=False):
    address: Any


class _Email(msgspec.Struct, gc=False):
    """One e-mail record: the fields of :meth:`Unibox.record`, in its order."""

    id: Any
    timestamp_created: Any
    timestamp_email: Any
    message_id: Any
    subject: Any
    from_address_email: Any
    to_address_email_list: Any
    cc_address_email_list: Any
    bcc_address_email_list: Any
    reply_to: Any
    body: Any
    organization_id: Any
    campaign_id: Any
    subsequence_id: Any
    list_id: Any
    lead: Any
    lead_id: Any
    eaccount: Any
    ue_type: Any
    step: Any
    is_unread: Any
    is_auto_reply: Any
    reminder_ts: Any
    ai_interest_value: Any
    ai_assisted: Any
    is_focused: Any
    i_status: Any
    thread_id: Any
    content_preview: Any
    attachment_json: Any
    from_address_json: Any
    to_address_json: Any
    cc_address_json: Any
    ai_agent_id: Any


_ENCODE = msgspec.json.Encoder().encode
