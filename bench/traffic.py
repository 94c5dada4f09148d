"""What a fetch sent, and the naive way to send the same pages again.

:class:`Recorder` is an httpx transport that keeps every request a :class:`~instantly_nb.Client`
sends (method, URL, body, status, endpoint, timing). From that log, :func:`chains` finds the cursor
chains the fetch walked, and :func:`replay` sends the same requests again the naive way: one at a
time, in order, waiting out a 429 as its ``Retry-After`` says. For runs where a full naive replay
would take far longer than the benchmark's budget, :func:`estimate_sequential` replays a sample of
every endpoint's requests and scales each endpoint's mean time by its request count.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

import httpx

from instantly_nb.endpoints import ENDPOINTS
from instantly_nb.http import Connections

__all__ = ["Call", "Recorder", "chains", "endpoint_of", "estimate_sequential", "needed", "replay"]

CURSOR_KEYS = frozenset({"starting_after", "offset"})
MAX_ATTEMPTS = 8  # a naive loop still waits out a 429 and tries again, but not forever


def _routes() -> list[tuple[str, re.Pattern[str], str]]:
    out: list[tuple[str, re.Pattern[str], str]] = []
    for ep in sorted(ENDPOINTS.values(), key=lambda e: (e.path.count("{"), e.path)):
        rx = "".join("[^/]+" if p.startswith("{") else re.escape(p)
                     for p in re.split(r"(\{[^}]+\})", ep.path))
        out.append((ep.method, re.compile(f"^{rx}$"), ep.name))
    return out


_ROUTES = _routes()


def endpoint_of(method: str, path: str) -> str:
    """The ENDPOINTS name of a request (``"?"`` when none matches)."""
    for m, rx, name in _ROUTES:
        if m == method and rx.match(path):
            return name
    return "?"


@dataclass(frozen=True)
class Call:
    """One request as sent, and how it went."""

    method: str
    url: str
    body: bytes
    status: int
    endpoint: str
    started: float
    seconds: float  # until the response headers

    def chain_key(self) -> tuple[str, str]:
        """The listing this page belongs to: the request without its cursor."""
        parts = urlsplit(self.url)
        query = sorted((k, v) for k, v in parse_qsl(parts.query) if k not in CURSOR_KEYS)
        body = ""
        if self.body:
            payload = json.loads(self.body)
            body = json.dumps({k: v for k, v in payload.items() if k not in CURSOR_KEYS},
                              sort_keys=True)
        return self.endpoint, f"{parts.path}?{query}#{body}"


class Recorder(httpx.BaseTransport):
    """An httpx transport that forwards to a real one and logs every request."""

    def __init__(self, max_connections: int = 64):
        self._inner = Connections(max_connections)  # the transport a Client uses by default
        self._lock = threading.Lock()
        self.calls: list[Call] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        t0 = time.perf_counter()
        response = self._inner.handle_request(request)
        call = Call(request.method, str(request.url), request.content, response.status_code,
                    endpoint_of(request.method, request.url.path), t0, time.perf_counter() - t0)
        with self._lock:
            self.calls.append(call)
        return response

    def close(self) -> None:
        self._inner.close()

    def take(self) -> list[Call]:
        """The calls logged so far, and a fresh log."""
        with self._lock:
            calls, self.calls = self.calls, []
        return calls


def needed(calls: Sequence[Call]) -> list[Call]:
    """The distinct requests that were answered 200, in the order first sent."""
    seen: set[tuple[str, str, bytes]] = set()
    out = []
    for c in sorted(calls, key=lambda c: c.started):
        key = (c.method, c.url, c.body)
        if c.status == 200 and key not in seen:
            seen.add(key)
            out.append(c)
    return out


def chains(calls: Sequence[Call]) -> dict[tuple[str, str], int]:
    """Pages per cursor chain (a request that is not paged is a chain of one)."""
    out: dict[tuple[str, str], int] = defaultdict(int)
    for c in calls:
        out[c.chain_key()] += 1
    return dict(out)


@dataclass
class Replay:
    """A sequential replay: seconds per request and the 429s it had to wait out."""

    seconds: list[float]
    endpoints: list[str]
    refused: int = 0

    @property
    def total(self) -> float:
        return sum(self.seconds)


def replay(base_url: str, key: str, calls: Sequence[Call], *, deadline_s: float = 3600.0
           ) -> Replay:
    """Send ``calls`` again one at a time, in order (the naive loop)."""
    out = Replay([], [])
    stop = time.monotonic() + deadline_s
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    with httpx.Client(headers=headers, timeout=60.0) as http:
        for c in calls:
            if time.monotonic() > stop:
                raise TimeoutError(f"naive replay passed its {deadline_s:.0f} s deadline")
            t0 = time.perf_counter()
            for _attempt in range(MAX_ATTEMPTS):
                r = http.request(c.method, _rebase(c.url, base_url), content=c.body or None)
                if r.status_code != 429:
                    break
                out.refused += 1
                time.sleep(float(r.headers.get("Retry-After", "1")))
            if r.status_code != 200:
                raise RuntimeError(f"naive replay: {c.method} {c.endpoint} answered {r.status_code}")
            out.seconds.append(time.perf_counter() - t0)
            out.endpoints.append(c.endpoint)
    return out


def _rebase(url: str, base_url: str) -> str:
    parts = urlsplit(url)
    return base_url.rstrip("/") + parts.path + (f"?{parts.query}" if parts.query else "")


def sample(calls: Sequence[Call], per_endpoint: int) -> list[Call]:
    """Up to ``per_endpoint`` requests of every endpoint, spread evenly over its requests."""
    groups: dict[str, list[Call]] = defaultdict(list)
    for c in calls:
        groups[c.endpoint].append(c)
    out: list[Call] = []
    for group in groups.values():
        n, k = len(group), min(len(group), per_endpoint)
        picks = sorted({round(i * (n - 1) / max(1, k - 1)) for i in range(k)})
        out.extend(group[i] for i in picks)
    return out


def estimate_sequential(calls: Sequence[Call], measured: Replay,
                        endpoint_per_minute: dict[str, float]) -> float:
    """Seconds a one-at-a-time loop needs for ``calls``, from a replay of a sample of them.

    Each endpoint's mean sampled time is scaled by its number of requests. An endpoint with its
    own per-minute limit is never faster than that limit allows, however fast the sample went.
    """
    times: dict[str, list[float]] = defaultdict(list)
    for name, seconds in zip(measured.endpoints, measured.seconds, strict=True):
        times[name].append(seconds)
    counts: dict[str, int] = defaultdict(int)
    for c in calls:
        counts[c.endpoint] += 1
    total = 0.0
    for name, n in counts.items():
        mean = sum(times[name]) / len(times[name])
        limit = endpoint_per_minute.get(name)
        total += n * (max(mean, 60.0 / limit) if limit else mean)
    return total
