"""Routing of the demo server: fixed paths found by one dict lookup, encoded slashes kept inside
their path segment, and the lean app that answers the routes without starlette's objects.

The endpoint table has some fifty routes, fixed paths (``/api/v2/leads/list``) before templated
ones (``/api/v2/campaigns/{id}``). Starlette's router tries them in that order, one regular
expression each, so the busiest listings paid for every route before theirs.
:class:`FixedPathsFirst` finds the route of a fixed path in a dict instead and makes the same
choice: the first route, in order, whose path is that path and whose methods include the
request's. Everything else (templated paths, a method no route of that path allows, unknown
paths) goes through the ordinary loop, with its 404 and 405 answers.

:class:`LeanApp` is what the server serves. Starlette's stack (middleware layers, a ``Request``,
a ``Response``, exception wrappers) costs some 30 microseconds of CPU per request; the lean app
finds the route the same way (one dict lookup for a fixed path, the routes' own regular
expressions in order for the templated ones), hands the endpoint its headers, path parameters,
query string and ``receive``, and sends the answer as two ASGI messages. Every request it does
not answer itself -- an unknown path, a method the path does not allow (404, 405, the redirect
of a trailing slash), ``HEAD``, a ``root_path`` -- goes to the starlette app, which answers it
as before; both call the same endpoint functions, so an answer does not depend on which app
served it.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, NamedTuple
from urllib.parse import unquote

from starlette.routing import Route, Router
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["SLASH", "Answer", "EncodedSlashes", "FixedPathsFirst", "LeanApp", "Reply"]

SLASH = "\ue000"  # stands for an encoded "/" inside a path segment while routing
_ENCODED_SLASH = re.compile("%2f", re.IGNORECASE)


class FixedPathsFirst(Router):
    """A starlette router that finds the routes of fixed paths by a dict lookup (see module
    docstring)."""

    def __init__(self, routes: Sequence[Route]) -> None:
        super().__init__(routes=list(routes))
        self.fixed: dict[str, list[Route]] = {}
        for route in routes:
            if "{" not in route.path:
                self.fixed.setdefault(route.path, []).append(route)

    def pick(self, scope: Scope) -> Route | None:
        """The route of a fixed path that fully matches ``scope``; None: ask the loop."""
        if scope["type"] != "http" or scope.get("root_path"):
            return None
        for route in self.fixed.get(scope["path"], ()):
            if route.methods is None or scope["method"] in route.methods:
                return route
        return None

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = self.pick(scope)
        if route is None:
            await super().app(scope, receive, send)
            return
        scope.setdefault("router", self)
        scope["route"] = route
        scope["endpoint"] = route.endpoint
        scope["path_params"] = dict(scope.get("path_params", {}))
        await route.handle(scope, receive, send)


class EncodedSlashes:
    """Route a path whose segments hold an encoded ``/`` (``%2F``) by its segments.

    The ASGI server decodes ``%2F`` into ``/`` before routing, which would split one path
    parameter (an e-mail address ``a/b@x.com``) into two segments and miss every route. Such a
    path is routed with :data:`SLASH` standing for each encoded slash; the handler turns it back.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw = scope.get("raw_path") if scope.get("type") == "http" else None
        if raw and b"%2f" in raw.lower():
            text = raw.split(b"?", 1)[0].decode("latin-1")
            scope = {**scope, "path": unquote(_ENCODED_SLASH.sub(SLASH, text))}
        await self.app(scope, receive, send)


def _slashes_kept(scope: Scope) -> str:
    """The path to route: :class:`EncodedSlashes`' path for a raw path holding ``%2F``."""
    raw = scope.get("raw_path")
    if raw and b"%2f" in raw.lower():
        return unquote(_ENCODED_SLASH.sub(SLASH, raw.split(b"?", 1)[0].decode("latin-1")))
    path: str = scope["path"]
    return path


class Reply(NamedTuple):
    """One answer: status, header list (as sent, in order) and body."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


#: An endpoint's answer to (headers: the first of each name, path parameters, query string,
#: receive).
Answer = Callable[[dict[bytes, bytes], dict[str, Any], bytes, Receive], Awaitable[Reply]]
_SERVER_ERROR = Reply(500, [(b"content-length", b"21"),
                            (b"content-type", b"text/plain; charset=utf-8")],
                      b"Internal Server Error")


class LeanApp:
    """Serve the routes of ``fallback`` (a starlette app routed by :class:`FixedPathsFirst`)
    with their ``answers`` (route name -> :data:`Answer`); see the module docstring."""

    def __init__(self, fallback: Any, answers: dict[str, Answer]) -> None:
        self.fallback = fallback
        router: FixedPathsFirst = fallback.router
        self.fixed: dict[tuple[str, str], Answer] = {}
        for path, routes in router.fixed.items():
            for route in routes:  # the first route of the path allowing the method
                for method in sorted(route.methods or ()):
                    if method != "HEAD":
                        self.fixed.setdefault((method, path), answers[route.name])
        self.templated = [(route.path_regex, frozenset(route.methods or ()) - {"HEAD"},
                           route.param_convertors, answers[route.name])
                          for route in router.routes
                          if isinstance(route, Route) and "{" in route.path]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("root_path"):
            await self.fallback(scope, receive, send)
            return
        method = scope["method"]
        path = _slashes_kept(scope)
        answer = self.fixed.get((method, path))
        params: dict[str, Any] = {}
        if answer is None:
            for regex, methods, convertors, candidate in self.templated:
                match = regex.match(path)
                if match is not None and method in methods:
                    answer = candidate
                    params = {k: convertors[k].convert(v) for k, v in match.groupdict().items()}
                    break
            else:  # 404, 405, a redirect, HEAD: as starlette answers them
                await self.fallback(scope, receive, send)
                return
        try:
            status, headers, body = await answer(dict(reversed(scope["headers"])), params,
                                                 scope["query_string"], receive)
        except Exception:
            # as starlette's ServerErrorMiddleware: a plain 500, then the error goes on up
            await send({"type": "http.response.start", "status": 500,
                        "headers": list(_SERVER_ERROR.headers)})
            await send({"type": "http.response.body", "body": _SERVER_ERROR.body})
            raise
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
