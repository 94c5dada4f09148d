"""Result rows, the printed table, and recording a run in bench/RESULTS.md."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

__all__ = ["Row", "machine", "ratio", "record", "render"]

BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


@dataclass
class Row:
    """One measured line: ``ratio`` is ``reference_s / seconds`` (or the inverse, see ``kind``)."""

    section: str
    what: str
    seconds: float | None
    requests: int | None = None
    reference: str = ""
    ratio: float | None = None
    target: str = ""
    met: bool | None = None
    note: str = ""

    def cells(self) -> list[str]:
        verdict = {True: "yes", False: "**no**", None: ""}[self.met]
        return [self.section, self.what, _num(self.seconds), _num(self.requests), self.reference,
                "" if self.ratio is None else f"{self.ratio:.2f}x", self.target, verdict,
                self.note]


def ratio(a: float | None, b: float | None) -> float | None:
    """``a / b``, or None when either is unknown or ``b`` is zero (a floor of 0 s at 0 latency)."""
    return a / b if a is not None and b else None


def _num(value: float | int | None) -> str:
    if value is None:
        return ""
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.1f}" if value >= 10 else f"{value:.2f}"


HEADER = ["#", "measurement", "wall s", "requests", "compared with", "ratio", "target", "met",
          "note"]


def render(rows: list[Row]) -> str:
    """The rows as a markdown table (readable in a terminal too)."""
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(c.replace("|", "/") for c in r.cells()) + " |" for r in rows]
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    """Where the run happened."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text()
                      .splitlines() if line.startswith("MemTotal"))
    except (OSError, StopIteration):
        mem_kb = 0
    import polars

    return {"date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"), "cpu": cpu,
            "cores": os.cpu_count(), "memory_gb": round(mem_kb / 2**20, 1),
            "os": platform.platform(), "python": platform.python_version(),
            "polars": polars.__version__,
            "load": " / ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg")
            else "unknown"}


def record(path: Path, rows: list[Row], settings: dict[str, Any], notes: list[str]) -> None:
    """Put this run's table between the markers of ``path`` (created if missing)."""
    info = machine()
    block = "\n".join([
        BEGIN,
        f"Run of {info['date']} on {info['cpu']} ({info['cores']} cores, "
        f"{info['memory_gb']} GB), {info['os']}, Python {info['python']}, polars "
        f"{info['polars']}; load average (1/5/15 min) at the end: {info['load']}.",
        "",
        "Settings: " + ", ".join(f"{k}={v}" for k, v in settings.items()) + ".",
        "",
        render(rows),
        "",
        *[f"- {n}" for n in notes],
        END,
    ])
    text = path.read_text() if path.exists() else f"# Benchmark results\n\n{BEGIN}\n{END}\n"
    if BEGIN not in text:
        text += f"\n{BEGIN}\n{END}\n"
    text = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _m: block, text, flags=re.S)
    path.write_text(text)


def dump(path: Path, rows: list[Row], settings: dict[str, Any], notes: list[str]) -> None:
    """The run as JSON (for later comparison)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"machine": machine(), "settings": settings, "notes": notes,
                                "rows": [asdict(r) for r in rows]}, indent=1))
