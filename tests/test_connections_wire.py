"""Connections' own HTTP/1.1 (answers parsed by httptools) against real local sockets: what it
sends, how it reads every kind of answer, when it keeps a connection, and which httpx error each
failure raises -- the same as httpcore's connections (``_wire`` off) wherever both are asked."""

from __future__ import annotations

import gzip
import shutil
import socket
import ssl
import subprocess
import threading
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from instantly_nb import connections
from instantly_nb.connections import Connections

from .localserver import LocalServer

OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 12\r\n\r\n{\"items\":[]}"


class Scripted(LocalServer):
    """HTTP/1.1 on 127.0.0.1 answering each request with the next of ``answers`` (the last one
    again once they run out). An answer is raw bytes, a list of pieces sent 20 ms apart, or
    (either, what next): "close" hangs up
    after it, "hold" waits for ``release`` then hangs up. Records each request's bytes and the
    number of the connection it came on."""

    def __init__(self, *answers: bytes | list[bytes] | tuple[bytes | list[bytes], str],
                 wrap: ssl.SSLContext | None = None):
        self.answers = list(answers)
        self.wrap = wrap
        self.release = threading.Event()
        super().__init__()

    def _next(self) -> tuple[bytes | list[bytes], str]:
        with self._lock:
            answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return answer if isinstance(answer, tuple) else (answer, "keep")

    def _serve(self, conn: socket.socket, number: int) -> None:
        if self.wrap is not None:
            try:
                conn = self.wrap.wrap_socket(conn, server_side=True)
            except (OSError, ssl.SSLError):
                conn.close()
                return
        buf = b""
        with conn:
            while True:
                try:
                    while b"\r\n\r\n" not in buf:
                        data = conn.recv(65536)
                        if not data:
                            return
                        buf += data
                    head, rest = buf.split(b"\r\n\r\n", 1)
                    lower = head.lower()
                    if b"transfer-encoding: chunked" in lower:
                        while not rest.endswith(b"0\r\n\r\n"):
                            rest += conn.recv(65536)
                        length = len(rest)
                    else:
                        length = 0
                        for line in lower.split(b"\r\n")[1:]:
                            if line.startswith(b"content-length:"):
                                length = int(line.split(b":")[1])
                        while len(rest) < length:
                            rest += conn.recv(65536)
                    with self._lock:
                        self.requests.append((number, head + b"\r\n\r\n" + rest[:length]))
                    buf = rest[length:]
                    answer, then = self._next()
                    if isinstance(answer, list):  # pieces sent apart, read apart
                        for piece in answer:
                            conn.sendall(piece)
                            threading.Event().wait(0.02)
                    else:
                        conn.sendall(answer)
                    if then == "hold":
                        self.release.wait(10)
                    if then != "keep":
                        return
                except OSError:
                    return

    def close(self) -> None:
        self.release.set()
        super().close()


@pytest.fixture
def serve() -> Iterator[Callable[..., Scripted]]:
    servers: list[Scripted] = []

    def make(*answers: bytes | list[bytes] | tuple[bytes | list[bytes], str],
             wrap: ssl.SSLContext | None = None) -> Scripted:
        servers.append(Scripted(*answers, wrap=wrap))
        return servers[-1]

    yield make
    for srv in servers:
        srv.close()


def pool(wire: bool = True, **kwargs) -> Connections:
    made = Connections(**{"limit": 4, "proxy": None, "tls": False, **kwargs})
    assert made._wire  # httptools is installed: the connections are our own
    made._wire = wire
    return made


def get(transport: httpx.BaseTransport, url: str, **kwargs) -> httpx.Response:
    response = transport.handle_request(httpx.Request("GET", url, **kwargs))
    try:
        response.read()
    finally:
        response.close()
    return response


def test_the_same_bytes_on_the_wire_as_httpcore(serve):
    requests: list[tuple[str, str, dict]] = [
        ("GET", "/api/v2/campaigns?limit=3&starting_after=a+b%26c", {"headers": {
            "Authorization": "Bearer x", "Accept": "application/json", "Accept-Encoding": "gzip"}}),
        ("POST", "/api/v2/leads/list", {"json": {"limit": 5, "name": 'ü "q"'},
                                        "headers": {"X-Many": "a, b"}}),
        ("POST", "/api/v2/leads/list", {}),  # a body of unknown length: chunked
        ("GET", "/x", {"headers": {"Content-Length": "0, 0"}}),  # written once, as h11 does
        ("GET", "/x", {"headers": {"Connection": "close"}}),
    ]
    wires = []
    for wire in (True, False):
        srv = serve(OK)
        transport = pool(wire)
        for method, path, kwargs in requests:
            if method == "POST" and not kwargs:
                kwargs = {"content": iter([b"ab", b"", b"cde"])}
            answer = transport.handle_request(httpx.Request(method, srv.url + path, **kwargs))
            answer.read()
            answer.close()
        wires.append([raw.replace(str(srv.port).encode(), b"PORT") for _, raw in srv.requests])
        # the request with Connection: close leaves no connection behind
        assert transport._open == 0 and srv.connections == 1
        transport.close()
    ours, httpcores = wires
    assert ours == httpcores
    assert ours[2].endswith(b"Transfer-Encoding: chunked\r\n\r\n2\r\nab\r\n3\r\ncde\r\n0\r\n\r\n")
    assert ours[3] == b"GET /x HTTP/1.1\r\nHost: 127.0.0.1:PORT\r\nContent-Length: 0\r\n\r\n"


@pytest.mark.parametrize("answer,body,kept", [
    (OK, b'{"items":[]}', True),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
     b"abcde", True),
    (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi", b"hi", True),
    (b"HTTP/1.1 204 No Content\r\n\r\n", b"", True),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", b"", True),
    (b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nhi", b"hi", False),
    (b"HTTP/1.1 200 OK\r\nConnection: Keep-Alive, Close\r\nContent-Length: 2\r\n\r\nhi", b"hi", False),
    (b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhi", b"hi", False),
    (b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nhi", b"hi", False),
    ((b"HTTP/1.1 200 OK\r\n\r\nuntil the end", "close"), b"until the end", False),  # no length
])
@pytest.mark.parametrize("wire", [True, False])
def test_an_answer_is_read_and_its_connection_kept_only_when_it_can_be(serve, answer, body, kept,
                                                                        wire):
    srv = serve(answer, OK)
    transport = pool(wire)
    response = get(transport, srv.url + "/a")
    assert response.content == body
    if wire:  # (httpcore keeps the connection after an answer ended by the server's close, or
        # followed by bytes of no request: it finds the first closed when it is next taken)
        assert (transport._open, len(transport._free)) == ((1, 1) if kept else (0, 0))
    assert get(transport, srv.url + "/b").content == b'{"items":[]}'
    assert srv.connections == (1 if kept else 2)
    transport.close()


BIG = b"[" + b",".join(b'{"id":%d,"text":"%s"}' % (n, b"x" * (n % 97)) for n in range(20000)) + b"]"


@pytest.mark.parametrize("pieces", [
    [b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", b"01234", b"56789"],
    [b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n012", b"3456789"],
    [b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(BIG), BIG[:70000], BIG[70000:]],
    [b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", b"%x\r\n" % len(BIG) + BIG,
     b"\r\n0\r\n\r\n"],
])
@pytest.mark.parametrize("wire", [True, False])
def test_a_body_that_comes_after_its_head_is_read_whole(serve, pieces, wire):
    srv = serve(pieces, OK)
    transport = pool(wire)
    expected = BIG if len(pieces[-1]) > 100 or b"chunked" in pieces[0] else b"0123456789"
    assert get(transport, srv.url + "/a").content == expected
    assert transport._open == 1  # kept
    assert get(transport, srv.url + "/b").content == b'{"items":[]}'
    assert srv.connections == 1
    transport.close()


@pytest.mark.parametrize("wire", [True, False])
def test_a_body_cut_short_after_its_head_is_a_remote_protocol_error(serve, wire):
    srv = serve(([b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01", b"234"], "close"))
    transport = pool(wire)
    with pytest.raises(httpx.RemoteProtocolError, match="received 5 bytes, expected 10"):
        get(transport, srv.url + "/a")
    assert transport._open == 0 and transport._free == []
    transport.close()


@pytest.mark.parametrize("answer, body", [
    # in one piece (httpcore keeps the connection, and reads those bytes as the start of the
    # next answer)
    (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhiHTTP/1.1 200 OK\r\n", b"hi"),
    # the body (and what follows it) after its head
    ([b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n", b"abcdHTTP/1.1 200"], b"abcd"),
], ids=["in-one-piece", "body-after-head"])
def test_bytes_after_an_answer_leave_its_connection_unused(serve, answer, body):
    srv = serve(answer, OK)
    transport = pool()
    assert get(transport, srv.url + "/a").content == body
    assert transport._open == 0
    assert get(transport, srv.url + "/b").content == b'{"items":[]}'
    assert srv.connections == 2
    transport.close()


@pytest.mark.parametrize("wire", [True, False])
def test_status_headers_and_version_as_httpcore_reports_them(serve, wire):
    srv = serve(b"HTTP/1.1 429 Too Many Requests\r\nRetry-After:  7 \r\nX-A: 1\r\nx-a: 2\r\n"
                b"Set-Cookie: a=b; Path=/\r\nContent-Length: 2\r\n\r\n{}")
    transport = pool(wire)
    response = get(transport, srv.url + "/a")
    assert response.status_code == 429 and response.reason_phrase == "Too Many Requests"
    assert response.http_version == "HTTP/1.1"
    assert response.headers.raw == [(b"Retry-After", b"7"), (b"X-A", b"1"), (b"x-a", b"2"),
                                    (b"Set-Cookie", b"a=b; Path=/"), (b"Content-Length", b"2")]
    assert response.headers.get_list("x-a") == ["1", "2"]
    transport.close()


@pytest.mark.parametrize("encoding,pack", [
    ("gzip", gzip.compress), ("deflate", zlib.compress), ("identity", bytes)])
@pytest.mark.parametrize("wire", [True, False])
def test_a_compressed_body_is_decoded_by_httpx_as_before(serve, encoding, pack, wire):
    body = b'{"items":[' + b",".join([b'{"id":"abc"}'] * 500) + b"]}"
    packed = pack(body)
    srv = serve(b"HTTP/1.1 200 OK\r\nContent-Encoding: %s\r\nContent-Length: %d\r\n\r\n"
                % (encoding.encode(), len(packed)) + packed)
    transport = pool(wire)
    response = get(transport, srv.url + "/a")
    assert response.content == body
    assert response.headers["content-length"] == str(len(packed))
    transport.close()


@pytest.mark.parametrize("answer,message", [
    (b"", "Server disconnected without sending a response."),
    (b"HTTP/1.1 200 OK\r\nContent-Le", None),  # the head cut short
    (b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{}", "received 2 bytes, expected 50"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", "incomplete chunked read"),
    (b"NONSENSE\r\n\r\n", None),
    (b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", None),
    (b"HTTP/1.1 2000 OK\r\n\r\n", None),
])
@pytest.mark.parametrize("wire", [True, False])
def test_a_broken_answer_is_a_remote_protocol_error_and_no_connection_is_kept(serve, answer,
                                                                               message, wire):
    srv = serve((answer, "close"))
    transport = pool(wire)
    with pytest.raises(httpx.RemoteProtocolError, match=message):
        get(transport, srv.url + "/a")
    assert transport._open == 0 and transport._free == []
    transport.close()


@pytest.mark.parametrize("answer", [
    b"",  # nothing at all
    b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{}",  # the head, part of the body
])
@pytest.mark.parametrize("wire", [True, False])
def test_a_server_that_stops_answering_is_a_read_timeout(serve, answer, wire):
    srv = serve((answer, "hold"))
    transport = pool(wire)
    with pytest.raises(httpx.ReadTimeout):
        get(transport, srv.url + "/a", extensions={"timeout": httpx.Timeout(0.1).as_dict()})
    assert transport._open == 0 and transport._free == []
    srv.release.set()
    transport.close()


@pytest.mark.parametrize("wire", [True, False])
def test_a_refused_connection_is_a_connect_error(wire):
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]  # closed again: nothing listens there
    transport = pool(wire)
    with pytest.raises(httpx.ConnectError):
        get(transport, f"http://127.0.0.1:{port}/a")
    assert transport._open == 0
    transport.close()


@pytest.mark.parametrize("wire", [True, False])
def test_an_answer_closed_before_its_body_was_read_gives_no_connection_back(serve, wire):
    srv = serve(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhe", OK)
    transport = pool(wire)
    response = transport.handle_request(httpx.Request("GET", srv.url + "/a"))
    assert response.status_code == 200
    response.close()  # "llo" never read
    assert transport._open == 0 and transport._free == []
    assert get(transport, srv.url + "/b").content == b'{"items":[]}'
    assert srv.connections == 2
    transport.close()


@pytest.mark.parametrize("wire", [True, False])
def test_a_kept_connection_the_server_closed_is_not_used_again(serve, wire):
    srv = serve((OK, "close"))
    transport = pool(wire)
    assert get(transport, srv.url + "/a").content == b'{"items":[]}'
    assert transport._open == 1  # kept: the answer did not say it would close
    for _ in range(200):  # until the server's close has arrived
        if transport._free[0][1].has_expired():
            break
        threading.Event().wait(0.01)
    assert get(transport, srv.url + "/b").content == b'{"items":[]}'
    assert [number for number, _ in srv.requests] == [1, 2]
    transport.close()


@pytest.mark.parametrize("wire", [True, False])
def test_an_illegal_header_is_refused_before_anything_is_sent(serve, wire):
    srv = serve(OK)
    transport = pool(wire)
    with pytest.raises(httpx.LocalProtocolError):
        get(transport, srv.url + "/a", headers={"X-A": "line\r\nX-Injected: 1"})
    with pytest.raises(httpx.LocalProtocolError):
        get(transport, srv.url + "/a", headers={"Bad Name": "1"})
    if wire:  # (h11's own error through httpcore's connection)
        with pytest.raises(httpx.LocalProtocolError, match="Too much data"):
            get(transport, srv.url + "/a", headers={"Content-Length": "1"}, content=b"ab")
    assert srv.requests == []
    assert get(transport, srv.url + "/b").content == b'{"items":[]}'
    transport.close()


def test_an_unusual_scheme_is_refused():
    transport = pool()
    with pytest.raises(httpx.UnsupportedProtocol):
        get(transport, "ftp://127.0.0.1/a")
    transport.close()


def test_without_httptools_httpcore_connections_serve(serve, monkeypatch):
    monkeypatch.setattr(connections, "httptools", None)
    srv = serve(OK)
    transport = Connections(limit=2, proxy=None, tls=False)
    assert not transport._wire
    assert get(transport, srv.url + "/a").content == b'{"items":[]}'
    assert get(transport, srv.url + "/a").content == b'{"items":[]}'
    assert isinstance(transport._free[0][1], connections.httpcore.HTTPConnection)
    assert srv.connections == 1
    transport.close()


# -- TLS, with a certificate made for the test by the openssl command -----------------------

def _certificate(folder: Path, name: str) -> tuple[Path, Path]:
    key, cert = folder / f"{name}.key", folder / f"{name}.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-keyout", str(key), "-out", str(cert), "-subj", f"/CN={name}",
                    "-addext", f"subjectAltName=DNS:{name}"],
                   check=True, capture_output=True)
    return key, cert


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, ssl.SSLContext]:
    """A certificate for localhost and a server context serving it."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command makes the test certificate")
    key, cert = _certificate(tmp_path_factory.mktemp("tls"), "localhost")
    server_side = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_side.load_cert_chain(cert, key)
    return cert, server_side


@pytest.mark.parametrize("wire", [True, False])
def test_tls_verifies_the_server_and_keeps_the_connection(serve, certificate, wire):
    cert, server_side = certificate
    srv = serve(OK, wrap=server_side)
    transport = pool(wire, tls=True)
    transport._ssl = ssl.create_default_context(cafile=str(cert))  # trusts the test's certificate
    url = f"https://localhost:{srv.port}/a"
    assert get(transport, url).content == b'{"items":[]}'
    assert get(transport, url).content == b'{"items":[]}'
    assert srv.connections == 1 and len(srv.requests) == 2
    assert srv.requests[0][1].startswith(b"GET /a HTTP/1.1\r\nHost: localhost:%d\r\n" % srv.port)
    transport.close()
    # another name than the certificate's: refused while connecting
    transport = pool(wire, tls=True)
    transport._ssl = ssl.create_default_context(cafile=str(cert))
    with pytest.raises(httpx.ConnectError, match="certificate"):
        get(transport, url, extensions={"sni_hostname": "other.test"})
    assert transport._open == 0 and srv.connections == 2 and len(srv.requests) == 2
    transport.close()


@pytest.mark.parametrize("wire", [True, False])
def test_tls_refuses_a_certificate_it_does_not_trust(serve, certificate, wire):
    cert, server_side = certificate
    srv = serve(OK, wrap=server_side)
    transport = pool(wire, tls=False)  # a context that trusts no certificate
    with pytest.raises(httpx.ConnectError, match="certificate verify failed"):
        get(transport, f"https://localhost:{srv.port}/a")
    assert transport._open == 0 and srv.requests == []
    transport.close()
