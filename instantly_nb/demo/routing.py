"""Routing of the demo server: fixed paths found by one dict lookup, encoded slashes kept inside
their path segment.

The endpoint table has some fifty routes, fixed paths (``/api/v2/leads/list``) before templated
ones (``/api/v2/campaigns/{id}``). Starlette's router tries them in that order, one regular
expression each, so the busiest listings paid for every route before theirs.
:class:`FixedPathsFirst` finds the route of a fixed path in a dict instead and makes the same
choice: the first route, in order, whose path is that path and whose methods include the
request's. Everything else (templated paths, a method no route of that path allows, unknown
paths) goes through the ordinary loop, with its 404 and 405 answers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import unquote

from starlette.routing import Route, Router
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["SLASH", "EncodedSlashes", "FixedPathsFirst"]

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
