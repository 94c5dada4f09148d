"""Parameter values normalised to the form the API expects, or refused with ParameterError; long
id lists batched; fan-out lists without None or empty values."""

from __future__ import annotations

import json
import math

import pytest

from instantly_nb import Client, errors

from .conftest import json_response
from .test_http import make_client

U = "019ffad2-90b0-7d6d-b877-e244a0d3d2b2"
V = "019ffad2-90b0-7d6d-b877-e24585b902a6"


@pytest.mark.parametrize("given", [
    f"urn:uuid:{U}", "{" + U + "}", U.replace("-", ""), U.upper(), f" {U} ",
])
def test_uuids_are_sent_in_canonical_form(given):
    client, rec = make_client(lambda r: json_response([]))
    client.fetch("campaigns.analytics", id=given, ids=[given])
    q = rec.requests[0].url.params
    assert q["id"] == U and q.get_list("ids") == [U]


@pytest.mark.parametrize("given,sent", [
    ("20260101", "2026-01-01"), ("2026-01-01", "2026-01-01"),
    ("2026-01-01T05:30:00+02:00", "2026-01-01T03:30:00.000Z"),
])
def test_dates_are_sent_as_iso(given, sent):
    client, rec = make_client(lambda r: json_response([]))
    client.fetch("campaigns.analytics", start_date=given)
    assert rec.requests[0].url.params["start_date"] == sent


@pytest.mark.parametrize("name,params,match", [
    ("campaigns.list", {"limit": math.nan}, "finite"),
    ("campaigns.list", {"limit": math.inf}, "finite"),
    ("campaigns.list", {"limit": -math.inf}, "finite"),
    ("campaigns.analytics_overview", {"campaign_status": math.nan}, "finite"),
    ("campaigns.list", {"search": "x" * 200_000}, "200,000 characters"),
    ("leads.list", {"search": "x" * 200_000}, "200,000 characters"),
    ("campaigns.list", {"search": "a\r\nb"}, "control character"),
    ("campaigns.analytics", {"start_date": "2026/01/01"}, "not a date"),
    ("campaigns.analytics", {"start_date": "2026-13-01"}, "not a date"),
    ("campaigns.analytics", {"id": "urn:uuid:nope"}, "not a UUID"),
    ("campaigns.analytics_overview", {"campaign_status": 1.5}, "allowed values"),
    ("campaigns.analytics_overview", {"ids": [U] * 101}, "at most 100"),
    ("leads.list", {"queries": [{"actionType": "open"}]}, "actionType"),
    ("leads.list", {"queries": ["email-open"]}, "mappings"),
])
def test_bad_values_are_typed_parameter_errors(name, params, match):
    client, rec = make_client(lambda r: json_response({"items": []}))
    with pytest.raises(errors.ParameterError, match=match):
        client.fetch(name, **params)
    assert rec.requests == []


def test_whole_floats_are_sent_as_integers():
    client, rec = make_client(lambda r: json_response({}))
    client.fetch("campaigns.analytics_overview", campaign_status=-99.0)
    assert str(rec.requests[0].url.params["campaign_status"]) == "-99"
    client, rec = make_client(lambda r: json_response({"items": []}))
    client.fetch("campaigns.list", limit=50.0)
    assert rec.requests[0].url.params["limit"] == "50"


def test_long_id_lists_are_batched_and_joined():
    ids = [f"019ffad2-90b0-7d6d-b877-{i:012x}" for i in range(20_000)]

    def handler(request):
        return json_response([{"campaign_id": c, "emails_sent_count": 1}
                              for c in request.url.params.get_list("ids")])

    client, rec = make_client(handler)
    frame = client.fetch("campaigns.analytics", ids=ids)
    assert len(rec.requests) == 200
    assert max(len(str(r.url)) for r in rec.requests) < 8_000
    assert frame.height == 20_000 and frame["campaign_id"].to_list() == ids


def test_smart_view_queries_reach_the_body():
    query = {"actionType": "email-open", "values": {"occurrence-days": 1}}
    client, rec = make_client(lambda r: json_response({"items": []}))
    client.fetch("leads.list", queries=[query])
    assert json.loads(rec.requests[0].content)["queries"] == [query]
    # the demo workspace cannot evaluate them and says so instead of answering unfiltered
    with Client.demo(size="tiny", seed=11) as demo, \
            pytest.raises(errors.BadRequestError, match="not evaluated by the demo"):
        demo.fetch("leads.list", queries=[query])


@pytest.mark.parametrize("values", [[U, None], [None], [U, ""], [U, "  "]])
def test_none_or_empty_values_in_a_fan_out_list_are_refused(values):
    client, rec = make_client(lambda r: json_response([]))
    with pytest.raises(errors.ParameterError, match="None or empty"):
        client.fetch("campaigns.analytics_steps", campaign_id=values)
    with pytest.raises(errors.ParameterError, match="None or empty|not a UUID"):
        client.fetch("campaigns.analytics", ids=values)
    assert rec.requests == []


def test_none_or_empty_values_in_an_array_are_refused():
    client, rec = make_client(lambda r: json_response([]))
    with pytest.raises(errors.ParameterError, match="None or empty"):
        client.fetch("accounts.analytics_daily", emails=["a@x.com", ""], start_date="2026-01-01",
                     end_date="2026-01-02")
    assert rec.requests == []


def test_a_fan_out_list_still_fans_out_once_per_distinct_value():
    client, rec = make_client(lambda r: json_response([]))
    client.fetch("campaigns.analytics_steps", campaign_id=[U, V, U])
    assert sorted(r.url.params["campaign_id"] for r in rec.requests) == sorted([U, V])
