"""Validation of request parameters against the endpoint table, before anything is sent.

:func:`prepare` turns the keyword arguments of ``client.fetch(name, **params)`` into path, query
and body parameters. It accepts Python values (lists for array parameters, ``datetime.date`` /
``datetime.datetime`` or ISO strings for dates) and raises
:class:`~instantly_nb.errors.ParameterError` -- which names the parameter and says what is
allowed -- for unknown names, wrong types, out-of-range numbers, bad UUIDs, unknown enum values,
too many list items and windows that end before they start.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import ParameterError
from .spec import Endpoint, Param

__all__ = ["Prepared", "prepare", "to_iso_date"]

# (start, end) parameter pairs whose order is checked.
WINDOW_PAIRS = (
    ("start_date", "end_date"),
    ("from", "to"),
    ("date_from", "date_to"),
    ("min_timestamp_created", "max_timestamp_created"),
)
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


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


def to_iso_date(value: Any, name: str = "date") -> str:
    """``datetime.date``/``datetime`` or an ISO string -> the string the API expects."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        text = value.strip()
        try:
            if _DATE_RE.match(text):
                dt.date.fromisoformat(text)
            else:
                dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ParameterError(
                f"{name}={value!r} is not a date; pass a datetime.date or an ISO string such as "
                "'2026-01-31' or '2026-01-31T00:00:00Z'."
            ) from None
        return text
    raise ParameterError(f"{name} must be a date or an ISO date string, got {type(value).__name__}.")


def _moment(text: str) -> dt.datetime:
    if _DATE_RE.match(text):
        return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _is_dateish(p: Param) -> bool:
    return p.format in ("date", "date-time") or p.name in {a for pair in WINDOW_PAIRS for a in pair}


def _scalar(endpoint: Endpoint, p: Param, value: Any, kind: str, fmt: str | None) -> Any:
    where = f"{endpoint.name}: {p.name}"
    if kind == "boolean":
        if not isinstance(value, bool):
            raise ParameterError(f"{where} must be True or False, got {value!r}.")
        return value
    if kind in ("integer", "number"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ParameterError(f"{where} must be a number, got {value!r}.")
        if kind == "integer" and int(value) != value:
            raise ParameterError(f"{where} must be a whole number, got {value!r}.")
        if p.minimum is not None and value < p.minimum:
            raise ParameterError(f"{where}={value} is below the minimum {p.minimum:g}.")
        if p.maximum is not None and value > p.maximum:
            raise ParameterError(f"{where}={value} is above the maximum {p.maximum:g}.")
        return int(value) if kind == "integer" else value
    if _is_dateish(p) and fmt != "uuid":
        return to_iso_date(value, where)
    if isinstance(value, uuid.UUID):
        value = str(value)
    if not isinstance(value, str):
        raise ParameterError(f"{where} must be a string, got {type(value).__name__}.")
    if fmt == "uuid":
        try:
            uuid.UUID(value)
        except ValueError:
            raise ParameterError(f"{where}={value!r} is not a UUID.") from None
    return value


def _one(endpoint: Endpoint, p: Param, value: Any) -> Any:
    where = f"{endpoint.name}: {p.name}"
    if p.type == "array":
        if isinstance(value, str | bytes) or not isinstance(value, list | tuple | set | frozenset):
            value = [value]
        items = [_scalar(endpoint, p, v, p.items or "string", p.items_format) for v in value]
        if p.min_items is not None and len(items) < p.min_items:
            raise ParameterError(f"{where} needs at least {p.min_items} item(s), got {len(items)}.")
        if p.max_items is not None and len(items) > p.max_items:
            raise ParameterError(
                f"{where} takes at most {p.max_items} items, got {len(items)}; split the request "
                "or use the client's batching method for this endpoint."
            )
        if p.enum:
            bad = [v for v in items if v not in p.enum]
            if bad:
                raise ParameterError(f"{where}: {bad!r} not among the allowed values {list(p.enum)!r}.")
        return items
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
