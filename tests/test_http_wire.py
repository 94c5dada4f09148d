"""What the request function puts on the wire, against a socket server that records the raw bytes:
exactly what httpx's own client sends for the same request, over a bounded set of kept-alive
connections."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator

import httpx
import pytest

from instantly_nb import errors
from instantly_nb.endpoints import ENDPOINTS
from instantly_nb.http import USER_AGENT, Connections, Requester, RetryPolicy
from instantly_nb.throttle import RateWindow, Throttle

from .conftest import FAKE_KEY
from .localserver import LocalServer


class WireServer(LocalServer):
    """HTTP/1.1 on 127.0.0.1: records each request's bytes and the connection it came on."""

    def __init__(self, extra_headers: bytes = b"", hold: threading.Event | None = None,
                 hang_up: bool = False, answer: bytes | None = None, keep: bool = False):
        self.extra_headers = extra_headers
        self.hold = hold  # answers wait for it when set
        self.hang_up = hang_up  # close each connection after one answer (keep-alive not kept)
        self.answer = answer  # raw bytes sent instead of the answer when set (then the
        self.keep = keep  # connection is closed, unless ``keep``: the same bytes every time)
        self.reads: list[bytes] = []  # the first chunk received of each request
        super().__init__(backlog=64)

    def _serve(self, conn: socket.socket, number: int) -> None:
        buf = b""
        with conn:
            while True:
                first = not buf
                while b"\r\n\r\n" not in buf:
                    data = conn.recv(65536)
                    if not data:
                        return
                    if first:
                        with self._lock:
                            self.reads.append(data)
                        first = False
                    buf += data
                head, rest = buf.split(b"\r\n\r\n", 1)
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                while len(rest) < length:
                    rest += conn.recv(65536)
                with self._lock:
                    self.requests.append((number, head + b"\r\n\r\n" + rest[:length]))
                buf = rest[length:]
                if self.hold is not None:
                    self.hold.wait(10)
                if self.answer is not None:
                    conn.sendall(self.answer)
                    if self.keep:
                        continue
                    return
                body = b'{"items":[]}'
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + self.extra_headers
                             + b"Content-Length: %d\r\n\r\n" % len(body) + body)
                if self.hang_up:
                    return

    def wire(self) -> list[bytes]:
        return [raw.replace(str(self.port).encode(), b"PORT") for _, raw in self.requests]


@pytest.fixture
def server() -> Iterator[WireServer]:
    srv = WireServer()
    yield srv
    srv.close()


def requester(url: str, **kwargs) -> Requester:
    return Requester(api_key=FAKE_KEY, base_url=url, endpoints=ENDPOINTS,
                     throttle=Throttle((RateWindow(10_000, 1.0),), {}), **kwargs)


COMMON = (b"Host: 127.0.0.1:PORT\r\nAccept-Encoding: " + httpx.Client().headers["Accept-Encoding"].encode()
          + b"\r\nConnection: keep-alive\r\nAuthorization: Bearer " + FAKE_KEY.encode()
          + b"\r\nUser-Agent: " + USER_AGENT.encode() + b"\r\nAccept: application/json\r\n")

CASES = [  # (endpoint, path parameters, query, body, the exact request on the wire)
    ("account_campaign_mappings.list", {"email": "a b/ü?#%@x.com"},
     {"limit": 10, "starting_after": "x y&z=ü+/", "flag": True, "off": False, "none": None,
      "ids": ["a", "b c"]}, None,
     b"GET /api/v2/account-campaign-mappings/a%20b%2F%C3%BC%3F%23%25@x.com?limit=10&starting_after"
     b"=x+y%26z%3D%C3%BC%2B%2F&flag=true&off=false&ids=a&ids=b+c HTTP/1.1\r\n" + COMMON + b"\r\n"),
    ("leads.list", {}, None, {"limit": 5, "name": 'ü "q"', "ids": [1, 2.5, None, False]},
     b"POST /api/v2/leads/list HTTP/1.1\r\n" + COMMON
     + b'Content-Length: 54\r\nContent-Type: application/json\r\n\r\n'
     + '{"limit":5,"name":"ü \\"q\\"","ids":[1,2.5,null,false]}'.encode()),
    ("leads.list", {}, None, None,
     b"POST /api/v2/leads/list HTTP/1.1\r\n" + COMMON
     + b"Content-Length: 2\r\nContent-Type: application/json\r\n\r\n{}"),
    ("campaigns.list", {}, None, None, b"GET /api/v2/campaigns HTTP/1.1\r\n" + COMMON + b"\r\n"),
]


@pytest.mark.parametrize("name,path,query,body,expected", CASES)
def test_the_bytes_on_the_wire(server, name, path, query, body, expected):
    req = requester(server.url)
    assert req.send(ENDPOINTS[name], path_params=path, query=query, body=body) == {"items": []}
    assert server.wire() == [expected]
    req.close()


@pytest.mark.parametrize("name,path,query,body,expected", CASES)
def test_the_same_bytes_as_httpx_client_request(server, name, path, query, body, expected):
    """The request function sends what ``httpx.Client.request`` sends for the same arguments."""
    from instantly_nb.guard import encode_segment
    from instantly_nb.http import _query_items

    req = requester(server.url + "/")  # a trailing slash changes nothing
    req.send(ENDPOINTS[name], path_params=path, query=query, body=body)
    ep = ENDPOINTS[name]
    url = ep.path.format(**{k: encode_segment(v) for k, v in path.items()})
    req._http.request(ep.method, url, params=_query_items(query),
                      json=dict(body or {}) if ep.method == "POST" else None)
    first, second = server.wire()
    assert first == second == expected
    req.close()


def test_cookies_the_server_sets_are_sent_back_as_httpx_does():
    srv = WireServer(extra_headers=b"Set-Cookie: visit=abc; Path=/\r\n")
    req = requester(srv.url)
    req.send(ENDPOINTS["campaigns.list"])
    req.send(ENDPOINTS["campaigns.list"])
    first, second = srv.wire()
    assert b"Cookie" not in first
    assert second == first.replace(b"\r\n\r\n", b"\r\nCookie: visit=abc\r\n\r\n")
    srv.close()
    req.close()


def test_each_request_is_logged_by_httpx_as_its_client_does(server, caplog):
    req = requester(server.url)
    with caplog.at_level(logging.INFO, logger="httpx"):
        req.send(ENDPOINTS["campaigns.list"], query={"limit": 3})
    assert [r.getMessage() for r in caplog.records if r.name == "httpx"] == [
        f'HTTP Request: GET {server.url}/api/v2/campaigns?limit=3 "HTTP/1.1 200 OK"']
    assert FAKE_KEY not in caplog.text
    req.close()


def test_a_closed_requester_sends_nothing(server):
    req = requester(server.url)
    req.close()
    with pytest.raises(RuntimeError, match="client has been closed"):
        req.send(ENDPOINTS["campaigns.list"])
    assert server.requests == []


def test_sequential_requests_share_one_kept_alive_connection(server):
    req = requester(server.url)
    for _ in range(5):
        req.send(ENDPOINTS["campaigns.list"])
    assert [number for number, _ in server.requests] == [1] * 5
    req.close()


def test_requests_in_flight_never_open_more_than_max_connections():
    hold = threading.Event()
    srv = WireServer(hold=hold)
    req = requester(srv.url, max_connections=3)
    results: list[object] = []

    def one() -> None:
        results.append(req.send(ENDPOINTS["campaigns.list"]))

    threads = [threading.Thread(target=one) for _ in range(8)]
    for t in threads:
        t.start()
    while len(srv.requests) < 3:  # three answers held; the other five wait for a connection
        threading.Event().wait(0.01)
    hold.set()
    for t in threads:
        t.join(30)
    assert results == [{"items": []}] * 8
    assert len(srv.requests) == 8 and srv.connections == 3
    srv.close()
    req.close()


def test_a_request_waits_for_a_connection_at_most_the_pool_timeout(server):
    pool = Connections(limit=1, proxy=None)
    held = pool.handle_request(httpx.Request("GET", server.url + "/api/v2/campaigns"))
    waiting = httpx.Request("GET", server.url + "/api/v2/campaigns",
                            extensions={"timeout": httpx.Timeout(5, pool=0.05).as_dict()})
    with pytest.raises(httpx.PoolTimeout):
        pool.handle_request(waiting)
    held.read()
    held.close()  # gives the connection back
    again = pool.handle_request(waiting)
    assert again.read() == b'{"items":[]}'
    again.close()
    assert server.connections == 1
    pool.close()


def test_a_pool_timeout_is_a_timeout_error_of_the_request_function(server):
    req = requester(server.url, max_connections=1, timeout=httpx.Timeout(5, pool=0.05),
                    retry=RetryPolicy(max_attempts=2), sleep=lambda seconds: None)
    held = req._http.send(req._http.build_request("GET", "/api/v2/campaigns"), stream=True)
    with pytest.raises(errors.TimeoutError, match=r"timed out \(PoolTimeout\) after 2 attempts"):
        req.send(ENDPOINTS["campaigns.list"])
    held.close()
    assert req.send(ENDPOINTS["campaigns.list"]) == {"items": []}
    req.close()


def test_connections_idle_longer_than_the_keepalive_expiry_are_closed(server):
    pool = Connections(limit=4, proxy=None, keepalive_expiry=0.05)
    first = pool.handle_request(httpx.Request("GET", server.url + "/api/v2/campaigns"))
    second = pool.handle_request(httpx.Request("GET", server.url + "/api/v2/campaigns"))
    first.read(), second.read()
    first.close()
    second.close()
    assert pool._open == 2 and len(pool._free) == 2
    threading.Event().wait(0.1)
    third = pool.handle_request(httpx.Request("GET", server.url + "/api/v2/campaigns"))
    third.read()
    third.close()  # the one left idle is closed; the one just used is kept
    assert pool._open == 1 and len(pool._free) == 1
    pool.close()
    assert pool._open == 0 and pool._free == []


def test_an_answer_closed_after_the_pool_keeps_no_connection(server):
    pool = Connections(limit=2, proxy=None)
    late = pool.handle_request(httpx.Request("GET", server.url + "/api/v2/campaigns"))
    pool.close()
    late.read()
    late.close()
    assert pool._open == 0 and pool._free == []


def test_a_url_sent_again_is_the_same_on_the_wire(server):
    req = requester(server.url)
    for name, path, query, body, _ in CASES * 2:
        req.send(ENDPOINTS[name], path_params=path, query=query, body=body)
    assert server.wire() == [case[-1] for case in CASES] * 2
    req.close()


def test_parsed_urls_kept_are_bounded(server, monkeypatch):
    import instantly_nb.http as http

    monkeypatch.setattr(http, "_URL_CACHE", 3)
    req = requester(server.url)
    for n in range(7):
        req.send(ENDPOINTS["accounts.get"], path_params={"email": f"a{n}@x.com"})
    assert 1 <= len(req._urls) <= 3
    assert [raw.split(b" ")[1] for raw in server.wire()] == [
        f"/api/v2/accounts/a{n}@x.com".encode() for n in range(7)]
    req.close()


@pytest.mark.parametrize("raw", [True, False])
def test_an_answer_is_freed_when_read_not_left_to_the_garbage_collector(server, monkeypatch, raw):
    """No reference cycle holds a response (and its body) until the collector runs."""
    import gc
    import weakref

    seen: list[weakref.ref[httpx.Response]] = []
    read = httpx.Response.read

    def spy(self: httpx.Response) -> bytes:
        seen.append(weakref.ref(self))
        return read(self)

    monkeypatch.setattr(httpx.Response, "read", spy)
    req = requester(server.url)
    gc.collect()
    gc.disable()
    try:
        for _ in range(3):
            req.send(ENDPOINTS["leads.list"], body={"limit": 1}, raw=raw)
        assert len(seen) == 3 and [ref() for ref in seen] == [None] * 3
    finally:
        gc.enable()
    req.close()


def test_a_proxy_named_by_the_environment_carries_the_requests(server, monkeypatch):
    for name in ("no_proxy", "NO_PROXY", "HTTP_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("http_proxy", server.url)
    req = requester("http://api.test")
    assert req.send(ENDPOINTS["campaigns.list"], query={"limit": 2}) == {"items": []}
    assert server.wire() == [b"GET http://api.test/api/v2/campaigns?limit=2 HTTP/1.1\r\n"
                             + COMMON.replace(b"127.0.0.1:PORT", b"api.test") + b"\r\n"]
    req.close()


def test_an_http_origin_loads_no_certificates_and_could_not_trust_one(server):
    import ssl

    req = requester(server.url)
    req.send(ENDPOINTS["campaigns.list"])
    pool = req._transport._inner
    assert isinstance(pool, Connections) and pool._ssl is None  # plain connections: no context
    context = pool._context()  # the one a connection would get
    assert context.cert_store_stats()["x509_ca"] == 0
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    req.close()


def test_an_https_origin_verifies_with_httpx_default_context_made_at_the_first_connection():
    import ssl

    req = requester("https://api.test")
    pool = req._transport._inner
    assert isinstance(pool, Connections) and pool._ssl is None  # nothing loaded yet
    context = pool._context()
    assert context.cert_store_stats()["x509_ca"] > 0
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert pool._context() is context  # one context for every connection
    req.close()


def test_a_request_head_and_body_leave_in_one_send(server):
    req = requester(server.url)
    req.send(ENDPOINTS["leads.list"], body={"limit": 5})
    wire = server.wire()[0]
    assert wire.endswith(b'\r\n\r\n{"limit":5}')
    # small enough for one segment: the server's first read holds the head and the body
    assert server.reads[0].replace(str(server.port).encode(), b"PORT") == wire
    req.close()


def test_a_kept_alive_connection_the_server_closed_is_replaced_without_an_error():
    srv = WireServer(hang_up=True)
    req = requester(srv.url, retry=RetryPolicy(max_attempts=1))
    assert req.send(ENDPOINTS["campaigns.list"]) == {"items": []}
    threading.Event().wait(0.2)  # the server's close has arrived
    assert req.send(ENDPOINTS["campaigns.list"]) == {"items": []}
    assert req.requests_sent == 2 and srv.connections == 2
    assert [number for number, _ in srv.requests] == [1, 2]
    srv.close()
    req.close()


@pytest.mark.parametrize("answer,error", [
    (b"", errors.TransportError),  # hung up without an answer: httpx.RemoteProtocolError
    (b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{}", errors.TransportError),  # short body
    (b"NONSENSE\r\n\r\n", errors.TransportError),
])
def test_a_broken_answer_is_a_transport_error_and_its_connection_is_not_kept(answer, error):
    srv = WireServer(answer=answer)
    req = requester(srv.url, retry=RetryPolicy(max_attempts=2), sleep=lambda seconds: None)
    with pytest.raises(error, match="after 2 attempts"):
        req.send(ENDPOINTS["campaigns.list"])
    assert srv.connections == 2  # each attempt on a connection of its own
    pool = req._transport._inner
    assert isinstance(pool, Connections) and pool._open == 0 and pool._free == []
    srv.close()
    req.close()


def test_httpcore_errors_reach_the_caller_as_httpx_errors(server):
    pool = Connections(limit=1, proxy=None, tls=False)
    with pytest.raises(httpx.ConnectError):
        pool.handle_request(httpx.Request("GET", "http://127.0.0.1:1/api/v2/campaigns"))
    slow = WireServer(hold=threading.Event())
    with pytest.raises(httpx.ReadTimeout):
        pool.handle_request(httpx.Request("GET", slow.url + "/api/v2/campaigns",
                                          extensions={"timeout": httpx.Timeout(0.05).as_dict()}))
    assert pool._open == 0
    answer = pool.handle_request(httpx.Request("GET", server.url + "/api/v2/campaigns"))
    assert answer.read() == b'{"items":[]}'
    answer.close()
    assert pool._open == 1
    slow.hold.set()
    slow.close()
    pool.close()


@pytest.mark.parametrize("blank", [b"", b" \t\r\n\x0b\x0c"])
@pytest.mark.parametrize("raw", [True, False])
def test_a_blank_answer_is_retried_then_a_shape_error(blank, raw):
    # the connection is kept (a server that hung up after each answer would race the retry:
    # a request sent before its close arrives meets a reset, not the blank answer)
    srv = WireServer(answer=b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(blank) + blank,
                     keep=True)
    req = requester(srv.url, retry=RetryPolicy(max_attempts=3), sleep=lambda seconds: None)
    with pytest.raises(errors.ResponseShapeError, match="empty body"):
        req.send(ENDPOINTS["leads.list"], body={"limit": 1}, raw=raw)
    assert req.requests_sent == 3 and len(srv.requests) == 3 and srv.connections == 1
    srv.close()
    req.close()


@pytest.mark.parametrize("raw", [True, False])
def test_an_answer_with_text_around_blanks_is_read(raw):
    body = b' \n{"items":[{"id":"a"}]}\n '
    srv = WireServer(answer=b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    req = requester(srv.url, retry=RetryPolicy(max_attempts=1))
    answer = req.send(ENDPOINTS["leads.list"], body={"limit": 1}, raw=raw)
    assert answer == (body if raw else {"items": [{"id": "a"}]})
    srv.close()
    req.close()


def test_a_query_is_added_to_a_url_as_httpx_adds_it():
    import random

    from instantly_nb.http import _FAST_QUERY, _QUERY_MAX, _query_items, _with_query

    assert _FAST_QUERY  # the httpx installed keeps a URL's parts as expected
    rng = random.Random(7)
    alphabet = "aZ09 -._~!$&'()*+,;=:@/?#[]%\"<>\\^`{|}\t\x7fü€😀\u2028"
    base = httpx.URL("http://127.0.0.1:9/api/v2/x%20y/a@b.com")
    for _ in range(300):
        query = {"".join(rng.choices(alphabet, k=rng.randint(1, 6))):
                 ["".join(rng.choices(alphabet, k=rng.randint(0, 12))) for _ in range(rng.randint(1, 3))]
                 for _ in range(rng.randint(1, 4))}
        params = _query_items(query)
        made, expected = _with_query(base, params), httpx.URL(base, params=params)
        assert made == expected and str(made) == str(expected)
        assert made.raw_path == expected.raw_path and made.params == expected.params
    long = [("q", "x" * (_QUERY_MAX + 1))]
    assert _with_query(base, long) == httpx.URL(base, params=long)


@pytest.mark.parametrize("extra", [{}, {"Content-Type": "application/x"}, {"host": "other.test"}])
def test_a_request_is_the_one_httpx_request_makes(server, extra):
    from instantly_nb.http import _FAST_JSON

    assert _FAST_JSON  # the httpx installed writes JSON bodies as expected
    req = requester(server.url)
    req._http.headers.update(extra)
    url = httpx.URL(server.url + "/api/v2/leads/list")
    timeout = {"timeout": req._http.timeout.as_dict()}
    bodies = [None, {}, {"limit": 5, "name": 'ü "q"', "ids": [1, 2.5, None, False]}, None, {"a": 1}]
    for round_ in range(2):
        if round_:  # the client's headers changed: the next requests carry the change
            req._http.headers["X-Later"] = "1"
        for body in bodies:
            method = "GET" if body is None else "POST"
            made = req._request(method, url, body, req._http.headers, dict(timeout))
            expected = httpx.Request(method, url, json=body, headers=req._http.headers,
                                     extensions=dict(timeout))
            assert (made.method, made.url, made.headers.raw, made.content, made.extensions) == (
                expected.method, expected.url, expected.headers.raw, expected.content,
                expected.extensions)
            assert type(made.stream) is type(expected.stream)
            assert (b"X-Later" in dict(made.headers.raw)) == bool(round_)
    with pytest.raises(ValueError):  # NaN refused, as httpx refuses it
        req._request("POST", url, {"x": float("nan")}, req._http.headers, dict(timeout))
    req.close()
