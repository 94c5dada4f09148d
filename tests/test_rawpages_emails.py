"""E-mail pages shaped from bytes (columns gathered from the checked records) give exactly the
frame of the ordinary path, drift or not."""

from __future__ import annotations

import copy
import json
from typing import Any

import numpy as np
import polars as pl
import pytest

from instantly_nb import frames, rawpages
from instantly_nb.demo import build_workspace

NAME = "emails.list"


@pytest.fixture(scope="module")
def emails() -> list[dict]:
    ws = build_workspace(7, "tiny")
    n = min(ws.unibox.table.height, 250)
    return [json.loads(text) for text in ws.mail_json.items(np.arange(n))]


def _pages(records: list[dict], size: int = 100, **dumps: Any) -> list[bytes]:
    out = []
    for lo in range(0, len(records), size):
        chunk = records[lo:lo + size]
        more = lo + size < len(records)
        out.append(json.dumps({"items": chunk, "next_starting_after": chunk[-1].get("id") if more
                               else None}, **({"separators": (",", ":")} | dumps)).encode())
    return out


def _both(pages: list[bytes]) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    read = [rawpages.read_page(NAME, p) for p in pages]
    assert all(r is not None for r in read)
    fast = rawpages.frame(NAME, read)
    ordinary = frames.from_bodies(NAME, [json.loads(p) for p in pages])
    assert fast.columns == ordinary.columns
    assert fast.schema == ordinary.schema
    assert fast.equals(ordinary)
    return fast, ordinary, sum(r.fast for r in read)  # type: ignore[union-attr]


def _drift(records: list[dict], where: int, change) -> list[dict]:
    out = copy.deepcopy(records)
    change(out[where])
    return out


def test_emails_are_shaped_from_bytes():
    assert rawpages.eligible(NAME)
    assert not rawpages.eligible("campaigns.analytics_steps")


def test_clean_pages_take_the_fast_path_and_give_the_same_frame(emails):
    pages = _pages(emails)
    fast, _, quick = _both(pages)
    assert quick == len(pages) == 3
    assert fast.height == len(emails)
    assert fast["step_number"].drop_nulls().len() > 0  # the derived columns are there
    assert fast["from_address_json"][0].to_list() == [
        json.dumps(emails[0]["from_address_json"][0], separators=(",", ":"))]


def test_pages_written_with_spaces_give_the_compact_text_of_the_ordinary_path(emails):
    fast, _, quick = _both(_pages(emails, separators=(", ", ": "), indent=1))
    assert quick == 3
    assert " " not in fast["to_address_json"][0][0]


DRIFTS = {
    "unknown field": lambda r: r.update(thread_score=7),
    "unknown nested field": lambda r: r["body"].update(amp="<amp/>"),
    "object where text belongs": lambda r: r.update(subject={"text": "Hi"}),
    "number where text belongs": lambda r: r.update(subject=12),
    "text where an object belongs": lambda r: r.update(body="plain"),
    "number as text": lambda r: r.update(ue_type="3"),
    "float where an integer belongs": lambda r: r.update(ue_type=3.0),
    "word where an integer belongs": lambda r: r.update(ue_type="reply"),
    "huge integer": lambda r: r.update(ue_type=2**70),
    "boolean where a float belongs": lambda r: r.update(is_unread=True),
    "text where a float belongs": lambda r: r.update(is_unread="1"),
    "text where a list belongs": lambda r: r.update(to_address_json="a@b.example"),
    "object where a list belongs": lambda r: r.update(to_address_json={"address": "a@b.example"}),
    "text where the attachments object belongs": lambda r: r.update(attachment_json="x.pdf"),
    "unknown key in the attachments": lambda r: r.update(attachment_json={"count": 1}),
    "attachments not a list": lambda r: r.update(attachment_json={"files": {"name": "a.pdf"}}),
}


@pytest.mark.parametrize("drift", sorted(DRIFTS))
def test_a_drifted_page_sends_the_fetch_the_ordinary_way_and_nothing_is_lost(emails, drift):
    records = _drift(emails, 150, DRIFTS[drift])
    fast, _, quick = _both(_pages(records))
    assert quick == 2  # the drifted page did not take the fast path
    assert fast.height == len(emails)


def test_drift_keeps_its_data(emails):
    records = _drift(emails, 10, DRIFTS["unknown field"])
    records = _drift(records, 20, DRIFTS["word where an integer belongs"])
    records = _drift(records, 30, DRIFTS["text where a list belongs"])
    fast, _, _ = _both(_pages(records))
    assert fast["thread_score"].drop_nulls().to_list() == [7]
    assert fast["ue_type_raw"].drop_nulls().to_list() == ["reply"]
    assert fast["to_address_json"][30].to_list() == ['"a@b.example"']


def test_free_form_values_of_every_kind_give_the_ordinary_text(emails):
    records = copy.deepcopy(emails[:40])
    records[0]["to_address_json"] = [{"address": "zoë@example.com", "name": "Zoë \"Z\" Ünal"}]
    records[1]["to_address_json"] = [{"address": "a@x.example"}, {"address": "b@x.example"}]
    records[2]["to_address_json"] = []
    records[3]["to_address_json"] = None
    records[4].pop("to_address_json")
    records[5]["from_address_json"] = [{"n": 1.5, "big": 10**30, "f": 1e20, "w": 10.0,
                                        "t": True, "nil": None, "nested": {"k": [1, "x"]}}]
    records[6]["from_address_json"] = ["plain text", 3, None]
    records[7]["from_address_json"] = [None]
    records[8]["cc_address_json"] = [{"address": "line\nbreak\t\u2028@x.example"}]
    records[9]["attachment_json"] = {"files": [{"name": "deck.pdf", "size": 1234}]}
    records[10]["attachment_json"] = {}
    records[11]["attachment_json"] = {"files": None}
    records[12]["attachment_json"] = {"files": []}
    fast, _, quick = _both(_pages(records, size=10))
    assert quick == 4
    assert fast["to_address_json"][:5].to_list() == [
        ['{"address":"zoë@example.com","name":"Zoë \\"Z\\" Ünal"}'],
        ['{"address":"a@x.example"}', '{"address":"b@x.example"}'], [], None, None]
    assert fast["from_address_json"][5][0] == ('{"n":1.5,"big":1000000000000000000000000000000,'
                                               '"f":1e+20,"w":10.0,"t":true,"nil":null,'
                                               '"nested":{"k":[1,"x"]}}')
    assert fast["from_address_json"][6].to_list() == ['"plain text"', "3", "null"]
    assert fast["attachment_json__files"][9].to_list() == ['{"name":"deck.pdf","size":1234}']


def test_the_same_element_written_differently_gives_one_text(emails):
    """Elements are read once per distinct bytes: escapes, spaces and repeated keys are read."""
    records = copy.deepcopy(emails[:6])
    pages = _pages(records)
    page = pages[0].decode()
    first = records[0]["from_address_json"][0]["address"]
    page = page.replace(json.dumps({"address": first}, separators=(",", ":")),
                        '{ "address" :"' + first.replace("a", "\\u0061") + '" }', 1)
    other = records[1]["to_address_json"][0]["address"]
    page = page.replace('"to_address_json":[{"address":"' + other + '"}]',
                        '"to_address_json":[{"address":"gone","address":"' + other + '"}]', 1)
    fast, _, quick = _both([page.encode()])
    assert quick == 1
    assert fast["from_address_json"][0].to_list() == [f'{{"address":"{first}"}}']
    assert fast["to_address_json"][1].to_list() == [f'{{"address":"{other}"}}']


def test_nulls_missing_and_empty_objects_timestamps_and_steps(emails):
    records = copy.deepcopy(emails[:30])
    records[0]["body"] = None
    records[1].pop("body")
    records[2]["body"] = {}
    records[3]["body"] = {"html": "<p>only html</p>"}
    records[4]["timestamp_created"] = "2026-03-04T05:06:07"  # no offset: read as UTC
    records[5]["timestamp_created"] = "2026-03-04"  # a bare date: midnight UTC
    records[6]["timestamp_email"] = ""  # "no value": null, no _raw column
    records[7]["reminder_ts"] = "2026-03-04T05:06:07.123456+02:00"
    records[8]["step"] = "0_2_1"
    records[9]["step"] = "3"
    records[10]["step"] = "first"
    records[11]["is_unread"] = 1  # a whole number in a float field
    records[12]["is_unread"] = 0.5
    records[13]["ue_type"] = 99  # an unknown code: no label
    records[14]["subject"] = "x" * 10_000
    for r in records[15:]:
        r.pop("subsequence_id")
    fast, _, quick = _both(_pages(records, size=10))
    assert quick == 3
    assert fast["body__text"][:4].to_list() == [None, None, None, None]
    assert fast["body__html"][3] == "<p>only html</p>"
    assert str(fast["timestamp_created"][5]) == "2026-03-04 00:00:00+00:00"
    assert fast["timestamp_email"][6] is None and "timestamp_email_raw" not in fast.columns
    assert fast.row(8, named=True)["step_subsequence"] == 0
    assert fast.row(8, named=True)["step_variant"] == 1
    assert fast["step_number"][8:11].to_list() == [2, 3, None]
    assert fast["ue_type_label"][13] is None
    assert fast["is_unread"][11:13].to_list() == [1.0, 0.5]


def test_a_malformed_timestamp_keeps_its_text_on_the_fast_path(emails):
    records = _drift(emails[:20], 3, lambda r: r.update(timestamp_created="yesterday"))
    fast, _, quick = _both(_pages(records))
    assert quick == 1  # text where text belongs: the check lets it through
    assert fast["timestamp_created_raw"].drop_nulls().to_list() == ["yesterday"]
    assert fast["timestamp_created"][3] is None


def test_a_repeated_key_keeps_its_last_value_as_json_loads_does(emails):
    pages = _pages(emails[:5])
    pages[0] = pages[0].replace(b'"subject":', b'"subject":"Repeated","subject":', 1)
    pages[0] = pages[0].replace(b'"body":{', b'"body":{"text":"gone","text":null,', 1)
    fast, _, quick = _both(pages)
    assert quick == 1
    assert fast["subject"][0] == emails[0]["subject"] != "Repeated"


def test_empty_pages_and_envelope_drift(emails):
    empty = rawpages.read_page(NAME, b'{"items":[],"next_starting_after":null}')
    assert empty is not None and empty.fast and empty["items"] == range(0)
    assert rawpages.frame(NAME, [empty]).equals(frames.empty(NAME))
    page = json.loads(_pages(emails[:5])[0])
    page["total"] = 5
    read = rawpages.read_page(NAME, json.dumps(page).encode())
    assert read is not None and not read.fast and read.body == page
    assert rawpages.read_page(NAME, b'{"items": [') is None  # not JSON: ask again


def test_the_sender_hands_checked_pages_on_and_checks_the_others(emails):
    from instantly_nb.endpoints import ENDPOINTS
    from instantly_nb.errors import ResponseShapeError

    answers = {"clean": _pages(emails[:5])[0], "odd": b'{"items": 3}'}
    send = rawpages.raw_sender(lambda endpoint, raw, which: answers[which], NAME)
    page = send(ENDPOINTS[NAME], which="clean")
    assert page.fast and page["items"] == range(5) and page["next_starting_after"] is None
    with pytest.raises(ResponseShapeError):
        send(ENDPOINTS[NAME], which="odd")


ODD_ELEMENTS = [
    {"address": "".join(map(chr, range(0, 0x800)))},  # controls, escapes, Latin, Greek...
    {"s": "\U0001f600 \u2028\u2029 \ufeff \uffff \x7f / <>&'"},
    {"big": 10**40, "neg": -(10**40), "edge": [2**63, -(2**63) - 1, 2**64, -0]},
    {"z": 1, "a": [True, False, None, [], {}], "": ""},
    ["plain", 3, None], "text", 7, None, True, [], {},
]


def test_free_form_texts_are_the_ordinary_encoders_without_calling_it(monkeypatch):
    from instantly_nb.coerce import _dumps

    raws = {json.dumps(e, ensure_ascii=ascii, separators=seps).encode(): _dumps(e)
            for e in ODD_ELEMENTS for ascii in (True, False) for seps in ((",", ":"), (", ", ": "))}
    raws[b'{"a":1,"b":2,"a":3}'] = '{"a":3,"b":2}'  # a repeated key: last value, first place

    def refuse(value):
        raise AssertionError("not for elements without a float")

    monkeypatch.setattr(rawpages, "_dumps", refuse)
    assert rawpages._texts(set(raws)) == raws


def test_an_element_with_a_float_has_the_ordinary_encoders_text():
    from instantly_nb.coerce import _dumps

    elements = [{"f": 1e5}, {"f": 1e-7}, {"f": 1e16}, {"f": -0.0}, {"f": 1.5}, {"f": 10.0},
                [0.1, 2], {"address": "a@b.example"}]
    raws = {json.dumps(e).encode(): _dumps(e) for e in elements}
    raws[b'{"f":1E400}'] = '{"f":Infinity}'
    assert rawpages._texts(set(raws)) == raws


def test_a_number_out_of_range_in_a_free_form_element_reads_as_json_loads_reads_it(emails):
    pages = _pages(emails[:5])
    first = json.dumps(emails[0]["from_address_json"][0], separators=(",", ":")).encode()
    pages[0] = pages[0].replace(first, b'{"f":1E400,"n":-1e999}', 1)
    fast, _, quick = _both(pages)
    assert quick == 1
    assert fast["from_address_json"][0].to_list() == ['{"f":Infinity,"n":-Infinity}']


def test_one_element_per_row_texts_are_written_in_order_by_two_calls(monkeypatch):
    import msgspec

    from instantly_nb.coerce import _dumps

    elements = [*ODD_ELEMENTS, {"line": "a\nb\r\nc"}, ODD_ELEMENTS[0]]
    raws = [msgspec.Raw(json.dumps(e, ensure_ascii=False).encode()) for e in elements]
    expected = [_dumps(e) for e in elements]
    raws.append(msgspec.Raw(b'{ "a":1, "b":2, "a":3 }'))  # a repeated key: last value, first place
    expected.append('{"a":3,"b":2}')

    def refuse(value):
        raise AssertionError("not for elements without a float")

    monkeypatch.setattr(rawpages, "_dumps", refuse)
    assert rawpages._texts_in_order(raws) == expected
    assert rawpages._texts_in_order([*raws, msgspec.Raw(b'{"f":1.0}')]) is None
    assert rawpages._texts_in_order([msgspec.Raw(b'{"f":1E400}')]) is None


def test_a_float_in_one_row_of_a_column_gives_the_ordinary_text_in_every_row(emails):
    records = copy.deepcopy(emails[:30])
    records[4]["to_address_json"] = [{"address": "x@y.example", "score": 0.5}]
    records[9]["to_address_json"] = [{"address": "big@y.example", "n": 10**20}]
    fast, ordinary, quick = _both(_pages(records, size=10))
    assert quick == 3 and fast.equals(ordinary)
    assert fast["to_address_json"][4].to_list() == ['{"address":"x@y.example","score":0.5}']
    assert fast["to_address_json"][9].to_list() == [
        '{"address":"big@y.example","n":100000000000000000000}']
