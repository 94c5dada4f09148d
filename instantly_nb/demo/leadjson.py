"""Lead records written straight to JSON, a page at a time.

:meth:`Leads.record` builds one lead as a dict, and the server encodes it; for the listing that
costs more than everything else the server does. :class:`LeadJson` writes the same text
directly: ``LeadJson(...).item(i)`` equals ``json.dumps(leads.record(i, ctx),
ensure_ascii=False, separators=(",", ":"))`` character for character, and ``page(indexes)`` is
the JSON array of those texts in UTF-8. The columns of a page are read with one numpy gather
each, the stamps of a page with one gather from a table of texts, and msgspec writes the page
from one struct per lead whose fields are in the record's order (msgspec escapes strings as the
json module does with ``ensure_ascii=False``).
"""

from __future__ import annotations

import datetime as dt
from itertools import repeat
from json.encoder import encode_basestring as _q  # type: ignore[attr-defined]
from operator import itemgetter
from typing import Any

import msgspec
import numpy as np

from .ids import (
    COMPANY_SUFFIXES,
    COMPANY_WORDS,
    FIRST_NAMES,
    JOB_TITLES,
    LAST_NAMES,
    iso_ms_texts,
    uids_at,
)
from .leads import NO_INTEREST, LeadContext, Leads, _ascii

__all__ = ["LeadJson", "json_value"]


def json_value(value: str | None) -> str:
    """A string (or ``None``) as JSON text, exactly as the json module writes it."""
    return "null" if value is None else str(_q(value))


class _Payload(msgspec.Struct, gc=False):
    firstName: Any
    lastName: Any
    companyName: Any
    jobTitle: Any


class _Lead(msgspec.Struct, gc=False):
    """One lead record: the fields of :meth:`Leads.record`, in its order."""

    id: Any
    timestamp_created: Any
    timestamp_updated: Any
    organization: Any
    campaign: Any
    status: Any
    email: Any
    personalization: Any
    website: Any
    last_name: Any
    first_name: Any
    company_name: Any
    job_title: Any
    phone: Any
    email_open_count: Any
    email_reply_count: Any
    email_click_count: Any
    company_domain: Any
    status_summary: Any
    payload: Any
    last_step_from: Any
    last_step_id: Any
    last_step_timestamp_executed: Any
    email_opened_step: Any
    email_opened_variant: Any
    email_replied_step: Any
    email_replied_variant: Any
    email_clicked_step: Any
    email_clicked_variant: Any
    subsequence_id: Any
    verification_status: Any
    pl_value_lead: Any
    timestamp_added_subsequence: Any
    timestamp_last_contact: Any
    timestamp_last_open: Any
    timestamp_last_reply: Any
    timestamp_last_interest_change: Any
    timestamp_last_click: Any
    enrichment_status: Any
    list_id: Any
    last_contacted_from: Any
    uploaded_by_user: Any
    upload_method: Any
    assigned_to: Any
    is_website_visitor: Any
    timestamp_last_touch: Any
    esp_code: Any
    esg_code: Any
    lt_interest_status: Any = msgspec.UNSET  # left out when UNSET


_ENCODE = msgspec.json.Encoder().encode


class LeadJson:
    """JSON text of the lead records of one workspace (see module docstring)."""

    def __init__(self, leads: Leads, ctx: LeadContext) -> None:
        self.leads = leads
        self.org = leads.plan.org_id
        self.owner = ctx.owner_id
        # None last: index -1 (none) reads it
        self.campaigns = [*ctx.campaign_ids, None]
        self.lists = [*ctx.list_ids, None]
        self.subsequences = [*ctx.subsequence_ids, None]
        self.accounts = [*ctx.accounts, None]
        # the step ids of every campaign one after the other, then None
        counts = [len(steps) for steps in ctx.step_ids]
        self.step_count = np.array(counts or [0], dtype=np.int64)
        self.step_start = np.concatenate(([0], np.cumsum(counts, dtype=np.int64)))[:len(
            self.step_count)]
        self.steps = [*(s for steps in ctx.step_ids for s in steps), None]
        self.first_ascii = [_ascii(v) for v in FIRST_NAMES]
        self.last_ascii = [_ascii(v) for v in LAST_NAMES]
        self._companies: dict[int, tuple[str, str, str, str]] = {}

    # -- pieces --------------------------------------------------------------------------------
    def _company(self, c: int) -> tuple[str, str, str, str]:
        """(company name, domain, personalization, website) of company ``c``."""
        found = self._companies.get(c)
        if found is None:
            word = COMPANY_WORDS[c % len(COMPANY_WORDS)]
            suffix = COMPANY_SUFFIXES[(c // len(COMPANY_WORDS)) % len(COMPANY_SUFFIXES)]
            name = f"{word} {suffix}"
            combos = len(COMPANY_WORDS) * len(COMPANY_SUFFIXES)
            domain = f"{_ascii(name).replace(' ', '')}{c // combos or ''}.example"
            found = (name, domain, f"Loved the recent news about {name}.", f"https://{domain}")
            if len(self._companies) < 50_000:
                self._companies[c] = found
        return found

    def _stamps(self, indexes: np.ndarray, last_day: np.ndarray,
                reply_day: np.ndarray) -> list[list[str | None]]:
        """:meth:`Leads.day_stamp` (``None`` before day 0) of the last touch, the last step, the
        subsequence, the last open, reply, interest change and click: one list each."""
        ld = self.leads
        days = np.stack([np.maximum(last_day, reply_day), last_day, ld.sub_day[indexes] - 1,
                         ld.open_day[indexes], reply_day, ld.interest_day[indexes],
                         ld.click_day[indexes]]).astype(np.int64)
        np.maximum(days, -1, out=days)
        plan = self.leads.plan
        table, span = _stamp_table(plan.first_day, max(plan.days, int(days.max()) + 1))
        codes = (days + 1) * 60 + ((indexes * 37) % 60)[None, :] + _STAMP_HOURS[:, None] * span
        stamps: list[list[str | None]] = table[codes].tolist()
        return stamps

    # -- records -------------------------------------------------------------------------------
    def _records(self, indexes: np.ndarray) -> list[_Lead]:
        indexes = np.asarray(indexes, dtype=np.int64)
        if len(indexes) == 0:
            return []
        ld = self.leads
        n = len(indexes)
        numbers = indexes.tolist()
        created_ms = ld.created_ms[indexes]
        ids = uids_at(created_ms, ld.plan.seed, "lead", numbers)  # = Leads.lead_id
        created = iso_ms_texts(created_ms)
        last_day, reply_day = ld.last_day[indexes], ld.reply_day[indexes]
        touch, executed, *stamps = self._stamps(indexes, last_day, reply_day)
        contacted = last_day >= 0
        c = ld.campaign[indexes]
        has_step = contacted & (c >= 0)
        safe_c = np.where(has_step, c, 0)
        step = ld.last_step[indexes].astype(np.int64)
        step = np.where(step < 0, step + self.step_count[safe_c], step)  # as a list index would
        step_ids = list(map(self.steps.__getitem__,
                            np.where(has_step, self.step_start[safe_c] + step, -1).tolist()))
        senders = map(self.accounts.__getitem__, np.where(
            contacted, ld.last_acct[indexes] % max(1, len(self.accounts) - 1), -1).tolist())
        companies = ld.company[indexes].tolist()
        found = {k: self._company(k) for k in set(companies)}
        company = list(map(found.__getitem__, companies))
        names = list(map(_FIRST_OF, company))
        domains = list(map(_SECOND_OF, company))
        first, last = ld.first[indexes].tolist(), ld.last[indexes].tolist()
        first_names = list(map(FIRST_NAMES.__getitem__, first))
        last_names = list(map(LAST_NAMES.__getitem__, last))
        titles = list(map(JOB_TITLES.__getitem__, ld.title[indexes].tolist()))
        status = ld.status[indexes].tolist()
        touched = contacted.tolist()
        first_ascii, last_ascii = self.first_ascii, self.last_ascii
        summaries = [
            {"lastStep": {"from": "campaign", "stepID": sid, "timestamp_executed": ex},
             "domain_complete": st == 3} if yes else _EMPTY
            for yes, sid, ex, st in zip(touched, step_ids, executed, status, strict=True)]
        interest = ld.interest[indexes].tolist()
        return list(map(
            _Lead, ids, created,
            [cr if t is None else t for cr, t in zip(created, touch, strict=True)],
            repeat(self.org, n), map(self.campaigns.__getitem__, c.tolist()), status,
            [f"{first_ascii[f]}.{last_ascii[la]}@{d}"
             for f, la, d in zip(first, last, domains, strict=True)],
            map(_THIRD_OF, company), map(_FOURTH_OF, company), last_names, first_names, names,
            titles, map(_PHONES.__getitem__, (indexes % 100).tolist()),
            ld.opens[indexes].tolist(), ld.replies[indexes].tolist(),
            ld.clicks[indexes].tolist(), domains, summaries,
            map(_Payload, first_names, last_names, names, titles),
            map(_FROM.__getitem__, touched), step_ids, executed,
            map(_STEPS.__getitem__, ld.o_step[indexes].tolist()),
            map(_VARS.__getitem__, ld.o_var[indexes].tolist()),
            map(_STEPS.__getitem__, ld.r_step[indexes].tolist()),
            map(_VARS.__getitem__, ld.r_var[indexes].tolist()),
            map(_STEPS.__getitem__, ld.k_step[indexes].tolist()),
            map(_VARS.__getitem__, ld.k_var[indexes].tolist()),
            map(self.subsequences.__getitem__, ld.sub[indexes].tolist()),
            ld.verification[indexes].tolist(),
            [f"{v:.0f}" if v else None for v in ld.value[indexes].tolist()],
            stamps[0], executed, stamps[1], stamps[2], stamps[3], stamps[4],
            ld.enrichment[indexes].tolist(), map(self.lists.__getitem__, ld.list[indexes].tolist()),
            senders, repeat(self.owner, n), map(_UPLOAD.__getitem__, (indexes % 3).tolist()),
            repeat(None, n), ld.visitor[indexes].tolist(), touch, ld.esp[indexes].tolist(),
            ld.esg[indexes].tolist(),
            [msgspec.UNSET if v == NO_INTEREST else v for v in interest]))

    def records(self, indexes: np.ndarray) -> list[Any]:
        """The leads at ``indexes`` as msgspec structs (each written as :meth:`item`'s text)."""
        return self._records(indexes)

    def page(self, indexes: np.ndarray) -> bytes:
        """The leads at ``indexes`` as one JSON array (UTF-8), in that order."""
        return _ENCODE(self._records(indexes))

    def items(self, indexes: np.ndarray) -> list[str]:
        """The JSON text of the leads at ``indexes``, in that order."""
        return [_ENCODE(record).decode() for record in self._records(indexes)]

    def item(self, i: int) -> str:
        """The JSON text of lead ``i``."""
        return self.items(np.array([i], dtype=np.int64))[0]


# the hours of the stamps (blocks of the stamp table), and the block of each stamp of
# LeadJson._stamps (10, 9, 8, 11, 14, 15 and 11 o'clock)
_HOURS = (8, 9, 10, 11, 14, 15)
_STAMP_HOURS = np.array([2, 1, 0, 3, 4, 5, 3], dtype=np.int64)
_STAMP_TABLES: dict[int, tuple[np.ndarray, int]] = {}


def _stamp_table(first: dt.date, days: int) -> tuple[np.ndarray, int]:
    """(stamps of days -1 to ``days`` - 1, block size): the text of ``day``, ``hour``:``minute``
    at ``k * block + (day + 1) * 60 + minute`` for the k-th hour of :data:`_HOURS`, None on day
    -1. Shared by the workspaces that start on the same day."""
    key = first.toordinal()
    found = _STAMP_TABLES.get(key)
    if found is not None and found[1] >= (days + 1) * 60:
        return found
    dates = [first.fromordinal(key + d).isoformat() for d in range(days)]
    texts = [text for hour in _HOURS for text in (
        [None] * 60 + [f"{d}T{hour:02d}:{m:02d}:00.000Z" for d in dates for m in range(60)])]
    table = np.empty(len(texts), dtype=object)
    table[:] = texts
    if len(_STAMP_TABLES) >= 16:
        _STAMP_TABLES.clear()
    found = _STAMP_TABLES[key] = (table, (days + 1) * 60)
    return found


_EMPTY: dict[str, Any] = {}  # the status summary of a lead never contacted (never changed)
_FROM = [None, "campaign"]  # last_step_from by contacted
_FIRST_OF, _SECOND_OF, _THIRD_OF, _FOURTH_OF = (itemgetter(k) for k in range(4))
# step and variant columns are int8, -1 meaning none: the value of v is at v (-1: last)
_STEPS: list[int | None] = [*range(1, 129), None]
_VARS: list[int | None] = [*range(128), None]
_PHONES = [f"+1-555-01{k:02d}" for k in range(100)]
_UPLOAD = ["manual", "api", "api"]  # by lead index % 3
