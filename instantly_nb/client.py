"""``Client``: every read endpoint of the Instantly API V2 as a polars DataFrame.

>>> from instantly_nb import Client
>>> with Client.demo() as client:                       # no key, no network
...     campaigns = client.campaigns.list()
...     steps = client.campaigns.analytics_steps(campaign_id=campaigns["id"].to_list())

``client.fetch(name, **params)`` is the generic form; ``client.<resource>.<verb>(**params)`` are
thin named methods over the same entries of :data:`instantly_nb.ENDPOINTS`. Behind both:

* parameters are validated against the table before anything is sent;
* listings are walked completely (cursor or offset), ``limit`` at its maximum;
* a request that needs more than the API allows is split: array parameters longer than their
  ``maxItems`` are batched (warmup analytics: 100 e-mails a request; account daily analytics:
  200 e-mails and 31 days), and a list given for a single-valued parameter (``campaign_id=[...]``)
  fans out into one request per value, with that value added as a column;
* the parts run on a bounded thread pool under the client's one throttle;
* frames can be kept in a parquet snapshot store (``cache=``) and re-served with no HTTP.

Splitting and running a call is :mod:`instantly_nb.parts`; key, address and pacing come from
:mod:`instantly_nb.settings`; what the client does per endpoint beyond the OpenAPI document
(views, window limits, fan-out columns, history, incremental refresh) is declared in
:mod:`instantly_nb.endpoint_facts`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from typing import Any

import polars as pl

from . import daily, frames, leadwalk, parts, rawpages, settings
from .endpoint_facts import DAILY, EVERY_ACCOUNT, HISTORY, INCREMENTAL, VIEWS, entry_of, names
from .endpoints import ENDPOINTS
from .errors import ConfigurationError, ParameterError, UnknownEndpointError
from .fanout import progress_enabled
from .http import Requester, RetryPolicy
from .paginate import iter_pages
from .params import prepare
from .parts import Part
from .pull import pull as pull_workspace
from .resources import Resource, attach_resources
from .scope import current_store
from .spec import Endpoint
from .store import DEFAULT_TTL, Store
from .throttle import workers_for

__all__ = ["Client", "connect"]


class Client:
    """A read-only client of one Instantly workspace.

    Parameters
    ----------
    api_key : str, optional
        A V2 API key; ``INSTANTLY_API_KEY`` when omitted. The scope ``all:read`` is enough.
    base_url : str, optional
        ``INSTANTLY_BASE_URL`` or ``https://api.instantly.ai`` when omitted.
    cache : path or Store, optional
        Keep fetched frames as parquet snapshots there; re-runs are served with no HTTP.
    cache_ttl : float
        Seconds a snapshot stays fresh.
    progress : bool, optional
        Progress bars for long fetches; by default only when the output is interactive.
    rate_per_second, rate_per_minute : int
        Client-side pacing of the whole workspace (the API allows 100/s and 6,000/min; the
        default keeps a little headroom).
    endpoint_per_minute : mapping
        Stricter per-endpoint limits, ``{"emails.list": 19}`` by default (the API allows 20).
    max_workers : int, optional
        Size of the thread pool for fan-out. By default it follows Little's law: the requests a
        second the throttle allows times the measured round trip (twice, for the spread), 4 to
        64 -- 29 at 95 requests a second and 150 ms.
    timeout : float
        Seconds per request.
    retry : RetryPolicy
        Attempts and backoff for retryable failures.
    transport : httpx.BaseTransport, optional
        For tests (``httpx.MockTransport``).
    """

    # One namespace per resource, attached from the table in __init__ (declared for type checkers).
    account_campaign_mappings: Resource
    accounts: Resource
    api_keys: Resource
    audit_logs: Resource
    background_jobs: Resource
    block_list_entries: Resource
    campaigns: Resource
    crm_actions: Resource
    custom_tag_mappings: Resource
    custom_tags: Resource
    dfy_orders: Resource
    email_verification: Resource
    emails: Resource
    inbox_placement_analytics: Resource
    inbox_placement_reports: Resource
    inbox_placement_tests: Resource
    lead_labels: Resource
    lead_lists: Resource
    leads: Resource
    oauth: Resource
    subsequences: Resource
    supersearch: Resource
    webhook_events: Resource
    webhooks: Resource
    workspace_billing: Resource
    workspace_group_members: Resource
    workspace_members: Resource
    workspaces: Resource

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        cache: str | os.PathLike[str] | Store | None = None,
        cache_ttl: float = DEFAULT_TTL,
        progress: bool | None = None,
        rate_per_second: int | None = None,
        rate_per_minute: int | None = None,
        endpoint_per_minute: Mapping[str, int] | None = None,
        max_workers: int | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        transport: Any = None,
        sleep: Callable[[float], None] | None = None,
    ):
        key = settings.api_key(api_key)
        url = settings.base_url(base_url)
        # ``sleep`` (for tests) replaces the waits between retries; pacing always waits in
        # real time, its clock being real. Both waits wake up at once when the task they serve
        # is cancelled (see instantly_nb.scope).
        self.throttle = settings.make_throttle(rate_per_second, rate_per_minute,
                                               endpoint_per_minute)
        kwargs: dict[str, Any] = {} if sleep is None else {"sleep": sleep}
        self._requester = Requester(
            api_key=key, base_url=url, endpoints=ENDPOINTS, throttle=self.throttle,
            retry=retry or RetryPolicy(), timeout=timeout, transport=transport,
            max_connections=max(64, (max_workers or 0) * 2), **kwargs,
        )
        self.base_url = url
        self._max_workers = max_workers
        self.progress = progress
        self.store = cache if isinstance(cache, Store) or cache is None else Store(cache, cache_ttl)
        self._workspace_id: str | None = None
        self._workspace_lock = threading.Lock()
        self._closers: list[Callable[[], None]] = []
        self.demo_server: Any = None  # set by Client.demo()
        attach_resources(self)

    # -- lifecycle ------------------------------------------------------------------------
    def __repr__(self) -> str:
        store = f", cache={str(self.store.root)!r}" if self.store else ""
        return f"Client(base_url={self.base_url!r}, api_key=<hidden>{store})"

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP connections (and a demo server this client started)."""
        self._requester.close()
        while self._closers:
            self._closers.pop()()

    @property
    def max_workers(self) -> int:
        """Threads of the fan-out pool (see the ``max_workers`` parameter)."""
        if self._max_workers is not None:
            return self._max_workers
        return workers_for(self.throttle.rate(), self._requester.latency)

    @max_workers.setter
    def max_workers(self, value: int | None) -> None:
        self._max_workers = value

    @property
    def requests_sent(self) -> int:
        """HTTP requests sent so far (every retry attempt counts)."""
        return self._requester.requests_sent

    @classmethod
    def demo(cls, *, size: str = "default", seed: int = 7, speedup: float = 50.0,
             latency_ms: float = 0.0, jitter_ms: float = 0.0, faults: Any = None,
             quirks: Any = None, **client_kwargs: Any) -> Client:
        """A client of the embedded demo workspace, served on 127.0.0.1 from a background thread.

        The server enforces the documented rate limits multiplied by ``speedup`` (so a notebook
        never waits minutes on the 20/minute e-mail limit), and the client paces itself to match
        through its ordinary throttle settings. Closing the client stops the server.

        ``quirks="live"`` makes the server answer in the shapes the live API really sends
        (:mod:`instantly_nb.demo.quirks`); by default ``INSTANTLY_NB_DEMO_QUIRKS`` decides, and
        without it the answers follow the OpenAPI document (``"strict"``).
        """
        from .demo import DEMO_KEY, DemoServer, Faults, Limits

        server = DemoServer(size=size, seed=seed, latency_ms=latency_ms, jitter_ms=jitter_ms,
                            faults=faults or Faults(), limits=Limits(), speedup=speedup,
                            quirks=quirks)
        server.start()
        pacing = server.client_pacing()
        client_kwargs = {**pacing, **client_kwargs}
        try:
            client = cls(api_key=DEMO_KEY, base_url=server.url, **client_kwargs)
        except BaseException:
            server.stop()
            raise
        client.demo_server = server
        client._closers.append(server.stop)
        return client

    # -- the generic entry point ----------------------------------------------------------
    def endpoint(self, name: str) -> Endpoint:
        """The table entry behind ``name`` (an ENDPOINTS key or a view)."""
        entry = ENDPOINTS.get(entry_of(name))
        if entry is None:
            close = sorted(n for n in names() if n.split(".")[0] == name.split(".")[0])
            raise UnknownEndpointError(
                f"No endpoint named {name!r}. "
                + (f"Known names for this resource: {', '.join(close)}." if close
                   else "See instantly_nb.ENDPOINTS for every name.")
            )
        return entry

    def fetch(self, name: str, *, refresh: bool = False, max_pages: int | None = None,
              **params: Any) -> pl.DataFrame:
        """Fetch one endpoint (or view) as a DataFrame with its declared schema.

        Parameters
        ----------
        name : str
            ``"<resource>.<verb>"``, e.g. ``"campaigns.analytics_steps"``.
        refresh : bool
            Bypass the snapshot store and fetch again.
        max_pages : int, optional
            Guard against runaway listings (raises PaginationError when exceeded).
        **params
            Path, query and body parameters by name, as Python values.
        """
        # the pages of a large fetch add millions of objects the cyclic collector would walk
        # again and again; nothing they hold is cyclic (it runs again when the fetch is done)
        with rawpages.gc_paused():
            return self._fetch(name, refresh, max_pages, params)

    def _fetch(self, name: str, refresh: bool, max_pages: int | None,
               params: dict[str, Any]) -> pl.DataFrame:
        endpoint = self.endpoint(name)
        params = self._fill_defaults(endpoint, params)
        cache_key = {k: v for k, v in sorted(params.items()) if v is not None}
        store: Store | None = current_store(self.store)  # a pull's own store, else the client's
        if store is not None and not refresh and name in DAILY \
                and daily.window_of(cache_key) is not None:
            return daily.fetch_days(store, self.workspace_id(), name, cache_key, lambda p: self._run(
                name, endpoint, self._plan(endpoint, p), max_pages))
        planned = self._plan(endpoint, params)
        if store is not None and not refresh:
            hit = store.get(self.workspace_id(), name, cache_key, ttl=store.ttl)
            if hit is not None:
                return hit.frame
            stale = store.get(self.workspace_id(), name, cache_key, ttl=None)
            if stale is not None and name in INCREMENTAL:
                frame = self._incremental(name, endpoint, planned, stale.frame, max_pages)
                self._remember(store, name, cache_key, frame)
                return frame
        frame = self._run(name, endpoint, planned, max_pages)
        if store is not None:
            self._remember(store, name, cache_key, frame)
        return frame

    def peek(self, name: str, *, pages: int = 1, **params: Any) -> tuple[pl.DataFrame, bool]:
        """The first ``pages`` pages of a listing, and whether the listing goes on.

        For a quick look at a large listing: unlike :meth:`fetch`, the frame may be partial, and
        the second value says so (True when the last page read was full and carried a cursor).
        Not cached. Entries without paging are fetched whole.
        """
        if pages < 1:
            raise ParameterError(f"pages must be at least 1, got {pages}.")
        endpoint = self.endpoint(name)
        if endpoint.pagination == "none" or name in VIEWS:
            return self.fetch(name, refresh=True, **params), False
        prepared = prepare(endpoint, params)
        bodies: list[Any] = []
        walk = iter_pages(self._requester.send, endpoint, path_params=prepared.path,
                          query=prepared.query, body=prepared.body, max_pages=pages + 1)
        for body in walk:
            bodies.append(body)
            if len(bodies) == pages:
                break
        # more pages exist when the walk would go on (a full page with a cursor); asking for
        # the next page to be sure would cost a request of the workspace's budget
        last = bodies[-1] if bodies else None
        if endpoint.pagination == "offset":
            more = len(frames.records(endpoint, last)) >= (endpoint.page_limit or 100)
        else:
            more = isinstance(last, dict) and bool(last.get("items")) and bool(last.get("next_starting_after"))
        return frames.from_bodies(name, bodies), more

    # -- planning and execution (see instantly_nb.parts) ---------------------------------
    def _fill_defaults(self, endpoint: Endpoint, params: dict[str, Any]) -> dict[str, Any]:
        """Analytics over accounts default to every account of the workspace."""
        if endpoint.name in EVERY_ACCOUNT:
            if params.get("emails") is None:
                accounts = self.fetch("accounts.list")
                emails = accounts["email"].to_list() if "email" in accounts.columns else []
                params = {**params, "emails": emails}
        return params

    def _plan(self, endpoint: Endpoint, params: Mapping[str, Any]) -> list[Part]:
        if endpoint.name == leadwalk.ENDPOINT:
            chains = leadwalk.partitions(params, self._ids)
            if chains is not None:
                return [p for chain in chains for p in parts.plan(endpoint, chain)]
        return parts.plan(endpoint, params)

    def _ids(self, listing: str) -> list[str]:
        frame = self.fetch(listing)
        return frame["id"].drop_nulls().to_list() if "id" in frame.columns else []

    def _run(self, name: str, endpoint: Endpoint, planned: list[Part],
             max_pages: int | None) -> pl.DataFrame:
        send = rawpages.raw_sender(self._requester.send, name) if rawpages.eligible(name) \
            else self._requester.send
        out = parts.run(self, send, name, endpoint, planned, max_pages=max_pages,
                        progress=progress_enabled(self.progress))
        return leadwalk.dedupe(out) if name == leadwalk.ENDPOINT and len(planned) > 1 else out

    def _incremental(self, name: str, endpoint: Endpoint, planned: list[Part], old: pl.DataFrame,
                     max_pages: int | None) -> pl.DataFrame:
        """Only what is new: each part resumes after what the stale frame holds of it."""
        column, resume = INCREMENTAL[name].column, INCREMENTAL[name].resume
        if old.is_empty() or column not in old.columns:
            return self._run(name, endpoint, planned, max_pages)
        resumed = []
        for part in planned:
            values = part.prepared.canonical()
            held = leadwalk.rows_of(old, values) if name == leadwalk.ENDPOINT else old
            if held.is_empty():
                resumed.append(part)
                continue
            # a cursor resumes after the last row listed; a timestamp after the latest one
            last = held[column][-1] if resume == "starting_after" else held[column].max()
            resumed.append(Part(prepare(endpoint, {**values, resume: last}), part.columns))
        fresh = self._run(name, endpoint, resumed, max_pages)
        both = pl.concat([old, fresh], how="diagonal_relaxed")
        return leadwalk.dedupe(both, keep="last")

    def _remember(self, store: Store, name: str, key: Mapping[str, Any], frame: pl.DataFrame) -> None:
        ws = self.workspace_id()
        store.put(ws, name, key, frame)
        if name in HISTORY:
            store.append_history(ws, name, frame)

    def workspace_id(self) -> str:
        """The id of the key's workspace: asked once (one request even when several threads
        need it at once), and remembered in the snapshot store, so a new client on the same
        store asks nothing (the store holds a salted hash of key and URL, never the key)."""
        with self._workspace_lock:
            if self._workspace_id is not None:
                return self._workspace_id
            store = current_store(self.store)
            secret = self._requester.authorization
            known = store.known_workspace(self.base_url, secret) if store is not None else None
            if known is None:
                body = self._requester.send(ENDPOINTS["workspaces.current"])
                known = str(body.get("id") or "workspace")
                if store is not None:
                    store.remember_workspace(self.base_url, secret, known)
            self._workspace_id = known
            return known

    def history(self, name: str) -> pl.DataFrame | None:
        """Dated snapshots of point-in-time data (health scores, account states...)."""
        if self.store is None:
            raise ConfigurationError("history needs a snapshot store: Client(cache='path').")
        return self.store.history(self.workspace_id(), name)

    def pull(self, out: str | os.PathLike[str] | None = None, **kwargs: Any) -> pl.DataFrame:
        """Fetch every endpoint worth fetching into the store; see :func:`instantly_nb.pull.pull`."""
        return pull_workspace(self, out, **kwargs)


def connect(*, scheduled: bool = False, demo: bool = False, **kwargs: Any) -> Client:
    """The workspace of ``INSTANTLY_API_KEY`` -- or the embedded demo workspace when no key is set.

    This is what the notebooks call: the same notebook runs on a real workspace when the key is
    in the environment and on the demo workspace (no key, no network) when it is not. A report
    run sets ``INSTANTLY_BASE_URL`` too, so all its notebooks share one server.
    When ``INSTANTLY_NB_CACHE`` names a folder (``instantly-nb report --cache DIR`` sets it for
    its kernels) frames are kept there, so a re-run fetches only what changed.

    ``scheduled=True`` (a notebook run by a scheduler, the ``scheduled`` parameter of every
    ready-made notebook) never falls back to the demo workspace: with no key it raises
    :class:`~instantly_nb.errors.ConfigurationError` naming the variable, so invented numbers
    cannot pass for a workspace's own -- unless ``demo=True`` asks for the demo on purpose.
    """
    if "cache" not in kwargs and os.environ.get(settings.CACHE_ENV):
        kwargs["cache"] = settings.default_cache_dir()
    if os.environ.get(settings.KEY_ENV):
        return Client(**kwargs)
    if scheduled and not demo:
        raise ConfigurationError(
            f"No {settings.KEY_ENV} in the environment of a scheduled run. Set it to the "
            "workspace's API key, or run with demo=True to read the demo workspace on purpose.")
    return Client.demo(**kwargs)
