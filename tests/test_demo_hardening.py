"""The demo server against hostile input: its own key only, 400 for bodies it cannot take, 413
for bodies over the limit (as the live API), path parameters holding an encoded ``/``, never a
traceback -- over real HTTP on 127.0.0.1."""

from __future__ import annotations

import logging
import time

import httpx
import pytest

from instantly_nb.demo import DEMO_KEY, DEMO_KEYS, DemoServer, Limits
from instantly_nb.demo.server import MAX_BODY_BYTES
from instantly_nb.guard import encode_segment

OWN_KEY = "my-own-demo-secret-0001"
LEADS = "/api/v2/leads/list"


@pytest.fixture(scope="module")
def server():
    with DemoServer(size="tiny", seed=11, key=OWN_KEY, limits=Limits(enabled=False)) as srv:
        yield srv


def _post(server: DemoServer, content: bytes, key: str = OWN_KEY) -> httpx.Response:
    return httpx.post(server.url + LEADS, content=content, timeout=30,
                      headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})


def test_a_server_given_its_own_key_accepts_that_key_only(server):
    path = server.url + "/api/v2/campaigns/count-launched"
    assert httpx.get(path, headers={"Authorization": f"Bearer {OWN_KEY}"}).status_code == 200
    for other in [DEMO_KEY, *DEMO_KEYS, "demo-key-anything"]:
        answer = httpx.get(path, headers={"Authorization": f"Bearer {other}"})
        assert answer.status_code == 401, other
    with DemoServer(size="tiny", seed=11, limits=Limits(enabled=False)) as public:
        answer = httpx.get(public.url + "/api/v2/campaigns/count-launched",
                           headers={"Authorization": "Bearer demo-key-north"})
        assert answer.status_code == 200  # the public demo server still opens its extra keys


@pytest.mark.parametrize("body,message", [
    (b"[" * 100_000 + b"]" * 100_000, "not valid JSON|nested"),
    (b'{"a":' * 40 + b"1" + b"}" * 40, "nested too deeply"),
    (b'{"limit": NaN}', "not valid JSON"),
    (b'{"limit": Infinity}', "not valid JSON"),
    (b'{"limit": 1e400}', "not valid JSON"),
    (b'{"search": "x"', "not valid JSON"),
    (b"\xff\xfe{}", "not valid JSON"),
    (b'["a"]', "JSON object"),
])
def test_bodies_it_cannot_take_answer_400_without_a_traceback(server, caplog, body, message):
    with caplog.at_level(logging.DEBUG):
        answer = _post(server, body)
    assert answer.status_code == 400
    envelope = answer.json()
    assert envelope["statusCode"] == 400 and envelope["error"] == "Bad Request"
    assert __import__("re").search(message, envelope["message"])
    assert "Traceback" not in answer.text
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"


def _is_413(answer: httpx.Response) -> bool:
    envelope = answer.json()
    return (answer.status_code == 413 and envelope["statusCode"] == 413
            and envelope["error"] == "Payload Too Large" and "too large" in envelope["message"])


def test_an_oversized_body_is_refused_quickly_with_413(server):
    t0 = time.perf_counter()
    answer = _post(server, b'{"search": "' + b"x" * (MAX_BODY_BYTES + 10) + b'"}')
    assert _is_413(answer)
    just_under = _post(server, b'{"search": "' + b"x" * (MAX_BODY_BYTES - 100) + b'"}')
    assert just_under.status_code == 200 and just_under.json()["items"] == []

    def chunks():  # no Content-Length: refused as soon as the stream passes the limit
        for _ in range(50):
            yield b" " * (1 << 20)

    streamed = httpx.post(server.url + LEADS, content=chunks(), timeout=30,
                          headers={"Authorization": f"Bearer {OWN_KEY}"})
    assert _is_413(streamed)
    assert time.perf_counter() - t0 < 10


@pytest.mark.parametrize("query", ["limit=nan", "limit=inf", "limit=1e400", "limit=-1e400"])
def test_non_finite_numbers_in_the_query_answer_400(server, caplog, query):
    with caplog.at_level(logging.DEBUG):
        answer = httpx.get(f"{server.url}/api/v2/campaigns?{query}",
                           headers={"Authorization": f"Bearer {OWN_KEY}"})
    assert answer.status_code == 400 and "Traceback" not in answer.text
    assert not [r for r in caplog.records if r.exc_info]


def test_a_valid_body_still_works(server):
    answer = _post(server, b'{"limit": 5}')
    assert answer.status_code == 200 and len(answer.json()["items"]) == 5


@pytest.mark.parametrize("address", ["first/last@example.com", "a/b/c@example.org"])
def test_an_address_with_an_encoded_slash_is_one_path_parameter(server, address):
    headers = {"Authorization": f"Bearer {OWN_KEY}"}
    path = "/api/v2/email-verification/" + encode_segment(address)
    assert "%2F" in path
    for sent in (path, path.replace("%2F", "%2f")):
        answer = httpx.get(server.url + sent, headers=headers)
        assert answer.status_code == 200, answer.text
        assert answer.json()["email"] == address
    unknown = httpx.get(server.url + "/api/v2/accounts/" + encode_segment(address), headers=headers)
    assert unknown.status_code == 404 and unknown.json()["message"] == "Account not found"
    twice = httpx.get(server.url + "/api/v2/email-verification/a%252Fb@example.com",
                      headers=headers)
    assert twice.json()["email"] == "a%2Fb@example.com"  # decoded once, like any parameter


def test_fixed_paths_pick_the_route_the_starlette_loop_would(server):
    from starlette.routing import Match

    from instantly_nb.demo.routing import FixedPathsFirst

    router = server.app.router
    assert isinstance(router, FixedPathsFirst) and router.fixed
    paths = {*router.fixed, "/api/v2/nowhere", "/api/v2/campaigns/x"}
    picked = 0
    for path in sorted(paths):
        for method in ("GET", "POST", "PATCH", "DELETE", "HEAD"):
            scope = {"type": "http", "path": path, "method": method, "root_path": ""}
            loop = next((r for r in router.routes if r.matches(scope)[0] is Match.FULL), None)
            fast = router.pick(scope)
            assert fast is None or fast is loop, (path, method)
            picked += fast is not None
            if path in router.fixed and loop is not None and "{" not in loop.path:
                assert fast is loop, (path, method)
    assert picked >= len(router.fixed)
