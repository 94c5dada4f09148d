"""Smoke test of the benchmark code (bench/): every section but the end-to-end one runs on the
tiny demo workspace with no added latency, and its table holds the measurements it should."""

from __future__ import annotations

import json

import pytest

from bench import run
from bench.floors import floor
from bench.table import Row, render


def test_floor_is_the_largest_of_rate_endpoint_and_chain_terms():
    rate = floor(1001, per_second=100, per_minute=6000, round_trip_s=0.1)
    assert rate.seconds == pytest.approx(10.1) and rate.binding == "workspace rate"
    emails = floor(1001, per_second=100, per_minute=6000, endpoint_requests={"emails.list": 41},
                   endpoint_per_minute={"emails.list": 20}, round_trip_s=0.1)
    assert emails.seconds == pytest.approx(120.1) and emails.binding == "emails rate"
    chain = floor(10, per_second=100, per_minute=6000, chain_pages=10, round_trip_s=0.15)
    assert chain.seconds == pytest.approx(1.5) and chain.binding == "page chain"


def test_bench_runs_on_the_tiny_workspace(tmp_path):
    code = run.main(["--quick", "--size", "tiny", "--latency-ms", "0", "--jitter-ms", "0",
                     "--emails-per-minute", "6000", "--no-sdk", "--leads", "1000",
                     "--chain-pages", "5", "--only", "sweep", "--only", "leads",
                     "--only", "shaping", "--out", str(tmp_path)])
    assert code == 0
    result = json.loads((tmp_path / "last_run.json").read_text())
    rows = {(r["section"], r["what"].split(",")[0]): r for r in result["rows"]}
    cold = rows[("1", "pull")]
    assert cold["seconds"] > 0 and cold["requests"] > 100
    assert rows[("1", "no 429 reaches the user")]["met"] is True
    cached = rows[("4", "pull again from the snapshot store (same client)")]
    assert cached["requests"] == 0 and cached["note"] == "server saw 0 requests"
    assert rows[("1", "naive loop")]["requests"] > 100
    partitioned = [r for r in result["rows"] if "partitioned chains" in r["what"]]
    assert len(partitioned) == 1 and "complete: True" in partitioned[0]["note"]
    assert "fresh Client, default settings" in partitioned[0]["what"]
    shaped = [r for r in result["rows"] if r["section"] == "3"]
    assert len(shaped) == 6 and all(r["seconds"] > 0 and "1,000 leads" in r["what"] for r in shaped)
    assert any("rawpages gives the same frame as json.loads + from_bodies on the first 1,000 "
               "leads: True" in n for n in result["notes"])
    table = render([Row(**r) for r in result["rows"]])
    assert "| 1 | pull, cold, tiny workspace" in table and "| 3 | pandas.json_normalize" in table
