"""The demo server in its own process, so its CPU time does not share a GIL with the client.

The parent (:class:`ServerProcess`) starts ``python -m bench.server ...`` and talks to it over
stdin/stdout, one JSON line per exchange:

* the child prints ``{"url", "key", "pacing", "workspace"}`` once it serves;
* ``stats`` -> ``{"requests", "refused", "by_endpoint", "cpu_s"}``: requests that passed
  authentication, how many of them the rate limiter answered with 429, a count per endpoint, and
  the CPU seconds the server process has used so far (all its threads), so a benchmark can show
  the simulator's own cost beside the client's;
* ``quit`` (or end of input) stops it.

The child also stops by itself after ``--max-seconds``, so a crashed parent never leaves a
server behind. It serves only on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTED = {"per_second": 100, "per_minute": 6000, "emails_per_minute": 20}


@dataclass(frozen=True)
class ServerConfig:
    """What the demo server enforces and how slow it answers."""

    size: str = "default"
    seed: int = 7
    latency_ms: float = 125.0  # plus a uniform 0..jitter_ms: mean 150 ms
    jitter_ms: float = 50.0
    per_second: int = DOCUMENTED["per_second"]
    per_minute: int = DOCUMENTED["per_minute"]
    emails_per_minute: int = DOCUMENTED["emails_per_minute"]
    limits: bool = True
    max_seconds: float = 3600.0

    @property
    def mean_latency_s(self) -> float:
        return (self.latency_ms + self.jitter_ms / 2) / 1000

    def argv(self) -> list[str]:
        out = ["--size", self.size, "--seed", str(self.seed), "--latency-ms", str(self.latency_ms),
               "--jitter-ms", str(self.jitter_ms), "--per-second", str(self.per_second),
               "--per-minute", str(self.per_minute), "--emails-per-minute",
               str(self.emails_per_minute), "--max-seconds", str(self.max_seconds)]
        return out if self.limits else [*out, "--no-limits"]


class ServerProcess:
    """``with ServerProcess(config) as srv:`` -- ``srv.url``, ``srv.key``, ``srv.stats()``."""

    def __init__(self, config: ServerConfig, start_timeout: float = 120.0):
        self.config = config
        self.start_timeout = start_timeout
        self._proc: subprocess.Popen[str] | None = None
        self.info: dict[str, Any] = {}

    def __enter__(self) -> ServerProcess:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "bench.server", *self.config.argv()], cwd=ROOT, env=env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        self.info = self._read(self.start_timeout)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return str(self.info["url"])

    @property
    def key(self) -> str:
        return str(self.info["key"])

    @property
    def pacing(self) -> dict[str, Any]:
        """Client throttle settings just under the enforced limits (as ``Client.demo`` uses)."""
        return dict(self.info["pacing"])

    @property
    def workspace(self) -> dict[str, Any]:
        return dict(self.info["workspace"])

    def stats(self) -> dict[str, Any]:
        """Requests seen by the server so far (cumulative)."""
        assert self._proc is not None and self._proc.stdin is not None
        self._proc.stdin.write("stats\n")
        self._proc.stdin.flush()
        return self._read(30.0)

    def _read(self, timeout: float) -> dict[str, Any]:
        assert self._proc is not None and self._proc.stdout is not None
        ready, _, _ = select.select([self._proc.stdout], [], [], timeout)
        line = self._proc.stdout.readline() if ready else ""
        if not line:
            self.stop()
            raise RuntimeError("the bench demo server did not answer (see its stderr above)")
        return dict(json.loads(line))

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            if proc.stdin is not None and proc.poll() is None:
                proc.stdin.write("quit\n")
                proc.stdin.flush()
        except (BrokenPipeError, OSError):
            pass
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.terminate()  # our own child, by its handle
            proc.wait(timeout=10)


# -- the child --------------------------------------------------------------------------------
def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.server")
    p.add_argument("--size", default="default")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--latency-ms", type=float, default=0.0)
    p.add_argument("--jitter-ms", type=float, default=0.0)
    p.add_argument("--per-second", type=int, default=DOCUMENTED["per_second"])
    p.add_argument("--per-minute", type=int, default=DOCUMENTED["per_minute"])
    p.add_argument("--emails-per-minute", type=int, default=DOCUMENTED["emails_per_minute"])
    p.add_argument("--no-limits", action="store_true")
    p.add_argument("--max-seconds", type=float, default=3600.0)
    return p


class _Counting:
    """Wraps the server's rate limiter to count what it sees (every authenticated request)."""

    def __init__(self, limiter: Any):
        self._check = limiter.check
        self.lock = threading.Lock()
        self.by_endpoint: Counter[str] = Counter()
        self.refused = 0
        limiter.check = self.check

    def check(self, workspace: str, endpoint: str) -> float | None:
        wait = self._check(workspace, endpoint)
        with self.lock:
            self.by_endpoint[endpoint] += 1
            self.refused += wait is not None
        return wait

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {"requests": sum(self.by_endpoint.values()), "refused": self.refused,
                    "by_endpoint": dict(self.by_endpoint)}


def child(argv: list[str] | None = None) -> int:
    """Serve until ``quit``, end of input or ``--max-seconds``."""
    from instantly_nb.demo import DemoServer, Limits

    args = _parser().parse_args(argv)
    limits = Limits(enabled=not args.no_limits, per_second=args.per_second,
                    per_minute=args.per_minute,
                    endpoint_per_minute={"emails.list": args.emails_per_minute})
    server = DemoServer(size=args.size, seed=args.seed, latency_ms=args.latency_ms,
                        jitter_ms=args.jitter_ms, limits=limits)
    server.start()
    counting = _Counting(server.limiter)
    deadline = time.monotonic() + args.max_seconds
    try:
        _say({"url": server.url, "key": server.key, "pacing": server.client_pacing(),
              "workspace": server.workspace.describe()})
        while time.monotonic() < deadline:
            ready, _, _ = select.select([sys.stdin], [], [], 1.0)
            if not ready:
                continue
            command = sys.stdin.readline().strip()
            if command == "stats":
                _say({**counting.snapshot(), "cpu_s": round(time.process_time(), 3)})
            elif command in ("quit", ""):
                break
    finally:
        server.stop()
    return 0


def _say(payload: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(payload) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    raise SystemExit(child())
