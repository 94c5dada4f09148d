"""The demo HTTP server: an ASGI app routed by the endpoint table, served by uvicorn on
127.0.0.1 in a background thread.

The routes are answered by :class:`~instantly_nb.demo.routing.LeanApp` without starlette's
objects per request; what it does not answer itself (404, 405, ``HEAD``) goes to the starlette
app of the same routes (:func:`make_app`, kept as ``DemoServer.app``). Both call the same
endpoint functions, which return a :class:`~instantly_nb.demo.routing.Reply` (status, the
header list starlette's ``Response`` would send, body).

Per request: (live quirks: the firewall's 403) -> bearer auth (401) -> rate limits (429 + Retry-After) -> injected faults ->
parameter validation (400) -> the endpoint's handler (404 for unknown ids). Paths of write
operations answer 405 (a read exists on the same path) or 404, as do unknown paths.

Hostile input gets the API's error envelope, never a traceback: bodies larger than
:data:`MAX_BODY_BYTES` answer 413, malformed ones 400 (see :mod:`instantly_nb.demo.bodies`).
A path parameter may hold an encoded ``/`` (``%2F``, as in an e-mail address ``a/b@x.com``): it
is matched as part of its segment and handed to the handler decoded.
An unexpected failure answers 500 with a short message and logs one line. When the server is
given its own key (``--key``), only that key is accepted.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import logging
import socket
import threading
import time
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qsl

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive

from ..endpoints import ENDPOINTS
from .bodies import MAX_BODY_BYTES, MAX_BODY_DEPTH, parse_body, read_body
from .config import (
    DEMO_KEY,
    DEMO_KEY_NAMES,
    DEMO_KEYS,
    UNPAID_PREFIX,
    Faults,
    Limits,
    demo_key_name,
    seed_for,
)
from .faults import FaultInjector, break_body
from .protocol import ApiError, Call, Raw, Text, envelope
from .quirks import BLOCK_BODY, Quirks, blocked, resolve
from .ratelimit import RateLimiter
from .registry import Handler, handlers
from .routing import SLASH, Answer, EncodedSlashes, FixedPathsFirst, LeanApp, Reply
from .workspace import Workspace, build_workspace, resolve_today

__all__ = ["MAX_BODY_BYTES", "MAX_BODY_DEPTH", "DemoServer", "Reply", "make_app", "make_asgi",
           "parse_body", "reply"]

SIZE_LIMITED = {"accounts.analytics_daily"}  # too many items -> 413 (checked by the handler)
INLINE_BELOW = 0.02  # handlers faster than this (seconds) run on the event loop
# uvicorn's HTTP parser: httptools (C, less CPU per request) when installed, else h11
HTTP_PARSER = "httptools" if importlib.util.find_spec("httptools") is not None else "h11"
log = logging.getLogger("instantly_nb.demo")


def reply(status: int, data: bytes, media_type: str = "application/json",
          headers: dict[str, str] | None = None) -> Reply:
    """The answer starlette's ``Response(data, status, headers, media_type)`` would send: the
    given headers (names in lower case), then ``content-length`` and ``content-type``
    (``; charset=utf-8`` added to a ``text/`` type) unless given."""
    if not headers:
        return Reply(status, [(b"content-length", b"%d" % len(data)),
                              (b"content-type", _MEDIA.get(media_type) or _media(media_type))], data)
    raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    names = {k for k, _ in raw}
    if b"content-length" not in names:
        raw.append((b"content-length", b"%d" % len(data)))
    if b"content-type" not in names:
        raw.append((b"content-type", _media(media_type)))
    return Reply(status, raw, data)


def _media(media_type: str) -> bytes:
    if media_type.startswith("text/") and "charset=" not in media_type.lower():
        media_type += "; charset=utf-8"
    return media_type.encode("latin-1")


_MEDIA = {m: _media(m) for m in ("application/json", "text/plain", "text/csv")}


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Reply:
    return reply(status, json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode(),
                 headers=headers)


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Reply:
    return _json(status, envelope(status, message), headers)


def _response(answer: Reply) -> Response:
    """``answer`` as a starlette response (for the routes served through starlette)."""
    response = Response(answer.body, status_code=answer.status)
    response.raw_headers = answer.headers
    return response


class _Keys:
    """Demo keys -> workspaces (built on first use) and their names.

    Besides the listed keys, any ``demo-key-<name>`` is accepted on first sight and opens the
    workspace seeded from ``<name>`` -- unless the server was given a key of its own
    (``extra=False``): then that key alone is accepted.
    """

    def __init__(self, key: str, seed: int, size: str, today: Any, *, extra: bool = True) -> None:
        others = {k: s for k, s in DEMO_KEYS.items() if k != key} if extra else {}
        self.seeds = {key: seed, **others}
        self.names = {key: "demo", **{k: DEMO_KEY_NAMES[k] for k in others}}
        self.size, self.today = size, resolve_today(today)
        self.extra = extra
        self._lock = threading.Lock()
        self._built: dict[str, Workspace] = {}

    def workspace(self, key: str) -> Workspace:
        with self._lock:
            found = self._built[key] = build_workspace(self.seeds[key], self.size, self.today,
                                                       self.names[key])
            return found

    def built(self, key: str) -> Workspace | None:
        """The workspace of ``key`` when it is built already (no waiting)."""
        return self._built.get(key)

    def from_header(self, header: str) -> str | None:
        """The accepted key of an ``Authorization`` header's value, or None."""
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer":
            return None
        return token if self.accept(token) else None

    def accept(self, token: str) -> bool:
        """Whether ``token`` is a demo key (registering a new ``demo-key-<name>``)."""
        if token in self.seeds:
            return True
        name = demo_key_name(token) if self.extra else None
        if name is None:
            return False
        with self._lock:
            self.seeds.setdefault(token, seed_for(name))
            self.names.setdefault(token, name)
        return True


def _auth_error(authorization: bytes | None) -> Reply:
    if authorization is None:
        return _error(401, "Missing Authorization header: send 'Authorization: Bearer <API key>'")
    return _error(401, "Invalid API key")


def _answer(result: Any, mutation: str | None) -> Reply:
    if isinstance(result, Text):
        return reply(200, result.body.encode(), result.media_type)
    if isinstance(result, Raw):
        data = result.data
    else:
        data = json.dumps(result, ensure_ascii=False, separators=(",", ":")).encode()
    if mutation:
        data = break_body(data, mutation)
    return reply(200, data)


class _Timing:
    """Where one endpoint's handler runs: on the event loop when it took less than
    :data:`INLINE_BELOW` seconds of CPU last time (a thread hop costs more than such a handler), in a
    worker thread otherwise (the first call, slow analytics), so a slow handler never holds up
    the other requests twice in a row."""

    def __init__(self) -> None:
        self.last: float | None = None

    def _timed(self, handler: Handler, workspace: Workspace, call: Call) -> Any:
        start = time.thread_time()  # its own CPU time: waiting for the GIL does not count
        result = handler(workspace, call)
        self.last = time.thread_time() - start
        return result

    async def run(self, handler: Handler, workspace: Workspace, call: Call) -> Any:
        if self.last is not None and self.last < INLINE_BELOW:
            return self._timed(handler, workspace, call)
        return await run_in_threadpool(self._timed, handler, workspace, call)


def _serve(name: str, handler: Handler, keys: _Keys, limiter: RateLimiter,
           injector: FaultInjector, quirks: Quirks) -> Answer:
    """The answer of endpoint ``name`` to one request: its headers (the first of each name),
    path parameters, query string and body (read from ``receive`` when the endpoint reads
    one)."""
    endpoint = ENDPOINTS[name]
    timing = _Timing()
    post = endpoint.method == "POST"
    skip_max_items = name in SIZE_LIMITED

    async def answer(headers: dict[bytes, bytes], params: dict[str, Any], query: bytes,
                     receive: Receive) -> Reply:
        if quirks.live and blocked(quirks, {k.decode("latin-1"): v.decode("latin-1")
                                            for k, v in headers.items()}):
            return reply(403, BLOCK_BODY.encode(), "text/plain")
        authorization = headers.get(b"authorization")
        key = keys.from_header("" if authorization is None else authorization.decode("latin-1"))
        if key is None:
            return _auth_error(authorization)
        if keys.names[key].startswith(UNPAID_PREFIX):
            return _error(402, "Payment required: this workspace has no active plan")
        wait = limiter.check(keys.names[key], name)
        if wait is not None:
            return _error(429, "Rate limit exceeded",
                          {"Retry-After": RateLimiter.header(wait)})
        decision = injector.decide(name)
        if decision.delay:
            await asyncio.sleep(decision.delay)
        if decision.status is not None:
            retry = {"Retry-After": "1"} if decision.status == 429 else None
            return _error(decision.status, "Injected fault", retry)
        if decision.error_in_200:
            return _json(200, {"error": decision.error_in_200})
        try:
            path = {k: str(v).replace(SLASH, "/") for k, v in params.items()}
            found = parse_qsl(query.decode("latin-1"), keep_blank_values=True) if query else []
            body = parse_body(await read_body(headers.get(b"content-length"), receive)) \
                if post else {}
            call = Call(endpoint, path, found, body, injector.faults)
            call.validate(skip_max_items=skip_max_items)
            workspace = keys.built(key)
            if workspace is None:  # built once, off the event loop
                workspace = await run_in_threadpool(keys.workspace, key)
            result = await timing.run(handler, workspace, call)
            result = quirks.answer(workspace, name, call, result)
        except ApiError as exc:
            return _error(exc.status, exc.message, exc.headers)
        except Exception as exc:  # noqa: BLE001 - answer 500 without a traceback
            log.warning("demo server: %s failed: %s", name, type(exc).__name__)
            return _error(500, "Internal error of the demo server")
        return _answer(result, decision.body)

    return answer


def _route(name: str, answer: Answer) -> Route:
    endpoint = ENDPOINTS[name]

    async def serve(request: Request) -> Response:
        headers = dict(reversed(request.scope["headers"]))  # the first of each name
        return _response(await answer(headers, request.path_params,
                                      request.scope["query_string"], request.receive))

    return Route(endpoint.path, serve, methods=[endpoint.method], name=name)


def make_app(keys: _Keys, limiter: RateLimiter, injector: FaultInjector,
             quirks: Quirks | None = None) -> Starlette:
    """The starlette app: one route per ENDPOINTS entry, static paths before templated ones.

    It answers every request; the server serves :func:`make_asgi`'s app, which answers the
    requests of its routes itself and hands the others (unknown paths, 405, HEAD) to this one.
    """
    app, _ = _apps(keys, limiter, injector, quirks)
    return app


def make_asgi(keys: _Keys, limiter: RateLimiter, injector: FaultInjector,
              quirks: Quirks | None = None) -> LeanApp:
    """The app the server serves (see :class:`~instantly_nb.demo.routing.LeanApp`): the
    starlette app's answers, without starlette's objects per request."""
    app, answers = _apps(keys, limiter, injector, quirks)
    return LeanApp(app, answers)


def _apps(keys: _Keys, limiter: RateLimiter, injector: FaultInjector,
          quirks: Quirks | None) -> tuple[Starlette, dict[str, Answer]]:
    registry = handlers()
    missing = sorted(set(ENDPOINTS) - set(registry))
    if missing:
        raise RuntimeError(f"demo server has no handler for: {', '.join(missing)}")
    names = sorted(ENDPOINTS, key=lambda n: (ENDPOINTS[n].path.count("{"), ENDPOINTS[n].path))
    answers = {n: _serve(n, registry[n], keys, limiter, injector, quirks or Quirks())
               for n in names}
    routes = [_route(n, answers[n]) for n in names]

    async def http_error(request: Request, exc: Exception) -> Response:
        authorization = request.headers.get("authorization")
        if keys.from_header(authorization or "") is None:
            return _response(_auth_error(None if authorization is None
                                         else authorization.encode("latin-1")))
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        text = {404: "Route not found", 405: "Method not allowed: the demo API is read-only"}
        return _response(_error(status, text.get(status, "Error")))

    app = Starlette(exception_handlers={HTTPException: http_error},
                    middleware=[Middleware(EncodedSlashes)])
    app.router = FixedPathsFirst(routes)
    return app, answers


class DemoServer:
    """A local server that speaks the Instantly API V2 for generated demo workspaces.

    Parameters
    ----------
    size : {"tiny", "default", "large"}
        Workspace size (see :func:`instantly_nb.demo.build_workspace`).
    seed : int
        Seed of the workspace opened by ``key``. The extra keys of ``DEMO_KEYS`` and any
        ``demo-key-<name>`` open workspaces seeded from their names.
    latency_ms, jitter_ms : float
        Delay added to every answer (they override the values in ``faults`` when non-zero).
    faults : Faults
        Misbehaviours to inject (none by default).
    key : str
        The main accepted key (``DEMO_KEY`` by default).
    extra_keys : bool, optional
        Also accept the extra demo keys of ``DEMO_KEYS`` (other workspaces). By default only
        with the public ``DEMO_KEY``: a server given its own key accepts that key alone.
    limits : Limits
        Rate limits to enforce; ``Limits(enabled=False)`` turns them off.
    speedup : float
        Multiplies every rate limit (for interactive use).
    today : datetime.date or str, optional
        Last day of the history; the current UTC date when omitted (pin it in tests).
    quirks : {"strict", "live"} or Quirks, optional
        ``"live"`` answers in the shapes the live API really sends (see
        :mod:`instantly_nb.demo.quirks`); ``"strict"`` as the OpenAPI document says. When
        omitted, ``INSTANTLY_NB_DEMO_QUIRKS`` decides (strict when unset).
    port : int
        0 picks a free port.

    Examples
    --------
    >>> import httpx
    >>> with DemoServer(size="tiny", today="2026-01-31") as server:
    ...     r = httpx.get(server.url + "/api/v2/campaigns/count-launched",
    ...                   headers={"Authorization": f"Bearer {DEMO_KEY}"})
    >>> r.json()["count"] > 0
    True
    """

    def __init__(self, size: str = "default", seed: int = 7, latency_ms: float = 0,
                 jitter_ms: float = 0, faults: Faults | None = None, key: str = DEMO_KEY,
                 limits: Limits | None = None, speedup: float = 1.0, *, today: Any = None,
                 host: str = "127.0.0.1", port: int = 0,
                 quirks: Quirks | str | None = None, extra_keys: bool | None = None) -> None:
        self.quirks = resolve(quirks)
        faults = faults or Faults()
        if self.quirks.live:
            faults = replace(faults, dangling_cursor=True)
        if latency_ms or jitter_ms:
            faults = replace(faults, latency_ms=latency_ms or faults.latency_ms,
                             jitter_ms=jitter_ms or faults.jitter_ms)
        self.faults = faults
        self.limits = (limits or Limits()).scaled(speedup)
        self.key, self.size, self.seed, self.host, self.port = key, size, seed, host, port
        extra = key == DEMO_KEY if extra_keys is None else extra_keys
        self._keys = _Keys(key, seed, size, today, extra=extra)
        self.limiter = RateLimiter(self.limits, {n: e.per_minute for n, e in ENDPOINTS.items()
                                                 if e.per_minute})
        self.app: Starlette | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    @property
    def keys(self) -> dict[str, str]:
        """Accepted keys -> workspace name."""
        return dict(self._keys.names)

    @property
    def workspace(self) -> Workspace:
        """The workspace opened by the main key (its ``.truth`` is the generator's plan)."""
        return self._keys.workspace(self.key)

    def workspace_for(self, key: str) -> Workspace:
        return self._keys.workspace(key)

    def client_pacing(self) -> dict[str, Any]:
        """Throttle settings for ``instantly_nb.Client`` that stay under this server's limits."""
        lim = self.limits
        if not lim.enabled:
            return {"rate_per_second": 100_000, "rate_per_minute": 6_000_000,
                    "endpoint_per_minute": {n: 6_000_000 for n in self.limiter.endpoint_limits}}

        def under(count: int) -> int:
            return max(1, int(lim.allowance(count) * 0.95))

        return {"rate_per_second": under(lim.per_second),
                "rate_per_minute": under(lim.per_minute),
                "endpoint_per_minute": {n: under(v)
                                        for n, v in self.limiter.endpoint_limits.items()}}

    @property
    def http(self) -> str:
        """The HTTP parser serving: ``"httptools"``, or ``"h11"`` when httptools is not
        installed."""
        if self._server is None or not self._server.config.loaded:
            return HTTP_PARSER
        protocol = self._server.config.http_protocol_class
        return "httptools" if "httptools" in protocol.__module__ else "h11"

    @property
    def url(self) -> str:
        if self._socket is None:
            raise RuntimeError("The demo server is not running; call start() first.")
        return f"http://{self.host}:{self._socket.getsockname()[1]}"

    def start(self) -> DemoServer:
        """Build the main workspace, bind the port and serve in a background thread."""
        if self._thread is not None:
            return self
        self.workspace  # noqa: B018 -- build before serving so the first request is fast
        app = make_asgi(self._keys, self.limiter, FaultInjector(self.faults), self.quirks)
        self.app = app.fallback
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # accepted connections inherit it: without it a keep-alive answer written in two parts
        # waits ~40 ms for the client's delayed ACK
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((self.host, self.port))
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off",
                                proxy_headers=False,  # no proxy in front: one layer less
                                http=HTTP_PARSER,
                                timeout_graceful_shutdown=1, log_config=None)
        server = uvicorn.Server(config)
        self._socket, self._server = sock, server
        self._thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]},
                                        name="instantly-nb-demo", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("The demo server did not start.")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None

    def __enter__(self) -> DemoServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.url if self._socket is not None else "stopped"
        return f"DemoServer(size={self.size!r}, seed={self.seed}, {where})"
