"""The demo server's live quirks: each habit of the live API on the wire, and the frames the client
makes of them equal to the strict server's frames for the same workspace."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import httpx
import polars as pl
import pytest

from instantly_nb import Client, errors
from instantly_nb.demo import DEMO_KEY, DemoServer
from instantly_nb.demo.cli import build_parser
from instantly_nb.demo.quirks import QUIRKS_ENV, Quirks

from .test_demo_support import TODAY, bearer

WINDOW = {"start_date": "2026-10-01", "end_date": "2026-11-20"}


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, DemoServer]]:
    strict = DemoServer(size="tiny", today=TODAY, quirks="strict").start()
    live = DemoServer(size="tiny", today=TODAY, quirks="live").start()
    try:
        yield {"strict": strict, "live": live}
    finally:
        strict.stop()
        live.stop()


def client_of(server: DemoServer, **kwargs) -> Client:
    return Client(api_key=DEMO_KEY, base_url=server.url, **server.client_pacing(), **kwargs)


def raw(server: DemoServer, path: str, **params) -> httpx.Response:
    headers = {**bearer(), "User-Agent": "instantly-nb/test"}
    return httpx.get(server.url + "/api/v2" + path, params=params, headers=headers, timeout=30)


def test_quirks_are_chosen_by_argument_cli_and_environment(monkeypatch):
    assert DemoServer(size="tiny").quirks == Quirks("strict")
    assert build_parser().parse_args(["--quirks", "live"]).quirks == "live"
    monkeypatch.setenv(QUIRKS_ENV, "live")
    assert DemoServer(size="tiny").quirks.live
    assert DemoServer(size="tiny", quirks="strict").quirks == Quirks("strict")
    monkeypatch.setenv(QUIRKS_ENV, "wild")
    with pytest.raises(ValueError, match="strict, live"):
        DemoServer(size="tiny")


def test_wire_shapes_of_the_live_api(servers):
    live, strict = servers["live"], servers["strict"]
    steps = raw(live, "/campaigns/analytics/steps", **WINDOW).json()
    assert {"step": "null", "variant": "null"}.items() <= steps[-1].items()
    assert steps[-1]["sent"] == 0 and all(isinstance(r["step"], str) for r in steps)
    assert raw(strict, "/campaigns/analytics").status_code == 200
    refused = raw(live, "/campaigns/analytics")
    assert refused.status_code == 500 and refused.json()["message"] == "Unable to count leads"
    ids = [c["id"] for c in raw(strict, "/campaigns", limit=100).json()["items"]]
    days = {cid: raw(strict, "/campaigns/analytics/daily", campaign_id=cid, **WINDOW).json()
            for cid in ids}
    idle = max(ids, key=lambda cid: sum(r["sent"] == 0 for r in days[cid]))
    live_days = raw(live, "/campaigns/analytics/daily", campaign_id=idle, **WINDOW).json()
    assert len(live_days) < len(days[idle]) and any(r["sent"] == 0 for r in live_days)
    first = raw(live, "/accounts").json()["items"][0]["email"]
    accounts = raw(live, "/accounts/analytics/daily", emails=first, start_date="2026-11-10",
                   end_date="2026-11-20").json()
    assert [r for r in accounts if r["email_account"] == ""]
    listing = raw(live, "/campaigns", limit=100).json()
    assert listing["next_starting_after"] == listing["items"][-1]["id"]  # the last page
    after = raw(live, "/campaigns", limit=100, starting_after=listing["next_starting_after"])
    assert after.json() == {"items": []}
    drafts = [c for c in listing["items"] if c["status"] == 0]
    assert all("sequences" not in c for c in drafts)
    emails = raw(live, "/emails", limit=100, email_type="sent").json()["items"]
    assert emails and all(e["step"].count("_") == 2 for e in emails if e["step"])


def test_firewall_refusal_is_plain_text_and_a_typed_client_error(servers):
    live = servers["live"]
    blocked = httpx.get(live.url + "/api/v2/campaigns", headers=bearer(), timeout=30)
    assert blocked.status_code == 403 and blocked.text == "error code: 1010"
    assert blocked.headers["content-type"].startswith("text/plain")
    assert httpx.get(servers["strict"].url + "/api/v2/campaigns", headers=bearer(),
                     timeout=30).status_code == 200

    class Blocked(httpx.HTTPTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            request.headers["X-Demo-Block"] = "1"
            return super().handle_request(request)

    with client_of(live, transport=Blocked()) as client, \
            pytest.raises(errors.BlockedRequestError, match="blocked before it reached"):
        client.campaigns.list()
    with client_of(live) as client:  # the client's own User-Agent passes
        assert client.campaigns.list().height > 0


def _frames(server: DemoServer) -> dict[str, pl.DataFrame]:
    with client_of(server) as client:
        ids = client.campaigns.list()["id"].to_list()
        emails = client.emails.list(email_type="sent", campaign_id=ids[0])
        return {
            "analytics": client.campaigns.analytics(**WINDOW).sort("campaign_id"),
            "steps": client.campaigns.analytics_steps(campaign_id=ids, **WINDOW)
            .sort("campaign_id", "step", "variant"),
            "daily": client.campaigns.analytics_daily(**WINDOW),
            "accounts": client.accounts.analytics_daily(**WINDOW)
            .sort("email_account", "date"),
            "emails": emails.sort("id"),
        }


def test_live_frames_hold_the_strict_numbers(servers, caplog):
    strict = _frames(servers["strict"])
    with caplog.at_level(logging.WARNING, "instantly_nb"):
        live = _frames(servers["live"])
    messages = " ".join(r.getMessage() for r in caplog.records)
    assert "one request per campaign" in messages and "empty email_account" in messages
    assert live["analytics"].drop(
        "open_count_unique_by_step", "reply_count_unique_by_step",
        "reply_count_automatic_unique_by_step", "link_click_count_unique_by_step",
    ).equals(strict["analytics"].drop(
        "open_count_unique_by_step", "reply_count_unique_by_step",
        "reply_count_automatic_unique_by_step", "link_click_count_unique_by_step"))
    assert live["steps"].schema == strict["steps"].schema
    assert live["steps"].drop("replies_automatic", "unique_replies_automatic").equals(
        strict["steps"].drop("replies_automatic", "unique_replies_automatic"))
    assert live["accounts"].equals(strict["accounts"])
    joined = strict["daily"].join(live["daily"], on="date", how="left", suffix="_live")
    assert joined.filter(pl.col("sent_live").is_null())["sent"].sum() == 0
    assert live["daily"]["sent"].sum() == strict["daily"]["sent"].sum()
    assert live["emails"]["step_number"].to_list() == strict["emails"]["step_number"].to_list()
    assert live["emails"]["step_variant"].null_count() == 0


def test_wide_account_windows_answer_500_and_the_client_splits_them(servers):
    first = raw(servers["live"], "/accounts").json()["items"][0]["email"]
    wide = raw(servers["live"], "/accounts/analytics/daily", emails=first,
               start_date="2026-11-01", end_date="2026-11-20")
    assert wide.status_code == 500
    frames_of = {}
    for mode, server in servers.items():
        with client_of(server) as client:
            frames_of[mode] = client.accounts.analytics_daily(
                emails=[first], start_date="2026-11-01", end_date="2026-11-20").sort("date")
    assert frames_of["live"].equals(frames_of["strict"]) and frames_of["live"].height == 20


def test_demo_server_command_serves_live_quirks(capsys: pytest.CaptureFixture[str]) -> None:
    import threading

    from instantly_nb.demo import main as demo_main  # what `instantly-nb demo-server` runs

    from .test_demo_cli import _wait_for_url

    stop = threading.Event()
    argv = ["--size", "tiny", "--today", TODAY, "--quirks", "live"]
    runner = threading.Thread(target=demo_main, args=(argv,), kwargs={"stop": stop})
    runner.start()
    try:
        url, printed = _wait_for_url(capsys)
        answer = httpx.get(url + "/api/v2/campaigns", headers=bearer(), timeout=30)
        assert answer.status_code == 403 and answer.text == "error code: 1010"
    finally:
        stop.set()
        runner.join(timeout=15)
    assert "answers: live" in printed + capsys.readouterr().out
