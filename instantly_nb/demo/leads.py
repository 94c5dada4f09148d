"""Leads of the demo workspace, held as columns and turned into API records one page at a time.

A lead belongs either to one campaign or to one lead list. Lead ``i`` is created at
``created_ms[i]`` (strictly increasing), and its id is a UUIDv7 with that time, so the API's
order (by id) is the index order and a cursor id maps back to an index with one binary search.
Names, e-mails and companies are derived from the index; the activity columns (opens, replies,
status, interest) are aggregated from the sends table, so they agree with the analytics.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from .ids import (
    COMPANY_SUFFIXES,
    COMPANY_WORDS,
    FIRST_NAMES,
    JOB_TITLES,
    LAST_NAMES,
    day_ms,
    iso_ms,
    ms_of_uuid,
    uid_at,
)
from .model import Plan

__all__ = ["Layout", "LeadContext", "Leads", "layout_leads"]

NONE = -1
NO_INTEREST = 99
MAX_EMAIL_LENGTH = 254  # an e-mail address is at most 254 characters long
VERIFICATION_CODES = np.array([1, 1, 1, 1, 1, 1, -1, -2, -3, 11], dtype=np.int8)
ESP_CODES = np.array([1, 1, 1, 2, 2, 999, 3, 9], dtype=np.int16)


class Layout:
    """Which campaign or list each lead is in, and when it was created."""

    def __init__(self, created_ms: np.ndarray, campaign: np.ndarray, lists: np.ndarray) -> None:
        self.created_ms, self.campaign, self.list = created_ms, campaign, lists


def layout_leads(plan: Plan) -> Layout:
    """Give every campaign and list its block of lead indexes, in order of creation."""
    blocks: list[tuple[int, str, int, int]] = []  # (created_ms, kind, index, count)
    for camp in plan.campaigns:
        blocks.append((camp.created_ms, "c", camp.index, camp.planned_leads))
    per_list = plan.size.list_leads // max(1, len(plan.lists))
    for lst in plan.lists:
        blocks.append((lst.created_ms, "l", lst.index, per_list))
    blocks.sort()
    total = sum(b[3] for b in blocks)
    campaign = np.full(total, NONE, dtype=np.int16)
    lists = np.full(total, NONE, dtype=np.int16)
    raw = np.empty(total, dtype=np.int64)
    pos = 0
    for created, kind, index, count in blocks:
        target = plan.campaigns[index] if kind == "c" else plan.lists[index]
        target.lead_lo, target.lead_hi = pos, pos + count
        (campaign if kind == "c" else lists)[pos:pos + count] = index
        raw[pos:pos + count] = created + np.arange(count, dtype=np.int64) * 37
        pos += count
    steps = np.arange(total, dtype=np.int64)
    # strictly increasing creation times, so ids sort like indexes
    created_ms = np.maximum.accumulate(raw - steps) + steps
    return Layout(created_ms, campaign, lists)


def _ascii(text: str) -> str:
    return (text.lower().replace("é", "e").replace("ü", "u").replace("'", ""))


def company_of(c: int) -> tuple[str, str]:
    """(name, domain) of company number ``c``."""
    word = COMPANY_WORDS[c % len(COMPANY_WORDS)]
    suffix = COMPANY_SUFFIXES[(c // len(COMPANY_WORDS)) % len(COMPANY_SUFFIXES)]
    name = f"{word} {suffix}"
    combos = len(COMPANY_WORDS) * len(COMPANY_SUFFIXES)
    return name, f"{_ascii(name).replace(' ', '')}{c // combos or ''}.example"


class Leads:
    """Every lead of one workspace as numpy columns (see module docstring)."""

    # activity columns aggregated from the sends table (-1 = never)
    opens: np.ndarray
    replies: np.ndarray
    clicks: np.ndarray
    last_day: np.ndarray
    open_day: np.ndarray
    reply_day: np.ndarray
    click_day: np.ndarray
    auto_day: np.ndarray
    interest_day: np.ndarray
    last_step: np.ndarray
    last_acct: np.ndarray
    sub: np.ndarray
    sub_day: np.ndarray
    r_step: np.ndarray
    r_var: np.ndarray
    o_step: np.ndarray
    o_var: np.ndarray
    k_step: np.ndarray
    k_var: np.ndarray

    def __init__(self, plan: Plan, layout: Layout, sends: pl.DataFrame) -> None:
        self.plan = plan
        self.n = total = len(layout.created_ms)
        self.created_ms, self.campaign, self.list = layout.created_ms, layout.campaign, layout.list
        rng = np.random.default_rng([plan.seed, 5])
        self.company = (np.arange(total) // 5).astype(np.int32)
        self.first = rng.integers(0, len(FIRST_NAMES), total).astype(np.int16)
        self.last = ((np.arange(total) % 5 + rng.integers(0, len(LAST_NAMES), total // 5 + 1)
                      .repeat(5)[:total]) % len(LAST_NAMES)).astype(np.int16)
        self.title = rng.integers(0, len(JOB_TITLES), total).astype(np.int8)
        self.verification = VERIFICATION_CODES[rng.integers(0, len(VERIFICATION_CODES), total)]
        self.esp = ESP_CODES[rng.integers(0, len(ESP_CODES), total)]
        self.esg = np.where(rng.random(total) < 0.1, rng.integers(1, 5, total), 0).astype(np.int8)
        self.enrichment = np.where(rng.random(total) < 0.8, 1, -1).astype(np.int8)
        self.visitor = rng.random(total) < 0.02
        self._aggregate(sends)
        self._emails: pl.Series | None = None

    def _aggregate(self, sends: pl.DataFrame) -> None:
        n = self.n
        level = (pl.when(pl.col("won_day") >= 0).then(4).when(pl.col("done_day") >= 0).then(3)
                 .when(pl.col("booked_day") >= 0).then(2).when(pl.col("opp_day") >= 0).then(1)
                 .otherwise(None))
        per = sends.with_columns(level.alias("level")).group_by("lead").agg(
            pl.col("opens").sum(), pl.col("replies").sum(), pl.col("clicks").sum(),
            pl.col("day").max().alias("last_day"), pl.col("open_day").max(),
            pl.col("reply_day").max(), pl.col("click_day").max(), pl.col("auto_day").max(),
            pl.col("bounce").any(), (pl.col("unsub_day") >= 0).any().alias("unsub"),
            (pl.col("complete_day") >= 0).any().alias("complete"), pl.col("level").max(),
            pl.max_horizontal("opp_day", "booked_day", "done_day", "won_day").max()
            .alias("interest_day"),
            pl.col("step").filter(pl.col("reply_day") >= 0).first().alias("r_step"),
            pl.col("var").filter(pl.col("reply_day") >= 0).first().alias("r_var"),
            pl.col("step").filter(pl.col("open_day") >= 0).first().alias("o_step"),
            pl.col("var").filter(pl.col("open_day") >= 0).first().alias("o_var"),
            pl.col("step").filter(pl.col("click_day") >= 0).first().alias("k_step"),
            pl.col("var").filter(pl.col("click_day") >= 0).first().alias("k_var"),
            pl.col("step").sort_by("day").last().alias("last_step"),
            pl.col("acct").sort_by("day").last().alias("last_acct"),
            pl.col("sub").max(), pl.col("day").filter(pl.col("sub") >= 0).min().alias("sub_day"),
            pl.col("value").sum(),
        )
        idx = per["lead"].to_numpy()

        def col(name: str, fill: int, dtype: type = np.int16) -> np.ndarray:
            out: np.ndarray = np.full(n, fill, dtype=dtype)
            out[idx] = per[name].fill_null(fill).to_numpy().astype(dtype)
            return out

        for name in ("opens", "replies", "clicks", "last_day", "open_day", "reply_day",
                     "click_day", "auto_day", "interest_day", "last_step", "last_acct", "sub",
                     "sub_day"):
            setattr(self, name, col(name, NONE if name not in ("opens", "replies", "clicks")
                                    else 0))
        for name in ("r_step", "r_var", "o_step", "o_var", "k_step", "k_var"):
            setattr(self, name, col(name, NONE, np.int8))
        self.value = col("value", 0, np.float32)
        bounce, unsub, complete = (col(k, 0, np.int8).astype(bool)
                                   for k in ("bounce", "unsub", "complete"))
        contacted = self.last_day >= 0
        status = np.where(contacted, 1, 1).astype(np.int8)
        paused = np.isin(self.campaign, [c.index for c in self.plan.campaigns if c.status == 2])
        status[paused & ~complete] = 2
        status[complete] = 3
        status[unsub] = -2
        status[bounce] = -1
        self.status = status
        interest = col("level", NO_INTEREST, np.int8)
        hashed = (np.arange(n) * 2_654_435_761) % 100
        negative = np.where(hashed < 75, -1, np.where(hashed < 90, -2, -3)).astype(np.int8)
        no_level = interest == NO_INTEREST
        interest[no_level & (self.reply_day >= 0)] = negative[no_level & (self.reply_day >= 0)]
        ooo = (interest == NO_INTEREST) & (self.auto_day >= 0)
        interest[ooo] = 0
        self.interest = interest
        self.interest_day = np.where(self.interest_day >= 0, self.interest_day,
                                     np.where(interest != NO_INTEREST,
                                              np.maximum(self.reply_day, self.auto_day), NONE))

    # -- identities ---------------------------------------------------------------------------
    def lead_id(self, i: int) -> str:
        return uid_at(int(self.created_ms[i]), self.plan.seed, "lead", int(i))

    def index_of(self, lead_id: str) -> int | None:
        """The index of a lead id, or ``None`` when no lead has it."""
        ms = ms_of_uuid(lead_id)
        if ms is None:
            return None
        i = int(np.searchsorted(self.created_ms, ms))
        if i < self.n and self.created_ms[i] == ms and self.lead_id(i) == lead_id.lower():
            return i
        return None

    def company_name(self, i: int) -> str:
        return company_of(int(self.company[i]))[0]

    def company_domain(self, i: int) -> str:
        return company_of(int(self.company[i]))[1]

    def email(self, i: int) -> str:
        first, last = FIRST_NAMES[self.first[i]], LAST_NAMES[self.last[i]]
        return f"{_ascii(first)}.{_ascii(last)}@{self.company_domain(i)}"

    def emails(self) -> pl.Series:
        """Every lead's e-mail (built once, on first use)."""
        if self._emails is None:
            self._emails = pl.Series("email", [self.email(i) for i in range(self.n)])
        return self._emails

    def find_email(self, address: str) -> np.ndarray:
        """Indexes of the leads with this e-mail address (case-insensitive)."""
        hits = self.emails().str.to_lowercase() == address.strip().lower()
        return np.flatnonzero(hits.to_numpy())

    def matches(self, text: str) -> np.ndarray:
        """Boolean mask of leads whose e-mail, name or company contains ``text``."""
        needle = text.strip().lower()
        if len(needle) > MAX_EMAIL_LENGTH:  # longer than any e-mail or name: nothing contains it
            return np.zeros(self.n, dtype=bool)
        mask = self.emails().str.to_lowercase().str.contains(needle, literal=True).to_numpy()
        names = np.array([f"{_ascii(f)} {_ascii(lt)}" for f in FIRST_NAMES for lt in LAST_NAMES])
        name_hit = np.char.find(names, needle) >= 0
        mask |= name_hit[self.first.astype(np.int64) * len(LAST_NAMES) + self.last]
        return mask

    def first_name(self, i: int) -> str:
        return FIRST_NAMES[self.first[i]]

    def last_name(self, i: int) -> str:
        return LAST_NAMES[self.last[i]]

    def day_stamp(self, i: int, day: int, hour: int) -> str | None:
        """ISO time of a lead's event on history ``day`` (``None`` when ``day`` < 0)."""
        if day < 0:
            return None
        minute = (i * 37) % 60
        return iso_ms(int(day_ms(self.plan.first_day, day)) + (hour * 60 + minute) * 60_000)

    def record(self, i: int, ctx: LeadContext) -> dict[str, Any]:
        """Lead ``i`` as the API shows it (``Lead`` schema)."""
        first, last = self.first_name(i), self.last_name(i)
        company, domain = self.company_name(i), self.company_domain(i)
        c, lst = int(self.campaign[i]), int(self.list[i])
        last_day, step = int(self.last_day[i]), int(self.last_step[i])
        contacted = last_day >= 0
        last_touch = self.day_stamp(i, max(last_day, int(self.reply_day[i])), 10)
        created = iso_ms(int(self.created_ms[i]))
        step_id = ctx.step_ids[c][step] if contacted and c >= 0 else None
        sender = ctx.accounts[int(self.last_acct[i])] if contacted else None
        summary: dict[str, Any] = {}
        if contacted:
            summary = {"lastStep": {"from": "campaign", "stepID": step_id,
                                    "timestamp_executed": self.day_stamp(i, last_day, 9)},
                       "domain_complete": bool(self.status[i] == 3)}
        interest = int(self.interest[i])
        sub = int(self.sub[i])
        out: dict[str, Any] = {
            "id": self.lead_id(i), "timestamp_created": created,
            "timestamp_updated": last_touch or created, "organization": self.plan.org_id,
            "campaign": ctx.campaign_ids[c] if c >= 0 else None, "status": int(self.status[i]),
            "email": self.email(i), "personalization": f"Loved the recent news about {company}.",
            "website": f"https://{domain}", "last_name": last, "first_name": first,
            "company_name": company, "job_title": JOB_TITLES[self.title[i]],
            "phone": f"+1-555-01{i % 100:02d}", "email_open_count": int(self.opens[i]),
            "email_reply_count": int(self.replies[i]), "email_click_count": int(self.clicks[i]),
            "company_domain": domain, "status_summary": summary,
            "payload": {"firstName": first, "lastName": last, "companyName": company,
                        "jobTitle": JOB_TITLES[self.title[i]]},
            "last_step_from": "campaign" if contacted else None, "last_step_id": step_id,
            "last_step_timestamp_executed": self.day_stamp(i, last_day, 9),
            "email_opened_step": _step(self.o_step[i]), "email_opened_variant": _var(self.o_var[i]),
            "email_replied_step": _step(self.r_step[i]),
            "email_replied_variant": _var(self.r_var[i]),
            "email_clicked_step": _step(self.k_step[i]),
            "email_clicked_variant": _var(self.k_var[i]),
            "subsequence_id": ctx.subsequence_ids[sub] if sub >= 0 else None,
            "verification_status": int(self.verification[i]),
            "pl_value_lead": f"{self.value[i]:.0f}" if self.value[i] else None,
            "timestamp_added_subsequence": self.day_stamp(i, int(self.sub_day[i]) - 1, 8),
            "timestamp_last_contact": self.day_stamp(i, last_day, 9),
            "timestamp_last_open": self.day_stamp(i, int(self.open_day[i]), 11),
            "timestamp_last_reply": self.day_stamp(i, int(self.reply_day[i]), 14),
            "timestamp_last_interest_change": self.day_stamp(i, int(self.interest_day[i]), 15),
            "timestamp_last_click": self.day_stamp(i, int(self.click_day[i]), 11),
            "enrichment_status": int(self.enrichment[i]),
            "list_id": ctx.list_ids[lst] if lst >= 0 else None,
            "last_contacted_from": sender, "uploaded_by_user": ctx.owner_id,
            "upload_method": "api" if i % 3 else "manual", "assigned_to": None,
            "is_website_visitor": bool(self.visitor[i]), "timestamp_last_touch": last_touch,
            "esp_code": int(self.esp[i]), "esg_code": int(self.esg[i]),
        }
        if interest != NO_INTEREST:
            out["lt_interest_status"] = interest
        return out


class LeadContext:
    """Ids a lead record refers to (campaigns, lists, subsequences, steps, accounts)."""

    def __init__(self, campaign_ids: list[str], list_ids: list[str], subsequence_ids: list[str],
                 step_ids: list[list[str]], accounts: list[str], owner_id: str) -> None:
        self.campaign_ids, self.list_ids = campaign_ids, list_ids
        self.subsequence_ids, self.step_ids = subsequence_ids, step_ids
        self.accounts, self.owner_id = accounts, owner_id


def _step(value: np.integer) -> int | None:
    return int(value) + 1 if value >= 0 else None


def _var(value: np.integer) -> int | None:
    return int(value) if value >= 0 else None
