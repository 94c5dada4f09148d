"""Every injected fault, as seen at the HTTP level."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from instantly_nb.demo import DemoServer, Faults, Limits

from .test_demo_support import TODAY, call, http, walk

COUNT = "/api/v2/campaigns/count-launched"


@contextmanager
def serving(faults: Faults, latency_ms: float = 0,
            jitter_ms: float = 0) -> Iterator[tuple[DemoServer, httpx.Client]]:
    with DemoServer(size="tiny", today=TODAY, faults=faults, limits=Limits(enabled=False),
                    latency_ms=latency_ms, jitter_ms=jitter_ms) as server, http(server) as c:
        yield server, c


def test_no_faults_by_default() -> None:
    assert Faults() == Faults(latency_ms=0, error_rate=0, hang_rate=0, truncate_rate=0,
                              invalid_json_rate=0, empty_final_cursor=False,
                              dangling_cursor=False, error_in_200=None)
    with serving(Faults()) as (_, c):
        assert {c.get(COUNT).status_code for _ in range(20)} == {200}


@pytest.mark.parametrize("status", [429, 500, 502, 503])
def test_error_rate_answers_the_chosen_status(status: int) -> None:
    with serving(Faults(error_rate=1.0, error_statuses=(status,))) as (_, c):
        response = c.get(COUNT)
    assert response.status_code == status
    assert response.json()["statusCode"] == status
    assert ("Retry-After" in response.headers) == (status == 429)


def test_error_rate_is_a_seeded_share() -> None:
    faults = Faults(error_rate=0.3, error_statuses=(500, 503), seed=11)
    with serving(faults) as (_, c):
        first = [c.get(COUNT).status_code for _ in range(60)]
    with serving(faults) as (_, c):
        again = [c.get(COUNT).status_code for _ in range(60)]
    assert first == again
    failed = [s for s in first if s != 200]
    assert 6 <= len(failed) <= 30 and set(failed) <= {500, 503}


def test_fail_first_then_recover() -> None:
    with serving(Faults(fail_first=(503, 429))) as (_, c):
        codes = [c.get(COUNT).status_code for _ in range(4)]
    assert codes == [503, 429, 200, 200]


def test_latency_and_jitter_delay_every_answer() -> None:
    with serving(Faults(), latency_ms=120, jitter_ms=30) as (_, c):
        c.get(COUNT)
        start = time.perf_counter()
        c.get(COUNT)
        elapsed = time.perf_counter() - start
    assert 0.12 <= elapsed < 1.0


def test_hanging_request_outlives_the_client_timeout() -> None:
    with serving(Faults(hang_rate=1.0, hang_seconds=3)) as (server, _), \
            http(server, timeout=0.3) as short, pytest.raises(httpx.ReadTimeout):
        short.get(COUNT)


@pytest.mark.parametrize("kind", ["truncate_rate", "invalid_json_rate"])
def test_broken_bodies_are_not_json(kind: str) -> None:
    with serving(Faults()) as (_, c):
        good = c.get("/api/v2/campaigns").content
    broken = Faults(truncate_rate=1.0) if kind == "truncate_rate" else Faults(
        invalid_json_rate=1.0)
    with serving(broken) as (_, c):
        response = c.get("/api/v2/campaigns")
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)
    if kind == "truncate_rate":
        assert good.startswith(response.content) and len(response.content) < len(good)


def test_faults_can_target_some_endpoints() -> None:
    with serving(Faults(error_rate=1.0, error_statuses=(500,),
                        endpoints=("campaigns.list",))) as (_, c):
        assert c.get("/api/v2/campaigns").status_code == 500
        assert c.get(COUNT).status_code == 200


def test_empty_string_final_cursor() -> None:
    with serving(Faults(empty_final_cursor=True)) as (_, c):
        pages = walk(c, "campaigns.list", limit=3)
    assert pages[-1]["next_starting_after"] == ""
    assert all(p["next_starting_after"] for p in pages[:-1])
    assert sum(len(p["items"]) for p in pages) == 8


def test_last_page_still_carries_a_cursor_to_an_empty_page() -> None:
    with serving(Faults(dangling_cursor=True)) as (server, c):
        pages = walk(c, "campaigns.list", limit=4)
        leads = walk(c, "leads.list", {"campaign": server.workspace.campaign_ids[0]}, limit=100)
    assert [len(p["items"]) for p in pages] == [4, 4, 0]
    assert pages[1]["next_starting_after"] == pages[1]["items"][-1]["id"]
    assert "next_starting_after" not in pages[2]
    assert leads[-1]["items"] == [] and leads[-2]["next_starting_after"]


def test_error_inside_a_200_for_one_endpoint() -> None:
    with serving(Faults(error_in_200="accounts.list")) as (server, c):
        broken = c.get("/api/v2/accounts")
        fine = call(c, "campaigns.list")
    assert broken.status_code == 200 and broken.json() == {"error": "ACC_AUTH_ERROR"}
    assert fine.status_code == 200 and fine.json()["items"]
