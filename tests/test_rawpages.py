"""Pages shaped from bytes give exactly the frame of the ordinary path, drift or not."""

from __future__ import annotations

import copy
import json

import polars as pl
import pytest

from instantly_nb import frames, rawpages
from instantly_nb.demo import build_workspace


@pytest.fixture(scope="module")
def leads() -> list[dict]:
    ws = build_workspace(7, "tiny")
    return [ws.leads.record(i, ws.lead_context) for i in range(min(ws.leads.n, 250))]


def _pages(records: list[dict], size: int = 100) -> list[bytes]:
    out = []
    for lo in range(0, len(records), size):
        chunk = records[lo:lo + size]
        more = lo + size < len(records)
        out.append(json.dumps({"items": chunk, "next_starting_after": chunk[-1]["id"] if more
                               else None}, separators=(",", ":")).encode())
    return out


@pytest.fixture(autouse=True, params=["gathered", "lines", "kept, then lines"])
def way(request, monkeypatch) -> str:
    """Every test three ways: pages of a short fetch keep their checked records and the columns
    are gathered from them; pages of a long one are written as lines and read in background
    batches (here every page a batch of its own), or written as lines once the first pages of
    the fetch are kept (here from the second page on, the batch never full) and read when the
    fetch ends."""
    from instantly_nb import rawread

    if request.param == "lines":
        monkeypatch.setattr(rawread, "BATCH_BYTES", 1)
    elif request.param == "kept, then lines":
        monkeypatch.setattr(rawread, "BATCH_BYTES", 1 << 40)
        monkeypatch.setattr(rawpages, "_KEEP_BYTES", 1)
    return request.param


def _both(pages: list[bytes]) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    read = [rawpages.read_page("leads.list", p) for p in pages]
    assert all(r is not None for r in read)
    fast = rawpages.frame("leads.list", read)
    ordinary = frames.from_bodies("leads.list", [json.loads(p) for p in pages])
    return fast, ordinary, sum(r.fast for r in read)  # type: ignore[union-attr]


def test_short_fetches_are_gathered_and_long_ones_read_as_lines(leads, way):
    pages = _pages(leads, size=50)
    read = [rawpages.read_page("leads.list", p) for p in pages]
    fast = rawpages.frame("leads.list", read)
    assert fast.equals(frames.from_bodies("leads.list", [json.loads(p) for p in pages]))
    if way == "gathered":
        assert all(r.lines is None and r.records is not None for r in read)
    else:
        assert all(r.lines is not None and r.records is None for r in read)
        assert all(len(r.lines) == 5 for r in read)  # the record, then each nested object


def test_the_first_pages_of_a_long_fetch_are_kept_and_the_rest_written_at_once(leads,
                                                                               monkeypatch):
    from instantly_nb import rawread

    monkeypatch.setattr(rawread, "BATCH_BYTES", 1 << 40)
    pages = _pages(leads, size=20)
    monkeypatch.setattr(rawpages, "_KEEP_BYTES", len(pages[0]) * 2)
    read = [rawpages.read_page("leads.list", p) for p in pages]
    assert [r.records is not None for r in read] == [True, True] + [False] * (len(read) - 2)
    assert rawpages.frame("leads.list", read).equals(
        frames.from_bodies("leads.list", [json.loads(p) for p in pages]))


def test_clean_pages_take_the_fast_path_and_give_the_same_frame(leads):
    pages = _pages(leads)
    fast, ordinary, quick = _both(pages)
    assert quick == len(pages)
    assert fast.height == len(leads)
    assert fast.equals(ordinary)
    assert fast.schema == ordinary.schema


def _drift(records: list[dict], where: int, change) -> list[dict]:
    out = copy.deepcopy(records)
    change(out[where])
    return out


DRIFTS = {
    "unknown field": lambda r: r.update(lead_score_v2=7),
    "unknown nested field": lambda r: r.setdefault("payload", {}).update(customVariable="x"),
    "unknown field named like a top-level one, nested":
        lambda r: r.setdefault("payload", {}).update(email="nested@example.com"),
    "text where a number belongs": lambda r: r.update(email_open_count="many"),
    "number as text": lambda r: r.update(email_open_count="3"),
    "float where an integer belongs": lambda r: r.update(email_open_count=3.0),
    "number where text belongs": lambda r: r.update(first_name=12),
    "object where text belongs": lambda r: r.update(first_name={"given": "Ada"}),
    "malformed timestamp": lambda r: r.update(timestamp_created="yesterday"),
    "boolean where an integer belongs": lambda r: r.update(email_open_count=True),
}


@pytest.mark.parametrize("drift", sorted(DRIFTS))
def test_a_drifted_page_takes_the_ordinary_path_and_nothing_is_lost(leads, drift):
    assert "email_open_count" in frames.schema("leads.list")
    records = _drift(leads, 150, DRIFTS[drift])
    fast, ordinary, _ = _both(_pages(records))
    assert fast.equals(ordinary)
    assert fast.columns == ordinary.columns
    assert fast.height == len(leads)


def test_drift_keeps_the_data_the_reader_would_have_dropped(leads):
    records = _drift(leads, 10, DRIFTS["unknown nested field"])
    records = _drift(records, 20, DRIFTS["text where a number belongs"])
    fast, _, quick = _both(_pages(records))
    assert quick < 3  # the drifted page did not take the fast path
    assert fast["payload__customVariable"].drop_nulls().to_list() == ["x"]
    assert fast["email_open_count_raw"].drop_nulls().to_list() == ["many"]


def test_envelope_drift_and_error_bodies(leads):
    page = json.loads(_pages(leads[:5])[0])
    page["total"] = 5
    read = rawpages.read_page("leads.list", json.dumps(page).encode())
    assert read is not None and not read.fast and read.body == page
    assert rawpages.read_page("leads.list", b'{"items": [') is None  # not JSON: ask again
    empty = rawpages.read_page("leads.list", b'{"items":[],"next_starting_after":null}')
    assert empty is not None and empty["items"] == range(0)
    assert rawpages.frame("leads.list", [empty]).equals(frames.empty("leads.list"))


def test_only_plain_listings_are_eligible():
    assert rawpages.eligible("leads.list")
    assert not rawpages.eligible("campaigns.analytics")


def test_gc_pause_is_reentrant_and_restores_the_collector():
    import gc

    assert gc.isenabled()
    with rawpages.gc_paused():
        with rawpages.gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_repeated_key_keeps_its_last_value_as_json_loads_does(leads):
    """polars' reader alone keeps the first of two equal keys: the check writes the last."""
    pages = _pages(leads[:5])
    pages[0] = pages[0].replace(b'"first_name":', b'"first_name":"Repeated","first_name":', 1)
    pages[0] = pages[0].replace(b'"payload":{', b'"payload":{"website":"gone.example","website":"kept.example",', 1)
    fast, ordinary, quick = _both(pages)
    assert quick == 1
    assert fast.equals(ordinary)
    assert fast["first_name"][0] == leads[0]["first_name"] != "Repeated"
    assert fast["payload__website"][0] == "kept.example"


def test_null_missing_and_empty_objects_read_as_the_ordinary_path_reads_them(leads):
    records = copy.deepcopy(leads[:30])
    records[0]["payload"] = None
    records[1].pop("payload")
    records[2]["status_summary"] = {"lastStep": None, "domain_complete": True}
    records[3]["status_summary"] = {"lastStep": {"from": "campaign", "stepID": "s1",
                                                 "timestamp_executed": "2026-01-02T03:04:05Z"}}
    records[4].pop("email")
    records[5]["email_open_count"] = 7  # a whole number in a float field
    fast, ordinary, quick = _both(_pages(records, size=10))
    assert quick == 3
    assert fast.equals(ordinary)
    assert fast["payload__firstName"][:2].to_list() == [None, None]
    assert fast["status_summary__domain_complete"][2] is True
    assert fast["status_summary__lastStep__stepID"][3] == "s1"
    assert fast["email"][4] is None and fast["email_open_count"][5] == 7.0


def test_timestamps_in_other_forms_and_blank_ones(leads):
    records = copy.deepcopy(leads[:20])
    records[0]["timestamp_created"] = "2026-03-04T05:06:07"  # no offset: read as UTC
    records[1]["timestamp_created"] = "2026-03-04"  # a bare date: midnight UTC
    fast, ordinary, quick = _both(_pages(records))
    assert quick == 1 and fast.equals(ordinary)
    assert str(fast["timestamp_created"][1]) == "2026-03-04 00:00:00+00:00"
    records[2]["timestamp_updated"] = ""  # "no value": the ordinary path reads it (null, no _raw)
    fast, ordinary, _ = _both(_pages(records))
    assert fast.equals(ordinary) and fast["timestamp_updated"][2] is None
    assert "timestamp_updated_raw" not in fast.columns


def test_a_fetch_read_in_several_pieces_gives_the_same_frame(leads, monkeypatch):
    from instantly_nb import rawread

    monkeypatch.setattr(rawpages, "_READ_BYTES", 20_000)  # a few pages a piece
    monkeypatch.setattr(rawread, "BATCH_BYTES", 1 << 30)  # all pages read when the fetch ends
    pages = _pages(leads, size=7)
    plan = rawpages._plan("leads.list")
    read = [rawpages.read_page("leads.list", p) for p in pages]
    lines = [rawpages._to_lines(plan, r) for r in read]  # type: ignore[arg-type]
    assert len(list(rawpages._pieces(lines, 0))) > 3
    assert rawpages.frame("leads.list", read).equals(
        frames.from_bodies("leads.list", [json.loads(p) for p in pages]))
    fast, ordinary, quick = _both(pages)
    assert quick == len(pages) and fast.equals(ordinary)
    assert fast["id"].to_list() == [r["id"] for r in leads]


def test_pages_read_in_background_batches_give_the_same_frame(leads, monkeypatch):
    from instantly_nb import rawread

    monkeypatch.setattr(rawread, "BATCH_BYTES", 30_000)  # a few pages a batch
    pages = _pages(leads, size=9)
    ordinary = frames.from_bodies("leads.list", [json.loads(p) for p in pages])
    read = [rawpages.read_page("leads.list", p) for p in pages]
    batches = {id(r.batch) for r in read if r.batch is not None and r.batch.future is not None}
    assert len(batches) > 2  # read on the worker while later pages were checked
    assert rawpages.frame("leads.list", read).equals(ordinary)
    assert all(r.batch is None for r in read)  # the pages left their batches

    # pages of one fetch split into two frames, or out of order: each frame still right
    read = [rawpages.read_page("leads.list", p) for p in pages]
    half = len(read) // 2 + 1
    first, second = rawpages.frame("leads.list", read[:half]), rawpages.frame("leads.list",
                                                                              read[half:])
    assert pl.concat([first, second]).equals(ordinary)
    read = [rawpages.read_page("leads.list", p) for p in pages]
    backwards = rawpages.frame("leads.list", read[::-1])
    assert backwards.equals(frames.from_bodies("leads.list", [json.loads(p) for p in pages[::-1]]))


def test_a_value_the_reader_refuses_sends_the_fetch_the_ordinary_way(leads, monkeypatch):
    from instantly_nb import rawread

    monkeypatch.setattr(rawread, "BATCH_BYTES", 1)  # read as lines, on the worker
    refused = []

    def refuse(*args, **kwargs):
        refused.append(1)
        raise pl.exceptions.ComputeError("cannot parse")

    monkeypatch.setattr(rawpages.pl, "read_ndjson", refuse)
    pages = _pages(leads[:30], size=10)
    read = [rawpages.read_page("leads.list", p) for p in pages]
    built = rawpages.frame("leads.list", read)
    assert refused
    assert built.equals(frames.from_bodies("leads.list", [json.loads(p) for p in pages]))


def test_without_msgspec_pages_take_the_ordinary_path_with_a_warning(monkeypatch) -> None:
    from instantly_nb import rawpages

    monkeypatch.setattr(rawpages, "msgspec", None)
    rawpages._plan.cache_clear()
    try:
        with pytest.warns(RuntimeWarning, match="pip install msgspec"):
            page = rawpages.read_page("leads.list", b'{"items": [{"id": "a"}]}')
    finally:
        rawpages._plan.cache_clear()
    assert page is not None and not page.fast and page.decoded() == {"items": [{"id": "a"}]}


def test_odd_text_and_numbers_read_as_the_ordinary_path_reads_them(leads):
    records = copy.deepcopy(leads[:40])
    records[0]["first_name"] = "Zoë \"Z\" Ünal \\ / \u2028 \U0001f600 \x00\x1f\x7f"
    records[1]["first_name"] = ""  # text asked: kept as it is
    records[2]["last_name"] = "null"
    records[3]["timestamp_updated"] = "null"  # "no value" where a time belongs: null
    records[4]["timestamp_created"] = "2026-03-04T05:06:07.123456789+05:30"
    records[5]["email_open_count"] = 1e5  # a float written with an exponent
    records[6]["email_open_count"] = 123456789012345  # a big whole number in a float field
    records[7]["status"] = -(2**63)  # the smallest integer Int64 holds
    records[8]["status"] = 2**63 - 1
    records[9]["status_summary"] = {}
    records[10]["payload"] = {"firstName": None}
    records[11]["is_website_visitor"] = False
    fast, ordinary, quick = _both(_pages(records, size=10))
    assert quick == 4
    assert fast.equals(ordinary) and fast.schema == ordinary.schema
    assert fast["first_name"][:2].to_list() == [records[0]["first_name"], ""]
    assert fast["timestamp_updated"][3] is None and "timestamp_updated_raw" not in fast.columns
    assert fast["email_open_count"][5:7].to_list() == [100000.0, 123456789012345.0]
    assert fast["status"][7:9].to_list() == [-(2**63), 2**63 - 1]
    assert fast["is_website_visitor"][11] is False


def test_an_integer_beyond_int64_sends_the_fetch_the_ordinary_way(leads):
    records = _drift(leads[:20], 3, lambda r: r.update(status=2**63))
    fast, ordinary, quick = _both(_pages(records))
    assert quick == 0
    assert fast.equals(ordinary)
    assert fast["status_raw"].drop_nulls().to_list() == [str(2**63)]
