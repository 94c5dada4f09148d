"""Kept-alive connections for :class:`~instantly_nb.http.Requester`, one request at a time each.

An ``httpcore`` pool of tens of connections scans all of them (and polls each idle socket) twice
per request, which cost more CPU than the request itself once a client keeps 30-60 requests in
flight. :class:`Connections` lends each request an ``httpx.HTTPTransport`` that holds a single
connection, from a stack of free ones, and takes it back when the answer's body is closed.
"""

from __future__ import annotations

import ssl
import threading
import time
from typing import Any

import httpx

__all__ = ["Connections"]


class Connections(httpx.BaseTransport):
    """Up to ``limit`` keep-alive connections, each in an ``httpx.HTTPTransport`` of its own that
    serves one request at a time.

    One pool of ``limit`` connections would do the same, but such a pool scans all of its
    connections (and polls each idle socket) twice per request; with tens of connections that
    scan cost more CPU than the request itself. Here a request takes the connection used last
    from a stack of free ones (or opens one, or waits up to the pool timeout when ``limit`` are
    busy, as the pool would) and gives it back when its answer is closed. A connection left
    unused for ``keepalive_expiry`` is closed when another one comes back, like the pool's.

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
        self._free: list[tuple[float, httpx.HTTPTransport]] = []  # oldest first
        self._open = 0  # transports made and not yet closed
        self._changed = threading.Condition(threading.Lock())
        self._closed = False

    def _context(self) -> ssl.SSLContext:
        with self._changed:
            if self._ssl is None:
                self._ssl = httpx.create_ssl_context(verify=True, trust_env=True) if self._tls \
                    else ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies, trusts nothing
            return self._ssl

    def _make(self) -> httpx.HTTPTransport:
        return httpx.HTTPTransport(verify=self._context(), proxy=self._proxy, limits=httpx.Limits(
            max_connections=1, max_keepalive_connections=1, keepalive_expiry=self._expiry))

    def _take(self, request: httpx.Request) -> httpx.HTTPTransport:
        with self._changed:
            if self._free:
                return self._free.pop()[1]
            if self._open >= self._limit:
                timeout = request.extensions.get("timeout", {}).get("pool")
                deadline = None if timeout is None else time.monotonic() + timeout
                while not self._free and self._open >= self._limit:
                    left = None if deadline is None else deadline - time.monotonic()
                    if left is not None and left <= 0:
                        raise httpx.PoolTimeout("")
                    self._changed.wait(left)
                if self._free:
                    return self._free.pop()[1]
            self._open += 1
        try:
            return self._make()
        except BaseException:
            self._lost()
            raise

    def _give_back(self, transport: httpx.HTTPTransport) -> None:
        now = time.monotonic()
        with self._changed:
            if self._closed:  # an answer read after close(): its connection is not kept
                stale = [transport]
            else:
                self._free.append((now, transport))
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
        transport = self._take(request)
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
        for _, transport in free:
            transport.close()


class _GiveBack(httpx.SyncByteStream):
    """An answer's body; closing it gives its connection back to :class:`Connections`."""

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
