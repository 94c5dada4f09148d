"""Request bodies of the demo server: read with a size limit, parsed strictly.

Like the live API (whose body limit answers ``413 Payload Too Large`` with the usual error
envelope), a body larger than :data:`MAX_BODY_BYTES` is refused with 413: from its
``Content-Length`` before anything is read, or as soon as a stream without one passes the limit.
A body that is not a JSON object, is nested deeper than :data:`MAX_BODY_DEPTH`, or holds
``NaN``/``Infinity`` or a number beyond a float (``1e400``) answers 400 saying what is wrong.
"""

from __future__ import annotations

import json
import math
from typing import Any

from starlette.requests import ClientDisconnect
from starlette.types import Receive

from .protocol import ApiError

__all__ = ["MAX_BODY_BYTES", "MAX_BODY_DEPTH", "parse_body", "read_body"]

MAX_BODY_BYTES = 1 << 20  # request bodies above 1 MiB are refused
MAX_BODY_DEPTH = 32  # objects/arrays nested deeper than this are refused


async def read_body(declared: bytes | None, receive: Receive) -> bytes:
    """The request body read from ``receive`` (``declared``: its ``Content-Length`` header, if
    any), refused (413) as soon as it is known to exceed MAX_BODY_BYTES."""
    too_large = ApiError(413, f"Request body is too large: the limit is {MAX_BODY_BYTES} bytes")
    length = "" if declared is None else declared.decode("latin-1")
    if length.isdigit() and int(length) > MAX_BODY_BYTES:
        raise too_large
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect
        if message["type"] != "http.request":
            continue
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise too_large
        if chunk:
            chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number out of range: {text[:40]}")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _depth(node: Any) -> int:
    deepest, todo = 0, [(node, 1)]
    while todo:
        item, level = todo.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            todo.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def parse_body(raw: bytes) -> dict[str, Any]:
    """A JSON object body, or ApiError(400) saying what is wrong with it."""
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw, parse_float=_finite, parse_constant=_no_constant)
    except RecursionError:
        raise ApiError(400, f"Body is nested too deeply (limit {MAX_BODY_DEPTH} levels)") from None
    except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError included
        raise ApiError(400, f"Body is not valid JSON: {str(exc)[:120]}") from None
    if not isinstance(body, dict):
        raise ApiError(400, "Body must be a JSON object")
    if _depth(body) > MAX_BODY_DEPTH:
        raise ApiError(400, f"Body is nested too deeply (limit {MAX_BODY_DEPTH} levels)")
    return body
