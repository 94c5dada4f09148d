"""Coercion of raw JSON values to the declared dtypes of a frame column (used by
:mod:`instantly_nb.frames`, whose module docstring states the rules).

``_build`` turns the values of one declared field into a typed polars Series, keeping what
cannot be converted as text for a ``<column>_raw`` column (timestamps and dates stay text there:
``_parse_times`` reads all of a frame's at once); ``_infer`` types an unknown field;
``_parse_time`` reads ISO 8601 dates and timestamps.

Every polars operation on a Series is a query of its own (~0.1-0.2 ms however short the
column), and polars builds a list column from Python lists one Series per row (~10 us each):
list columns are built from their flat values (:func:`_series`), and the timestamps of a frame
are parsed by one query, the careful way only for a column the usual format does not read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from itertools import chain
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
from typing import Any

import polars as pl

from .drift import NULL_TEXT

__all__ = ["polars_dtype"]  # the underscored helpers are for frames and fast shaping paths

UTC = pl.Datetime("us", "UTC")
_SCALARS: dict[str, pl.DataType] = {
    "str": pl.String(), "int": pl.Int64(), "float": pl.Float64(), "bool": pl.Boolean(),
    "datetime": UTC, "date": pl.Date(), "json": pl.String(),
}
_TIMESTAMP_FORMATS = ("%Y-%m-%dT%H:%M:%S%.f%#z", "%Y-%m-%dT%H:%M:%S%.f")
# The form the API writes (milliseconds and ``Z``), which polars reads ~5x faster than the general
# form above. Whatever it reads, the general form reads the same (tests compare); a value of any
# other form is null there, and its column is then read the general way (:func:`_parse_times`).
_USUAL_TIMESTAMP = "%Y-%m-%dT%H:%M:%S.%3fZ"
_INT_TEXT = re.compile(r"\s*[+-]?\d+\s*")
_FLOAT_TEXT = re.compile(r"\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*")
_BUILD_ERRORS = (TypeError, ValueError, OverflowError, pl.exceptions.PolarsError)
_NONE = type(None)
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str)
# what that encoder runs for each value, made once instead of on every call (half the cost of a
# small object); without the cycle check, which decoded JSON cannot need
_C_ENCODE = None if c_make_encoder is None else c_make_encoder(
    None, str, encode_basestring, None, ":", ",", False, False, True)


def _dumps(v: Any) -> str:
    """Compact JSON text of ``v`` (non-ASCII kept, anything else by ``str``)."""
    if _C_ENCODE is None:
        return _ENCODER.encode(v)
    return "".join(_C_ENCODE(v, 0))


def polars_dtype(dtype: str) -> pl.DataType:
    """The polars dtype of a :attr:`Field.dtype` (``"list[int]"`` -> ``pl.List(pl.Int64)``)."""
    if dtype.startswith("list[") and dtype.endswith("]"):
        return pl.List(_SCALARS[dtype[5:-1]])
    return _SCALARS[dtype]


class _Fail(Exception):
    """A value that does not fit its declared dtype."""


def _to_int(v: Any) -> int:
    if isinstance(v, str) and (_INT_TEXT.fullmatch(v) or _FLOAT_TEXT.fullmatch(v)):
        v = int(v) if _INT_TEXT.fullmatch(v) else float(v)
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if isinstance(v, int) and -(2**63) <= v < 2**63:
        return int(v)
    raise _Fail


def _to_float(v: Any) -> float:
    if isinstance(v, int | float) or (isinstance(v, str) and _FLOAT_TEXT.fullmatch(v)):
        return float(v)
    raise _Fail


def _to_bool(v: Any) -> bool:
    if isinstance(v, str) and v.strip().lower() in ("true", "false"):
        return v.strip().lower() == "true"
    if isinstance(v, int | float) and v in (0, 1):  # bool is an int too
        return bool(v)
    raise _Fail


def _to_str(v: Any) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, bool | int | float):
        return _dumps(v)
    raise _Fail


_CONVERT: dict[str, Callable[[Any], Any]] = {
    "int": _to_int, "float": _to_float, "bool": _to_bool, "str": _to_str,
    "datetime": _to_str, "date": _to_str,
}


def _text(v: Any) -> str:
    return v if isinstance(v, str) else _dumps(v)


def _blank(v: Any) -> bool:
    """None, or a text the API sends for "no value" (``""``, ``"null"``) where text is not asked."""
    return v is None or (isinstance(v, str) and v.strip().lower() in NULL_TEXT)


def _coerce(dtype: str, v: Any) -> Any:
    if dtype.startswith("list["):
        if isinstance(v, dict):
            raise _Fail
        items = v if isinstance(v, list) else [v]
        return [None if x is None else _CONVERT[dtype[5:-1]](x) for x in items]
    return _CONVERT[dtype](v)


def _build(column: str, dtype: str, vals: list[Any], raws: dict[str, pl.Series | None]
           ) -> pl.Series:
    """One declared column from raw values; what cannot be coerced goes to ``raws``.

    Timestamps and dates come back as text for :func:`_parse_times`; their column gets its
    place in ``raws`` now (None until a value fails), so ``_raw`` columns keep the field order.
    """
    if dtype == "json":
        return pl.Series(column, [None if v is None else _dumps(v) for v in vals], pl.String)
    if dtype == "list[json]":
        lists = [None if v is None else [_dumps(x) for x in (v if isinstance(v, list) else [v])]
                 for v in vals]
        return _series(column, lists, pl.List(pl.String))
    target = pl.String() if dtype in _TIMES else polars_dtype(dtype)
    try:
        # polars would read a string as a list of characters: lists must really be lists
        if dtype.startswith("list[") and not set(map(type, vals)) <= {list, _NONE}:
            raise TypeError(column)
        series = _series(column, vals, target)
    except _BUILD_ERRORS:
        good: list[Any] = []
        bad: list[str | None] = []
        for v in vals:
            try:
                good.append(None if v is None or (dtype != "str" and _blank(v))
                            else _coerce(dtype, v))
                bad.append(None)
            except _Fail:
                good.append(None)
                bad.append(_text(v))
        series = _series(column, good, target)
        _add_raw(raws, column, pl.Series(bad, dtype=pl.String))
    if dtype in _TIMES:
        raws.setdefault(column, None)
    return series


_TIMES = ("datetime", "date")


def _flat(column: str, vals: list[Any], dtype: pl.DataType) -> pl.Series:
    """``pl.Series(column, vals, dtype, strict=True)`` for a scalar dtype.

    For text, whole numbers, floats and booleans, polars' own constructor of that dtype is
    called directly: ``pl.Series`` calls the same one after ~20 us of checks that JSON values
    never need (of Python dataclasses, enums, mappings that are not dicts...). Whatever that
    constructor refuses goes to ``pl.Series``, which decides as before.
    """
    make = _MAKERS.get(dtype)
    if make is not None:
        try:
            return _wrap(make(column, vals, True))
        except (TypeError, OverflowError):
            pass
    return pl.Series(column, vals, dtype, strict=True)


def _makers() -> tuple[dict[pl.DataType, Any], Callable[[Any], pl.Series]]:
    try:
        from polars.datatypes.constructor import polars_type_to_constructor

        wrap = pl.Series._from_pyseries
        makers: dict[pl.DataType, Any] = {dtype: polars_type_to_constructor(dtype)
                  for dtype in (pl.String(), pl.Int64(), pl.Float64(), pl.Boolean())}
        for dtype, make in makers.items():  # a polars that changed them is used the plain way
            if wrap(make("x", [None], True)).dtype != dtype:
                raise TypeError(dtype)
        return makers, wrap
    except Exception:  # noqa: BLE001 -- private polars parts: any failure means pl.Series
        return {}, pl.Series


_MAKERS, _wrap = _makers()


def _framer() -> Callable[[list[pl.Series]], pl.DataFrame]:
    """``pl.DataFrame(columns)`` for a list of named Series: the frame is made from them
    directly, without the ~50 us of checks ``pl.DataFrame`` makes for other inputs (a frame
    is made twice for each shaped fetch). Same frame or the same error (duplicate names,
    unequal lengths: polars' frame constructor checks them either way); a Series without a
    name (an unknown field named ``""``) is named by ``pl.DataFrame`` as before."""
    try:
        from polars._plr import PyDataFrame

        wrap = pl.DataFrame._from_pydf

        def frame(columns: list[pl.Series]) -> pl.DataFrame:
            out = wrap(PyDataFrame([s._s for s in columns]))
            return pl.DataFrame(columns) if "" in out.columns else out

        probe = [pl.Series("a", [1]), pl.Series("b", ["x"], pl.String)]
        if not frame(probe).equals(pl.DataFrame(probe)) or frame([probe[0].alias("")]).columns \
                != pl.DataFrame([probe[0].alias("")]).columns:
            raise TypeError("frame")
        return frame
    except Exception:  # noqa: BLE001 -- private polars parts: any failure means pl.DataFrame
        return pl.DataFrame


_frame = _framer()


def _series(column: str, vals: list[Any], dtype: pl.DataType) -> pl.Series:
    """``pl.Series(column, vals, dtype, strict=True)``; a list column (every value a list or
    None) is built from the flat values of its rows, one reshape per list length."""
    if not isinstance(dtype, pl.List):
        return _flat(column, vals, dtype)
    inner = dtype.inner
    rows: dict[int, list[int]] = {}
    for i, v in enumerate(vals):
        rows.setdefault(-1 if v is None else len(v), []).append(i)
    parts: list[pl.Series] = []
    for length, where in rows.items():
        if length < 0:
            part = pl.Series([None] * len(where), dtype=dtype)
        elif length == 0:
            part = pl.Series([[]], dtype=dtype).gather([0] * len(where))
        else:
            flat = pl.Series(list(chain.from_iterable(vals[i] for i in where)), dtype=inner,
                             strict=True)
            part = flat.reshape((len(where), length)).cast(dtype)
        parts.append(part)
    if len(parts) == 1:
        return parts[0].alias(column)
    order = pl.Series([i for where in rows.values() for i in where], dtype=pl.UInt32)
    return pl.concat(parts).gather(order.arg_sort()).alias(column)


def _first_parse(text: pl.Expr, dtype: str) -> pl.Expr:
    """The usual form of a timestamp (ISO 8601 with milliseconds and ``Z``) or a date."""
    if dtype == "date":
        return text.str.to_date("%Y-%m-%d", strict=False)
    return text.str.to_datetime(_USUAL_TIMESTAMP, time_unit="us", time_zone="UTC", strict=False)


def _parse_times(texts: Mapping[str, tuple[pl.Series, str]], parsed: pl.DataFrame,
                 raws: dict[str, pl.Series | None]) -> dict[str, pl.Series]:
    """Each text column of ``texts`` (column -> (text, dtype)) as timestamps or dates.

    ``parsed`` holds each column read in the usual form (:func:`_first_parse`, one query for
    the whole frame). A column where that left a value unread is read the careful way: the
    other forms, and the text of what no form reads in ``raws``.
    """
    out: dict[str, pl.Series] = {}
    for column, (text, dtype) in texts.items():
        first = parsed[column]
        if first.null_count() != text.null_count():
            first = _parse_time(text, dtype)
            failed = first.is_null() & text.is_not_null() & \
                ~text.str.strip_chars().str.to_lowercase().is_in(list(NULL_TEXT))
            if failed.any():
                _add_raw(raws, column, _where(failed, text))
        out[column] = first
    return out


def _parse_time(texts: pl.Series, dtype: str) -> pl.Series:
    if dtype == "date":
        out = texts.str.to_date("%Y-%m-%d", strict=False)
        if (out.is_null() & texts.is_not_null()).any():
            out = _coalesce(out, _parse_time(texts, "datetime").dt.date())
        return out
    out = texts.str.to_datetime(_TIMESTAMP_FORMATS[0], time_unit="us", time_zone="UTC",
                                strict=False)
    if (out.is_null() & texts.is_not_null()).any():
        naive = texts.str.to_datetime(_TIMESTAMP_FORMATS[1], time_unit="us", strict=False)
        midnight = texts.str.to_date("%Y-%m-%d", strict=False).cast(pl.Datetime("us"))
        out = _coalesce(out, _coalesce(naive, midnight).dt.replace_time_zone("UTC"))
    return out


def _coalesce(first: pl.Series, second: pl.Series) -> pl.Series:
    return pl.select(pl.coalesce(first, second.alias("_"))).to_series().alias(first.name)


def _where(mask: pl.Series, series: pl.Series) -> pl.Series:
    """``series`` where ``mask`` is true, null elsewhere."""
    return pl.select(pl.when(mask).then(series)).to_series().alias(series.name)


def _add_raw(raws: dict[str, pl.Series | None], column: str, bad: pl.Series) -> None:
    if bad.null_count() == bad.len():
        return
    old = raws.get(column)
    raws[column] = bad if old is None else _coalesce(old, bad)


def _infer(column: str, vals: list[Any]) -> pl.Series:
    """An unknown field: scalars keep their type, anything else becomes text."""
    kinds = set(map(type, vals)) - {_NONE}
    for allowed, dtype in (({bool}, pl.Boolean), ({int}, pl.Int64), ({int, float}, pl.Float64),
                           ({str}, pl.String)):
        if kinds <= allowed:
            try:
                return pl.Series(column, vals, dtype, strict=True)
            except _BUILD_ERRORS:
                break
    return pl.Series(column, [None if v is None else _text(v) for v in vals], pl.String)

