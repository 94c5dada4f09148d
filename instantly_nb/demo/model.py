"""The skeleton of a demo workspace: campaigns (steps, variants), sending accounts, lead lists,
subsequences, and the ground truth the generator planted in them.

Days are counted from the first day of the history (day 0) to ``today`` (day ``T - 1``).
Nothing here draws events; :mod:`instantly_nb.demo.history` does that from this plan.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from .config import SizeSpec
from .ids import DAY_MS, SENDER_DOMAINS, day_ms, uid_at

__all__ = [
    "AccountDef", "CampaignDef", "ListDef", "Plan", "StepDef", "SubsequenceDef", "Truth",
    "VariantTruth", "make_plan",
]

# Status codes cycled through so every code appears (default size has exactly these twelve).
CAMPAIGN_STATUSES = (1, 1, 1, 2, 3, 3, 4, -1, -2, -99, 0, 1)
CAMPAIGN_THEMES = (
    "SaaS Founders - Q4 Outreach", "Agency Owners <EU> & UK", "Series A CTOs", "Retail Ops Leads",
    "Logistics Directors", "Healthcare IT", "Fintech Heads of Growth", "Manufacturing COOs",
    "Legal Tech Buyers", "E-commerce Brands", "Draft - Webinar Invite", "Evergreen Inbound Follow-up",
)
STEP_REPLY_FACTOR = (1.0, 0.7, 0.5, 0.4)
# Planted A/B effects (reply probability relative to the step's control). "Better" is large
# enough to be detected with the sends a default campaign makes; "equal" is a null effect.
BETTER_MULTIPLIER = 3.0
EQUAL_MULTIPLIER_RANGE = (0.98, 1.02)
WORSE_MULTIPLIER = 0.4
SUBJECTS = (
    "Quick question, {{firstName}}", "{{companyName}} + us?", "Idea for {{companyName}}",
    "Worth a chat?", "Following up", "Re: {{companyName}} pipeline", "Last note from me",
    "A 2-minute read for {{firstName}}", "Saw your team is hiring", "Cutting reply time in half",
)


@dataclass(frozen=True)
class VariantTruth:
    """One planted variant effect: ``reply_multiplier`` relative to the step's control (A)."""

    campaign_id: str
    campaign_name: str
    step: int  # 1-based, as in the steps analytics
    variant: int  # 0 = A (control), 1 = B, ...
    reply_multiplier: float
    kind: str  # "better", "equal" or "worse"


@dataclass
class StepDef:
    delay_days: int
    subjects: list[str]
    multipliers: list[float]  # reply probability multiplier per variant (control = 1.0)


@dataclass
class CampaignDef:
    index: int
    id: str
    name: str
    status: int
    created_ms: int
    start_day: int | None  # first sending day; None for drafts
    stop_day: int  # last day anything may be sent
    per_day: int  # new leads contacted per day
    steps: list[StepDef]
    accounts: list[int]
    base_reply: float
    base_open: float
    bounce_rate: float
    open_tracking: bool
    link_tracking: bool
    is_evergreen: bool
    opportunity_value: float
    timezone: str
    planned_leads: int = 0
    lead_lo: int = 0
    lead_hi: int = 0

    @property
    def n_leads(self) -> int:
        return self.lead_hi - self.lead_lo


@dataclass
class SubsequenceDef:
    index: int
    id: str
    campaign: int
    name: str
    status: int
    created_ms: int
    start_day: int
    steps: list[StepDef]
    lead_activity: list[int]


@dataclass
class AccountDef:
    index: int
    email: str
    first_name: str
    last_name: str
    domain: str
    provider_code: int
    status: int
    warmup_status: int
    kind: str  # healthy, paused, decay, spam, error
    trouble_day: int  # day the decay / spam / error starts (T when none)
    created_ms: int
    warmup_start_day: int
    daily_limit: int


@dataclass
class ListDef:
    index: int
    id: str
    name: str
    created_ms: int
    has_enrichment_task: bool
    lead_lo: int = 0
    lead_hi: int = 0


@dataclass
class Truth:
    """What the generator planted, for tests of the analysis code.

    Attributes
    ----------
    today, first_day : datetime.date
        The last and first day of the history (inclusive).
    better_variants, equal_variants, worse_variants : list of VariantTruth
        Variants whose reply probability was set to 3x, about 1x or 0.4x the
        control of the same step.
    decaying_accounts : list of str
        Emails whose warmup health decays over the last four weeks.
    spam_accounts : list of str
        Emails whose spam placement rises sharply over the last two weeks.
    error_accounts : dict of str to (status, warmup_status)
        Emails put in an error state (negative status and/or warmup status).
    healthy_accounts, paused_accounts : list of str
    campaign_status : dict of str to int
        Campaign id -> status code.
    open_tracking_off : list of str
        Campaign ids with open tracking off (their opens are all zero).
    """

    today: dt.date
    first_day: dt.date
    better_variants: list[VariantTruth] = field(default_factory=list)
    equal_variants: list[VariantTruth] = field(default_factory=list)
    worse_variants: list[VariantTruth] = field(default_factory=list)
    decaying_accounts: list[str] = field(default_factory=list)
    spam_accounts: list[str] = field(default_factory=list)
    error_accounts: dict[str, tuple[int, int]] = field(default_factory=dict)
    healthy_accounts: list[str] = field(default_factory=list)
    paused_accounts: list[str] = field(default_factory=list)
    campaign_status: dict[str, int] = field(default_factory=dict)
    open_tracking_off: list[str] = field(default_factory=list)

    @property
    def troubled_accounts(self) -> list[str]:
        """Every account with a planted problem (decay, spam or error)."""
        return self.decaying_accounts + self.spam_accounts + list(self.error_accounts)


@dataclass
class Plan:
    seed: int
    size: SizeSpec
    today: dt.date
    first_day: dt.date
    org_id: str
    campaigns: list[CampaignDef]
    accounts: list[AccountDef]
    lists: list[ListDef]
    subsequences: list[SubsequenceDef]
    truth: Truth

    @property
    def days(self) -> int:
        return self.size.history_days

    def ms(self, day: int, hour: float = 0.0) -> int:
        return int(day_ms(self.first_day, day)) + int(hour * 3_600_000)


def _accounts(rng: np.random.Generator, n: int, days: int,
              first_day: dt.date) -> list[AccountDef]:
    kinds = ["healthy"] * n
    n_bad = max(1, n // 10)
    order = rng.permutation(n)
    cursor = 0
    for kind, count in (("decay", n_bad), ("spam", n_bad), ("error", n_bad), ("paused", n_bad // 2)):
        for i in order[cursor:cursor + count]:
            kinds[i] = kind
        cursor += count
    error_codes = [(-1, 1), (-2, 1), (1, -1), (-3, -2), (-1, -3)]
    out: list[AccountDef] = []
    base = int(day_ms(first_day, -120))
    n_err = 0
    for i in range(n):
        first = str(rng.choice(["alex", "sam", "jordan", "casey", "riley", "morgan", "taylor",
                                "jamie", "robin", "avery", "drew", "kai"]))
        last = str(rng.choice(["reed", "hale", "frost", "lane", "park", "wells", "stone", "quinn"]))
        domain = SENDER_DOMAINS[i % len(SENDER_DOMAINS)]
        email = f"{first}.{last}{i}@{domain}"
        kind = kinds[i]
        status, warmup_status, trouble = 1, 1, days
        if kind == "decay":
            trouble = days - 28
        elif kind == "spam":
            trouble = days - 12 - int(rng.integers(0, 3))
        elif kind == "error":
            status, warmup_status = error_codes[n_err % len(error_codes)]
            n_err += 1
            trouble = days - int(rng.integers(3, 13))
        elif kind == "paused":
            status = 2
        created = base + i * 3_600_000 + int(rng.integers(0, 3_600_000))
        out.append(AccountDef(
            index=i, email=email, first_name=first.title(), last_name=last.title(), domain=domain,
            provider_code=int(rng.choice([2, 2, 3, 1])), status=status,
            warmup_status=warmup_status, kind=kind, trouble_day=trouble, created_ms=created,
            warmup_start_day=-int(rng.integers(10, 60)), daily_limit=int(rng.choice([30, 40, 50])),
        ))
    return out


def _steps(rng: np.random.Generator, n_steps: int, truth_sink: list[tuple[int, int, float, str]],
           max_variants: int = 4) -> list[StepDef]:
    steps: list[StepDef] = []
    for s in range(n_steps):
        n_var = int(rng.integers(1, max_variants + 1)) if s < 2 else int(rng.integers(1, 3))
        mults = [1.0] * n_var
        if n_var > 1:
            for v in range(1, n_var):
                if s == 0 and v == 1:
                    kind = "better"
                else:
                    kind = str(rng.choice(["equal", "equal", "worse", "better"]))
                mult = {"better": BETTER_MULTIPLIER,
                        "equal": float(rng.uniform(*EQUAL_MULTIPLIER_RANGE)),
                        "worse": WORSE_MULTIPLIER}[kind]
                mults[v] = mult
                truth_sink.append((s, v, mult, kind))
        subjects = [str(rng.choice(SUBJECTS)) for _ in range(n_var)]
        delay = 0 if s == 0 else int(rng.integers(2, 5))
        steps.append(StepDef(delay_days=delay, subjects=subjects, multipliers=mults))
    return steps


def _timing(rng: np.random.Generator, status: int, days: int, n_leads: int,
            n_steps: int) -> tuple[int | None, int, int]:
    """(start_day, stop_day, per_day) for a campaign of this status."""
    last = days - 1
    if status == 0:
        return None, -1, 1
    tail = 3 * (n_steps - 1) + 3
    if status in (3, 4):
        start = int(rng.integers(0, 20))
        span = int(rng.integers(25, max(26, last - start - tail - 5)))
        return start, last, max(1, -(-n_leads // span))
    if status == 1:
        start = int(rng.integers(5, 45))
        span = int(rng.integers(max(10, last - start - 5), last - start + 25))
        return start, last, max(1, -(-n_leads // span))
    start = int(rng.integers(5, 35))
    stop = last - int(rng.integers(3, 15))
    span = int(rng.integers(max(10, stop - start - 10), stop - start + 20))
    return start, stop, max(1, -(-n_leads // span))


def _campaign(rng: np.random.Generator, c: int, seed: int, size: SizeSpec, first_day: dt.date,
              pools: tuple[list[int], list[int]], truth: Truth, label: str = "") -> CampaignDef:
    """Campaign number ``c``: status, sequence, timing, accounts; its variants go to ``truth``."""
    usable, troubled = pools
    days = size.history_days
    status = CAMPAIGN_STATUSES[c % len(CAMPAIGN_STATUSES)]
    name = CAMPAIGN_THEMES[c % len(CAMPAIGN_THEMES)]
    if c >= len(CAMPAIGN_THEMES):
        name = f"{name} #{c // len(CAMPAIGN_THEMES) + 1}"
    if label:
        name = f"{name} [{label}]"
    n_leads = int(rng.integers(size.campaign_leads[0], size.campaign_leads[1] + 1))
    n_steps = int(rng.integers(2, 5))
    sink: list[tuple[int, int, float, str]] = []
    steps = _steps(rng, n_steps, sink)
    start, stop, per_day = _timing(rng, status, days, n_leads, n_steps)
    if c % len(CAMPAIGN_STATUSES) == len(CAMPAIGN_STATUSES) - 1:  # recently started
        start, per_day = days - 10, max(1, n_leads // 40)
    n_acc = int(rng.integers(3, 7))
    chosen = list(rng.choice(usable, size=min(n_acc, len(usable)), replace=False))
    if troubled:
        chosen.append(troubled[c % len(troubled)])
    created_day = (start if start is not None else days - 3) - int(rng.integers(1, 6))
    created_ms = int(day_ms(first_day, created_day)) + 34_200_000 + 60_000 * c
    cid = uid_at(created_ms, seed, "campaign", c)
    camp = CampaignDef(
        index=c, id=cid, name=name, status=status, created_ms=created_ms, start_day=start,
        stop_day=stop, per_day=per_day, steps=steps, accounts=sorted({int(a) for a in chosen}),
        base_reply=float(rng.uniform(0.025, 0.05)), base_open=float(rng.uniform(0.35, 0.6)),
        bounce_rate=0.07 if status == -2 else float(rng.uniform(0.003, 0.012)),
        open_tracking=(c % 7 != 5), link_tracking=(c % 5 != 4),
        is_evergreen=(c % 4 == 3), opportunity_value=float(rng.choice([500, 1200, 2500])),
        timezone=str(rng.choice(["America/Chicago", "Europe/Belgrade", "America/Detroit",
                                 "Europe/Helsinki", "Australia/Melbourne"])),
        planned_leads=n_leads,
    )
    truth.campaign_status[cid] = status
    if not camp.open_tracking:
        truth.open_tracking_off.append(cid)
    if start is not None:
        for s, v, mult, kind in sink:
            getattr(truth, f"{kind}_variants").append(VariantTruth(cid, name, s + 1, v, mult,
                                                                   kind))
    return camp


def _account_truth(truth: Truth, accounts: list[AccountDef]) -> None:
    for a in accounts:
        if a.kind == "decay":
            truth.decaying_accounts.append(a.email)
        elif a.kind == "spam":
            truth.spam_accounts.append(a.email)
        elif a.kind == "error":
            truth.error_accounts[a.email] = (a.status, a.warmup_status)
        elif a.kind == "paused":
            truth.paused_accounts.append(a.email)
        else:
            truth.healthy_accounts.append(a.email)


def make_plan(seed: int, size: SizeSpec, today: dt.date, label: str = "") -> Plan:
    """Draw the workspace skeleton for ``seed`` and ``size`` (deterministic).

    A ``label`` (the name of an extra demo workspace) is carried by the workspace id and by
    every campaign name (``"... [north]"``), so workspaces can be told apart in rolled-up data.
    """
    rng = np.random.default_rng([seed, 20_251_126])
    days = size.history_days
    first_day = today - dt.timedelta(days=days - 1)
    org_id = uid_at(int(day_ms(first_day, -400)), seed, f"org:{label}" if label else "org", 0)
    truth = Truth(today=today, first_day=first_day)
    accounts = _accounts(rng, size.accounts, days, first_day)
    pools = ([a.index for a in accounts if a.kind != "paused"],
             [a.index for a in accounts if a.kind in ("decay", "spam", "error")])
    campaigns = [_campaign(rng, c, seed, size, first_day, pools, truth, label)
                 for c in range(size.campaigns)]
    lists = [
        ListDef(index=i, id=uid_at(_list_ms(first_day, i), seed, "list", i),
                name=f"{['Imported', 'Conference', 'Inbound', 'Partner', 'Cold'][i % 5]} leads "
                     f"{i + 1}", created_ms=_list_ms(first_day, i),
                has_enrichment_task=(i % 3 == 0))
        for i in range(size.lead_lists)
    ]
    subsequences = _subsequences(rng, seed, campaigns, first_day, days)
    _account_truth(truth, accounts)
    return Plan(seed, size, today, first_day, org_id, campaigns, accounts, lists, subsequences,
                truth)


def _list_ms(first_day: dt.date, i: int) -> int:
    return int(day_ms(first_day, 3 * i - 20)) + 40_000_000 + 60_000 * i


def _subsequences(rng: np.random.Generator, seed: int, campaigns: list[CampaignDef],
                  first_day: dt.date, days: int) -> list[SubsequenceDef]:
    out: list[SubsequenceDef] = []
    for camp in campaigns:
        if camp.start_day is None or camp.status not in (4, 1, 3):
            continue
        if camp.status != 4 and camp.index % 3 != 0:
            continue
        for k in range(2 if camp.status == 4 else 1):
            idx = len(out)
            start = max(camp.start_day + 10, days - 45 + 5 * k)
            created = int(day_ms(first_day, start - 1)) + idx
            sink: list[tuple[int, int, float, str]] = []
            out.append(SubsequenceDef(
                index=idx, id=uid_at(created, seed, "subsequence", idx), campaign=camp.index,
                name=["Opened, no reply", "Completed without reply"][k % 2] + f" - {camp.name}",
                status=1 if camp.status == 4 else (2 if k else 1), created_ms=created,
                start_day=start, steps=_steps(rng, int(rng.integers(1, 3)), sink, 2),
                lead_activity=[[2], [91]][k % 2],
            ))
    return out


def ms_in_day(rng: np.random.Generator, n: int) -> np.ndarray:
    """Random times of day between 07:00 and 19:00 UTC, in milliseconds."""
    return rng.integers(7 * 3_600_000, 19 * 3_600_000, size=n, dtype=np.int64) % DAY_MS
