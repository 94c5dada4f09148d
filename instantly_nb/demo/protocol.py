"""The request side of the demo API: error envelopes, parameter reading and validation against
the endpoint table, date windows and cursor pages.

Handlers receive a :class:`Call` and raise :class:`ApiError` for anything the API would refuse;
the server turns it into ``{"statusCode", "error", "message"}`` with the right status.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec

from ..spec import Endpoint, Param
from .config import Faults

__all__ = ["ApiError", "Call", "Raw", "Text", "envelope", "finish_page", "ints_and_texts", "page",
           "raw_page", "struct_page"]

REASONS = {
    400: "Bad Request", 401: "Unauthorized", 402: "Payment Required", 403: "Forbidden",
    404: "Not Found", 405: "Method Not Allowed", 413: "Payload Too Large",
    429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
    503: "Service Unavailable",
}
DEFAULT_PAGE = 10  # the API does not document its default; the spec's examples use 10
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TRUE, _FALSE = {"true", "1"}, {"false", "0"}


class ApiError(Exception):
    """An error answer: HTTP ``status`` with the API's error envelope."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


def envelope(status: int, message: str) -> dict[str, Any]:
    """The JSON body of an error answer (``statusCode``, ``error``, ``message``)."""
    return {"statusCode": status, "error": REASONS.get(status, "Error"), "message": message}


@dataclass
class Text:
    """A non-JSON answer (the block-list CSV download)."""

    body: str
    media_type: str = "text/csv"


@dataclass
class Raw:
    """A JSON answer already written as UTF-8 bytes (sent as they are; ``value()`` reads them
    back)."""

    data: bytes

    def value(self) -> Any:
        return json.loads(self.data)


_WRITE = msgspec.json.Encoder().encode


def ints_and_texts(value: Any) -> Raw:
    """``value`` -- dicts with text keys, lists, texts, ints, booleans and None, no floats --
    written by msgspec: for such values the very bytes of ``json.dumps(value,
    ensure_ascii=False, separators=(",", ":")).encode()``, several times faster (msgspec writes
    some floats otherwise: ``1e16`` for ``1e+16``, ``null`` for NaN)."""
    return Raw(_WRITE(value))


@dataclass
class Call:
    """One request as a handler sees it."""

    endpoint: Endpoint
    path: dict[str, str]
    query: list[tuple[str, str]]
    body: dict[str, Any]
    faults: Faults = field(default_factory=Faults)

    # -- raw access ----------------------------------------------------------------------------
    def _raw(self, name: str) -> Any:
        param = _params_of(self.endpoint).get(name)
        if param is not None and param.location == "body" or name in self.body:
            return self.body.get(name)
        if name in self.path:
            return self.path[name]
        values = [v for k, v in self.query if k in (name, f"{name}[]")]
        if not values:
            return None
        return values if len(values) > 1 or (param is not None and param.type == "array") \
            else values[0]

    def has(self, name: str) -> bool:
        return self._raw(name) is not None

    def text(self, name: str) -> str | None:
        value = self._raw(name)
        if value is None:
            return None
        if isinstance(value, list):
            value = ",".join(str(v) for v in value)
        return str(value)

    def flag(self, name: str, default: bool = False) -> bool:
        value = self._raw(name)
        if value is None:
            return default
        return _as_bool(name, value)

    def integer(self, name: str) -> int | None:
        value = self._raw(name)
        return None if value is None else int(_as_number(name, value))

    def array(self, name: str) -> list[str]:
        """An array parameter: repeated keys, comma-separated text or a JSON array."""
        value = self._raw(name)
        if value is None:
            return []
        items = value if isinstance(value, list) else [value]
        out: list[str] = []
        for item in items:
            if isinstance(item, str):
                out.extend(part.strip() for part in item.split(",") if part.strip())
            else:
                out.append(str(item))
        return out

    def uuid(self, name: str) -> str | None:
        value = self.text(name)
        if value is not None:
            _check_uuid(name, value)
        return value

    # -- validation ----------------------------------------------------------------------------
    def validate(self, skip_max_items: bool = False) -> None:
        """Check every declared parameter that is present; 400 on the first problem."""
        for param in self.endpoint.params:
            value = self._raw(param.name)
            if value is None:
                if param.required:
                    raise ApiError(400, f"{param.location}/{param.name} is required")
                continue
            _check_param(param, value, self.array(param.name) if param.type == "array" else [],
                         skip_max_items)

    # -- dates ---------------------------------------------------------------------------------
    def date(self, name: str) -> dt.date | None:
        value = self.text(name)
        return None if value is None else parse_date(name, value)

    def window(self, first: dt.date, last: dt.date, start: str = "start_date",
               end: str = "end_date") -> tuple[dt.date, dt.date]:
        """The inclusive date window asked for, defaulting to ``first`` .. ``last``."""
        a, b = self.date(start), self.date(end)
        if a is not None and b is not None and a > b:
            raise ApiError(400, f"{start} must be earlier than or equal to {end}")
        return (a or first), (b or last)

    # -- pages ---------------------------------------------------------------------------------
    def limit(self) -> int:
        value = self._raw("limit")
        top = _limit_max(self.endpoint)
        if value is None:
            return min(DEFAULT_PAGE, top)
        number = _as_number("limit", value)
        if number != int(number) or not 1 <= number <= top:
            raise ApiError(400, f"limit must be an integer between 1 and {top}")
        return int(number)


_PARAMS: dict[str, tuple[Endpoint, dict[str, Param]]] = {}


def _params_of(endpoint: Endpoint) -> dict[str, Param]:
    """``endpoint``'s parameters by name (the first of a name, as ``Endpoint.param``), kept per
    endpoint: a request reads each of its parameters a few times."""
    kept = _PARAMS.get(endpoint.name)
    if kept is None or kept[0] is not endpoint:
        by_name: dict[str, Param] = {}
        for p in endpoint.params:
            by_name.setdefault(p.name, p)
        kept = _PARAMS[endpoint.name] = (endpoint, by_name)
    return kept[1]


def _limit_max(endpoint: Endpoint) -> int:
    param = _params_of(endpoint).get("limit")
    if param is not None and param.maximum is not None:
        return int(param.maximum)
    return endpoint.page_limit or 100


def _as_bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ApiError(400, f"{name} must be a boolean")


def _as_number(name: str, value: Any) -> float:
    if isinstance(value, bool):
        raise ApiError(400, f"{name} must be a number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ApiError(400, f"{name} must be a number") from None
    if not math.isfinite(number):
        raise ApiError(400, f"{name} must be a finite number")
    return number


def _check_uuid(name: str, value: str) -> None:
    try:
        uuid.UUID(str(value))
    except ValueError:
        raise ApiError(400, f"{name} must be a valid UUID") from None


def _check_scalar(param: Param, kind: str, fmt: str | None, value: Any) -> None:
    name = param.name
    if kind == "boolean":
        _as_bool(name, value)
    elif kind in ("integer", "number"):
        number = _as_number(name, value)
        if kind == "integer" and number != int(number):
            raise ApiError(400, f"{name} must be an integer")
        if param.minimum is not None and number < param.minimum:
            raise ApiError(400, f"{name} must be >= {param.minimum:g}")
        if param.maximum is not None and number > param.maximum:
            raise ApiError(400, f"{name} must be <= {param.maximum:g}")
    elif fmt == "uuid":
        _check_uuid(name, str(value))
    elif fmt == "date":
        parse_date(name, str(value))


def _check_param(param: Param, value: Any, items: Sequence[str], skip_max_items: bool) -> None:
    if param.type == "array":
        if param.max_items is not None and len(items) > param.max_items and not skip_max_items:
            raise ApiError(400, f"{param.name} must not have more than {param.max_items} items")
        if param.min_items is not None and len(items) < param.min_items:
            raise ApiError(400, f"{param.name} must have at least {param.min_items} item(s)")
        for item in items:
            _check_scalar(param, param.items or "string", param.items_format, item)
        return
    if param.type == "object":
        if not isinstance(value, dict):
            raise ApiError(400, f"{param.name} must be an object")
        return
    _check_scalar(param, param.type, param.format, value)
    if param.enum:
        allowed = {str(v) for v in param.enum} | {str(float(v)) for v in param.enum
                                                   if isinstance(v, int | float)}
        if str(value) not in allowed:
            raise ApiError(400, f"{param.name} must be one of {list(param.enum)}")


def parse_date(name: str, value: str) -> dt.date:
    """``YYYY-MM-DD`` or an ISO timestamp (read in UTC) -> a date; 400 otherwise."""
    text = value.strip()
    try:
        if _DATE.match(text):
            return dt.date.fromisoformat(text)
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(400, f"{name} must be a date (YYYY-MM-DD) or an ISO timestamp") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC)
    return moment.date()


def finish_page(call: Call, items: list[Any], more: bool,
                cursor: Callable[[Any], str]) -> dict[str, Any]:
    """``{items, next_starting_after}`` for one page, with the cursor faults applied."""
    body: dict[str, Any] = {"items": items}
    if more and items or call.faults.dangling_cursor and items:
        body["next_starting_after"] = cursor(items[-1])
    elif call.faults.empty_final_cursor:
        body["next_starting_after"] = ""
    return body


def page(call: Call, records: Sequence[dict[str, Any]],
         key: Callable[[dict[str, Any]], str] = lambda r: r["id"]) -> dict[str, Any]:
    """One cursor page of ``records`` (already filtered and ordered)."""
    limit = call.limit()
    start = 0
    after = call.text("starting_after")
    if after:
        for i, record in enumerate(records):
            if key(record) == after:
                start = i + 1
                break
        else:
            raise ApiError(400, "starting_after does not match any record of this list")
    chunk = list(records[start:start + limit])
    return finish_page(call, chunk, start + limit < len(records), key)


def raw_page(call: Call, items: list[str] | bytes, more: bool, last_id: str | None) -> Raw:
    """:func:`finish_page` for items already written as JSON text (or as one JSON array in
    UTF-8); ``last_id``: the id of the last item (plain text, used as the cursor)."""
    listed = len(items) > 2 if isinstance(items, bytes) else bool(items)
    tail = "]}"
    if more and listed or call.faults.dangling_cursor and listed:
        tail = '],"next_starting_after":' + json.dumps(last_id, ensure_ascii=False) + "}"
    elif call.faults.empty_final_cursor:
        tail = '],"next_starting_after":""}'
    if isinstance(items, bytes):
        return Raw(b"".join((b'{"items":', items[:-1], tail.encode())))
    # each item encoded alone: most are ASCII (a copy), a whole page with one "é" is not
    return Raw(b"".join((b'{"items":[', b",".join([item.encode() for item in items]),
                         tail.encode())))


class _Page(msgspec.Struct):
    items: list[Any]
    next_starting_after: Any = msgspec.UNSET  # left out when UNSET


def struct_page(call: Call, records: list[Any], more: bool, last_id: str | None) -> Raw:
    """:func:`raw_page` for records msgspec writes (structs whose JSON is the item's text): the
    page written by one msgspec call, without joining the items' text into the page's."""
    cursor: Any = msgspec.UNSET
    if more and records or call.faults.dangling_cursor and records:
        cursor = last_id
    elif call.faults.empty_final_cursor:
        cursor = ""
    return Raw(_WRITE(_Page(records, cursor)))
