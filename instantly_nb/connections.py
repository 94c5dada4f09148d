"""Kept-alive connections for :class:`~instantly_nb.http.Requester`, one request at a time each.

An ``httpcore`` pool of tens of connections scans all of them (and polls each idle socket) twice
per request, which cost more CPU than the request itself once a client keeps 30-60 requests in
flight. :class:`Connections` lends each request one connection from a stack of free ones and
takes it back when the answer's body is closed: no pool at all between httpx's request and the
connection. The connection speaks HTTP/1.1 itself and has its answers parsed by ``httptools``
(C), where httpcore's connection and h11's state machine took twice the CPU per request in
Python; without ``httptools`` it is an ``httpcore.HTTPConnection``, and through a proxy an
``httpx.HTTPTransport`` of one connection.
"""

from __future__ import annotations

import contextlib
import re
import select
import socket
import ssl
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any

import httpcore
import httpx

try:
    import httptools
except ImportError:  # pragma: no cover - a dependency; httpcore's connections do the same
    httptools = None  # type: ignore[assignment]

__all__ = ["Connections"]

Connection = Any  # _Wire, httpcore.HTTPConnection or (through a proxy) httpx.HTTPTransport

# httpcore's errors as httpx raises them (httpx.HTTPTransport maps them the same way)
_ERRORS: dict[type[Exception], type[httpx.HTTPError]] = {
    getattr(httpcore, name): getattr(httpx, name) for name in (
        "TimeoutException", "ConnectTimeout", "ReadTimeout", "WriteTimeout", "PoolTimeout",
        "NetworkError", "ConnectError", "ReadError", "WriteError", "ProxyError",
        "UnsupportedProtocol", "ProtocolError", "LocalProtocolError", "RemoteProtocolError")}


def _mapped(exc: Exception) -> httpx.HTTPError | None:
    """The httpx error for an httpcore one (the most specific), None for any other error."""
    for cls in type(exc).__mro__:
        to = _ERRORS.get(cls)
        if to is not None:
            return to(str(exc))
    return None


class Connections(httpx.BaseTransport):
    """Up to ``limit`` keep-alive connections, each serving one request at a time.

    One pool of ``limit`` connections would do the same, but such a pool scans all of its
    connections (and polls each idle socket) twice per request; with tens of connections that
    scan cost more CPU than the request itself. Here a request takes the connection used last
    from a stack of free ones (or opens one, or waits up to the pool timeout when ``limit`` are
    busy, as the pool would) and gives it back when its answer is closed. A connection the server
    has closed meanwhile (its socket reads as ready) is dropped and another one taken or opened,
    as the pool does; one left unused for ``keepalive_expiry`` is closed when another one comes
    back, like the pool's.

    The request goes straight to a connection of our own (:class:`_Wire`: HTTP/1.1, no connect
    retries, the request's timeouts), which sends what ``httpx.HTTPTransport``'s pool connection
    would send and raises the same httpx errors; the answer's body is decoded by httpx as
    before. Without ``httptools`` the connection is an ``httpcore.HTTPConnection``; through a
    proxy each connection is an ``httpx.HTTPTransport`` of one connection.

    All connections share one TLS context, made by httpx (certifi's CA bundle, or
    ``SSL_CERT_FILE``/``SSL_CERT_DIR``) when the first connection opens: loading the bundle
    takes ~30 ms of CPU and ~1 MB. A plain connection asks for no context. With ``tls=False``
    (an ``http://`` origin, which the read-only guard holds every request to) nothing is loaded:
    a connection would get a context that trusts no certificate, so a TLS handshake, were one
    ever tried, would fail.
    """

    def __init__(self, limit: int = 64, proxy: str | None = None, keepalive_expiry: float = 5.0,
                 *, tls: bool = True):
        self._limit = max(1, limit)
        self._proxy = proxy
        self._expiry = keepalive_expiry
        self._tls = tls
        self._ssl: ssl.SSLContext | None = None
        self._free: list[tuple[float, Connection]] = []  # oldest first
        self._open = 0  # connections made and not yet closed
        self._changed = threading.Condition(threading.Lock())
        self._closed = False
        # HTTP/1.1 of our own (httptools parses the answers) unless through a proxy
        self._wire = httptools is not None and proxy is None
        self._blocks: dict[tuple[tuple[bytes, bytes], ...], _Block] = {}  # see _head

    def _context(self) -> ssl.SSLContext:
        with self._changed:
            if self._ssl is None:
                self._ssl = httpx.create_ssl_context(verify=True, trust_env=True) if self._tls \
                    else ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies, trusts nothing
            return self._ssl

    def _make(self, origin: Any) -> Connection:
        if isinstance(origin, tuple):
            return _Wire(origin, self._context, self._expiry, self._blocks)
        if self._proxy is not None:
            return httpx.HTTPTransport(verify=self._context(), proxy=self._proxy, limits=httpx.Limits(
                max_connections=1, max_keepalive_connections=1, keepalive_expiry=self._expiry))
        return httpcore.HTTPConnection(origin, ssl_context=self._context(),
                                       keepalive_expiry=self._expiry, network_backend=_BACKEND)

    def _take(self, request: httpx.Request, origin: Any) -> Connection:
        with self._changed:
            while True:
                if self._free:
                    connection = self._free.pop()[1]
                    if isinstance(connection, httpx.HTTPTransport) or (
                            connection.can_handle_request(origin) and not connection.has_expired()):
                        return connection
                    self._open -= 1  # closed by the server, or to another origin: opened again
                    connection.close()
                if self._open < self._limit:
                    break
                timeout = request.extensions.get("timeout", {}).get("pool")
                deadline = None if timeout is None else time.monotonic() + timeout
                while not self._free and self._open >= self._limit:
                    left = None if deadline is None else deadline - time.monotonic()
                    if left is not None and left <= 0:
                        raise httpx.PoolTimeout("")
                    self._changed.wait(left)
            self._open += 1
        try:
            return self._make(origin)
        except BaseException:
            self._lost()
            raise

    def _give_back(self, connection: Connection) -> None:
        now = time.monotonic()
        with self._changed:
            if self._closed or (not isinstance(connection, httpx.HTTPTransport)
                                and connection.is_closed()):
                stale = [connection]  # after close(), or closed by an error or the server
            else:
                self._free.append((now, connection))
                stale = []
                while self._free[0][0] < now - self._expiry:
                    stale.append(self._free.pop(0)[1])
            self._open -= len(stale)
            self._changed.notify()
        for old in stale:
            old.close()

    def _lost(self) -> None:
        with self._changed:
            self._open -= 1
            self._changed.notify()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if self._wire:
            scheme = url.raw_scheme
            port = _DEFAULT_PORTS.get(scheme)
            if port is None:
                raise httpx.UnsupportedProtocol(f"Request URL has an unsupported protocol '{scheme.decode()}://'.")
            wire = self._take(request, (scheme, url.raw_host, url.port or port))
            try:
                response = wire.handle_request(request)
            except BaseException:
                self._give_back(wire)
                raise
            response.stream._owner = self  # type: ignore[attr-defined]
            return response
        core = httpcore.Request(
            request.method,
            httpcore.URL(scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path),
            headers=request.headers.raw, content=request.stream, extensions=request.extensions)
        connection = self._take(request, core.url.origin)
        if isinstance(connection, httpx.HTTPTransport):
            return self._through(connection, request)
        try:
            answer = connection.handle_request(core)
        except BaseException as exc:
            self._give_back(connection)
            mapped = _mapped(exc) if isinstance(exc, Exception) else None
            if mapped is None:
                raise
            raise mapped from exc
        return httpx.Response(answer.status, headers=answer.headers,
                              stream=_Body(answer.stream, self, connection),
                              extensions=answer.extensions)

    def _through(self, transport: httpx.HTTPTransport, request: httpx.Request) -> httpx.Response:
        try:
            response = transport.handle_request(request)
        except BaseException:
            self._give_back(transport)
            raise
        response.stream = _GiveBack(response.stream, self, transport)
        return response

    def close(self) -> None:
        with self._changed:
            self._closed = True
            free, self._free = self._free, []
            self._open -= len(free)
        for _, connection in free:
            connection.close()


_PLAIN_READ = 1 << 18  # bytes asked of a plain socket per read


class _Coalesced(httpcore.NetworkStream):
    """A connection's socket (plain or TLS) whose writes wait for the next read: a request's head
    and body leave in one send instead of two, the same bytes in the same order. A write that
    fails is dropped as httpcore drops it (the answer, or the read's error, tells what
    happened); a write timeout is raised as before.

    A plain socket is read up to ``_PLAIN_READ`` bytes at a time rather than httpcore's 64 KiB,
    so an answer of a few hundred KiB already received is taken in one or two reads, each a
    turn of httpcore's and h11's per-read work. (A TLS socket returns one record, <= 16 KiB, a
    read whatever is asked: it is read as httpcore asks.)"""

    def __init__(self, stream: httpcore.NetworkStream, plain: bool = True):
        self._stream = stream
        self._pending: list[bytes] = []
        self._timeout: float | None = None
        self._least = _PLAIN_READ if plain else 0

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if buffer:
            self._pending.append(buffer)
            self._timeout = timeout

    def _flush(self) -> None:
        pending = self._pending
        data = pending[0] if len(pending) == 1 else b"".join(pending)
        pending.clear()
        with contextlib.suppress(httpcore.WriteError):
            self._stream.write(data, self._timeout)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        if self._pending:
            self._flush()
        return self._stream.read(max(max_bytes, self._least), timeout)

    def close(self) -> None:
        self._pending.clear()
        self._stream.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        if self._pending:
            self._flush()
        return _Coalesced(self._stream.start_tls(ssl_context, server_hostname, timeout), plain=False)

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _Backend(httpcore.SyncBackend):
    """httpcore's sockets, with :class:`_Coalesced` writes."""

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
                    ) -> httpcore.NetworkStream:
        return _Coalesced(super().connect_tcp(host, port, timeout, local_address, socket_options))


_BACKEND = _Backend()


class _Body(httpx.SyncByteStream):
    """An answer's body from an httpcore connection, read in one piece; closing it gives the
    connection back to :class:`Connections`."""

    def __init__(self, stream: Any, owner: Connections, connection: httpcore.HTTPConnection):
        self._stream = stream
        self._owner: Connections | None = owner
        self._connection = connection

    def __iter__(self) -> Iterator[bytes]:
        try:
            chunks = list(self._stream)
        except Exception as exc:
            mapped = _mapped(exc)
            if mapped is None:
                raise
            raise mapped from exc
        if chunks:
            yield chunks[0] if len(chunks) == 1 else b"".join(chunks)

    def close(self) -> None:
        owner, self._owner = self._owner, None
        try:
            self._stream.close()
        except Exception as exc:
            mapped = _mapped(exc)
            if mapped is None:
                raise
            raise mapped from exc
        finally:
            if owner is not None:
                owner._give_back(self._connection)


class _GiveBack(httpx.SyncByteStream):
    """An answer's body through a proxy; closing it gives its transport back to
    :class:`Connections`."""

    def __init__(self, stream: Any, owner: Connections, transport: httpx.HTTPTransport):
        self._stream = stream
        self._owner: Connections | None = owner
        self._transport = transport

    def __iter__(self) -> Any:
        yield from self._stream

    def close(self) -> None:
        owner, self._owner = self._owner, None
        try:
            self._stream.close()
        finally:
            if owner is not None:
                owner._give_back(self._transport)


# -- HTTP/1.1 over one socket, answers parsed by httptools --------------------------------------

# bytes asked of the socket per read (a TLS socket returns one record at most). 256 KiB a read
# held more memory for the same CPU: 20 workspaces side by side peaked at 311-316 MB against
# 276-277 MB with 64 KiB, at 71-73 against 67-69 client CPU-s (each bytes object is made at the
# size asked, then shrunk to what came)
_READ = 1 << 16
_MAX_HEAD = 100 * 1024  # an answer's head longer than this is refused, as httpcore refuses it
_DEFAULT_PORTS = {b"http": 80, b"https": 443}
_NAME = re.compile(rb"[-!#$%&'*+.^_`|~0-9a-zA-Z]+")  # RFC 9110 token, as h11 checks it
_VALUE = re.compile(rb"([^\x00\s]+(?:[ \t]+[^\x00\s]+)*)?")
_DIGITS = re.compile(rb"[0-9]+")


class _Answer:
    """httptools' callbacks for one answer: its status line, head and body."""

    __slots__ = ("parser", "status", "reason", "headers", "chunks", "size", "head_done", "done",
                 "extra", "informational")

    def __init__(self) -> None:
        self.parser: Any = None  # set to the parser fed, and unset once the answer is over
        self.status = 0
        self.reason = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.chunks: list[bytes] = []
        self.size = 0  # body bytes received
        self.head_done = False
        self.done = False
        self.extra = False  # bytes after the answer: the connection is not used again
        self.informational = False

    def on_message_begin(self) -> None:
        if self.done:
            self.extra = True

    def on_status(self, reason: bytes) -> None:
        self.reason = reason

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value.rstrip(b" \t")))

    def on_headers_complete(self) -> None:
        self.status = status = self.parser.get_status_code()
        self.informational = 100 <= status < 200 and status != 101
        self.head_done = True

    def on_body(self, body: bytes) -> None:
        self.chunks.append(body)
        self.size += len(body)

    def on_message_complete(self) -> None:
        if self.informational:  # a 1xx answer before the answer: skipped, as httpcore skips it
            self.informational = self.head_done = False
            self.reason, self.headers = b"", []
        else:
            self.done = True


_UNSET = object()


class _Wire:
    """One HTTP/1.1 connection to one origin over one socket (TLS with the shared context when
    the origin is https), serving one request at a time; answers are parsed by ``httptools``.

    It does what ``httpcore.HTTPConnection`` does for :class:`Connections`, with the same bytes
    on the wire (the request line, the headers as httpx made them with Host first, the body) and
    the same httpx errors: connecting under the connect timeout (``ConnectError``,
    ``ConnectTimeout``, TLS failures included), writing under the write timeout (a failed write
    is ignored, as httpcore ignores it: the answer, or the read's error, tells what happened),
    reading under the read timeout (``ReadTimeout``, ``ReadError``), an answer that breaks the
    protocol, is cut short or never comes (``RemoteProtocolError``). 1xx answers before the
    answer are skipped. The connection is kept for the next request only when the whole answer
    was read, both sides speak HTTP/1.1 and neither said ``Connection: close``; it has expired
    when it was left unused ``keepalive_expiry`` seconds or its socket reads as ready (the server
    closed it).
    """

    def __init__(self, origin: tuple[bytes, bytes, int], context: Any, keepalive_expiry: float,
                 blocks: dict[tuple[tuple[bytes, bytes], ...], _Block]):
        self._origin = origin
        self._context = context  # () -> ssl.SSLContext, called for an https origin
        self._expiry = keepalive_expiry
        self._blocks = blocks  # request headers' lines (shared by the connections, see _head)
        self._sock: socket.socket | None = None
        self._poll: Any = None
        self._timeout: object = _UNSET  # the socket's timeout as last set
        self._idle_since: float | None = None
        self._closed = False
        self._busy = False

    # -- what Connections asks of a connection --------------------------------------------
    def can_handle_request(self, origin: tuple[bytes, bytes, int]) -> bool:
        return origin == self._origin

    def has_expired(self) -> bool:
        if self._closed or self._sock is None:
            return True
        if self._idle_since is not None and time.monotonic() > self._idle_since + self._expiry:
            return True
        return bool(self._poll.poll(0))  # an idle socket that reads as ready was closed

    def is_closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        self._closed = True
        sock, self._sock = self._sock, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.close()

    # -- the socket ------------------------------------------------------------------------
    def _connect(self, request: httpx.Request, timeout: float | None) -> socket.socket:
        scheme, host, port = self._origin
        try:
            sock = socket.create_connection((host.decode("ascii"), port), timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except TimeoutError as exc:
            raise httpx.ConnectTimeout(str(exc)) from exc
        except OSError as exc:
            raise httpx.ConnectError(str(exc)) from exc
        if scheme == b"https":
            sni = request.extensions.get("sni_hostname")
            try:
                context = self._context()
                context.set_alpn_protocols(["http/1.1"])
                sock.settimeout(timeout)
                sock = context.wrap_socket(sock, server_hostname=sni or host.decode("ascii"))
            except TimeoutError as exc:
                sock.close()
                raise httpx.ConnectTimeout(str(exc)) from exc
            except OSError as exc:
                sock.close()
                raise httpx.ConnectError(str(exc)) from exc
            except BaseException:
                sock.close()
                raise
        self._timeout = timeout
        self._sock = sock
        self._poll = select.poll()
        self._poll.register(sock.fileno(), select.POLLIN)
        return sock

    def _recv(self, sock: socket.socket, timeout: float | None) -> bytes:
        try:
            if timeout != self._timeout:
                sock.settimeout(timeout)
                self._timeout = timeout
            return sock.recv(_READ)
        except TimeoutError as exc:
            raise httpx.ReadTimeout(str(exc)) from exc
        except OSError as exc:
            raise httpx.ReadError(str(exc)) from exc

    # -- one exchange ----------------------------------------------------------------------
    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self._closed or self._busy:
            raise RuntimeError("the connection is closed or busy")
        self._busy = True
        self._idle_since = None
        try:
            return self._exchange(request)
        except BaseException:
            self._busy = False
            self.close()
            raise

    def _exchange(self, request: httpx.Request) -> httpx.Response:
        timeouts = request.extensions.get("timeout") or {}
        method = request.method.encode("ascii")
        data, keep = _head(request, method, self._blocks)
        sock = self._sock
        if sock is None:
            sock = self._connect(request, timeouts.get("connect"))
        timeout = timeouts.get("write")
        try:
            if timeout != self._timeout:
                sock.settimeout(timeout)
                self._timeout = timeout
            sock.sendall(data)
        except TimeoutError as exc:
            raise httpx.WriteTimeout(str(exc)) from exc
        except OSError:
            pass  # the server may have answered before closing: the read tells
        answer = _Answer()
        answer.parser = parser = httptools.HttpResponseParser(answer)
        timeout = timeouts.get("read")
        received = 0
        while not answer.head_done:
            chunk = self._recv(sock, timeout)
            if not chunk:
                if not received:
                    raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
                raise httpx.RemoteProtocolError("peer closed connection without sending a complete "
                                                "answer head")
            received += len(chunk)
            _feed(parser, answer, chunk)
            if not answer.head_done and received > _MAX_HEAD:
                raise httpx.RemoteProtocolError("Receive buffer too long")
        status = answer.status
        if status == 101:
            raise httpx.RemoteProtocolError("101 Switching Protocols is not supported")
        version = parser.get_http_version()
        keep = keep and version == "1.1"
        if method == b"HEAD":  # no body, whatever the head says; the connection is not reused
            answer.done, keep = True, False
            answer.chunks.clear()
        return httpx.Response(status, headers=answer.headers,
                              stream=_WireBody(self, parser, answer, timeout, keep),
                              extensions={"http_version": b"HTTP/" + version.encode("ascii"),
                                          "reason_phrase": answer.reason})

    def _finish(self, answer: _Answer, keep: bool) -> None:
        """The answer was read (or given up): keep the connection for the next request or close."""
        answer.parser = None  # (a reference cycle otherwise)
        self._busy = False
        if keep and not self._closed:
            self._idle_since = time.monotonic()
        else:
            self.close()

    def _read_body(self, parser: Any, answer: _Answer, timeout: float | None) -> None:
        sock = self._sock
        if sock is None:
            raise httpx.ReadError("the connection is closed")
        try:
            length = None if answer.done else _length(answer.headers)
            if length is not None:  # the rest of a body of known length, as it comes
                left = length - answer.size
                while left > 0:
                    chunk = self._recv(sock, timeout)
                    if not chunk:
                        raise httpx.RemoteProtocolError(_cut_short(answer))
                    if len(chunk) > left:  # bytes after the answer
                        chunk, answer.extra = chunk[:left], True
                    answer.chunks.append(chunk)
                    answer.size += len(chunk)
                    left -= len(chunk)
                answer.done = True
            while not answer.done:
                chunk = self._recv(sock, timeout)
                if not chunk:
                    if _until_close(answer.headers):
                        # no length, not chunked: the body ends with the connection
                        answer.done = answer.extra = True
                        break
                    raise httpx.RemoteProtocolError(_cut_short(answer))
                _feed(parser, answer, chunk)
        except BaseException:
            self.close()
            raise


def _feed(parser: Any, answer: _Answer, data: bytes) -> None:
    if not data:
        return
    try:
        parser.feed_data(data)
    except httptools.HttpParserError as exc:
        if not answer.done:
            raise httpx.RemoteProtocolError(str(exc) or type(exc).__name__) from exc
        answer.extra = True  # bytes after a complete answer


def _head(request: httpx.Request, method: bytes,
          blocks: dict[tuple[tuple[bytes, bytes], ...], _Block]) -> tuple[bytes, bool]:
    """The request's bytes (head and body, as h11 writes them) and whether the request lets the
    connection be kept (no ``Connection: close``). The headers' lines are made once for the
    same headers (most requests of a client carry the same, or differ by a body's length)."""
    raw = tuple(request.headers.raw)
    block = blocks.get(raw)
    if block is None:
        block = _block(raw)
        if len(blocks) >= _BLOCKS_MAX:
            blocks.clear()
        blocks[raw] = block
    lines, length, chunked, keep = block
    stream = request.stream
    if not isinstance(stream, httpx.SyncByteStream):
        raise RuntimeError("Attempted to send an async request with a sync Client instance.")
    parts = [part for part in stream if part]
    data = [method, b" ", request.url.raw_path, b" HTTP/1.1\r\n", lines]
    if chunked:
        for part in parts:
            data += (b"%x\r\n" % len(part), part, b"\r\n")
        data.append(b"0\r\n\r\n")
    else:
        size = sum(map(len, parts))
        if size > length:
            raise httpx.LocalProtocolError("Too much data for declared Content-Length")
        if size < length:
            raise httpx.LocalProtocolError("Too little data for declared Content-Length")
        data += parts
    return b"".join(data), keep


_BLOCKS_MAX = 256  # header blocks kept per Connections
_Block = tuple[bytes, int, bool, bool]  # lines, Content-Length (0 when none), chunked, keep


def _block(headers: tuple[tuple[bytes, bytes], ...]) -> _Block:
    """A request's header lines as h11 writes them (Host first, one Content-Length), after the
    checks h11 makes (httpx.LocalProtocolError; a value, which may be a secret, is not quoted)."""
    lines: list[bytes] = []
    hosts: list[bytes] = []
    length: bytes | None = None
    chunked = False
    keep = True
    for name, value in headers:
        if _NAME.fullmatch(name) is None:
            raise httpx.LocalProtocolError(f"Illegal header name {name!r}")
        if _VALUE.fullmatch(value) is None:
            raise httpx.LocalProtocolError(f"Illegal header value (header {name!r})")
        low = name.lower()
        if low == b"host":
            hosts += (name, b": ", value, b"\r\n")
            continue
        if low == b"content-length":
            lengths = {part.strip() for part in value.split(b",")}
            if len(lengths) != 1:
                raise httpx.LocalProtocolError("conflicting Content-Length headers")
            value = lengths.pop()
            if _DIGITS.fullmatch(value) is None or len(value) > 20:
                raise httpx.LocalProtocolError("bad Content-Length")
            if length is not None:
                if length != value:
                    raise httpx.LocalProtocolError("conflicting Content-Length headers")
                continue  # the same length again: written once, as h11 writes it
            length = value
        elif low == b"transfer-encoding":
            if chunked or value.lower() != b"chunked":
                raise httpx.LocalProtocolError("Only Transfer-Encoding: chunked is supported")
            chunked = True
        elif low == b"connection" and b"close" in [v.strip().lower() for v in value.split(b",")]:
            keep = False
        lines += (name, b": ", value, b"\r\n")
    if not hosts:
        raise httpx.LocalProtocolError("Missing mandatory Host: header")
    return b"".join(hosts + lines + [b"\r\n"]), 0 if length is None else int(length), chunked, keep


def _length(headers: list[tuple[bytes, bytes]]) -> int | None:
    """An answer's Content-Length (the parser checked it), None when it has none or is chunked."""
    length = None
    for name, value in headers:
        if len(name) == 14 and name.lower() == b"content-length":
            length = int(value)
        elif len(name) == 17 and name.lower() == b"transfer-encoding":
            return None
    return length


def _until_close(headers: list[tuple[bytes, bytes]]) -> bool:
    """An answer with neither Content-Length nor chunked coding: its body ends with the connection."""
    return not any(name.lower() in (b"content-length", b"transfer-encoding") for name, _ in headers)


def _cut_short(answer: _Answer) -> str:
    for name, value in answer.headers:
        if name.lower() == b"content-length":
            return ("peer closed connection without sending complete message body: "
                    f"received {answer.size} bytes, expected {int(value)}")
    return "peer closed connection without sending complete message body: incomplete chunked read"


class _WireBody(httpx.SyncByteStream):
    """An answer's body from a :class:`_Wire`, read in one piece; closing it gives the connection
    back to :class:`Connections`, to be used again only when the answer was read completely."""

    def __init__(self, wire: _Wire, parser: Any, answer: _Answer, timeout: float | None,
                 keep: bool):
        self._wire = wire
        self._parser = parser
        self._answer = answer
        self._timeout = timeout
        self._keep = keep
        self._owner: Connections | None = None

    def __iter__(self) -> Iterator[bytes]:
        answer = self._answer
        if not answer.done:
            self._wire._read_body(self._parser, answer, self._timeout)
        chunks = answer.chunks
        if chunks:
            answer.chunks = []
            yield chunks[0] if len(chunks) == 1 else b"".join(chunks)

    def close(self) -> None:
        owner, self._owner = self._owner, None
        answer = self._answer
        if answer.parser is not None:
            self._wire._finish(answer, self._keep and answer.done and not answer.extra
                               and not _closes(answer.headers))
        if owner is not None:
            owner._give_back(self._wire)


def _closes(headers: list[tuple[bytes, bytes]]) -> bool:
    """``Connection: close`` in an answer's head."""
    for name, value in headers:
        if len(name) == 10 and name.lower() == b"connection" \
                and b"close" in [v.strip().lower() for v in value.split(b",")]:
            return True
    return False
