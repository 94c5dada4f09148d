"""Kept-alive connections for :class:`~instantly_nb.http.Requester`, one request at a time each.

An ``httpcore`` pool of tens of connections scans all of them (and polls each idle socket) twice
per request, which cost more CPU than the request itself once a client keeps 30-60 requests in
flight. :class:`Connections` lends each request one ``httpcore.HTTPConnection`` from a stack of
free ones and takes it back when the answer's body is closed: no pool at all between httpx's
request and httpcore's connection (a proxy still goes through an ``httpx.HTTPTransport`` of one
connection).
"""

from __future__ import annotations

import contextlib
import ssl
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any

import httpcore
import httpx

__all__ = ["Connections"]

Connection = httpcore.HTTPConnection | httpx.HTTPTransport

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

    The request goes straight to an ``httpcore.HTTPConnection`` (HTTP/1.1, no connect retries,
    the request's timeouts), as ``httpx.HTTPTransport`` would hand it to its pool's connection:
    the same bytes on the wire, the same httpx errors. Through a proxy each connection is an
    ``httpx.HTTPTransport`` of one connection instead.

    All connections share one TLS context, made by httpx (certifi's CA bundle, or
    ``SSL_CERT_FILE``/``SSL_CERT_DIR``) when the first connection opens: loading the bundle
    takes ~30 ms of CPU and ~1 MB. With ``tls=False`` (an ``http://`` origin, which the read-only
    guard holds every request to) nothing is loaded: the connections get a context that trusts
    no certificate, so a TLS handshake, were one ever tried, would fail.
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

    def _context(self) -> ssl.SSLContext:
        with self._changed:
            if self._ssl is None:
                self._ssl = httpx.create_ssl_context(verify=True, trust_env=True) if self._tls \
                    else ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies, trusts nothing
            return self._ssl

    def _make(self, origin: httpcore.Origin) -> Connection:
        if self._proxy is not None:
            return httpx.HTTPTransport(verify=self._context(), proxy=self._proxy, limits=httpx.Limits(
                max_connections=1, max_keepalive_connections=1, keepalive_expiry=self._expiry))
        return httpcore.HTTPConnection(origin, ssl_context=self._context(),
                                       keepalive_expiry=self._expiry, network_backend=_BACKEND)

    def _take(self, request: httpx.Request, origin: httpcore.Origin) -> Connection:
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
            if self._closed or (isinstance(connection, httpcore.HTTPConnection)
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
