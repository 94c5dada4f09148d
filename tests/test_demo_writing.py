"""Answers the demo server writes with msgspec instead of the json module: the same bytes."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import numpy as np
import pytest

from instantly_nb.demo import build_workspace
from instantly_nb.demo.config import Faults
from instantly_nb.demo.protocol import Call, Raw, ints_and_texts, raw_page, struct_page
from instantly_nb.demo.registry import handlers
from instantly_nb.endpoints import ENDPOINTS

from .test_demo_support import TODAY


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


TEXTS = ["", "plain", "é à ü", "Chloé José", "日本語", "😀", "\u2028\u2029", "\x00\x01\x1f\x7f",
         "\"quoted\" \\ back", "\n\r\t\b\f", "</script>", "a/b", "\ufeff"]


def _no_floats(value: Any) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and _no_floats(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_no_floats(v) for v in value)
    return value is None or type(value) in (str, int, bool)


def test_ints_and_texts_writes_what_json_writes() -> None:
    values: list[Any] = [
        TEXTS, {t: t for t in TEXTS}, [0, -1, 1, 2**53 + 1, -(2**63), 2**64 + 5, True, False, None],
        {"rows": [{"date": "2026-01-01", "n": i, "ok": i % 2 == 0, "x": None} for i in range(50)]},
        [], {}, [[[]]], [{"a": {"b": {"c": [1, "2", None]}}}],
    ]
    for value in values:
        written = ints_and_texts(value)
        assert isinstance(written, Raw)
        assert written.data == _json(value), value


@pytest.mark.parametrize("query", [
    [], [("start_date", "2026-11-01"), ("end_date", "2026-11-15")],
    [("end_date", "2026-11-10")], [("start_date", "2026-11-05")],
    [("start_date", "2025-01-01"), ("end_date", "2025-01-05")],  # before the history: []
])
def test_account_daily_answers_as_json_writes_them(query: list[tuple[str, str]]) -> None:
    ws = build_workspace(7, "tiny", today=TODAY)
    emails = ws.account_emails[:3]
    for asked in ([], [("emails", e) for e in emails], [("emails", emails[0].upper())]):
        call = Call(ENDPOINTS["accounts.analytics_daily"], {}, [*query, *asked], {})
        answer = handlers()["accounts.analytics_daily"](ws, call)
        rows = answer.value()
        assert answer.data == _json(rows)
        assert all(type(v) in (int, str) for row in rows for v in row.values())
        assert _no_floats(rows)
        if query and query[0][1].startswith("2025-01"):
            assert rows == []
        else:
            assert rows and {r["email_account"] for r in rows} <= set(ws.account_emails)
            assert dt.date.fromisoformat(rows[-1]["date"]) <= dt.date.fromisoformat(TODAY)


@pytest.mark.parametrize("name", ["webhook_events.list", "inbox_placement_analytics.list",
                                  "audit_logs.list"])
def test_listings_answer_as_json_writes_them(name: str) -> None:
    ws = build_workspace(7, "tiny", today=TODAY)
    tests = [t["id"] for t in ws.placement.tests]
    filters = [{"test_id": t} for t in tests] if name.startswith("inbox") else [
        {}, {"success": "false"}, {"search": "a"}] if name.startswith("webhook") else [
        {}, {"activity_type": "9"}, {"search": "a"}, {"start_date": "2026-10-01"}]
    pages = 0
    for params in filters:
        after: list[tuple[str, str]] = []
        for _ in range(1000):
            query = [*params.items(), ("limit", "7"), *after]
            answer = handlers()[name](ws, Call(ENDPOINTS[name], {}, query, {}))
            body = answer.value()
            assert answer.data == _json(body) and _no_floats(body)
            pages += 1
            if not body.get("next_starting_after"):
                break
            after = [("starting_after", body["next_starting_after"])]
    assert pages > len(filters)


@pytest.mark.parametrize("faults", [Faults(), Faults(dangling_cursor=True),
                                    Faults(empty_final_cursor=True)])
def test_a_struct_page_is_the_raw_page_of_its_items(faults: Faults) -> None:
    ws = build_workspace(7, "tiny", today=TODAY)
    leads, mails = ENDPOINTS["leads.list"], ENDPOINTS["emails.list"]
    emails = ws.unibox.table.height
    for start, size in ((0, 100), (5, 1), (emails - 3, 3), (0, 0)):
        chunk = np.arange(start, start + size, dtype=np.int64)
        assert start + size <= min(emails, ws.leads.n)
        for more in (True, False):
            call = Call(leads, {}, [], {}, faults)
            last = ws.leads.lead_id(int(chunk[-1])) if size else None
            assert struct_page(call, ws.lead_json.records(chunk), more, last).data == \
                raw_page(call, ws.lead_json.page(chunk), more, last).data
            call = Call(mails, {}, [], {}, faults)
            for preview in (False, True):
                assert struct_page(call, ws.mail_json.records(chunk, preview), more, "é").data \
                    == raw_page(call, ws.mail_json.page(chunk, preview), more, "é").data


def test_warmup_maps_answer_as_json_writes_them() -> None:
    ws = build_workspace(7, "tiny", today=TODAY)
    endpoint = ENDPOINTS["accounts.warmup_analytics"]
    for emails in (ws.account_emails, ws.account_emails[:1], [" " + ws.account_emails[2].upper()],
                   ["nobody@example.com"]):
        answer = handlers()["accounts.warmup_analytics"](ws, Call(endpoint, {}, [],
                                                                  {"emails": emails}))
        body = answer.value()
        assert answer.data == _json(body) and _no_floats(body)
        assert set(body["aggregate_data"]) == {e.strip() for e in emails if "nobody" not in e}
