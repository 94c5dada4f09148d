"""The statistics simulation (bench/simulation.py) on a few simulated tests: shape of its
results, its bounds check, and that it rewrites only its own section of RESULTS.md."""

from __future__ import annotations

from pathlib import Path

from bench import simulation


def test_small_simulation_and_its_section(tmp_path: Path) -> None:
    opts = simulation.Options(sims=20, accounts=8, seed=3)
    bounds = simulation.Bounds()
    aa = simulation.aa(opts, bounds)
    assert aa.height == len(simulation.VOLUMES) * len(simulation.BASE_RATES)
    assert ((aa["false"] >= 0) & (aa["false"] <= 1)).all()
    alerted = simulation.alerts(opts, bounds)
    assert alerted["warmup_per_day"].to_list() == list(simulation.WARMUP_PER_DAY)
    assert bounds.checked > 10_000 and bounds.outside == 0
    results = tmp_path / "RESULTS.md"
    results.write_text("# Benchmark results\n\n## Latest full run\n\nkept\n")
    simulation.record(results, simulation.SECTION + "\n\nfirst\n")
    simulation.record(results, simulation.SECTION + "\n\nsecond\n")
    text = results.read_text()
    assert "kept" in text and "second" in text and "first" not in text
    assert text.count(simulation.SECTION) == 1
