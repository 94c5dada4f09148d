"""What a listing's filters select, kept per workspace so the pages of one walk share it.

A cursor walk sends the same filters with every page; only ``limit`` and ``starting_after``
change. :class:`ListingCache` keeps the result of the filters (the ordered record indexes) under
a key made of every other parameter of the request, so each page costs a binary search and a
slice instead of filtering the whole workspace again. It holds at most ``capacity`` results
and ``max_bytes`` of arrays, and drops the least recently used one first. Errors are never
kept: a request whose filters fail fails again.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

from .protocol import Call

__all__ = ["ListingCache", "filter_key"]

T = TypeVar("T")
PAGING = ("limit", "starting_after")


def filter_key(call: Call) -> str:
    """The request's parameters except the paging ones, as one canonical text."""
    body = {k: v for k, v in call.body.items() if k not in PAGING}
    query = sorted((k, v) for k, v in call.query if k.removesuffix("[]") not in PAGING)
    return json.dumps([call.endpoint.name, call.path, body, query], sort_keys=True, default=str)


class ListingCache:
    """Filter key -> what the filters selected (see module docstring)."""

    def __init__(self, capacity: int = 32, max_bytes: int = 64 << 20) -> None:
        self.capacity, self.max_bytes = capacity, max_bytes
        self._items: OrderedDict[str, Any] = OrderedDict()
        self._sizes: dict[str, int] = {}
        self._lock = threading.Lock()

    @property
    def nbytes(self) -> int:
        """Bytes of the arrays held."""
        return sum(self._sizes.values())

    def get(self, key: str, build: Callable[[], T]) -> T:
        """The value kept under ``key``, built (outside the lock) when missing."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]  # type: ignore[no-any-return]
        value = build()
        size = _nbytes(value)
        if size > self.max_bytes:
            return value  # too large to keep
        with self._lock:
            self._items[key], self._sizes[key] = value, size
            self._items.move_to_end(key)
            while len(self._items) > self.capacity or self.nbytes > self.max_bytes:
                dropped, _ = self._items.popitem(last=False)
                del self._sizes[dropped]
        return value


def _nbytes(value: Any) -> int:
    parts = value if isinstance(value, tuple) else (value,)
    return sum(int(getattr(part, "nbytes", 0)) for part in parts)
