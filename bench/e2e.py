"""Section 5: the report command on the default demo workspace, and every notebook executed.

Both run as child processes with progress bars off, each with a timeout, and are timed end to
end (start-up, the embedded demo server, fetching, rendering).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .table import Row

__all__ = ["run"]

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_RUNNER = """
import sys, nbformat
from nbclient import NotebookClient
nb = nbformat.read(sys.argv[1], as_version=4)
NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": sys.argv[2]}}).execute()
"""


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INSTANTLY_")}
    return {**env, "INSTANTLY_NB_PROGRESS": "0"}


def _timed(argv: list[str], timeout_s: float, cwd: Path) -> tuple[float, int, str]:
    t0 = time.perf_counter()
    try:
        done = subprocess.run(argv, cwd=cwd, env=_env(), capture_output=True, text=True,
                              timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return time.perf_counter() - t0, -1, f"timed out after {timeout_s:.0f} s"
    tail = (done.stderr or done.stdout).strip().splitlines()
    return time.perf_counter() - t0, done.returncode, tail[-1][:200] if tail else ""


def run(timeout_s: float = 900.0, notebooks: bool = True) -> list[Row]:
    rows = []
    cli = Path(sys.executable).with_name("instantly-nb")
    with tempfile.TemporaryDirectory(prefix="bench-report-") as out:
        argv = [str(cli), "report", "--demo", "--out", out]
        seconds, code, tail = _timed(argv, timeout_s, ROOT)
        written = sorted(p.name for p in Path(out).glob("*.html"))
        rows.append(Row("5", "make report (instantly-nb report --demo)", seconds, None, "", None,
                        "exit 0", code == 0,
                        f"exit {code}; wrote {', '.join(written) or 'nothing'}"
                        + ("" if code == 0 else f"; {tail}")))
    if not notebooks:
        return rows
    found = sorted((ROOT / "notebooks").glob("*.ipynb"))
    if not found:
        rows.append(Row("5", "execute notebooks/*.ipynb", None, None, "", None, "", None,
                        "no notebooks in notebooks/ yet"))
    total, failed = 0.0, []
    for nb in found:
        seconds, code, tail = _timed([sys.executable, "-c", NOTEBOOK_RUNNER, str(nb),
                                      str(nb.parent)], timeout_s, ROOT)
        total += seconds
        if code != 0:
            failed.append(f"{nb.name}: {tail}")
        rows.append(Row("5", f"execute {nb.name}", seconds, None, "", None, "runs", code == 0,
                        "" if code == 0 else tail))
    if found:
        rows.append(Row("5", f"execute all {len(found)} notebooks", total, None, "", None,
                        "all run", not failed, "; ".join(failed)[:300]))
    return rows
