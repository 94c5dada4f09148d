"""The one request function: auth, pacing, retries and error mapping.

:class:`Requester` wraps one thread-safe ``httpx.Client``. Every request of instantly_nb goes
through :meth:`Requester.send`, which

* builds the request as that client would and hands it to the client's transport, without the
  client's per-request work it never needs (the same bytes on the wire), over a stack of
  kept-alive connections that costs the same CPU however many are open (:class:`Connections`);

* refuses an endpoint that is not (a copy of) an entry of ``ENDPOINTS`` as it was at import, and
  sends through :class:`~instantly_nb.guard.ReadOnlyTransport`, which refuses any request that is
  not a read operation (so even the raw ``httpx.Client`` cannot write);
* percent-encodes path parameter values, so a value is always exactly one path segment;
* stops before each attempt, and wakes from waits, when the task it runs for is cancelled
  (:mod:`instantly_nb.scope`);
* takes a slot from the shared :class:`~instantly_nb.throttle.Throttle` on every attempt, held
  until the answer is back;
* retries connection errors, timeouts, 408, 429 and 5xx with exponential backoff and full jitter,
  honouring ``Retry-After`` (seconds or HTTP-date) up to a cap;
* maps error statuses to the typed errors of :mod:`instantly_nb.errors`;
* checks that a 2xx body fits the endpoint's envelope (a top-level ``error`` in a 200 body is an
  error too).

The API key lives only in the ``Authorization`` header of the underlying client; it is never
part of a message, a log record or a ``repr``.
"""

from __future__ import annotations

import contextvars
import email.utils
import importlib.metadata
import json
import logging
import random
import threading
import time
import types
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

try:
    import msgspec
except ImportError:  # pragma: no cover - a dependency; json.loads does the same, slower
    msgspec = None  # type: ignore[assignment]

from . import errors
from .connections import Connections
from .endpoints import ENDPOINTS
from .guard import ReadOnlyTransport, encode_segment
from .scope import check_cancelled, interruptible_sleep
from .spec import Endpoint
from .throttle import DEFAULT_LATENCY_S, Throttle

__all__ = ["Connections", "Requester", "RetryPolicy", "USER_AGENT", "count_requests"]

log = logging.getLogger("instantly_nb.http")
_httpx_log = logging.getLogger("httpx")  # httpx.Client logs each request there


def _package_version() -> str:
    try:
        return importlib.metadata.version("instantly-nb")
    except importlib.metadata.PackageNotFoundError:
        return "0"

# Cloudflare in front of the API refuses default library user agents (403 "error code: 1010")
USER_AGENT = f"instantly-nb/{_package_version()} (read-only analytics toolkit)"
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
_URL_CACHE = 1024  # parsed URLs kept per client (a URL is a few hundred bytes)

# Requests sent on behalf of the current task (a pull step, say), across the threads it fans out
# to: fan-out copies the context into its workers, so each step counts only its own requests.
_tally: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar("instantly_nb_tally", default=None)
# Every counter a request updates (a client's requests_sent and latency, the task's tally) is
# shared by the threads of a fan-out: ``+=`` is a read and a write, so they change under one lock.
_COUNTERS = threading.Lock()


class count_requests:  # noqa: N801 - used as a context manager, like a function
    """``with count_requests() as tally: ...`` -- ``tally.n`` requests were sent inside."""

    def __init__(self) -> None:
        self._cell = [0]
        self._token: contextvars.Token[list[int] | None] | None = None

    @property
    def n(self) -> int:
        return self._cell[0]

    def __enter__(self) -> count_requests:
        self._token = _tally.set(self._cell)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._token is not None
        _tally.reset(self._token)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry a read.

    ``max_attempts`` counts the first try. The n-th retry waits a random time in
    ``[0, min(backoff_cap, backoff_base * 2**n)]`` unless the answer carried ``Retry-After``, which
    is honoured up to ``retry_after_cap`` seconds.
    """

    max_attempts: int = 6
    backoff_base: float = 0.5
    backoff_cap: float = 20.0
    retry_after_cap: float = 60.0

    def backoff(self, retry: int, rng: random.Random) -> float:
        return rng.uniform(0, min(self.backoff_cap, self.backoff_base * (2**retry)))


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


# The read operations as they were at import: an entry swapped into ENDPOINTS later is refused.
_KNOWN: Mapping[str, Endpoint] = types.MappingProxyType(dict(ENDPOINTS))


def _proxy_for(base_url: str) -> str | None:
    """The proxy the environment names for ``base_url`` (HTTPS_PROXY, NO_PROXY...), if any."""
    url = httpx.URL(base_url)
    if urllib.request.proxy_bypass(url.host):
        return None
    return urllib.request.getproxies().get(url.scheme)


class Requester:
    """Sends read requests for one workspace. Thread-safe; share one per client."""

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str,
        endpoints: Mapping[str, Endpoint],
        throttle: Throttle,
        retry: RetryPolicy = RetryPolicy(),
        timeout: float | httpx.Timeout = 30.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = interruptible_sleep,
        seed: int | None = None,
        max_connections: int = 32,
    ):
        self._endpoints = endpoints
        self.throttle = throttle
        self.retry = retry
        self._sleep = sleep
        self._rng = random.Random(seed)
        self.requests_sent = 0  # every attempt that reached the transport
        # moving average of a round trip (seconds), to size the worker pool (throttle.workers_for)
        self.latency = DEFAULT_LATENCY_S
        # every request, whatever sends it, goes through the read-only transport; proxies
        # from the environment are applied inside it rather than by httpx's mounts
        self._transport = ReadOnlyTransport(
            transport or Connections(max_connections, _proxy_for(base_url),
                                     tls=httpx.URL(base_url).scheme != "http"), base_url)
        self._http = httpx.Client(
            base_url=base_url,
            headers={
                "Authorization": f"Bearer {api_key}",
                "User-Agent": USER_AGENT,
                "Accept": "application/json",
            },
            timeout=timeout,
            transport=self._transport,
            trust_env=False,
        )
        self._urls: dict[str, httpx.URL] = {}  # parsed URLs of request paths (query apart)
        # the headers httpx.Request gives a request without and with a JSON body (see _request)
        self._heads: dict[tuple[str, bool], tuple[list[tuple[bytes, bytes]], httpx.Headers | None]] = {}
        # ``base_url`` + a path, as httpx.Client merges them (see _exchange)
        base, raw = self._http.base_url, self._http.base_url.raw_path
        self._prefix = str(base.copy_with(raw_path=raw)) \
            if b"?" not in raw and not base.fragment and raw.endswith(b"/") else None

    def __repr__(self) -> str:
        return f"Requester(base_url={str(self._http.base_url)!r})"

    def close(self) -> None:
        self._http.close()

    @property
    def authorization(self) -> str:
        """The ``Authorization`` header (for a salted hash of it in the snapshot store; never
        written or shown as such)."""
        return str(self._http.headers.get("Authorization", ""))

    # -- read-only guard (the transport checks every request again) -----------------------
    def _check_endpoint(self, endpoint: Endpoint) -> None:
        known = _KNOWN.get(endpoint.name)  # the method and path it had at import must not change
        if self._endpoints.get(endpoint.name) is not endpoint or known is None \
                or (known.method, known.path) != (endpoint.method, endpoint.path):
            raise errors.ReadOnlyError(
                f"{endpoint.method} {endpoint.path} is not an entry of ENDPOINTS; "
                "instantly_nb sends only the read operations listed there."
            )

    # -- counters shared by the threads of a fan-out -----------------------------------------
    def _count_request(self) -> None:
        cell = _tally.get()
        with _COUNTERS:
            self.requests_sent += 1
            if cell is not None:
                cell[0] += 1

    def _observe_latency(self, seconds: float) -> None:
        """Moving average of the round trip (sizes the fan-out pool)."""
        with _COUNTERS:
            self.latency += 0.1 * (seconds - self.latency)

    # -- the request function -------------------------------------------------------------
    def send(
        self,
        endpoint: Endpoint,
        *,
        path_params: Mapping[str, str] | None = None,
        query: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        raw: bool = False,
    ) -> Any:
        """Send one read request (with retries) and return the decoded body.

        Returns the parsed JSON (or the text for ``text`` envelopes); with ``raw``, the bytes of
        a non-empty success answer undecoded (:mod:`instantly_nb.rawpages` reads them). Raises a
        subclass of :class:`~instantly_nb.errors.InstantlyError` on failure.
        """
        self._check_endpoint(endpoint)
        url = endpoint.path.format(**{k: encode_segment(str(v)) for k, v in (path_params or {}).items()})
        display = endpoint.path  # the template never carries ids or secrets
        attempt = 0
        while True:
            attempt += 1
            check_cancelled()
            wait: float | None = None
            try:
                # the request counts against the rate limits until its answer is back: the
                # server counts it at some moment in between (see instantly_nb.throttle)
                with self.throttle.slot(endpoint.name):
                    check_cancelled()
                    self._count_request()
                    started = time.monotonic()
                    response = self._exchange(
                        endpoint.method,
                        url,
                        _query_items(query),
                        dict(body or {}) if endpoint.method == "POST" else None,
                    )
                self._observe_latency(time.monotonic() - started)
            except httpx.TimeoutException as exc:
                failure: Exception = errors.TimeoutError(
                    f"{endpoint.method} {display} timed out ({type(exc).__name__}) after "
                    f"{attempt} attempts. Raise Client(timeout=...) or try again later.",
                    method=endpoint.method, path=display, attempts=attempt,
                )
            except httpx.TransportError as exc:
                failure = errors.TransportError(
                    f"{endpoint.method} {display} failed at the network level "
                    f"({type(exc).__name__}) after {attempt} attempts. Check the base URL and "
                    "the network.",
                    method=endpoint.method, path=display, attempts=attempt,
                )
            else:
                if response.status_code in RETRYABLE_STATUSES:
                    failure = self._status_error(endpoint, response, attempt)
                    wait = parse_retry_after(response.headers.get("Retry-After"))
                elif response.status_code >= 400:
                    raise self._status_error(endpoint, response, attempt)
                elif raw and _has_text(response.content):
                    return response.content
                else:
                    decoded, shape_error = self._decode(endpoint, response, attempt)
                    if shape_error is None:
                        return decoded
                    failure = shape_error
                    if not getattr(shape_error, "retryable", False):
                        raise shape_error
            if attempt >= (_known_limit(endpoint, query, body, failure) or self.retry.max_attempts):
                raise failure
            if wait is not None:
                delay = min(wait, self.retry.retry_after_cap)
            else:
                delay = self.retry.backoff(attempt - 1, self._rng)
            log.info("retrying %s %s in %.2fs (attempt %d): %s", endpoint.method, display, delay, attempt, failure)
            self._sleep(delay)

    def _exchange(self, method: str, url: str, params: list[tuple[str, Any]],
                  json_body: dict[str, Any] | None) -> httpx.Response:
        """``self._http.request(method, url, params=..., json=...)``, without the work of httpx's
        client that a plain client never needs.

        The request is built by ``httpx.Request`` from the client's headers and timeout, with the
        URL parsed once, and handed to the client's (read-only) transport: the same bytes on the
        wire, the same exceptions. Cookies the server sets are kept and sent back as the client
        would; auth, event hooks, redirects to follow or client-wide params (none of which this
        client sets) take httpx's own path.
        """
        http = self._http
        hooks = http.event_hooks
        if self._prefix is None or hooks["request"] or hooks["response"] or http.auth is not None \
                or http.follow_redirects or http.params or http.cookies:
            return http.request(method, url, params=params, json=json_body)
        if http.is_closed:
            raise RuntimeError("Cannot send a request, as the client has been closed.")
        text = self._prefix + url.lstrip("/")
        # the same path again (a listing's pages, with or without a query): parsed once; the
        # query is merged into it as httpx.Request merges it into the URL it parses
        target = self._urls.get(text)
        if target is None:
            target = httpx.URL(text)
            if len(self._urls) >= _URL_CACHE:
                self._urls.clear()
            self._urls[text] = target
        if params:
            target = _with_query(target, params)
        request = self._request(method, target, json_body, http.headers,
                                {"timeout": http.timeout.as_dict()})
        try:
            response = self._transport.handle_request(request)
        except httpx.RequestError as exc:
            exc.request = request
            raise
        response.request = request
        if "set-cookie" in response.headers:
            http.cookies.extract_cookies(response)
        if _httpx_log.isEnabledFor(logging.INFO):
            _httpx_log.info('HTTP Request: %s %s "%s %d %s"', request.method, request.url,
                            response.http_version, response.status_code, response.reason_phrase)
        try:
            response.read()
        except BaseException:
            response.close()
            raise
        return response

    def _request(self, method: str, url: httpx.URL, json_body: dict[str, Any] | None,
                 headers: httpx.Headers, extensions: dict[str, Any]) -> httpx.Request:
        """``httpx.Request(method, url, json=json_body, headers=headers, extensions=extensions)``,
        the same request (method, URL, headers in the same order, body, extensions), with its
        headers copied from the ones httpx made for the first request of the kind rather than
        made again: the client's headers after Host, then a JSON body's Content-Length (its own)
        and Content-Type. The URL's origin is the client's for every request. Client headers
        that name Host or a body's headers themselves, or a JSON text that httpx would not write
        as :func:`_json_bytes` does (checked once, at import), take httpx's own path."""
        kind = (method, json_body is None)
        raw = headers.raw
        head = self._heads.get(kind)
        if head is None or head[0] != raw:
            mine = {name.lower() for name, _ in raw} & {b"host", b"content-length", b"content-type",
                                                        b"transfer-encoding"}
            template = None if mine or not _FAST_JSON else httpx.Request(
                method, url, json=None if json_body is None else {}, headers=headers).headers
            head = self._heads[kind] = (raw, template)
        template = head[1]
        if template is None:
            return httpx.Request(method, url, json=json_body, headers=headers, extensions=extensions)
        if json_body is None:
            body = b""
        else:
            body = _json_bytes(json_body)
            template = httpx.Headers(template)
            template["Content-Length"] = str(len(body))
        request = httpx.Request(method, url, headers=template, stream=httpx.ByteStream(body),
                                extensions=extensions)
        request.read()  # as httpx.Request reads a body it was given whole
        return request

    def _status_error(self, endpoint: Endpoint, response: httpx.Response, attempt: int) -> errors.APIError:
        message, code, from_api = errors.read_error_body(
            response.headers.get("content-type", ""), response.text)
        cls = errors.error_for_status(response.status_code)
        extra = ""
        if response.status_code == 403 and not from_api:
            cls = errors.BlockedRequestError
        elif response.status_code == 403 and endpoint.scopes:
            extra = (
                f"{cls.hint} This endpoint accepts the scopes: {', '.join(endpoint.scopes)}."
            )
        return cls(
            status=response.status_code,
            method=endpoint.method,
            path=endpoint.path,
            api_message=message,
            api_code=code,
            attempts=attempt,
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
            extra=extra,
        )

    def _decode(
        self, endpoint: Endpoint, response: httpx.Response, attempt: int
    ) -> tuple[Any, errors.ResponseShapeError | None]:
        where = f"{endpoint.method} {endpoint.path}"
        if endpoint.envelope == "text":
            return response.text, None
        if not _has_text(response.content):
            return None, _shape(f"{where} answered {response.status_code} with an empty body.", endpoint, response, retryable=True)
        try:
            body = _loads(response.content)
        except (ValueError, json.JSONDecodeError):
            return None, _shape(
                f"{where} answered {response.status_code} with a body that is not valid JSON "
                f"(truncated or corrupted) after {attempt} attempts.",
                endpoint, response, retryable=True,
            )
        problem = _envelope_problem(endpoint, body)
        if problem:
            return None, _shape(f"{where}: {problem}", endpoint, response, retryable=False)
        return body, None


_QUERY_MAX = 8192  # a longer query takes httpx's own path (which refuses one over 64 KiB)


def _with_query(url: httpx.URL, params: list[tuple[str, Any]]) -> httpx.URL:
    """``httpx.URL(url, params=params)`` for a URL without a query and pairs of texts, without
    parsing the whole URL again.

    httpx writes the query as ``urllib.parse.urlencode`` of the pairs, then parses the URL with
    it, which percent-encodes what the query does not allow; ``urlencode``'s output holds only
    characters a query allows, so that step leaves it as it is and the URL's parts are
    ``url``'s with this query. When httpx does not keep a URL's parts as this function expects
    (checked once, at import), or the query is long, httpx builds the URL."""
    query = urllib.parse.urlencode(params)
    if _FAST_QUERY and len(query) <= _QUERY_MAX:
        made = httpx.URL.__new__(httpx.URL)
        made._uri_reference = url._uri_reference._replace(query=query)  # type: ignore[attr-defined]
        return made
    return httpx.URL(url, params=params)


def _fast_query_holds() -> bool:
    """Whether :func:`_with_query` builds the URL httpx builds (the same parts, the same text)."""
    url = httpx.URL("http://h.test:8/a/b%20c")
    params = [("x y", "ü&=+/?#%"), ("e", ""), ("e", "~._-*'()!$,;:@[]")]
    try:
        made = httpx.URL.__new__(httpx.URL)
        made._uri_reference = url._uri_reference._replace(  # type: ignore[attr-defined]
            query=urllib.parse.urlencode(params))
        expected = httpx.URL(url, params=params)
        return made == expected and made.raw_path == expected.raw_path \
            and made._uri_reference == expected._uri_reference  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - another httpx: its own path
        return False


_FAST_QUERY = _fast_query_holds()


def _json_bytes(body: Any) -> bytes:
    """A JSON request body as httpx writes it (compact, UTF-8, NaN refused)."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")


def _fast_json_holds() -> bool:
    """Whether :func:`_json_bytes` writes what ``httpx.Request(json=...)`` sends."""
    sample = {"a": [1, 2.5, None, True, False, 10**30], "ü \"q\"": {"x": "é😀\u2028"}, "e": {}}
    try:
        return httpx.Request("POST", "http://h.test/", json=sample).content == _json_bytes(sample)
    except Exception:  # noqa: BLE001 - another httpx: its own path
        return False


_FAST_JSON = _fast_json_holds()


def _has_text(content: bytes) -> bool:
    """``bool(content.strip())`` without copying the body: not empty, not only ASCII whitespace
    (the bytes ``strip`` removes are those ``isspace`` tests)."""
    return bool(content) and not content.isspace()


def _loads(content: bytes) -> Any:
    """``json.loads(content)`` (what ``Response.json`` does), by msgspec's decoder where it takes the
    text: twice as fast, with the same values (same ints of any size, floats, strings, key order,
    last duplicate key). What it refuses and json.loads may take (NaN, 1e400, a BOM, UTF-16, a
    lone surrogate escape) goes to json.loads, which decides as before."""
    if msgspec is not None:
        try:
            return msgspec.json.decode(content)
        except msgspec.MsgspecError:
            pass
    return json.loads(content)


def _known_limit(endpoint: Endpoint, query: Mapping[str, Any] | None,
                 body: Mapping[str, Any] | None, failure: Exception) -> int | None:
    """Fewer attempts for a known failure that a fallback handles (see instantly_nb.fallbacks)."""
    from .fallbacks import retry_limit

    return retry_limit(endpoint, query, body, failure)


def _shape(message: str, endpoint: Endpoint, response: httpx.Response, *, retryable: bool) -> errors.ResponseShapeError:
    err = errors.ResponseShapeError(message, method=endpoint.method, path=endpoint.path, status=response.status_code)
    err.retryable = retryable  # type: ignore[attr-defined]
    return err


def check_envelope(endpoint: Endpoint, body: Any) -> None:
    """Raise ResponseShapeError when a decoded success ``body`` does not fit the envelope."""
    problem = _envelope_problem(endpoint, body)
    if problem:
        raise errors.ResponseShapeError(f"{endpoint.method} {endpoint.path}: {problem}",
                                        method=endpoint.method, path=endpoint.path, status=200)


def _envelope_problem(endpoint: Endpoint, body: Any) -> str | None:
    """Why ``body`` does not fit the endpoint's envelope, or None when it fits."""
    if isinstance(body, dict) and "error" in body \
            and "error" not in {f.name.split("__", 1)[0] for f in endpoint.fields}:
        detail = body.get("message") or body.get("error")
        return f"the API reported an error inside a success answer: {str(detail)[:200]}"
    if endpoint.envelope == "items":
        if not isinstance(body, dict) or not isinstance(body.get("items"), list):
            return f"expected an object with an 'items' list, got {type(body).__name__}"
    elif endpoint.envelope == "array":
        if not isinstance(body, list):
            return f"expected a JSON array, got {type(body).__name__}"
    elif endpoint.envelope in ("object", "keyed") and not isinstance(body, dict):
        return f"expected a JSON object, got {type(body).__name__}"
    return None


def _query_items(query: Mapping[str, Any] | None) -> list[tuple[str, str | int | float | bool | None]]:
    """Query parameters as (name, text) pairs; lists become repeated keys."""
    items: list[tuple[str, str | int | float | bool | None]] = []
    for name, value in (query or {}).items():
        if value is None:
            continue
        values = value if isinstance(value, list | tuple) else [value]
        for v in values:
            if isinstance(v, bool):
                items.append((name, "true" if v else "false"))
            else:
                items.append((name, str(v)))
    return items
