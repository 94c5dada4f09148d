"""Lead records written straight to JSON text, a page at a time.

:meth:`Leads.record` builds one lead as a dict, and the server encodes it; for the listing that
costs more than everything else the server does. :class:`LeadJson` writes the same text
directly: ``LeadJson(...).item(i)`` equals ``json.dumps(leads.record(i, ctx),
ensure_ascii=False, separators=(",", ":"))`` character for character (strings go through the
json module's own escaping function, fields are written in the record's order). The columns of
a page are read with one numpy gather each, not one element at a time.
"""

from __future__ import annotations

from json.encoder import encode_basestring as _q  # type: ignore[attr-defined]

import numpy as np

from .ids import (
    COMPANY_SUFFIXES,
    COMPANY_WORDS,
    FIRST_NAMES,
    JOB_TITLES,
    LAST_NAMES,
    iso_ms_quoted,
    uids_at,
)
from .leads import NO_INTEREST, LeadContext, Leads, _ascii

__all__ = ["LeadJson", "json_value"]

_COLUMNS = ("campaign", "list", "company", "first", "last", "title", "status",
            "opens", "replies", "clicks", "last_day", "reply_day", "open_day", "click_day",
            "interest_day", "sub_day", "last_step", "last_acct", "o_step", "o_var", "r_step",
            "r_var", "k_step", "k_var", "sub", "verification", "value", "enrichment", "visitor",
            "esp", "esg", "interest")


def json_value(value: str | None) -> str:
    """A string (or ``None``) as JSON text, exactly as the json module writes it."""
    return "null" if value is None else str(_q(value))


class LeadJson:
    """JSON text of the lead records of one workspace (see module docstring)."""

    def __init__(self, leads: Leads, ctx: LeadContext) -> None:
        self.leads = leads
        self.org = json_value(leads.plan.org_id)
        self.owner = json_value(ctx.owner_id)
        # index k + 1: "null" at 0 for k = -1 (none)
        self.campaigns = ["null", *(json_value(c) for c in ctx.campaign_ids)]
        self.lists = ["null", *(json_value(v) for v in ctx.list_ids)]
        self.subsequences = ["null", *(json_value(v) for v in ctx.subsequence_ids)]
        self.steps = [[json_value(s) for s in steps] for steps in ctx.step_ids]
        self.accounts = [json_value(a) for a in ctx.accounts]
        self.first = [json_value(v) for v in FIRST_NAMES]
        self.last = [json_value(v) for v in LAST_NAMES]
        self.first_ascii = [str(_q(_ascii(v)))[1:-1] for v in FIRST_NAMES]
        self.last_ascii = [str(_q(_ascii(v)))[1:-1] for v in LAST_NAMES]
        self.titles = [json_value(v) for v in JOB_TITLES]
        self._day_text: dict[int, str] = {}
        self._stamps: dict[int, str] = {}
        self._companies: dict[int, tuple[str, str]] = {}

    # -- pieces --------------------------------------------------------------------------------
    def _day(self, day: int) -> str:
        text = self._day_text.get(day)
        if text is None:
            first = self.leads.plan.first_day
            text = self._day_text[day] = first.fromordinal(first.toordinal() + day).isoformat()
        return text

    def _stamp(self, day: int, hour: int, minute: int) -> str:
        """:meth:`Leads.day_stamp` as JSON text (``null`` before day 0)."""
        if day < 0:
            return "null"
        key = (day << 11) | (hour << 6) | minute  # hour < 32, minute < 64
        text = self._stamps.get(key)
        if text is None:
            text = f'"{self._day(day)}T{hour:02d}:{minute:02d}:00.000Z"'
            if len(self._stamps) < 200_000:
                self._stamps[key] = text
        return text

    def _company(self, c: int) -> tuple[str, str]:
        """(escaped company name, escaped domain) of company ``c``, without quotes."""
        found = self._companies.get(c)
        if found is None:
            word = COMPANY_WORDS[c % len(COMPANY_WORDS)]
            suffix = COMPANY_SUFFIXES[(c // len(COMPANY_WORDS)) % len(COMPANY_SUFFIXES)]
            name = f"{word} {suffix}"
            combos = len(COMPANY_WORDS) * len(COMPANY_SUFFIXES)
            domain = f"{_ascii(name).replace(' ', '')}{c // combos or ''}.example"
            found = (str(_q(name))[1:-1], str(_q(domain))[1:-1])
            if len(self._companies) < 50_000:
                self._companies[c] = found
        return found

    # -- records -------------------------------------------------------------------------------
    def items(self, indexes: np.ndarray) -> list[str]:
        """The JSON text of the leads at ``indexes``, in that order."""
        ld = self.leads
        numbers = indexes.tolist()
        created_ms = ld.created_ms[indexes]
        ids = uids_at(created_ms, ld.plan.seed, "lead", numbers)  # = Leads.lead_id
        cols = [getattr(ld, name)[indexes].tolist() for name in _COLUMNS]
        rows = zip(numbers, ids, iso_ms_quoted(created_ms), *cols, strict=True)
        return [self._item(*row) for row in rows]

    def item(self, i: int) -> str:
        """The JSON text of lead ``i``."""
        return self.items(np.array([i], dtype=np.int64))[0]

    def _item(self, i: int, lead_id: str, created: str, c: int, lst: int, company: int,
              first: int, last: int, title: int, status: int, opens: int, replies: int,
              clicks: int, last_day: int, reply_day: int, open_day: int, click_day: int, interest_day: int,
              sub_day: int, step: int, acct: int, o_step: int, o_var: int, r_step: int,
              r_var: int, k_step: int, k_var: int, sub: int, verification: int, value: float,
              enrichment: int, visitor: bool, esp: int, esg: int, interest: int) -> str:
        minute = (i * 37) % 60
        stamp = self._stamp
        contacted = last_day >= 0
        last_touch = stamp(max(last_day, reply_day), 10, minute)
        executed = stamp(last_day, 9, minute)
        step_id = self.steps[c][step] if contacted and c >= 0 else "null"
        sender = self.accounts[acct] if contacted else "null"
        summary = (f'{{"lastStep":{{"from":"campaign","stepID":{step_id},"timestamp_executed":'
                   f'{executed}}},"domain_complete":{"true" if status == 3 else "false"}}}'
                   if contacted else "{}")
        name, domain = self._company(company)
        email = f"{self.first_ascii[first]}.{self.last_ascii[last]}@{domain}"
        first_name, last_name, job = self.first[first], self.last[last], self.titles[title]
        value_text = f'"{value:.0f}"' if value else "null"
        tail = f',"lt_interest_status":{interest}' if interest != NO_INTEREST else ""
        return (
            f'{{"id":"{lead_id}","timestamp_created":{created},'
            f'"timestamp_updated":{created if last_touch == "null" else last_touch},'
            f'"organization":{self.org},"campaign":{self.campaigns[c + 1]},'
            f'"status":{status},"email":"{email}",'
            f'"personalization":"Loved the recent news about {name}.",'
            f'"website":"https://{domain}","last_name":{last_name},"first_name":{first_name},'
            f'"company_name":"{name}","job_title":{job},"phone":"+1-555-01{i % 100:02d}",'
            f'"email_open_count":{opens},"email_reply_count":{replies},'
            f'"email_click_count":{clicks},"company_domain":"{domain}",'
            f'"status_summary":{summary},"payload":{{"firstName":{first_name},'
            f'"lastName":{last_name},"companyName":"{name}","jobTitle":{job}}},'
            f'"last_step_from":{_CAMPAIGN if contacted else "null"},"last_step_id":{step_id},'
            f'"last_step_timestamp_executed":{executed},'
            f'"email_opened_step":{_STEPS[o_step + 1]},"email_opened_variant":{_VARS[o_var + 1]},'
            f'"email_replied_step":{_STEPS[r_step + 1]},"email_replied_variant":{_VARS[r_var + 1]},'
            f'"email_clicked_step":{_STEPS[k_step + 1]},"email_clicked_variant":{_VARS[k_var + 1]},'
            f'"subsequence_id":{self.subsequences[sub + 1]},'
            f'"verification_status":{verification},"pl_value_lead":{value_text},'
            f'"timestamp_added_subsequence":{stamp(sub_day - 1, 8, minute)},'
            f'"timestamp_last_contact":{executed},'
            f'"timestamp_last_open":{stamp(open_day, 11, minute)},'
            f'"timestamp_last_reply":{stamp(reply_day, 14, minute)},'
            f'"timestamp_last_interest_change":{stamp(interest_day, 15, minute)},'
            f'"timestamp_last_click":{stamp(click_day, 11, minute)},'
            f'"enrichment_status":{enrichment},"list_id":{self.lists[lst + 1]},'
            f'"last_contacted_from":{sender},"uploaded_by_user":{self.owner},'
            f'"upload_method":"{"api" if i % 3 else "manual"}","assigned_to":null,'
            f'"is_website_visitor":{"true" if visitor else "false"},'
            f'"timestamp_last_touch":{last_touch},"esp_code":{esp},"esg_code":{esg}{tail}}}'
        )


_CAMPAIGN = '"campaign"'


# step and variant columns are int8, -1 meaning none: the text of value v is at v + 1
_STEPS = ["null", *(str(v + 1) for v in range(128))]
_VARS = ["null", *(str(v) for v in range(128))]
