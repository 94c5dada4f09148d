"""Reading checked pages in the background, a batch at a time, while later pages are checked.

:func:`instantly_nb.rawpages.read_page` checks a page with msgspec, which holds the interpreter
lock; polars' reader does not. So the pages a thread reads are gathered into batches of about
``BATCH_BYTES`` of answer bytes, and each full batch is read on a worker thread (written as
lines, then read by polars) while that thread goes on checking (or waiting for) the next pages:
on two cores the two halves of the work overlap instead of following each other. Pages of a
batch that never fills (a short fetch) are left to their fetch.

A batch only stands for the pages it was made of: :func:`take` uses a batch's read for a
run of pages that is exactly the batch, in order, and leaves every other page to be read then
(a fetch whose pages are split or reordered is still read whole and right, only later).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

__all__ = ["BATCH_BYTES", "Batch", "add", "held", "take"]

# Big enough that a read costs far more than starting one, small enough that the last batch of
# a fetch (read when the fetch ends, not in the background) is short.
BATCH_BYTES = 8 << 20

_local = threading.local()
_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None


class Batch:
    """Pages checked one after another by one thread, and the future of their read."""

    __slots__ = ("pages", "size", "future", "closed")

    def __init__(self) -> None:
        self.pages: list[Any] = []
        self.size = 0
        self.future: Future[Any] | None = None
        self.closed = False


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:  # one reader: each read is spread over the cores by polars itself
            _pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="instantly-nb-read")
        return _pool


def _forget_pool() -> None:  # a forked child has none of the parent's threads
    global _pool, _local
    _pool, _local = None, threading.local()


os.register_at_fork(after_in_child=_forget_pool)


def add(page: Any, size: int, read: Callable[[list[Any]], Any]) -> None:
    """Put ``page`` (``size`` bytes) in this thread's open batch; a batch that is full
    is closed and ``read`` of its pages starts on the worker."""
    batch = getattr(_local, "batch", None)
    if batch is None or batch.closed:
        batch = _local.batch = Batch()
    batch.pages.append(page)
    batch.size += size
    page.batch = batch
    if batch.size >= BATCH_BYTES:
        batch.closed = True
        _local.batch = None
        batch.future = _executor().submit(read, list(batch.pages))


def held() -> int:
    """Bytes of the pages in this thread's open batch (0 when there is none)."""
    batch = getattr(_local, "batch", None)
    return 0 if batch is None or batch.closed else batch.size


def take(pages: Sequence[Any]) -> list[tuple[Future[Any] | None, list[Any]]]:
    """``pages`` in order as runs: (the future of a batch's read, its pages) where a run is
    exactly a batch that was read in the background, else (None, pages left to read now).
    The pages leave their batches (a batch not yet full is closed: its fetch is over)."""
    out: list[tuple[Future[Any] | None, list[Any]]] = []
    i = 0
    while i < len(pages):
        batch = getattr(pages[i], "batch", None)
        if batch is not None and batch.future is not None and _starts(pages, i, batch.pages):
            out.append((batch.future, batch.pages))
            i += len(batch.pages)
            continue
        if batch is not None:
            batch.closed = True
        if out and out[-1][0] is None:
            out[-1][1].append(pages[i])
        else:
            out.append((None, [pages[i]]))
        i += 1
    for page in pages:  # no page -> batch -> page cycle outlives the fetch
        page.batch = None
    if getattr(_local, "batch", None) is not None and _local.batch.closed:
        _local.batch = None
    return out


def _starts(pages: Sequence[Any], i: int, run: list[Any]) -> bool:
    return len(pages) - i >= len(run) and all(
        a is b for a, b in zip(pages[i:i + len(run)], run, strict=True))
