"""Shaping API answers into frames, on recorded JSON fixtures and generated records; no HTTP."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from instantly_nb import endpoint_facts, frames
from instantly_nb.drift import DERIVED
from instantly_nb.endpoints import ENDPOINTS
from instantly_nb.errors import ResponseShapeError, UnknownEndpointError
from instantly_nb.spec import Field

from .conftest import SPEC, shared_input

FIXTURES = Path(__file__).parent / "fixtures" / "frames"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def shaped(name: str, fixture: str) -> pl.DataFrame:
    return frames.from_bodies(name, [load(fixture)])


def assert_declared_first(df: pl.DataFrame, name: str) -> None:
    declared = frames.schema(name)
    assert df.columns[: len(declared)] == list(declared)
    assert dict(list(df.schema.items())[: len(declared)]) == declared


# -- the six analytics answers of the seed document -------------------------------------------
def test_campaign_analytics_one_row_per_campaign():
    body = load("campaigns_analytics.json")
    df = frames.from_bodies("campaigns.analytics", [body])
    assert_declared_first(df, "campaigns.analytics")
    assert df.columns[:4] == ["campaign_name", "campaign_id", "campaign_status",
                              "campaign_status_label"]
    row = df.row(0, named=True)
    assert {k: row[k] for k in body[0]} == body[0]
    assert row["campaign_status_label"] == "Active"
    assert df.schema["leads_count"] == pl.Int64
    assert df.schema["total_opportunity_value"] == pl.Float64
    assert row["reply_count_automatic"] is None  # newer field, absent from the example


def test_campaign_analytics_overview_one_row():
    body = load("campaigns_analytics_overview.json")
    df = shaped("campaigns.analytics_overview", "campaigns_analytics_overview.json")
    assert df.height == 1
    assert_declared_first(df, "campaigns.analytics_overview")
    assert {k: df.row(0, named=True)[k] for k in body} == body
    assert df.columns[-4:] == ["total_interested", "total_meeting_booked",
                               "total_meeting_completed", "total_closed"]


def test_campaign_analytics_daily_one_row_per_date():
    body = load("campaigns_analytics_daily.json")
    df = shaped("campaigns.analytics_daily", "campaigns_analytics_daily.json")
    assert_declared_first(df, "campaigns.analytics_daily")
    assert df.schema["date"] == pl.Date
    row = df.row(0, named=True)
    assert row["date"] == date.fromisoformat(body[0]["date"])
    assert {k: row[k] for k in body[0] if k != "date"} == {k: v for k, v in body[0].items()
                                                           if k != "date"}


def test_campaign_analytics_steps_tidy():
    body = load("campaigns_analytics_steps.json")
    df = shaped("campaigns.analytics_steps", "campaigns_analytics_steps.json")
    assert df.columns[:8] == ["step", "variant", "variant_label", "sent", "opened",
                              "unique_opened", "replies", "unique_replies"]
    assert_declared_first(df, "campaigns.analytics_steps")
    row = df.row(0, named=True)
    assert (row["step"], row["variant"], row["variant_label"]) == (1, 0, "A")
    assert row["sent"] == body[0]["sent"] and row["unique_clicks"] == body[0]["unique_clicks"]
    assert row["opportunities"] is None


def test_warmup_daily_exact_numbers():
    body = load("accounts_warmup_analytics.json")
    df = frames.from_bodies("accounts.warmup_daily", [body])
    assert df.columns == ["email", "date", "sent", "landed_inbox", "landed_spam", "received"]
    assert df.schema["date"] == pl.Date and df.schema["sent"] == pl.Int64
    assert df.sort("email", "date").rows() == [
        ("example1@example.com", date(2023, 10, 1), 10, 8, 2, 10),
        ("example1@example.com", date(2023, 10, 2), 5, 5, 0, 5),
        ("example2@example.com", date(2023, 10, 1), 7, 7, 0, 7),
    ]
    assert frames.from_bodies("accounts.warmup_analytics", [body]).equals(df)


def test_warmup_summary_exact_numbers_and_missing_received_stays_null():
    df = shaped("accounts.warmup_summary", "accounts_warmup_analytics.json")
    assert df.columns == ["email", "sent", "landed_inbox", "landed_spam", "received",
                          "health_score", "health_score_label"]
    assert df.schema["health_score"] == pl.Float64
    assert df.sort("email").rows() == [
        ("example1@example.com", 15, 13, 2, 15, 87.0, "87%"),
        ("example2@example.com", 7, 7, 0, None, 100.0, "100%"),
    ]


def test_warmup_explicit_null_spam_is_not_replaced():
    body = {"email_date_data": {"a@x.io": {"2026-01-01": {"sent": 3, "landed_spam": None}}}}
    assert frames.from_bodies("accounts.warmup_daily", [body])["landed_spam"].to_list() == [None]


def test_test_vitals_success_and_failure_in_one_frame():
    df = shaped("accounts.test_vitals", "accounts_test_vitals.json")
    assert df.columns == list(frames.schema("accounts.test_vitals"))
    assert df["status"].to_list() == ["success", "failure"]
    assert df["allPass"].to_list() == [True, False]


# -- one fixture per envelope kind --------------------------------------------------------------
def test_items_envelope_unknown_fields_and_unknown_enum_code():
    df = shaped("campaigns.list", "campaigns_list_page.json")
    assert df.height == 2
    assert_declared_first(df, "campaigns.list")
    extra = df.columns[len(frames.schema("campaigns.list")):]
    assert extra == ["brand_new_flag", "brand_new_settings"]
    assert df.schema["brand_new_flag"] == pl.Boolean
    assert json.loads(df["brand_new_settings"][1]) == {"mode": "fast", "level": 3}
    assert df["status"].to_list() == [1, 7]
    assert df["status_label"].to_list() == ["Active", None]


def test_items_envelope_nested_objects_lists_and_timestamps():
    df = shaped("campaigns.list", "campaigns_list_page.json")
    first = df.row(0, named=True)
    assert first["campaign_schedule__start_date"] == date(2026, 3, 1)
    assert first["campaign_schedule__end_date"] is None
    schedule = json.loads(first["campaign_schedule__schedules"][0])
    assert schedule["timing"] == {"from": "09:00", "to": "17:00"}
    assert first["email_list"] == ["a@example.com", "b@example.com"]
    assert df.schema["timestamp_updated"] == pl.Datetime("us", "UTC")
    assert first["timestamp_updated"] == datetime(2026, 3, 2, 8, 0, 0, 250000, tzinfo=UTC)
    assert first["timestamp_created"] == datetime(2026, 3, 1, 8, 30, tzinfo=UTC)
    assert df.row(1, named=True)["campaign_schedule__schedules"] is None


def test_items_envelope_with_cursor_in_the_body_and_free_form_payload():
    df = shaped("leads.list", "leads_list_page.json")
    assert_declared_first(df, "leads.list")
    assert df.columns[len(frames.schema("leads.list")):] == ["payload__industry",
                                                             "payload__seats"]
    assert df["payload__seats"].to_list() == [12, None]
    assert df["lt_interest_status_label"].to_list() == ["Interested", "No Show"]
    assert df["status_summary__lastStep__timestamp_executed"][0] == datetime(
        2026, 4, 2, 9, tzinfo=UTC)
    assert df.row(1, named=True)["status_summary__domain_complete"] is None


def test_items_envelope_without_cursor():
    df = shaped("webhook_events.summary_by_date", "webhook_events_summary_by_date.json")
    assert df["date"].to_list() == [date(2026, 5, 1), date(2026, 5, 2)]
    assert df["total_events"].to_list() == [10.0, 0.0]


def test_array_envelope_drift_null_step_and_raw_values_kept():
    df = shaped("campaigns.analytics_steps", "campaigns_analytics_steps_drift.json")
    assert_declared_first(df, "campaigns.analytics_steps")
    assert df["step"].to_list() == [1, 1, None, 2]
    assert df["variant"].to_list() == [0, 1, None, None]
    assert df["variant_label"].to_list() == ["A", "B", None, None]
    assert df["variant_raw"].to_list() == [None, None, None, "first"]
    assert df["opened"].to_list() == [40, 35, 0, None]
    assert df["opened_raw"].to_list() == [None, None, None, "n/a"]
    assert df["bounced"].to_list() == [None, None, None, 1]
    assert "step_raw" not in df.columns


def test_text_envelope_csv():
    text = (FIXTURES / "block_list_entries_download.csv").read_text(encoding="utf-8")
    df = frames.from_bodies("block_list_entries.download", [text])
    assert df.columns == ["blocked_email", "date"]  # the spec example's header, snake_cased
    assert df["blocked_email"].to_list() == ["spam.example.com", "bad@example.org"]
    assert df.schema["date"] == pl.Datetime("us", "UTC")
    assert df["date"][1].isoformat() == "2023-09-16T08:30:00+00:00"
    assert frames.from_bodies("block_list_entries.download", [text.encode()]).equals(df)


@pytest.mark.parametrize(("name", "body"), [
    ("campaigns.list", {"items": [], "next_starting_after": None}),
    ("campaigns.analytics", []),
    ("campaigns.analytics_steps", []),
    ("accounts.warmup_analytics", {"email_date_data": {}, "aggregate_data": {}}),
    ("accounts.warmup_summary", {"email_date_data": {}, "aggregate_data": {}}),
    ("accounts.test_vitals", {"status": "success", "success_list": [], "failure_list": []}),
    ("block_list_entries.download", ""),
])
def test_empty_answers_give_the_declared_schema(name, body):
    df = frames.from_bodies(name, [body])
    assert df.height == 0
    assert df.schema == pl.Schema(frames.schema(name))
    assert frames.from_bodies(name, []).schema == df.schema


def test_pages_are_concatenated():
    page = load("campaigns_list_page.json")
    df = frames.from_bodies("campaigns.list", [page, {"items": page["items"][:1]}])
    assert df["id"].to_list() == [page["items"][0]["id"], page["items"][1]["id"],
                                  page["items"][0]["id"]]


def test_records_by_name_or_entry():
    body = load("campaigns_analytics.json")
    assert frames.records("campaigns.analytics", body) == body
    assert frames.records(ENDPOINTS["campaigns.analytics"], body) == body
    assert frames.records("campaigns.analytics_overview", {"open_count": 1}) == [{"open_count": 1}]


@pytest.mark.parametrize(("name", "body"), [
    ("campaigns.list", "not json records"),
    ("campaigns.list", {"data": []}),
    ("campaigns.analytics_overview", [1, 2]),
    ("accounts.warmup_analytics", {"email_date_data": {"a@x.io": [1]}}),
    ("accounts.test_vitals", {"success_list": "nope"}),
    ("block_list_entries.download", {"items": []}),
])
def test_answers_without_records_raise_a_shape_error(name, body):
    with pytest.raises(ResponseShapeError, match=name):
        frames.records(name, body)


def test_unknown_names_raise():
    with pytest.raises(UnknownEndpointError, match="campaigns.nope"):
        frames.schema("campaigns.nope")
    with pytest.raises(KeyError):
        frames.to_frame("campaigns.nope", [])


# -- schema drift on declared fields ------------------------------------------------------------
def test_declared_fields_with_other_types_never_raise():
    rows = [
        {"id": "a", "status": {"code": 1}, "name": ["x"], "open_tracking": "yes",
         "timestamp_created": 1700000000, "daily_limit": "12.5", "email_list": "solo@x.io"},
        {"id": "b", "status": "2", "name": 42, "open_tracking": "false",
         "timestamp_created": "2026-01-02T03:04:05", "daily_limit": 7, "email_list": None},
    ]
    df = frames.to_frame("campaigns.list", rows)
    assert_declared_first(df, "campaigns.list")
    assert df["status"].to_list() == [None, 2]
    assert json.loads(df["status_raw"][0]) == {"code": 1}
    assert df["name"].to_list() == [None, "42"]
    assert df["name_raw"].to_list() == ['["x"]', None]
    assert df["open_tracking"].to_list() == [None, False]
    assert df["timestamp_created"].to_list() == [None, datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)]
    assert df["timestamp_created_raw"].to_list() == ["1700000000", None]
    assert df["daily_limit"].to_list() == [12.5, 7.0]
    assert df["email_list"].to_list() == [["solo@x.io"], None]


def test_object_declared_field_receiving_a_scalar_keeps_it_raw():
    df = frames.to_frame("campaigns.list", [{"id": "a", "campaign_schedule": "weekdays"}])
    assert df["campaign_schedule__start_date"].to_list() == [None]
    assert df["campaign_schedule_raw"].to_list() == ["weekdays"]


def test_date_field_receiving_a_timestamp():
    df = frames.to_frame("crm_actions.phone_numbers",
                         [{"renewal_date": "2026-08-13T11:12:14.277Z"}, {"renewal_date": "x"}])
    assert df["renewal_date"].to_list() == [date(2026, 8, 13), None]
    assert df["renewal_date_raw"].to_list() == [None, "x"]


# -- the same schema for 0 rows and n rows, for every endpoint and view ----------------------------
SAMPLES: dict[str, Any] = {
    "str": "text", "int": 7, "float": 2.5, "bool": True, "datetime": "2026-08-13T11:12:14.330Z",
    "date": "2026-08-13", "json": {"k": [1, "a"]}, "list[str]": ["a", "b"], "list[int]": [1, 2],
    "list[float]": [0.5], "list[bool]": [False], "list[json]": [{"k": 1}],
}


def synthetic(fields: tuple[Field, ...], n: int) -> list[dict[str, Any]]:
    """``n`` nested records carrying every declared field (every third one null)."""
    rows: list[dict[str, Any]] = []
    for i in range(n):
        row: dict[str, Any] = {}
        for f in fields:
            *parents, leaf = f.name.split("__")
            node = row
            for part in parents:
                node = node.setdefault(part, {})
            value = f.enum[i % len(f.enum)][0] if f.enum else SAMPLES[f.dtype]
            node[leaf] = None if i % 3 == 2 else value
        rows.append(row)
    return rows


@pytest.mark.parametrize("name", endpoint_facts.names())
def test_schema_is_the_same_for_zero_and_n_rows(name):
    fields = endpoint_facts.fields_of(name)
    rows = [{**row, "zz_unlisted": i} for i, row in enumerate(synthetic(fields, 7))]
    df = frames.to_frame(name, rows)
    assert df.height == 7
    assert df.columns == [*frames.schema(name), "zz_unlisted"]
    assert df.drop("zz_unlisted").schema == frames.empty(name).schema
    for f in fields:  # every value arrived: nulls only where the generator put them
        assert df[f.name].null_count() == 2, f.name
        if f.enum:
            assert df[f"{f.name}_label"].null_count() == 2, f.name


def test_a_hundred_thousand_leads_shape_whole():
    # How fast this runs is measured by bench/shaping.py, against pandas, in one run.
    template = load("leads_list_page.json")["items"][0]
    rows = [{**template, "id": f"lead-{i}", "email_open_count": i % 7} for i in range(100_000)]
    df = frames.to_frame("leads.list", rows)
    assert df.height == 100_000 and df["email_open_count"].sum() == sum(i % 7 for i in
                                                                        range(100_000))


@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_frame_columns_are_the_table_columns(name):
    derived = tuple(DERIVED.get(name, ()))  # columns read out of a declared one
    assert tuple(frames.schema(name)) == ENDPOINTS[name].column_names + derived


def test_warmup_summary_view_has_the_spec_totals():
    doc = json.loads(shared_input(SPEC).read_text(encoding="utf-8"))
    answer = doc["paths"]["/api/v2/accounts/warmup-analytics"]["post"]["responses"]["200"]
    totals = answer["content"]["application/json"]["schema"]["properties"]["aggregate_data"]
    view = endpoint_facts.VIEWS["accounts.warmup_summary"]
    assert {f.name for f in view.fields} == {"email", *totals["additionalProperties"]["properties"]}
    assert view.source == "accounts.warmup_analytics"
