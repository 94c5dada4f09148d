"""The demo server's answers, byte for byte: a digest of every answer a sample of requests gets.

``tests/fixtures/demo_bytes.json`` holds the SHA-256 of each answer body (with its status) of the
``tiny`` workspace: every endpoint with its example parameters, in strict and live mode, and
every page of the lead and e-mail listings walked unfiltered, per campaign, per list and with
other filters. Any change to what the server sends -- a field, its order, its spelling, one
character of a value -- changes a digest. When an answer is changed on purpose, regenerate the
file with ``python -m tests.test_demo_bytes`` and review the labels that moved.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from instantly_nb.demo import DemoServer, Limits, build_workspace
from instantly_nb.demo.examples import example_params
from instantly_nb.endpoints import ENDPOINTS

from .test_demo_support import TODAY, call, http

FIXTURE = Path(__file__).parent / "fixtures" / "demo_bytes.json"
_WALKS_LEADS: list[tuple[str, dict[str, Any]]] = [
    ("all", {}), ("rest", {"in_campaign": False, "in_list": False}),
    ("in_campaign", {"in_campaign": True}), ("replied", {"filter": "FILTER_VAL_REPLIED"}),
    ("search", {"search": "an"}),
]
_WALKS_EMAILS: list[tuple[str, dict[str, Any]]] = [
    ("all", {}), ("asc", {"sort_order": "asc"}), ("preview", {"preview_only": True}),
    ("received", {"email_type": "received"}), ("latest", {"latest_of_thread": True}),
]


def _digest(response: httpx.Response) -> str:
    return f"{response.status_code}:{hashlib.sha256(response.content).hexdigest()[:20]}"


def _walk(client: httpx.Client, name: str, params: dict[str, Any], limit: int,
          label: str, out: dict[str, str]) -> None:
    query = dict(params, limit=limit)
    for number in range(500):
        response = call(client, name, query)
        out[f"{label}#{number}"] = _digest(response)
        cursor = response.json().get("next_starting_after") if response.is_success else None
        if not cursor:
            return
        query["starting_after"] = cursor
    raise AssertionError(f"{label}: more than 500 pages")


def collect(server: DemoServer, mode: str) -> dict[str, str]:
    """Label -> digest of every sampled answer of ``server``."""
    ws = server.workspace
    out: dict[str, str] = {}
    with http(server) as client:
        client.headers["User-Agent"] = "instantly-nb-tests"  # live mode refuses library agents
        for name, params in sorted(example_params(ws).items()):
            out[f"{mode}/{name}"] = _digest(call(client, name, params))
        if mode == "live":
            _walk(client, "emails.list", {}, 100, "live/emails", out)
            return out
        walks = [*_WALKS_LEADS, *((f"campaign{n}", {"campaign": c})
                                  for n, c in enumerate(ws.campaign_ids)),
                 *((f"list{n}", {"list_id": lst}) for n, lst in enumerate(ws.list_ids))]
        for label, params in walks:
            _walk(client, "leads.list", params, 100, f"leads/{label}", out)
        _walk(client, "leads.list", {}, 37, "leads/by37", out)
        for label, params in [*_WALKS_EMAILS, ("campaign0", {"campaign_id": ws.campaign_ids[0]})]:
            _walk(client, "emails.list", params, 100, f"emails/{label}", out)
    return out


def collect_all() -> dict[str, str]:
    out: dict[str, str] = {}
    for mode in ("strict", "live"):
        with DemoServer(size="tiny", today=TODAY, limits=Limits(enabled=False),
                        quirks=mode) as server:
            out.update(collect(server, mode))
    return out


@pytest.fixture(scope="module")
def answers() -> Iterator[dict[str, str]]:
    yield collect_all()


def test_every_sampled_answer_is_byte_identical(answers: dict[str, str]) -> None:
    expected = json.loads(FIXTURE.read_text())
    moved = sorted(k for k in expected.keys() | answers.keys()
                   if expected.get(k) != answers.get(k))
    assert not moved, f"{len(moved)} answers changed, e.g. {moved[:8]}"


def test_the_sample_covers_every_endpoint_and_many_pages(answers: dict[str, str]) -> None:
    assert {f"strict/{n}" for n in ENDPOINTS} <= answers.keys()
    lead_pages = [k for k in answers if k.startswith("leads/all#")]
    assert len(lead_pages) > 10  # the tiny workspace holds ~1.7k leads
    assert all(v.startswith("200:") for k, v in answers.items() if "#" in k)


def _dumps(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


@pytest.mark.parametrize("size", ["tiny", "default"])
def test_lead_text_is_what_the_json_module_writes_of_the_record(size: str) -> None:
    ws = build_workspace(7, size, today=TODAY)
    # default: every 7th lead (companies past the word x suffix combinations get a number)
    picked = np.arange(0, ws.leads.n, 1 if size == "tiny" else 7)
    texts = ws.lead_json.items(picked)
    differ = [int(i) for i, text in zip(picked, texts, strict=True)
              if text != _dumps(ws.leads.record(int(i), ws.lead_context))]
    assert not differ, f"{len(differ)} leads differ, e.g. {differ[:5]}"
    assert any(ws.leads.company_domain(int(i))[-9].isdigit() for i in picked) == (
        size == "default")


@pytest.mark.parametrize("preview", [False, True])
def test_email_text_is_what_the_json_module_writes_of_the_record(preview: bool) -> None:
    ws = build_workspace(7, "tiny", today=TODAY)
    positions = np.arange(ws.unibox.table.height)
    differ = []
    for pos, text in zip(positions.tolist(), ws.mail_json.items(positions, preview),
                         strict=True):
        record = ws.unibox.record(pos, ws.account_emails, ws.campaign_ids, ws.subsequence_ids)
        if preview:
            record["body"] = {"text": record["content_preview"] or "", "html": ""}
        if text != _dumps(record):
            differ.append(pos)
    assert len(positions) > 100 and not differ, f"{len(differ)} e-mails differ: {differ[:5]}"


if __name__ == "__main__":  # regenerate the fixture from the code as it is
    FIXTURE.write_text(json.dumps(collect_all(), indent=0, sort_keys=True) + "\n")
    sys.stdout.write(f"wrote {FIXTURE}\n")
