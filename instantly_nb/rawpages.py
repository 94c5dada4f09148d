"""Fast shaping of large listings straight from the response bytes, never dropping data.

A page of ``POST /leads/list`` is ~100 records of ~60 values; a million leads are ~10,000 pages.
Decoding them with ``json.loads`` builds ~50 million Python objects before :mod:`.frames` turns
them into columns. Here each page is parsed once by ``msgspec`` (a native JSON decoder) into
typed records, written back as one line of JSON per record, and polars' own multi-threaded
NDJSON reader turns the lines of a whole fetch into columns in a few large reads.

The msgspec parse is also the drift check. It is strict: a key the declared schema does not know
at any depth (the envelope included), or a value of another JSON type than declared (a string or
``3.0`` where an integer belongs, a number where text belongs, an object where a scalar
belongs...), makes the page take the ordinary path of :mod:`.frames` -- extra columns, ``_raw``
columns, coercions. The one widening allowed is a whole number in a ``float`` field, which
:mod:`.frames` converts the same way. A timestamp that does not parse, or bytes that are not
JSON, do the same. polars reads only what msgspec wrote: values that passed the check, each key
once (a key repeated in an object keeps its last value, as ``json.loads`` does; polars alone would
keep the first), nulls left out, so the reader never meets a field or a type it would
drop or turn into something else.

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
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any

import polars as pl

try:
    import msgspec
except ImportError:  # pragma: no cover - a dependency; without it every page takes the ordinary path
    msgspec = None  # type: ignore[assignment]

from . import frames
from .coerce import _TIMESTAMP_FORMATS
from .drift import DERIVED, PHANTOM_ENDPOINTS, STEP_ENDPOINTS
from .http import check_envelope
from .masking import mask_secrets
from .spec import Endpoint, Field

__all__ = ["FAST", "RawPage", "read_page", "frame", "eligible", "gc_paused", "raw_sender"]

# Listings shaped from bytes: the large cursor listings whose records have no free-form fields.
FAST = frozenset({"leads.list"})
_TEXT = frozenset({"str", "datetime", "date"})
# polars reads the record lines of a fetch in pieces of about this size (its reader splits each
# piece over the cores; bigger pieces would only hold more memory at once)
_READ_BYTES = 32 << 20


class RawPage(dict[str, Any]):
    """One answer page read from bytes.

    To the paginator it looks like a decoded cursor page (``items`` is a range of the record
    count when the page was read fast). ``lines`` holds its records as checked JSON lines, or is
    None when the page takes the ordinary path; ``raw`` keeps the bytes for that path.
    """

    def __init__(self, raw: bytes, lines: bytes | None, body: Any = None,
                 count: int = 0, cursor: str | None = None):
        if lines is not None:
            super().__init__(items=range(count), next_starting_after=cursor)
        elif isinstance(body, dict):
            super().__init__(body)
        else:
            super().__init__()
        self.raw = raw
        self.lines = lines
        self.count = count
        self.body = body

    @property
    def fast(self) -> bool:
        """Whether the page passed the strict check (its records are in ``lines``)."""
        return self.lines is not None

    def decoded(self) -> Any:
        """The page as ``json.loads`` gives it."""
        return self.body if self.body is not None else json.loads(self.raw)


def eligible(name: str) -> bool:
    """Whether ``name`` is shaped from bytes (a listing of FAST with a plain declared schema
    whose rows the ordinary path keeps as they come)."""
    plain = name not in DERIVED and name not in PHANTOM_ENDPOINTS and name not in STEP_ENDPOINTS
    return name in FAST and plain and _plan(name) is not None


_PY: dict[str, Any] = {"str": str, "datetime": str, "date": str, "float": float, "bool": bool,
                      "int": int if msgspec is None else
                      Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]}


def _struct(name: str, node: dict[str, Any]) -> Any:
    """A strict record type. A null and a missing key are both left out when written back (the
    reader and the ordinary path make both a null)."""
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
    return msgspec.defstruct(name, fields, forbid_unknown_fields=True, omit_defaults=True,
                             gc=False)


@dataclass(frozen=True)
class _Plan:
    decoder: Any  # msgspec.json.Decoder of a whole page, strict
    encoder: Any  # msgspec.json.Encoder writing the checked records back, one line each
    paths: tuple[tuple[Field, tuple[str, ...]], ...]  # each declared field's path of keys
    record: dict[str, pl.DataType]  # the reader's schema of one record


@cache
def _plan(name: str) -> _Plan | None:
    """How pages of ``name`` are checked and read; None when a field is free-form JSON (only
    the ordinary path turns it into text)."""
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

    record = walk(tree, ())
    if msgspec is None or any(f.dtype in ("json", "list[json]") for f, _ in paths):
        return None
    page = msgspec.defstruct("Page", [("items", list[_struct("Record", tree)]),  # type: ignore[misc]
                                      ("next_starting_after", str | None, None)],
                             forbid_unknown_fields=True, gc=False)
    return _Plan(msgspec.json.Decoder(page), msgspec.json.Encoder(), tuple(paths), record)


def _dtype(field: Field) -> pl.DataType:
    return pl.String() if field.dtype in _TEXT else frames.polars_dtype(field.dtype)


def read_page(name: str, raw: bytes) -> RawPage | None:
    """Read one answer page; None when the bytes are not JSON at all (the caller asks again)."""
    plan = _plan(name)
    if plan is None:
        return _decoded(raw)
    try:
        page = plan.decoder.decode(raw)
    except msgspec.DecodeError:  # drift (ValidationError) or not JSON at all
        return _decoded(raw)
    return RawPage(raw, plan.encoder.encode_lines(page.items), count=len(page.items),
                   cursor=page.next_starting_after)


def _column(field: Field, path: tuple[str, ...]) -> pl.Expr:
    expr = pl.col(path[0])
    for key in path[1:]:
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
        if page.lines is None:
            check_envelope(endpoint, page.body)
        return page

    return one


def frame(name: str, pages: Sequence[Any]) -> pl.DataFrame:
    """The frame of one fetch's pages (RawPage or decoded bodies): fast when every page passed
    the check and every timestamp parses, else ``frames.from_bodies`` of them all."""
    if pages and all(isinstance(p, RawPage) and p.fast for p in pages):
        built = _read(name, pages)
        if built is not None:
            return built
    return frames.from_bodies(name, [p.decoded() if isinstance(p, RawPage) else p
                                     for p in pages])


def _pieces(pages: Sequence[RawPage]) -> Iterator[bytes]:
    """The record lines of all pages, joined into pieces of about ``_READ_BYTES``."""
    piece: list[bytes] = []
    size = 0
    for page in pages:
        if page.lines:
            piece.append(page.lines)
            size += len(page.lines)
        if size >= _READ_BYTES:
            yield b"".join(piece)
            piece, size = [], 0
    if piece:
        yield b"".join(piece)


def _read(name: str, pages: Sequence[RawPage]) -> pl.DataFrame | None:
    """The frame of checked pages; None when a timestamp does not parse."""
    plan = _plan(name)
    assert plan is not None
    try:
        parts = [pl.read_ndjson(io.BytesIO(piece), schema=plan.record) for piece in _pieces(pages)]
    except pl.exceptions.PolarsError:  # the reader refused what the check let through
        return None
    if not parts:
        return frames.empty(name)
    # the reader gives many small chunks: one copy into whole columns makes the rest cheap
    records = pl.concat(parts, how="vertical", rechunk=True)
    del parts
    if records.height != sum(p.count for p in pages):
        return None
    wide = records.select(_column(f, path) for f, path in plan.paths)
    del records
    return _finish(name, wide)


def _finish(name: str, wide: pl.DataFrame) -> pl.DataFrame | None:
    """Parse timestamps and add labels, all columns at once; None when a timestamp does not
    parse."""
    exprs: list[pl.Expr] = []
    times: list[Field] = []
    for f in frames._fields(name):
        column = pl.col(f.name)
        if f.dtype == "datetime":
            column = column.str.to_datetime(_TIMESTAMP_FORMATS[0], time_unit="us",
                                            time_zone="UTC", strict=False)
        elif f.dtype == "date":
            column = column.str.to_date("%Y-%m-%d", strict=False)
        if f.dtype in ("datetime", "date"):
            times.append(f)
        exprs.append(column.alias(f.name))
        if f.enum:
            codes, labels = zip(*f.enum, strict=True)
            exprs.append(column.replace_strict(list(codes), list(labels), default=None,
                                               return_dtype=pl.String).alias(f"{f.name}_label"))
    out = wide.select(exprs)
    for f in times:  # a null that was text: the other forms frames reads, else the ordinary path
        if out[f.name].null_count() != wide[f.name].null_count():
            parsed = frames._parse_time(wide[f.name], f.dtype)
            if parsed.null_count() != wide[f.name].null_count():
                return None
            out = out.with_columns(parsed)
    return mask_secrets(out)  # as frames.to_frame does


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
