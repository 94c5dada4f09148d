"""How long a pull's e-mail listing takes, said before it starts and counted down while it runs.

``GET /api/v2/emails`` allows 20 requests a minute, 100 e-mails a page: 2,000 e-mails a minute,
whatever else the workspace's limits allow. In a full pull that listing is the floor (a workspace
that has sent 100,000 e-mails needs ~50 minutes for it alone), so before a pull starts it says
how long the listing may take, from the workspace's own counts (``campaigns.analytics_overview``:
e-mails sent plus replies, an upper bound of what the Unibox lists), at the documented limit and
at the client's own pacing; while it runs, the pull's progress bar shows the time left at the
pace that binds. ``pull(skip=["emails.list"])`` leaves the listing out (:func:`without` says
which steps go with it); ``emails_since=`` bounds it to recent e-mails.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .endpoints import ENDPOINTS

__all__ = ["DOCUMENTED_PER_MINUTE", "EmailPlan", "plan_emails", "Countdown", "as_day", "without"]

log = logging.getLogger("instantly_nb.pull")

_LISTING = ENDPOINTS["emails.list"]
DOCUMENTED_PER_MINUTE: int = _LISTING.per_minute or 20
PAGE: int = _LISTING.page_limit or 100
_COUNTS = ("emails_sent_count", "reply_count")


@dataclass
class EmailPlan:
    """The e-mail listing's expected size and pace."""

    pages: int | None  # upper bound; None when the workspace's counts are not available
    per_minute: float  # the client's pace for the listing (requests a minute)
    since: dt.date | None = None

    def minutes(self, per_minute: float | None = None) -> float | None:
        if self.pages is None:
            return None
        return self.pages / (per_minute or self.per_minute)

    def sentence(self) -> str:
        scope = f"e-mails since {self.since}" if self.since else "every e-mail of the workspace"
        pace = (f"GET /api/v2/emails allows {DOCUMENTED_PER_MINUTE} requests a minute "
                f"({DOCUMENTED_PER_MINUTE * PAGE:,} e-mails a minute)")
        if self.pages is None:
            return (f"The pull lists {scope}; {pace}, so this listing sets the pull's pace. "
                    "Leave it out with skip=['emails.list'] (--skip emails.list) or bound it "
                    "with emails_since= (--emails-since).")
        at_limit = _duration(self.minutes(DOCUMENTED_PER_MINUTE) or 0.0)
        text = (f"The pull lists {scope}: at most {self.pages:,} pages (from the workspace's "
                f"counts of e-mails sent and replies); {pace}, so the listing may take up to "
                f"{at_limit} at the documented limit")
        if abs(self.per_minute - DOCUMENTED_PER_MINUTE) > 0.5:
            text += f" ({_duration(self.minutes() or 0.0)} at this client's pace)"
        return text + (". Leave it out with skip=['emails.list'] (--skip emails.list) or bound "
                       "it with emails_since= (--emails-since).")


def _duration(minutes: float) -> str:
    if minutes < 1:
        return f"{max(1, round(minutes * 60))} s"
    if minutes < 90:
        return f"{math.ceil(minutes)} min"
    return f"{minutes / 60:.1f} h"


def plan_emails(client: Any, since: dt.date | None) -> EmailPlan:
    """The listing's plan; one request (the workspace's overview counts), none if it fails."""
    throttle = getattr(client, "throttle", None)
    rate = throttle.rate("emails.list") * 60 if throttle is not None else DOCUMENTED_PER_MINUTE
    params: dict[str, Any] = {"start_date": since} if since else {}
    try:
        overview = client.fetch("campaigns.analytics_overview", **params)
        total = sum(int(overview[c].fill_null(0).sum()) for c in _COUNTS if c in overview.columns)
    except Exception as exc:  # noqa: BLE001 - only an estimate: say so and go on
        log.info("no estimate of the e-mail listing: %s", type(exc).__name__)
        return EmailPlan(None, rate, since)
    return EmailPlan(max(1, math.ceil(total / PAGE)), rate, since)


class Countdown:
    """While the e-mail listing runs, the pull bar shows its time left (updated each second)."""

    def __init__(self, bar: Any, plan: EmailPlan, interval: float = 1.0):
        self.bar, self.plan, self.interval = bar, plan, interval
        self.tally: Any = None  # the listing step's request count, once it runs
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._tick, daemon=True, name="pull-eta")

    def __enter__(self) -> Countdown:
        if self.plan.pages is not None:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2)

    def text(self) -> str:
        done = self.tally.n if self.tally is not None else 0
        pages = self.plan.pages or 0
        left = max(0, pages - done) / self.plan.per_minute
        return f"e-mails: page {done:,} of <= {pages:,}, <= {_duration(left)} left"

    def _tick(self) -> None:
        while not self._stop.wait(self.interval):
            self.bar.postfix(self.text())


def as_day(value: dt.date | str | None) -> dt.date | None:
    """``emails_since`` as a day."""
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        raise ValueError(f"emails_since must be a date (YYYY-MM-DD), got {value!r}") from None


def without(steps: list[Any], skip: list[str] | None, sweep: Sequence[Any]
            ) -> tuple[list[Any], dict[str, str]]:
    """``steps`` (of ``sweep``) minus the skipped ones and those that need them, and why each
    was left out."""
    names = {s.name for s in sweep}
    unknown = sorted(set(skip or ()) - names)
    if unknown:
        raise ValueError(f"not steps of the sweep: {unknown}; choose from {sorted(names)}")
    out: dict[str, str] = {n: "skipped: asked" for n in skip or () if n in {s.name for s in steps}}
    kept = []
    for step in steps:  # sweep order: what a step needs comes before it
        if step.name in out:
            continue
        gone = [n for n in step.needs if n in out]
        if gone:
            out[step.name] = "skipped: needs " + ", ".join(gone)
        else:
            kept.append(step)
    return kept, out
