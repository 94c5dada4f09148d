"""The demo server's per-walk listing cache: bounded by count and by bytes, errors never kept,
and the filter key ignores the paging parameters only."""

from __future__ import annotations

import numpy as np
import pytest

from instantly_nb.demo.listing import ListingCache, filter_key
from instantly_nb.demo.protocol import ApiError, Call
from instantly_nb.endpoints import ENDPOINTS


def test_kept_values_are_reused_and_the_oldest_dropped_first():
    cache, built = ListingCache(capacity=2), []

    def build(name: str) -> np.ndarray:
        built.append(name)
        return np.arange(10)

    for name in ["a", "b", "a", "c", "a", "b"]:
        cache.get(name, lambda name=name: build(name))
    assert built == ["a", "b", "c", "b"]  # "b" was the least recently used when "c" came


def test_bytes_are_bounded():
    cache = ListingCache(capacity=100, max_bytes=8 * 1000)
    for k in range(5):
        cache.get(str(k), lambda: np.zeros(400, dtype=np.int64))  # 3,200 bytes each
    assert cache.nbytes == 6400
    huge = cache.get("huge", lambda: np.zeros(2000, dtype=np.int64))
    assert len(huge) == 2000 and cache.nbytes == 6400  # answered, not kept


def test_a_failing_build_is_not_kept():
    cache, calls = ListingCache(), []

    def fail() -> np.ndarray:
        calls.append(1)
        raise ApiError(404, "Campaign not found")

    for _ in range(2):
        with pytest.raises(ApiError):
            cache.get("k", fail)
    assert len(calls) == 2


def test_the_key_ignores_paging_only():
    leads = ENDPOINTS["leads.list"]
    first = Call(leads, {}, [], {"campaign": "x", "limit": 100})
    later = Call(leads, {}, [], {"campaign": "x", "limit": 10, "starting_after": "abc"})
    other = Call(leads, {}, [], {"campaign": "y", "limit": 100})
    assert filter_key(first) == filter_key(later) != filter_key(other)
    emails = ENDPOINTS["emails.list"]
    q1 = Call(emails, {}, [("limit", "100"), ("campaign_id", "c")], {})
    q2 = Call(emails, {}, [("campaign_id", "c"), ("starting_after", "z")], {})
    assert filter_key(q1) == filter_key(q2) != filter_key(Call(emails, {}, [], {}))
