"""Fan-out of many requests on a bounded thread pool, and progress bars.

:func:`run_parts` runs one function per part (a batch of e-mails, a campaign, a date window...)
on a bounded pool. Every request still goes through the client's one shared throttle, so the
pool only overlaps network round trips. Results come back in the order of the parts, whatever
order they finish in. If any part fails, the others are cancelled and the part's own error is
raised again, with the part named in a note and in its ``part`` attribute: there is never a
silently partial frame, and ``except NotFoundError`` works for one id as for many. The parts still
running are told to stop (:mod:`instantly_nb.scope`) and are not waited for -- nor are they after
a Ctrl-C, so an interrupted fetch returns control at once.

:func:`fan_out_values` checks the values a list given for a single-valued parameter fans out
over: ``None`` or an empty value would send a request without that filter, whose workspace-wide
answer would land in rows labelled with the missing value, so they are refused.

Progress bars use ``tqdm.auto``; they are shown only for fetches of more than a few requests,
only when the output is interactive, and never when ``INSTANTLY_NB_PROGRESS=0`` (report runs set
it).
"""

from __future__ import annotations

import contextvars
import os
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from typing import Any, TypeVar

from .errors import InstantlyError, ParameterError
from .scope import cancellable

__all__ = ["fan_out_values", "run_parts", "Progress", "progress_enabled"]

T = TypeVar("T")
P = TypeVar("P")

PROGRESS_ENV = "INSTANTLY_NB_PROGRESS"
PROGRESS_MIN_STEPS = 5  # fewer requests than this never show a bar


def fan_out_values(where: str, values: Sequence[Any]) -> list[Any]:
    """The distinct values of a fan-out list, in order; ParameterError for None or empty ones."""
    if not values:
        raise ParameterError(f"{where} is an empty list; pass at least one value.")
    blank = [i for i, v in enumerate(values) if v is None or isinstance(v, str) and not v.strip()]
    if blank:
        raise ParameterError(
            f"{where} has None or empty values at position(s) {blank[:10]}; each would send a "
            "request without this filter. Remove them or pass only real values.")
    seen: dict[Any, None] = {}
    for v in values:
        seen.setdefault(v, None)
    return list(seen)


def progress_enabled(flag: bool | None) -> bool:
    """Resolve the client's ``progress`` flag: True/False win; None means 'when interactive'."""
    env = os.environ.get(PROGRESS_ENV, "").strip().lower()
    if env in ("0", "false", "no", "off"):
        return False
    if flag is not None:
        return flag
    if env in ("1", "true", "yes", "on"):
        return True
    if "ipykernel" in sys.modules:
        return True
    return bool(getattr(sys.stderr, "isatty", lambda: False)())


class Progress:
    """A thin, thread-safe wrapper over ``tqdm.auto`` that is a no-op when disabled.

    With an unknown total (a cursor walk), the bar appears only once ``PROGRESS_MIN_STEPS``
    steps have been counted, so one-page fetches never flash a bar.
    """

    def __init__(self, enabled: bool, total: int | None, desc: str, unit: str = "req"):
        self._enabled = enabled
        self._total = total
        self._desc = desc
        self._unit = unit
        self._count = 0
        self._bar: Any = None
        self._lock = threading.Lock()
        self.last_postfix = ""
        if enabled and total is not None and total >= PROGRESS_MIN_STEPS:
            self._open()

    def _open(self) -> None:
        from tqdm.auto import tqdm

        self._bar = tqdm(total=self._total, desc=self._desc, unit=self._unit, leave=False)
        self._bar.update(self._count)

    def update(self, n: int = 1) -> None:
        with self._lock:
            self._count += n
            if self._bar is None and self._enabled and self._count >= PROGRESS_MIN_STEPS:
                self._open()
            elif self._bar is not None:
                self._bar.update(n)

    @property
    def count(self) -> int:
        return self._count

    def postfix(self, text: str) -> None:
        """Show ``text`` after the bar's counts (an ETA, say)."""
        with self._lock:
            self.last_postfix = text
            if self._bar is not None:
                self._bar.set_postfix_str(text, refresh=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def run_parts(
    fn: Callable[[P], T],
    parts: Sequence[P],
    *,
    max_workers: int,
    describe: Callable[[P], str] = repr,
    progress: Progress | None = None,
) -> list[T]:
    """Run ``fn(part)`` for every part; return results in the order of ``parts``."""
    if not parts:
        return []
    if len(parts) == 1:
        result = fn(parts[0])  # a single request keeps its own error type
        if progress:
            progress.update()
        return [result]
    if max_workers <= 1:
        out = []
        for part in parts:
            out.append(_call(fn, part, describe, len(parts)))
            if progress:
                progress.update()
        return out
    with cancellable(threading.Event()) as stop:
        pool = ThreadPoolExecutor(max_workers=min(max_workers, len(parts)))
        try:
            futures: list[Future[T]] = [
                pool.submit(contextvars.copy_context().run, fn, part) for part in parts]
            if progress:
                for f in futures:
                    f.add_done_callback(lambda _f: progress.update())
            # bounded waits: a Ctrl-C is handled within a fraction of a second even where
            # lock waits are not interrupted by signals
            while wait(futures, timeout=0.25, return_when=FIRST_EXCEPTION).not_done \
                    and not any(f.done() and not f.cancelled() and f.exception() for f in futures):
                pass
            failed = next(((part, f) for part, f in zip(parts, futures, strict=True)
                           if f.done() and not f.cancelled() and f.exception() is not None), None)
        except BaseException:  # Ctrl-C: stop the parts still running, do not wait for them
            stop.set()
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        if failed is not None:
            stop.set()  # the other parts stop at their next request
            pool.shutdown(wait=False, cancel_futures=True)
            part, f = failed
            exc = f.exception()
            assert exc is not None
            raise _mark(exc, part, describe, len(parts))
        pool.shutdown(wait=True)
        return [f.result() for f in futures]


def _call(fn: Callable[[P], T], part: P, describe: Callable[[P], str], total: int) -> T:
    try:
        return fn(part)
    except Exception as exc:
        _mark(exc, part, describe, total)
        raise


def _mark(exc: BaseException, part: P, describe: Callable[[P], str], total: int) -> BaseException:
    """The part's own error, naming the part (a note, and ``part`` on the toolkit's errors)."""
    exc.add_note(f"while fetching {describe(part)} (one of {total} parts; no partial result "
                 "is returned)")
    if isinstance(exc, InstantlyError) and exc.part is None:
        exc.part = part
    return exc
