"""The demo server parses HTTP with httptools when it is installed (a dependency), and answers
exactly what it answers with h11: the same status, content type and body bytes for pages, errors
(400, 401, 404, 405, 413), encoded slashes and several requests on one kept-alive connection."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest

from instantly_nb.demo import DEMO_KEY, DemoServer, Limits
from instantly_nb.demo import server as server_module
from instantly_nb.demo.server import MAX_BODY_BYTES

from .test_demo_support import TODAY, bearer

LEADS = "/api/v2/leads/list"


def _start(parser: str, monkeypatch: pytest.MonkeyPatch) -> DemoServer:
    monkeypatch.setattr(server_module, "HTTP_PARSER", parser)
    return DemoServer(size="tiny", today=TODAY, limits=Limits(enabled=False)).start()


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, DemoServer]]:
    with pytest.MonkeyPatch.context() as mp:
        both = {"h11": _start("h11", mp)}
    both["default"] = DemoServer(size="tiny", today=TODAY, limits=Limits(enabled=False)).start()
    try:
        yield both
    finally:
        for srv in both.values():
            srv.stop()


def _answers(server: DemoServer) -> list[tuple[int, str, bytes]]:
    out = []
    with httpx.Client(base_url=server.url, headers=bearer(), timeout=30) as client:
        page = client.post(LEADS, json={"limit": 100})
        cursor = page.json()["next_starting_after"]
        sent = [
            page,
            client.post(LEADS, json={"limit": 100, "starting_after": cursor}),
            client.get("/api/v2/emails", params={"limit": 100}),
            client.get("/api/v2/emails", params={"limit": 7, "preview_only": "true"}),
            client.get("/api/v2/email-verification/first%2Flast@example.com"),
            client.get("/api/v2/accounts/a%2Fb@example.com"),  # 404 of the handler
            client.get("/api/v2/nowhere"),  # 404 of the router
            client.patch("/api/v2/campaigns/x"),  # 405
            client.post(LEADS, content=b'{"search": "x"'),  # 400
            client.post(LEADS, content=b'{"search": "' + b"x" * (MAX_BODY_BYTES + 10) + b'"}'),
            client.get("/api/v2/campaigns", params={"limit": "nan"}),  # 400
            client.get("/api/v2/campaigns/count-launched", headers={"Authorization": "x"}),
        ]
        out = [(r.status_code, r.headers.get("content-type", ""), r.content) for r in sent]
    return out


def _read_answer(sock: socket.socket, buffer: bytearray) -> bytes:
    while b"\r\n\r\n" not in buffer:
        buffer += sock.recv(65536)
    head, _, rest = bytes(buffer).partition(b"\r\n\r\n")
    length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:"))
    while len(rest) < length:
        rest += sock.recv(65536)
    buffer[:] = rest[length:]
    return head.split(b"\r\n", 1)[0] + b"\n" + rest[:length]


def _kept_alive(server: DemoServer) -> list[bytes]:
    """Three requests, one after the other, on one raw connection."""
    host, port = server.url.removeprefix("http://").split(":")
    body = b'{"limit": 3}'
    requests = [
        (f"POST {LEADS} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {DEMO_KEY}\r\n"
         f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body,
        f"GET /api/v2/emails?limit=2 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {DEMO_KEY}"
        "\r\n\r\n".encode(),
        f"DELETE /api/v2/campaigns/x HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {DEMO_KEY}"
        "\r\n\r\n".encode(),
    ]
    out = []
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        buffer = bytearray()
        for request in requests:
            sock.sendall(request)
            out.append(_read_answer(sock, buffer))
    return out


def test_the_server_parses_with_httptools_when_installed(servers):
    pytest.importorskip("httptools")
    assert servers["default"].http == "httptools"
    assert servers["h11"].http == "h11"


def test_httptools_answers_the_bytes_h11_answers(servers):
    with_h11, with_httptools = _answers(servers["h11"]), _answers(servers["default"])
    assert [a[0] for a in with_h11] == [200, 200, 200, 200, 200, 404, 404, 405, 400, 413, 400,
                                        401]
    assert with_httptools == with_h11


def test_one_connection_serves_several_requests_the_same_way(servers):
    with_h11, with_httptools = _kept_alive(servers["h11"]), _kept_alive(servers["default"])
    assert [a.split(b"\n", 1)[0] for a in with_h11] == [
        b"HTTP/1.1 200 OK", b"HTTP/1.1 200 OK", b"HTTP/1.1 405 Method Not Allowed"]
    assert with_httptools == with_h11
