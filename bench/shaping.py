"""Raw JSON pages of leads to a DataFrame: instantly_nb against pandas and a naive polars call.

:func:`write_pages` renders lead pages of a demo workspace exactly as ``POST /leads/list``
answers them (one JSON body per line), with no HTTP. :func:`measure` then runs every method in a
child process of its own (``python -m bench.shaping METHOD FILE``): the child decodes the pages,
and only then starts the clock and resets the kernel's peak-RSS mark, so the reported time and
peak memory are those of shaping alone (neither the decoded input nor importing the libraries is
counted). ``cpu_seconds`` (every thread of the child) is what load on a shared machine barely
changes; on an idle machine a single-threaded method's wall time is about its CPU time.
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PAGE = 100


def write_pages(path: Path, *, size: str, seed: int, leads: int | None = None) -> int:
    """Write the first ``leads`` leads (all by default) as answer pages; returns the lead count."""
    from instantly_nb.demo import build_workspace

    ws = build_workspace(seed, size)
    total = ws.leads.n if leads is None else min(leads, ws.leads.n)
    with path.open("w") as fh:
        for lo in range(0, total, PAGE):
            items = [ws.leads.record(i, ws.lead_context) for i in range(lo, min(total, lo + PAGE))]
            cursor = items[-1]["id"] if lo + PAGE < total else None
            fh.write(json.dumps({"items": items, "next_starting_after": cursor},
                                separators=(",", ":")) + "\n")
    return total


def _rows(bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [row for body in bodies for row in body["items"]]


def _instantly_nb(bodies: list[dict[str, Any]]) -> Any:
    from instantly_nb import frames

    return frames.from_bodies("leads.list", bodies)


def _pandas(bodies: list[dict[str, Any]]) -> Any:
    import pandas as pd

    return pd.json_normalize(_rows(bodies))


def _polars_naive(bodies: list[dict[str, Any]]) -> Any:
    import polars as pl

    # the default (infer_schema_length=100) raises on these pages: the first rows of a page
    # often have null where later rows have text
    return pl.DataFrame(_rows(bodies), infer_schema_length=None)


def _decoded(fn: Callable[[list[dict[str, Any]]], Any]) -> Callable[[list[bytes]], Any]:
    return lambda pages: fn([json.loads(p) for p in pages])


def _rawpages(pages: list[bytes]) -> Any:
    """What the client does with the pages of leads.list: check each page's bytes strictly
    (msgspec; full batches of checked pages are read by polars on a worker thread meanwhile),
    then one frame (from_bodies of every page when any page drifted)."""
    from instantly_nb import rawpages

    with rawpages.gc_paused():
        read = [rawpages.read_page("leads.list", p) for p in pages]
        return rawpages.frame("leads.list", read)


# Shaping alone: the input is the decoded pages (what from_bodies gets).
METHODS: dict[str, Callable[[list[dict[str, Any]]], Any]] = {
    "instantly_nb.frames.from_bodies": _instantly_nb,
    "pandas.json_normalize": _pandas,
    "pl.DataFrame(list_of_dicts)": _polars_naive,
}
# Decoding and shaping: the input is the pages as they come off the wire.
RAW_METHODS: dict[str, Callable[[list[bytes]], Any]] = {
    "json.loads + from_bodies": _decoded(_instantly_nb),
    "json.loads + pandas.json_normalize": _decoded(_pandas),
    "instantly_nb.rawpages (as the client shapes leads.list)": _rawpages,
}


def _peak_reset() -> bool:
    """Reset the kernel's peak-RSS mark of this process (Linux); False when not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def _warm() -> None:
    """Import what any method uses, before the clock: loading modules is not shaping."""
    import pandas  # noqa: F401
    import polars  # noqa: F401

    from instantly_nb import frames, rawpages  # noqa: F401


def _child(method: str, path: str) -> dict[str, Any]:
    _warm()
    with open(path, "rb") as fh:
        pages = list(fh)
    run: Callable[[Any], Any]
    if method in RAW_METHODS:
        data: Any = pages
        run = RAW_METHODS[method]
    else:
        data, run = [json.loads(p) for p in pages], METHODS[method]
        del pages
    gc.collect()
    before = _status_kb("VmRSS")
    exact = _peak_reset()
    t0, c0 = time.perf_counter(), time.process_time()
    frame = run(data)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    if exact:
        peak = _status_kb("VmHWM")
    else:  # ru_maxrss also counts decoding the input: an upper bound
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"method": method, "seconds": seconds, "cpu_seconds": cpu, "peak_mb": (peak - before) / 1024,
            "peak_exact": exact, "rows": int(frame.shape[0]), "columns": int(frame.shape[1])}


def measure(method: str, path: Path, timeout_s: float = 900.0) -> dict[str, Any]:
    """Run one method on the pages in ``path`` in a child process; its time and peak memory."""
    done = subprocess.run([sys.executable, "-m", "bench.shaping", method, str(path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout_s)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
        return {"method": method, "error": last[:300]}
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _check(path: str, pages: int = 1000) -> dict[str, Any]:
    """Whether the bytes path gives the same frame as ``json.loads`` + ``from_bodies``."""
    with open(path, "rb") as fh:
        raw = [line for line, _ in zip(fh, range(pages), strict=False)]
    bodies = [json.loads(p) for p in raw]
    reference = _instantly_nb(bodies)
    from instantly_nb import rawpages

    read = [rawpages.read_page("leads.list", p) for p in raw]
    # equal frames prove little when every page fell back to the ordinary path: say how many
    # pages the fast path read
    fast = sum(isinstance(p, rawpages.RawPage) and p.fast for p in read)
    return {"method": "check", "same_frame_raw": bool(reference.equals(_rawpages(raw))),
            "rows": sum(len(b["items"]) for b in bodies), "fast_pages": fast,
            "pages": len(raw)}


def check(path: Path, timeout_s: float = 600.0) -> dict[str, Any]:
    """Run :func:`_check` in a child process."""
    return measure("check", path, timeout_s)


if __name__ == "__main__":
    method, source = sys.argv[1], sys.argv[2]
    print(json.dumps(_check(source) if method == "check" else _child(method, source)))
