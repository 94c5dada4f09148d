"""``make bench``: every benchmark section in one run, printed as one table of ratios.

    .venv/bin/python bench/run.py            # full run (large workspace, ~1M leads; ~20 min)
    .venv/bin/python bench/run.py --quick    # default workspace, 100k leads (~5 min)
    .venv/bin/python bench/run.py --record   # also write the table into bench/RESULTS.md

Sections: 1 sweep (cold ``client.pull`` against its floor, a naive loop and the ``instantlyai``
SDK), 2 leads at scale (one chain against the package's partitioned walk), 3 shaping (the bytes
path and from_bodies against pandas and polars), 4 cached rerun, 5 end to end (report and
notebooks), 6 the report's data re-fetched the next day on the same store, 7 the statistics
simulated (bench/simulation.py: A/A and power of the A/B test, quiet alerts). See bench/README.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make the bench package importable
    sys.path.insert(0, str(ROOT))

from bench import e2e, incremental, leads, shaping, simulation, sweep  # noqa: E402
from bench import workspaces as many  # noqa: E402
from bench.server import ServerConfig  # noqa: E402
from bench.table import Row, dump, record, render  # noqa: E402

SECTIONS = ("sweep", "leads", "shaping", "incremental", "e2e", "workspaces", "simulation")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="bench/run.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="smaller scale, every row measured")
    p.add_argument("--only", action="append", choices=SECTIONS, help="run only these sections")
    p.add_argument("--size", help="demo workspace of sections 1-2 (large; quick: default)")
    p.add_argument("--latency-ms", type=float, default=125.0, help="fixed part of the latency")
    p.add_argument("--jitter-ms", type=float, default=50.0, help="uniform extra, 0..jitter")
    p.add_argument("--emails-per-minute", type=int, default=300,
                   help="GET /emails limit the server enforces (documented: 20; see README)")
    p.add_argument("--workers", type=int, help="Client(max_workers=...); default: the client's own")
    p.add_argument("--leads", type=int, help="leads shaped in section 3 (all of the workspace)")
    p.add_argument("--chain-pages", type=int, help="pages of the single chain timed (300)")
    p.add_argument("--no-sdk", action="store_true", help="skip the instantlyai SDK")
    p.add_argument("--no-notebooks", action="store_true", help="section 5: report only")
    p.add_argument("--record", action="store_true", help="write the table into RESULTS.md")
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "out",
                   help="scratch folder (git-ignored)")
    return p


def settings(args: argparse.Namespace) -> dict[str, object]:
    size = args.size or ("default" if args.quick else "large")
    return {"mode": "quick" if args.quick else "full", "size": size,
            "latency_ms": f"{args.latency_ms:g}+U(0,{args.jitter_ms:g})",
            "limits": f"100/s, 6000/min, GET /emails {args.emails_per_minute}/min",
            "max_workers": args.workers or "client default"}


def run_sections(args: argparse.Namespace, notes: list[str]) -> list[Row]:
    size = str(settings(args)["size"])
    server = ServerConfig(size=size, latency_ms=args.latency_ms, jitter_ms=args.jitter_ms,
                          emails_per_minute=args.emails_per_minute)
    wanted = args.only or SECTIONS
    rows: list[Row] = []
    if "sweep" in wanted:
        opts = sweep.SweepOptions(
            server=server, max_workers=args.workers,
            naive_sample=None if args.quick else 6, sdk=not args.no_sdk,
            sdk_pages=None if args.quick else 40, notes=notes)
        rows += _timed_section("sweep", lambda: sweep.run(opts))
    if "leads" in wanted:
        lopts = leads.LeadsOptions(server=replace(server, emails_per_minute=20),
                                   chain_pages=args.chain_pages or 300,
                                   workers=(args.workers,))
        rows += _timed_section("leads", lambda: leads.run(lopts))
    if "shaping" in wanted:
        count = args.leads or (100_000 if args.quick else None)
        rows += _timed_section("shaping", lambda: _shaping(args.out, "large", count, notes))
    if "incremental" in wanted:
        rows += _timed_section("incremental", lambda: incremental.run(
            replace(server, size="default" if size == "large" else size)))
    if "e2e" in wanted:
        rows += _timed_section("e2e", lambda: e2e.run(notebooks=not args.no_notebooks))
    if "workspaces" in wanted:
        wopts = many.Options(server=replace(many.Options().server, size=str(settings(args)["size"])
                                            if args.size else "default",
                                            latency_ms=args.latency_ms, jitter_ms=args.jitter_ms),
                             counts=(1, 5) if args.quick else (1, 5, 20))
        wrows = _timed_section("workspaces", lambda: many.run(wopts))
        if args.record:  # a section of its own in RESULTS.md, not a row of the table above
            many.record(ROOT / "bench" / "RESULTS.md", wrows, wopts)
    if "simulation" in wanted:
        rows += _timed_section("simulation", lambda: _simulation(args))
    return rows


def _simulation(args: argparse.Namespace) -> list[Row]:
    """Section 7: the statistics simulated (a section of its own in RESULTS.md)."""
    text, targets = simulation.run(simulation.QUICK if args.quick else simulation.Options())
    if args.record:
        simulation.record(ROOT / "bench" / "RESULTS.md", text)
    return [Row("7", what, None, target=what, met=met, note=measured)
            for what, measured, met in targets]


def _timed_section(name: str, fn: object) -> list[Row]:
    t0 = time.perf_counter()
    print(f"[bench] {name} ...", flush=True)
    rows = fn()  # type: ignore[operator]
    print(f"[bench] {name} done in {time.perf_counter() - t0:.0f} s", flush=True)
    print(render(rows), flush=True)
    return list(rows)


def _shaping(out: Path, size: str, count: int | None, notes: list[str]) -> list[Row]:
    out.mkdir(parents=True, exist_ok=True)
    pages = out / f"leads_pages_{size}_{count or 'all'}.ndjson"
    if not pages.exists():
        shaping.write_pages(pages, size=size, seed=7, leads=count)
    rows = _shaping_rows(pages, shaping.METHODS, "pandas.json_normalize",
                         ("from_bodies",), "decoded pages", target=False)
    rows += _shaping_rows(pages, shaping.RAW_METHODS, "json.loads + pandas.json_normalize",
                          ("rawpages",), "pages as bytes")
    same = shaping.check(pages)
    notes.append(f"Shaping: rawpages gives the same frame as json.loads + from_bodies on the "
                 f"first {same.get('rows', 0):,} leads: {same.get('same_frame_raw')}; pages read "
                 f"by the fast path: {same.get('fast_pages')} of {same.get('pages')}.")
    return rows


def _shaping_rows(pages: Path, methods: Mapping[str, object], baseline: str,
                  ours: tuple[str, ...], given: str, target: bool = True) -> list[Row]:
    results = {m: shaping.measure(m, pages) for m in methods}
    base = results[baseline].get("seconds")
    rows = []
    for method, r in results.items():
        if "error" in r:
            rows.append(Row("3", method, None, None, "", None, "", None, r["error"]))
            continue
        is_ours = target and any(o in method for o in ours)
        ratio = base / r["seconds"] if base else None
        lighter = r["peak_mb"] <= results[baseline].get("peak_mb", 0)
        rows.append(Row("3", f"{method}, {r['rows']:,} leads ({given}) -> {r['columns']} columns",
                        r["seconds"], None, baseline, ratio,
                        ">= 3x faster than pandas, no more peak memory" if is_ours else "",
                        (ratio is not None and ratio >= 3 and lighter) if is_ours else None,
                        f"peak +{r['peak_mb']:,.0f} MB"
                        + ("" if r["peak_exact"] else " (upper bound)")))
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    notes: list[str] = []
    t0 = time.perf_counter()
    rows = run_sections(args, notes)
    notes.append(f"Whole run: {time.perf_counter() - t0:.0f} s.")
    print("\n" + render(rows))
    for note in notes:
        print(f"- {note}")
    dump(args.out / "last_run.json", rows, settings(args), notes)
    if args.record:
        record(ROOT / "bench" / "RESULTS.md", rows, settings(args), notes)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
