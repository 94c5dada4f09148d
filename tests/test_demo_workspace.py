"""The generated workspace: determinism, speed, and the ground truth it exposes."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from instantly_nb.demo import DemoServer, Limits, Workspace, build_workspace
from instantly_nb.demo.examples import example_params
from instantly_nb.demo.ids import iso_ms, iso_ms_texts, uid_at, uids_at
from instantly_nb.demo.model import BETTER_MULTIPLIER

from .test_demo_support import TODAY, call, http

NAMES = ("campaigns.analytics", "campaigns.analytics_steps", "accounts.warmup_analytics",
         "leads.list", "emails.list", "audit_logs.list", "inbox_placement_analytics.list")


@pytest.fixture(scope="module")
def ws() -> Workspace:
    return build_workspace(7, "default", TODAY)


def test_default_build_has_its_size_and_is_cached() -> None:
    fresh = Workspace(7, "default", dt.date(2026, 11, 20), "sizes")
    assert 20_000 <= fresh.leads.n <= 60_000 and len(fresh.accounts) >= 30
    assert build_workspace(7, "default", TODAY) is build_workspace(7, "default", TODAY)


def test_same_seed_same_tables_other_seed_other_tables(ws: Workspace) -> None:
    again = Workspace(7, "default", dt.date(2026, 11, 20), "demo")
    other = Workspace(8, "default", dt.date(2026, 11, 20), "demo")
    assert again.sends.equals(ws.sends)
    assert again.campaigns == ws.campaigns and again.accounts == ws.accounts
    assert not other.sends.equals(ws.sends)
    assert {c["id"] for c in other.campaigns}.isdisjoint({c["id"] for c in ws.campaigns})


def test_same_seed_servers_answer_byte_for_byte_alike() -> None:
    bodies = []
    for _ in range(2):
        with DemoServer(size="tiny", today=TODAY, limits=Limits(enabled=False)) as s, \
                http(s) as c:
            params = example_params(s.workspace)
            bodies.append([call(c, n, params[n]).content for n in NAMES])
    assert bodies[0] == bodies[1]


def test_history_ends_today_and_covers_90_days(ws: Workspace) -> None:
    assert ws.today == dt.date(2026, 11, 20) and ws.first_day == dt.date(2026, 8, 23)
    days = ws.sends["day"].to_numpy()
    assert days.max() == 89 and days.min() >= 0
    assert ws.truth.today == ws.today


def test_every_campaign_status_and_sequence_shape(ws: Workspace) -> None:
    assert {c.status for c in ws.plan.campaigns} == {0, 1, 2, 3, 4, -1, -2, -99}
    for camp in ws.plan.campaigns:
        assert 2 <= len(camp.steps) <= 4
        assert all(1 <= len(s.multipliers) <= 4 for s in camp.steps)
    drafts = [c.index for c in ws.plan.campaigns if c.status == 0]
    assert ws.main.filter(pl.col("c").is_in(drafts)).height == 0


def test_better_variants_really_get_more_replies(ws: Workspace) -> None:
    better = [v for v in ws.truth.better_variants if v.step == 1]
    assert better and all(v.reply_multiplier == BETTER_MULTIPLIER for v in better)
    wins = 0
    for v in better:
        idx = ws.campaign_index[v.campaign_id]
        rows = ws.main.filter((pl.col("c") == idx) & (pl.col("step") == 0))
        rate = rows.group_by("var").agg((pl.col("reply_day") >= 0).mean().alias("r"))
        rates = dict(rate.iter_rows())
        wins += rates[v.variant] > 1.3 * rates[0]
    assert wins >= 0.75 * len(better)
    assert ws.truth.equal_variants and all(
        0.9 <= v.reply_multiplier <= 1.1 for v in ws.truth.equal_variants)


def test_troubled_accounts_show_their_trouble(ws: Workspace) -> None:
    truth = ws.truth
    score = {a["email"]: a["stat_warmup_score"] for a in ws.accounts}
    healthy = np.mean([score[e] for e in truth.healthy_accounts])
    assert max(score[e] for e in truth.decaying_accounts) < healthy - 3
    last_week = slice(ws.plan.days - 7, ws.plan.days)
    first_weeks = slice(ws.plan.days - 60, ws.plan.days - 30)

    def spam_share(email: str, days: slice) -> float:
        idx = ws.account_index[email]
        return ws.warmup.spam[idx, days].sum() / max(1, ws.warmup.sent[idx, days].sum())

    for email in truth.spam_accounts:
        assert spam_share(email, last_week) > spam_share(email, first_weeks) + 0.2
    for email, (status, warmup) in truth.error_accounts.items():
        record = ws.accounts[ws.account_index[email]]
        assert (record["status"], record["warmup_status"]) == (status, warmup)
        assert status < 0 or warmup < 0
        assert "status_message" in record
    assert set(truth.troubled_accounts).isdisjoint(truth.healthy_accounts)


def test_entities_exist_in_every_group(ws: Workspace) -> None:
    assert len(ws.lists) >= 3 and ws.subsequences and ws.placement.tests
    assert ws.placement.reports and ws.tags.tags and ws.tags.mappings and ws.tags.labels
    assert ws.tags.blocklist and ws.tags.webhooks and ws.tags.events and ws.org.jobs
    assert ws.org.members and ws.org.group_members and len(ws.org.audit_logs) > 1000
    assert ws.org.dfy_orders and ws.org.plan_details and ws.org.api_keys
    assert all(k["key"].startswith("demo-masked-") for k in ws.org.api_keys)
    kinds = set(ws.unibox.table["kind"].to_list())
    assert kinds == {1, 2, 3} and ws.unibox.table["auto"].any()


@pytest.mark.slow
def test_large_workspace_has_its_size() -> None:
    large = Workspace(7, "large", dt.date(2026, 11, 20), "large")
    assert large.leads.n > 900_000 and len(large.accounts) >= 300
    assert len(large.campaigns) == 100
    mid = large.plan.campaigns[50]
    assert len(large.leads.record(mid.lead_lo, large.lead_context)["id"]) == 36


def test_public_names_are_documented() -> None:
    import instantly_nb.demo as demo

    for name in demo.__all__:
        value = getattr(demo, name)
        if callable(value):
            assert (value.__doc__ or "").strip(), name
    assert demo.DEMO_KEY in (demo.__doc__ or "")
    assert all(key in (demo.__doc__ or "") for key in demo.DEMO_KEYS)


def test_ids_and_stamps_of_a_page_equal_the_one_at_a_time_versions() -> None:
    rng = np.random.default_rng(3)
    ms = np.concatenate([rng.integers(0, 253_402_300_799_999, 3000),  # up to year 9999
                         np.array([0, 1, 999, 86_399_999, 1_700_000_000_000])])
    numbers = [int(v) for v in rng.integers(0, 10**9, len(ms))]
    for seed, kind in ((7, "lead"), (12345, "email"), (0, "thread")):
        assert uids_at(ms, seed, kind, numbers) == [uid_at(int(m), seed, kind, k)
                                                   for m, k in zip(ms, numbers, strict=True)]
    assert iso_ms_texts(ms) == [iso_ms(int(m)) for m in ms]
    assert uids_at(ms[:0], 7, "lead", []) == []


def test_per_campaign_analytics_kept_per_window_equal_the_filtered_computation() -> None:
    from instantly_nb.demo import analytics
    from instantly_nb.demo.protocol import Call
    from instantly_nb.demo.registry import handlers
    from instantly_nb.endpoints import ENDPOINTS

    ws = build_workspace(7, "tiny", today=TODAY)
    run = handlers()
    first, last = ws.dates[3], ws.dates[-5]
    w = (3, len(ws.dates) - 5)
    for n, cid in enumerate(ws.campaign_ids):
        window = [("start_date", first), ("end_date", last)]
        rows = ws.main.filter(pl.col("c") == n)
        daily = run["campaigns.analytics_daily"](
            ws, Call(ENDPOINTS["campaigns.analytics_daily"], {}, [("campaign_id", cid), *window],
                     {}))
        assert daily == analytics.daily(rows, w, ws.dates[w[0]:w[1] + 1])
        overview = run["campaigns.analytics_overview"](
            ws, Call(ENDPOINTS["campaigns.analytics_overview"], {}, [("id", cid), *window], {}))
        totals = analytics.campaign_totals(rows, w).get(n) or analytics.zero_totals()
        assert overview == {k: totals[k] for k in analytics.OVERVIEW_FIELDS}
        combos = sorted({(s, v) for s, step in enumerate(ws.plan.campaigns[n].steps)
                         for v in range(len(step.multipliers))})
        for opp in ("true", "false"):
            steps = run["campaigns.analytics_steps"](ws, Call(
                ENDPOINTS["campaigns.analytics_steps"], {},
                [("campaign_id", cid), ("include_opportunities_count", opp), *window], {}))
            assert steps == analytics.steps(rows, w, combos, opp == "true")
    both = [("campaign_status", "1"), ("start_date", first), ("end_date", last)]
    chosen = [c.index for c in ws.plan.campaigns if c.status == 1]
    daily = run["campaigns.analytics_daily"](
        ws, Call(ENDPOINTS["campaigns.analytics_daily"], {}, both, {}))
    assert len(chosen) > 1 and daily == analytics.daily(
        ws.main.filter(pl.col("c").is_in(chosen)), w, ws.dates[w[0]:w[1] + 1])
    assert sum(r["sent"] for r in daily) > 0
    assert any(r["sent"] and r["replies"] for r in steps)


def test_placement_stats_of_every_esp_pair_equal_the_stats_of_its_rows() -> None:
    from instantly_nb.demo import h_placement

    ws = build_workspace(7, "default", today=TODAY)
    table = ws.placement.table
    for t in (table, table.filter(pl.col("day") % 3 == 0), table.clear()):
        pairs = {(int(a), int(b)) for a, b in t.select("sender_esp", "esp").iter_rows()}
        expected = {(s, r): h_placement._stats(t.filter((pl.col("sender_esp") == s)
                                                        & (pl.col("esp") == r)))
                    for s, r in pairs}
        assert h_placement._pair_stats(t) == expected
    assert len(pairs) == 0 and len(expected) == 0
    assert any(v["spam"] and v["sent"] for v in h_placement._pair_stats(table).values())
