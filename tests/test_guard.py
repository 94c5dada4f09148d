"""The read-only guard in the transport and path parameter encoding, against a recording transport
and the real demo server."""

from __future__ import annotations

import dataclasses
import re

import httpx
import pytest

from instantly_nb import Client, errors, guard
from instantly_nb.demo import DEMO_KEY, DemoServer, Limits
from instantly_nb.endpoints import ENDPOINTS, WRITE_OPERATIONS

from .conftest import json_response
from .test_http import make_client

ACCOUNT = {"email": "x@y.com", "first_name": "X"}


def _fill(template: str) -> str:
    return re.sub(r"\{[^}]+\}", "x1", template)


def test_a_path_value_cannot_leave_its_segment_on_the_demo_server():
    with DemoServer(size="tiny", seed=11, limits=Limits(enabled=False)) as srv, \
            Client(api_key=DEMO_KEY, base_url=srv.url, **srv.client_pacing()) as client:
        campaign = client.campaigns.list()["id"][0]
        assert client.fetch("campaigns.get", id=campaign).height == 1
        for name in ("accounts.get", "account_campaign_mappings.list"):
            with pytest.raises(errors.NotFoundError):  # not the campaign, shaped as an account
                client.fetch(name, email=f"../campaigns/{campaign}")


@pytest.mark.parametrize("email,raw", [
    ("a/b@x.com", "/api/v2/accounts/a%2Fb@x.com"),
    ("who?x=1#top@x.com", "/api/v2/accounts/who%3Fx%3D1%23top@x.com"),
    ("50%off@x.com", "/api/v2/accounts/50%25off@x.com"),
    ("a b+c@x.com", "/api/v2/accounts/a%20b%2Bc@x.com"),
])
def test_path_values_are_percent_encoded(email, raw):
    client, rec = make_client(lambda r: json_response(ACCOUNT))
    assert client.fetch("accounts.get", email=email).height == 1
    assert rec.requests[-1].url.raw_path.decode() == raw


@pytest.mark.parametrize("email", ["a\r\nb@x.com", "tab\t@x.com", "..", ".", "", "nul\x00@x.com"])
def test_path_values_that_cannot_be_a_segment_are_refused(email):
    client, rec = make_client(lambda r: json_response(ACCOUNT))
    with pytest.raises(errors.ParameterError):
        client.fetch("accounts.get", email=email)
    assert rec.requests == []


def test_allow_and_deny_lists_are_built_once_and_immutable():
    assert isinstance(guard.ALLOWED, tuple) and isinstance(guard.DENIED, tuple)
    assert len(guard.ALLOWED) == len(ENDPOINTS) and len(guard.DENIED) == len(WRITE_OPERATIONS)
    # no read operation is mistaken for a write
    for ep in ENDPOINTS.values():
        assert not any(m == ep.method and rx.match(_fill(ep.path)) for m, rx in guard.DENIED), ep.name


def test_the_guard_holds_when_the_table_and_the_hooks_are_changed(monkeypatch):
    """An entry swapped for a DELETE copy and removed request hooks change nothing."""
    entry = ENDPOINTS["campaigns.get"]
    monkeypatch.setitem(ENDPOINTS, "campaigns.get", dataclasses.replace(entry, method="DELETE"))
    monkeypatch.setitem(ENDPOINTS, "campaigns.list", dataclasses.replace(
        ENDPOINTS["campaigns.list"], method="POST", path="/api/v2/campaigns/{id}/pause"))
    client, rec = make_client(lambda r: json_response({}))
    client._requester._http.event_hooks = {"request": [], "response": []}
    uuid = "019ffad2-90b0-7d6d-b877-e244a0d3d2b2"
    with pytest.raises(errors.ReadOnlyError):
        client.fetch("campaigns.get", id=uuid)
    with pytest.raises(errors.ReadOnlyError):
        client._requester.send(ENDPOINTS["campaigns.get"], path_params={"id": uuid})
    with pytest.raises(errors.ReadOnlyError):
        client._requester.send(ENDPOINTS["campaigns.list"], path_params={"id": uuid})
    for method, path in WRITE_OPERATIONS:  # every write, straight through the httpx client
        with pytest.raises(errors.ReadOnlyError):
            client._requester._http.request(method, _fill(path), json={})
    assert rec.requests == []


def test_the_guard_refuses_other_hosts_and_dot_segments():
    client, rec = make_client(lambda r: json_response([]))
    http = client._requester._http
    with pytest.raises(errors.ReadOnlyError, match="another host"):
        http.get("https://elsewhere.test/api/v2/campaigns")
    with pytest.raises(errors.ReadOnlyError):
        http.send(httpx.Request("GET", "https://api.test/api/v2/accounts/%2E%2E"))
    assert rec.requests == []
    assert http.get("/api/v2/campaigns").status_code == 200  # a read still passes
    assert len(rec.requests) == 1


def _scan(method: str, raw: str) -> str | None:
    """The check as a scan of every pattern of both lists (what the transport must decide)."""
    if any(m == method and rx.match(raw) for m, rx in guard.DENIED):
        return "write"
    if not any(m == method and rx.match(raw) for m, rx in guard.ALLOWED):
        return "unknown"
    return None


def _decided(method: str, raw: str) -> str | None:
    try:
        guard.check_request(httpx.Request(method, "https://api.test" + raw), (b"https", b"api.test", None))
    except errors.ReadOnlyError as exc:
        return "write" if "write operation" in str(exc) else "unknown"
    return None


def test_the_check_decides_as_a_scan_of_both_lists():
    paths = {_fill(p) for _, p in WRITE_OPERATIONS} | {_fill(ep.path) for ep in ENDPOINTS.values()}
    paths |= {p + "/x1" for p in list(paths)} | {"/api/v2", "/api/v2/", "/", "/api/v2/campaigns/x1/y"}
    methods = {"GET", "POST", "PUT", "PATCH", "DELETE"}
    decisions = {(m, p): _decided(m, p) for m in methods for p in paths}
    assert decisions == {(m, p): _scan(m, p) for m in methods for p in paths}
    # every kind of decision was seen
    assert {None, "write", "unknown"} <= set(decisions.values())


@pytest.mark.parametrize("segment", ["%2e", "%2E", ".%2e", "%2E%2e", "%2e.", "%2e%2E"])
def test_a_segment_that_decodes_to_a_dot_or_two_is_refused(segment):
    request = httpx.Request("GET", f"https://api.test/api/v2/accounts/{segment}/x")
    assert request.url.raw_path == f"/api/v2/accounts/{segment}/x".encode()  # httpx kept it
    with pytest.raises(errors.ReadOnlyError, match="'.' or '..'"):
        guard.check_request(request, (b"https", b"api.test", None))
