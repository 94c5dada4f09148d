"""What makes a fetch fast as shipped: partitioned lead walks, the remembered workspace, worker
sizing, and daily analytics refreshed per day."""

from __future__ import annotations

import datetime as dt
import json
import threading

import httpx
import polars as pl
import pytest

from instantly_nb import Client, Store

from .conftest import FAKE_KEY, Recorder, json_response
from .test_http import FAST


def test_every_lead_exactly_once_through_partitioned_chains():
    with Client.demo(size="tiny", progress=False) as client:
        ws = client.demo_server.workspace
        campaigns = client.fetch("campaigns.analytics")
        lists = client.fetch("lead_lists.list")
        sent = client.requests_sent
        leads = client.fetch("leads.list")
        asked = client.requests_sent - sent
    assert leads.height == ws.leads.n == leads["id"].n_unique()
    per_campaign = dict(leads.group_by("campaign").len().drop_nulls("campaign").iter_rows())
    assert per_campaign == dict(campaigns.select("campaign_id", "leads_count").iter_rows())
    per_list = dict(leads.group_by("list_id").len().drop_nulls("list_id").iter_rows())
    in_lists = {lst: int((ws.leads.list == i).sum()) for i, lst in enumerate(ws.lead_context.list_ids)}
    assert per_list == {k: v for k, v in in_lists.items() if v}
    assert set(per_list) <= set(lists["id"].to_list())
    # one chain per campaign, per list and one for the rest (each at least one page)
    assert asked >= campaigns.height + lists.height + 1


def test_a_filtered_listing_is_not_partitioned():
    with Client.demo(size="tiny", progress=False) as client:
        camp = client.fetch("campaigns.list")["id"][0]
        sent = client.requests_sent
        frame = client.fetch("leads.list", campaign=camp)
        assert client.requests_sent - sent == -(-frame.height // 100) + (frame.height % 100 == 0)
        assert frame["campaign"].unique().to_list() == [camp]


class Api:
    """A small API: the workspace, campaigns' daily analytics that can be corrected."""

    def __init__(self) -> None:
        self.daily: dict[str, int] = {}
        self.calls: list[dict[str, str]] = []
        self.lock = threading.Lock()
        self.workspace_calls = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/workspaces/current"):
            with self.lock:
                self.workspace_calls += 1
            return json_response({"id": "ws-1", "name": "Acme"})
        if path.endswith("/campaigns/analytics/daily"):
            q = dict(request.url.params)
            self.calls.append(q)
            start, end = dt.date.fromisoformat(q["start_date"]), dt.date.fromisoformat(q["end_date"])
            rows = [{"date": d, "sent": n} for d, n in sorted(self.daily.items())
                    if start <= dt.date.fromisoformat(d) <= end]
            return json_response(rows)
        return json_response({"items": []})


def _client(tmp_path, api, clock) -> Client:
    return Client(api_key=FAKE_KEY, base_url="https://api.test", transport=Recorder(api).transport,
                  retry=FAST, cache=Store(tmp_path / "store", ttl=3600, clock=clock))


def test_a_new_client_on_an_existing_store_sends_no_request(tmp_path):
    api = Api()
    clock = lambda: 1_800_000_000.0  # noqa: E731
    first = _client(tmp_path, api, clock)
    first.fetch("campaigns.analytics_daily", start_date="2027-01-01", end_date="2027-01-03")
    assert api.workspace_calls == 1
    again = _client(tmp_path, api, clock)
    frame = again.fetch("campaigns.analytics_daily", start_date="2027-01-01", end_date="2027-01-03")
    assert again.requests_sent == 0 and api.workspace_calls == 1
    assert frame.columns[0] == "date"


def test_the_workspace_is_asked_once_under_concurrent_fetches(tmp_path):
    api = Api()
    client = _client(tmp_path, api, lambda: 1_800_000_000.0)
    threads = [threading.Thread(target=client.workspace_id) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert api.workspace_calls == 1


def test_default_worker_count_follows_rate_and_latency():
    slow = Client(api_key=FAKE_KEY, rate_per_second=95)
    assert slow.max_workers == 29  # 95/s x 0.15 s in flight, doubled for jitter
    assert Client(api_key=FAKE_KEY, rate_per_second=10).max_workers == 4
    assert Client(api_key=FAKE_KEY, max_workers=3).max_workers == 3
    slow._requester.latency = 0.6  # a slow link: more requests in flight for the same rate
    assert slow.max_workers == 64


def test_daily_analytics_refresh_only_missing_and_recent_days(tmp_path):
    api = Api()
    day0 = dt.date(2027, 1, 1)
    api.daily = {(day0 + dt.timedelta(days=i)).isoformat(): 10 + i for i in range(30)}
    now = {"t": dt.datetime(2027, 1, 31, 6, tzinfo=dt.UTC).timestamp()}
    client = _client(tmp_path, api, lambda: now["t"])
    first = client.fetch("campaigns.analytics_daily", start_date="2027-01-01",
                         end_date="2027-01-30")
    assert first.height == 30 and len(api.calls) == 1
    # the next day: a new day, and the API corrects a recent day
    api.daily["2027-01-31"] = 99
    api.daily["2027-01-28"] = 1000
    now["t"] += 86_400 + 1
    second = client.fetch("campaigns.analytics_daily", start_date="2027-01-02",
                          end_date="2027-01-31")
    assert len(api.calls) == 2
    # days fetched within 7 days of themselves are fetched again; older ones are final
    assert api.calls[-1] == {"start_date": "2027-01-24", "end_date": "2027-01-31"}
    sent = dict(zip(second["date"].cast(pl.String), second["sent"], strict=True))
    assert sent["2027-01-28"] == 1000 and sent["2027-01-31"] == 99 and sent["2027-01-02"] == 11
    assert second.height == 30 and second["date"].is_sorted()
    # a window inside what is held, within the TTL: no request
    client.fetch("campaigns.analytics_daily", start_date="2027-01-10", end_date="2027-01-20")
    assert len(api.calls) == 2
    direct = Client(api_key=FAKE_KEY, base_url="https://api.test",
                    transport=Recorder(api).transport, retry=FAST)
    expected = direct.fetch("campaigns.analytics_daily", start_date="2027-01-02",
                            end_date="2027-01-31")
    assert second.equals(expected)


def test_store_key_is_not_in_the_workspace_book(tmp_path):
    api = Api()
    client = _client(tmp_path, api, lambda: 1_800_000_000.0)
    client.workspace_id()
    book = json.loads((tmp_path / "store" / "workspaces.json").read_text())
    assert "ws-1" in book.values() and not any(FAKE_KEY in k for k in book)
    assert FAKE_KEY not in (tmp_path / "store" / "workspaces.json").read_text()


@pytest.mark.parametrize("lookback", [0, 3])
def test_lookback_is_configurable(tmp_path, lookback):
    api = Api()
    api.daily = {f"2027-01-{d:02d}": d for d in range(1, 11)}
    now = {"t": dt.datetime(2027, 1, 11, 6, tzinfo=dt.UTC).timestamp()}
    client = Client(api_key=FAKE_KEY, base_url="https://api.test", transport=Recorder(api).transport,
                    retry=FAST, cache=Store(tmp_path / "s", ttl=60, clock=lambda: now["t"],
                                            lookback_days=lookback))
    client.fetch("campaigns.analytics_daily", start_date="2027-01-01", end_date="2027-01-10")
    now["t"] += 86_400
    client.fetch("campaigns.analytics_daily", start_date="2027-01-01", end_date="2027-01-10")
    first_refetched = dt.date(2027, 1, 11) - dt.timedelta(days=lookback)
    if lookback == 0:
        assert len(api.calls) == 1  # every day of the window was final when fetched
    else:
        assert api.calls[-1]["start_date"] == first_refetched.isoformat()
