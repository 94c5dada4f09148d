"""Client-side pacing under the API's documented rate limits.

The API allows 100 requests per second and 6,000 per minute per workspace (shared by every key and
tool of the workspace) and 20 per minute for ``GET /api/v2/emails``. A :class:`Throttle` holds one
sliding-window log per limit; :meth:`Throttle.acquire` blocks until every window that applies to a
request has room, then records the request in each of them. It is shared by every thread of a
client, and every retry attempt takes a slot again.

Requests are also spaced evenly: one every ``seconds / limit`` of the tightest workspace window
(a slot every ~10.5 ms at 95/s) instead of a whole window's budget leaving at once. Waiting
requests form a queue and only its head watches the clock, so each slot wakes one thread, not
the thirty that wait for it (they would each take the lock, look at the windows and sleep again:
about 2 ms of CPU a request at 64 threads, against 0.2 ms in turn).

A server counts a request when it reads it, somewhere between the moment the client lets it go
and the moment its answer is back -- not when the client counted it. A thread that got its slot
may send a little later (it waits for the interpreter lock), and the server may read a queue of
requests at once after a pause, so requests counted evenly here can arrive bunched there. A
request sent through :meth:`Throttle.slot` therefore counts in every window from the moment it
is let go until its answer is back (in flight, then at the time it ended): a window admits a
request only while fewer than ``limit`` requests are in flight or ended within the last
``seconds``. Whenever the server reads them, no ``seconds``-long interval then holds more than
``limit`` of them. The price is a little rate: at 150 ms a round trip, 95 a second becomes ~83.
The windows are closed intervals (end points included).

Inside :func:`bulk` (the client wraps each part of a fan-out in it), a request queues behind
every waiting request of a cursor chain: a chain is latency-bound (each page gates the next), a
fan-out throughput-bound, so a chain beside a 30-thread fan-out still gets its pages out.
A slot is not enough: a server answers in the order requests reach it, so a chain page sent
behind thirty fan-out pages waits for them there. While a chain is active, fan-out requests in
flight are therefore capped (:class:`_BulkCap`): the cap shrinks when round trips grow beyond
their unloaded time (requests queue at the server, adding latency and no throughput) and grows
back when they do not.
"""

from __future__ import annotations

import contextvars
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from .endpoints import ENDPOINTS

__all__ = ["Throttle", "RateWindow", "DEFAULT_WINDOWS", "DEFAULT_ENDPOINT_WINDOWS", "bulk",
           "workers_for", "DEFAULT_LATENCY_S"]


@dataclass(frozen=True)
class RateWindow:
    """At most ``limit`` requests in any ``seconds``-long interval."""

    limit: int
    seconds: float

    def __post_init__(self) -> None:
        if self.limit < 1 or self.seconds <= 0:
            raise ValueError(f"a rate window needs limit >= 1 and seconds > 0, got {self}")

    @property
    def spacing(self) -> float:
        """Seconds between two evenly spaced requests."""
        return self.seconds / self.limit


# Documented limits, with a little headroom: network jitter can bunch requests that left on time.
DEFAULT_WINDOWS: tuple[RateWindow, ...] = (RateWindow(95, 1.0), RateWindow(5_800, 60.0))
# Stricter limits of single endpoints, from the endpoint table (GET /emails: 20 a minute -> 19).
DEFAULT_ENDPOINT_WINDOWS: dict[str, tuple[RateWindow, ...]] = {
    name: (RateWindow(max(1, ep.per_minute - 1), 60.0),)
    for name, ep in ENDPOINTS.items() if ep.per_minute}

# A round trip to the API before any was measured (seconds).
DEFAULT_LATENCY_S = 0.15
MIN_WORKERS, MAX_WORKERS = 4, 64


def workers_for(rate: float, latency_s: float) -> int:
    """Threads needed to keep ``rate`` requests a second going when each takes ``latency_s``.

    Little's law: requests in flight = arrival rate x time in flight (95/s x 0.15 s = ~14). Twice
    that covers the spread of round-trip times and the threads' own work; bounded to 4..64.
    """
    if not math.isfinite(rate) or not math.isfinite(latency_s):
        return MAX_WORKERS
    return max(MIN_WORKERS, min(MAX_WORKERS, math.ceil(rate * max(latency_s, 0.0) * 2)))


_BULK: contextvars.ContextVar[bool] = contextvars.ContextVar("instantly_nb_bulk", default=False)


@contextmanager
def bulk() -> Iterator[None]:
    """Requests sent inside the block give way to waiting cursor-chain requests."""
    token = _BULK.set(True)
    try:
        yield
    finally:
        _BULK.reset(token)


class _Log:
    __slots__ = ("window", "stamps", "next_at", "spaced", "in_flight")

    def __init__(self, window: RateWindow, spaced: bool = True):
        self.window = window
        self.spaced = spaced
        self.stamps: deque[float] = deque()  # when each counted request ended (ascending)
        self.in_flight = 0  # requests let go whose answer is not back yet
        self.next_at = float("-inf")  # earliest time of the next evenly spaced slot

    def wait(self, now: float) -> float:
        horizon = now - self.window.seconds
        while self.stamps and self.stamps[0] < horizon:
            self.stamps.popleft()
        wait = self.next_at - now
        over = len(self.stamps) + self.in_flight - self.window.limit
        if over >= 0:
            if over < len(self.stamps):
                # the (over+1)-th oldest ending must be strictly more than a window ago
                wait = max(wait, self.stamps[over] + self.window.seconds - now + 1e-9)
            else:  # the window is full of requests in flight: look again when one may be back
                wait = max(wait, _IN_FLIGHT_POLL)
        return max(wait, 0.0)

    def take(self, now: float, hold: bool) -> None:
        if hold:
            self.in_flight += 1
        else:
            self.stamps.append(now)
        if self.spaced:  # the next slot is one spacing after this one
            self.next_at = now + self.window.spacing

    def end(self, now: float) -> None:
        self.in_flight -= 1
        self.stamps.append(now)


# How long a request waits before looking again when a window is full of requests in flight.
_IN_FLIGHT_POLL = 0.01


class _BulkCap:
    """How many fan-out requests may be in flight beside an active cursor chain.

    A gradient rule on measured round trips: ``base`` is the shortest round trip seen (drifting
    up slowly, so a slower network is learnt), ``rtt`` a moving average. Each answer moves the
    cap towards ``cap * clamp(TOLERANCE * base / rtt, 0.5, 1) + sqrt(cap)``: unchanged growth
    while round trips stay near their unloaded time, a cut when requests queue at the server.
    """

    TOLERANCE = 1.4  # round trips up to 1.4x the unloaded one count as not queueing
    LOW, HIGH = 2.0, float(MAX_WORKERS)
    SMOOTHING = 0.2

    __slots__ = ("cap", "base", "rtt", "in_flight")

    def __init__(self) -> None:
        self.cap = self.HIGH
        self.base = float("inf")
        self.rtt = 0.0
        self.in_flight = 0

    def full(self) -> bool:
        return self.in_flight >= int(self.cap)

    def observe(self, seconds: float) -> None:
        if seconds <= 0:
            return
        self.base = min(seconds, self.base + 0.001 * (seconds - self.base)) \
            if math.isfinite(self.base) else seconds
        self.rtt = seconds if self.rtt <= 0 else self.rtt + 0.1 * (seconds - self.rtt)
        gradient = max(0.5, min(1.0, self.TOLERANCE * self.base / self.rtt))
        target = self.cap * gradient + math.sqrt(self.cap)
        self.cap = max(self.LOW, min(self.HIGH, self.cap + self.SMOOTHING * (target - self.cap)))


# A chain counts as active for this long after its last request was let go or came back
# (between two pages it decodes the previous one).
_CHAIN_QUIET_S = 0.5
_CAP_WAIT_S = 0.05  # longest wait for an answer before looking again (cancellation is seen)
# A queued request whose turn has not come looks again after this long even if nobody woke it.
_NOT_HEAD_WAIT_S = 1.0


class _Waiter:
    """A request waiting for its turn (see :meth:`Throttle.acquire`)."""

    __slots__ = ("turn", "bulk")

    def __init__(self, lock: threading.Lock, bulk: bool):
        self.turn = threading.Condition(lock)  # notified when it becomes the head
        self.bulk = bulk


class Throttle:
    """A thread-safe pacer for one workspace.

    Parameters
    ----------
    windows : sequence of RateWindow
        Limits that apply to every request.
    endpoint_windows : mapping of endpoint name to windows
        Stricter limits of single endpoints (they apply in addition to ``windows``).
    clock, sleep : callables
        Injectable for tests (``time.monotonic`` and ``time.sleep`` by default).
    """

    def __init__(
        self,
        windows: tuple[RateWindow, ...] = DEFAULT_WINDOWS,
        endpoint_windows: Mapping[str, tuple[RateWindow, ...]] | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        ew = DEFAULT_ENDPOINT_WINDOWS if endpoint_windows is None else endpoint_windows
        self._global = [_Log(w) for w in windows]
        # an endpoint's own window is not spaced: its requests are mostly one cursor chain,
        # which cannot burst anyway, and may catch up within the window after a slow page
        self._per_endpoint = {name: [_Log(w, spaced=False) for w in ws] for name, ws in ew.items()}
        self._lock = threading.Lock()
        self._clock = clock
        self._sleep = sleep
        self._queues: tuple[deque[_Waiter], deque[_Waiter]] = (deque(), deque())
        self._bulk = _BulkCap()
        self._chain_seen = float("-inf")  # when a chain request was last let go or came back
        self._freed = threading.Condition(self._lock)  # an answer came back
        self.waited = 0.0  # total seconds spent waiting, for diagnostics and benchmarks

    @property
    def windows(self) -> tuple[RateWindow, ...]:
        return tuple(log.window for log in self._global)

    def endpoint_windows(self, name: str) -> tuple[RateWindow, ...]:
        return tuple(log.window for log in self._per_endpoint.get(name, ()))

    def rate(self, endpoint: str | None = None) -> float:
        """Requests per second the binding window allows ``endpoint`` (for ETAs and sizing)."""
        logs = self._global + self._per_endpoint.get(endpoint or "", [])
        return min((log.window.limit / log.window.seconds for log in logs), default=float("inf"))

    def acquire(self, endpoint: str | None = None, *, hold: bool = False) -> None:
        """Block until a request to ``endpoint`` may be sent, then count it.

        Without ``hold`` the request counts at this moment; with it, it counts as in flight
        until :meth:`release` (use :meth:`slot`, which pairs the two).

        Waiting requests queue: cursor-chain requests first, then fan-out requests, each in
        the order they came. Only the head of the queue watches the clock; the others sleep
        until it is their turn, so a slot wakes one thread, not every thread that waits. A
        request first waits for its endpoint's own windows outside the queue, so a request
        held back by its endpoint (``GET /emails``) never holds back the others.
        """
        own = self._per_endpoint.get(endpoint or "", [])
        logs = self._global + own
        me = _Waiter(self._lock, _BULK.get())
        while True:
            self._wait_own(own)
            if self._take_in_turn(me, logs, own, hold):
                return

    def _wait_own(self, own: list[_Log]) -> None:
        """Until the endpoint's own windows have room (not queued: few requests wait here)."""
        while own:
            with self._lock:
                wait = max(log.wait(self._clock()) for log in own)
                if wait <= 0:
                    return
                self.waited += wait
            self._sleep(wait)

    def _take_in_turn(self, me: _Waiter, logs: list[_Log], own: list[_Log], hold: bool) -> bool:
        """Queue for the workspace windows and take a slot when at the head; False when the
        endpoint's own window filled up meanwhile (the caller waits for it again)."""
        queue = self._queues[int(me.bulk)]
        with self._lock:
            queue.append(me)
        try:
            while True:
                with self._lock:
                    while self._head() is not me:
                        me.turn.wait(_NOT_HEAD_WAIT_S)
                    now = self._clock()
                    if hold and me.bulk and self._bulk.full() \
                            and now - self._chain_seen < _CHAIN_QUIET_S:
                        self._freed.wait(_CAP_WAIT_S)  # until a request in flight is back
                        continue
                    if any(log.wait(now) > 0 for log in own):
                        return False  # another request of the endpoint took its room
                    wait = max(log.wait(now) for log in self._global)
                    if wait <= 0:
                        for log in logs:
                            log.take(now, hold)
                        if hold and me.bulk:
                            self._bulk.in_flight += 1
                        elif hold:
                            self._chain_seen = now
                        return True
                    self.waited += wait
                self._sleep(wait)
        finally:
            with self._lock:
                queue.remove(me)
                head = self._head()
                if head is not None:
                    head.turn.notify()

    def _head(self) -> _Waiter | None:
        """The request whose turn it is (called with the lock held)."""
        chains, fan_out = self._queues
        return chains[0] if chains else fan_out[0] if fan_out else None

    def release(self, endpoint: str | None = None, seconds: float | None = None) -> None:
        """The answer to a request acquired with ``hold=True`` is back (or it failed) after
        ``seconds`` in flight."""
        with self._lock:
            now = self._clock()
            for log in self._global + self._per_endpoint.get(endpoint or "", []):
                log.end(now)
            if _BULK.get():
                self._bulk.in_flight -= 1
            else:
                self._chain_seen = now
            if seconds is not None:
                self._bulk.observe(seconds)
            self._freed.notify()

    @contextmanager
    def slot(self, endpoint: str | None = None) -> Iterator[None]:
        """``with throttle.slot(name): send()`` -- the request counts from the moment it is let
        go until the block ends (its answer is back)."""
        self.acquire(endpoint, hold=True)
        started = time.monotonic()
        try:
            yield
        finally:
            self.release(endpoint, time.monotonic() - started)

    @property
    def bulk_cap(self) -> int:
        """Fan-out requests allowed in flight beside an active chain (for diagnostics)."""
        return int(self._bulk.cap)
