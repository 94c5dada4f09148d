"""Auth, pagination, parameter errors and rate limits of the demo server, as plain HTTP."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator

import httpx
import pytest

from instantly_nb.demo import DEMO_KEY, DEMO_KEYS, DemoServer, Limits

from .test_demo_support import TODAY, bearer, call, http, response_validator, walk

UNKNOWN = "0190d9b1-0000-7000-8000-000000000000"


@pytest.fixture(scope="module")
def server() -> Iterator[DemoServer]:
    with DemoServer(today=TODAY, limits=Limits(enabled=False)) as running:
        yield running


@pytest.fixture(scope="module")
def client(server: DemoServer) -> Iterator[httpx.Client]:
    with http(server) as c:
        yield c


# -- auth ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("headers", [{}, bearer("not-a-demo-key"),
                                     {"Authorization": f"Basic {DEMO_KEY}"}])
def test_missing_or_wrong_key_is_401_with_the_envelope(server: DemoServer,
                                                       headers: dict[str, str]) -> None:
    response = httpx.get(server.url + "/api/v2/campaigns", headers=headers)
    assert response.status_code == 401
    body = response.json()
    assert set(body) == {"statusCode", "error", "message"}
    assert (body["statusCode"], body["error"]) == (401, "Unauthorized")
    assert DEMO_KEY not in response.text


def test_each_demo_key_opens_its_own_workspace(server: DemoServer) -> None:
    assert server.keys == {DEMO_KEY: "demo", "demo-key-north": "north",
                           "demo-key-south": "south"}
    names, campaigns = {}, {}
    for key in DEMO_KEYS:
        with http(server, key) as c:
            names[key] = c.get("/api/v2/workspaces/current").json()["name"]
            campaigns[key] = [r["campaign_id"] for r in c.get(
                "/api/v2/campaigns/analytics").json()]
    assert names == {"demo-key-north": "North Demo Workspace",
                     "demo-key-south": "South Demo Workspace"}
    assert not set(campaigns["demo-key-north"]) & set(campaigns["demo-key-south"])


# -- pagination ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "limit"), [("campaigns.list", 5), ("audit_logs.list", 1000),
                                             ("block_list_entries.list", 40),
                                             ("accounts.list", 7)])
def test_query_cursor_walk_yields_every_item_once(server: DemoServer, client: httpx.Client,
                                                  name: str, limit: int) -> None:
    pages = walk(client, name, limit=limit)
    items = [item for page in pages for item in page["items"]]
    key = "email" if name == "accounts.list" else "id"
    assert all(len(page["items"]) <= limit for page in pages)
    assert "next_starting_after" not in pages[-1]
    assert len({item[key] for item in items}) == len(items)
    everything = call(client, name, {"limit": 100 if limit <= 100 else limit})
    expected = {"campaigns.list": server.workspace.campaigns,
                "audit_logs.list": server.workspace.org.audit_logs,
                "block_list_entries.list": server.workspace.tags.blocklist,
                "accounts.list": server.workspace.accounts}[name]
    assert everything.status_code == 200
    assert {i[key] for i in items} == {r[key] for r in expected}


def test_leads_walk_uses_the_body_cursor_and_matches_leads_count(server: DemoServer,
                                                                client: httpx.Client) -> None:
    ws = server.workspace
    campaign = ws.plan.campaigns[2].id
    pages = walk(client, "leads.list", {"campaign": campaign})
    ids = [lead["id"] for page in pages for lead in page["items"]]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    analytics = call(client, "campaigns.analytics", {"id": campaign}).json()[0]
    assert len(ids) == analytics["leads_count"]
    assert {lead["campaign"] for page in pages for lead in page["items"]} == {campaign}


@pytest.mark.parametrize(("name", "limit"), [("campaigns.list", 0), ("campaigns.list", 101),
                                             ("audit_logs.list", 1001), ("leads.list", 500),
                                             ("accounts.list", "ten")])
def test_limit_out_of_range_is_400(client: httpx.Client, name: str, limit: object) -> None:
    response = call(client, name, {"limit": limit})
    assert response.status_code == 400
    assert response.json()["statusCode"] == 400


def test_unknown_cursor_is_400(client: httpx.Client) -> None:
    assert call(client, "campaigns.list", {"starting_after": UNKNOWN}).status_code == 400
    assert call(client, "leads.list", {"starting_after": UNKNOWN}).status_code == 400


# -- parameter errors and unknown ids -----------------------------------------------------------
@pytest.mark.parametrize(("name", "params"), [
    ("campaigns.get", {"id": "not-a-uuid"}),
    ("campaigns.analytics", {"id": "not-a-uuid"}),
    ("campaigns.analytics", {"ids": [UNKNOWN, "nope"]}),
    ("campaigns.analytics", {"start_date": "2026-11-10", "end_date": "2026-11-01"}),
    ("campaigns.analytics_daily", {"start_date": "yesterday"}),
    ("campaigns.analytics_overview", {"campaign_status": 7}),
    ("accounts.warmup_analytics", {"emails": [f"a{i}@x.example" for i in range(101)]}),
    ("accounts.warmup_analytics", {"emails": []}),
    ("inbox_placement_analytics.list", {}),
    ("leads.list", {"filter": "FILTER_NOT_A_THING"}),
])
def test_invalid_parameters_are_400(client: httpx.Client, name: str, params: dict) -> None:
    response = call(client, name, params)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "Bad Request"


@pytest.mark.parametrize(("name", "params"), [
    ("campaigns.get", {"id": UNKNOWN}),
    ("campaigns.analytics", {"id": UNKNOWN}),
    ("campaigns.analytics_steps", {"campaign_id": UNKNOWN}),
    ("leads.get", {"id": UNKNOWN}),
    ("emails.get", {"id": UNKNOWN}),
    ("accounts.get", {"email": "nobody@nowhere.example"}),
    ("subsequences.analytics", {"campaign_id": UNKNOWN}),
    ("lead_lists.verification_stats", {"id": UNKNOWN}),
])
def test_unknown_ids_are_404(client: httpx.Client, name: str, params: dict) -> None:
    response = call(client, name, params)
    assert response.status_code == 404
    assert response.json()["error"] == "Not Found"


def test_account_daily_analytics_413_beyond_200_accounts_or_31_days(
        server: DemoServer, client: httpx.Client) -> None:
    emails = server.workspace.account_emails[:2]
    many = [f"box{i}@demo.example" for i in range(201)]
    assert call(client, "accounts.analytics_daily", {"emails": many}).status_code == 413
    long = {"emails": emails, "start_date": "2026-10-01", "end_date": "2026-11-01"}
    assert call(client, "accounts.analytics_daily", long).status_code == 413
    ok = {"emails": emails, "start_date": "2026-10-02", "end_date": "2026-11-01"}
    response = call(client, "accounts.analytics_daily", ok)
    assert response.status_code == 200
    assert len(response.json()) == 2 * 31


def test_iso_timestamps_and_dates_select_the_same_window(client: httpx.Client) -> None:
    by_date = call(client, "campaigns.analytics_overview",
                   {"start_date": "2026-11-01", "end_date": "2026-11-07"}).json()
    by_stamp = call(client, "campaigns.analytics_overview",
                    {"start_date": "2026-11-01T00:00:00.000Z",
                     "end_date": "2026-11-07T23:59:59Z"}).json()
    assert by_date == by_stamp and by_date["emails_sent_count"] > 0


def test_unfiltered_analytics_omit_drafts_unless_asked_by_id(server: DemoServer,
                                                            client: httpx.Client) -> None:
    drafts = [c.id for c in server.workspace.plan.campaigns if c.status == 0]
    assert drafts
    listed = {r["campaign_id"] for r in call(client, "campaigns.analytics").json()}
    assert not listed & set(drafts)
    asked = call(client, "campaigns.analytics", {"ids": drafts}).json()
    assert [r["campaign_id"] for r in asked] == drafts
    assert asked[0]["emails_sent_count"] == 0 and asked[0]["leads_count"] > 0


def test_filters_narrow_the_answers(server: DemoServer, client: httpx.Client) -> None:
    paused = call(client, "campaigns.list", {"status": 2, "limit": 100}).json()["items"]
    assert paused and {c["status"] for c in paused} == {2}
    errors = call(client, "accounts.list", {"filter": "ACC_FILTER_ERROR", "limit": 100}).json()
    assert {a["email"] for a in errors["items"]} == {
        e for e, (status, _) in server.workspace.truth.error_accounts.items() if status < 0}
    active = call(client, "campaigns.analytics_overview", {"campaign_status": 1}).json()
    total = call(client, "campaigns.analytics_overview").json()
    assert 0 < active["emails_sent_count"] < total["emails_sent_count"]


@pytest.mark.parametrize(("name", "params", "status"), [
    ("campaigns.analytics", {"start_date": "2026-11-10", "end_date": "2026-11-01"}, 400),
    ("accounts.analytics_daily", {"start_date": "2026-11-10", "end_date": "2026-11-01"}, 400),
    ("campaigns.get", {"id": UNKNOWN}, 404),
    ("accounts.analytics_daily", {"start_date": "2026-09-01", "end_date": TODAY}, 413),
])
def test_error_bodies_match_the_spec(client: httpx.Client, name: str, params: dict,
                                     status: int) -> None:
    response = call(client, name, params)
    assert response.status_code == status
    assert list(response_validator(name, status).iter_errors(response.json())) == []


def test_401_and_429_bodies_match_the_spec(server: DemoServer) -> None:
    unauthorized = httpx.get(server.url + "/api/v2/campaigns")
    assert list(response_validator("campaigns.list", 401).iter_errors(
        unauthorized.json())) == []
    with DemoServer(size="tiny", today=TODAY, limits=Limits(per_second=1)) as s, http(s) as c:
        answers = [c.get("/api/v2/campaigns") for _ in range(2)]
    assert answers[1].status_code == 429
    assert list(response_validator("campaigns.list", 429).iter_errors(
        answers[1].json())) == []


# -- rate limits --------------------------------------------------------------------------------
def _burst(server: DemoServer, path: str, n: int) -> list[httpx.Response]:
    with http(server) as c:
        return [c.get(path) for _ in range(n)]


def test_workspace_limit_answers_429_with_retry_after() -> None:
    with DemoServer(size="tiny", today=TODAY, limits=Limits(per_second=3, per_minute=50)) as s:
        answers = _burst(s, "/api/v2/campaigns/count-launched", 4)
        assert [r.status_code for r in answers] == [200, 200, 200, 429]
        assert answers[-1].json() == {"statusCode": 429, "error": "Too Many Requests",
                                      "message": "Rate limit exceeded"}
        assert answers[-1].headers["Retry-After"] == "1"
        time.sleep(1.05)
        assert _burst(s, "/api/v2/campaigns/count-launched", 1)[0].status_code == 200


def test_emails_endpoint_has_its_own_per_minute_limit() -> None:
    limits = Limits(endpoint_per_minute={"emails.list": 2})
    with DemoServer(size="tiny", today=TODAY, limits=limits) as s:
        emails = _burst(s, "/api/v2/emails?limit=1", 3)
        assert [r.status_code for r in emails] == [200, 200, 429]
        assert 55 <= int(emails[-1].headers["Retry-After"]) <= 60
        assert _burst(s, "/api/v2/campaigns/count-launched", 1)[0].status_code == 200


def test_default_emails_limit_comes_from_the_endpoint_table() -> None:
    with DemoServer(size="tiny", today=TODAY) as s:
        codes = [r.status_code for r in _burst(s, "/api/v2/emails?limit=1", 21)]
        assert codes == [200] * 20 + [429]


def test_speedup_multiplies_the_limits() -> None:
    with DemoServer(size="tiny", today=TODAY, limits=Limits(per_second=2), speedup=2) as s:
        codes = [r.status_code for r in _burst(s, "/api/v2/campaigns/count-launched", 5)]
        assert codes == [200, 200, 200, 200, 429]
        pacing = s.client_pacing()
        assert pacing["rate_per_second"] <= 4 and pacing["endpoint_per_minute"]["emails.list"] < 40


def test_disabled_limits_never_answer_429() -> None:
    with DemoServer(size="tiny", today=TODAY, limits=Limits(enabled=False, per_second=1)) as s:
        codes = {r.status_code for r in _burst(s, "/api/v2/emails?limit=1", 30)}
        assert codes == {200}


def test_today_defaults_to_the_current_utc_date() -> None:
    before = dt.datetime.now(dt.UTC).date().isoformat()
    with DemoServer(size="tiny") as s, http(s) as c:
        rows = c.get("/api/v2/campaigns/analytics/daily").json()
    after = dt.datetime.now(dt.UTC).date().isoformat()
    assert rows[-1]["date"] in {before, after}


@pytest.mark.parametrize("more", [True, False])
def test_a_raw_page_is_the_utf8_of_the_page_written_as_json(more):
    import json

    from instantly_nb.demo.protocol import Call, raw_page
    from instantly_nb.endpoints import ENDPOINTS

    records = [{"id": "a", "name": "Chloé Müller"}, {"id": "b", "name": "Ben"}, {"id": "ü"}]
    items = [json.dumps(r, ensure_ascii=False, separators=(",", ":")) for r in records]
    call = Call(ENDPOINTS["leads.list"], {}, [], {})
    page = raw_page(call, items, more, "ü")
    expected = {"items": records, **({"next_starting_after": "ü"} if more else {})}
    assert page.data == json.dumps(expected, ensure_ascii=False,
                                   separators=(",", ":")).encode("utf-8")
    assert page.value() == expected
    assert raw_page(call, [], False, None).data == b'{"items":[]}'
