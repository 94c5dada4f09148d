"""Settings of one task (a pull, say) that follow it into every thread it fans out to.

They are context variables: :func:`instantly_nb.fanout.run_parts` and the pull scheduler copy the
context into their worker threads, so a setting made by a task reaches every request made on its
behalf -- and nothing else (another thread using the same client is not affected).

* :func:`cancellable` -- a :class:`threading.Event` that, once set, stops the task: each request
  attempt checks it (:func:`check_cancelled`) and waits (throttle pacing, retry backoff) wake up
  at once (:func:`interruptible_sleep`), raising :class:`Cancelled`. Blocks nest: a fan-out inside
  a pull step stops when either its own event or the pull's is set.
* :func:`using_store` -- the snapshot store the task's fetches read and write instead of the
  client's own (``client.pull(out)`` keeps its snapshots under ``out`` this way, without
  changing ``client.store`` for anyone else).
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["Cancelled", "cancellable", "check_cancelled", "current_store", "interruptible_sleep",
           "using_store"]

_cancel: contextvars.ContextVar[tuple[threading.Event, ...]] = contextvars.ContextVar(
    "instantly_nb_cancel", default=())
_POLL = 0.1  # seconds between looks at the outer events (and pending signals) while waiting
_store: contextvars.ContextVar[Any] = contextvars.ContextVar("instantly_nb_store", default=None)


class Cancelled(Exception):  # noqa: N818 - the name says what happened
    """The task this request belonged to was cancelled (e.g. a pull stopped by Ctrl-C)."""


@contextmanager
def cancellable(event: threading.Event) -> Iterator[threading.Event]:
    """Within the block (and the threads it fans out to), setting ``event`` stops the work."""
    token = _cancel.set((*_cancel.get(), event))
    try:
        yield event
    finally:
        _cancel.reset(token)


def check_cancelled() -> None:
    """Raise :class:`Cancelled` when the current task (or one it belongs to) was cancelled."""
    if any(event.is_set() for event in _cancel.get()):
        raise Cancelled("the task was cancelled before this request was sent")


def interruptible_sleep(seconds: float) -> None:
    """``time.sleep`` that returns early, raising :class:`Cancelled`, when the task is cancelled."""
    events = _cancel.get()
    if not events:
        time.sleep(seconds)
        return
    deadline = time.monotonic() + max(0.0, seconds)
    while True:
        check_cancelled()
        left = deadline - time.monotonic()
        if left <= 0:
            return
        events[-1].wait(min(left, _POLL))  # slices: outer events, and signals, are seen


@contextmanager
def using_store(store: Any) -> Iterator[Any]:
    """Within the block (and the threads it fans out to), fetches use ``store``."""
    token = _store.set(store)
    try:
        yield store
    finally:
        _store.reset(token)


def current_store(default: Any) -> Any:
    """The store set by :func:`using_store`, else ``default`` (the client's own)."""
    store = _store.get()
    return default if store is None else store
