"""Section 6: a report's data re-fetched the next day on the same snapshot store.

The data calls of the report's notebooks (the ``instantly_nb.views`` loaders and
``notebook_helpers`` functions the notebooks call, with no parameters: every campaign, the
default window) run once on a cold
store, and again "the next day": a new ``Client`` (a new kernel) on the same store, with the
store's clock a day later, so every snapshot is past its TTL. What the second run may reuse:
leads and e-mails already held (only new ones are asked for), daily analytics of days already
final (the last 7 days are fetched again), and nothing else. The rows compare request counts,
the figure the target is about.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from instantly_nb import Client, Store

from .server import ServerConfig, ServerProcess
from .table import Row

__all__ = ["run"]

DAY_S = 86_400.0


def _report_calls(client: Client, today: dt.date) -> list[str]:
    """Every data call of the report's notebooks; the names of calls that failed."""
    from instantly_nb import notebook_helpers as nbh
    from instantly_nb.views import ab, campaigns, deliverability
    from instantly_nb.views.scope import load_scope

    failed: list[str] = []
    scope = load_scope(client, today=today)
    calls: list[tuple[str, Callable[[], Any]]] = [
        ("campaigns", lambda: campaigns.load(scope)),
        ("campaign days", lambda: campaigns.load_daily(scope)),
        ("A/B steps", lambda: ab.load(scope)),
        ("deliverability", lambda: deliverability.load(scope)),
        ("placement", lambda: deliverability.placement_results(scope)),
        ("leads", lambda: nbh.scope_leads(scope)),
        ("e-mails", lambda: nbh.sample_emails(scope)),
        ("lead lists", lambda: nbh.lead_list_table(client)),
    ]
    for name, call in calls:
        try:
            call()
        except Exception as exc:  # noqa: BLE001 - a bench row says what failed
            failed.append(f"{name}: {type(exc).__name__}: {str(exc)[:80]}")
    return failed


def _one_run(srv: ServerProcess, store: Store, today: dt.date) -> tuple[float, int, list[str]]:
    t0 = time.perf_counter()
    with Client(api_key=srv.key, base_url=srv.url, progress=False, cache=store,
                **srv.pacing) as client:
        failed = _report_calls(client, today)
        sent = client.requests_sent
    return time.perf_counter() - t0, sent, failed


def run(server: ServerConfig) -> list[Row]:
    """Cold run, then the next day's run on the same store; their request counts."""
    now = {"t": time.time()}
    today = dt.datetime.fromtimestamp(now["t"], dt.UTC).date()
    with ServerProcess(server) as srv, tempfile.TemporaryDirectory(prefix="bench-incr-") as tmp:
        store = Store(Path(tmp) / "store", clock=lambda: now["t"])
        cold_s, cold_n, cold_failed = _one_run(srv, store, today)
        now["t"] += DAY_S
        again = Store(Path(tmp) / "store", clock=lambda: now["t"])
        next_s, next_n, next_failed = _one_run(srv, again, today + dt.timedelta(days=1))
    share = next_n / cold_n if cold_n else None
    failed = cold_failed + next_failed
    return [
        Row("6", f"report data, cold store ({server.size} workspace)", cold_s, cold_n, "", None,
            "", None, "; ".join(cold_failed)[:200]),
        Row("6", "report data the next day, same store (new client)", next_s, next_n,
            f"cold run {cold_n:,} requests", share, "<= 50 % of the cold run's requests",
            share is not None and share <= 0.5 and not failed,
            f"{share:.0%} of the requests" if share is not None else "; ".join(failed)[:200]),
    ]
