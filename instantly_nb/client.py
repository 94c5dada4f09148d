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
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from . import fallbacks, frames
from .endpoints import ENDPOINTS
from .errors import ConfigurationError, ParameterError, UnknownEndpointError
from .fanout import Progress, fan_out_values, progress_enabled, run_parts
from .http import Requester, RetryPolicy
from .paginate import iter_pages
from .params import Prepared, batch_size, prepare
from .resources import Resource, attach_resources
from .scope import current_store, interruptible_sleep
from .spec import Endpoint
from .store import DEFAULT_TTL, Store
from .throttle import DEFAULT_ENDPOINT_WINDOWS, Throttle, Window

__all__ = ["Client", "VIEWS", "DEFAULT_BASE_URL", "connect"]

DEFAULT_BASE_URL = "https://api.instantly.ai"
KEY_ENV = "INSTANTLY_API_KEY"
URL_ENV = "INSTANTLY_BASE_URL"
# Pacing for clients created without explicit rates, e.g. "rate_per_second=95,emails.list=19"
# (report runs on the demo workspace pass the demo server's relaxed limits to their kernels).
PACING_ENV = "INSTANTLY_NB_PACING"

# Frames shaped differently from the raw entry they come from.
VIEWS: dict[str, str] = {
    "accounts.warmup_daily": "accounts.warmup_analytics",
    "accounts.warmup_summary": "accounts.warmup_analytics",
}
# Longest date window one request may cover (the API answers 413 beyond it).
MAX_WINDOW_DAYS = {"accounts.analytics_daily": 31}
# Column added when a list fans out over a single-valued parameter named ``id``.
ID_COLUMN = {
    "campaigns": "campaign_id",
    "subsequences": "subsequence_id",
    "lead_lists": "list_id",
}
# Point-in-time data the API keeps no history of: each fresh fetch is added to a dated history.
HISTORY = frozenset({"accounts.warmup_summary", "accounts.list", "inbox_placement_tests.list",
                     "inbox_placement_analytics.stats_by_test"})
# Incremental refresh of large listings: (endpoint, column that only grows, how to resume).
INCREMENTAL = {"leads.list": ("id", "starting_after"),
               "emails.list": ("timestamp_created", "min_timestamp_created")}


@dataclass
class _Part:
    prepared: Prepared
    columns: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        shown = {**self.columns, **{k: v for k, v in self.prepared.canonical().items()
                                    if k in ("start_date", "end_date")}}
        return ", ".join(f"{k}={v}" for k, v in shown.items()) or "the request"


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
    max_workers : int
        Size of the thread pool for fan-out.
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
        max_workers: int = 8,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        transport: Any = None,
        sleep: Callable[[float], None] | None = None,
    ):
        key = api_key if api_key is not None else os.environ.get(KEY_ENV)
        if not key or not key.strip():
            raise ConfigurationError(
                "No Instantly API key: pass Client(api_key=...) or set INSTANTLY_API_KEY. Create a "
                "V2 key in the Instantly app under Settings > Integrations > API Keys; the scope "
                "all:read is enough. To try instantly_nb without a key, use Client.demo()."
            )
        url = (base_url or os.environ.get(URL_ENV) or DEFAULT_BASE_URL).rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise ConfigurationError(f"base_url must start with http:// or https://, got {url!r}.")
        env_pacing = parse_pacing(os.environ.get(PACING_ENV, ""))
        rate_per_second = rate_per_second or env_pacing.pop("rate_per_second", 95)
        rate_per_minute = rate_per_minute or env_pacing.pop("rate_per_minute", 5_800)
        env_pacing.pop("rate_per_second", None)
        env_pacing.pop("rate_per_minute", None)
        per_minute = {name: windows[0].limit for name, windows in DEFAULT_ENDPOINT_WINDOWS.items()}
        per_minute.update(env_pacing)
        if endpoint_per_minute is not None:
            per_minute = dict(endpoint_per_minute)
        # ``sleep`` (for tests) replaces the waits between retries; pacing always waits in
        # real time, its clock being real. Both waits wake up at once when the task they serve
        # is cancelled (see instantly_nb.scope).
        kwargs: dict[str, Any] = {} if sleep is None else {"sleep": sleep}
        self.throttle = Throttle(
            (Window(rate_per_second, 1.0), Window(rate_per_minute, 60.0)),
            {name: (Window(n, 60.0),) for name, n in per_minute.items()},
            sleep=interruptible_sleep,
        )
        self._requester = Requester(
            api_key=key.strip(), base_url=url, endpoints=ENDPOINTS, throttle=self.throttle,
            retry=retry or RetryPolicy(), timeout=timeout, transport=transport,
            max_connections=max(32, max_workers * 2), **kwargs,
        )
        self.base_url = url
        self.max_workers = max_workers
        self.progress = progress
        self.store = cache if isinstance(cache, Store) or cache is None else Store(cache, cache_ttl)
        self._workspace_id: str | None = None
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
        entry = ENDPOINTS.get(VIEWS.get(name, name))
        if entry is None:
            close = sorted(n for n in [*ENDPOINTS, *VIEWS] if n.split(".")[0] == name.split(".")[0])
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
        endpoint = self.endpoint(name)
        params = self._fill_defaults(endpoint, params)
        parts = self._plan(endpoint, params)
        cache_key = {k: v for k, v in sorted(params.items()) if v is not None}
        store: Store | None = current_store(self.store)  # a pull's own store, else the client's
        if store is not None and not refresh:
            hit = store.get(self.workspace_id(), name, cache_key, ttl=store.ttl)
            if hit is not None:
                return hit.frame
            stale = store.get(self.workspace_id(), name, cache_key, ttl=None)
            if stale is not None and name in INCREMENTAL and len(parts) == 1:
                frame = self._incremental(name, endpoint, parts[0], stale.frame, max_pages)
                self._remember(store, name, cache_key, frame)
                return frame
        frame = self._run(name, endpoint, parts, max_pages)
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

    # -- planning -------------------------------------------------------------------------
    def _fill_defaults(self, endpoint: Endpoint, params: dict[str, Any]) -> dict[str, Any]:
        """Analytics over accounts default to every account of the workspace."""
        if endpoint.name in ("accounts.warmup_analytics", "accounts.analytics_daily"):
            if params.get("emails") is None:
                accounts = self.fetch("accounts.list")
                emails = accounts["email"].to_list() if "email" in accounts.columns else []
                params = {**params, "emails": emails}
        return params

    def _plan(self, endpoint: Endpoint, params: Mapping[str, Any]) -> list[_Part]:
        """Split one call into the requests the API allows, validating each."""
        known = {p.name for p in endpoint.params}
        if set(params) - known:
            prepare(endpoint, params)  # raises ParameterError naming the unknown parameters
        variants: list[tuple[dict[str, Any], dict[str, Any]]] = [({}, {})]
        for p in endpoint.params:
            value = params.get(p.name)
            if value is None:
                continue
            size = batch_size(endpoint, p)
            if p.type != "array" and isinstance(value, list | tuple):
                column = ID_COLUMN.get(endpoint.resource, "id") if p.name == "id" else p.name
                values = fan_out_values(f"{endpoint.name}: {p.name}", value)
                variants = [({**v, p.name: x}, {**c, column: str(x)}) for v, c in variants
                            for x in values]
            elif size and isinstance(value, list | tuple) and len(value) > size:
                chunks = [list(value[i:i + size]) for i in range(0, len(value), size)]
                variants = [({**v, p.name: ch}, c) for v, c in variants for ch in chunks]
            else:
                variants = [({**v, p.name: value}, c) for v, c in variants]
        if endpoint.name in MAX_WINDOW_DAYS:
            variants = _split_windows(variants, MAX_WINDOW_DAYS[endpoint.name])
        if "emails" in {p.name for p in endpoint.params} and params.get("emails") == []:
            return []  # no accounts: an empty frame, without asking the API for nothing
        return [_Part(prepare(endpoint, v), c) for v, c in variants]

    # -- execution ------------------------------------------------------------------------
    def _run(self, name: str, endpoint: Endpoint, parts: Sequence[_Part],
             max_pages: int | None) -> pl.DataFrame:
        enabled = progress_enabled(self.progress)
        with Progress(enabled, len(parts) if len(parts) > 1 else None, name) as bar:
            def one(part: _Part) -> pl.DataFrame:
                def walk(prepared: Prepared) -> list[Any]:
                    return list(iter_pages(
                        self._requester.send, endpoint, path_params=prepared.path,
                        query=prepared.query, body=prepared.body, max_pages=max_pages,
                        on_page=(lambda _n: bar.update()) if len(parts) == 1 else None,
                    ))

                bodies = fallbacks.fetch_bodies(self, endpoint, part.prepared, walk)
                return _with_columns(frames.from_bodies(name, bodies), part.columns)

            results = run_parts(one, parts, max_workers=self.max_workers,
                                describe=_Part.describe, progress=bar if len(parts) > 1 else None)
        if not results:
            return _with_columns(frames.empty(name), {c: None for c in _columns(parts)})
        out = pl.concat(results, how="diagonal_relaxed") if len(results) > 1 else results[0]
        if name in MAX_WINDOW_DAYS or endpoint.name == "accounts.warmup_analytics":
            out = out.unique(maintain_order=True)
        return out

    def _incremental(self, name: str, endpoint: Endpoint, part: _Part, old: pl.DataFrame,
                     max_pages: int | None) -> pl.DataFrame:
        column, resume = INCREMENTAL[name]
        if old.is_empty() or column not in old.columns:
            return self._run(name, endpoint, [part], max_pages)
        last = old[column].max()
        extra = {resume: last}
        merged = {**part.prepared.canonical(), **extra}
        fresh = self._run(name, endpoint, [_Part(prepare(endpoint, merged), part.columns)], max_pages)
        both = pl.concat([old, fresh], how="diagonal_relaxed")
        return both.unique(subset=["id"], keep="last", maintain_order=True) if "id" in both.columns else both

    def _remember(self, store: Store, name: str, key: Mapping[str, Any], frame: pl.DataFrame) -> None:
        ws = self.workspace_id()
        store.put(ws, name, key, frame)
        if name in HISTORY:
            store.append_history(ws, name, frame)

    def workspace_id(self) -> str:
        """The id of the key's workspace (asked once, then remembered)."""
        if self._workspace_id is None:
            ws = ENDPOINTS["workspaces.current"]
            body = self._requester.send(ws)
            self._workspace_id = str(body.get("id") or "workspace")
        return self._workspace_id

    def history(self, name: str) -> pl.DataFrame | None:
        """Dated snapshots of point-in-time data (health scores, account states...)."""
        if self.store is None:
            raise ConfigurationError("history needs a snapshot store: Client(cache='path').")
        return self.store.history(self.workspace_id(), name)

    def pull(self, out: str | os.PathLike[str] | None = None, **kwargs: Any) -> pl.DataFrame:
        """Fetch every endpoint worth fetching into the store; see :func:`instantly_nb.pull.pull`."""
        from .pull import pull

        return pull(self, out, **kwargs)


def _split_windows(variants: list[tuple[dict[str, Any], dict[str, Any]]],
                   days: int) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    out = []
    for v, c in variants:
        start, end = v.get("start_date"), v.get("end_date")
        if start is None or end is None:
            out.append((v, c))
            continue
        s, e = _as_date(start), _as_date(end)
        while s <= e:
            stop = min(e, s + dt.timedelta(days=days - 1))
            out.append(({**v, "start_date": s, "end_date": stop}, c))
            s = stop + dt.timedelta(days=1)
    return out


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        raise ParameterError(f"{value!r} is not a date (YYYY-MM-DD).") from None


def _columns(parts: Sequence[_Part]) -> list[str]:
    return list(parts[0].columns) if parts else []


def _with_columns(frame: pl.DataFrame, columns: Mapping[str, Any]) -> pl.DataFrame:
    """Add fan-out columns (as String) in front, unless the frame already has them."""
    new = [pl.lit(v, dtype=pl.String).alias(k) for k, v in columns.items() if k not in frame.columns]
    if not new:
        return frame
    names = [e.meta.output_name() for e in new]
    return frame.with_columns(new).select(names + [c for c in frame.columns])


def format_pacing(pacing: Mapping[str, Any]) -> str:
    """``Client.demo``-style pacing settings as the text of ``INSTANTLY_NB_PACING``."""
    parts = [f"{k}={int(pacing[k])}" for k in ("rate_per_second", "rate_per_minute") if k in pacing]
    parts += [f"{name}={int(n)}" for name, n in (pacing.get("endpoint_per_minute") or {}).items()]
    return ",".join(parts)


def parse_pacing(text: str) -> dict[str, int]:
    """The settings of ``INSTANTLY_NB_PACING`` ("rate_per_second=95,emails.list=19")."""
    out: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = part.partition("=")
        try:
            number = int(value)
        except ValueError:
            number = 0
        if not sep or number < 1:
            raise ConfigurationError(
                f"{PACING_ENV} must look like 'rate_per_second=95,rate_per_minute=5800,"
                f"emails.list=19' (positive whole numbers); got {text!r}.")
        out[name.strip()] = number
    return out


def default_cache_dir() -> Path:
    """Where ``instantly-nb pull`` and notebooks keep snapshots unless told otherwise."""
    return Path(os.environ.get("INSTANTLY_NB_CACHE", "~/.cache/instantly_nb")).expanduser()


def connect(**kwargs: Any) -> Client:
    """The workspace of ``INSTANTLY_API_KEY`` -- or the embedded demo workspace when no key is set.

    This is what the notebooks call: the same notebook runs on a real workspace when the key is
    in the environment and on the demo workspace (no key, no network) when it is not. A report
    run sets ``INSTANTLY_BASE_URL`` too, so all its notebooks share one server.
    """
    if os.environ.get(KEY_ENV):
        return Client(**kwargs)
    return Client.demo(**kwargs)
