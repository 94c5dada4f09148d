"""Secrets never at rest or on show: secret-bearing columns masked at shaping, and the API key
scrubbed from notebook outputs in whatever pieces the kernel streamed it (a real kernel doing
so: tests/fixtures/report/leaky.ipynb in test_report_cli)."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from instantly_nb import frames
from instantly_nb.report.runner import REDACTED, scrub

from .conftest import FAKE_KEY, json_response
from .test_http import make_client

LIVE_KEY = "NmY0ZjJmYWMtZDRhZS00YzQ5LWE1NTgtYzE2NmE0YjI0MzYxOkdTaXhRbHFuZXBxTA=="


def _api_keys_body() -> dict:
    return {"items": [{"id": "k1", "name": "reporting", "scopes": ["all:read"], "key": LIVE_KEY,
                       "organization_id": "o1", "timestamp_created": "2026-01-01T00:00:00.000Z"}]}


def test_api_keys_are_masked_in_the_frame_and_in_the_store(tmp_path: Path):
    client, _ = make_client(lambda r: json_response(
        {"id": "ws1"} if r.url.path.endswith("/current") else _api_keys_body()),
        cache=tmp_path / "store")
    keys = client.fetch("api_keys.list")
    assert keys["key"].to_list() == ["****" + LIVE_KEY[-4:]]
    assert keys["name"].to_list() == ["reporting"]  # other columns untouched
    stored = [p.read_bytes() for p in (tmp_path / "store").rglob("*") if p.is_file()]
    assert stored and not any(LIVE_KEY.encode() in data for data in stored)


def test_passwords_and_webhook_headers_are_masked():
    dfy = frames.to_frame("dfy_orders.accounts", [{"id": "a", "email": "a@x.com",
                                                   "password": "hunter2-long-password"}])
    assert dfy["password"].to_list() == ["****"] and dfy["email"].to_list() == ["a@x.com"]
    hooks = frames.to_frame("webhooks.list", [{"id": "w", "headers": {"Authorization": "Bearer s3cr3t",
                                                                        "X-Env": "prod"}}])
    assert json.loads(hooks["headers"][0]) == {"Authorization": "****", "X-Env": "****"}
    # an undeclared secret field is masked too
    extra = frames.to_frame("accounts.list", [{"email": "a@x.com", "smtp_password": "pw123456"}])
    assert extra["smtp_password"].to_list() == ["****"]


def _notebook(*outputs: dict) -> dict:
    return {"cells": [{"cell_type": "code", "source": "", "outputs": list(outputs)}],
            "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def _stream(text, name="stdout") -> dict:
    return {"output_type": "stream", "name": name, "text": text}


def _flat(nb: dict) -> str:
    return json.dumps(nb)


def test_a_key_split_across_stream_chunks_is_scrubbed():
    nb = _notebook(_stream("key: " + FAKE_KEY[:9]), _stream(FAKE_KEY[9:17], "stderr"),
                   _stream(FAKE_KEY[17:] + " end\n"))
    assert scrub(nb, [FAKE_KEY])
    outs = nb["cells"][0]["outputs"]
    assert [o["text"] for o in outs] == [f"key: {REDACTED}", "", " end\n"]


def test_a_key_split_by_line_breaks_and_text_lists_is_scrubbed():
    nb = _notebook(_stream([FAKE_KEY[:10] + "\n", FAKE_KEY[10:] + "\n"]),
                   {"output_type": "execute_result", "execution_count": 1, "metadata": {},
                    "data": {"text/plain": [f"'{FAKE_KEY[:5]}'\n", f" '{FAKE_KEY[5:]}'"]}},
                   {"output_type": "error", "ename": "E", "evalue": "x",
                    "traceback": ["at " + FAKE_KEY[:13], FAKE_KEY[13:] + " here"]})
    assert scrub(nb, [FAKE_KEY])
    text = _flat(nb)
    for cut in range(8, len(FAKE_KEY) - 7):  # no long piece of the key is left anywhere
        assert FAKE_KEY[cut - 8:cut] not in text, FAKE_KEY[cut - 8:cut]
    assert text.count(REDACTED) == 3
    assert not scrub(_notebook(_stream("nothing secret here\n")), [FAKE_KEY])


def test_masking_keeps_frames_without_secrets_as_they_are():
    frame = frames.to_frame("campaigns.list", [{"id": "c", "name": "token bucket"}])
    assert frame["name"].to_list() == ["token bucket"]
    assert isinstance(frame, pl.DataFrame)


def test_webhook_target_urls_keep_only_scheme_and_host():
    hooks = frames.to_frame("webhooks.list", [
        {"id": "w1", "target_hook_url": "https://hooks.slack.com/services/T0/B0/XyZsecret"},
        {"id": "w2", "target_hook_url": "https://user:pw@example.com:8443/catch/9/abc?token=t"},
        {"id": "w3", "target_hook_url": "not a url"}, {"id": "w4", "target_hook_url": None}])
    assert hooks["target_hook_url"].to_list() == [
        "https://hooks.slack.com/****", "https://example.com:8443/****", "****", None]
    events = frames.to_frame("webhook_events.list", [
        {"id": "e1", "webhook_url": "https://hooks.zapier.com/hooks/catch/123/abcdef/"}])
    assert events["webhook_url"].to_list() == ["https://hooks.zapier.com/****"]
    assert "abcdef" not in events.write_csv()
