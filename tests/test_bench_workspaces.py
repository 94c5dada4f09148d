"""Smoke test of bench/workspaces.py: two tiny demo workspaces side by side, measured for real."""

from __future__ import annotations

from bench import workspaces
from bench.server import ServerConfig
from bench.table import render


def test_side_by_side_benchmark_measures_each_count(tmp_path):
    opts = workspaces.Options(server=ServerConfig(size="tiny", latency_ms=0, jitter_ms=0,
                                                  emails_per_minute=6000),
                              counts=(1, 2), days=14, workers=8)
    rows = workspaces.run(opts)
    walls = [r for r in rows if r.seconds is not None]
    assert [r.what.split(" ")[0] for r in walls] == ["1", "2"]
    one, two = walls
    assert one.met is True and two.met is not None and "all ok: True" in two.note
    assert two.requests > one.requests > 50  # the server saw both workspaces' requests
    memory = [r for r in rows if r.what.startswith("peak memory")]
    assert len(memory) == 2 and "peak RSS" in memory[1].note and memory[1].ratio > 0
    out = tmp_path / "RESULTS.md"
    out.write_text("# Benchmark results\n\nother sections\n")
    workspaces.record(out, rows, opts)
    workspaces.record(out, rows, opts)  # a second run replaces the section
    text = out.read_text()
    assert text.count(workspaces.BEGIN) == 1 and "other sections" in text
    assert render(rows).splitlines()[2] in text


def test_repeated_runs_report_the_median_run_and_the_spread():
    runs = [{"wall": w, "peak_mb": p, "tag": t}
            for w, p, t in [(150.0, 300.0, "a"), (110.0, 320.0, "b"), (130.0, 290.0, "c")]]
    chosen = workspaces.median_run(runs)
    assert chosen["tag"] == "c" and chosen["wall"] == 130.0 and chosen["peak_mb"] == 290.0
    assert chosen["spread"] == {"runs": 3, "walls": [150.0, 110.0, 130.0],
                                "peaks": [300.0, 320.0, 290.0]}
    assert workspaces._spread(chosen, "walls", "s").startswith("median of 3 runs (110.0-150.0 s")
    assert workspaces.median_run(runs[:2])["tag"] == "b"  # of two, the faster
    one = workspaces.median_run(runs[:1])
    assert "spread" not in one and workspaces._spread(one, "walls", "s") == ""


def test_repeated_runs_also_show_each_round_against_its_own_one_workspace():
    one = workspaces.median_run([{"wall": w, "peak_mb": 1.0} for w in (20.0, 25.0, 30.0)])
    many = workspaces.median_run([{"wall": w, "peak_mb": 1.0} for w in (90.0, 110.0, 100.0)])
    assert workspaces._paired(many, one) == ("ratio to the one workspace of the same round: "
                                             "4.50x, 4.40x, 3.33x; ")
    assert workspaces._paired({"wall": 1.0}, one) == ""
