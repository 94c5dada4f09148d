"""A pull says how long the e-mail listing takes, can leave steps out and bound the e-mails."""

from __future__ import annotations

import datetime as dt
import logging
import math
from types import SimpleNamespace

import polars as pl
import pytest

from instantly_nb import Client
from instantly_nb.pull_eta import Countdown, EmailPlan


@pytest.fixture(scope="module")
def client():
    with Client.demo(size="tiny", progress=False) as c:
        yield c


def test_skipped_steps_and_their_dependents_are_left_out(client, tmp_path):
    sent = client.requests_sent
    summary = client.pull(tmp_path, only=["emails.unread_count", "campaigns.analytics"],
                          skip=["campaigns.list"])
    status = dict(summary.select("endpoint", "status").iter_rows())
    assert status == {"campaigns.list": "skipped: asked",
                      "campaigns.analytics": "skipped: needs campaigns.list",
                      "emails.unread_count": "ok"}
    assert not (tmp_path / "campaigns.analytics.parquet").exists()
    assert client.requests_sent - sent <= 2  # the unread count (and the workspace id)
    with pytest.raises(ValueError, match="not steps of the sweep"):
        client.pull(tmp_path, skip=["emails.lst"])


def test_emails_since_bounds_the_listing_and_the_pull_says_how_long_it_takes(client, tmp_path,
                                                                             caplog):
    every = client.fetch("emails.list")
    since = every["timestamp_created"].dt.date().sort()[every.height // 2]
    overview = client.fetch("campaigns.analytics_overview", start_date=since)
    with caplog.at_level(logging.WARNING, logger="instantly_nb.pull"):
        client.pull(tmp_path, only=["emails.list"], emails_since=since.isoformat())
    frame = pl.read_parquet(tmp_path / "emails.list.parquet")
    assert 0 < frame.height < every.height
    assert frame["timestamp_created"].dt.date().min() >= since
    said = " ".join(r.getMessage() for r in caplog.records)
    pages = math.ceil((overview["emails_sent_count"][0] + overview["reply_count"][0]) / 100)
    assert f"e-mails since {since}" in said and f"at most {pages:,} pages" in said
    assert "20 requests a minute" in said and "--skip emails.list" in said


def test_countdown_counts_down_at_the_pace_that_binds():
    shown: list[str] = []
    bar = SimpleNamespace(postfix=shown.append)
    documented = EmailPlan(pages=124, per_minute=20)
    assert "up to 7 min at the documented limit" in documented.sentence()
    countdown = Countdown(bar, documented)
    countdown.tally = SimpleNamespace(n=4)
    assert countdown.text() == "e-mails: page 4 of <= 124, <= 6 min left"
    fast = EmailPlan(pages=124, per_minute=950, since=dt.date(2026, 1, 1))
    assert "(8 s at this client's pace)" in fast.sentence()
    assert "e-mails since 2026-01-01" in fast.sentence()
