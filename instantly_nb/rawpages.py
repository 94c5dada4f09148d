"""Fast shaping of large listings straight from the response bytes, never dropping data.

A page of ``POST /leads/list`` is ~100 records of ~60 values; a million leads are ~10,000 pages.
Here each page is parsed once by ``msgspec`` (a native JSON decoder) into typed records. A fetch
of a few pages (a walk shapes 5 at a time) keeps them, and each column is gathered from them and
built by the ordinary path's own builder (:func:`_gather`): that costs less CPU than writing
them out and reading them back. The pages of a long fetch are not all kept: past ``_KEEP_BYTES``
they are written back at once, and once a thread holds about ``rawread.BATCH_BYTES`` of pages,
all of them are, as JSON lines -- one line per record
for each object level (the record's own scalars, then ``payload``, ``status_summary``... each
flat, as polars reads nested objects at several times the cost of flat ones) -- and polars' own
multi-threaded NDJSON reader turns the lines into columns on a worker thread while the next
pages are checked (:mod:`.rawread`); a fetch with any such batch is read that way whole.

The msgspec parse is also the drift check. It is strict: a key the declared schema does not know
at any depth (the envelope included), or a value of another JSON type than declared (a string or
``3.0`` where an integer belongs, a number where text belongs, an object where a scalar
belongs...), makes the page take the ordinary path of :mod:`.frames` -- extra columns, ``_raw``
columns, coercions. The one widening allowed is a whole number in a ``float`` field, which
:mod:`.frames` converts the same way. A timestamp that does not parse, or bytes that are not
JSON, do the same (a timestamp only where the lines are read; gathered columns parse them as
:mod:`.frames` does). polars reads only what msgspec wrote: values that passed the check, each key
once (a key repeated in an object keeps its last value, as ``json.loads`` does; polars alone would
keep the first), nulls left out, so the reader never meets a field or a type it would
drop or turn into something else.

Records with free-form JSON fields (``emails.list``: their ``*_json`` fields become the ordinary
path's JSON text) are checked the same way, the free-form values kept as their bytes, and never
written back: their columns are always gathered, each distinct free-form element decoded and
written once.

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
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import wait
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache, partial
from operator import itemgetter
from typing import Annotated, Any

import polars as pl

try:
    import msgspec
    from msgspec.structs import astuple
except ImportError:  # a dependency; without it every page takes the ordinary path (with a warning)
    msgspec = None  # type: ignore[assignment]

from . import frames, rawread
from .coerce import _MAKERS, _TIMES, _build, _dumps, _first_parse, _series, _wrap
from .drift import DERIVED, PHANTOM_ENDPOINTS, STEP_ENDPOINTS
from .http import check_envelope
from .masking import mask_secrets
from .spec import Endpoint, Field

__all__ = ["FAST", "RawPage", "read_page", "frame", "eligible", "gc_paused", "raw_sender"]

# Listings shaped from bytes: the large cursor listings. Records with free-form fields
# (``emails.list``: its ``*_json`` fields become the ordinary path's JSON text) are never written
# as lines: their checked records are kept as decoded and each column gathered from them, by the
# ordinary path's own column builder (:func:`_gather`).
FAST = frozenset({"leads.list", "emails.list"})
_TEXT = frozenset({"str", "datetime", "date"})
_FREE = frozenset({"json", "list[json]"})
# Pages of a fetch (of this thread's open batch) kept as checked records, in answer bytes; the
# pages that follow are written as lines at once (a walk shapes 5 lead pages, ~1 MB, at a time).
_KEEP_BYTES = 2 << 20
# polars reads the record lines of a fetch in pieces of about this size (its reader splits each
# piece over the cores; bigger pieces would only hold more memory at once)
_READ_BYTES = 32 << 20


class RawPage(dict[str, Any]):
    """One answer page read from bytes.

    To the paginator it looks like a decoded cursor page (``items`` is a range of the record
    count when the page was read fast). ``records`` holds the checked records, or ``lines``
    the same records as checked JSON lines (one piece per object level) once a background
    batch wrote them; both are None when the page takes the ordinary path; ``raw`` keeps the
    bytes for that path.
    """

    def __init__(self, raw: bytes, lines: tuple[bytes, ...] | None, body: Any = None,
                 count: int = 0, cursor: str | None = None, records: list[Any] | None = None):
        if lines is not None or records is not None:
            super().__init__(items=range(count), next_starting_after=cursor)
        elif isinstance(body, dict):
            super().__init__(body)
        else:
            super().__init__()
        self.raw = raw
        self.batch: Any = None  # see rawread
        self.lines = lines
        self.records = records  # the checked records of a listing whose columns are gathered
        self.count = count
        self.body = body

    @property
    def fast(self) -> bool:
        """Whether the page passed the strict check (its records are in ``lines`` or
        ``records``)."""
        return self.lines is not None or self.records is not None

    def decoded(self) -> Any:
        """The page as ``json.loads`` gives it."""
        return self.body if self.body is not None else json.loads(self.raw)


def eligible(name: str) -> bool:
    """Whether ``name`` is shaped from bytes (a listing of FAST with a plain declared schema
    whose rows the ordinary path keeps as they come; derived columns only where the columns
    are gathered)."""
    if name not in FAST or name in PHANTOM_ENDPOINTS or name in STEP_ENDPOINTS:
        return False
    plan = _plan(name)
    return plan is not None and (plan.gather or name not in DERIVED)


_PY: dict[str, Any] = {"str": str, "datetime": str, "date": str, "float": float, "bool": bool,
                      "int": int if msgspec is None else
                      Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]}


def _struct(name: str, node: dict[str, Any], kinds: dict[tuple[str, ...], Any],
            path: tuple[str, ...] = ()) -> Any:
    """A strict record type (``kinds`` gets the type of every object level by its path). A null
    and a missing key are both left out when written back (the reader and the ordinary path
    make both a null)."""
    fields: list[tuple[str, Any, Any]] = []
    for key, child in node.items():
        kind: Any
        if isinstance(child, Field):
            kind = _PY.get(child.dtype)
            if child.dtype == "json":  # any JSON value: the ordinary path's builder writes it
                kind = Any
            elif child.dtype == "list[json]":  # elements as their bytes (see _json_lists)
                kind = list[msgspec.Raw]
            elif kind is None and child.dtype.startswith("list["):
                kind = list[_PY[child.dtype[5:-1]] | None]  # type: ignore[misc]
        else:
            kind = _struct(f"{name}_{key}", child, kinds, (*path, key))
        fields.append((key, kind | None, None))
    kinds[path] = msgspec.defstruct(name, fields, forbid_unknown_fields=True, omit_defaults=True,
                                    gc=False)
    return kinds[path]


@dataclass(frozen=True)
class _Level:
    """The records (path ``()``) or the objects at one path inside them. Each level is written
    as lines of its own, without its nested objects, and read flat: polars reads nested objects
    at several times the cost of flat ones."""

    path: tuple[str, ...]
    fill: Any  # an object of all nulls standing in for a null or missing one (so every record
    # has a line at every level and the levels line up)
    nested: tuple[str, ...]  # keys of its objects that are objects (levels of their own)
    schema: dict[str, pl.DataType]  # its scalar fields as the reader reads them, by key
    names: dict[str, str]  # key -> column name (``<parent>__<key>``)


@dataclass(frozen=True)
class _Plan:
    decoder: Any  # msgspec.json.Decoder of a whole page, strict
    encoder: Any  # msgspec.json.Encoder writing the checked objects back, one line each
    levels: tuple[_Level, ...]  # parents before their children
    gather: bool  # records kept as decoded, columns gathered from them (free-form fields)


@cache
def _plan(name: str) -> _Plan | None:
    """How pages of ``name`` are checked and read (None without msgspec). Records with
    free-form JSON fields are gathered: only the ordinary path's builder turns such a value
    into its text."""
    fields = frames._fields(name)
    if msgspec is None:
        warnings.warn("msgspec is not installed, so large listings are shaped the slow way "
                      "(several times slower); install it: pip install msgspec",
                      RuntimeWarning, stacklevel=2)
        return None
    gather = any(f.dtype in _FREE for f in fields)
    kinds: dict[tuple[str, ...], Any] = {}
    record = _struct("Record", frames._tree(name), kinds)
    page = msgspec.defstruct("Page", [("items", list[record]),  # type: ignore[valid-type]
                                      ("next_starting_after", str | None, None)],
                             forbid_unknown_fields=True, gc=False)
    levels: list[_Level] = []

    def walk(node: dict[str, Any], path: tuple[str, ...]) -> None:
        schema = {k: _dtype(c) for k, c in node.items() if isinstance(c, Field)}
        nested = tuple(k for k, c in node.items() if not isinstance(c, Field))
        levels.append(_Level(path, kinds[path]() if path else None, nested, schema,
                             {k: "__".join((*path, k)) for k in schema}))
        for key in nested:
            walk(node[key], (*path, key))

    walk(frames._tree(name), ())
    return _Plan(msgspec.json.Decoder(page), msgspec.json.Encoder(), tuple(levels), gather)


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
    read = RawPage(raw, None, count=len(page.items), cursor=page.next_starting_after,
                   records=page.items)
    if not plan.gather:  # a batch of many pages is written as lines and read in the background
        if rawread.held() >= _KEEP_BYTES:  # a long fetch: its records are not all kept
            _to_lines(plan, read)
        rawread.add(read, len(raw), partial(_read_records, plan))
    return read


def _read_records(plan: _Plan, pages: Sequence[RawPage]) -> list[pl.DataFrame]:
    """Each level's columns of ``pages`` (on the reader's worker: see :mod:`.rawread`)."""
    return _read_levels(plan, [_to_lines(plan, page) for page in pages])


def _to_lines(plan: _Plan, page: RawPage) -> tuple[bytes, ...]:
    """The page's records as lines (once; the records are given up for them)."""
    if page.lines is None:
        page.lines = _lines(plan, page.records or [])
        page.records = None
    return page.lines


def _lines(plan: _Plan, records: list[Any]) -> tuple[bytes, ...]:
    """Each level's objects of one page as JSON lines (one per record at every level)."""
    objects: dict[tuple[str, ...], list[Any]] = {(): records}
    for level in plan.levels[1:]:
        key, fill = level.path[-1], level.fill
        objects[level.path] = [getattr(o, key) or fill for o in objects[level.path[:-1]]]
    out = []
    for level in plan.levels:
        group = objects[level.path]
        for key in level.nested:  # written by its own level (a null is left out)
            for o in group:
                setattr(o, key, None)
        out.append(plan.encoder.encode_lines(group) if level.schema else b"")
    return tuple(out)


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
        if not page.fast:
            check_envelope(endpoint, page.body)
        return page

    return one


def frame(name: str, pages: Sequence[Any]) -> pl.DataFrame:
    """The frame of one fetch's pages (RawPage or decoded bodies): fast when every page passed
    the check and every timestamp parses, else ``frames.from_bodies`` of them all."""
    if pages and all(isinstance(p, RawPage) and p.fast for p in pages):
        plan = _plan(name)
        assert plan is not None
        if plan.gather:
            return _gathered(name, [r for p in pages for r in p.records or ()])
        built = _read(name, pages)
        if built is not None:
            return built
    return frames.from_bodies(name, [p.decoded() if isinstance(p, RawPage) else p
                                     for p in pages])


def _gathered(name: str, records: list[Any]) -> pl.DataFrame:
    """The frame of checked records, built as :func:`instantly_nb.frames.to_frame` builds it
    (each declared column by the same builder, from the same values a decoded page holds: the
    check lets through no unknown key and no object where a value belongs, so the ordinary
    path would find no extra column)."""
    if not records:
        return frames.empty(name)
    plan = _plan(name)
    assert plan is not None
    out: dict[str, pl.Series] = {}
    raws: dict[str, pl.Series | None] = {}
    times: dict[str, str] = {}
    fills = {level.path: level.fill for level in plan.levels}
    _gather(frames._tree(name), records, "", (), fills, out, raws, times)
    return frames._assemble(name, out, {}, raws, times)


def _gather(node: dict[str, Any], objects: list[Any], prefix: str, path: tuple[str, ...],
            fills: dict[tuple[str, ...], Any], out: dict[str, pl.Series],
            raws: dict[str, pl.Series | None], times: dict[str, str]) -> None:
    """:func:`instantly_nb.frames._walk` over checked records: the columns in the same order,
    a null or missing object read as one of all nulls. The objects' fields are in ``node``'s
    order; one transposition gives every column's values (a pass over all objects for each
    field would cost twice as much)."""
    columns = zip(*map(astuple, objects), strict=True)
    for (key, child), values in zip(node.items(), columns, strict=True):
        column = prefix + key
        if isinstance(child, Field):
            make = _MAKE.get(child.dtype)
            if child.dtype == "list[json]":
                out[column] = _json_lists(column, values)
            elif make is not None:
                out[column] = _made(make, column, child.dtype, values, raws)
            else:
                out[column] = _build(column, child.dtype, list(values), raws)
            if child.dtype in _TIMES:
                times[column] = child.dtype
                raws.setdefault(column, None)  # its place among the _raw columns, as _build
        else:
            fill = fills[(*path, key)]
            _gather(child, [v or fill for v in values], column + "__", (*path, key), fills,
                    out, raws, times)


# polars' own constructor of the column's dtype (:func:`instantly_nb.coerce._flat`) for the
# scalar fields: the check let through only values of that type (whole numbers in a float field
# come as floats), so the ordinary builder would call the same constructor on them.
_MAKE: dict[str, Any] = {dtype: _MAKERS[polars] for dtype, polars in (
    ("str", pl.String()), ("datetime", pl.String()), ("date", pl.String()),
    ("int", pl.Int64()), ("float", pl.Float64()), ("bool", pl.Boolean())) if polars in _MAKERS}


def _made(make: Any, column: str, dtype: str, values: Sequence[Any],
          raws: dict[str, pl.Series | None]) -> pl.Series:
    """The column of checked scalar values by its dtype's constructor (what it refuses, if
    anything, by the ordinary builder)."""
    try:
        return _wrap(make(column, values, True))  # type: ignore[no-any-return]
    except (TypeError, OverflowError):
        return _build(column, dtype, list(values), raws)


_TEXTS = pl.List(pl.String)


def _json_lists(column: str, values: Sequence[list[Any] | None]) -> pl.Series:
    """A ``list[json]`` column of checked records (lists of raw JSON elements, or None): each
    element's text as the ordinary path writes it (:func:`_texts`), once per distinct element.
    A column of nulls or of one-element lists is built at once, any other from its lists of
    texts as the ordinary path's builder builds it."""
    n = len(values)
    nulls = values.count(None)
    if nulls == n:
        return pl.Series([None] * n, dtype=_TEXTS).alias(column)
    if nulls == 0 and set(map(len, values)) == {1}:  # type: ignore[arg-type]
        elements = list(map(itemgetter(0), values))  # type: ignore[arg-type]
        texts = _texts_in_order(elements)
        if texts is None:
            flat = list(map(bytes, elements))
            texts = list(map(_texts(set(flat)).__getitem__, flat))
        return pl.Series(texts, dtype=pl.String).reshape((n, 1)).cast(_TEXTS).alias(column)
    lists = [None if v is None else list(map(bytes, v)) for v in values]
    distinct = _texts({e for v in lists if v is not None for e in v})
    return _series(column, [None if v is None else list(map(distinct.__getitem__, v))
                            for v in lists], _TEXTS)


class _Float:
    """What a JSON number with a fraction or an exponent decodes to in :func:`_texts`: the
    encoder refuses it (msgspec writes some floats otherwise than Python does)."""

    __slots__ = ()


def _float(_text: str) -> _Float:
    return _Float()


if msgspec is not None:
    _DECODE = msgspec.json.Decoder(float_hook=_float).decode
    _ENCODE = msgspec.json.Encoder().encode
    _ENCODE_LINES = msgspec.json.Encoder().encode_lines


def _texts_in_order(elements: list[Any]) -> list[str] | None:
    """:func:`_texts` of each raw element, in order, all decoded by one call and all written
    by another (one line each: the compact text has no raw line break); None when an element
    has a float or msgspec refuses one."""
    try:
        written = _ENCODE_LINES(_DECODE(b"[" + b",".join(elements) + b"]"))
        return written.decode().split("\n")[:-1]  # type: ignore[no-any-return]
    except (msgspec.DecodeError, TypeError, UnicodeDecodeError):
        return None


def _texts(elements: set[bytes]) -> dict[bytes, str]:
    """The text the ordinary path's encoder (:func:`instantly_nb.coerce._dumps`) writes for
    each raw JSON element. msgspec writes the same text for every JSON value without a float:
    compact, keys in order (a repeated key where it first came, with its last value), the
    same escapes, non-ASCII as it is, integers of any size (the tests compare the two on such
    values). When an element has a float or msgspec refuses one (a number out of range...),
    they are decoded as the ordinary path decodes them and written by ``_dumps``."""
    distinct = list(elements)
    try:
        written = list(map(_ENCODE, map(_DECODE, distinct)))
        return dict(zip(distinct, map(bytes.decode, written), strict=True))
    except (msgspec.DecodeError, TypeError, UnicodeDecodeError):
        return {b: _dumps(json.loads(b)) for b in distinct}


def _pieces(pages: Sequence[tuple[bytes, ...]], level: int) -> Iterator[bytes]:
    """The lines of one level of all pages, joined into pieces of about ``_READ_BYTES``."""
    piece: list[bytes] = []
    size = 0
    for page in pages:
        lines = page[level]
        if lines:
            piece.append(lines)
            size += len(lines)
        if size >= _READ_BYTES:
            yield b"".join(piece)
            piece, size = [], 0
    if piece:
        yield b"".join(piece)


def _read_levels(plan: _Plan, pages: Sequence[tuple[bytes, ...]]) -> list[pl.DataFrame]:
    """Each level's columns of the lines of ``pages`` (levels without scalar fields left
    out)."""
    out = []
    for i, level in enumerate(plan.levels):
        if level.schema:
            parts = [pl.read_ndjson(io.BytesIO(piece), schema=level.schema)
                     for piece in _pieces(pages, i)]
            out.append(pl.concat(parts, how="vertical", rechunk=False) if parts
                       else pl.DataFrame(schema=level.schema))
    return out


def _read(name: str, pages: Sequence[RawPage]) -> pl.DataFrame | None:
    """The frame of checked pages: gathered from their records when none went to the
    background reader, else read as lines (what was read in the background, the rest now);
    None when the reader refuses a value or a timestamp does not parse."""
    plan = _plan(name)
    assert plan is not None
    count = sum(p.count for p in pages)
    if count == 0:
        rawread.take(pages)
        return frames.empty(name)
    # pages handed to the reader's worker (their batch's read has started) are its own until
    # that read ends; the others still hold their records
    started = {p.batch.future for p in pages if p.batch is not None and p.batch.future is not None}
    taken = rawread.take(pages)
    if not started and all(p.records is not None for p in pages):
        return _gathered(name, [r for p in pages for r in p.records or ()])
    wait(started)
    try:
        runs = [future.result() if future is not None else
                _read_levels(plan, [_to_lines(plan, p) for p in run]) for future, run in taken]
    except pl.exceptions.PolarsError:  # the reader refused what the check let through
        return None
    columns: list[pl.DataFrame] = []
    for j, level in enumerate(lv for lv in plan.levels if lv.schema):
        # the reader gives many small chunks: one copy into whole columns makes the rest cheap
        read = pl.concat([run[j] for run in runs], how="vertical", rechunk=True)
        if read.height != count:
            return None
        columns.append(read.rename(level.names))
    del runs
    return _finish(name, pl.concat(columns, how="horizontal"))


def _finish(name: str, wide: pl.DataFrame) -> pl.DataFrame | None:
    """Parse timestamps and add labels, all columns at once; None when a timestamp does not
    parse."""
    exprs, times = _finishing(name)
    out = wide.select(exprs)
    for f in times:  # a null that was text: the other forms frames reads, else the ordinary path
        if out[f.name].null_count() != wide[f.name].null_count():
            parsed = frames._parse_time(wide[f.name], f.dtype)
            if parsed.null_count() != wide[f.name].null_count():
                return None
            out = out.with_columns(parsed)
    return mask_secrets(out)  # as frames.to_frame does


@cache
def _finishing(name: str) -> tuple[list[pl.Expr], tuple[Field, ...]]:
    """The expressions of :func:`_finish` and the timestamp fields, made once per listing
    (making them costs more than running them on a few pages)."""
    exprs: list[pl.Expr] = []
    times: list[Field] = []
    for f in frames._fields(name):
        column = pl.col(f.name)
        if f.dtype in _TIMES:  # the usual form; the others as frames reads them (_finish)
            column = _first_parse(column, f.dtype)
            times.append(f)
        exprs.append(column.alias(f.name))
        if f.enum:
            codes, labels = zip(*f.enum, strict=True)
            exprs.append(column.replace_strict(list(codes), list(labels), default=None,
                                               return_dtype=pl.String).alias(f"{f.name}_label"))
    return exprs, tuple(times)


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
