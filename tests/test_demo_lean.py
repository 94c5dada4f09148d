"""The app the demo server serves (``make_asgi``) against the starlette app (``make_app``): the
same ASGI messages -- status, every header in order, body -- for a sweep of requests.

Each side gets its own keys, rate limiter (on a clock that moves 10 ms per request, so the 429s
fall on the same requests) and fault injector (same seed), and both are sent the same requests in the same order:
every endpoint with its example parameters, with a wrong or missing key, another method, HEAD,
a trailing slash, unknown paths, encoded slashes, broken and oversized bodies, a body in two
parts, in strict mode and in live mode with injected faults.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

import httpx
import pytest

from instantly_nb.demo import DemoServer
from instantly_nb.demo.config import DEMO_KEY, Faults, Limits
from instantly_nb.demo.examples import example_params, split_params
from instantly_nb.demo.faults import FaultInjector
from instantly_nb.demo.quirks import Quirks
from instantly_nb.demo.ratelimit import RateLimiter
from instantly_nb.demo.routing import LeanApp
from instantly_nb.demo.server import _Keys, make_app, make_asgi
from instantly_nb.endpoints import ENDPOINTS

from .test_demo_support import TODAY

Request = tuple[str, bytes, bytes, list[tuple[bytes, bytes]], list[bytes]]
UA = (b"user-agent", b"instantly-nb-tests")


def _request(method: str, target: str, query: dict[str, Any] | None = None,
             body: bytes | list[bytes] = b"", key: str | None = DEMO_KEY,
             headers: tuple[tuple[bytes, bytes], ...] = (UA,)) -> Request:
    """(method, raw path, query string, headers, body chunks) as uvicorn hands them over."""
    url = httpx.URL("http://demo" + target, params=query or {})
    chunks = body if isinstance(body, list) else [body]
    sent = [(b"host", b"demo"), *headers]
    if key is not None:
        sent.append((b"authorization", f"Bearer {key}".encode()))
    if method == "POST":
        sent += [(b"content-length", str(sum(map(len, chunks))).encode()),
                 (b"content-type", b"application/json")]
    return method, url.raw_path.split(b"?", 1)[0], url.query, sent, chunks


def _sweep(ws: Any) -> list[Request]:
    out: list[Request] = []  # the odd ones first: the rate limit refuses some of the later ones
    leads = ENDPOINTS["leads.list"].path
    for body in (b"{", b"[1]", b"{\"limit\": 1e400}", b"{\"limit\": 2}"):
        out.append(_request("POST", leads, body=body))
    out.append(_request("POST", leads, body=[b"{\"limi", b"t\": 3}"]))
    out.append(_request("POST", leads, body=b"{}", headers=(UA, (b"content-length", b"99999999"))))
    for target in ("/api/v2/nowhere", "/", "/api/v2/campaigns/", "/api/v2/email-verification/"
                   "a%2Fb%40example.com", "/api/v2/email-verification/a%2fb@example.com",
                   "/api/v2/accounts/a%2Fb%40example.com", "/api/v2/campaigns%0A"):
        out.append(_request("GET", target))
        out.append(_request("GET", target, key=None))
    out.append(_request("GET", "/api/v2/campaigns", headers=((b"user-agent", b"python-httpx/0"),)))
    out.append(_request("GET", "/api/v2/campaigns", headers=(UA, (b"x-demo-block", b"1"))))
    out.append(_request("GET", "/api/v2/campaigns", headers=(UA, (b"authorization", b"Basic x"))))
    for name, params in sorted(example_params(ws).items()):
        endpoint = ENDPOINTS[name]
        path, query, body = split_params(name, params)
        data = json.dumps(body).encode() if endpoint.method == "POST" else b""
        out.append(_request(endpoint.method, path, query, data))
        out.append(_request(endpoint.method, path, query, data, key=None))
        out.append(_request(endpoint.method, path, query, data, key="nope"))
        out.append(_request(endpoint.method, path, query, data, key="demo-key-unpaid-x"))
        out.append(_request("DELETE", path, query))
        out.append(_request("GET" if endpoint.method == "POST" else "POST", path, query))
        out.append(_request("HEAD", path, query))
        out.append(_request(endpoint.method, path + "/", query, data))
        out.append(_request(endpoint.method, path, {**query, "limit": "x"}, data))
    return out


def _scope(method: str, raw: bytes, query: bytes, headers: list[tuple[bytes, bytes]]) -> dict:
    return {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1", "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 5000),
            "scheme": "http", "method": method, "root_path": "",
            "path": unquote(raw.decode("latin-1")), "raw_path": raw, "query_string": query,
            "headers": headers}


async def _answers(app: Any, requests: list[Request]) -> list[list[dict[str, Any]]]:
    out = []
    for method, raw, query, headers, chunks in requests:
        parts = [{"type": "http.request", "body": c, "more_body": i + 1 < len(chunks)}
                 for i, c in enumerate(chunks)]

        async def receive(parts: list[dict[str, Any]] = parts) -> dict[str, Any]:
            return parts.pop(0) if parts else {"type": "http.disconnect"}

        sent: list[dict[str, Any]] = []

        async def send(message: dict[str, Any], sent: list[dict[str, Any]] = sent) -> None:
            sent.append(message)

        await app(_scope(method, raw, query, list(headers)), receive, send)
        out.append(sent)
    return out


def _apps(live: bool) -> tuple[Any, LeanApp]:
    faults = Faults(error_rate=0.05, truncate_rate=0.05, invalid_json_rate=0.05,
                    error_in_200="webhooks.list", seed=5) if live else Faults()
    quirks = Quirks("live" if live else "strict")
    made = []
    for make in (make_app, make_asgi):
        keys = _Keys(DEMO_KEY, 7, "tiny", TODAY)
        ticks = iter(range(1_000_000))
        limiter = RateLimiter(Limits(per_second=80, per_minute=10_000),
                              {n: e.per_minute for n, e in ENDPOINTS.items() if e.per_minute},
                              clock=lambda ticks=ticks: next(ticks) / 100)
        made.append(make(keys, limiter, FaultInjector(faults), quirks))
    return made[0], made[1]


@pytest.fixture(scope="module")
def sweep() -> Iterator[list[Request]]:
    with DemoServer(size="tiny", today=TODAY, limits=Limits(enabled=False)) as server:
        yield _sweep(server.workspace)


@pytest.mark.parametrize("live", [False, True])
def test_lean_app_answers_as_the_starlette_app(sweep: list[Request], live: bool) -> None:
    starlette_app, lean = _apps(live)
    assert isinstance(lean, LeanApp) and lean.fixed and lean.templated
    expected = asyncio.run(_answers(starlette_app, sweep))
    got = asyncio.run(_answers(lean, sweep))
    assert len(got) == len(expected) == len(sweep)
    for request, a, b in zip(sweep, got, expected, strict=True):
        assert a == b, request[:3]
    statuses = {messages[0]["status"] for messages in expected}
    wanted = {200, 400, 401, 402, 404, 405, 413, 429} | ({403, 500, 502, 503} if live else set())
    assert wanted <= statuses, statuses


def test_the_server_serves_the_lean_app() -> None:
    with DemoServer(size="tiny", today=TODAY, limits=Limits(enabled=False)) as server:
        assert server._server is not None
        assert isinstance(server._server.config.app, LeanApp)
        answer = httpx.get(server.url + "/api/v2/campaigns/count-launched",
                           headers={"Authorization": f"Bearer {DEMO_KEY}"})
        assert answer.status_code == 200 and answer.json()["count"] > 0
        assert [k for k, _ in answer.headers.raw if k.lower() not in (b"date", b"server")] == \
            [b"content-length", b"content-type"]
