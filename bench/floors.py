"""The physical floor of a fetch under a remote rate limit (pure arithmetic, no I/O).

A fetch of ``R`` requests, ``E`` of them to an endpoint limited to ``e`` per minute, cannot end
sooner than any of

* ``R / per_second`` seconds and ``R / per_minute`` minutes (the workspace limits),
* ``E / e`` minutes (the per-endpoint limit, ``GET /emails``),

(exactly: under a sliding window of L requests per W seconds the last of N requests cannot leave
before ``((N - 1) // L) * W``, and its answer takes one more round trip),
* the longest chain of cursor pages that depend on each other, times the round trip.

The floor is the largest of these. Here the round trip is the server's configured mean latency:
the time the server spends rendering a page is left out, which makes the floor strict.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["Floor", "floor"]


@dataclass(frozen=True)
class Floor:
    """The floor and the terms it is the maximum of (seconds)."""

    requests: int
    per_second_s: float
    per_minute_s: float
    endpoint_s: float
    chain_s: float
    chain_pages: int

    @property
    def seconds(self) -> float:
        return max(self.per_second_s, self.per_minute_s, self.endpoint_s, self.chain_s)

    @property
    def binding(self) -> str:
        """Which term the floor is (for the table)."""
        terms = {"workspace rate": max(self.per_second_s, self.per_minute_s),
                 "emails rate": self.endpoint_s, "page chain": self.chain_s}
        return max(terms, key=lambda k: terms[k])

    def describe(self) -> str:
        return (f"{self.seconds:.1f} s = max({self.requests} req / rate limits "
                f"{max(self.per_second_s, self.per_minute_s):.1f} s, emails {self.endpoint_s:.1f} s,"
                f" chain {self.chain_pages} pages {self.chain_s:.1f} s) -> {self.binding}")


def floor(requests: int, *, per_second: float, per_minute: float,
          endpoint_requests: Mapping[str, int] | None = None,
          endpoint_per_minute: Mapping[str, float] | None = None,
          chain_pages: int = 0, round_trip_s: float = 0.0) -> Floor:
    """The floor of a fetch (see the module docstring).

    Parameters
    ----------
    requests : int
        Requests the fetch needs (answered 200; retries and refusals are not needed).
    per_second, per_minute : float
        Workspace limits enforced by the server.
    endpoint_requests, endpoint_per_minute : mapping of endpoint name
        Requests to endpoints with their own per-minute limit, and those limits.
    chain_pages : int
        Pages of the longest chain of cursor pages (each needs the previous page's cursor).
    round_trip_s : float
        The shortest round trip.

    Examples
    --------
    >>> f = floor(12_000, per_second=100, per_minute=6000, chain_pages=120, round_trip_s=0.15)
    >>> round(f.seconds, 2), f.binding
    (119.15, 'workspace rate')
    """
    limited = 0.0
    for name, count in (endpoint_requests or {}).items():
        limit = (endpoint_per_minute or {}).get(name)
        if limit and count:
            limited = max(limited, _window(count, limit, 60.0) + round_trip_s)
    return Floor(requests=requests,
                 per_second_s=_window(requests, per_second, 1.0) + round_trip_s,
                 per_minute_s=_window(requests, per_minute, 60.0) + round_trip_s,
                 endpoint_s=limited, chain_s=chain_pages * round_trip_s, chain_pages=chain_pages)


def _window(count: int, limit: float, seconds: float) -> float:
    """Earliest time the last of ``count`` requests may leave under a sliding window of
    ``limit`` per ``seconds``: the n-th full window must have slid past first."""
    return ((count - 1) // int(limit)) * seconds if count > 0 else 0.0
