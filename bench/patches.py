"""Package changes the benchmark proposes, applied as temporary monkeypatches to measure them.

Each patch mirrors a change written out in bench/RESULTS.md ("Proposed package changes"); the
package itself is not edited here. ``with applied("partition_leads", "workspace_once"): ...``
patches for the duration of the block only.

* ``partition_leads`` -- an unfiltered ``leads.list`` is split into independent cursor chains, one
  per campaign, one per lead list and one for leads in neither, fetched on the client's pool and
  de-duplicated by id. One chain of N pages can never take less than N round trips; the
  partitions overlap theirs under the one throttle.
* ``workspace_once`` -- ``Client.workspace_id`` asks ``GET /workspaces/current`` once even when
  several pull steps need it at the same moment.
* ``smooth_pacing`` -- the throttle spaces requests evenly (one every ``1 / rate`` seconds)
  instead of letting a window's worth leave at once; bursts reordered on the way are what the
  server answers with 429.
* ``chains_first`` -- ``smooth_pacing``, and a waiting page of a cursor chain takes the next slot
  before requests of a fan-out: a chain is latency-bound, a fan-out throughput-bound.
* ``gc_paused`` -- the cyclic garbage collector is paused while a fetch runs (restored after).
* ``workspace_remembered`` -- the snapshot store remembers which workspace a key opens (under a
  salted hash of key and URL), so a new client reruns from the store with no request at all.
"""

from __future__ import annotations

import contextvars
import gc
import hashlib
import json
import secrets
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import Any

import polars as pl

from instantly_nb import client as client_module
from instantly_nb.client import Client
from instantly_nb.throttle import Throttle

__all__ = ["PATCHES", "applied", "lead_partitions"]

FILTERS_OF_LEADS = frozenset({"campaign", "list_id", "in_campaign", "in_list", "ids", "search",
                              "filter", "contacts", "excluded_ids", "queries", "starting_after",
                              "distinct_contacts", "smart_view_id", "organization_user_ids",
                              "enrichment_status", "esg_code", "is_website_visitor", "limit"})


# Requests that may leave back to back to catch up when their threads woke late (a GCRA
# tolerance). 1 gave ~5 % more throughput but ~0.5 % of requests refused with 429; 0 is kinder.
CATCH_UP = 0
_BULK: contextvars.ContextVar[bool] = contextvars.ContextVar("bench_bulk", default=False)


def lead_partitions(campaign_ids: Sequence[str], list_ids: Sequence[str]) -> list[dict[str, Any]]:
    """Parameter sets whose listings together hold every lead exactly once."""
    parts: list[dict[str, Any]] = [{"campaign": c} for c in campaign_ids]
    parts += [{"list_id": lst} for lst in list_ids]
    parts.append({"in_campaign": False, "in_list": False})
    return parts


def _ids(client: Client, name: str) -> list[str]:
    frame = client.fetch(name)
    return frame["id"].drop_nulls().to_list() if "id" in frame.columns else []


@contextmanager
def _partition_leads() -> Iterator[None]:
    plan, run = Client._plan, Client._run

    def _plan(self: Client, endpoint: Any, params: Any) -> Any:
        if endpoint.name != "leads.list" or any(
                params.get(k) is not None for k in FILTERS_OF_LEADS):
            return plan(self, endpoint, params)
        parts = []
        for p in lead_partitions(_ids(self, "campaigns.list"), _ids(self, "lead_lists.list")):
            parts += plan(self, endpoint, {**params, **p})
        return parts

    def _run(self: Client, name: str, endpoint: Any, parts: Any, max_pages: Any) -> pl.DataFrame:
        frame = run(self, name, endpoint, parts, max_pages)
        if name == "leads.list" and len(parts) > 1 and "id" in frame.columns:
            frame = frame.unique(subset=["id"], keep="first", maintain_order=True)
        return frame

    Client._plan, Client._run = _plan, _run  # type: ignore[method-assign]
    try:
        yield
    finally:
        Client._plan, Client._run = plan, run  # type: ignore[method-assign]


@contextmanager
def _workspace_once() -> Iterator[None]:
    original = Client.workspace_id
    lock = threading.Lock()

    def workspace_id(self: Client) -> str:
        with lock:
            return original(self)

    Client.workspace_id = workspace_id  # type: ignore[method-assign]
    try:
        yield
    finally:
        Client.workspace_id = original  # type: ignore[method-assign]


def _paced_acquire(priority: bool) -> Callable[..., None]:
    """``Throttle.acquire`` that spaces requests evenly and, with ``priority``, lets a waiting
    request of a cursor chain go before requests of a fan-out."""

    def acquire(self: Throttle, endpoint: str | None = None) -> None:
        own = self._per_endpoint.get(endpoint or "", [])
        spacing = max((g.window.seconds / g.window.limit for g in self._global), default=0.0)
        bulk = priority and _BULK.get()
        queued = False
        try:
            while True:
                with self._lock:
                    now = self._clock()
                    mine = max((log.wait(now) for log in own), default=0.0)
                    due = getattr(self, "_next_at", 0.0) - CATCH_UP * spacing
                    wait = max([mine, due - now] + [log.wait(now) for log in self._global])
                    if wait <= 0 and bulk and getattr(self, "_chains_waiting", 0):
                        wait = spacing  # this slot goes to the chain that waits for it
                    if wait <= 0:
                        for log in (*self._global, *own):
                            log.stamps.append(now)
                        # the schedule, not the (late) wake-up, sets the next slot
                        self._next_at = max(getattr(self, "_next_at", 0.0), now) + spacing  # type: ignore[attr-defined]
                        return
                    if priority and not bulk and mine <= 0 and not queued:
                        queued = True
                        self._chains_waiting = getattr(self, "_chains_waiting", 0) + 1  # type: ignore[attr-defined]
                self.waited += wait
                self._sleep(wait)
        finally:
            if queued:
                with self._lock:
                    self._chains_waiting -= 1  # type: ignore[attr-defined]

    return acquire


@contextmanager
def _pacing(priority: bool) -> Iterator[None]:
    original, parts = Throttle.acquire, client_module.run_parts

    def run_parts(fn: Callable[[Any], Any], items: Sequence[Any], **kwargs: Any) -> Any:
        if len(items) <= 1:
            return parts(fn, items, **kwargs)

        def part(item: Any) -> Any:
            token = _BULK.set(True)
            try:
                return fn(item)
            finally:
                _BULK.reset(token)

        return parts(part, items, **kwargs)

    Throttle.acquire = _paced_acquire(priority)  # type: ignore[method-assign]
    if priority:
        client_module.run_parts = run_parts  # type: ignore[assignment]
    try:
        yield
    finally:
        Throttle.acquire = original  # type: ignore[method-assign]
        client_module.run_parts = parts  # type: ignore[assignment]


@contextmanager
def _workspace_remembered() -> Iterator[None]:
    """The store remembers which workspace a key opens, under a salted hash of key and URL, so
    a new client (a restarted kernel) serves a rerun from the store with no request at all."""
    original = Client.workspace_id

    def workspace_id(self: Client) -> str:
        if self._workspace_id is not None or self.store is None:
            return original(self)
        book = self.store.root / "workspaces.json"
        known = json.loads(book.read_text()) if book.exists() else {}
        salt = known.setdefault("_salt", secrets.token_hex(16))
        secret = self._requester._http.headers.get("Authorization", "")
        tag = hashlib.sha256(f"{salt}|{self.base_url}|{secret}".encode()).hexdigest()[:32]
        if tag in known:
            self._workspace_id = str(known[tag])
            return self._workspace_id
        found = original(self)
        known[tag] = found
        book.parent.mkdir(parents=True, exist_ok=True)
        book.write_text(json.dumps(known))
        return found

    Client.workspace_id = workspace_id  # type: ignore[method-assign]
    try:
        yield
    finally:
        Client.workspace_id = original  # type: ignore[method-assign]


class _GcPause:
    """Re-entrant, thread-safe pause of the cyclic garbage collector (restored on the last exit)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.depth = 0
        self.was_enabled = True

    def __enter__(self) -> None:
        with self.lock:
            if self.depth == 0:
                self.was_enabled = gc.isenabled()
                gc.disable()
            self.depth += 1

    def __exit__(self, *exc: object) -> None:
        with self.lock:
            self.depth -= 1
            if self.depth == 0 and self.was_enabled:
                gc.enable()


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Python's cyclic garbage collector is paused while a fetch runs: every decoded page adds
    ~5,000 tracked objects and each full collection walks all pages so far (decoding a million
    leads: 18 s with the collector on, 6 s with it paused)."""
    original = Client.fetch
    pause = _GcPause()

    def fetch(self: Client, *args: Any, **kwargs: Any) -> Any:
        with pause:
            return original(self, *args, **kwargs)

    Client.fetch = fetch  # type: ignore[method-assign]
    try:
        yield
    finally:
        Client.fetch = original  # type: ignore[method-assign]


PATCHES: dict[str, Callable[[], Any]] = {
    "partition_leads": _partition_leads,
    "workspace_once": _workspace_once,
    "smooth_pacing": lambda: _pacing(priority=False),
    "chains_first": lambda: _pacing(priority=True),
    "workspace_remembered": _workspace_remembered,
    "gc_paused": _gc_paused,
}


@contextmanager
def applied(*names: str) -> Iterator[None]:
    """Apply the named patches for the duration of the block."""
    unknown = set(names) - set(PATCHES)
    if unknown:
        raise ValueError(f"unknown patches {sorted(unknown)}; choose from {sorted(PATCHES)}")
    with ExitStack() as stack:
        for name in names:
            stack.enter_context(PATCHES[name]())
        yield
