"""Counters shared by the threads of a fan-out stay exact under contention."""

from __future__ import annotations

import contextvars
import sys
import threading
from collections.abc import Iterator

import pytest

from instantly_nb.endpoints import ENDPOINTS
from instantly_nb.fanout import Progress
from instantly_nb.http import count_requests

from .conftest import json_response
from .test_http import make_client

THREADS, EACH = 8, 250


@pytest.fixture
def preemptive() -> Iterator[None]:
    """Switch threads as often as the interpreter can, so a lost update would show."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


def _hammer(work: contextvars.Context, call: object) -> None:
    start = threading.Barrier(THREADS)

    def run() -> None:
        start.wait()
        for _ in range(EACH):
            call()  # type: ignore[operator]

    threads = [threading.Thread(target=work.copy().run, args=(run,)) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)


def test_requests_sent_and_the_task_tally_count_every_request(preemptive: None) -> None:
    client, rec = make_client(lambda r: json_response({"count": 1}),
                              rate_per_second=10**6, rate_per_minute=10**8)
    endpoint = ENDPOINTS["campaigns.count_launched"]
    with count_requests() as tally:  # one tally shared by every thread, as in a pull step
        _hammer(contextvars.copy_context(), lambda: client._requester.send(endpoint))
    assert len(rec.requests) == THREADS * EACH
    assert client.requests_sent == THREADS * EACH
    assert tally.n == THREADS * EACH


def test_progress_counts_every_update(preemptive: None) -> None:
    bar = Progress(False, None, "test")
    _hammer(contextvars.copy_context(), bar.update)
    assert bar.count == THREADS * EACH


def test_a_request_is_counted_only_under_the_counters_lock() -> None:
    """The count waits for the lock every counter shares (so no update can interleave)."""
    from instantly_nb import http

    client, rec = make_client(lambda r: json_response({"count": 1}))
    endpoint = ENDPOINTS["campaigns.count_launched"]
    with count_requests() as tally:
        worker = threading.Thread(target=contextvars.copy_context().run,
                                  args=(client._requester.send, endpoint))
        with http._COUNTERS:
            worker.start()
            worker.join(0.5)
            assert worker.is_alive() and client.requests_sent == 0 and rec.requests == []
        worker.join(10)
    assert client.requests_sent == 1 == tally.n and len(rec.requests) == 1
