"""What a listing's filters select, kept per workspace so the pages of one walk share it.

A cursor walk sends the same filters with every page; only ``limit`` and ``starting_after``
change. :class:`ListingCache` keeps the result of the filters (the ordered record indexes) under
a key made of every other parameter of the request, so each page costs a binary search and a
slice instead of filtering the whole workspace again. It holds a bounded number of results and
drops the least recently used one first. Errors are never kept: a request whose filters fail
fails again.
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

    def __init__(self, capacity: int = 32) -> None:
        self.capacity = capacity
        self._items: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str, build: Callable[[], T]) -> T:
        """The value kept under ``key``, built (outside the lock) when missing."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]  # type: ignore[no-any-return]
        value = build()
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)
        return value
