"""Planning and running one fetch: a call split into the requests the API allows, then one frame.

:func:`plan` validates a call against the table and splits it: array parameters longer than their
``maxItems`` are batched, a list given for a single-valued parameter fans out into one request
per value (that value added as a column, see :data:`~instantly_nb.endpoint_facts.ID_COLUMNS`),
and date windows longer than an entry allows are cut
(:data:`~instantly_nb.endpoint_facts.WINDOW_DAYS`). :func:`run` walks every part's pages on the
bounded pool of :func:`~instantly_nb.fanout.run_parts` and joins the frames.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from . import fallbacks, frames, rawpages
from .daily import day_of
from .endpoint_facts import REPEATED_ROWS, WINDOW_DAYS, id_column
from .errors import ParameterError
from .fanout import Progress, fan_out_values, run_parts
from .paginate import iter_pages
from .params import Prepared, batch_size, prepare
from .spec import Endpoint
from .throttle import bulk

__all__ = ["Part", "plan", "run", "with_columns"]

Variants = list[tuple[dict[str, Any], dict[str, Any]]]


@dataclass
class Part:
    """One request (or one paged walk) of a fetch, and the columns its frame gets."""

    prepared: Prepared
    columns: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        shown = {**self.columns, **{k: v for k, v in self.prepared.canonical().items()
                                    if k in ("start_date", "end_date")}}
        return ", ".join(f"{k}={v}" for k, v in shown.items()) or "the request"


def plan(endpoint: Endpoint, params: Mapping[str, Any]) -> list[Part]:
    """Split one call into the requests the API allows, validating each."""
    known = {p.name for p in endpoint.params}
    if set(params) - known:
        prepare(endpoint, params)  # raises ParameterError naming the unknown parameters
    variants: Variants = [({}, {})]
    for p in endpoint.params:
        value = params.get(p.name)
        if value is None:
            continue
        size = batch_size(endpoint, p)
        if p.type != "array" and isinstance(value, list | tuple):
            column = id_column(endpoint.resource) if p.name == "id" else p.name
            values = fan_out_values(f"{endpoint.name}: {p.name}", value)
            variants = [({**v, p.name: x}, {**c, column: str(x)}) for v, c in variants
                        for x in values]
        elif size and isinstance(value, list | tuple) and len(value) > size:
            chunks = [list(value[i:i + size]) for i in range(0, len(value), size)]
            variants = [({**v, p.name: ch}, c) for v, c in variants for ch in chunks]
        else:
            variants = [({**v, p.name: value}, c) for v, c in variants]
    if endpoint.name in WINDOW_DAYS:
        variants = _split_windows(variants, WINDOW_DAYS[endpoint.name])
    if "emails" in known and params.get("emails") == []:
        return []  # no accounts: an empty frame, without asking the API for nothing
    return [Part(prepare(endpoint, v), c) for v, c in variants]


def run(client: fallbacks.Source, send: Callable[..., Any], name: str, endpoint: Endpoint,
        parts: Sequence[Part], *, max_pages: int | None, progress: bool) -> pl.DataFrame:
    """Walk every part's pages (on the pool when there are several) and join their frames.

    ``send`` sends one request; ``client`` serves the fetches a fallback for a known failure of
    the live API needs (:mod:`instantly_nb.fallbacks`).
    """
    with Progress(progress, len(parts) if len(parts) > 1 else None, name) as bar:
        def one(part: Part) -> pl.DataFrame:
            def walk(prepared: Prepared) -> list[Any]:
                return list(iter_pages(
                    send, endpoint, path_params=prepared.path,
                    query=prepared.query, body=prepared.body, max_pages=max_pages,
                    on_page=(lambda _n: bar.update()) if len(parts) == 1 else None,
                ))

            bodies = fallbacks.fetch_bodies(client, endpoint, part.prepared, walk)
            return with_columns(rawpages.frame(name, bodies), part.columns)

        def one_of_many(part: Part) -> pl.DataFrame:
            with bulk():  # a cursor chain waiting beside this fan-out goes first
                return one(part)

        results = run_parts(one if len(parts) == 1 else one_of_many, parts, max_workers=client.max_workers,
                            describe=Part.describe, progress=bar if len(parts) > 1 else None)
    if not results:
        return with_columns(frames.empty(name), {c: None for c in _columns(parts)})
    out = pl.concat(results, how="diagonal_relaxed") if len(results) > 1 else results[0]
    if endpoint.name in REPEATED_ROWS:
        out = out.unique(maintain_order=True)
    return out


def with_columns(frame: pl.DataFrame, columns: Mapping[str, Any]) -> pl.DataFrame:
    """Add fan-out columns (as String) in front, unless the frame already has them."""
    new = [pl.lit(v, dtype=pl.String).alias(k) for k, v in columns.items() if k not in frame.columns]
    if not new:
        return frame
    names = [e.meta.output_name() for e in new]
    return frame.with_columns(new).select(names + [c for c in frame.columns])


def _split_windows(variants: Variants, days: int) -> Variants:
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
    day = day_of(value)
    if day is None:
        raise ParameterError(f"{value!r} is not a date (YYYY-MM-DD).")
    return day


def _columns(parts: Sequence[Part]) -> list[str]:
    return list(parts[0].columns) if parts else []
