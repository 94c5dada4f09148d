"""Validation and normalisation of request parameters against the endpoint table, before
anything is sent.

:func:`prepare` turns the keyword arguments of ``client.fetch(name, **params)`` into path, query
and body parameters. It accepts Python values (lists for array parameters, ``datetime.date`` /
``datetime.datetime`` or ISO strings for dates) and sends each in the one form the API expects:

* UUIDs in their canonical form (``urn:uuid:``, braces, upper case or no dashes are rewritten);
* dates as ``YYYY-MM-DD`` (``20260131`` is accepted), timestamps as UTC ``...T...000Z``;
* whole numbers as integers (``-99.0`` is sent as ``-99``);
* objects (e.g. the smart-view ``queries`` of ``leads.list``) as JSON objects.

It raises :class:`~instantly_nb.errors.ParameterError` -- which names the parameter and says what
is allowed -- for unknown names, wrong types, NaN or infinite numbers, out-of-range numbers, bad
UUIDs, unknown enum values, text longer than :data:`MAX_TEXT`, control characters in path or
query text, empty or dot-only path values, ``None`` or empty items in lists, too many list items
and windows that end before they start.

:func:`batch_size` says how many items of an array parameter one request may carry, so the client
can split long id lists into several requests.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import ParameterError
from .spec import Endpoint, Param

__all__ = ["MAX_TEXT", "QUERY_LIST_ITEMS", "Prepared", "batch_size", "prepare", "to_iso_date"]

# (start, end) parameter pairs whose order is checked.
WINDOW_PAIRS = (
    ("start_date", "end_date"),
    ("from", "to"),
    ("date_from", "date_to"),
    ("min_timestamp_created", "max_timestamp_created"),
)
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DAY_RE = re.compile(r"^\d{4}-?\d{2}-?\d{2}$")  # 2026-01-31 or 20260131
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
#: Longest text value sent (a search term, a cursor, an id): longer values are refused.
MAX_TEXT = 4096
#: Most items of an array sent in the query string (each a repeated key of the URL): longer lists
#: are split into several requests where the answer has one row per item, refused elsewhere.
QUERY_LIST_ITEMS = 100
# Envelopes whose records can be concatenated across requests (one row per asked item).
_ROW_ENVELOPES = frozenset({"items", "array"})


@dataclass
class Prepared:
    path: dict[str, str] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    body: dict[str, Any] = field(default_factory=dict)

    def canonical(self) -> dict[str, Any]:
        """All parameters in one sorted mapping (for cache keys)."""
        merged: dict[str, Any] = {}
        for part in (self.path, self.query, self.body):
            merged.update(part)
        return {k: merged[k] for k in sorted(merged)}


def batch_size(endpoint: Endpoint, p: Param) -> int | None:
    """How many items of array parameter ``p`` one request may carry (None: no limit)."""
    if p.type != "array":
        return None
    if p.max_items:
        return p.max_items
    if p.location == "query" and endpoint.envelope in _ROW_ENVELOPES:
        return QUERY_LIST_ITEMS
    return None


def _utc_text(value: dt.datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    value = value.astimezone(dt.UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def to_iso_date(value: Any, name: str = "date") -> str:
    """A date or moment -> the text the API expects.

    ``datetime.date`` and day strings (``2026-01-31``, ``20260131``) give ``YYYY-MM-DD``;
    ``datetime.datetime`` and ISO timestamps give UTC ``YYYY-MM-DDTHH:MM:SS.mmmZ`` (naive ones
    are read as UTC).
    """
    if isinstance(value, dt.datetime):
        return _utc_text(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        text = value.strip()
        try:
            if _DAY_RE.match(text):
                return dt.date.fromisoformat(text).isoformat()
            if len(text) > 64 or not re.match(r"^\d{4}-?\d{2}-?\d{2}[T ]", text):
                raise ValueError(text)
            return _utc_text(dt.datetime.fromisoformat(text.replace("Z", "+00:00")))
        except ValueError:
            raise ParameterError(
                f"{name}={value[:80]!r} is not a date; pass a datetime.date or an ISO string such "
                "as '2026-01-31' or '2026-01-31T00:00:00Z'."
            ) from None
    raise ParameterError(f"{name} must be a date or an ISO date string, got {type(value).__name__}.")


def _moment(text: str) -> dt.datetime:
    if _DATE_RE.match(text):
        return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _is_dateish(p: Param) -> bool:
    return p.format in ("date", "date-time") or p.name in {a for pair in WINDOW_PAIRS for a in pair}


def _number(where: str, p: Param, value: Any, kind: str) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ParameterError(f"{where} must be a number, got {value!r}.")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ParameterError(f"{where} must be a finite number, got {value!r}.")
        if value.is_integer():
            value = int(value)  # -99.0 is sent as -99
        elif kind == "integer":
            raise ParameterError(f"{where} must be a whole number, got {value!r}.")
    if p.minimum is not None and value < p.minimum:
        raise ParameterError(f"{where}={value} is below the minimum {p.minimum:g}.")
    if p.maximum is not None and value > p.maximum:
        raise ParameterError(f"{where}={value} is above the maximum {p.maximum:g}.")
    return value


def _text(where: str, p: Param, value: Any, fmt: str | None) -> str:
    if isinstance(value, uuid.UUID):
        value = str(value)
    if not isinstance(value, str):
        raise ParameterError(f"{where} must be a string, got {type(value).__name__}.")
    if len(value) > MAX_TEXT:
        raise ParameterError(
            f"{where} is {len(value):,} characters long; the most sent is {MAX_TEXT:,}.")
    if p.location in ("path", "query") and _CONTROL.search(value):
        raise ParameterError(f"{where} contains a control character (such as a line break); "
                             "remove it.")
    if fmt == "uuid":
        try:
            return str(uuid.UUID(value.strip()))
        except ValueError:
            raise ParameterError(f"{where}={value[:80]!r} is not a UUID.") from None
    if p.location == "path" and value.strip(".") == "":
        raise ParameterError(f"{where}={value!r} cannot be a path segment; pass the real value.")
    return value


def _scalar(endpoint: Endpoint, p: Param, value: Any, kind: str, fmt: str | None) -> Any:
    where = f"{endpoint.name}: {p.name}"
    if kind == "boolean":
        if not isinstance(value, bool):
            raise ParameterError(f"{where} must be True or False, got {value!r}.")
        return value
    if kind in ("integer", "number"):
        return _number(where, p, value, kind)
    if kind == "object":
        if not isinstance(value, Mapping):
            raise ParameterError(f"{where} items must be mappings (JSON objects), got "
                                 f"{type(value).__name__}.")
        return dict(value)
    if _is_dateish(p) and fmt != "uuid":
        return to_iso_date(value, where)
    return _text(where, p, value, fmt)


def _array(endpoint: Endpoint, p: Param, value: Any) -> list[Any]:
    where = f"{endpoint.name}: {p.name}"
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, list | tuple | set | frozenset):
        value = [value]
    values = list(value)
    blank = [i for i, v in enumerate(values) if v is None or isinstance(v, str) and not v.strip()]
    if blank:
        raise ParameterError(
            f"{where} has None or empty values at position(s) {blank[:10]}; they would silently "
            "drop the filter. Remove them or pass only real values.")
    items = [_scalar(endpoint, p, v, p.items or "string", p.items_format) for v in values]
    if p.min_items is not None and len(items) < p.min_items:
        raise ParameterError(f"{where} needs at least {p.min_items} item(s), got {len(items)}.")
    limit = p.max_items or (QUERY_LIST_ITEMS if p.location == "query" else None)
    if limit is not None and len(items) > limit:
        raise ParameterError(
            f"{where} takes at most {limit} items in one request, got {len(items)}; fetch it "
            "through client.fetch (which splits lists where the answers can be joined) or ask "
            "in parts."
        )
    if p.enum:
        bad = [v for v in items if v not in p.enum]
        if bad:
            raise ParameterError(f"{where}: {bad!r} not among the allowed values {list(p.enum)!r}.")
    if endpoint.name == "leads.list" and p.name == "queries":
        _check_queries(where, items)
    return items


def _check_queries(where: str, queries: list[dict[str, Any]]) -> None:
    """Smart-view queries of ``leads.list``: ``{"actionType": ..., "values": {...}}`` each."""
    actions = ("reply", "email-open", "last-contacted", "link-click", "lead-status",
               "lead-status-change")
    for i, q in enumerate(queries):
        if q.get("actionType") not in actions or not isinstance(q.get("values"), Mapping):
            raise ParameterError(
                f"{where}[{i}] must look like {{'actionType': one of {list(actions)}, "
                "'values': {'occurrence-days': 1}}}, got " + repr(q)[:200] + ".")


def _one(endpoint: Endpoint, p: Param, value: Any) -> Any:
    where = f"{endpoint.name}: {p.name}"
    if p.type == "array":
        return _array(endpoint, p, value)
    if p.type == "object":
        if not isinstance(value, Mapping):
            raise ParameterError(f"{where} must be a mapping, got {type(value).__name__}.")
        return dict(value)
    out = _scalar(endpoint, p, value, p.type, p.format)
    if p.enum and out not in p.enum:
        raise ParameterError(f"{where}={value!r} is not among the allowed values {list(p.enum)!r}.")
    return out


def prepare(endpoint: Endpoint, params: Mapping[str, Any]) -> Prepared:
    """Validate ``params`` for ``endpoint`` and split them by location."""
    by_name = {p.name: p for p in endpoint.params}
    unknown = sorted(set(params) - set(by_name))
    if unknown:
        allowed = ", ".join(sorted(by_name)) or "none"
        raise ParameterError(
            f"{endpoint.name} does not take {', '.join(unknown)}; its parameters are: {allowed}."
        )
    out = Prepared()
    for name, value in params.items():
        if value is None:
            continue
        p = by_name[name]
        target = {"path": out.path, "query": out.query, "body": out.body}[p.location]
        converted = _one(endpoint, p, value)
        target[name] = str(converted) if p.location == "path" else converted
    missing = [p.name for p in endpoint.params if p.required and p.name not in out.canonical()]
    if missing:
        raise ParameterError(f"{endpoint.name} needs {', '.join(missing)}.")
    merged = out.canonical()
    for start, end in WINDOW_PAIRS:
        if isinstance(merged.get(start), str) and isinstance(merged.get(end), str):
            if _moment(merged[end]) < _moment(merged[start]):
                raise ParameterError(
                    f"{endpoint.name}: {end}={merged[end]} is before {start}={merged[start]}."
                )
    return out
