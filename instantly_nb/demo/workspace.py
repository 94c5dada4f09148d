"""One generated demo workspace: the plan, the event history and every collection built on it.

:func:`build_workspace` is deterministic for ``(seed, size, today, name)`` and caches its result
in-process, so many tests can start servers cheaply.

The history's last day is ``today``: by default the real UTC date when the workspace is built;
pass ``today`` (a ``datetime.date`` or ``"YYYY-MM-DD"``) to pin it, e.g. in tests. Day 0 is
``today - 89`` for the usual 90-day history.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import threading
from typing import Any

import numpy as np
import polars as pl

from .config import SIZES
from .history import simulate_all, warmup_table
from .ids import uid_at
from .leadjson import LeadJson
from .leads import LeadContext, Leads, layout_leads
from .listing import ListingCache
from .mailjson import MailJson
from .model import Plan, Truth, make_plan
from .org import build_org
from .placement import build_placement
from .records import account_record, campaign_record, list_record, subsequence_record
from .tags import build_tags
from .unibox import Unibox

__all__ = ["Workspace", "build_workspace", "resolve_today"]

WARMUP_DAYS = 30  # warmup analytics cover the last 30 days of the history


def resolve_today(today: dt.date | str | None) -> dt.date:
    """The history's last day: ``today`` as given, or the current UTC date."""
    if today is None:
        return dt.datetime.now(dt.UTC).date()
    if isinstance(today, dt.datetime):
        return today.date()
    if isinstance(today, dt.date):
        return today
    return dt.date.fromisoformat(str(today))


def _fit_daily_limits(plan: Plan, sends: pl.DataFrame) -> None:
    """Raise each account's daily limit above its busiest simulated day.

    The simulation spreads a campaign's sends over its accounts at random; the real API never
    sends more than an account's daily limit, so the limit shown is at least the peak day plus
    20 % headroom (rounded up to a multiple of 10).
    """
    if sends.is_empty():
        return
    peaks = sends.group_by("acct", "day").len().group_by("acct").agg(pl.col("len").max())
    for acct, peak in peaks.iter_rows():
        account = plan.accounts[int(acct)]
        needed = int(math.ceil(peak / 0.8 / 10.0) * 10)
        if needed > account.daily_limit:
            plan.accounts[int(acct)] = dataclasses.replace(account, daily_limit=needed)


class Workspace:
    """Every record and table of one demo workspace (read-only once built)."""

    def __init__(self, seed: int, size: str, today: dt.date, name: str) -> None:
        if size not in SIZES:
            raise ValueError(f"Unknown demo size {size!r}; choose one of {sorted(SIZES)}.")
        self.name, self.size, self.seed = name, size, seed
        plan = make_plan(seed, SIZES[size], today, "" if name == "demo" else name)
        self.plan: Plan = plan
        self.truth: Truth = plan.truth
        layout = layout_leads(plan)
        self.sends = simulate_all(plan)
        _fit_daily_limits(plan, self.sends)
        self.main = self.sends.filter(pl.col("sub") < 0)
        self.leads = Leads(plan, layout, self.sends)
        self.warmup = warmup_table(plan)
        self.dates = [(plan.first_day + dt.timedelta(days=d)).isoformat()
                      for d in range(plan.days)]
        self.campaign_ids = [c.id for c in plan.campaigns]
        self.list_ids = [lst.id for lst in plan.lists]
        self.subsequence_ids = [s.id for s in plan.subsequences]
        self.account_emails = [a.email for a in plan.accounts]
        self.org = build_org(plan, name, self.campaign_ids, self.list_ids)
        self.health = self._health()
        self.campaigns = [campaign_record(plan, c, plan.accounts, self.org.owner_id)
                          for c in plan.campaigns]
        self.campaigns.sort(key=lambda r: r["id"])
        self.campaign_index = {c.id: c.index for c in plan.campaigns}
        self.accounts = [account_record(plan, a, self.health[a.index]) for a in plan.accounts]
        self.account_index = {a.email.lower(): a.index for a in plan.accounts}
        self.lists = sorted((list_record(plan, lst, self.org.owner_id) for lst in plan.lists),
                            key=lambda r: r["id"])
        self.list_index = {lst.id: lst.index for lst in plan.lists}
        self.subsequences = sorted(
            (subsequence_record(plan, s, plan.campaigns[s.campaign]) for s in plan.subsequences),
            key=lambda r: r["id"])
        self.subsequence_index = {s.id: s.index for s in plan.subsequences}
        self.lead_context = LeadContext(
            self.campaign_ids, self.list_ids, self.subsequence_ids,
            [[uid_at(c.created_ms + 10 + s, seed, "step", 100 * c.index + s)
              for s in range(len(c.steps))] for c in plan.campaigns],
            self.account_emails, self.org.owner_id)
        self.lead_json = LeadJson(self.leads, self.lead_context)
        self.unibox = Unibox(plan, self.sends, self.leads)
        self.mail_json = MailJson(self.unibox, self.account_emails, self.campaign_ids,
                                  self.subsequence_ids)
        self.listings = ListingCache()
        # analytics of every campaign over one window, read by the per-campaign requests
        self.by_window = ListingCache(capacity=16)
        self.tags = build_tags(plan, self.sends, self.leads, self.campaign_ids,
                               self.org.owner_id)
        self.placement = build_placement(
            plan, [(c.id, c.name) for c in plan.campaigns if c.start_day is not None])

    # -- days ----------------------------------------------------------------------------------
    @property
    def today(self) -> dt.date:
        return self.plan.today

    @property
    def first_day(self) -> dt.date:
        return self.plan.first_day

    def day_of(self, date: dt.date) -> int:
        """History day index of ``date`` (may fall outside ``0 .. days - 1``)."""
        return (date - self.plan.first_day).days

    # -- warmup --------------------------------------------------------------------------------
    def warmup_rows(self, acct: int) -> tuple[np.ndarray, ...]:
        """(sent, inbox, spam, received) over the last WARMUP_DAYS days for one account."""
        w = self.warmup
        cut = slice(self.plan.days - WARMUP_DAYS, self.plan.days)
        return (w.sent[acct, cut], w.inbox[acct, cut], w.spam[acct, cut],
                w.received[acct, cut])

    def warmup_dates(self) -> list[str]:
        return self.dates[-WARMUP_DAYS:]

    def _health(self) -> list[int]:
        out = []
        for a in self.plan.accounts:
            _, inbox, spam, _ = self.warmup_rows(a.index)
            total = int(inbox.sum() + spam.sum())
            out.append(round(100 * int(inbox.sum()) / total) if total else 0)
        return out

    # -- counts used by several endpoints ------------------------------------------------------
    def leads_in_campaign(self, index: int) -> int:
        camp = self.plan.campaigns[index]
        return camp.lead_hi - camp.lead_lo

    def describe(self) -> dict[str, Any]:
        """A short summary (sizes) of the workspace."""
        return {"name": self.name, "seed": self.seed, "size": self.size,
                "today": self.today.isoformat(), "campaigns": len(self.campaigns),
                "accounts": len(self.accounts), "leads": self.leads.n,
                "emails_sent": self.main.height, "unibox_emails": self.unibox.table.height}


_CACHE: dict[tuple[int, str, dt.date, str], Workspace] = {}
_LOCK = threading.Lock()


def build_workspace(seed: int = 7, size: str = "default", today: dt.date | str | None = None,
                    name: str = "demo") -> Workspace:
    """The demo workspace for these arguments (built once per process, then cached).

    Parameters
    ----------
    seed : int
        Seed of every random draw.
    size : {"tiny", "default", "large"}
        ``tiny``: 8 campaigns, 12 accounts, ~1.7k leads (fast tests). ``default``: 12
        campaigns (every status code), 40 accounts, ~28k leads, ~41k emails sent.
        ``large``: 100 campaigns, 300 accounts, ~1M leads, ~2M emails sent (builds in a few
        seconds).
    today : datetime.date or str, optional
        Last day of the 90-day history; the current UTC date when omitted.
    name : str
        Workspace name shown by ``GET /workspaces/current``.

    Examples
    --------
    >>> ws = build_workspace(7, "tiny", today="2026-01-31")
    >>> ws.today.isoformat(), len(ws.campaigns)
    ('2026-01-31', 8)
    """
    key = (seed, size, resolve_today(today), name)
    with _LOCK:
        found = _CACHE.get(key)
        if found is None:
            found = _CACHE[key] = Workspace(seed, size, key[2], name)
        return found
