"""Fast shaping of large listings straight from the response bytes, never dropping data.

A page of ``POST /leads/list`` is ~100 records of ~60 values; a million leads are ~10,000 pages.
Decoding them with ``json.loads`` builds ~50 million Python objects before :mod:`.frames` turns
them into columns. Here polars' own JSON reader reads each page's bytes into columns directly
(in native code, without holding the interpreter lock, so the client's worker threads read pages
in parallel).

The reader would quietly drop a field the declared schema does not know and turn a mistyped
value into null or text, so every page is first validated by ``msgspec`` (a native JSON decoder)
against the declared schema, strictly: a key the schema does not know at any depth (the
envelope included), or a value of another JSON type than declared (a string or ``3.0`` where an
integer belongs, a number where text belongs, an object where a scalar belongs...), makes the
page take the ordinary path of :mod:`.frames` -- extra columns, ``_raw`` columns, coercions. The
one widening allowed is a whole number in a ``float`` field, which :mod:`.frames` converts the
same way. A timestamp that does not parse, or bytes that are not JSON, do the same.

When any page of a fetch goes the ordinary way, the whole fetch does (:func:`frame`), so the
frame is exactly :func:`instantly_nb.frames.from_bodies` of the decoded pages -- the tests feed
drifted pages to both paths and compare.

:func:`gc_paused` pauses Python's cyclic garbage collector while a fetch accumulates pages: each
decoded page adds thousands of tracked objects and every full collection walks all pages so far.
"""

from __future__ import annotations

import gc
import io
import json
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from typing import Annotated, Any

import polars as pl

try:
    import msgspec
except ImportError:  # pragma: no cover - a dependency; without it every page takes the ordinary path
    msgspec = None  # type: ignore[assignment]

from . import frames
from .http import check_envelope
from .masking import mask_secrets
from .spec import Endpoint, Field

__all__ = ["FAST", "RawPage", "read_page", "frame", "eligible", "gc_paused", "raw_sender"]

# Listings shaped from bytes: the large cursor listings whose records have no free-form fields.
FAST = frozenset({"leads.list"})
_TEXT = frozenset({"str", "datetime", "date"})


class RawPage(dict[str, Any]):
    """One answer page read from bytes.

    To the paginator it looks like a decoded cursor page (``items`` is a range of the record
    count when the page was read fast). ``columns`` holds its declared columns, or is None when
    the page takes the ordinary path; ``raw`` keeps the bytes for that path.
    """

    def __init__(self, raw: bytes, columns: pl.DataFrame | None, body: Any = None,
                 count: int = 0, cursor: str | None = None):
        if columns is not None:
            super().__init__(items=range(count), next_starting_after=cursor)
        elif isinstance(body, dict):
            super().__init__(body)
        else:
            super().__init__()
        self.raw = raw
        self.columns = columns
        self.body = body

    def decoded(self) -> Any:
        """The page as ``json.loads`` gives it."""
        return self.body if self.body is not None else json.loads(self.raw)


def eligible(name: str) -> bool:
    """Whether ``name`` is shaped from bytes (a listing of FAST with a plain declared schema)."""
    return name in FAST and _plan(name) is not None


_PY: dict[str, Any] = {"str": str, "datetime": str, "date": str, "float": float, "bool": bool,
                      "int": int if msgspec is None else
                      Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]}


def _struct(name: str, node: dict[str, Any]) -> Any:
    fields: list[tuple[str, Any, Any]] = []
    for key, child in node.items():
        kind: Any
        if isinstance(child, Field):
            kind = _PY.get(child.dtype)
            if kind is None and child.dtype.startswith("list["):
                kind = list[_PY[child.dtype[5:-1]] | None]  # type: ignore[misc]
        else:
            kind = _struct(f"{name}_{key}", child)
        fields.append((key, kind | None, None))
    return msgspec.defstruct(name, fields, forbid_unknown_fields=True, gc=False)


@cache
def _plan(name: str) -> tuple[Any, list[tuple[Field, tuple[str, ...]]], dict[str, pl.DataType]] | None:
    """The strict validator of a page, each field's path of keys and the reader's schema;
    None when a field is free-form JSON (only the ordinary path turns it into text)."""
    tree = frames._tree(name)
    paths: list[tuple[Field, tuple[str, ...]]] = []

    def walk(node: dict[str, Any], path: tuple[str, ...]) -> dict[str, pl.DataType]:
        out: dict[str, pl.DataType] = {}
        for key, child in node.items():
            if isinstance(child, Field):
                paths.append((child, (*path, key)))
                out[key] = _dtype(child)
            else:
                out[key] = pl.Struct(walk(child, (*path, key)))
        return out

    columns = walk(tree, ())
    if msgspec is None or any(f.dtype in ("json", "list[json]") for f, _ in paths):
        return None
    record = _struct("Record", tree)
    page = msgspec.defstruct("Page", [("items", list[record]),  # type: ignore[valid-type]
                                      ("next_starting_after", str | None, None)],
                             forbid_unknown_fields=True, gc=False)
    reader = {"items": pl.List(pl.Struct(columns)), "next_starting_after": pl.String()}
    return msgspec.json.Decoder(page), paths, reader


def _dtype(field: Field) -> pl.DataType:
    return pl.String() if field.dtype in _TEXT else frames.polars_dtype(field.dtype)


def read_page(name: str, raw: bytes) -> RawPage | None:
    """Read one answer page; None when the bytes are not JSON at all (the caller asks again)."""
    plan = _plan(name)
    if plan is None:
        return _decoded(raw)
    validator, paths, reader = plan
    try:
        validator.decode(raw)
    except msgspec.DecodeError:  # drift (ValidationError) or not JSON at all
        return _decoded(raw)
    wide = pl.read_json(io.BytesIO(raw), schema=reader)
    return RawPage(raw, wide, count=int(wide["items"].list.len()[0] or 0),
                   cursor=wide["next_starting_after"][0])


def _column(field: Field, path: tuple[str, ...]) -> pl.Expr:
    expr = pl.col("items")
    for key in path:
        expr = expr.struct.field(key)
    return expr.alias(field.name)


def _decoded(raw: bytes) -> RawPage | None:
    try:
        return RawPage(raw, None, json.loads(raw))
    except ValueError:
        return None


def raw_sender(send: Callable[..., Any], name: str) -> Callable[..., Any]:
    """``send`` (``Requester.send``) for :func:`instantly_nb.paginate.iter_pages` that returns
    :class:`RawPage` objects. A body that is not JSON at all is asked for again the ordinary
    way (which retries it); a decoded page must fit the endpoint's envelope."""

    def one(endpoint: Endpoint, **kwargs: Any) -> Any:
        answer = send(endpoint, raw=True, **kwargs)
        if not isinstance(answer, bytes):
            return answer
        page = read_page(name, answer)
        if page is None:
            return send(endpoint, **kwargs)
        if page.columns is None:
            check_envelope(endpoint, page.body)
        return page

    return one


def frame(name: str, pages: Sequence[Any]) -> pl.DataFrame:
    """The frame of one fetch's pages (RawPage or decoded bodies): fast when every page was
    read from bytes and every timestamp parses, else ``frames.from_bodies`` of them all."""
    if pages and all(isinstance(p, RawPage) and p.columns is not None for p in pages):
        plan = _plan(name)
        assert plan is not None
        rows = pl.concat([p.columns for p in pages], how="vertical") \
            .select(pl.col("items").explode()).filter(pl.col("items").is_not_null())
        built = _finish(name, rows.select(_column(f, path) for f, path in plan[1]))
        if built is not None:
            return built
    return frames.from_bodies(name, [p.decoded() if isinstance(p, RawPage) else p
                                     for p in pages])


def _finish(name: str, wide: pl.DataFrame) -> pl.DataFrame | None:
    """Parse timestamps and add labels; None when a timestamp does not parse."""
    if wide.height == 0:
        return frames.empty(name)
    columns: list[pl.Series] = []
    for f in frames._fields(name):
        series = wide.get_column(f.name)
        if f.dtype in ("datetime", "date"):
            parsed = frames._parse_time(series, f.dtype)
            if (parsed.is_null() & series.is_not_null()).any():
                return None
            series = parsed
        columns.append(series)
        if f.enum:
            codes, labels = zip(*f.enum, strict=True)
            columns.append(series.replace_strict(list(codes), list(labels), default=None,
                                                 return_dtype=pl.String).alias(f"{f.name}_label"))
    return mask_secrets(pl.DataFrame(columns))  # as frames.to_frame does


class _GcPause:
    """Re-entrant, thread-safe pause of the cyclic collector, restored on the last exit."""

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


_PAUSE = _GcPause()


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for the block (nested and threaded use is safe)."""
    with _PAUSE:
        yield
