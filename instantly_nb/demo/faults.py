"""Fault injection of the demo server: latency, error statuses, hangs and broken bodies.

One seeded generator decides for every request in arrival order, so a single-threaded client
sees the same faults on every run.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass

from .config import Faults

__all__ = ["Decision", "FaultInjector"]


@dataclass(frozen=True)
class Decision:
    """What to do to one request."""

    delay: float = 0.0  # seconds to wait before answering
    status: int | None = None  # answer with this error status instead
    body: str | None = None  # "truncate" or "invalid": break a 200 JSON body
    error_in_200: str | None = None  # answer 200 {"error": ...}


class FaultInjector:
    """Draw a :class:`Decision` for each request from ``faults``."""

    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self._rng = random.Random(faults.seed)
        self._lock = threading.Lock()
        self._served = 0

    def decide(self, endpoint: str) -> Decision:
        f = self.faults
        with self._lock:
            delay = f.latency_ms / 1000.0
            if f.jitter_ms:
                delay += self._rng.uniform(0.0, f.jitter_ms) / 1000.0
            first = self._served
            self._served += 1
            if first < len(f.fail_first):
                return Decision(delay=delay, status=f.fail_first[first])
            if f.error_in_200 == endpoint:
                return Decision(delay=delay, error_in_200=f.error_in_200_message)
            if not (f.any_random and f.applies_to(endpoint)):
                return Decision(delay=delay)
            roll = self._rng.random()
            if roll < f.error_rate:
                return Decision(delay=delay,
                                status=f.error_statuses[self._rng.randrange(len(f.error_statuses))])
            roll -= f.error_rate
            if roll < f.hang_rate:
                return Decision(delay=delay + f.hang_seconds)
            roll -= f.hang_rate
            if roll < f.truncate_rate:
                return Decision(delay=delay, body="truncate")
            roll -= f.truncate_rate
            if roll < f.invalid_json_rate:
                return Decision(delay=delay, body="invalid")
            return Decision(delay=delay)


def break_body(body: bytes, how: str) -> bytes:
    """A JSON body cut in half, or replaced by text that is not JSON."""
    if how == "truncate":
        return body[: max(1, len(body) // 2)]
    return b"<html><body>502 upstream hiccup</body></html>"
