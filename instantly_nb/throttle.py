"""Client-side pacing under the API's documented rate limits.

The API allows 100 requests per second and 6,000 per minute per workspace (shared by every key and
tool of the workspace) and 20 per minute for ``GET /api/v2/emails``. A :class:`Throttle` holds one
sliding-window log per limit; :meth:`Throttle.acquire` blocks until every window that applies to a
request has room, then records the request in each of them. It is shared by every thread of a
client, and every retry attempt takes a slot again.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass

__all__ = ["Throttle", "Window", "DEFAULT_WINDOWS", "DEFAULT_ENDPOINT_WINDOWS"]


@dataclass(frozen=True)
class Window:
    """At most ``limit`` requests in any ``seconds``-long interval."""

    limit: int
    seconds: float

    def __post_init__(self) -> None:
        if self.limit < 1 or self.seconds <= 0:
            raise ValueError(f"a rate window needs limit >= 1 and seconds > 0, got {self}")


# Documented limits, with a little headroom: network jitter can bunch requests that left on time.
DEFAULT_WINDOWS: tuple[Window, ...] = (Window(95, 1.0), Window(5_800, 60.0))
DEFAULT_ENDPOINT_WINDOWS: dict[str, tuple[Window, ...]] = {"emails.list": (Window(19, 60.0),)}


class _Log:
    __slots__ = ("window", "stamps")

    def __init__(self, window: Window):
        self.window = window
        self.stamps: deque[float] = deque()

    def wait(self, now: float) -> float:
        horizon = now - self.window.seconds
        while self.stamps and self.stamps[0] <= horizon:
            self.stamps.popleft()
        if len(self.stamps) < self.window.limit:
            return 0.0
        return self.stamps[0] + self.window.seconds - now


class Throttle:
    """A thread-safe pacer for one workspace.

    Parameters
    ----------
    windows : sequence of Window
        Limits that apply to every request.
    endpoint_windows : mapping of endpoint name to windows
        Stricter limits of single endpoints (they apply in addition to ``windows``).
    clock, sleep : callables
        Injectable for tests (``time.monotonic`` and ``time.sleep`` by default).
    """

    def __init__(
        self,
        windows: tuple[Window, ...] = DEFAULT_WINDOWS,
        endpoint_windows: Mapping[str, tuple[Window, ...]] | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        ew = DEFAULT_ENDPOINT_WINDOWS if endpoint_windows is None else endpoint_windows
        self._global = [_Log(w) for w in windows]
        self._per_endpoint = {name: [_Log(w) for w in ws] for name, ws in ew.items()}
        self._lock = threading.Lock()
        self._clock = clock
        self._sleep = sleep
        self.waited = 0.0  # total seconds spent waiting, for diagnostics and benchmarks

    @property
    def windows(self) -> tuple[Window, ...]:
        return tuple(log.window for log in self._global)

    def endpoint_windows(self, name: str) -> tuple[Window, ...]:
        return tuple(log.window for log in self._per_endpoint.get(name, ()))

    def acquire(self, endpoint: str | None = None) -> None:
        """Block until a request to ``endpoint`` may be sent, then count it."""
        logs = self._global + self._per_endpoint.get(endpoint or "", [])
        while True:
            with self._lock:
                now = self._clock()
                wait = max((log.wait(now) for log in logs), default=0.0)
                if wait <= 0:
                    for log in logs:
                        log.stamps.append(now)
                    return
            self.waited += wait
            self._sleep(wait)
