"""Many workspaces pulled side by side (``Workspaces.pull``): N = 1, 5, 20 demo workspaces.

One demo server runs in a child process (:mod:`bench.server`); every workspace has its own key
(``demo-key-<name>``), so the server keeps separate rate limits for each, as the API does. Each
N is pulled by a fresh client process into a fresh dataset, so its peak memory (the kernel's
peak-RSS mark) is its own. Reported per N: wall time, requests the server saw, aggregate
requests/s, the client's peak RSS (whole process, and above the process at rest after imports),
CPU seconds of client and server, and what bounds the run: the per-workspace rate floor (the
e-mail listing at its per-workspace limit, the longest of the workspace's walks) or CPU.

    .venv/bin/python -m bench.workspaces                 # the section alone, default workspaces
    .venv/bin/python -m bench.workspaces --record        # also write its section of RESULTS.md
    .venv/bin/python -m bench.workspaces --repeat 3      # every N three times, the median shown
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.server import ServerConfig, ServerProcess  # noqa: E402
from bench.table import Row, machine, render  # noqa: E402
from instantly_nb.sidebyside import AT_ONCE, CHAINS, HEAVY  # noqa: E402

BEGIN, END = "<!-- bench:workspaces:begin -->", "<!-- bench:workspaces:end -->"
WALL_TARGET, MEMORY_TARGET = 4.0, 2.0


@dataclass
class Options:
    server: ServerConfig = field(default_factory=lambda: ServerConfig(
        size="default", latency_ms=125.0, jitter_ms=50.0, emails_per_minute=300))
    counts: tuple[int, ...] = (1, 5, 20)
    days: int = 90
    workers: int = 32
    at_once: int = AT_ONCE
    heavy: int = HEAVY
    repeat: int = 1  # runs of every N, interleaved (1, 5, 20, 1, 5, 20, ...); the median counts
    notes: list[str] = field(default_factory=list)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a running process (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def child(argv: Sequence[str]) -> int:
    """One measured pull (run in its own process): prints one JSON line."""
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--keys", required=True)
    p.add_argument("--pacing", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--days", type=int, default=90)
    p.add_argument("--workers", type=int, default=32)
    p.add_argument("--at-once", type=int, default=AT_ONCE)
    p.add_argument("--heavy", type=int, default=HEAVY)
    args = p.parse_args(argv)
    import polars as pl

    from instantly_nb import Client, Workspaces, open_dataset
    from instantly_nb.dataset import describe

    pacing = json.loads(args.pacing)
    keys = args.keys.split(",")
    ws = Workspaces({k.removeprefix("demo-key-"): Client(api_key=k, base_url=args.url, progress=False,
                                                         **pacing) for k in keys})
    rest = _rss_mb()
    t0, cpu0 = time.perf_counter(), time.process_time()
    with ws:
        summary = ws.pull(args.out, days=args.days, workers=args.workers, at_once=args.at_once,
                          heavy=args.heavy, progress=False)
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    leads = open_dataset(args.out)["leads.list"].select(pl.len()).collect().item()
    print(json.dumps({"wall": wall, "cpu": cpu, "peak_mb": peak, "rest_mb": rest,
                      "requests": int(summary["requests"].sum()), "rows": int(summary["rows"].sum()),
                      "leads": leads, "status": summary["status"].to_list(),
                      "dataset": describe(args.out)}), flush=True)
    return 0


def _measure(server: ServerProcess, keys: list[str], out: Path, opts: Options) -> dict[str, Any]:
    before = server.stats()
    load0 = os.getloadavg()[0]
    cpu0 = _cpu_seconds(server._proc.pid) if server._proc else 0.0  # our own child's counters
    env = {**os.environ, "PYTHONPATH": str(ROOT), "INSTANTLY_NB_PROGRESS": "0"}
    proc = subprocess.run(
        [sys.executable, "-m", "bench.workspaces", "--child", "--url", server.url,
         "--keys", ",".join(keys), "--pacing", json.dumps(server.pacing), "--out", str(out),
         "--days", str(opts.days), "--workers", str(opts.workers), "--at-once", str(opts.at_once),
         "--heavy", str(opts.heavy)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=3600, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"the measured pull failed:\n{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    after = server.stats()
    result["server_requests"] = after["requests"] - before["requests"]
    result["refused"] = after["refused"] - before["refused"]
    result["emails_requests"] = (after["by_endpoint"].get("emails.list", 0)
                                 - before["by_endpoint"].get("emails.list", 0))
    result["server_cpu"] = (_cpu_seconds(server._proc.pid) if server._proc else 0.0) - cpu0
    result["load"] = (load0, os.getloadavg()[0])  # 1-minute load average before and after
    return result


def _warm(server: ServerProcess, keys: list[str]) -> None:
    """Build every workspace in the server before timing (a first request per key)."""
    import httpx

    for key in keys:
        httpx.get(server.url + "/api/v2/workspaces/current", timeout=600,
                  headers={"Authorization": f"Bearer {key}"}).raise_for_status()


def _bound(r: dict[str, Any], n: int, per_minute: int) -> tuple[float, str]:
    """The per-workspace rate floor of the run and what bounds the measured wall time."""
    per_ws = r["emails_requests"] / max(1, n)
    floor = max(0.0, (per_ws - 1) * 60.0 / per_minute)
    cpu = r["cpu"] + r["server_cpu"]
    cores = os.cpu_count() or 1
    if r["wall"] <= floor * 1.25:
        return floor, "rate limits (per-workspace e-mail listing)"
    if cpu >= 0.7 * cores * r["wall"]:
        return floor, f"CPU ({cpu:.0f} CPU-s on {cores} cores)"
    return floor, "round trips and CPU between them"


def run(opts: Options) -> list[Row]:
    runs: dict[int, list[dict[str, Any]]] = {n: [] for n in opts.counts}
    limit = opts.server.emails_per_minute
    with ServerProcess(opts.server) as server, tempfile.TemporaryDirectory(prefix="inb-ws-") as tmp:
        for k in range(max(1, opts.repeat)):  # interleaved, so a slow spell of the host is
            for n in opts.counts:  # shared by the counts instead of landing on one of them
                tag = f"b{n}" if k == 0 else f"b{n}r{k}"
                keys = [f"demo-key-{tag}-{i:02d}" for i in range(n)]  # fresh names: fresh limits
                _warm(server, keys)
                r = _measure(server, keys, Path(tmp) / f"{tag}", opts)
                runs[n].append(r)
                print(f"[workspaces] N={n}: {r['wall']:.1f} s, {r['server_requests']} requests, "
                      f"peak {r['peak_mb']:.0f} MB, CPU client {r['cpu']:.0f} s server "
                      f"{r['server_cpu']:.0f} s, load average {r['load'][0]:.1f} -> "
                      f"{r['load'][1]:.1f}", flush=True)
    return _rows({n: median_run(rs) for n, rs in runs.items()}, opts, limit)


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run of median wall time (its own figures, not a mix of runs), with the spread of
    wall times and peaks over all runs under ``"spread"`` when there were several."""
    ordered = sorted(runs, key=lambda r: r["wall"])
    chosen = dict(ordered[(len(ordered) - 1) // 2])
    if len(runs) > 1:
        chosen["spread"] = {"runs": len(runs), "walls": [r["wall"] for r in runs],
                            "peaks": [r["peak_mb"] for r in runs]}
    return chosen


def _rows(results: dict[int, dict[str, Any]], opts: Options, limit: int) -> list[Row]:
    one = results[min(results)]
    rows = []
    for n, r in results.items():
        floor, bound = _bound(r, n, limit)
        ok = all(s == "ok" for s in r["status"])
        wall_ratio = r["wall"] / one["wall"]
        mem_ratio = r["peak_mb"] / one["peak_mb"]
        above = (r["peak_mb"] - r["rest_mb"]) / max(1.0, one["peak_mb"] - one["rest_mb"])
        rows.append(Row(
            "6", f"{n} workspace{'s' if n > 1 else ''} side by side, {opts.server.size} size, "
                 f"{r['leads']:,} leads", r["wall"], r["server_requests"],
            "1 workspace" if n > 1 else "", wall_ratio if n > 1 else None,
            f"<= {WALL_TARGET:g}x wall" if n > 1 else "",
            (wall_ratio <= WALL_TARGET and ok) if n > 1 else ok,
            f"{_spread(r, 'walls', 's')}{_paired(r, one) if n > 1 else ''}"
            f"{r['server_requests'] / r['wall']:.0f} req/s aggregate; floor {floor:.0f} s; "
            f"bound: {bound}; 429s {r['refused']}; all ok: {ok}; load average "
            f"{r['load'][0]:.1f} -> {r['load'][1]:.1f}"))
        rows.append(Row(
            "6", f"peak memory, {n} workspace{'s' if n > 1 else ''}", None, None,
            "1 workspace" if n > 1 else "", mem_ratio if n > 1 else None,
            f"<= {MEMORY_TARGET:g}x memory" if n > 1 else "",
            mem_ratio <= MEMORY_TARGET if n > 1 else None,
            f"{_spread(r, 'peaks', 'MB')}"
            f"peak RSS {r['peak_mb']:.0f} MB (at rest {r['rest_mb']:.0f} MB; above rest "
            f"{r['peak_mb'] - r['rest_mb']:.0f} MB = {above:.1f}x of 1); CPU client "
            f"{r['cpu']:.0f} s, server {r['server_cpu']:.0f} s"))
    per = one
    opts.notes.append(
        f"Per workspace ({opts.server.size}, {opts.days} days): {per['server_requests']} requests, "
        f"{per['rows']:,} rows, {per['emails_requests']} e-mail pages; dataset "
        f"{per['dataset']['bytes'] / 2**20:.1f} MB in {per['dataset']['files']} parquet files.")
    return rows


def _spread(r: dict[str, Any], key: str, unit: str) -> str:
    """"median of 3 runs (113.3-154.1 s); " for a repeated count, else nothing."""
    spread = r.get("spread")
    if not spread:
        return ""
    values = spread[key]
    return (f"median of {spread['runs']} runs ({min(values):.1f}-{max(values):.1f} {unit}; "
            f"all: {', '.join(f'{v:.1f}' for v in values)}); ")


def _paired(r: dict[str, Any], one: dict[str, Any]) -> str:
    """The wall ratio of each round against the one workspace of the same round, when the
    counts were repeated (the median run's ratio alone can hide rounds above the target)."""
    if "spread" not in r or "spread" not in one:
        return ""
    ratios = [w / w1 for w, w1 in zip(r["spread"]["walls"], one["spread"]["walls"], strict=False)]
    return ("ratio to the one workspace of the same round: "
            f"{', '.join(f'{x:.2f}x' for x in ratios)}; ")


def record(path: Path, rows: list[Row], opts: Options) -> None:
    """Put this section's table between its own markers in ``path``."""
    info = machine()
    cfg = opts.server
    block = "\n".join([
        BEGIN, "## Many workspaces side by side", "",
        f"Run of {info['date']} on {info['cpu']} ({info['cores']} cores, {info['memory_gb']} GB)"
        + (f"; every count run {opts.repeat} times, interleaved, and the run of median wall "
           "time shown (its spread in the notes)." if opts.repeat > 1 else "."),
        f"Each workspace: demo `{cfg.size}`, its own key and limits ({cfg.per_second}/s, "
        f"{cfg.per_minute}/min, GET /emails {cfg.emails_per_minute}/min), latency "
        f"{cfg.latency_ms:g}+U(0,{cfg.jitter_ms:g}) ms; one pool of {opts.workers} for all, "
        f"{opts.at_once} workspaces in flight at once (each walking its e-mail and lead listings, "
        f"{CHAINS} lead chains at a time over all), the other steps of {opts.heavy} of them at a "
        "time.",
        "", render(rows), "", *[f"- {n}" for n in opts.notes], END])
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    if BEGIN not in text:
        text = text.rstrip("\n") + f"\n\n{BEGIN}\n{END}\n"
    text = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _m: block, text, flags=re.S)
    path.write_text(text)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "--child":
        return child(argv[1:])
    p = argparse.ArgumentParser(prog="python -m bench.workspaces", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size", default="default")
    p.add_argument("--counts", default="1,5,20")
    p.add_argument("--emails-per-minute", type=int, default=300)
    p.add_argument("--latency-ms", type=float, default=125.0)
    p.add_argument("--jitter-ms", type=float, default=50.0)
    p.add_argument("--days", type=int, default=90)
    p.add_argument("--at-once", type=int, default=AT_ONCE, help="workspaces in flight at once")
    p.add_argument("--heavy", type=int, default=HEAVY,
                   help="workspaces whose steps other than the e-mail listing run at once")
    p.add_argument("--repeat", type=int, default=1,
                   help="runs of every count, interleaved; the run of median wall time is "
                        "reported, with the spread of all")
    p.add_argument("--record", action="store_true")
    args = p.parse_args(argv)
    opts = Options(server=replace(Options().server, size=args.size, latency_ms=args.latency_ms,
                                  jitter_ms=args.jitter_ms, emails_per_minute=args.emails_per_minute),
                   counts=tuple(int(c) for c in args.counts.split(",")), days=args.days,
                   at_once=args.at_once, heavy=args.heavy, repeat=args.repeat)
    rows = run(opts)
    print(render(rows))
    for note in opts.notes:
        print(f"- {note}")
    if args.record:
        record(ROOT / "bench" / "RESULTS.md", rows, opts)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
