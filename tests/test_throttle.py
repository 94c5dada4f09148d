"""Pacing: no window ever holds more than its limit, and requests leave evenly spaced."""

from __future__ import annotations

import threading
import time

from instantly_nb.throttle import RateWindow, Throttle, bulk


class FakeClock:
    """A shared, monotone virtual clock for many threads.

    ``sleep(s)`` moves the clock to at least (the sleeping thread's last reading + s) and yields
    the processor; each thread remembers the last time it read, which for a thread that has just
    been let through by the throttle is the moment of its grant.
    """

    def __init__(self) -> None:
        self.t = 1000.0
        self.lock = threading.Lock()
        self.local = threading.local()

    def clock(self) -> float:
        with self.lock:
            self.local.last = self.t
            return self.t

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.t = max(self.t, getattr(self.local, "last", self.t) + seconds)
        time.sleep(0)


def _grants(throttle: Throttle, clock: FakeClock, threads: int, each: int,
            endpoint: str | None = None) -> list[float]:
    stamps: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(each):
            throttle.acquire(endpoint)
            with lock:
                stamps.append(clock.local.last)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return sorted(stamps)


def _most_in_any_window(stamps: list[float], seconds: float) -> int:
    """Largest number of stamps inside one closed interval of ``seconds``."""
    best, lo = 0, 0
    for hi, t in enumerate(stamps):
        while t - stamps[lo] > seconds:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def test_never_more_than_the_rate_in_any_second_under_16_threads():
    clock = FakeClock()
    throttle = Throttle((RateWindow(20, 1.0), RateWindow(600, 60.0)), {}, clock=clock.clock,
                        sleep=clock.sleep)
    stamps = _grants(throttle, clock, threads=16, each=15)
    assert len(stamps) == 240
    assert _most_in_any_window(stamps, 1.0) <= 20
    # 240 requests at 20/s take at least 239 gaps of 1/20 s
    assert stamps[-1] - stamps[0] >= 239 / 20 - 1e-6


def test_requests_are_evenly_spaced_not_a_window_at_once():
    clock = FakeClock()
    throttle = Throttle((RateWindow(95, 1.0),), {}, clock=clock.clock, sleep=clock.sleep)
    stamps = _grants(throttle, clock, threads=16, each=6)
    gaps = [b - a for a, b in zip(stamps, stamps[1:], strict=False)]
    assert min(gaps) >= 1 / 95 - 1e-9  # no two requests closer than the even spacing
    assert _most_in_any_window(stamps, 0.1) <= 10  # a tenth of a second holds a tenth of 95


def test_endpoint_window_holds_and_leaves_other_endpoints_alone():
    clock = FakeClock()
    throttle = Throttle((RateWindow(100, 1.0),), {"emails.list": (RateWindow(20, 60.0),)},
                        clock=clock.clock, sleep=clock.sleep)
    emails = _grants(throttle, clock, threads=4, each=10, endpoint="emails.list")
    assert _most_in_any_window(emails, 60.0) <= 20
    assert emails[-1] - emails[0] > 60.0  # the 21st request waited for the window
    start = clock.t
    for _ in range(50):
        throttle.acquire("campaigns.list")
    assert clock.t - start <= 50 / 100 + 1e-6  # other endpoints only keep the global spacing
    assert throttle.rate("emails.list") == 20 / 60
    assert throttle.rate("campaigns.list") == 100


def test_a_waiting_chain_request_goes_before_fan_out_requests():
    now = {"t": 0.0}
    slept: list[float] = []
    throttle = Throttle((RateWindow(10, 1.0),), {}, clock=lambda: now["t"])

    def sleep(seconds: float) -> None:  # while the fan-out request waits, the chain page leaves
        slept.append(seconds)
        now["t"] += seconds
        throttle._chains_waiting = 0

    throttle._sleep = sleep
    throttle._chains_waiting = 1  # a cursor-chain page is waiting for a slot
    with bulk():
        throttle.acquire("leads.list")
    assert slept == [0.1]  # the fan-out request gave its slot away once
    throttle._chains_waiting = 1
    throttle.acquire("webhook_events.list")  # another chain page is not held back by it
    assert slept == [0.1, 0.1]  # (only by the even spacing after the previous grant)
