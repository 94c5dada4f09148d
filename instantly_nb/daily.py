"""Daily analytics kept per day in the snapshot store, so a re-run fetches only the days it lacks.

A daily frame (one row per day, or per account or campaign and day) is stored with, for every
day it covers, the time that day was fetched (``Store.put_days``). A later fetch of any window
reuses a stored day when either

* it was fetched within the store's TTL (a notebook re-run), or
* it was fetched at least ``lookback_days`` days after the day itself: the API corrects daily
  figures after the fact (late opens, replies, bounces), so the most recent days are never taken
  as final -- by default the last 7 days are fetched again (``Store(lookback_days=...)``).

and fetches the days that remain -- the span from the first to the last of them, in the requests
the API allows -- replacing whatever the store held for those days (a corrected day replaces the
stored one; a day that now has no rows loses its old rows). Days are UTC days, as the API counts
them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

import polars as pl

from .endpoint_facts import DAILY
from .store import Store

__all__ = ["LOOKBACK_DAYS", "day_of", "window_of", "stale_days", "merge", "fetch_days"]

LOOKBACK_DAYS = 7
_DAY_S = 86_400.0


def day_of(value: Any) -> dt.date | None:
    """The day of a date, datetime or ISO text (its first ten characters); None otherwise."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def window_of(params: Mapping[str, Any]) -> tuple[dt.date, dt.date] | None:
    """The (start, end) days of a call, or None when it does not name both."""
    start, end = day_of(params.get("start_date")), day_of(params.get("end_date"))
    if start is None or end is None or end < start:
        return None
    return start, end


def stale_days(start: dt.date, end: dt.date, held: Mapping[dt.date, float], now: float,
               ttl: float, lookback_days: int) -> list[dt.date]:
    """Days of the window to fetch: not held, or held but neither fresh nor final."""
    out = []
    day = start
    while day <= end:
        at = held.get(day)
        midnight = dt.datetime.combine(day, dt.time(), dt.UTC).timestamp()
        final = at is not None and at >= midnight + (lookback_days + 1) * _DAY_S
        fresh = at is not None and now - at <= ttl
        if not (final or fresh):
            out.append(day)
        day += dt.timedelta(days=1)
    return out


def merge(old: pl.DataFrame | None, fresh: pl.DataFrame, column: str, first: dt.date,
          last: dt.date) -> pl.DataFrame:
    """Stored rows outside ``first..last`` plus the freshly fetched rows of that span."""
    if old is None or old.is_empty():
        return fresh
    keep = old.filter(~pl.col(column).is_between(first, last))
    return pl.concat([keep, fresh], how="diagonal_relaxed")


def fetch_days(store: Store, workspace: str, name: str, params: Mapping[str, Any],
               fetch: Callable[[dict[str, Any]], pl.DataFrame]) -> pl.DataFrame:
    """The rows of ``params``' window, fetching only the days the store cannot serve.

    ``fetch(params)`` fetches a call from the API (no store); ``params`` name the window.
    """
    column = DAILY[name]
    start, end = window_of(params)  # type: ignore[misc]  # callers check window_of first
    key = {k: v for k, v in params.items() if k not in ("start_date", "end_date")}
    old, held = store.get_days(workspace, name, key)
    if old is not None and column not in old.columns:
        old, held = None, {}
    todo = stale_days(start, end, held, store.now(), store.ttl, store.lookback_days)
    rows = old
    if todo:
        first, last = todo[0], todo[-1]
        fetched_at = store.now()
        fresh = fetch({**params, "start_date": first, "end_date": last})
        rows = merge(old, fresh, column, first, last)
        span = (last - first).days + 1
        held = {**held, **{first + dt.timedelta(days=i): fetched_at for i in range(span)}}
        store.put_days(workspace, name, key, rows, held)
    assert rows is not None
    window = rows.filter(pl.col(column).is_between(start, end))
    by = [c for c in window.columns if c.endswith("_id") and c in key] + [column]
    return window.sort(by, maintain_order=True)
