"""A proposed fast path for :func:`instantly_nb.frames.to_frame`, applied as a monkeypatch.

``to_frame`` turns rows into columns in Python, one ``dict.get`` per value. When every value
already has its declared type, polars can do that transposition itself, in one strict pass over
the rows with the declared schema (nested objects as structs, timestamps as text). The fast path
takes that pass and falls back to the existing code for anything else: a value of another type
makes the strict pass raise, and unknown keys (top-level or nested) or JSON-typed fields are
detected before it. So its output is the same frame, column for column; the benchmark checks
that on every run.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from itertools import repeat
from typing import Any

import polars as pl

from instantly_nb import frames
from instantly_nb.spec import Field

__all__ = ["fast_to_frame", "from_raw_pages", "patched"]

_TEXT_FIRST = ("datetime", "date")
_OBJECT_OR_NULL = frozenset({dict, type(None)})


def _dtype(field: Field) -> pl.DataType | None:
    if field.dtype in ("json", "list[json]"):
        return None  # needs JSON text per value: the Python path does it
    if field.dtype in _TEXT_FIRST:
        return pl.String()
    return frames.polars_dtype(field.dtype)


def _schema(node: dict[str, Any]) -> dict[str, pl.DataType] | None:
    out: dict[str, pl.DataType] = {}
    for key, child in node.items():
        dtype = _dtype(child) if isinstance(child, Field) else _struct(child)
        if dtype is None:
            return None
        out[key] = dtype
    return out


def _struct(node: dict[str, Any]) -> pl.DataType | None:
    inner = _schema(node)
    return None if inner is None else pl.Struct(inner)


@cache
def _plan(name: str) -> tuple[dict[str, pl.DataType], list[tuple[str, tuple[str, ...]]]] | None:
    """Schema of the strict pass and, per declared column, its path of keys; None: no fast path."""
    tree = frames._tree(name)
    schema = _schema(tree)
    if schema is None:
        return None
    paths: list[tuple[str, tuple[str, ...]]] = []

    def walk(node: dict[str, Any], path: tuple[str, ...]) -> None:
        for key, child in node.items():
            if isinstance(child, Field):
                paths.append((child.name, (*path, key)))
            else:
                walk(child, (*path, key))

    walk(tree, ())
    return schema, paths


def _only_declared(rows: Sequence[dict[str, Any]], node: dict[str, Any]) -> bool:
    """No row has a key the declared tree does not know (at any depth), nor a non-object where
    an object is declared."""
    if not set().union(*rows) <= node.keys():
        return False
    for key, child in node.items():
        if isinstance(child, dict):
            values = list(map(dict.get, rows, repeat(key)))
            if not set(map(type, values)) <= _OBJECT_OR_NULL:
                return False
            objects = list(filter(None, values))
            if objects and not _only_declared(objects, child):
                return False
    return True


def _columns(name: str, rows: Sequence[dict[str, Any]]) -> dict[str, pl.Series] | None:
    plan = _plan(name)
    if plan is None or not _only_declared(rows, frames._tree(name)):
        return None
    schema, paths = plan
    try:
        wide = pl.DataFrame(rows, schema=schema, strict=True)
    except frames._BUILD_ERRORS:
        return None
    return _flatten(wide, paths)


def _flatten(wide: pl.DataFrame, paths: list[tuple[str, tuple[str, ...]]]
             ) -> dict[str, pl.Series]:
    exprs = []
    for column, path in paths:
        expr = pl.col(path[0])
        for key in path[1:]:
            expr = expr.struct.field(key)
        exprs.append(expr.alias(column))
    flat = wide.select(exprs)
    return {c: flat.get_column(c) for c in flat.columns}


def fast_to_frame(name: str, rows: Sequence[dict[str, Any]] | Any) -> pl.DataFrame:
    """``frames.to_frame`` with the strict one-pass fast path (see the module docstring)."""
    rows = rows if isinstance(rows, list) else list(rows)
    if not rows or not set(map(type, rows)) <= {dict}:
        return _ORIGINAL(name, rows)
    built = _columns(name, rows)
    if built is None:
        return _ORIGINAL(name, rows)
    return _finish(name, built)


def _finish(name: str, built: dict[str, pl.Series]) -> pl.DataFrame:
    """Declared columns (timestamps still text) -> the frame: parse times, add labels."""
    raws: dict[str, pl.Series] = {}
    columns: list[pl.Series] = []
    for f in frames._fields(name):
        series = built[f.name]
        if f.dtype in _TEXT_FIRST:
            parsed = frames._parse_time(series, f.dtype)
            failed = parsed.is_null() & series.is_not_null()
            if failed.any():
                frames._add_raw(raws, f.name, frames._where(failed, series))
            series = parsed
        columns.append(series)
        if f.enum:
            codes, labels = zip(*f.enum, strict=True)
            columns.append(series.replace_strict(list(codes), list(labels), default=None,
                                                 return_dtype=pl.String).alias(f"{f.name}_label"))
    taken = {s.name for s in columns}
    for column, bad in raws.items():
        alias = f"{column}_raw"
        while alias in taken:
            alias += "_extra"
        taken.add(alias)
        columns.append(bad.alias(alias))
    return pl.DataFrame(columns)


_ORIGINAL = frames.to_frame


@contextmanager
def patched() -> Iterator[None]:
    """``frames.to_frame`` is the fast version inside the block."""
    frames.to_frame = fast_to_frame  # type: ignore[assignment]
    try:
        yield
    finally:
        frames.to_frame = _ORIGINAL  # type: ignore[assignment]


def from_raw_pages(name: str, pages: Sequence[bytes]) -> pl.DataFrame:
    """Exploratory: undecoded answer pages straight to the frame with polars' JSON reader.

    Not a drop-in replacement: the reader keeps only declared fields (unknown ones are lost
    silently) and a value of another type becomes null instead of going to a ``_raw`` column,
    so it would need a drift check before it could stand in for ``from_bodies``.
    """
    plan = _plan(name)
    if plan is None:
        raise ValueError(f"{name} has JSON-typed fields: no raw path")
    schema, paths = plan
    envelope: dict[str, pl.DataType] = {"items": pl.List(pl.Struct(schema)),
                                        "next_starting_after": pl.String()}
    wide = pl.concat([pl.read_json(io.BytesIO(raw), schema=envelope) for raw in pages]) \
        .select(pl.col("items").explode()).filter(pl.col("items").is_not_null()).unnest("items")
    return _finish(name, _flatten(wide, paths))
