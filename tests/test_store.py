"""The snapshot store: hits, TTL, refresh, corruption, incremental refresh, dated history."""

from __future__ import annotations

import json

import httpx
import polars as pl
import pytest

from instantly_nb import Client, Store

from .conftest import FAKE_KEY, Recorder, json_response
from .test_http import FAST


class FakeWorkspace:
    """A tiny API: a workspace, two pages of custom tags, a growing list of leads."""

    def __init__(self) -> None:
        self.leads = [{"id": f"L{i:04d}", "email": f"l{i}@x.com"} for i in range(150)]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/workspaces/current"):
            return json_response({"id": "ws-1", "name": "Acme"})
        if path.endswith("/custom-tags"):
            after = request.url.params.get("starting_after")
            if after is None:
                return json_response({"items": [{"id": "t1", "label": "a"}], "next_starting_after": "t1"})
            return json_response({"items": [{"id": "t2", "label": "b"}]})
        if path.endswith(("/campaigns", "/lead-lists")):
            return json_response({"items": []})  # the leads walk asks for campaigns and lists
        if path.endswith("/leads/list"):
            body = json.loads(request.content)
            after = body.get("starting_after")
            rest = [lead for lead in self.leads if after is None or lead["id"] > after]
            page = rest[: body["limit"]]
            nxt = page[-1]["id"] if len(rest) > len(page) else None
            return json_response({"items": page, "next_starting_after": nxt})
        return json_response({"message": "nope"}, 404)


def make(tmp_path, api: FakeWorkspace, clock) -> tuple[Client, Recorder]:
    rec = Recorder(api)
    client = Client(api_key=FAKE_KEY, base_url="https://api.test", transport=rec.transport,
                    retry=FAST, cache=Store(tmp_path / "store", ttl=60, clock=clock))
    return client, rec


@pytest.fixture
def clock():
    now = {"t": 1_800_000_000.0}

    def tick() -> float:
        return now["t"]

    tick.now = now  # type: ignore[attr-defined]
    return tick


def data_requests(rec: Recorder) -> int:
    return sum(1 for p in rec.paths() if not p.endswith("/workspaces/current"))


def test_second_fetch_is_served_with_zero_requests(tmp_path, clock):
    client, rec = make(tmp_path, FakeWorkspace(), clock)
    first = client.fetch("custom_tags.list")
    n = len(rec.requests)
    second = client.fetch("custom_tags.list")
    assert len(rec.requests) == n
    assert first.equals(second) and second["id"].to_list() == ["t1", "t2"]
    again = Client(api_key=FAKE_KEY, base_url="https://api.test", transport=rec.transport,
                   cache=Store(tmp_path / "store", ttl=60, clock=clock))
    again._workspace_id = "ws-1"
    assert again.fetch("custom_tags.list").equals(first)
    assert len(rec.requests) == n


def test_ttl_expiry_and_refresh(tmp_path, clock):
    client, rec = make(tmp_path, FakeWorkspace(), clock)
    client.fetch("custom_tags.list")
    assert data_requests(rec) == 2
    clock.now["t"] += 30
    client.fetch("custom_tags.list")
    assert data_requests(rec) == 2
    client.fetch("custom_tags.list", refresh=True)
    assert data_requests(rec) == 4
    clock.now["t"] += 61
    client.fetch("custom_tags.list")
    assert data_requests(rec) == 6


def test_corrupt_or_truncated_snapshot_is_fetched_again(tmp_path, clock):
    client, rec = make(tmp_path, FakeWorkspace(), clock)
    good = client.fetch("custom_tags.list")
    files = list((tmp_path / "store").rglob("*.parquet"))
    assert len(files) == 1
    files[0].write_bytes(files[0].read_bytes()[:20])
    again = client.fetch("custom_tags.list")
    assert again.equals(good)
    assert data_requests(rec) == 4


def test_incremental_refresh_adds_only_new_leads(tmp_path, clock):
    api = FakeWorkspace()
    client, rec = make(tmp_path, api, clock)
    first = client.fetch("leads.list")
    # two pages of leads, after the campaigns and lists a split into chains would need
    assert first.height == 150 and data_requests(rec) == 4
    api.leads += [{"id": f"L{i:04d}", "email": f"l{i}@x.com"} for i in range(150, 170)]
    clock.now["t"] += 120  # stale: an incremental refresh, not a full walk
    before = data_requests(rec)
    second = client.fetch("leads.list")
    new_bodies = [json.loads(r.content) for r in rec.requests[-(data_requests(rec) - before):]
                  if r.url.path.endswith("/leads/list")]
    assert new_bodies[0]["starting_after"] == "L0149"
    assert second.height == 170 and second["id"].n_unique() == 170
    assert second["id"].to_list() == sorted(second["id"].to_list())


def test_store_never_contains_the_key(tmp_path, clock):
    client, _ = make(tmp_path, FakeWorkspace(), clock)
    client.fetch("custom_tags.list")
    client.fetch("leads.list")
    for path in (tmp_path / "store").rglob("*"):
        if path.is_file():
            assert FAKE_KEY.encode() not in path.read_bytes(), path


def test_history_keeps_one_snapshot_per_day(tmp_path, clock):
    store = Store(tmp_path / "s", clock=clock)
    frame = pl.DataFrame({"email": ["a@x.com"], "health_score": [90.0]})
    store.append_history("ws", "accounts.warmup_summary", frame)
    store.append_history("ws", "accounts.warmup_summary", frame.with_columns(pl.lit(80.0).alias("health_score")))
    clock.now["t"] += 86_400
    store.append_history("ws", "accounts.warmup_summary", frame)
    hist = store.history("ws", "accounts.warmup_summary")
    assert hist is not None
    assert hist.columns == ["snapshot_date", "email", "health_score"]
    assert hist["health_score"].to_list() == [80.0, 90.0]
    assert hist["snapshot_date"].n_unique() == 2


def test_the_store_remembers_which_workspace_a_key_opens_without_the_key(tmp_path):
    store = Store(tmp_path / "s")
    assert store.known_workspace("https://api.test", "Bearer k1") is None
    store.remember_workspace("https://api.test", "Bearer k1", "ws-1")
    again = Store(tmp_path / "s")
    assert again.known_workspace("https://api.test", "Bearer k1") == "ws-1"
    assert again.known_workspace("https://api.test", "Bearer k2") is None
    assert again.known_workspace("https://other.test", "Bearer k1") is None
    text = (tmp_path / "s" / "workspaces.json").read_text()
    assert "k1" not in text and "ws-1" in text


def test_daily_rows_are_kept_with_the_days_they_hold(tmp_path):
    import datetime as dt

    store = Store(tmp_path / "s")
    day = dt.date(2026, 10, 1)
    rows = pl.DataFrame({"date": [day], "sent": [5]})
    store.put_days("ws", "campaigns.analytics_daily", {"campaign_id": "c"}, rows,
                   {day: 100.0, day + dt.timedelta(days=1): 100.0})
    frame, days = store.get_days("ws", "campaigns.analytics_daily", {"campaign_id": "c"})
    assert frame is not None and frame.equals(rows)
    assert days == {day: 100.0, day + dt.timedelta(days=1): 100.0}
    next(iter((tmp_path / "s").rglob("days-*.parquet"))).write_bytes(b"PAR1")
    assert store.get_days("ws", "campaigns.analytics_daily", {"campaign_id": "c"}) == (None, {})
