"""The demo server against the endpoint table and the official spec, over real loopback HTTP."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from starlette.routing import Route

from instantly_nb.demo import DemoServer, Limits
from instantly_nb.demo.examples import example_params
from instantly_nb.demo.registry import handlers
from instantly_nb.endpoints import ENDPOINTS, WRITE_OPERATIONS

from .test_demo_support import TODAY, call, http, response_validator, seed_example, walk


@pytest.fixture(scope="module")
def server() -> Iterator[DemoServer]:
    with DemoServer(today=TODAY, limits=Limits(enabled=False)) as running:
        yield running


@pytest.fixture(scope="module")
def client(server: DemoServer) -> Iterator[httpx.Client]:
    with http(server) as c:
        yield c


def test_every_endpoint_has_a_handler() -> None:
    assert set(handlers()) == set(ENDPOINTS)


def test_routes_are_the_endpoint_table(server: DemoServer) -> None:
    assert server.app is not None
    routes = {(r.name, r.path) for r in server.app.routes if isinstance(r, Route)}
    assert len(routes) == len(server.app.routes)
    assert routes == {(name, e.path) for name, e in ENDPOINTS.items()}


def test_example_params_cover_every_endpoint(server: DemoServer) -> None:
    assert set(example_params(server.workspace)) == set(ENDPOINTS)


@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_endpoint_answers_per_the_spec(server: DemoServer, client: httpx.Client,
                                       name: str) -> None:
    response = call(client, name, example_params(server.workspace)[name])
    assert response.status_code == 200, response.text
    endpoint = ENDPOINTS[name]
    if endpoint.envelope == "text":
        assert response.headers["content-type"].startswith("text/csv")
        assert response.text.splitlines()[0] == "Blocked Email,Date"
        return
    body = response.json()
    errors = [f"{list(e.absolute_path)}: {e.message}"
              for e in response_validator(name).iter_errors(body)]
    assert errors == []
    if endpoint.envelope == "items":
        assert body["items"], f"{name} answered an empty page"
    elif endpoint.envelope == "array" and name != "supersearch.ai_in_progress":
        assert body, f"{name} answered an empty array"


@pytest.mark.parametrize(("method", "path"), WRITE_OPERATIONS)
def test_write_operations_are_refused(client: httpx.Client, method: str, path: str) -> None:
    concrete = re.sub(r"\{[^}]+\}", "0190d9b1-0000-7000-8000-000000000000", path)
    response = client.request(method, concrete, json={})
    assert response.status_code in (404, 405)
    assert response.json()["statusCode"] == response.status_code


def test_unknown_path_is_404_with_the_error_envelope(client: httpx.Client) -> None:
    response = client.get("/api/v2/no-such-thing")
    assert response.status_code == 404
    assert response.json() == {"statusCode": 404, "error": "Not Found",
                               "message": "Route not found"}


def test_warmup_answer_has_the_documented_shape(server: DemoServer,
                                                client: httpx.Client) -> None:
    daily_example = seed_example('{"example1@example.com":{"2023-10-01"')
    aggregate_example = seed_example('{"example1@example.com":{"sent":15')
    day_keys = set(daily_example["example1@example.com"]["2023-10-01"])
    agg_keys = set(aggregate_example["example1@example.com"])
    emails = server.workspace.account_emails[:20]
    body = call(client, "accounts.warmup_analytics", {"emails": emails}).json()
    assert list(body) == ["email_date_data", "aggregate_data"]
    assert set(body["email_date_data"]) == set(emails) == set(body["aggregate_data"])
    spam_days = 0
    for days in body["email_date_data"].values():
        for entry in days.values():
            assert set(entry) <= day_keys
            # as in the example, landed_spam is left out exactly when it is zero
            assert ("landed_spam" in entry) == (entry["sent"] != entry["landed_inbox"])
            spam_days += "landed_spam" in entry
    assert spam_days > 0
    for agg in body["aggregate_data"].values():
        assert set(agg) <= agg_keys and {"sent", "landed_inbox", "health_score"} <= set(agg)
        assert agg["health_score_label"] == f"{agg['health_score']}%"
        assert isinstance(agg["health_score"], int)


@pytest.mark.parametrize(("name", "opening"), [
    ("campaigns.analytics", '[ { "campaign_name"'),
    ("campaigns.analytics_daily", '[ { "date": "2025-03-01"'),
    ("campaigns.analytics_steps", '[ { "step": "1"'),
])
def test_analytics_rows_carry_every_example_field(server: DemoServer, client: httpx.Client,
                                                  name: str, opening: str) -> None:
    example = seed_example(opening)[0]
    rows = call(client, name, example_params(server.workspace)[name]).json()
    assert rows
    for row in rows:
        assert set(example) <= set(row)
        for key, value in example.items():
            if row[key] is not None:
                assert type(row[key]) is type(value) or isinstance(value, int | float) and \
                    isinstance(row[key], int | float), key


def test_overview_carries_every_example_field(client: httpx.Client) -> None:
    example = seed_example('{ "open_count": 800')
    body = call(client, "campaigns.analytics_overview").json()
    assert set(example) <= set(body)


def test_steps_use_strings_and_a_step_null_row_for_the_workspace(client: httpx.Client) -> None:
    rows = call(client, "campaigns.analytics_steps").json()
    real = [r for r in rows if r["step"] is not None]
    assert real and all(isinstance(r["step"], str) and isinstance(r["variant"], str)
                        for r in real)
    assert {r["variant"] for r in real} >= {"0", "1"}
    assert min(int(r["step"]) for r in real) == 1  # steps are 1-based, variants 0-based
    assert [r for r in rows if r["step"] is None][0]["variant"] is None


def test_every_page_of_every_listing_matches_the_spec() -> None:
    with DemoServer(size="tiny", today=TODAY, limits=Limits(enabled=False)) as tiny, \
            http(tiny) as c:
        params = example_params(tiny.workspace)
        for name, endpoint in ENDPOINTS.items():
            if endpoint.pagination not in ("cursor_query", "cursor_body"):
                continue
            validator = response_validator(name)
            for page in walk(c, name, params[name], limit=endpoint.page_limit or 100):
                errors = [e.message for e in validator.iter_errors(page)]
                assert errors == [], name
        for campaign in tiny.workspace.campaign_ids:
            for name, extra in (("campaigns.get", {"id": campaign}),
                                ("campaigns.sending_status", {"id": campaign}),
                                ("campaigns.analytics_steps", {"campaign_id": campaign,
                                                               "include_opportunities_count":
                                                                   True})):
                body = call(c, name, extra).json()
                assert list(response_validator(name).iter_errors(body)) == [], name
