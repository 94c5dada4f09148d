"""Sections 1 and 4: a full ``client.pull`` sweep, cold and then served from the snapshot store.

The cold sweep is logged request by request (:class:`bench.traffic.Recorder`); its floor is
computed from the distinct requests it needed, and the same requests are then sent again the
naive way (one at a time) and walked with the ``instantlyai`` SDK's list iterators. Where a full
naive or SDK walk would not fit the run's budget, a sample of every endpoint's requests is
timed and scaled by the endpoint's request count (the row says so).
"""

from __future__ import annotations

import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from instantly_nb import Client

from . import sdk, traffic
from .floors import Floor, floor
from .server import ServerConfig, ServerProcess
from .table import Row, ratio

__all__ = ["SweepOptions", "run"]

# Pause between two timed runs on one server, so the first run's last second of requests does
# not count against the second run in the server's per-second window.
SETTLE_S = 1.5


@dataclass
class SweepOptions:
    server: ServerConfig
    max_workers: int | None = None  # None: the client's own default
    naive_sample: int | None = None  # requests per endpoint; None: replay them all
    sdk: bool = True
    sdk_pages: int | None = None  # pages per listing; None: walk them all
    deadline_s: float = 1500.0
    notes: list[str] = field(default_factory=list)


def _client(srv: ServerProcess, rec: traffic.Recorder | None, workers: int | None) -> Client:
    extra = {} if workers is None else {"max_workers": workers}
    return Client(api_key=srv.key, base_url=srv.url, progress=False, transport=rec,
                  **extra, **srv.pacing)


def _pull(client: Client, out: Path) -> tuple[float, Any]:
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        summary = client.pull(out)
    failed = [str(w.message) for w in caught if "failed" in str(w.message)]
    return time.perf_counter() - t0, (summary, failed)


def sweep_floor(calls: list[traffic.Call], cfg: ServerConfig) -> Floor:
    """The floor of the requests a sweep needed, under the server's enforced limits."""
    need = traffic.needed(calls)
    emails = sum(1 for c in need if c.endpoint == "emails.list")
    longest = max(traffic.chains(need).values(), default=0)
    return floor(len(need), per_second=cfg.per_second, per_minute=cfg.per_minute,
                 endpoint_requests={"emails.list": emails},
                 endpoint_per_minute={"emails.list": cfg.emails_per_minute},
                 chain_pages=longest, round_trip_s=cfg.mean_latency_s)


def run(opts: SweepOptions) -> list[Row]:
    """Time the sweep cold (the package as shipped), naive, SDK, and cached; rows for the table."""
    cfg = opts.server
    rows: list[Row] = []
    with ServerProcess(cfg) as srv, tempfile.TemporaryDirectory(prefix="bench-pull-") as tmp:
        rec = traffic.Recorder()
        client = _client(srv, rec, opts.max_workers)
        before = srv.stats()
        cold, (summary, failed) = _pull(client, Path(tmp) / "pull")
        calls = rec.take()
        after = srv.stats()
        fl = sweep_floor(calls, cfg)
        refused = after["refused"] - before["refused"]
        rows.append(Row("1", f"pull, cold, {cfg.size} workspace, GET /emails "
                        f"{cfg.emails_per_minute}/min ({summary['rows'].sum():,} rows)", cold,
                        len(calls), f"floor {fl.seconds:.1f} s ({fl.binding})",
                        ratio(cold, fl.seconds), "<= 1.3x floor",
                        (ratio(cold, fl.seconds) or 0) <= 1.3,
                        f"{len(traffic.needed(calls)):,} needed; server 429s: {refused}; "
                        f"steps failed: {len(failed)}; max_workers={client.max_workers}"))
        opts.notes.append(f"Sweep floor: {fl.describe()}.")
        rows.append(Row("1", "no 429 reaches the user", None, None,
                        f"{refused} 429s answered by the server, all retried", None,
                        "0 failed steps", not failed, "; ".join(failed)[:200]))
        rows += _cached(srv, client, Path(tmp) / "pull", cold)
        client.close()
        need = traffic.needed(calls)
        time.sleep(SETTLE_S)
        rows.append(_naive(srv, need, cfg, opts, cold))
        if opts.sdk:
            rows.append(_sdk(srv, need, opts, cold))
    return rows


def _cached(srv: ServerProcess, client: Client, out: Path, cold: float) -> list[Row]:
    rows = []
    for label, fresh in (("same client", False), ("new client, same store", True)):
        probe = _client(srv, None, client.max_workers) if fresh else client
        seen, sent = srv.stats()["requests"], probe.requests_sent
        t0 = time.perf_counter()
        probe.pull(out)
        seconds = time.perf_counter() - t0
        http = srv.stats()["requests"] - seen
        sent = probe.requests_sent - sent
        rows.append(Row("4", f"pull again from the snapshot store ({label})", seconds, sent,
                        f"cold {cold:.1f} s", cold / seconds, ">= 50x faster, 0 requests",
                        cold / seconds >= 50 and http == 0,
                        f"server saw {http} requests"))
        if fresh:
            probe.close()
    return rows


def _naive(srv: ServerProcess, need: list[traffic.Call], cfg: ServerConfig,
           opts: SweepOptions, cold: float) -> Row:
    limits = {"emails.list": float(cfg.emails_per_minute)}
    if opts.naive_sample is None:
        done = traffic.replay(srv.url, srv.key, need, deadline_s=opts.deadline_s)
        seconds, how = done.total, f"all {len(need):,} requests replayed"
    else:
        picked = traffic.sample(need, opts.naive_sample)
        done = traffic.replay(srv.url, srv.key, picked, deadline_s=opts.deadline_s)
        seconds = traffic.estimate_sequential(need, done, limits)
        how = (f"estimated: {len(picked)} sampled requests ({done.total:.0f} s) scaled per "
               "endpoint")
    return Row("1", "naive loop, one request at a time, same pages", seconds, len(need),
               "pull, cold", seconds / cold, "pull >= 5x faster", seconds / cold >= 5, how)


def _sdk(srv: ServerProcess, need: list[traffic.Call], opts: SweepOptions, cold: float) -> Row:
    ok, version = sdk.ensure()
    if not ok:
        return Row("1", "instantlyai SDK list iterators", None, None, "", None, "", None, version)
    pages: dict[str, int] = {}
    for c in need:
        if c.endpoint in sdk.LISTINGS:
            pages[c.endpoint] = pages.get(c.endpoint, 0) + 1
    walk = {n: (p if opts.sdk_pages is None else min(p, opts.sdk_pages)) for n, p in pages.items()}
    result = sdk.walk(srv.url, srv.key, walk, deadline_s=opts.deadline_s)
    total, errors, walked = 0.0, [], 0
    for name, n in pages.items():
        got = result["listings"].get(name, {})
        if "error" in got or not got:
            errors.append(f"{name}: {got.get('error', 'not walked')}")
            continue
        walked += got["pages"]
        total += n * got["seconds"] / max(1, got["pages"])
    listed = sum(pages.values())
    how = (f"instantlyai {result.get('version')}; listings only ({listed:,} of {len(need):,} "
           "requests), so the ratio is a lower bound; "
           + ("walked in full" if opts.sdk_pages is None else f"estimated from {walked:,} pages"))
    if errors:
        how += "; failed: " + "; ".join(errors)[:300]
    return Row("1", "instantlyai SDK list iterators, same listings", total, listed, "pull, cold",
               total / cold, "", None, how)
