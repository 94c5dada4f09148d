"""How columns are built (list columns from flat values, timestamps parsed together) gives the
frame polars' own constructors and the careful parse give, value for value and in field order."""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime
from typing import Any

import polars as pl
import pytest

from instantly_nb import frames
from instantly_nb.coerce import _series


def _reference(vals: list[Any], dtype: pl.DataType) -> pl.Series:
    return pl.Series("c", vals, dtype, strict=True)


@pytest.mark.parametrize("inner", [pl.String(), pl.Int64(), pl.Float64(), pl.Boolean()])
def test_list_columns_equal_polars_own_constructor(inner):
    pick = {pl.String(): ["a", "é\n", ""], pl.Int64(): [0, -3, 2**62],
            pl.Float64(): [0.5, -1.0, 1e300], pl.Boolean(): [True, False]}[inner]
    rng = random.Random(11)
    for n in (1, 2, 7, 300):
        vals: list[Any] = []
        for _ in range(n):
            length = rng.choice([-1, 0, 1, 1, 2, 3])
            vals.append(None if length < 0 else
                        [None if rng.random() < 0.1 else rng.choice(pick) for _ in range(length)])
        built = _series("c", vals, pl.List(inner))
        assert built.dtype == pl.List(inner)
        assert built.to_list() == vals
        assert built.equals(_reference(vals, pl.List(inner)))


SCALAR_VALUES: list[list[Any]] = [
    [], [None], [None, None], ["a", None, "é\n", ""], [1, -2, None, 2**63 - 1, -(2**63)],
    [2**63], [-(2**63) - 1], [0.5, None, -1.0, 1e300, float("nan")], [1, 2.5], [3, 4],
    [True, False, None], [True, 1], [1, True], [0, 1], ["1"], [1], [1.5], [False, "x"],
    [{"a": 1}], [None, {"a": 1}], [[1]], ["a", 1], [1, "a"], [2.0, 3], [True, 2.5],
]


@pytest.mark.parametrize("dtype", [pl.String(), pl.Int64(), pl.Float64(), pl.Boolean()])
def test_scalar_columns_equal_polars_own_constructor_or_fail_as_it_fails(dtype):
    from instantly_nb.coerce import _BUILD_ERRORS, _MAKERS, _flat

    assert dtype in _MAKERS  # the direct constructors are in use with this polars
    for vals in SCALAR_VALUES:
        try:
            expected = _reference(vals, dtype)
        except _BUILD_ERRORS:
            with pytest.raises(_BUILD_ERRORS):
                _flat("c", vals, dtype)
            continue
        built = _flat("c", vals, dtype)
        assert built.name == "c" and built.dtype == expected.dtype, vals
        assert built.equals(expected), vals


def test_a_list_column_refuses_what_polars_refuses():
    with pytest.raises((TypeError, pl.exceptions.PolarsError)):
        _series("c", [[1], ["x", "y"]], pl.List(pl.Int64))
    with pytest.raises((TypeError, pl.exceptions.PolarsError)):
        _reference([[1], ["x", "y"]], pl.List(pl.Int64))


def test_list_columns_of_a_frame_keep_rows_in_order_and_drift_as_before():
    # lengths interleaved so every length's rows are spread over the frame
    addresses = [[{"address": "a@x.io"}], None, [], [{"address": "b@x.io"}, {"name": "B"}],
                 [{"address": "c@x.io"}], {"address": "solo@x.io"}, [None]]
    rows = [{"id": str(i), "to_address_json": a, "step": "0_1_0" if i % 2 else None}
            for i, a in enumerate(addresses)]
    df = frames.to_frame("emails.list", rows)
    assert df.schema["to_address_json"] == pl.List(pl.String)
    assert [None if v is None else [json.loads(x) for x in v]
            for v in df["to_address_json"].to_list()] == [
        [{"address": "a@x.io"}], None, [], [{"address": "b@x.io"}, {"name": "B"}],
        [{"address": "c@x.io"}], [{"address": "solo@x.io"}], [None]]
    assert df["step_number"].to_list() == [None, 1, None, 1, None, 1, None]
    lists = [["a"], None, [], ["b", None, "c"], "solo", ["d", "e"], [3]]
    df = frames.to_frame("campaigns.list", [{"id": str(i), "email_list": v}
                                            for i, v in enumerate(lists)])
    assert df["email_list"].to_list() == [["a"], None, [], ["b", None, "c"], ["solo"],
                                          ["d", "e"], ["3"]]
    assert "email_list_raw" not in df.columns


def test_timestamps_parsed_together_keep_their_raw_columns_in_field_order():
    rows = [
        {"id": "a", "status": "many", "campaign_schedule": {"start_date": "2026-03-01"},
         "timestamp_created": "2026-01-02T03:04:05Z", "timestamp_updated": "later",
         "daily_max_leads": "x"},
        {"id": "b", "status": 1, "campaign_schedule": {"start_date": "2026-03-02T10:00:00Z"},
         "timestamp_created": "2026-01-02", "timestamp_updated": "",
         "daily_max_leads": 4},
        {"id": "c", "status": None, "campaign_schedule": {"start_date": "soon"},
         "timestamp_created": "2026-01-02T03:04:05", "timestamp_updated": None},
    ]
    df = frames.to_frame("campaigns.list", rows)
    declared = list(frames.schema("campaigns.list"))
    assert df.columns == [*declared, "status_raw", "campaign_schedule__start_date_raw",
                          "timestamp_updated_raw", "daily_max_leads_raw"]
    assert df["campaign_schedule__start_date"].to_list() == [date(2026, 3, 1), date(2026, 3, 2),
                                                             None]
    assert df["campaign_schedule__start_date_raw"].to_list() == [None, None, "soon"]
    assert df["timestamp_created"].to_list() == [
        datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC),
        datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)]
    assert df["timestamp_updated"].to_list() == [None, None, None]
    assert df["timestamp_updated_raw"].to_list() == ["later", None, None]
    assert df["status"].to_list() == [None, 1, None]
    assert df["status_label"].to_list() == [None, "Active", None]
    assert df["status_raw"].to_list() == ["many", None, None]
    assert df["daily_max_leads_raw"].to_list() == ["x", None, None]
    assert df.schema["campaign_schedule__end_date"] == pl.Date()


def test_absent_columns_are_typed_nulls_and_absent_enums_have_null_labels():
    df = frames.to_frame("campaigns.list", [{"id": "a"}, {"id": "b"}])
    assert df.schema == frames.empty("campaigns.list").schema
    assert all(df[c].null_count() == 2 for c in df.columns if c != "id")


def test_json_text_is_what_the_standard_encoder_writes():
    from instantly_nb.coerce import _dumps

    encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str)
    values = ["a\n\"é\u2028\x7f\x01", 1, -2**80, 1.5e300, 1e16, float("nan"), float("-inf"), True,
              None, [], {}, {"a": [1, {"b": None}], "c": "x\t"}, [{"address": "x@y.io"}],
              {1: 2, None: 3, 2.5: True}, date(2026, 1, 2), {"d": datetime(2026, 1, 2)}]
    for value in values:
        assert _dumps(value) == encoder.encode(value), value


TIMESTAMP_TEXTS = [
    "2026-09-12T09:30:00.000Z", "2026-09-12T09:30:00.999Z", "2024-02-29T23:59:59.001Z",
    "2026-02-29T09:30:00.000Z", "2026-02-30T09:30:00.000Z", "2026-09-12T23:59:60.000Z",
    "2026-09-12T24:00:00.000Z", "2026-09-12T09:60:00.000Z", "2026-9-12T09:30:00.000Z",
    "2026-09-12T9:30:00.000Z", "2026-09-12T09:30:0.000Z", " 2026-09-12T09:30:00.000Z",
    "2026-09-12T09:30:00.000Z ", "+2026-09-12T09:30:00.000Z", "20260-09-12T09:30:00.000Z",
    "9999-12-31T23:59:59.999Z", "1970-01-01T00:00:00.000Z", "1969-12-31T23:59:59.999Z",
    "2026-09-12T09:30:00.5Z", "2026-09-12T09:30:00.1234Z", "2026-09-12T09:30:00Z",
    "2026-09-12T09:30:00.000z", "2026-09-12T09:30:00.000+00:00", "2026-09-12T09:30:00.000+02:00",
    "2026-09-12 09:30:00.000Z", "2026-09-12T09:30:00.-12Z", "2026-09-12T09:30:00.00Z0",
    "2026-09-12", "", "null", "yesterday", None,
]


def test_the_usual_timestamp_form_reads_what_the_general_form_reads():
    from instantly_nb.coerce import _TIMESTAMP_FORMATS, _first_parse

    texts = pl.Series("t", TIMESTAMP_TEXTS, pl.String)
    usual = pl.select(_first_parse(pl.lit(texts), "datetime")).to_series()
    general = texts.str.to_datetime(_TIMESTAMP_FORMATS[0], time_unit="us", time_zone="UTC",
                                    strict=False)
    read = usual.is_not_null()
    assert read.sum() >= 10  # the usual form is the one read here
    assert usual.filter(read).equals(general.filter(read))
    # what it leaves unread, the general way reads as before (the frame is the careful one's)
    frame = frames.to_frame("leads.list", [{"timestamp_created": t} for t in TIMESTAMP_TEXTS])
    careful = frames._parse_time(texts, "datetime")
    assert frame["timestamp_created"].equals(careful.alias("timestamp_created"))
    assert frame["timestamp_created_raw"].drop_nulls().to_list() == [
        t for t, v in zip(TIMESTAMP_TEXTS, careful.to_list(), strict=True)
        if v is None and t is not None and t.strip().lower() not in ("", "null", "none")]


def test_frames_are_made_from_their_columns_as_pl_dataframe_makes_them():
    from instantly_nb.coerce import _frame

    assert _frame is not pl.DataFrame  # the direct way is in use with this polars
    columns = [pl.Series("a", [1, None]), pl.Series("b", ["x", None]),
               pl.Series("c", [[1], None], pl.List(pl.Int64))]
    assert _frame(columns).equals(pl.DataFrame(columns))
    assert _frame(columns).schema == pl.DataFrame(columns).schema
    assert _frame([columns[0].alias("")]).columns == ["column_0"]  # as pl.DataFrame names it
    with pytest.raises(pl.exceptions.DuplicateError):
        _frame([columns[0], columns[0]])
    with pytest.raises(pl.exceptions.ShapeError):
        _frame([columns[0], pl.Series("d", [1])])
