"""Handlers of inbox placement tests, their per-email analytics and their reports."""

from __future__ import annotations

from typing import Any

import polars as pl

from .lookup import by_id, require
from .placement import ESP_OPTIONS
from .protocol import Call, Raw, ints_and_texts, page
from .registry import handles
from .workspace import Workspace


@handles("inbox_placement_tests.list")
def tests_list(ws: Workspace, call: Call) -> dict[str, Any]:
    rows = ws.placement.tests
    search = (call.text("search") or "").lower()
    if search:
        rows = [r for r in rows if search in r["name"].lower()]
    if call.has("status"):
        rows = [r for r in rows if r["status"] == call.integer("status")]
    if call.text("sort_order") == "desc":
        rows = rows[::-1]
    return page(call, rows)


@handles("inbox_placement_tests.get")
def tests_get(ws: Workspace, call: Call) -> dict[str, Any]:
    test = by_id(ws.placement.tests, call.uuid("id"), "Inbox placement test")
    if not call.flag("with_metadata"):
        return test
    campaign = ws.placement.test_meta[test["id"]]["campaign"]
    meta: dict[str, Any] = {"tags": {}}
    if campaign:
        meta["campaign"] = {"id": campaign[0], "name": campaign[1]}
    return {**test, "metadata": meta}


@handles("inbox_placement_tests.esp_options")
def esp_options(ws: Workspace, call: Call) -> list[dict[str, Any]]:
    return list(ESP_OPTIONS)


def _test_id(ws: Workspace, call: Call, name: str = "test_id") -> str:
    test_id = call.uuid(name) or ""
    require(ws.placement.test_meta.get(test_id), "Inbox placement test")
    return test_id


def _codes(call: Call, name: str) -> list[int]:
    return [int(float(v)) for v in call.array(name)]


def _rows(ws: Workspace, call: Call, test_ids: list[str], start: str = "date_from",
          end: str = "date_to") -> pl.DataFrame:
    t = ws.placement.table.filter(pl.col("test_id").is_in(test_ids))
    a, b = call.window(ws.first_day, ws.today, start, end)
    t = t.filter((pl.col("day") >= ws.day_of(a)) & (pl.col("day") <= ws.day_of(b)))
    for name, col in (("recipient_geo", "geo"), ("recipient_type", "type"),
                      ("recipient_esp", "esp")):
        if call.has(name):
            t = t.filter(pl.col(col).is_in(_codes(call, name)))
    if call.has("sender_email"):
        t = t.filter(pl.col("sender") == call.text("sender_email"))
    return t


@handles("inbox_placement_analytics.list")
def analytics_list(ws: Workspace, call: Call) -> Raw:
    rows = _rows(ws, call, [_test_id(ws, call)])
    # records of texts, ints, booleans and None (placement._analytics_record)
    return ints_and_texts(page(call, [ws.placement.records[p] for p in rows["pos"].to_list()]))


@handles("inbox_placement_analytics.get")
def analytics_get(ws: Workspace, call: Call) -> dict[str, Any]:
    return by_id(ws.placement.records, call.uuid("id"), "Inbox placement analytics")


def _stats(t: pl.DataFrame) -> dict[str, int]:
    got = t.filter(pl.col("record_type") == 2)
    spam = int(got["is_spam"].sum())
    return {"sent": t.height - got.height, "count": got.height, "spam": spam,
            "inbox": got.height - spam, "category": int(got["has_category"].sum())}


def _pair_stats(t: pl.DataFrame) -> dict[tuple[int, int], dict[str, int]]:
    """:func:`_stats` of the rows of each (sender ESP, recipient ESP) pair, in one query."""
    got = pl.col("record_type") == 2
    table = t.group_by("sender_esp", "esp").agg(
        pl.len().alias("rows"), got.sum().alias("count"),
        pl.col("is_spam").filter(got).sum().alias("spam"),
        pl.col("has_category").filter(got).sum().alias("category"))
    out = {}
    for s_esp, r_esp, rows, count, spam, category in table.iter_rows():
        count, spam = int(count), int(spam)
        out[(int(s_esp), int(r_esp))] = {"sent": int(rows) - count, "count": count, "spam": spam,
                                         "inbox": count - spam, "category": int(category)}
    return out


def _pct(part: int, whole: int) -> float:
    return round(100 * part / whole, 2) if whole else 0


@handles("inbox_placement_analytics.stats_by_test")
def stats_by_test(ws: Workspace, call: Call) -> list[dict[str, Any]]:
    ids = [i for i in dict.fromkeys(call.array("test_ids")) if i in ws.placement.test_meta]
    rows = _rows(ws, call, ids)
    out = []
    for test_id in ids:
        s = _stats(rows.filter(pl.col("test_id") == test_id))
        out.append({"test_id": test_id, "count": s["count"], "spam_count": s["spam"],
                    "spam_percent": _pct(s["spam"], s["count"]), "inbox_count": s["inbox"],
                    "inbox_percent": _pct(s["inbox"], s["count"]),
                    "category_count": s["category"],
                    "category_percent": _pct(s["category"], s["count"])})
    return out


@handles("inbox_placement_analytics.stats_by_date")
def stats_by_date(ws: Workspace, call: Call) -> list[dict[str, Any]]:
    rows = _rows(ws, call, [_test_id(ws, call)])
    out = []
    for (day,), part in sorted(rows.partition_by("day", as_dict=True).items()):
        s = _stats(part)
        out.append({"timestamp_created_date": ws.dates[day], "sent_count": s["sent"],
                    "received_count": s["count"], "spam_count": s["spam"],
                    "inbox_count": s["inbox"], "category_count": s["category"]})
    return out


@handles("inbox_placement_analytics.deliverability_insights")
def insights(ws: Workspace, call: Call) -> list[dict[str, Any]]:
    test_id = _test_id(ws, call)
    now = _rows(ws, call, [test_id])
    show_prev = call.flag("show_previous") or call.has("previous_date_from")
    prev = _rows(ws, call, [test_id], "previous_date_from", "previous_date_to") \
        if show_prev else now.clear()
    pairs = sorted({(int(a), int(b)) for a, b in now.select("sender_esp", "esp").iter_rows()})
    by_pair, prev_by_pair, none = _pair_stats(now), _pair_stats(prev), _stats(now.clear())
    out = []
    for s_esp, r_esp in pairs:
        cur, old = by_pair.get((s_esp, r_esp), none), prev_by_pair.get((s_esp, r_esp), none)
        out.append({
            "test_id": test_id, "from": call.text("date_from"), "to": call.text("date_to"),
            "previous_from": call.text("previous_date_from"),
            "previous_to": call.text("previous_date_to"), "sender_esp": s_esp,
            "recipient_esp": r_esp, "spam_percentage": _pct(cur["spam"], cur["count"]),
            "inbox_percentage": _pct(cur["inbox"], cur["count"]),
            "category_percentage": _pct(cur["category"], cur["count"]),
            "prev_spam_percentage": _pct(old["spam"], old["count"]) if show_prev else None,
            "prev_inbox_percentage": _pct(old["inbox"], old["count"]) if show_prev else None,
            "prev_category_percentage": _pct(old["category"], old["count"])
            if show_prev else None,
        })
    return out


@handles("inbox_placement_reports.list")
def reports_list(ws: Workspace, call: Call) -> dict[str, Any]:
    test_id = _test_id(ws, call)
    a, b = call.window(ws.first_day, ws.today, "date_from", "date_to")
    rows = [r for r in ws.placement.reports if r["test_id"] == test_id
            and a.isoformat() <= r["timestamp_created_date"] <= b.isoformat()]
    drop = [k for k, flag in (("spam_assassin_report", "skip_spam_assassin_report"),
                              ("blacklist_report", "skip_blacklist_report")) if call.flag(flag)]
    if drop:
        rows = [{k: v for k, v in r.items() if k not in drop} for r in rows]
    return page(call, rows)


@handles("inbox_placement_reports.get")
def reports_get(ws: Workspace, call: Call) -> dict[str, Any]:
    return by_id(ws.placement.reports, call.uuid("id"), "Inbox placement report")
