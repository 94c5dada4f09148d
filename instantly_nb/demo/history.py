"""The one event history every analytics answer is computed from.

``sends`` is a columnar table with one row per email a campaign (or subsequence) step sent to a
lead. The row also carries what followed that email: the day and count of opens, clicks and
replies, an automatic reply, a bounce, an unsubscribe, and the opportunity chain (interested ->
meeting booked -> meeting completed -> won). ``-1`` means "did not happen".

Modelling choices that make unique counts exact for any date window:

* all opens of one (lead, step) email fall on one day, and so do its clicks;
* a lead replies to at most one step of a campaign (the sequence stops on reply) and sends at most
  one automatic reply; bounces and unsubscribes end the sequence too;
* so "distinct leads that replied in [a, b]" is the number of rows whose ``reply_day`` is in
  [a, b], and per-day unique counts add up to the window's unique count.

Warmup is a separate (accounts x days) table of emails sent, landed in inbox / spam, received.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from .model import STEP_REPLY_FACTOR, CampaignDef, Plan, StepDef

__all__ = ["SENDS_SCHEMA", "Warmup", "account_factors", "simulate_all", "warmup_table"]

SENDS_SCHEMA: dict[str, type[pl.DataType]] = {
    "c": pl.Int16, "sub": pl.Int16, "step": pl.Int8, "var": pl.Int8, "lead": pl.Int32,
    "acct": pl.Int16, "day": pl.Int16, "first": pl.Boolean, "open_day": pl.Int16,
    "opens": pl.Int16, "click_day": pl.Int16, "clicks": pl.Int16, "reply_day": pl.Int16,
    "replies": pl.Int16, "auto_day": pl.Int16, "bounce": pl.Boolean, "unsub_day": pl.Int16,
    "opp_day": pl.Int16, "booked_day": pl.Int16, "done_day": pl.Int16, "won_day": pl.Int16,
    "value": pl.Float32, "complete_day": pl.Int16,
}
NONE = -1


def _ramp(days: np.ndarray, start: int, end: int) -> np.ndarray:
    span = max(1, end - start)
    return np.clip((days - start) / span, 0.0, 1.0)


def account_factors(plan: Plan) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per account and day: inbox factor (1 = healthy), bounce multiplier, first error day."""
    days = np.arange(plan.days)
    n = len(plan.accounts)
    inbox = np.ones((n, plan.days), dtype=np.float32)
    bounce = np.ones(n, dtype=np.float32)
    error_day = np.full(n, 10_000, dtype=np.int32)
    for a in plan.accounts:
        if a.kind == "decay":
            inbox[a.index] = 1.0 - 0.35 * _ramp(days, a.trouble_day, plan.days - 1)
        elif a.kind == "spam":
            inbox[a.index] = 1.0 - 0.6 * _ramp(days, a.trouble_day, plan.days - 1)
            bounce[a.index] = 1.8
        elif a.kind == "error":
            error_day[a.index] = a.trouble_day
            bounce[a.index] = 2.5
    return inbox, bounce, error_day


def _interest_chain(rng: np.random.Generator, reply_day: np.ndarray, today: int,
                    value: float) -> dict[str, np.ndarray]:
    """Opportunity -> meeting booked -> meeting completed -> won, for rows that replied."""
    m = len(reply_day)
    u = rng.random((m, 4))
    replied = reply_day >= 0

    def after(prev: np.ndarray, ok: np.ndarray, lo: int, hi: int) -> np.ndarray:
        cand = prev + rng.integers(lo, hi, size=m)
        return np.where(ok & (prev >= 0) & (cand <= today), cand, NONE)

    opp = after(reply_day, replied & (u[:, 0] < 0.35), 0, 3)
    booked = after(opp, u[:, 1] < 0.5, 1, 6)
    done = after(booked, u[:, 2] < 0.6, 2, 8)
    won = after(done, u[:, 3] < 0.35, 3, 11)
    worth = np.where(opp >= 0, value * rng.lognormal(0.0, 0.35, size=m), 0.0)
    return {"opp_day": opp, "booked_day": booked, "done_day": done, "won_day": won,
            "value": np.round(worth, 0)}


def simulate(rng: np.random.Generator, plan: Plan, camp: CampaignDef, steps: list[StepDef],
             leads: np.ndarray, start: np.ndarray, accts: np.ndarray, stop_day: int,
             factors: tuple[np.ndarray, np.ndarray, np.ndarray], sub: int = -1) -> pl.DataFrame:
    """Send ``steps`` to ``leads`` (first step on ``start``) and draw what followed."""
    inbox_f, bounce_m, error_day = factors
    today = plan.days - 1
    n = len(leads)
    alive = np.ones(n, dtype=bool)
    has_auto = np.zeros(n, dtype=bool)
    day = start.astype(np.int32)
    parts: list[pl.DataFrame] = []
    for s, step in enumerate(steps):
        if s:
            day = day + step.delay_days + rng.integers(0, 2, size=n)
        ok = (day <= stop_day) & (error_day[accts] > day)
        alive &= ok
        idx = np.flatnonzero(alive)
        m = len(idx)
        if m == 0:
            break
        d, acct = day[idx], accts[idx]
        f = inbox_f[acct, np.minimum(d, today)]
        n_var = len(step.multipliers)
        var = rng.integers(0, n_var, size=m)
        mult = np.asarray(step.multipliers)[var]
        u = rng.random((m, 6))
        bounced = u[:, 0] < camp.bounce_rate * (1.0 if s == 0 else 0.25) * bounce_m[acct]
        p_open = camp.base_open * (0.4 + 0.6 * f) if camp.open_tracking else np.zeros(m)
        open_day = d + rng.choice([0, 0, 0, 1, 1, 2], size=m)
        opened = ~bounced & (u[:, 1] < p_open) & (open_day <= today)
        clicked = opened & camp.link_tracking & (u[:, 2] < 0.09)
        p_reply = camp.base_reply * STEP_REPLY_FACTOR[min(s, 3)] * mult * f
        reply_day = d + rng.choice([0, 0, 1, 1, 2, 3], size=m)
        # a lead that sent an automatic reply sends no human one: counts stay disjoint
        replied = ~bounced & ~has_auto[idx] & (u[:, 3] < p_reply) & (reply_day <= today)
        auto = ~bounced & ~replied & ~has_auto[idx] & (u[:, 4] < 0.02)
        has_auto[idx[auto]] = True
        unsub_day = d + rng.integers(0, 3, size=m)
        unsub = ~bounced & ~replied & (u[:, 5] < 0.004) & (unsub_day <= today)
        alive[idx[bounced | replied | unsub]] = False
        complete = np.where(replied, reply_day, NONE)
        if s == len(steps) - 1:
            complete = np.where(alive[idx], d, complete)
        r_day = np.where(replied, reply_day, NONE)
        cols = {
            "c": np.full(m, camp.index), "sub": np.full(m, sub), "step": np.full(m, s),
            "var": var, "lead": leads[idx], "acct": acct, "day": d,
            "first": np.full(m, s == 0 and sub < 0),
            "open_day": np.where(opened, open_day, NONE),
            "opens": np.where(opened, 1 + rng.poisson(0.7, size=m), 0),
            "click_day": np.where(clicked, open_day, NONE),
            "clicks": np.where(clicked, 1 + (rng.random(m) < 0.25), 0),
            "reply_day": r_day, "replies": np.where(replied, 1 + (rng.random(m) < 0.2), 0),
            "auto_day": np.where(auto, d, NONE), "bounce": bounced,
            "unsub_day": np.where(unsub, unsub_day, NONE),
            **_interest_chain(rng, r_day, today, camp.opportunity_value),
            "complete_day": complete,
        }
        parts.append(pl.DataFrame({k: pl.Series(k, v, dtype=SENDS_SCHEMA[k])
                                   for k, v in cols.items()}))
    if not parts:
        return pl.DataFrame(schema=SENDS_SCHEMA)
    return pl.concat(parts)


def _campaign_sends(rng: np.random.Generator, plan: Plan, camp: CampaignDef,
                    factors: tuple[np.ndarray, np.ndarray, np.ndarray]) -> pl.DataFrame:
    if camp.start_day is None or camp.n_leads == 0:
        return pl.DataFrame(schema=SENDS_SCHEMA)
    n = camp.n_leads
    leads = np.arange(camp.lead_lo, camp.lead_hi, dtype=np.int32)
    start = camp.start_day + np.arange(n) // camp.per_day
    accts = np.asarray(camp.accounts, dtype=np.int32)[rng.integers(0, len(camp.accounts), n)]
    return simulate(rng, plan, camp, camp.steps, leads, start, accts, camp.stop_day, factors)


def simulate_all(plan: Plan) -> pl.DataFrame:
    """The sends table of the whole workspace (campaigns, then their subsequences)."""
    factors = account_factors(plan)
    parts: list[pl.DataFrame] = []
    for camp in plan.campaigns:
        rng = np.random.default_rng([plan.seed, 1, camp.index])
        parts.append(_campaign_sends(rng, plan, camp, factors))
    main = pl.concat(parts) if parts else pl.DataFrame(schema=SENDS_SCHEMA)
    subs: list[pl.DataFrame] = []
    for sq in plan.subsequences:
        rng = np.random.default_rng([plan.seed, 2, sq.index])
        camp = plan.campaigns[sq.campaign]
        own = main.filter((pl.col("c") == camp.index) & (pl.col("sub") == -1))
        per_lead = own.group_by("lead").agg(
            pl.col("complete_day").max(), (pl.col("open_day") >= 0).any().alias("opened"),
            (pl.col("reply_day") >= 0).any().alias("replied"), pl.col("acct").first(),
            pl.col("bounce").any(), (pl.col("unsub_day") >= 0).any().alias("unsub"),
        ).sort("lead")
        done = (pl.col("complete_day") >= 0) & ~pl.col("replied") & ~pl.col("bounce") & ~pl.col(
            "unsub")
        cond = done & pl.col("opened") if 2 in sq.lead_activity else done
        pick = per_lead.filter(cond)
        if pick.height == 0:
            continue
        start = np.maximum(pick["complete_day"].to_numpy() + 2, sq.start_day)
        subs.append(simulate(rng, plan, camp, sq.steps, pick["lead"].to_numpy(), start,
                             pick["acct"].to_numpy(), plan.days - 1, factors, sub=sq.index))
    return pl.concat([main, *subs]).rechunk()


class Warmup:
    """Warmup emails per account and day: sent, landed in inbox, landed in spam, received."""

    def __init__(self, sent: np.ndarray, inbox: np.ndarray, spam: np.ndarray,
                 received: np.ndarray) -> None:
        self.sent, self.inbox, self.spam, self.received = sent, inbox, spam, received


def warmup_table(plan: Plan) -> Warmup:
    """Draw the warmup history of every account (accounts x days, int32 arrays)."""
    rng = np.random.default_rng([plan.seed, 3])
    n, t = len(plan.accounts), plan.days
    days = np.arange(t)
    sent = np.zeros((n, t), dtype=np.int32)
    spam = np.zeros((n, t), dtype=np.int32)
    received = np.zeros((n, t), dtype=np.int32)
    for a in plan.accounts:
        target = np.clip(5 + 1.5 * (days - a.warmup_start_day), 5, 40)
        active = days >= a.warmup_start_day
        if a.warmup_status < 0:
            active &= days < a.trouble_day
        share = np.full(t, rng.uniform(0.005, 0.03))
        if a.kind == "decay":
            share = share + 0.30 * _ramp(days, a.trouble_day, t - 1)
        elif a.kind == "spam":
            share = share + 0.55 * _ramp(days, a.trouble_day, t - 1)
        s = np.where(active, rng.poisson(target), 0)
        sent[a.index] = s
        spam[a.index] = rng.binomial(s, np.clip(share, 0, 1))
        received[a.index] = np.where(active, np.maximum(0, s + rng.integers(-2, 3, size=t)), 0)
    return Warmup(sent, sent - spam, spam, received)
