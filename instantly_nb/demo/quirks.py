"""Quirks of the live API, played by the demo server on request.

``strict`` (the default) answers exactly as the OpenAPI document says. ``live`` answers the way
real workspaces were seen answering (the same data, in the shapes of the live API):

* step analytics: rows in no particular order, plus a step-less row of zeros whose ``step`` and
  ``variant`` are the text ``"null"``; some campaigns without automatic replies in the window
  answer the 2025 field set (no ``replies_automatic*``: with automatic replies present, the
  figures that leave them out could not match strict mode);
* campaign analytics: some campaigns answer without the ``*_unique_by_step`` fields (the full
  2025 shape, without any ``*_unique`` field, would leave per-lead reply counts unknown, so the
  figures could not match strict mode; it is replayed in the client's tests instead);
  unfiltered analytics of a workspace with more than ``count_limit`` campaigns answers
  ``500 "Unable to count leads"``;
* daily campaign analytics are sparse: most days without any activity are left out;
* account daily analytics carry a phantom row whose ``email_account`` is ``""``, and answer
  ``500`` when both dates are given and the window is longer than ``wide_days``;
* ``campaigns.list``: drafts have no ``sequences`` / ``email_list``, and an unset schedule date
  is ``""``;
* ``emails``: ``step`` is ``"<subsequence>_<step>_<variant>"`` (0 = the main sequence);
* listings: the last page keeps its cursor, the next page is ``{"items": []}``;
* a request sent with a default library User-Agent (``python-requests/...``, ``python-httpx/...``,
  ``Python-urllib/...``) or with the header ``X-Demo-Block: 1`` is refused like Cloudflare
  does: ``403``, ``text/plain``, ``error code: 1010``.

``Client.demo(quirks="live")``, ``instantly-nb demo-server --quirks live`` and the environment
variable ``INSTANTLY_NB_DEMO_QUIRKS=live`` (read by demo connections of notebooks and reports)
turn it on.
"""

from __future__ import annotations

import os
import random
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .protocol import ApiError, Call, Raw
from .workspace import Workspace

__all__ = ["MODES", "QUIRKS_ENV", "Quirks", "blocked", "resolve"]

QUIRKS_ENV = "INSTANTLY_NB_DEMO_QUIRKS"
MODES = ("strict", "live")
BLOCK_BODY = "error code: 1010"
DEFAULT_AGENTS = ("python-requests/", "python-httpx/", "python-urllib/", "aiohttp/")
NEWER_STEP_FIELDS = ("replies_automatic", "unique_replies_automatic")
NEWER_CAMPAIGN_FIELDS = ("open_count_unique_by_step", "reply_count_unique_by_step",
                         "reply_count_automatic_unique_by_step", "link_click_count_unique_by_step")
_COUNTS_SKIP = ("date", "step", "variant", "email_account")


@dataclass(frozen=True)
class Quirks:
    """Which answers the demo server gives: ``mode`` ``"strict"`` or ``"live"``.

    ``count_limit``: above this many campaigns, unfiltered campaign analytics answer 500 in live
    mode. ``older_share``: share of campaigns (picked by id) answering the older field sets.
    ``wide_days``: account daily analytics over a longer window (both dates given) answer 500.
    """

    mode: str = "strict"
    count_limit: int = 4
    older_share: float = 0.34
    wide_days: int = 14

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"quirks must be one of {', '.join(MODES)}; got {self.mode!r}.")

    @property
    def live(self) -> bool:
        return self.mode == "live"

    def older(self, campaign_id: Any) -> bool:
        """Whether a campaign answers the older field sets (stable per id)."""
        return (zlib.crc32(str(campaign_id).encode()) % 100) < self.older_share * 100

    def answer(self, ws: Workspace, name: str, call: Call, result: Any) -> Any:
        """The handler's ``result`` as the live API would send it (unchanged in strict mode)."""
        if not self.live:
            return result
        shape = _SHAPES.get(name)
        if shape is None:
            return result
        return shape(self, ws, call, result.value() if isinstance(result, Raw) else result)


def resolve(quirks: Quirks | str | None) -> Quirks:
    """A :class:`Quirks` from a mode name, an instance, or ``INSTANTLY_NB_DEMO_QUIRKS``."""
    if isinstance(quirks, Quirks):
        return quirks
    mode = quirks if quirks is not None else os.environ.get(QUIRKS_ENV, "").strip() or "strict"
    return Quirks(mode=mode.lower())


def blocked(quirks: Quirks, headers: Mapping[str, str]) -> bool:
    """Whether the firewall in front of the live API would refuse this request."""
    if not quirks.live:
        return False
    agent = headers.get("user-agent", "").lower()
    return headers.get("x-demo-block", "") == "1" or agent.startswith(DEFAULT_AGENTS)


# -- answer shapes ----------------------------------------------------------------------------
def _steps(q: Quirks, ws: Workspace, call: Call, rows: list[dict[str, Any]]) -> list[Any]:
    cid = call.text("campaign_id")
    out = [r for r in rows if r.get("step") is not None]
    if cid is not None and q.older(cid) and not any(r.get(k) for r in out
                                                      for k in NEWER_STEP_FIELDS):
        out = [{k: v for k, v in r.items() if k not in NEWER_STEP_FIELDS} for r in out]
    random.Random(f"{cid}:{len(out)}").shuffle(out)
    junk = {k: 0 for r in out[:1] for k in r}
    return [*out, {**junk, "step": "null", "variant": "null"}]


def _campaigns(q: Quirks, ws: Workspace, call: Call, rows: list[dict[str, Any]]) -> list[Any]:
    if not (call.has("id") or call.has("ids")) and len(rows) > q.count_limit:
        raise ApiError(500, "Unable to count leads")
    return [{k: v for k, v in r.items() if k not in NEWER_CAMPAIGN_FIELDS}
            if q.older(r.get("campaign_id")) else r for r in rows]


def _active(row: Mapping[str, Any]) -> bool:
    return any(v for k, v in row.items() if k not in _COUNTS_SKIP and isinstance(v, int | float))


def _daily(q: Quirks, ws: Workspace, call: Call, rows: list[dict[str, Any]]) -> list[Any]:
    # a few idle days still come as rows of zeros; the others are missing
    return [r for n, r in enumerate(rows) if _active(r) or n % 7 == 3]


def _accounts_daily(q: Quirks, ws: Workspace, call: Call, rows: list[dict[str, Any]]
                    ) -> list[Any]:
    start, end = call.date("start_date"), call.date("end_date")
    if start and end and (end - start).days + 1 > q.wide_days:
        raise ApiError(500, "Internal server error")
    if not rows:
        return rows
    phantom = {k: (3 if isinstance(v, int) else v) for k, v in rows[0].items()}
    return [*rows, {**phantom, "email_account": ""}]


def _draft(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    if out.get("status") == 0:
        out.pop("sequences", None)
        out.pop("email_list", None)
    schedule = out.get("campaign_schedule")
    if isinstance(schedule, dict):
        out["campaign_schedule"] = {**schedule, **{k: "" for k in ("start_date", "end_date")
                                                   if schedule.get(k) is None}}
    return out


def _campaign_list(q: Quirks, ws: Workspace, call: Call, body: dict[str, Any]) -> Any:
    return {**body, "items": [_draft(r) for r in body.get("items") or []]}


def _email(ws: Workspace, item: dict[str, Any]) -> dict[str, Any]:
    if item.get("step") is None:
        return item
    pos = ws.unibox.position(str(item.get("id")))
    if pos is None:
        return item
    row = ws.unibox.table.row(pos, named=True)
    return {**item, "step": f"{int(row['sub']) + 1}_{item['step']}_{int(row['var'])}"}


def _emails(q: Quirks, ws: Workspace, call: Call, body: dict[str, Any]) -> Any:
    return {**body, "items": [_email(ws, r) for r in body.get("items") or []]}


def _one_email(q: Quirks, ws: Workspace, call: Call, body: dict[str, Any]) -> Any:
    return _email(ws, body)


_SHAPES: dict[str, Any] = {
    "campaigns.analytics_steps": _steps,
    "subsequences.analytics_steps": _steps,
    "campaigns.analytics": _campaigns,
    "campaigns.analytics_daily": _daily,
    "accounts.analytics_daily": _accounts_daily,
    "campaigns.list": _campaign_list,
    "emails.list": _emails,
    "emails.get": _one_email,
}
