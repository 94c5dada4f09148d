"""Analytics of the demo workspace agree with each other for any window.

Every request here goes through ``instantly_nb.Client`` (its generic ``fetch``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import polars as pl
import pytest

from instantly_nb import Client
from instantly_nb.demo import DEMO_KEY, DemoServer, Limits

from .test_demo_support import TODAY

WINDOWS: list[dict[str, Any]] = [
    {},
    {"start_date": "2026-11-14", "end_date": TODAY},
    {"start_date": "2026-10-01", "end_date": "2026-10-31"},
    {"start_date": "2026-11-03", "end_date": "2026-11-03"},
    {"start_date": "2026-08-01", "end_date": "2026-09-10"},  # starts before the history
]
# campaign analytics field -> (daily field, steps field) that must add up to it
SHARED = {
    "emails_sent_count": ("sent", "sent"),
    "reply_count": ("unique_replies", "unique_replies"),
    "reply_count_automatic": ("unique_replies_automatic", "unique_replies_automatic"),
    "link_click_count": ("clicks", "clicks"),
    "link_click_count_unique_by_step": ("unique_clicks", "unique_clicks"),
    "open_count_unique_by_step": ("unique_opened", "unique_opened"),
    "total_opportunities": ("unique_opportunities", "unique_opportunities"),
    "new_leads_contacted_count": ("new_leads_contacted", None),
}


@pytest.fixture(scope="module")
def server() -> Iterator[DemoServer]:
    with DemoServer(today=TODAY, limits=Limits(enabled=False)) as running:
        yield running


@pytest.fixture(scope="module")
def client(server: DemoServer) -> Iterator[Client]:
    with Client(api_key=DEMO_KEY, base_url=server.url, **server.client_pacing()) as c:
        yield c


def _sums(frame: pl.DataFrame, by: str, columns: list[str]) -> dict[str, dict[str, int]]:
    table = frame.group_by(by).agg(pl.col(c).fill_null(0).sum() for c in columns)
    return {row[by]: row for row in table.iter_rows(named=True)}


@pytest.mark.parametrize("window", WINDOWS, ids=lambda w: "-".join(w.values()) or "all")
def test_campaign_totals_equal_daily_and_step_sums(client: Client,
                                                   window: dict[str, Any]) -> None:
    totals = client.fetch("campaigns.analytics", **window)
    ids = totals["campaign_id"].to_list()
    daily_rows = client.fetch("campaigns.analytics_daily", campaign_id=ids, **window)
    step_rows = client.fetch("campaigns.analytics_steps", campaign_id=ids,
                             include_opportunities_count=True, **window)
    daily = _sums(daily_rows, "campaign_id", [d for d, _ in SHARED.values()])
    steps = _sums(step_rows, "campaign_id", [s for _, s in SHARED.values() if s])
    busy = 0
    for row in totals.iter_rows(named=True):
        cid = row["campaign_id"]
        for field, (day_field, step_field) in SHARED.items():
            assert row[field] == daily.get(cid, {}).get(day_field, 0), (cid, field)
            if step_field:
                assert row[field] == steps.get(cid, {}).get(step_field, 0), (cid, field)
        assert row["contacted_count"] <= row["leads_count"]
        # per-lead counts are new leads of the window: never more than the new leads contacted
        assert row["new_leads_contacted_count"] <= row["contacted_count"]
        for per_lead in ("open_count", "open_count_unique", "reply_count_unique",
                         "reply_count_automatic_unique", "link_click_count_unique"):
            assert row[per_lead] <= row["new_leads_contacted_count"], (cid, per_lead)
        assert row["reply_count_automatic_unique"] <= row["reply_count_unique"]
        busy += row["emails_sent_count"] > 0
    assert busy >= 3


@pytest.mark.parametrize("window", WINDOWS, ids=lambda w: "-".join(w.values()) or "all")
def test_overview_is_the_sum_of_the_selected_campaigns(client: Client,
                                                       window: dict[str, Any]) -> None:
    rows = client.fetch("campaigns.analytics", **window)
    overview = client.fetch("campaigns.analytics_overview", **window).row(0, named=True)
    shared = [c for c in overview if c in rows.columns]
    assert len(shared) >= 18
    for column in shared:
        assert overview[column] == rows[column].sum(), column
    picked = rows.sort("emails_sent_count", descending=True)["campaign_id"].to_list()[:3]
    subset = client.fetch("campaigns.analytics_overview", ids=picked, **window).row(
        0, named=True)
    own = rows.filter(pl.col("campaign_id").is_in(picked))
    assert all(subset[c] == own[c].sum() for c in shared)
    per_campaign = [client.fetch("campaigns.analytics_overview", id=cid, **window)
                    .row(0, named=True) for cid in picked]
    for column in overview:
        assert subset[column] == pytest.approx(sum(p[column] for p in per_campaign)), column


@pytest.mark.parametrize("window", WINDOWS[1:3], ids=["last-week", "october"])
def test_workspace_daily_is_the_sum_of_campaign_daily(client: Client,
                                                      window: dict[str, Any]) -> None:
    ids = client.fetch("campaigns.list")["id"].to_list()
    whole = client.fetch("campaigns.analytics_daily", **window).sort("date")
    parts = client.fetch("campaigns.analytics_daily", campaign_id=ids, **window)
    summed = parts.group_by("date").agg(pl.col("sent", "unique_replies", "clicks").sum())
    joined = whole.join(summed, on="date", suffix="_parts")
    assert joined.height == whole.height > 0
    for column in ("sent", "unique_replies", "clicks"):
        assert joined[column].to_list() == joined[f"{column}_parts"].to_list()


def test_warmup_summary_is_the_sum_of_warmup_days(client: Client) -> None:
    days = client.fetch("accounts.warmup_daily")
    summary = client.fetch("accounts.warmup_summary")
    assert summary.height == client.fetch("accounts.list").height
    sums = _sums(days, "email", ["sent", "landed_inbox", "landed_spam", "received"])
    for row in summary.iter_rows(named=True):
        own = sums[row["email"]]
        for column in ("sent", "landed_inbox", "landed_spam", "received"):
            assert (row[column] or 0) == own[column], (row["email"], column)
        placed = own["landed_inbox"] + own["landed_spam"]
        assert row["health_score"] == round(100 * own["landed_inbox"] / placed)


def test_account_daily_adds_up_to_campaign_and_subsequence_sends(server: DemoServer,
                                                                 client: Client) -> None:
    window: dict[str, Any] = {"start_date": "2026-10-22", "end_date": TODAY}
    accounts = client.fetch("accounts.analytics_daily", **window)
    campaigns = client.fetch("campaigns.analytics_daily", **window)
    subs = client.fetch("subsequences.analytics_steps",
                        id=[s["id"] for s in server.workspace.subsequences], **window)
    for column in ("sent", "unique_replies"):
        parts = [int(frame[column].sum()) for frame in (campaigns, subs)]
        assert int(accounts[column].sum()) == sum(parts) and parts[1] > 0


def _plain_campaigns(server: DemoServer) -> list[Any]:
    with_subs = {s.campaign for s in server.workspace.plan.subsequences}
    return [c for c in server.workspace.plan.campaigns
            if c.start_day is not None and c.index not in with_subs]


def test_leads_agree_with_campaign_analytics(server: DemoServer, client: Client) -> None:
    camp = _plain_campaigns(server)[0]
    totals = client.fetch("campaigns.analytics", id=camp.id).row(0, named=True)
    leads = client.fetch("leads.list", campaign=camp.id)
    assert leads.height == totals["leads_count"]
    assert leads["id"].n_unique() == leads.height
    replied = leads.filter(pl.col("email_replied_step").is_not_null())
    # replies count automatic ones too (Instantly's guide): human = all - automatic
    assert replied.height == totals["reply_count_unique"] - totals["reply_count_automatic_unique"]
    assert leads.filter(pl.col("email_open_count") > 0).height == totals["open_count"]
    assert leads.filter(pl.col("status") == -1).height == totals["bounced_count"]
    daily = client.fetch("campaigns.analytics_daily", campaign_id=camp.id)
    assert leads["email_reply_count"].sum() == (daily["replies"].sum()
                                                 - daily["replies_automatic"].sum())


def test_unibox_holds_one_received_email_per_reply(server: DemoServer, client: Client) -> None:
    camp = _plain_campaigns(server)[1]
    totals = client.fetch("campaigns.analytics", id=camp.id).row(0, named=True)
    received = client.fetch("emails.list", campaign_id=camp.id, email_type="received")
    assert received.filter(pl.col("is_auto_reply") == 0).height == (
        totals["reply_count"] - totals["reply_count_automatic"])
    assert received.filter(pl.col("is_auto_reply") == 1).height == totals[
        "reply_count_automatic"]
    unread = client.fetch("emails.unread_count")["count"][0]
    assert 0 < unread == server.workspace.unibox.unread_count()


def test_campaign_list_agrees_with_analytics_and_status_filter(client: Client) -> None:
    listed = client.fetch("campaigns.list")
    rows = client.fetch("campaigns.analytics", ids=listed["id"].to_list())
    assert sorted(rows["campaign_id"].to_list()) == sorted(listed["id"].to_list())
    statuses = dict(zip(listed["id"], listed["status"], strict=True))
    assert all(statuses[r["campaign_id"]] == r["campaign_status"]
               for r in rows.iter_rows(named=True))
    assert set(statuses.values()) == {0, 1, 2, 3, 4, -1, -2, -99}
