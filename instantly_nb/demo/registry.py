"""The handler registry: one function per endpoint name of ``instantly_nb.endpoints.ENDPOINTS``.

Handler modules register with :func:`handles`; :func:`handlers` imports them all and returns the
registry. A handler takes the workspace and the :class:`~instantly_nb.demo.protocol.Call` and
returns the JSON body (or a :class:`~instantly_nb.demo.protocol.Text`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from ..endpoints import ENDPOINTS

__all__ = ["HANDLERS", "Handler", "handlers", "handles"]

Handler = Callable[[Any, Any], Any]
HANDLERS: dict[str, Handler] = {}
MODULES = ("h_campaigns", "h_accounts", "h_leads", "h_misc", "h_placement")


def handles(*names: str) -> Callable[[Handler], Handler]:
    """Register the decorated function for these endpoint names (which must exist)."""

    def register(fn: Handler) -> Handler:
        for name in names:
            if name not in ENDPOINTS:
                raise KeyError(f"{name!r} is not an endpoint of instantly_nb.endpoints")
            HANDLERS[name] = fn
        return fn

    return register


def handlers() -> dict[str, Handler]:
    """Every registered handler, keyed by endpoint name."""
    for module in MODULES:
        importlib.import_module(f"{__package__}.{module}")
    return HANDLERS
