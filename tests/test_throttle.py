"""Pacing: no window ever holds more than its limit, and requests leave evenly spaced."""

from __future__ import annotations

import threading
import time

import pytest

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
    granted: list[str] = []
    fan_out_asleep, chain_queued = threading.Event(), threading.Event()
    throttle = Throttle((RateWindow(10, 1.0),), {}, clock=lambda: now["t"])

    def sleep(seconds: float) -> None:
        if threading.current_thread().name == "fan-out" and not fan_out_asleep.is_set():
            fan_out_asleep.set()  # the fan-out request waits for its slot...
            chain_queued.wait(5)  # ...while a chain page comes to wait too
        now["t"] += seconds

    throttle._sleep = sleep
    throttle.acquire("campaigns.list")  # the next slot is 0.1 s away

    def fan_out() -> None:
        with bulk():
            throttle.acquire("leads.list")
        granted.append("fan-out")

    def chain() -> None:
        throttle.acquire("webhook_events.list")
        granted.append("chain")

    first = threading.Thread(target=fan_out, name="fan-out")
    first.start()
    assert fan_out_asleep.wait(5)
    second = threading.Thread(target=chain, name="chain")
    second.start()
    for _ in range(500):  # until the chain request is queued
        if throttle._queues[0]:
            break
        time.sleep(0.01)
    chain_queued.set()
    first.join(5)
    second.join(5)
    assert granted == ["chain", "fan-out"]  # the fan-out request, first to wait, went second
    assert now["t"] == pytest.approx(0.2)  # each at its own evenly spaced slot


def test_only_the_head_of_the_queue_watches_the_clock():
    sleeps = {"n": 0}

    def sleep(seconds: float) -> None:  # real time: every waiting thread would wake at a slot
        sleeps["n"] += 1
        time.sleep(seconds)

    throttle = Throttle((RateWindow(200, 1.0),), {}, sleep=sleep)
    stamps: list[float] = []

    def worker() -> None:
        for _ in range(10):
            throttle.acquire("leads.list")
            stamps.append(time.monotonic())

    pool = [threading.Thread(target=worker) for _ in range(32)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert len(stamps) == 320
    assert _most_in_any_window(sorted(stamps), 1.0) <= 200
    # about one sleep a request (the head's), not one per waiting thread and slot (~25 each)
    assert sleeps["n"] <= 2 * 320


# -- the server's count: a request is read somewhere between its grant and its answer ----------
def _served(hold: bool, workers: int, n: int, seed: int) -> list[float]:
    """Simulate ``workers`` threads sending ``n`` requests through one throttle on a virtual
    clock; each round trip takes 125-175 ms and the server reads the request at a random moment
    of it. Returns the server's read times."""
    import heapq
    import random

    rng = random.Random(seed)
    now = {"t": 100.0}
    flying: list[tuple[float, int]] = []  # (answer back at, id)
    served: list[float] = []

    def land_until(t: float) -> None:
        while flying and flying[0][0] <= t:
            back, _ = heapq.heappop(flying)
            now["t"] = max(now["t"], back)
            if hold:
                throttle.release("leads.list")
        now["t"] = max(now["t"], t)

    throttle = Throttle((RateWindow(20, 1.0),), {}, clock=lambda: now["t"],
                        sleep=lambda s: land_until(now["t"] + s))
    for i in range(n):
        if len(flying) >= workers:  # every thread busy: wait for the next answer
            land_until(flying[0][0])
        throttle.acquire("leads.list", hold=hold)
        granted = now["t"]
        back = granted + rng.uniform(0.125, 0.175)
        served.append(rng.uniform(granted, back))
        heapq.heappush(flying, (back, i))
    land_until(float("inf") if not flying else max(f[0] for f in flying))
    return sorted(served)


def _refused(served: list[float]) -> int:
    """429s the demo server's own rate limiter (20 a second) gives for these read times."""
    from instantly_nb.demo.config import Limits
    from instantly_nb.demo.ratelimit import RateLimiter

    at = {"t": 0.0}
    limiter = RateLimiter(Limits(per_second=20, per_minute=100_000), {}, clock=lambda: at["t"])
    refused = 0
    for t in served:
        at["t"] = t
        refused += limiter.check("w", "leads.list") is not None
    return refused


def test_requests_held_until_answered_never_exceed_the_servers_windows():
    for seed in range(3):
        served = _served(hold=True, workers=8, n=150, seed=seed)
        assert len(served) == 150
        assert _refused(served) == 0
        # and the pacing still goes at most ~20/(1 + round trip) a second, not much slower
        span = served[-1] - served[0]
        assert span < 150 / 20 * 1.4


def test_requests_counted_only_when_let_go_can_arrive_bunched():
    # the same traffic counted at the moment each request leaves: the server refuses some
    assert sum(_refused(_served(hold=False, workers=8, n=150, seed=seed)) for seed in range(3)) > 0


def test_a_window_full_of_requests_in_flight_waits_for_an_answer():
    now = {"t": 0.0}
    throttle = Throttle((RateWindow(2, 1.0),), {}, clock=lambda: now["t"],
                        sleep=lambda s: now.__setitem__("t", now["t"] + s))
    throttle.acquire("x", hold=True)
    throttle.acquire("x", hold=True)
    assert throttle._global[0].wait(now["t"]) > 0  # two in flight fill a window of two
    now["t"] += 5.0  # however long they take
    assert throttle._global[0].wait(now["t"]) > 0
    throttle.release("x")  # one answer back at t=5: it counts until t=6
    now["t"] += 0.5
    assert throttle._global[0].wait(now["t"]) == pytest.approx(0.5 + 1e-9)
    throttle.release("x")
    with throttle.slot("x"):
        assert now["t"] >= 6.0
        assert throttle._global[0].in_flight == 1
    assert throttle._global[0].in_flight == 0


def test_fan_out_in_flight_is_capped_beside_a_chain_when_answers_slow_down():
    from instantly_nb.throttle import _BulkCap

    cap = _BulkCap()
    for _ in range(50):  # answers at their unloaded time: the cap stays wide open
        cap.observe(0.15)
    assert cap.cap == _BulkCap.HIGH
    for _ in range(60):  # answers three times slower: requests queue at the server
        cap.observe(0.45)
    assert cap.cap < 8
    for _ in range(200):  # the queue is gone: the cap opens again
        cap.observe(0.15)
    assert cap.cap == _BulkCap.HIGH

    now = {"t": 0.0}
    throttle = Throttle((RateWindow(1000, 1.0),), {}, clock=lambda: now["t"],
                        sleep=lambda s: now.__setitem__("t", now["t"] + s))
    throttle._bulk.cap = 3.0
    with bulk():
        for _ in range(5):  # no chain active: the cap does not apply
            throttle.acquire("leads.list", hold=True)
            now["t"] += 0.01
    assert throttle._bulk.in_flight == 5
    with throttle.slot("emails.list"):  # a chain page goes out (and is back)
        pass
    waited: list[bool] = []

    def fan_out() -> None:
        with bulk():
            throttle.acquire("leads.list", hold=True)
        waited.append(True)

    worker = threading.Thread(target=fan_out, daemon=True)
    worker.start()
    worker.join(0.3)
    assert worker.is_alive() and not waited  # 5 in flight >= cap 3 beside an active chain
    with bulk():
        for _ in range(3):
            throttle.release("leads.list", 0.15)
    worker.join(2.0)
    assert waited == [True] and throttle._bulk.in_flight == 3
