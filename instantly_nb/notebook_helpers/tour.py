"""Bounded fetches and the workspace tour: every endpoint that needs no input, as a DataFrame.

:func:`fetch_pages` reads at most ``max_pages`` pages of a listing and says whether it stopped
early, so a notebook can take a quick sample of a long listing (the e-mail listing is limited
to 20 pages a minute) without waiting for all of it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from .. import frames as shaping
from ..endpoint_facts import EVERY_ACCOUNT, views_of
from ..endpoints import ENDPOINTS
from ..errors import AuthenticationError, ConfigurationError, InstantlyError
from ..report import table as report_table
from ..report.periods import Window

__all__ = ["FILLED_BY_CLIENT", "SECRET_COLUMNS", "Sample", "Tour", "fetch_for_first",
           "fetch_pages", "hide_secrets", "input_needed", "show_heads", "tour", "tour_names"]

#: Entries whose required input the client fills itself, replaced in the tour by their views.
FILLED_BY_CLIENT = {entry: views_of(entry) for entry in sorted(EVERY_ACCOUNT) if views_of(entry)}
_WINDOW_PARAMS = (("start_date", "end_date"), ("date_from", "date_to"))
#: Columns never shown by the tour: the API may list key material (``api_keys.list``).
SECRET_COLUMNS = frozenset({"key", "api_key", "token", "secret", "password"})
HIDDEN = "[hidden]"


@dataclass
class Sample:
    """Rows of one listing read up to a page budget.

    Attributes
    ----------
    name : str
        Endpoint name.
    frame : pl.DataFrame
        The rows read.
    pages : int
        Pages (requests) read.
    more : bool
        The read stopped at the budget on a full page: more rows may exist.
    """

    name: str
    frame: pl.DataFrame
    pages: int
    more: bool = False


def fetch_pages(client: Any, name: str, *, max_pages: int | None = 1, **params: Any) -> Sample:
    """Read at most ``max_pages`` pages of ``name`` (all of them when None).

    Entries that are not paged, views and ``max_pages=None`` go through ``client.fetch``
    (batching, fan-out and defaults included).
    """
    endpoint = ENDPOINTS.get(name)
    if max_pages is None or endpoint is None or endpoint.pagination == "none":
        before = client.requests_sent
        frame = client.fetch(name, **params)
        return Sample(name, frame, client.requests_sent - before)
    if max_pages < 1:
        raise ValueError(f"max_pages must be at least 1 (or None for every page), got {max_pages}")
    before = client.requests_sent
    frame, more = client.peek(name, pages=max_pages, **params)
    return Sample(name, frame, client.requests_sent - before, more)


def hide_secrets(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with every value of a key-like column (``SECRET_COLUMNS``) replaced."""
    secret = [c for c in frame.columns if c.lower() in SECRET_COLUMNS]
    return frame.with_columns(pl.when(pl.col(c).is_not_null()).then(pl.lit(HIDDEN))
                              .alias(c) for c in secret)


def _needs(name: str) -> list[str]:
    return [p.name for p in ENDPOINTS[name].params if p.required]


def tour_names() -> list[str]:
    """ENDPOINTS entries (and views) that can be read with no input from the user."""
    names: list[str] = []
    for name in ENDPOINTS:
        if name in FILLED_BY_CLIENT:
            names.extend(FILLED_BY_CLIENT[name])
        elif not _needs(name):
            names.append(name)
    return names


def input_needed() -> pl.DataFrame:
    """The entries the tour leaves out, with the parameters each one needs."""
    rows = [{"endpoint": n, "method": e.method, "path": e.path, "needs": ", ".join(_needs(n))}
            for n, e in ENDPOINTS.items() if _needs(n) and n not in FILLED_BY_CLIENT]
    return pl.DataFrame(rows, schema={"endpoint": pl.String, "method": pl.String,
                                      "path": pl.String, "needs": pl.String})


@dataclass
class Tour:
    """The result of :func:`tour`: one summary row and one frame per endpoint read."""

    summary: pl.DataFrame
    frames: dict[str, pl.DataFrame] = field(default_factory=dict)


def _window_params(name: str, window: Window | None) -> dict[str, Any]:
    entry = ENDPOINTS.get(name)
    if window is None or entry is None:
        return {}
    names = {p.name for p in entry.params}
    for start, end in _WINDOW_PARAMS:
        if start in names and end in names:
            return {start: window.start, end: window.end}
    return {}


def tour(client: Any, *, window: Window | None = None, max_pages: int | None = 1) -> Tour:
    """Read every entry of :func:`tour_names` (listings up to ``max_pages`` pages).

    Entries that take a date window get ``window``. An entry the workspace refuses (plan,
    scope) is listed with its error and no frame; a refused key stops the tour.
    """
    rows, frames = [], {}
    for name in tour_names():
        start = time.perf_counter()
        entry = ENDPOINTS.get(name) or ENDPOINTS["accounts.warmup_analytics"]
        row: dict[str, Any] = {"endpoint": name, "method": entry.method, "path": entry.path}
        try:
            sample = fetch_pages(client, name, max_pages=max_pages,
                                 **_window_params(name, window))
        except (AuthenticationError, ConfigurationError):
            raise
        except InstantlyError as exc:
            rows.append({**row, "error": f"{type(exc).__name__}: {exc}"})
            continue
        frames[name] = frame = hide_secrets(sample.frame)
        rows.append({**row, "rows": frame.height, "columns": frame.width,
                     "requests": sample.pages, "more": sample.more,
                     "seconds": round(time.perf_counter() - start, 2)})
    schema = {"endpoint": pl.String, "method": pl.String, "path": pl.String, "rows": pl.Int64,
              "columns": pl.Int64, "requests": pl.Int64, "more": pl.Boolean,
              "seconds": pl.Float64, "error": pl.String}
    return Tour(pl.DataFrame(rows, schema=schema), frames)


def fetch_for_first(client: Any, name: str, listing: pl.DataFrame, column: str = "id",
                    param: str = "id") -> pl.DataFrame:
    """``name`` fetched for the first ``column`` value of ``listing``; empty when it has none."""
    values = listing[column].drop_nulls().head(1).to_list() if column in listing.columns else []
    if not values:
        return shaping.empty(name)
    return client.fetch(name, **{param: values[0]})


def show_heads(result: Tour, rows: int = 3) -> None:
    """Display the first ``rows`` rows of every frame of the tour as report tables."""
    for name, frame in result.frames.items():
        more = " (first pages only)" if result.summary.filter(
            (pl.col("endpoint") == name) & pl.col("more")).height else ""
        report_table(frame.head(rows), title=f"{name}: {frame.height:,} rows{more}",
                     caption=f"{frame.width} columns: {', '.join(frame.columns[:12])}"
                     + (", ..." if frame.width > 12 else ""), max_rows=rows)
