"""Client configuration, parameter validation, read-only guard, batching and fan-out."""

from __future__ import annotations

import json
import re

import httpx
import polars as pl
import pytest

from instantly_nb import Client, errors
from instantly_nb.endpoints import ENDPOINTS, WRITE_OPERATIONS

from .conftest import FAKE_KEY, Recorder, json_response
from .test_http import make_client

UUID_A = "019ffad2-90b0-7d6d-b877-e244a0d3d2b2"
UUID_B = "019ffad2-90b0-7d6d-b877-e24585b902a6"


def test_missing_key_is_a_clear_error_and_constructor_does_no_io(monkeypatch):
    with pytest.raises(errors.ConfigurationError, match="all:read") as info:
        Client()
    assert "Settings > Integrations > API Keys" in str(info.value)
    monkeypatch.setenv("INSTANTLY_API_KEY", FAKE_KEY)
    monkeypatch.setenv("INSTANTLY_BASE_URL", "https://example.invalid")
    rec = Recorder(lambda r: json_response({}))
    client = Client(transport=rec.transport)
    assert client.base_url == "https://example.invalid"
    assert rec.requests == []
    assert FAKE_KEY not in repr(client) and "hidden" in repr(client)
    assert FAKE_KEY not in repr(client._requester)


def test_auth_header_and_user_agent():
    client, rec = make_client(lambda r: json_response({"count": 0}))
    client.fetch("campaigns.count_launched")
    sent = rec.requests[0]
    assert sent.headers["Authorization"] == f"Bearer {FAKE_KEY}"
    assert sent.headers["User-Agent"].startswith("instantly-nb/")


@pytest.mark.parametrize("name,params,match", [
    ("campaigns.list", {"colour": "red"}, "does not take colour"),
    ("campaigns.analytics", {"id": "not-a-uuid"}, "not a UUID"),
    ("campaigns.analytics", {"start_date": "2026-02-01", "end_date": "2026-01-01"}, "before"),
    ("campaigns.analytics", {"start_date": "yesterday"}, "not a date"),
    ("campaigns.list", {"limit": 500}, "above the maximum"),
    ("campaigns.analytics", {"exclude_total_leads_count": "yes"}, "True or False"),
    ("campaigns.get", {}, "needs id"),
])
def test_bad_parameters_raise_before_any_request(name, params, match):
    client, rec = make_client(lambda r: json_response({}))
    with pytest.raises(errors.ParameterError, match=match):
        client.fetch(name, **params)
    assert rec.requests == []


def test_unknown_endpoint_lists_known_names():
    client, _ = make_client(lambda r: json_response({}))
    with pytest.raises(errors.UnknownEndpointError, match="campaigns.analytics_steps"):
        client.fetch("campaigns.analytic_step")


def test_dates_and_lists_are_encoded_as_the_api_expects():
    import datetime as dt

    client, rec = make_client(lambda r: json_response([]))
    client.fetch("campaigns.analytics", ids=[UUID_A, UUID_B], start_date=dt.date(2026, 1, 1),
                 end_date="2026-01-31")
    q = rec.requests[0].url.params
    assert q.get_list("ids") == [UUID_A, UUID_B]
    assert q["start_date"] == "2026-01-01" and q["end_date"] == "2026-01-31"


def _fill(template: str) -> str:
    return re.sub(r"\{[^}]+\}", "x1", template)


def test_no_write_operation_can_be_sent():
    """Every write operation of the spec is refused, even through the raw httpx client."""
    client, rec = make_client(lambda r: json_response({}))
    assert len(WRITE_OPERATIONS) > 50
    for method, path in WRITE_OPERATIONS:
        with pytest.raises(errors.ReadOnlyError):
            client._requester._http.request(method, _fill(path), json={})
    assert rec.requests == []
    for endpoint in ENDPOINTS.values():  # and a forged entry is refused by the request function
        forged = type(endpoint)(**{**endpoint.__dict__, "method": "DELETE"})
        with pytest.raises(errors.ReadOnlyError):
            client._requester.send(forged)
        break


def warmup_handler(request: httpx.Request) -> httpx.Response:
    emails = json.loads(request.content)["emails"]
    assert len(emails) <= 100
    return json_response({
        "email_date_data": {e: {"2026-01-01": {"sent": i, "landed_inbox": i, "received": i}}
                            for i, e in enumerate(emails)},
        "aggregate_data": {e: {"sent": i, "landed_inbox": i, "received": i, "health_score": 90,
                               "health_score_label": "90%"} for i, e in enumerate(emails)},
    })


def test_250_warmup_emails_take_3_requests_and_equal_the_union():
    emails = [f"u{i:03d}@example.com" for i in range(250)]
    client, rec = make_client(warmup_handler)
    daily = client.accounts.warmup_daily(emails=emails)
    assert len(rec.requests) == 3
    # the batches run on the pool, so they may arrive in any order
    assert sorted(len(json.loads(r.content)["emails"]) for r in rec.requests) == [50, 100, 100]
    assert daily.height == 250 and daily["email"].n_unique() == 250
    parts = [client.fetch("accounts.warmup_daily", emails=emails[i:i + 100]) for i in (0, 100, 200)]
    assert daily.sort("email").equals(pl.concat(parts).sort("email"))
    summary = client.accounts.warmup_summary(emails=emails[:5])
    assert summary.columns[:1] == ["email"] and summary["health_score"].to_list() == [90.0] * 5


def test_account_daily_is_split_into_200_accounts_and_31_days():
    seen = []

    def handler(request):
        q = request.url.params
        seen.append((len(q.get_list("emails")), q["start_date"], q["end_date"]))
        return json_response([])

    client, rec = make_client(handler)
    emails = [f"a{i}@x.com" for i in range(450)]
    client.fetch("accounts.analytics_daily", emails=emails, start_date="2026-01-01", end_date="2026-03-01")
    assert len(seen) == 3 * 2
    assert {s[0] for s in seen} == {200, 50}
    assert {(s[1], s[2]) for s in seen} == {("2026-01-01", "2026-01-31"), ("2026-02-01", "2026-03-01")}


def test_campaign_list_fans_out_with_a_campaign_id_column():
    def handler(request):
        cid = request.url.params["campaign_id"]
        return json_response([{"step": "0", "variant": "0", "sent": 10 if cid == UUID_A else 20,
                               "opened": 1, "unique_opened": 1, "replies": 1, "unique_replies": 1,
                               "clicks": 0, "unique_clicks": 0}])

    client, rec = make_client(handler)
    frame = client.campaigns.analytics_steps(campaign_id=[UUID_A, UUID_B])
    assert frame.columns[0] == "campaign_id"
    assert frame.select("campaign_id", "sent").rows() == [(UUID_A, 10), (UUID_B, 20)]
    assert len(rec.requests) == 2


@pytest.mark.parametrize("workers", [1, 4])
def test_a_failed_part_keeps_its_type_and_names_the_part(workers):
    def handler(request):
        if request.url.params["campaign_id"] == UUID_B:
            return json_response({"message": "gone"}, 404)
        return json_response([])

    client, _ = make_client(handler, max_workers=workers)
    with pytest.raises(errors.NotFoundError) as one:
        client.campaigns.analytics_daily(campaign_id=UUID_B)
    assert one.value.part is None and not getattr(one.value, "__notes__", [])
    with pytest.raises(errors.NotFoundError) as many:
        client.campaigns.analytics_daily(campaign_id=[UUID_A, UUID_B, UUID_A.replace("a", "c")])
    assert many.value.status == 404 and "gone" in str(many.value)
    assert many.value.__notes__ == [
        f"while fetching campaign_id={UUID_B} (one of 3 parts; no partial result is returned)"]
    assert many.value.part.columns == {"campaign_id": UUID_B}
    assert errors.describe(many.value).endswith(many.value.__notes__[0])


def test_named_methods_mirror_the_table():
    client, _ = make_client(lambda r: json_response({}))
    for name in ENDPOINTS:
        resource, verb = name.split(".", 1)
        assert callable(getattr(getattr(client, resource), verb)), name
    import inspect

    sig = inspect.signature(client.campaigns.analytics_steps)
    assert {"campaign_id", "start_date", "end_date", "refresh"} <= set(sig.parameters)
    assert "GET /api/v2/campaigns/analytics/steps" in client.campaigns.analytics_steps.__doc__


def test_resource_annotations_match_the_table():
    from instantly_nb.resources import resource_names

    declared = [n for n, t in Client.__annotations__.items() if t == "Resource"]
    assert declared == resource_names()


def test_pacing_from_the_environment(monkeypatch):
    from instantly_nb.settings import format_pacing

    text = format_pacing({"rate_per_second": 400, "rate_per_minute": 20_000,
                          "endpoint_per_minute": {"emails.list": 900}})
    assert text == "rate_per_second=400,rate_per_minute=20000,emails.list=900"
    monkeypatch.setenv("INSTANTLY_NB_PACING", text)
    client = Client(api_key=FAKE_KEY)
    assert [w.limit for w in client.throttle.windows] == [400, 20_000]
    assert [w.limit for w in client.throttle.endpoint_windows("emails.list")] == [900]
    assert [w.limit for w in Client(api_key=FAKE_KEY, rate_per_second=7).throttle.windows] == [7, 20_000]
    monkeypatch.setenv("INSTANTLY_NB_PACING", "fast")
    with pytest.raises(errors.ConfigurationError, match="INSTANTLY_NB_PACING"):
        Client(api_key=FAKE_KEY)
    monkeypatch.delenv("INSTANTLY_NB_PACING")
    assert [w.limit for w in Client(api_key=FAKE_KEY).throttle.windows] == [95, 5_800]


def test_peek_reads_a_page_budget_and_says_whether_more_exist():
    def handler(request):
        n = int(request.url.params.get("starting_after") or 0)
        last = n >= 2
        return json_response({"items": [{"id": str(n)}], "next_starting_after": None if last else str(n + 1)})

    client, rec = make_client(handler)
    frame, more = client.peek("custom_tags.list", pages=2)
    assert frame["id"].to_list() == ["0", "1"] and more is True
    assert len(rec.requests) == 2
    frame, more = client.peek("custom_tags.list", pages=5)
    assert frame["id"].to_list() == ["0", "1", "2"] and more is False
    with pytest.raises(errors.ParameterError):
        client.peek("custom_tags.list", pages=0)
