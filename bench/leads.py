"""Section 2: every lead of a workspace through ``POST /leads/list``, one chain against many.

* One cursor chain: each page needs the previous page's cursor, so N pages take N round trips
  whatever the rate limit allows. At 150 ms that is ~25 minutes for a million leads, so the
  chain is timed over its first ``chain_pages`` pages and its per-page time scaled to the
  whole listing (the row says so).
* ``client.fetch("leads.list")`` on a fresh ``Client`` with default settings, as a user calls
  it: the package splits the unfiltered listing into partitioned chains (one per campaign, one
  per lead list, one for leads in neither) walked in parallel on the client's pool, bound by the
  workspace rate limit instead. The time includes the campaign and list listings it needs.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass

from instantly_nb import Client, frames
from instantly_nb.endpoints import ENDPOINTS
from instantly_nb.paginate import iter_pages

from . import traffic
from .floors import floor
from .server import ServerConfig, ServerProcess
from .table import Row, ratio

__all__ = ["LeadsOptions", "run"]


@dataclass
class LeadsOptions:
    server: ServerConfig
    chain_pages: int = 300
    workers: tuple[int | None, ...] = (None,)  # None: the client's default


def _client(srv: ServerProcess, rec: traffic.Recorder, workers: int | None) -> Client:
    extra = {} if workers is None else {"max_workers": workers}
    return Client(api_key=srv.key, base_url=srv.url, progress=False, transport=rec,
                  **extra, **srv.pacing)


def run(opts: LeadsOptions) -> list[Row]:
    cfg = opts.server
    rows: list[Row] = []
    with ServerProcess(cfg) as srv:
        n_leads = int(srv.workspace["leads"])
        pages_all = -(-n_leads // 100)
        per_page = _chain(srv, cfg, opts, rows, pages_all)
        for workers in opts.workers:
            rows.append(_partitioned(srv, cfg, workers, n_leads, pages_all * per_page))
    return rows


def _chain(srv: ServerProcess, cfg: ServerConfig, opts: LeadsOptions, rows: list[Row],
           pages_all: int) -> float:
    rec = traffic.Recorder()
    with _client(srv, rec, 1) as client:
        endpoint = ENDPOINTS["leads.list"]
        t0 = time.perf_counter()
        bodies = list(itertools.islice(iter_pages(client._requester.send, endpoint),
                                       opts.chain_pages))
        frame = frames.from_bodies("leads.list", bodies)
        seconds = time.perf_counter() - t0
    walked = len(bodies)
    per_page = seconds / max(1, walked)
    fl = floor(walked, per_second=cfg.per_second, per_minute=cfg.per_minute,
               chain_pages=walked, round_trip_s=cfg.mean_latency_s)
    rows.append(Row("2", f"leads, one cursor chain, first {frame.height:,} leads", seconds,
                    walked, f"floor {fl.seconds:.1f} s ({fl.binding})", ratio(seconds, fl.seconds),
                    "", None, f"{per_page * 1000:.0f} ms a page"))
    if walked < pages_all:
        rows.append(Row("2", f"leads, one cursor chain, all {pages_all:,} pages (projected)",
                        pages_all * per_page, pages_all,
                        f"chain floor {pages_all * cfg.mean_latency_s:.0f} s", None, "", None,
                        f"{walked} pages timed x {pages_all / walked:.1f}"))
    return per_page


def _partitioned(srv: ServerProcess, cfg: ServerConfig, workers: int | None, n_leads: int,
                 one_chain_s: float) -> Row:
    time.sleep(1.5)  # the previous run's last second must not count against this one
    rec = traffic.Recorder()
    before = srv.stats()["refused"]
    t0 = time.perf_counter()
    with _client(srv, rec, workers) as client:
        frame = client.fetch("leads.list")
        seconds = time.perf_counter() - t0
        used = client.max_workers
    refused = srv.stats()["refused"] - before
    calls = rec.take()
    need = traffic.needed(calls)
    longest = max(traffic.chains(need).values(), default=0)
    fl = floor(len(need), per_second=cfg.per_second, per_minute=cfg.per_minute,
               chain_pages=longest, round_trip_s=cfg.mean_latency_s)
    complete = frame.height == n_leads and frame["id"].n_unique() == n_leads
    label = "default settings" if workers is None else f"max_workers={workers}"
    return Row("2", f"every lead, fresh Client, {label} ({len(traffic.chains(need))} "
               f"partitioned chains, max_workers={used})", seconds, len(calls),
               f"floor {fl.seconds:.1f} s ({fl.binding})", ratio(seconds, fl.seconds),
               "<= 1.3x floor", (ratio(seconds, fl.seconds) or 0) <= 1.3,
               f"{frame.height:,} leads (complete: {complete}); {one_chain_s / seconds:.1f}x "
               f"faster than one chain; {len(need) / seconds:.0f} req/s; server 429s: {refused}")
