"""The request function, the throttle and pagination, on httpx.MockTransport (no network)."""

from __future__ import annotations

import email.utils
import threading
import time

import httpx
import pytest

from instantly_nb import Client, errors
from instantly_nb.http import RetryPolicy, parse_retry_after
from instantly_nb.throttle import RateWindow, Throttle

from .conftest import FAKE_KEY, Recorder, json_response

FAST = RetryPolicy(max_attempts=4, backoff_base=0.01, backoff_cap=0.05, retry_after_cap=5.0)


def make_client(handler, sleeps: list[float] | None = None, **kwargs) -> tuple[Client, Recorder]:
    rec = Recorder(handler)
    sleeps = [] if sleeps is None else sleeps
    client = Client(api_key=FAKE_KEY, base_url="https://api.test", transport=rec.transport,
                    retry=kwargs.pop("retry", FAST), sleep=sleeps.append, **kwargs)
    return client, rec


def sequence(*responses):
    """A handler answering with the given responses in turn (the last one repeats)."""
    answers = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        return answers.pop(0) if len(answers) > 1 else answers[0]

    return handler


# -- retries --------------------------------------------------------------------------------
def test_429_then_200_retries_and_honours_retry_after_seconds():
    sleeps: list[float] = []
    client, rec = make_client(sequence(
        json_response({"statusCode": 429, "error": "Too Many Requests", "message": "Rate limit exceeded"},
                      429, {"Retry-After": "2"}),
        json_response({"count": 3})), sleeps)
    frame = client.fetch("campaigns.count_launched")
    assert frame["count"].to_list() == [3]
    assert len(rec.requests) == 2
    assert sleeps == [2.0]


def test_retry_after_http_date_and_cap():
    later = email.utils.formatdate(time.time() + 3, usegmt=True)
    assert 1.5 <= parse_retry_after(later) <= 3.5
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert parse_retry_after("soon") is None
    sleeps: list[float] = []
    client, rec = make_client(sequence(json_response({}, 503, {"Retry-After": "3600"}),
                                       json_response({"count": 1})), sleeps)
    client.fetch("campaigns.count_launched")
    assert sleeps == [FAST.retry_after_cap]


def test_503_every_time_raises_server_error_after_bounded_attempts():
    client, rec = make_client(sequence(json_response({"message": "upstream down"}, 503)))
    with pytest.raises(errors.ServerError) as info:
        client.fetch("campaigns.count_launched")
    assert info.value.status == 503
    assert info.value.attempts == FAST.max_attempts
    assert len(rec.requests) == FAST.max_attempts
    assert "GET /api/v2/campaigns/count-launched answered 503" in str(info.value)
    assert "upstream down" in str(info.value)


@pytest.mark.parametrize("status,cls", [
    (400, errors.BadRequestError), (401, errors.AuthenticationError),
    (402, errors.PaymentRequiredError), (403, errors.PermissionDeniedError),
    (404, errors.NotFoundError), (413, errors.PayloadTooLargeError), (409, errors.ConflictError),
])
def test_non_retryable_statuses_map_to_typed_errors_without_retry(status, cls):
    client, rec = make_client(sequence(json_response(
        {"statusCode": status, "error": "E", "message": f"detail {status}"}, status)))
    with pytest.raises(cls) as info:
        client.fetch("campaigns.count_launched")
    assert len(rec.requests) == 1
    assert info.value.status == status and f"detail {status}" in str(info.value)
    assert FAKE_KEY not in str(info.value) and FAKE_KEY not in repr(info.value)


def test_403_names_accepted_scopes():
    client, _ = make_client(sequence(json_response({"message": "no"}, 403)))
    with pytest.raises(errors.PermissionDeniedError) as info:
        client.fetch("campaigns.list")
    assert "all:read" in str(info.value)


def test_401_says_where_to_create_a_key():
    client, _ = make_client(sequence(json_response({"message": "Invalid API key"}, 401)))
    with pytest.raises(errors.AuthenticationError, match="all:read"):
        client.fetch("campaigns.count_launched")


def test_429_exhausted_is_rate_limit_error():
    client, rec = make_client(sequence(json_response({}, 429)))
    with pytest.raises(errors.RateLimitError):
        client.fetch("campaigns.count_launched")
    assert len(rec.requests) == FAST.max_attempts


def test_connection_errors_are_retried_then_typed():
    calls = {"n": 0}

    def handler(request):
        calls["n"] += 1
        if calls["n"] < 3:
            raise httpx.ConnectError("refused", request=request)
        return json_response({"count": 9})

    client, _ = make_client(handler)
    assert client.fetch("campaigns.count_launched")["count"].to_list() == [9]

    def always(request):
        raise httpx.ReadTimeout("slow", request=request)

    client, rec = make_client(always)
    with pytest.raises(errors.TimeoutError, match="timed out"):
        client.fetch("campaigns.count_launched")
    assert len(rec.requests) == FAST.max_attempts


def test_error_inside_200_and_invalid_json():
    client, rec = make_client(sequence(json_response({"error": "ACC_AUTH_ERROR"})))
    with pytest.raises(errors.ResponseShapeError, match="ACC_AUTH_ERROR"):
        client.fetch("campaigns.count_launched")
    assert len(rec.requests) == 1
    client, rec = make_client(sequence(httpx.Response(200, content=b'{"count": 1')))
    with pytest.raises(errors.ResponseShapeError, match="not valid JSON"):
        client.fetch("campaigns.count_launched")
    assert len(rec.requests) == FAST.max_attempts
    client, _ = make_client(sequence(httpx.Response(200, content=b'{"count": 1'),
                                     json_response({"count": 4})))
    assert client.fetch("campaigns.count_launched")["count"].to_list() == [4]


def test_wrong_envelope_is_a_shape_error():
    client, _ = make_client(sequence(json_response([{"id": 1}])))
    with pytest.raises(errors.ResponseShapeError, match="'items'"):
        client.fetch("campaigns.list")


# -- throttle -------------------------------------------------------------------------------
def test_throttle_never_exceeds_rate_under_concurrent_threads():
    throttle = Throttle((RateWindow(10, 0.25),), {})
    stamps: list[float] = []
    lock = threading.Lock()

    def worker():
        for _ in range(8):
            throttle.acquire("x")
            with lock:
                stamps.append(time.monotonic())

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stamps.sort()
    assert len(stamps) == 48
    for i in range(len(stamps) - 10):
        assert stamps[i + 10] - stamps[i] >= 0.25 - 1e-3  # never 11 in one window
    assert stamps[-1] - stamps[0] >= 0.25 * (48 // 10) - 0.01


def test_per_endpoint_window_applies_only_to_that_endpoint():
    now = {"t": 0.0}
    slept: list[float] = []

    def sleep(s):
        slept.append(s)
        now["t"] += s

    throttle = Throttle((RateWindow(100, 1.0),), {"emails.list": (RateWindow(2, 60.0),)},
                        clock=lambda: now["t"], sleep=sleep)
    for _ in range(5):
        throttle.acquire("campaigns.list")
    assert sum(slept) == pytest.approx(4 / 100)  # only the even spacing of 100/s
    before = now["t"]
    throttle.acquire("emails.list")
    throttle.acquire("emails.list")
    throttle.acquire("emails.list")
    # two a minute, evenly spaced: the third e-mail request leaves 60 s after the first
    assert now["t"] - before == pytest.approx(60.0 + 0.01, abs=0.02)


def test_every_retry_attempt_takes_a_throttle_slot():
    client, rec = make_client(sequence(json_response({}, 500), json_response({}, 500),
                                       json_response({"count": 1})))
    taken = []
    original = client.throttle.acquire
    client.throttle.acquire = lambda name=None, **kw: (taken.append(name), original(name, **kw))  # type: ignore[method-assign]
    client.fetch("campaigns.count_launched")
    assert taken == ["campaigns.count_launched"] * 3 == ["campaigns.count_launched"] * len(rec.requests)
    # each attempt counted until its answer was back, and none is still in flight
    assert [log.in_flight for log in client.throttle._global] == [0, 0]
    assert all(len(log.stamps) == 3 for log in client.throttle._global)


# -- pagination -----------------------------------------------------------------------------
def pager(pages: dict[str | None, dict]):
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.params.get("limit") == "100"
        return json_response(pages[request.url.params.get("starting_after")])

    return handler


def test_cursor_pages_are_walked_completely_and_stop_on_empty_string_cursor():
    pages = {None: {"items": [{"id": "a"}, {"id": "b"}], "next_starting_after": "b"},
             "b": {"items": [{"id": "c"}], "next_starting_after": ""}}
    client, rec = make_client(pager(pages))
    assert client.fetch("custom_tags.list")["id"].to_list() == ["a", "b", "c"]
    assert len(rec.requests) == 2


def test_last_page_with_cursor_then_empty_page_and_empty_first_page():
    pages = {None: {"items": [{"id": "a"}], "next_starting_after": "a"},
             "a": {"items": [], "next_starting_after": "zzz"}}
    client, rec = make_client(pager(pages))
    assert client.fetch("custom_tags.list")["id"].to_list() == ["a"]
    assert len(rec.requests) == 2
    client, rec = make_client(pager({None: {"items": []}}))
    frame = client.fetch("custom_tags.list")
    assert frame.height == 0 and "id" in frame.columns
    assert len(rec.requests) == 1


def test_repeating_cursor_raises_instead_of_looping():
    pages = {None: {"items": [{"id": "a"}], "next_starting_after": "x"},
             "x": {"items": [{"id": "b"}], "next_starting_after": "x"}}
    client, rec = make_client(pager(pages))
    with pytest.raises(errors.PaginationError, match="twice"):
        client.fetch("custom_tags.list")
    assert len(rec.requests) == 2


def test_max_pages_guard():
    def endless(request):
        n = int(request.url.params.get("starting_after") or 0)
        return json_response({"items": [{"id": str(n)}], "next_starting_after": str(n + 1)})

    client, rec = make_client(endless)
    with pytest.raises(errors.PaginationError, match="more than 3 pages"):
        client.fetch("custom_tags.list", max_pages=3)
    assert len(rec.requests) == 3


def test_audit_logs_use_page_size_1000_and_leads_put_the_cursor_in_the_body():
    seen = []

    def handler(request):
        if request.url.path.endswith("/audit-logs"):
            seen.append(request.url.params.get("limit"))
            return json_response({"items": []})
        import json

        body = json.loads(request.content)
        seen.append(body)
        if body.get("starting_after") is None:
            return json_response({"items": [{"id": "l1"}], "next_starting_after": "l1"})
        return json_response({"items": []})

    client, rec = make_client(handler)
    client.fetch("audit_logs.list")
    client.fetch("leads.list", campaign="019ffad2-90b0-7d6d-b877-e244a0d3d2b2")
    assert seen[0] == "1000"
    assert seen[1]["limit"] == 100 and "starting_after" not in seen[1]
    assert seen[2]["starting_after"] == "l1" and seen[2]["campaign"] == "019ffad2-90b0-7d6d-b877-e244a0d3d2b2"
    assert all(r.method == "POST" for r in rec.requests[1:])


@pytest.mark.parametrize("text", [
    b'{"a": 123456789012345678901234567890, "b": -99999999999999999999999, "c": -0, "d": -0.0}',
    b'{"a": 1, "a": 2, "z": [1E2, 1e-400, 0.1, 5e-324, 1.7976931348623157e308]}',
    b'["\\u00e9\\ud83d\\ude00\\/", "\\u0000", "\xc3\xa9"]', b' \n[1] \n', b'[NaN, Infinity, -Infinity]',
    b'[1e400]', b'\xef\xbb\xbf{"bom": true}', '{"utf16": 1}'.encode("utf-16"), b'["\\ud800"]',
])
def test_json_bodies_decode_as_json_loads_does(text):
    import json

    from instantly_nb.http import _loads

    expected, got = json.loads(text), _loads(text)
    assert repr(got) == repr(expected)  # repr: nan != nan, and -0.0 == 0.0


@pytest.mark.parametrize("text", [b'{"a": 1', b'["a\x01b"]', b'["\xff"]', b"[1] x", b"nul"])
def test_bodies_json_loads_refuses_are_refused(text):
    from instantly_nb.http import _loads

    with pytest.raises(ValueError):
        _loads(text)
