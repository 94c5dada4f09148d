"""Shaping: API answers -> typed polars frames. Pure functions; nothing here sends a request.

Columns follow the naming rule of :mod:`instantly_nb.spec` (``<parent>__<child>`` for nested
objects, JSON text for free-form objects, list columns for arrays, ``<field>_label`` for enum
codes); the endpoint table lists every declared column with its dtype. Frames always have the
declared columns, in declared order, with declared dtypes -- for zero rows as for a million.

Dtypes: ``str`` -> String, ``int`` -> Int64, ``float`` -> Float64, ``bool`` -> Boolean,
``datetime`` -> Datetime("us", "UTC"), ``date`` -> Date, ``json`` -> String (JSON text),
``list[x]`` -> List(x), ``list[json]`` -> List(String).

What happens to data that does not fit (schema drift never raises; the value-level conversions
live in :mod:`instantly_nb.coerce`):

* Unknown fields are kept as extra columns after the declared ones, sorted by name (unknown keys
  inside a flattened object become ``<parent>__<key>``). Scalars keep their inferred type; lists,
  objects and mixed types become text (JSON for anything that is not a string).
* A declared field whose value cannot be coerced to its dtype (a word where a number belongs, an
  object where a string belongs, a malformed timestamp) becomes null, and the original value is
  kept as text in an extra ``<column>_raw`` column (null on the rows that converted fine).
  Safe coercions happen silently: ``"3"`` or ``3.0`` -> 3, ``1`` -> 1.0, ``true`` -> 1,
  ``3`` -> ``"3"``, a lone scalar where a list belongs -> a one-element list.
* ``step``/``variant`` of the step analytics arrive as strings of integers and become Int64; a
  null stays null, a non-numeric string becomes null and is kept in ``step_raw``/``variant_raw``.
* ``""`` and ``"null"`` where a number, a boolean or a time belongs mean "no value": null, with
  no ``_raw`` column (``campaign_schedule`` dates of drafts arrive as ``""``).
* Rows the live API adds to some answers (a phantom account row, a step-less row of zeros) are
  dropped, and e-mail ``step`` texts like ``"0_1_0"`` are split into numbers: see
  :mod:`instantly_nb.drift`, which also names the derived columns of the schema.
* Unknown enum codes keep their value; their ``_label`` is null.
* Timestamps are parsed as ISO 8601 (``Z`` or an offset, any fraction; a value without an
  offset is read as UTC, a bare date as midnight UTC). Dates are ``YYYY-MM-DD``.

Special envelopes:

* ``accounts.warmup_analytics`` answers maps keyed by e-mail (and date). Two views read it:
  ``accounts.warmup_daily`` (one row per account and day; also the endpoint's own frame) and
  ``accounts.warmup_summary`` (one row per account). The API leaves out ``landed_spam`` when it is
  zero (in its own example every entry without it has ``sent == landed_inbox``), so a missing
  ``landed_spam`` counts as 0. A missing ``received`` stays null: the same example omits it from
  a summary whose days do report received mail, so its absence does not mean zero.
* ``accounts.test_vitals`` gives one row per tested account from ``success_list`` and
  ``failure_list``, with ``status`` = ``"success"`` / ``"failure"`` naming the list.
* ``block_list_entries.download`` is CSV text: one row per line, one String column per header.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from functools import cache
from itertools import repeat
from typing import Any

import polars as pl

from .coerce import (  # noqa: F401 -- the underscored names are shared with fast shaping paths
    _BUILD_ERRORS,
    _NONE,
    _TIMES,
    _add_raw,
    _build,
    _first_parse,
    _frame,
    _infer,
    _parse_time,
    _parse_times,
    _text,
    _where,
    polars_dtype,
)
from .drift import DERIVED, clean_rows, derived_exprs
from .endpoint_facts import VIEWS, fields_of
from .endpoints import ENDPOINTS
from .errors import ResponseShapeError, UnknownEndpointError
from .masking import mask_secrets
from .spec import Endpoint, Field, csv_column

__all__ = ["empty", "from_bodies", "polars_dtype", "records", "schema", "to_frame"]

_EMPTY: dict[str, Any] = {}


# -- records: where the rows are in one answer -------------------------------------------------
def _shape_error(ep: Endpoint, what: str, body: Any) -> ResponseShapeError:
    return ResponseShapeError(
        f"{ep.name}: expected {what} in the answer but got {type(body).__name__}; the API may have "
        "changed. Fetch the raw answer to inspect it and report the difference.",
        method=ep.method, path=ep.path)


def _mapping(ep: Endpoint, body: Any, key: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise _shape_error(ep, "a JSON object", body)
    value = body.get(key) or {}
    if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
        raise _shape_error(ep, f"an object of objects under {key!r}", value)
    return value


def _warmup_daily(body: Any) -> list[dict[str, Any]]:
    ep = ENDPOINTS["accounts.warmup_analytics"]
    out = []
    for email, days in _mapping(ep, body, "email_date_data").items():
        for day, counts in _mapping(ep, {"days": days}, "days").items():
            out.append({"landed_spam": 0, **counts, "email": email, "date": day})
    return out


def _warmup_summary(body: Any) -> list[dict[str, Any]]:
    ep = ENDPOINTS["accounts.warmup_analytics"]
    return [{"landed_spam": 0, **totals, "email": email}
            for email, totals in _mapping(ep, body, "aggregate_data").items()]


def _test_vitals(ep: Endpoint, body: Any) -> list[dict[str, Any]]:
    lists = {k: body.get(k) or [] for k in ("success_list", "failure_list")} \
        if isinstance(body, dict) else None
    if lists is None or not all(isinstance(v, list) for v in lists.values()):
        raise _shape_error(ep, "an object with success_list and failure_list lists", body)
    return [{**_as_record(item), "status": key.split("_")[0]}
            for key, items in lists.items() for item in items]


def _as_record(item: Any) -> dict[str, Any]:
    return item if isinstance(item, dict) else {"value": item}


def _listed(ep: Endpoint, body: Any) -> list[Any]:
    if isinstance(body, list):
        return body
    if isinstance(body, dict) and isinstance(body.get("items"), list):
        return body["items"]
    raise _shape_error(ep, "a list of records (bare or under 'items')", body)


def _text_rows(ep: Endpoint, body: Any) -> list[dict[str, Any]]:
    if isinstance(body, bytes):
        body = body.decode("utf-8-sig")
    if not isinstance(body, str):
        raise _shape_error(ep, "CSV text", body)
    reader = csv.DictReader(io.StringIO(body), restkey="_rest")
    return [{csv_column(k) if k != "_rest" else k: v for k, v in row.items()} for row in reader]


def records(endpoint: Endpoint | str, body: Any) -> list[dict[str, Any]]:
    """The records of one success answer, read per the endpoint's envelope.

    Parameters
    ----------
    endpoint : Endpoint or str
        An entry of ``ENDPOINTS`` (or its name), or a view name such as
        ``"accounts.warmup_summary"``.
    body : Any
        The decoded JSON answer (text for CSV endpoints).

    Returns
    -------
    list of dict
        One dict per row, not yet flattened.

    Raises
    ------
    ResponseShapeError
        The answer has no records where the envelope puts them (e.g. no ``items`` list).

    Examples
    --------
    >>> records("campaigns.analytics_overview", {"open_count": 3})
    [{'open_count': 3}]
    """
    name = endpoint if isinstance(endpoint, str) else endpoint.name
    if name in VIEWS:
        return _READERS[VIEWS[name].reads](body)
    ep = endpoint if isinstance(endpoint, Endpoint) else _endpoint(name)
    if ep.envelope == "keyed":
        return _warmup_daily(body)
    if ep.envelope == "text":
        return _text_rows(ep, body)
    if name == "accounts.test_vitals":
        return _test_vitals(ep, body)
    if ep.envelope == "object":
        if not isinstance(body, dict):
            raise _shape_error(ep, "a JSON object", body)
        return [body]
    items = _listed(ep, body)
    return list(items) if set(map(type, items)) <= {dict} else [_as_record(i) for i in items]


# -- schema -----------------------------------------------------------------------------------
def _endpoint(name: str) -> Endpoint:
    try:
        return ENDPOINTS[name]
    except KeyError:
        raise UnknownEndpointError(
            f"no endpoint or view named {name!r}; see instantly_nb.endpoints.ENDPOINTS "
            f"and instantly_nb.endpoint_facts.VIEWS for the names") from None


def _fields(name: str) -> tuple[Field, ...]:
    if name in VIEWS:
        return fields_of(name)
    return _endpoint(name).fields


def schema(name: str) -> dict[str, pl.DataType]:
    """Declared columns and dtypes of the frame of an endpoint or view, in order.

    Examples
    --------
    >>> list(schema("campaigns.analytics_steps"))[:3]
    ['step', 'variant', 'variant_label']
    """
    out: dict[str, pl.DataType] = {}
    for f in _fields(name):
        out[f.name] = polars_dtype(f.dtype)
        if f.enum:
            out[f"{f.name}_label"] = pl.String()
    out.update(DERIVED.get(name, {}))
    return out


def empty(name: str) -> pl.DataFrame:
    """A frame with the declared columns of ``name`` and no rows."""
    return pl.DataFrame(schema=schema(name))


@cache
def _tree(name: str) -> dict[str, Any]:
    """Declared fields as nested dicts keyed by the parts of their ``__`` names."""
    root: dict[str, Any] = {}
    for f in _fields(name):
        *parents, leaf = f.name.split("__")
        node = root
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = f
    return root


# -- frames -----------------------------------------------------------------------------------
def _walk(node: dict[str, Any], rows: list[dict[str, Any]], prefix: str,
          out: dict[str, pl.Series], extras: dict[str, pl.Series],
          raws: dict[str, pl.Series | None], times: dict[str, str]) -> None:
    """Fill ``out`` with the declared columns under ``node`` and ``extras`` with unknown ones
    (timestamps and dates as text, named in ``times`` with their dtype)."""
    present = set().union(*rows)
    for key, child in node.items():
        column = prefix + key
        if key not in present:  # no row has it: skip a pass over every row
            _nulls(child, column, len(rows), out)
            continue
        vals = list(map(dict.get, rows, repeat(key)))
        if isinstance(child, Field):
            out[column] = _build(column, child.dtype, vals, raws)
            if child.dtype in _TIMES:
                times[column] = child.dtype
            continue
        kinds = set(map(type, vals)) - {dict, _NONE}
        if kinds:  # drift: something other than an object where an object is declared
            _add_raw(raws, column, pl.Series(
                [None if v is None or isinstance(v, dict) else _text(v) for v in vals],
                dtype=pl.String))
        # without drift every value is a dict or None, and ``or`` is the cheapest test
        nested = [v if isinstance(v, dict) else _EMPTY for v in vals] if kinds else \
            [v or _EMPTY for v in vals]
        _walk(child, nested, column + "__", out, extras, raws, times)
    for key in sorted(present - node.keys()):
        extras[prefix + key] = _infer(prefix + key, list(map(dict.get, rows, repeat(key))))


def _nulls(child: Field | dict[str, Any], column: str, n: int, out: dict[str, pl.Series]) -> None:
    if isinstance(child, Field):
        out[column] = pl.Series(column, [None] * n, polars_dtype(child.dtype))
        return
    for key, grandchild in child.items():
        _nulls(grandchild, f"{column}__{key}", n, out)


def _typed(name: str, out: dict[str, pl.Series],
           raws: dict[str, pl.Series | None], times: dict[str, str]) -> dict[str, pl.Series]:
    """Parse the timestamps and dates of ``out`` in place; return the label and derived
    columns. One polars query does all of it (each Series operation would be a query)."""
    used: dict[str, pl.Series] = {}
    exprs: list[pl.Expr] = []
    for column, dtype in times.items():
        used[column] = out[column]
        exprs.append(_parsing(column, dtype))
    for column, label in _labels(name):
        used[column] = out[column]
        exprs.append(label)
    derived = derived_exprs(name)
    if derived:
        used.update((c, out[c]) for c in derived[0])
        exprs.extend(derived[1])
    if not exprs:
        return {}
    got = _frame(list(used.values())).select(exprs)
    out.update(_parse_times({c: (out[c], d) for c, d in times.items()}, got, raws))
    return {c: got[c] for c in got.columns if c not in times}


@cache
def _parsing(column: str, dtype: str) -> pl.Expr:
    return _first_parse(pl.col(column), dtype).alias(column)


@cache
def _labels(name: str) -> tuple[tuple[str, pl.Expr], ...]:
    """Each enum column of ``name`` and the expression of its label (made once: making one
    costs more than running it on a small frame)."""
    out = []
    for f in _fields(name):
        if f.enum:
            codes, labels = zip(*f.enum, strict=True)
            out.append((f.name, pl.col(f.name).replace_strict(
                list(codes), list(labels), default=None, return_dtype=pl.String
            ).alias(f"{f.name}_label")))
    return tuple(out)


def to_frame(name: str, rows: Sequence[dict[str, Any]] | Iterable[dict[str, Any]]
             ) -> pl.DataFrame:
    """A typed frame of records (see the module docstring for the rules).

    Parameters
    ----------
    name : str
        An ``ENDPOINTS`` name or a view name (``accounts.warmup_daily``, ...).
    rows : sequence of dict
        Records as :func:`records` returns them.

    Returns
    -------
    polars.DataFrame
        The declared columns (``schema(name)``) first, then any extra columns.

    Examples
    --------
    >>> to_frame("campaigns.analytics_steps", [{"step": "1", "variant": "1", "sent": 5}]).row(0)[:4]
    (1, 1, 'B', 5)
    """
    rows = rows if isinstance(rows, list) else list(rows)
    if not set(map(type, rows)) <= {dict}:
        rows = [r if isinstance(r, dict) else _as_record(r) for r in rows]
    rows = clean_rows(name, rows)
    if not rows:
        return empty(name)
    out: dict[str, pl.Series] = {}
    extras: dict[str, pl.Series] = {}
    raws: dict[str, pl.Series | None] = {}
    times: dict[str, str] = {}
    _walk(_tree(name), rows, "", out, extras, raws, times)
    return _assemble(name, out, extras, raws, times)


def _assemble(name: str, out: dict[str, pl.Series], extras: dict[str, pl.Series],
              raws: dict[str, pl.Series | None], times: dict[str, str]) -> pl.DataFrame:
    """The frame of walked columns: declared ones with their labels, derived, extra and
    ``_raw`` columns, in that order (timestamps still text in ``out``, see :func:`_walk`)."""
    fields = _fields(name)
    added = _typed(name, out, raws, times)
    columns: list[pl.Series] = []
    for f in fields:
        columns.append(out[f.name])
        if f.enum:
            columns.append(added[f"{f.name}_label"])
    columns.extend(added[c] for c in DERIVED.get(name, ()))
    taken = {s.name for s in columns}
    for series in (*extras.values(),
                   *(s.alias(f"{c}_raw") for c, s in raws.items() if s is not None)):
        alias = series.name
        while alias in taken:  # an unknown field named like a declared column keeps its data
            alias += "_extra"
        taken.add(alias)
        columns.append(series.alias(alias))
    return mask_secrets(_frame(columns))  # API keys, passwords... never leave shaping


def from_bodies(name: str, bodies: Iterable[Any]) -> pl.DataFrame:
    """The frame of every page of one fetch: :func:`records` of each body, then :func:`to_frame`.

    Examples
    --------
    >>> from_bodies("campaigns.list", [{"items": []}]).height
    0
    """
    rows: list[dict[str, Any]] = []
    for body in bodies:
        rows.extend(records(name, body))
    return to_frame(name, rows)


# How a view reads the part of its source's answer it is made of (``View.reads``).
_READERS: dict[str, Callable[[Any], list[dict[str, Any]]]] = {
    "email_date_data": _warmup_daily,
    "aggregate_data": _warmup_summary,
}
