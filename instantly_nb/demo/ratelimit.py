"""Sliding-window rate limits of the demo server, per workspace and per endpoint.

A request is refused (429 with ``Retry-After``) when it would be the (N+1)-th request inside any
window of the limit's length; refused requests are not counted.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

from .config import Limits

__all__ = ["RateLimiter"]


class RateLimiter:
    """Enforce ``limits`` (already scaled by the speedup) with sliding windows.

    ``endpoint_limits`` maps endpoint names to their own per-minute limit (from the endpoint
    table unless ``limits.endpoint_per_minute`` overrides it).
    """

    def __init__(self, limits: Limits, endpoint_limits: dict[str, int],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        own = limits.endpoint_per_minute
        self.endpoint_limits = dict(endpoint_limits if own is None else own)
        self.clock = clock
        self._log: dict[tuple[str, str, float], deque[float]] = {}
        self._lock = threading.Lock()

    def _rules(self, workspace: str, endpoint: str) -> list[tuple[tuple[str, str, float], int]]:
        lim = self.limits
        rules = [((workspace, "*", 1.0), lim.allowance(lim.per_second)),
                 ((workspace, "*", 60.0), lim.allowance(lim.per_minute))]
        if endpoint in self.endpoint_limits:
            rules.append(((workspace, endpoint, 60.0),
                          lim.allowance(self.endpoint_limits[endpoint])))
        return rules

    def check(self, workspace: str, endpoint: str) -> float | None:
        """Record one request; ``None`` when allowed, else seconds until it would be."""
        if not self.limits.enabled:
            return None
        now = self.clock()
        with self._lock:
            wait = 0.0
            rules = self._rules(workspace, endpoint)
            for key, allowed in rules:
                log = self._log.setdefault(key, deque())
                while log and log[0] <= now - key[2]:
                    log.popleft()
                if len(log) >= allowed:
                    wait = max(wait, log[len(log) - allowed] + key[2] - now)
            if wait > 0:
                return wait
            for key, _ in rules:
                self._log[key].append(now)
            return None

    @staticmethod
    def header(wait: float) -> str:
        """``Retry-After`` value: whole seconds, at least one."""
        return str(max(1, math.ceil(wait)))
