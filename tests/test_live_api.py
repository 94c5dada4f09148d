"""Answers the live API really sends (shared notes on real API behaviour), replayed through
httpx.MockTransport: each test asserts the frame or the typed error a user gets."""

from __future__ import annotations

import logging

import httpx
import polars as pl
import pytest

from instantly_nb import errors, frames
from instantly_nb.http import USER_AGENT, RetryPolicy

from .conftest import json_response
from .test_http import make_client

C1 = "019ffad2-90b0-7d6d-b877-e244a0d3d2b2"
C2 = "019ffad2-90b0-7d6d-b877-e24585b902a6"
C3 = "019ffad2-90b0-7d6d-b877-e24585b90300"
DEFAULT = RetryPolicy(backoff_base=0.0, backoff_cap=0.0)


def route(table):
    """A handler answering by path (``{path: body or callable(request)}``)."""
    def handler(request: httpx.Request) -> httpx.Response:
        answer = table[request.url.path]
        return answer(request) if callable(answer) else json_response(answer)
    return handler


# -- analytics shapes ---------------------------------------------------------------------------
def test_string_steps_junk_null_rows_and_older_field_sets():
    body = [
        {"step": "1", "variant": "1", "sent": "40", "opened": 10, "unique_opened": 9,
         "replies": 2, "unique_replies": 2, "clicks": 0, "unique_clicks": 0},
        {"step": "0", "variant": "0", "sent": 100, "opened": 30, "unique_opened": 20,
         "replies": 5, "unique_replies": 4, "replies_automatic": 1,
         "unique_replies_automatic": 1, "clicks": 1, "unique_clicks": 1},
        {"step": None, "variant": None, "sent": 0, "opened": 0, "replies": 0},
        {"step": "null", "variant": "null", "sent": 0, "opened": 0, "replies": 0},
    ]
    client, _ = make_client(route({"/api/v2/campaigns/analytics/steps": body}))
    df = client.campaigns.analytics_steps(campaign_id=C1)
    assert df.schema == frames.schema("campaigns.analytics_steps")
    assert df.height == 2 and "step_raw" not in df.columns and "variant_raw" not in df.columns
    assert df.sort("step")["step"].to_list() == [0, 1]
    assert df["sent"].sum() == 140 and df["sent"].dtype == pl.Int64
    # the 2025 row has no automatic replies: unknown (null), not zero
    assert df.sort("step")["replies_automatic"].to_list() == [1, None]
    # same schema whatever subset of fields arrived
    assert frames.to_frame("campaigns.analytics_steps", body[:1]).schema == df.schema


def test_step_less_row_with_counts_is_kept():
    rows = [{"step": None, "variant": None, "sent": 3}, {"step": "0", "variant": "0", "sent": 7}]
    df = frames.to_frame("campaigns.analytics_steps", rows)
    assert df["sent"].to_list() == [3, 7] and df["step"].to_list() == [None, 0]


def test_sparse_daily_with_extra_keys_keeps_them_and_days_stay_dates():
    body = [{"date": "2026-03-01", "sent": 10, "opportunities": 1},
            {"date": "2026-03-04", "sent": 0, "contacted": 0, "new_leads_contacted": 0},
            {"date": "2026-03-05", "sent": "7", "replies_automatic": 2}]
    client, _ = make_client(route({"/api/v2/campaigns/analytics/daily": body}))
    df = client.campaigns.analytics_daily(start_date="2026-03-01", end_date="2026-03-05")
    assert df["date"].dtype == pl.Date and df["sent"].to_list() == [10, 0, 7]
    assert df["opportunities"].to_list() == [1, None, None]
    assert df["replies_automatic"].to_list() == [None, None, 2]


def test_campaign_analytics_2025_shape_and_leads_below_contacted():
    body = [{"campaign_name": "Old", "campaign_id": C1, "campaign_status": 1,
             "leads_count": 0, "contacted_count": 250, "emails_sent_count": 400,
             "reply_count": 12, "open_count": 50}]
    client, _ = make_client(route({"/api/v2/campaigns/analytics": body}))
    df = client.campaigns.analytics(id=C1)
    assert df.schema == frames.schema("campaigns.analytics") | {}
    row = df.row(0, named=True)
    assert (row["leads_count"], row["contacted_count"], row["reply_count"]) == (0, 250, 12)
    assert row["reply_count_unique"] is None and row["open_count_unique"] is None


def test_overview_by_step_fields_are_integers():
    client, _ = make_client(route({"/api/v2/campaigns/analytics/overview":
                                   {"open_count_unique_by_step": 4, "reply_count_unique_by_step": 2}}))
    row = client.campaigns.analytics_overview().row(0, named=True)
    assert (row["open_count_unique_by_step"], row["reply_count_unique_by_step"]) == (4, 2)


def test_phantom_account_row_is_dropped_and_counted_in_the_log(caplog):
    body = [{"date": "2026-03-01", "email_account": "a@x.io", "sent": 5},
            {"date": "2026-03-01", "email_account": "", "sent": 9},
            {"date": "2026-03-02", "email_account": "a@x.io", "sent": "3"}]
    client, _ = make_client(route({"/api/v2/accounts/analytics/daily": body}))
    with caplog.at_level(logging.WARNING, "instantly_nb"):
        df = client.accounts.analytics_daily(emails=["a@x.io"], start_date="2026-03-01",
                                             end_date="2026-03-02")
    assert df["email_account"].to_list() == ["a@x.io", "a@x.io"] and df["sent"].sum() == 8
    assert any("dropped 1 row" in r.getMessage() for r in caplog.records)


def test_account_filter_ignored_by_the_api_keeps_only_asked_accounts(caplog):
    body = [{"date": "2026-03-01", "email_account": "a@x.io", "sent": 5},
            {"date": "2026-03-01", "email_account": "B@x.io", "sent": 2},
            {"date": "2026-03-01", "email_account": "c@x.io", "sent": 4}]
    client, _ = make_client(route({"/api/v2/accounts/analytics/daily": body}))
    with caplog.at_level(logging.WARNING, "instantly_nb"):
        df = client.accounts.analytics_daily(emails=["a@x.io", "b@x.io"],
                                             start_date="2026-03-01", end_date="2026-03-01")
    assert sorted(df["email_account"].to_list()) == ["B@x.io", "a@x.io"]
    assert any("not asked for" in r.getMessage() for r in caplog.records)


def test_warmup_days_without_landed_spam_and_percent_label():
    body = {"email_date_data": {"a@x.io": {"2026-03-01": {"sent": 4, "landed_inbox": 4},
                                           "2026-03-02": {"sent": "5", "landed_inbox": 3,
                                                          "landed_spam": 2}}},
            "aggregate_data": {"a@x.io": {"sent": 9, "landed_inbox": 7, "landed_spam": 2,
                                          "health_score": 78, "health_score_label": "78%"}}}
    client, _ = make_client(route({"/api/v2/accounts/warmup-analytics": body}))
    daily = client.fetch("accounts.warmup_daily", emails=["a@x.io"]).sort("date")
    assert daily["landed_spam"].to_list() == [0, 2] and daily["sent"].to_list() == [4, 5]
    summary = client.fetch("accounts.warmup_summary", emails=["a@x.io"])
    assert summary.row(0, named=True)["health_score"] == 78.0
    assert summary.row(0, named=True)["health_score_label"] == "78%"
    assert not [c for c in summary.columns if c.endswith("_raw")]


# -- listings -------------------------------------------------------------------------------------
def test_last_page_keeps_its_cursor_then_an_empty_page_without_cursor_key():
    pages = {None: {"items": [{"id": C1, "name": "a"}, {"id": C2, "name": "b"}],
                    "next_starting_after": C2},
             C2: {"items": [{"id": C3, "name": "c"}], "next_starting_after": C3},
             C3: {"items": []}}
    client, rec = make_client(route({"/api/v2/campaigns": lambda r: json_response(
        pages[r.url.params.get("starting_after")])}))
    df = client.campaigns.list()
    assert df["id"].to_list() == [C1, C2, C3]
    assert all(r.url.params["limit"] == "100" for r in rec.requests)  # never the default 10


@pytest.mark.parametrize("cursor", ["2025-03-01T10:00:00.000Z", "b@x.io"])
def test_account_cursors_are_opaque_text(cursor):
    pages = {None: {"items": [{"email": "a@x.io"}, {"email": "b@x.io"}],
                    "next_starting_after": cursor},
             cursor: {"items": [{"email": "c@x.io"}]}}
    client, rec = make_client(route({"/api/v2/accounts": lambda r: json_response(
        pages[r.url.params.get("starting_after")])}))
    assert client.accounts.list()["email"].to_list() == ["a@x.io", "b@x.io", "c@x.io"]
    assert rec.requests[1].url.params["starting_after"] == cursor


def test_drafts_without_sequences_and_empty_schedule_dates():
    items = [{"id": C1, "name": "Draft", "status": 0,
              "campaign_schedule": {"start_date": "", "end_date": "",
                                    "schedules": [{"days": {"1": True, "2": True}}]}},
             {"id": C2, "name": "Live", "status": 1, "sequences": [{"steps": []}],
              "email_list": ["a@x.io"],
              "campaign_schedule": {"start_date": "2026-01-05", "end_date": None}}]
    client, _ = make_client(route({"/api/v2/campaigns": {"items": items}}))
    df = client.campaigns.list()
    assert df["campaign_schedule__start_date"].to_list()[0] is None
    assert str(df["campaign_schedule__start_date"].to_list()[1]) == "2026-01-05"
    assert df["sequences"].to_list()[0] is None and df["email_list"].to_list()[0] is None
    assert not [c for c in df.columns if c.endswith("_raw")]


def test_email_steps_are_split_into_numbers_and_the_raw_text_kept():
    items = [{"id": "e1", "step": "0_1_0", "is_unread": 1, "body": {"html": "<p>hi</p>"},
              "ue_type": 1, "timestamp_email": "2026-03-01T10:00:00.000Z"},
             {"id": "e2", "step": "1_2_3", "is_unread": 0, "ue_type": 2},
             {"id": "e3", "step": None, "ue_type": 2}]
    client, _ = make_client(route({"/api/v2/emails": {"items": items}}))
    df = client.emails.list()
    assert df["step"].to_list() == ["0_1_0", "1_2_3", None]
    assert df["step_subsequence"].to_list() == [0, 1, None]
    assert df["step_number"].to_list() == [1, 2, None]
    assert df["step_variant"].to_list() == [0, 3, None]
    assert df["is_unread"].to_list() == [1.0, 0.0, None]
    assert df["body__html"].to_list() == ["<p>hi</p>", None, None]
    assert set(frames.schema("emails.list")) <= set(df.columns)
    assert frames.empty("emails.list").schema == df.select(list(frames.schema("emails.list"))).schema


# -- errors ---------------------------------------------------------------------------------------
def test_cloudflare_text_403_is_a_blocked_request_not_a_scope_problem():
    client, rec = make_client(lambda r: httpx.Response(
        403, content=b"error code: 1010", headers={"Content-Type": "text/plain"}))
    with pytest.raises(errors.BlockedRequestError) as info:
        client.campaigns.list()
    text = str(info.value)
    assert "blocked before it reached the Instantly API" in text and "User-Agent" in text
    assert "proxy" in text and "scope" not in text.split("never checked")[1]
    assert info.value.api_message == "error code: 1010" and info.value.status == 403
    assert isinstance(info.value, errors.PermissionDeniedError)
    assert len(rec.requests) == 1
    assert rec.requests[0].headers["User-Agent"] == USER_AGENT
    assert USER_AGENT.startswith("instantly-nb/0.") and "python" not in USER_AGENT.lower()


def test_api_403_with_envelope_is_a_missing_scope():
    client, _ = make_client(lambda r: json_response(
        {"statusCode": 403, "error": "Forbidden", "message": "Insufficient scope"}, 403))
    with pytest.raises(errors.PermissionDeniedError) as info:
        client.campaigns.list()
    assert not isinstance(info.value, errors.BlockedRequestError)
    assert "campaigns:read" in str(info.value)


def test_402_says_the_plan_lacks_api_access():
    client, _ = make_client(lambda r: json_response(
        {"statusCode": 402, "error": "Payment Required", "message": "Upgrade"}, 402))
    with pytest.raises(errors.PaymentRequiredError, match="plan does not include API access"):
        client.campaigns.list()


@pytest.mark.parametrize("body,message,code", [
    ({"statusCode": 400, "code": "FST_ERR_VALIDATION", "error": "Bad Request",
      "message": "querystring/limit must be <= 100"}, "querystring/limit must be <= 100",
     "FST_ERR_VALIDATION"),
    ({"message": "Start Date must be earlier than End Date"},
     "Start Date must be earlier than End Date", None),
])
def test_400_keeps_code_and_message(body, message, code):
    client, _ = make_client(lambda r: json_response(body, 400))
    with pytest.raises(errors.BadRequestError) as info:
        client.campaigns.list()
    assert info.value.api_message == message and info.value.api_code == code
    assert message in str(info.value) and (code is None or code in str(info.value))


def test_unknown_route_404_and_413_envelopes():
    client, _ = make_client(lambda r: json_response(
        {"message": "Route GET:/api/v2/campaigns not found", "error": "Not Found",
         "statusCode": 404}, 404))
    with pytest.raises(errors.NotFoundError, match="Route GET:/api/v2/campaigns not found"):
        client.campaigns.list()
    client, _ = make_client(lambda r: json_response(
        {"statusCode": 413, "error": "Payload Too Large", "message": "Too many"}, 413))
    with pytest.raises(errors.PayloadTooLargeError, match="Too many"):
        client.accounts.analytics_daily(emails=["a@x.io"], start_date="2026-03-01",
                                        end_date="2026-03-02")


def test_rate_limit_honours_retry_after():
    answers = [json_response({"statusCode": 429, "message": "Too many"}, 429,
                             {"Retry-After": "2"}), json_response({"count": 3})]
    sleeps: list[float] = []
    client, _ = make_client(lambda r: answers.pop(0), sleeps)
    assert client.campaigns.count_launched()["count"].to_list() == [3]
    assert sleeps == [2.0]


# -- fallbacks ------------------------------------------------------------------------------------
def _workspace_of_three(request: httpx.Request, fail_ids: frozenset[str] = frozenset()):
    path, params = request.url.path, request.url.params
    if path == "/api/v2/campaigns":
        return json_response({"items": [{"id": C1, "name": "a", "status": 1},
                                        {"id": C2, "name": "b", "status": 2},
                                        {"id": C3, "name": "draft", "status": 0}]})
    assert path == "/api/v2/campaigns/analytics"
    cid = params.get("id")
    if cid is None or (cid in fail_ids and params.get("exclude_total_leads_count") != "true"):
        return json_response({"statusCode": 500, "error": "Internal Server Error",
                              "message": "Unable to count leads"}, 500)
    leads = 0 if params.get("exclude_total_leads_count") == "true" else 50
    return json_response([{"campaign_id": cid, "campaign_name": cid[-4:], "leads_count": leads,
                           "contacted_count": 40, "emails_sent_count": 90}])


def test_unable_to_count_leads_falls_back_to_one_request_per_campaign(caplog):
    sleeps: list[float] = []
    client, rec = make_client(_workspace_of_three, sleeps, retry=DEFAULT, max_workers=1)
    with caplog.at_level(logging.WARNING, "instantly_nb"):
        df = client.campaigns.analytics()
    assert sorted(df["campaign_id"].to_list()) == sorted([C1, C2])  # the draft is left out
    assert df["leads_count"].to_list() == [50, 50] and df["emails_sent_count"].sum() == 180
    unfiltered = [r for r in rec.requests if r.url.path.endswith("/analytics")
                  and "id" not in r.url.params]
    assert len(unfiltered) == 1 and sleeps == []  # no retry of a deterministic failure
    assert any("one request per campaign" in r.getMessage() for r in caplog.records)


def test_a_campaign_that_still_cannot_count_gets_no_leads_count_instead_of_zero():
    client, _ = make_client(lambda r: _workspace_of_three(r, frozenset({C2})), retry=DEFAULT)
    df = client.campaigns.analytics().sort("campaign_id")
    assert dict(zip(df["campaign_id"], df["leads_count"], strict=True)) == {C1: 50, C2: None}
    assert df["contacted_count"].to_list() == [40, 40]


def test_unable_to_count_leads_with_an_id_is_asked_again_without_the_count():
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("exclude_total_leads_count") != "true":
            return json_response({"message": "Unable to count leads"}, 500)
        return json_response([{"campaign_id": C1, "leads_count": 0, "contacted_count": 7}])

    client, rec = make_client(handler, retry=DEFAULT)
    df = client.campaigns.analytics(id=C1)
    assert df["leads_count"].to_list() == [None] and df["contacted_count"].to_list() == [7]
    assert len(rec.requests) == 2


def test_other_500s_keep_the_retry_policy():
    client, rec = make_client(lambda r: json_response({"message": "boom"}, 500))
    with pytest.raises(errors.ServerError):
        client.campaigns.analytics()
    assert len(rec.requests) == 4  # FAST policy: four attempts


def test_wide_account_window_500_is_split_and_deduplicated(caplog):
    def handler(request: httpx.Request) -> httpx.Response:
        start, end = request.url.params["start_date"], request.url.params["end_date"]
        if (start, end) not in (("2026-03-01", "2026-03-02"), ("2026-03-03", "2026-03-03"),
                                ("2026-03-04", "2026-03-04")):
            return json_response({"statusCode": 500, "message": "Internal server error"}, 500)
        # every part also repeats the first day (the API overlaps windows): de-duplicated
        days = ["2026-03-01"] + [d for d in ("2026-03-02", "2026-03-03", "2026-03-04")
                                 if start <= d <= end]
        return json_response([{"date": d, "email_account": "a@x.io", "sent": int(d[-1])}
                              for d in days])

    client, rec = make_client(handler, retry=DEFAULT)
    with caplog.at_level(logging.WARNING, "instantly_nb"):
        df = client.accounts.analytics_daily(emails=["a@x.io"], start_date="2026-03-01",
                                             end_date="2026-03-04")
    assert df.sort("date")["sent"].to_list() == [1, 2, 3, 4]
    assert sum("asking for" in r.getMessage() for r in caplog.records) == 2
    # two attempts on the wide window, two on 03-03..03-04, then the three parts that answer
    assert len(rec.requests) == 7


# -- time zones -----------------------------------------------------------------------------------
def test_reply_times_on_a_chosen_clock_and_live_step_texts():
    from instantly_nb import metrics

    items = [{"id": "s", "ue_type": 1, "step": "0_2_1", "thread_id": "t", "lead": "l@x.io",
              "campaign_id": C1, "timestamp_email": "2026-03-01T20:00:00.000Z"},
             {"id": "r", "ue_type": 2, "step": None, "thread_id": "t", "lead": "l@x.io",
              "campaign_id": C1, "timestamp_email": "2026-03-01T23:30:00.000Z"}]
    emails = frames.to_frame("emails.list", items)
    utc = metrics.reply_delays(emails)
    ny = metrics.reply_delays(emails, time_zone="America/New_York")
    assert utc["hours"].to_list() == ny["hours"].to_list() == [3.5]
    assert utc["step"].to_list() == ["2"]  # step 2 of the main sequence, variant B
    sub = emails.with_columns(pl.lit(1, pl.Int64).alias("step_subsequence"))
    assert metrics.reply_delays(sub)["step"].to_list() == ["2"]  # as the plain "2" of the spec
    assert str(ny["replied_at"].dtype) == "Datetime(time_unit='us', time_zone='America/New_York')"
    assert ny["replied_at"][0].hour == 18 and utc["replied_at"][0].hour == 23
    by_hour = metrics.replies_by_hour(emails, time_zone="America/New_York")
    assert by_hour.height == 24 and by_hour.filter(pl.col("replies") > 0)["hour"].to_list() == [18]
    assert metrics.replies_by_hour(emails).filter(pl.col("replies") > 0)["hour"].to_list() == [23]
    timing = metrics.reply_timing(emails, time_zone="Asia/Tokyo")
    assert timing.filter(pl.col("replies_in_bucket") > 0)["bucket"].to_list() == ["1-4h"]
    with pytest.raises(ValueError, match="IANA"):
        metrics.reply_delays(emails, time_zone="Mars/Olympus")


def test_rows_of_deleted_campaigns_stay_and_are_labelled_when_names_are_joined():
    from instantly_nb.views.scope import Scope, display_names

    campaigns = display_names(pl.DataFrame({"id": [C1], "name": ["Spring"]}))
    scope = Scope(client=None, window=None, campaigns=campaigns, campaign_ids=[])
    daily = pl.DataFrame({"campaign_id": [C1, C2, C3], "sent": [5, 7, 1],
                          "campaign_name": [None, "Old promo", None]})
    named = scope.with_names(daily)
    assert named["campaign"].to_list() == ["Spring", "Old promo (deleted)",
                                           f"{C3[:8]} (deleted)"]
    assert named["sent"].sum() == 13
