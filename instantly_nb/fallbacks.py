"""Known failures of the live API and how a fetch gets the same data another way.

Two requests fail for a reason that retrying does not cure:

* ``GET /campaigns/analytics`` without ``id``/``ids`` answers ``500 "Unable to count leads"`` in
  large workspaces. The data is fetched again one request per campaign id (drafts, which have
  never sent, are left out as in the unfiltered answer). A campaign whose own request fails the
  same way is asked once more with ``exclude_total_leads_count=true``; its ``leads_count`` is then
  unknown and stays null rather than the 0 the API sends in that mode. A request for given
  campaign ids that fails this way is asked again the same way.
* ``GET /accounts/analytics/daily`` answers 500 on wide date windows. The window is halved until
  the parts answer (down to single days); the client removes rows repeated across parts.
  The same endpoint sometimes ignores its ``emails`` filter: rows of accounts that were not asked
  for are left out (logged), so batches of accounts never add up to duplicates.

Each fallback is logged at WARNING on the ``instantly_nb.fallbacks`` logger. :func:`retry_limit`
tells the request function how many attempts such a failure deserves before the fallback takes
over, so a deterministic 500 does not cost six attempts and their backoff.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from .errors import APIError, ServerError
from .params import Prepared, prepare
from .spec import Endpoint

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl

__all__ = ["COUNT_LEADS_MESSAGE", "Source", "fetch_bodies", "retry_limit"]


class Source(Protocol):
    """What a fallback needs of a client (a :class:`~instantly_nb.Client` is one)."""

    max_workers: int

    def fetch(self, name: str, **params: Any) -> pl.DataFrame: ...

log = logging.getLogger("instantly_nb.fallbacks")

COUNT_LEADS_MESSAGE = "unable to count leads"
DRAFT = 0

Walk = Callable[[Prepared], list[Any]]


def _counts_leads_failure(endpoint: Endpoint, error: BaseException) -> bool:
    return (endpoint.name == "campaigns.analytics" and isinstance(error, ServerError)
            and COUNT_LEADS_MESSAGE in (error.api_message or "").lower())


def _window(values: Mapping[str, Any]) -> tuple[dt.date, dt.date] | None:
    start, end = values.get("start_date"), values.get("end_date")
    if not start or not end:
        return None
    try:
        return dt.date.fromisoformat(str(start)[:10]), dt.date.fromisoformat(str(end)[:10])
    except ValueError:
        return None


def _wide_daily_failure(endpoint: Endpoint, values: Mapping[str, Any],
                        error: BaseException) -> bool:
    window = _window(values)
    return (endpoint.name == "accounts.analytics_daily" and isinstance(error, ServerError)
            and error.status == 500 and window is not None and window[0] < window[1])


def retry_limit(endpoint: Endpoint, query: Mapping[str, Any] | None,
                body: Mapping[str, Any] | None, error: BaseException) -> int | None:
    """Attempts a failure deserves when a fallback exists for it, else None (the usual policy).

    "Unable to count leads" is deterministic: no retry. A 500 on a multi-day account window may
    be a passing error, so it gets one retry before the window is split.
    """
    values = {**(query or {}), **(body or {})}
    if _counts_leads_failure(endpoint, error):
        return 1
    if _wide_daily_failure(endpoint, values, error):
        return 2
    return None


def fetch_bodies(client: Source, endpoint: Endpoint, prepared: Prepared, walk: Walk) -> list[Any]:
    """The answer bodies of one request (all its pages), by a fallback when the API fails.

    ``walk(prepared)`` fetches every page of one prepared request.
    """
    values = prepared.canonical()
    try:
        bodies = walk(prepared)
    except APIError as exc:
        if _counts_leads_failure(endpoint, exc):
            if values.get("id") or values.get("ids"):
                return _without_leads_count(endpoint, values, walk, "the asked campaigns")
            return _per_campaign(client, endpoint, values, walk)
        if not _wide_daily_failure(endpoint, values, exc):
            raise
        bodies = _split_daily(endpoint, values, walk, exc)
    if endpoint.name == "accounts.analytics_daily" and values.get("emails"):
        bodies = _only_asked(values["emails"], bodies)
    return bodies


def _only_asked(emails: Any, bodies: list[Any]) -> list[Any]:
    """Rows of the accounts asked for: the API sometimes ignores the ``emails`` filter."""
    asked = {str(e).strip().lower() for e in (emails if isinstance(emails, list | tuple)
                                               else str(emails).split(","))}
    out, dropped = [], 0
    for body in bodies:
        if not isinstance(body, list):
            out.append(body)
            continue
        kept = [row for row in body if not isinstance(row, dict) or not row.get("email_account")
                or str(row["email_account"]).strip().lower() in asked]
        dropped += len(body) - len(kept)
        out.append(kept)
    if dropped:
        log.warning("accounts.analytics_daily: the API answered %d row(s) for accounts not asked "
                    "for (it ignored the e-mail filter); they are left out.", dropped)
    return out


def _per_campaign(client: Source, endpoint: Endpoint, values: dict[str, Any],
                  walk: Walk) -> list[Any]:
    from .fanout import run_parts

    campaigns = client.fetch("campaigns.list")
    ids = [cid for cid, status in zip(campaigns["id"].to_list(),
                                      campaigns["status"].to_list(), strict=True)
           if status != DRAFT and cid]
    log.warning("campaigns.analytics: the API answered 500 'Unable to count leads' for the whole "
                "workspace; fetching it again one request per campaign (%d campaigns).", len(ids))

    def one(cid: str) -> list[Any]:
        single = {**values, "id": cid}
        try:
            return walk(prepare(endpoint, single))
        except APIError as exc:
            if not _counts_leads_failure(endpoint, exc):
                raise
        return _without_leads_count(endpoint, single, walk, f"campaign {cid}")

    parts = run_parts(one, ids, max_workers=client.max_workers,
                      describe=lambda cid: f"campaign id={cid}")
    return [body for bodies in parts for body in bodies]


def _without_leads_count(endpoint: Endpoint, values: dict[str, Any], walk: Walk,
                         what: str) -> list[Any]:
    log.warning("campaigns.analytics: the API could not count the leads of %s (500 'Unable to "
                "count leads'); fetched with exclude_total_leads_count=true, leads_count is left "
                "empty.", what)
    bodies = walk(prepare(endpoint, {**values, "exclude_total_leads_count": True}))
    return [[{**row, "leads_count": None} if isinstance(row, dict) else row
             for row in body] if isinstance(body, list) else body for body in bodies]


def _split_daily(endpoint: Endpoint, values: dict[str, Any], walk: Walk,
                 error: APIError) -> list[Any]:
    window = _window(values)
    assert window is not None
    start, end = window
    middle = start + (end - start) // 2
    log.warning("accounts.analytics_daily: the API answered %d for %s..%s; asking for %s..%s "
                "and %s..%s separately.", error.status, start, end, start, middle,
                middle + dt.timedelta(days=1), end)
    out: list[Any] = []
    for a, b in ((start, middle), (middle + dt.timedelta(days=1), end)):
        part = prepare(endpoint, {**values, "start_date": a.isoformat(), "end_date": b.isoformat()})
        try:
            out.extend(walk(part))
        except APIError as exc:
            if a == b or not _wide_daily_failure(endpoint, part.canonical(), exc):
                raise
            out.extend(_split_daily(endpoint, part.canonical(), walk, exc))
    return out
