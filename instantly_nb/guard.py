"""The read-only guard, enforced in the HTTP transport every request of the client goes through.

Two lists are built once, when this module is imported, and kept in immutable tuples:

* :data:`ALLOWED` -- the method and path pattern of every read operation of ``ENDPOINTS`` (a
  later change to that dict, e.g. an entry replaced by a DELETE copy, changes nothing here);
* :data:`DENIED` -- the method and path pattern of every write operation of ``WRITE_OPERATIONS``.

:class:`ReadOnlyTransport` wraps the real transport and checks each outgoing request before it
is sent: the origin must be the client's base URL, no path segment may decode to ``.`` or
``..``, the method and raw path (percent-escapes kept, so ``a%2Fb@x.com`` stays one segment) must
match an allowed pair and no denied one. Anything else raises
:class:`~instantly_nb.errors.ReadOnlyError` and never reaches the network. The check does not
depend on request hooks, on the ``ENDPOINTS`` dict or on any setting of the client.

:func:`encode_segment` percent-encodes one path parameter value (``/``, ``?``, ``#``, ``%``,
spaces and control characters included), so a value can never add or leave path segments.
"""

from __future__ import annotations

import re
import types
from urllib.parse import quote, unquote

import httpx

from .endpoints import ENDPOINTS, WRITE_OPERATIONS
from .errors import ReadOnlyError

__all__ = ["ALLOWED", "DENIED", "ReadOnlyTransport", "check_request", "encode_segment",
           "path_pattern"]


def path_pattern(template: str) -> re.Pattern[str]:
    """``/api/v2/accounts/{email}`` -> a pattern where each ``{...}`` is one non-empty segment."""
    parts = re.split(r"(\{[^}]+\})", template)
    return re.compile("^" + "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts) + "$")


ALLOWED: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (ep.method, path_pattern(ep.path)) for ep in ENDPOINTS.values())
DENIED: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (method.upper(), path_pattern(path)) for method, path in WRITE_OPERATIONS)


def _by_method(pairs: tuple[tuple[str, re.Pattern[str]], ...]) -> dict[str, re.Pattern[str]]:
    """One pattern per method matching what any of that method's patterns matches."""
    methods = dict.fromkeys(m for m, _ in pairs)
    return {m: re.compile("|".join(f"(?:{rx.pattern})" for mm, rx in pairs if mm == m))
            for m in methods}


# the same lists, one alternation per method: a single match instead of a scan of every pattern
_ALLOWED_BY_METHOD = types.MappingProxyType(_by_method(ALLOWED))
_DENIED_BY_METHOD = types.MappingProxyType(_by_method(DENIED))


def encode_segment(value: str) -> str:
    """One path parameter value, percent-encoded so that it stays exactly one segment."""
    return quote(value, safe="@")


def _refuse(method: str, path: str, why: str) -> ReadOnlyError:
    return ReadOnlyError(f"{method} {path[:200]} was not sent: {why}; instantly_nb only sends the "
                         "read operations of the Instantly API.")


def check_request(request: httpx.Request, origin: tuple[bytes, bytes, int | None] | None) -> None:
    """Raise ReadOnlyError unless ``request`` is a read operation to ``origin``."""
    method = request.method.upper()
    raw = request.url.raw_path.split(b"?", 1)[0].decode("ascii", "replace")
    if origin is not None and (request.url.raw_scheme, request.url.raw_host, request.url.port) != origin:
        raise _refuse(method, raw, "it is addressed to another host than the client's base URL")
    # a segment that decodes to '.' or '..' holds a '.' or an escaped one (%2E)
    if ("." in raw or "%2" in raw) and any(unquote(seg) in (".", "..") for seg in raw.split("/")):
        raise _refuse(method, raw, "a path segment is '.' or '..'")
    denied = _DENIED_BY_METHOD.get(method)
    if denied is not None and denied.match(raw):
        raise _refuse(method, raw, "it is a write operation of the API")
    allowed = _ALLOWED_BY_METHOD.get(method)
    if allowed is None or not allowed.match(raw):
        raise _refuse(method, raw, "it is not a read operation of the API")


class ReadOnlyTransport(httpx.BaseTransport):
    """A transport that refuses everything but read operations, then hands over to ``inner``."""

    def __init__(self, inner: httpx.BaseTransport, base_url: str | None = None):
        self._inner = inner
        url = httpx.URL(base_url) if base_url else None
        self._origin = (url.raw_scheme, url.raw_host, url.port) if url is not None else None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        check_request(request, self._origin)
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()
