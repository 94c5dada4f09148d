"""Planning and running one fetch: a call split into the requests the API allows, then one frame.

:func:`plan` validates a call against the table and splits it: array parameters longer than their
``maxItems`` are batched, a list given for a single-valued parameter fans out into one request
per value (that value added as a column, see :data:`~instantly_nb.endpoint_facts.ID_COLUMNS`),
and date windows longer than an entry allows are cut
(:data:`~instantly_nb.endpoint_facts.WINDOW_DAYS`). :func:`run` walks every part's pages on the
bounded pool of :func:`~instantly_nb.fanout.run_parts` and joins the frames.

The records of many parts are shaped together, up to about :data:`GROUP_ROWS` at a time, each
row tagged with its part's columns: a frame costs about a millisecond whatever its size, and a
fan-out is often many requests of one row each. That is the frame the parts would give shaped
one by one and joined, because shaping is row by row -- except for extra and ``_raw`` columns,
whose presence and type depend on the rows shaped together: records that give one are shaped
part by part, as they always were.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from . import fallbacks, frames, rawpages
from .daily import day_of
from .drift import clean_rows
from .endpoint_facts import REPEATED_ROWS, WINDOW_DAYS, id_column
from .errors import ParameterError
from .fanout import Progress, fan_out_values, run_parts
from .paginate import iter_pages
from .params import Prepared, batch_size, prepare
from .spec import Endpoint
from .throttle import bulk

__all__ = ["GROUP_ROWS", "Part", "plan", "run", "with_columns"]

Variants = list[tuple[dict[str, Any], dict[str, Any]]]

# The records of a fan-out held before they are shaped together (the parts' pages are let go as
# their records are taken; a frame of this many rows costs far more than starting one).
GROUP_ROWS = 10_000


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
    together = _Together(name, parts) if len(parts) > 1 and not rawpages.eligible(name) \
        and len({tuple(p.columns) for p in parts}) == 1 else None
    with Progress(progress, len(parts) if len(parts) > 1 else None, name) as bar:
        def one(part: Part) -> pl.DataFrame | None:
            def walk(prepared: Prepared) -> list[Any]:
                return list(iter_pages(
                    send, endpoint, path_params=prepared.path,
                    query=prepared.query, body=prepared.body, max_pages=max_pages,
                    on_page=(lambda _n: bar.update()) if len(parts) == 1 else None,
                ))

            bodies = fallbacks.fetch_bodies(client, endpoint, part.prepared, walk)
            if together is not None:
                together.add(part, bodies)
                return None
            return with_columns(rawpages.frame(name, bodies), part.columns)

        def one_of_many(part: Part) -> pl.DataFrame | None:
            with bulk():  # a cursor chain waiting beside this fan-out goes first
                return one(part)

        results = run_parts(one if len(parts) == 1 else one_of_many, parts, max_workers=client.max_workers,
                            describe=Part.describe, progress=bar if len(parts) > 1 else None)
    if not results:
        return with_columns(frames.empty(name), {c: None for c in _columns(parts)})
    joined = together.frames() if together is not None else \
        [r for r in results if r is not None]
    out = pl.concat(joined, how="diagonal_relaxed") if len(joined) > 1 else joined[0]
    if endpoint.name in REPEATED_ROWS:
        out = out.unique(maintain_order=True)
    return out


class _Together:
    """The records of a fan-out's parts, shaped in groups (see the module docstring)."""

    def __init__(self, name: str, parts: Sequence[Part]):
        self.name = name
        self.index = {id(p): i for i, p in enumerate(parts)}
        self.parts = parts
        self.lock = threading.Lock()
        self.waiting: dict[int, list[dict[str, Any]]] = {}
        self.held = 0
        # part index -> (the frame holding its rows, first row, row count)
        self.pieces: dict[int, tuple[pl.DataFrame, int, int]] = {}

    def add(self, part: Part, bodies: list[Any]) -> None:
        """Take the records of one part's pages; shape what is held when it is enough."""
        rows: list[dict[str, Any]] = []
        for body in bodies:
            rows.extend(frames.records(self.name, body.decoded() if isinstance(
                body, rawpages.RawPage) else body))
        rows = clean_rows(self.name, rows)  # logged per part, as when parts are shaped alone
        with self.lock:
            self.waiting[self.index[id(part)]] = rows
            self.held += len(rows)
            if self.held < GROUP_ROWS:
                return
            group, self.waiting, self.held = self.waiting, {}, 0
        self._shape(group)

    def _shape(self, group: dict[int, list[dict[str, Any]]]) -> None:
        order = sorted(group)
        rows = [row for i in order for row in group[i]]
        frame = frames.to_frame(self.name, rows)
        pieces: dict[int, tuple[pl.DataFrame, int, int]] = {}
        if frame.width != len(frames.schema(self.name)):  # extra or _raw columns
            for i in order:
                alone = with_columns(frames.to_frame(self.name, group[i]), self.parts[i].columns)
                pieces[i] = (alone, 0, alone.height)
        else:
            tags = [pl.Series(key, [self.parts[i].columns[key] for i in order
                                    for _ in range(len(group[i]))], pl.String)
                    for key in self.parts[order[0]].columns if key not in frame.columns]
            frame = pl.DataFrame([*tags, *frame.get_columns()]) if tags else frame
            start = 0
            for i in order:
                pieces[i] = (frame, start, len(group[i]))
                start += len(group[i])
        with self.lock:
            self.pieces.update(pieces)

    def frames(self) -> list[pl.DataFrame]:
        """The frames of all parts in part order (rows of one frame next to each other are
        taken as one slice)."""
        if self.waiting:
            group, self.waiting, self.held = self.waiting, {}, 0
            self._shape(group)
        runs: list[list[Any]] = []
        for i in range(len(self.parts)):
            frame, start, count = self.pieces[i]
            if runs and runs[-1][0] is frame and runs[-1][1] + runs[-1][2] == start:
                runs[-1][2] += count
            else:
                runs.append([frame, start, count])
        return [f if (start, count) == (0, f.height) else f.slice(start, count)
                for f, start, count in runs]


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
