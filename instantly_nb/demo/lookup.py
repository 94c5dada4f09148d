"""Small lookups shared by the handlers: ids to records (404 when unknown) and date windows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .protocol import ApiError, Call
from .workspace import Workspace

__all__ = ["by_id", "campaign_of", "day_window", "require"]


def require(value: Any, what: str) -> Any:
    """``value``, or a 404 naming ``what`` when it is missing."""
    if value is None:
        raise ApiError(404, f"{what} not found")
    return value


def by_id(records: Sequence[dict[str, Any]], record_id: str | None, what: str,
          key: str = "id") -> dict[str, Any]:
    """The record whose ``key`` equals ``record_id`` (404 otherwise)."""
    for record in records:
        if record[key] == record_id:
            return record
    raise ApiError(404, f"{what} not found")


def campaign_of(ws: Workspace, campaign_id: str | None) -> int:
    """Index of a campaign id (404 when the workspace has no such campaign)."""
    return int(require(ws.campaign_index.get(campaign_id or ""), "Campaign"))


def day_window(ws: Workspace, call: Call, start: str = "start_date",
               end: str = "end_date") -> tuple[int, int] | None:
    """The asked window as history day indexes clipped to the history (None when empty)."""
    a, b = call.window(ws.first_day, ws.today, start, end)
    lo, hi = max(0, ws.day_of(a)), min(ws.plan.days - 1, ws.day_of(b))
    return (lo, hi) if lo <= hi else None
