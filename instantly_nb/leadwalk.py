"""Every lead of a workspace as many cursor chains walked side by side, not one long chain.

``POST /leads/list`` is a cursor walk: each page needs the previous page's cursor, so one chain of
N pages never takes less than N round trips (a million leads: ~10,000 pages, ~25 minutes at
150 ms a page) however much of the rate limit is left. The API filters leads by campaign and by
lead list, so an unfiltered listing is split into one chain per campaign, one per lead list and
one for the leads in neither (``in_campaign=False, in_list=False``); with neither campaigns nor lists, the one chain stays. The chains run on the
client's pool under its one throttle, so together they go at the workspace's rate limit; rows
are joined and a lead listed by two chains (in a campaign and in a list) is kept once.

``in_campaign=True`` alone is split per campaign, ``in_list=True`` alone per list; any other
filter is left as one chain. The campaign ids come from ``campaigns.list``: a lead still
attached to a campaign that listing no longer shows would be in no chain (the tests check the
frame against ``campaigns.analytics``' ``leads_count`` and the lists on the demo workspace).

For an incremental refresh each chain resumes after the last lead it listed before.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import polars as pl

__all__ = ["ENDPOINT", "partitions", "rows_of", "dedupe"]

ENDPOINT = "leads.list"
_REST = {"in_campaign": False, "in_list": False}
_CURSOR = frozenset({"limit", "starting_after"})


def partitions(params: Mapping[str, Any], ids: Callable[[str], Sequence[str]]
               ) -> list[dict[str, Any]] | None:
    """The parameter sets of the chains that list the same leads as ``params``, or None when
    ``params`` filter in a way the split does not cover. ``ids(listing)`` gives the ids of
    ``campaigns.list`` / ``lead_lists.list``."""
    given = {k: v for k, v in params.items() if v is not None and k not in _CURSOR}
    if not given:
        chains: list[dict[str, Any]] = [{"campaign": c} for c in ids("campaigns.list")]
        chains += [{"list_id": lst} for lst in ids("lead_lists.list")]
        return [*chains, dict(_REST)] if chains else None
    if given == {"in_campaign": True}:
        return [{"campaign": c} for c in ids("campaigns.list")] or None
    if given == {"in_list": True}:
        return [{"list_id": lst} for lst in ids("lead_lists.list")] or None
    return None


def rows_of(frame: pl.DataFrame, chain: Mapping[str, Any]) -> pl.DataFrame:
    """The rows of ``frame`` that the chain with parameters ``chain`` lists."""
    if "campaign" in chain:
        return frame.filter(pl.col("campaign") == chain["campaign"]) \
            if "campaign" in frame.columns else frame.clear()
    if "list_id" in chain:
        return frame.filter(pl.col("list_id") == chain["list_id"]) \
            if "list_id" in frame.columns else frame.clear()
    if chain.get("in_campaign") is False and chain.get("in_list") is False:
        keep = pl.lit(True)
        for column in ("campaign", "list_id"):
            if column in frame.columns:
                keep = keep & pl.col(column).is_null()
        return frame.filter(keep)
    return frame


def dedupe(frame: pl.DataFrame, keep: str = "first") -> pl.DataFrame:
    """One row per lead id (a lead in a campaign and a list is listed by both chains)."""
    if "id" not in frame.columns:
        return frame
    return frame.unique(subset=["id"], keep=keep, maintain_order=True)  # type: ignore[arg-type]
