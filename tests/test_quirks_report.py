"""``instantly-nb report --demo`` with the live quirks on shows the same figures as in strict mode:
one report run each (one notebook, the tiny workspace), compared page for page and table for
table."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from instantly_nb.demo import DEMO_KEY, DemoServer
from instantly_nb.demo.quirks import QUIRKS_ENV
from instantly_nb.report import sources
from instantly_nb.report.cli import main
from instantly_nb.report.mime import MIME_TABLE
from instantly_nb.settings import PACING_ENV, format_pacing

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
NAMES = ("campaign_overview",)  # one notebook keeps the two runs cheap
STAMP = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2})? UTC")


def _tables(notebook: Path) -> list[dict[str, object]]:
    nb = json.loads(notebook.read_text())
    return [o["data"][MIME_TABLE] for c in nb["cells"] if c["cell_type"] == "code"
            for o in c.get("outputs", []) if MIME_TABLE in o.get("data", {})]


def test_report_figures_are_the_same_with_live_quirks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    modes: list[str] = []

    @contextmanager
    def tiny_demo() -> Iterator[tuple[str, str, str | None, dict[str, str]]]:
        # as sources.demo_server, on the tiny workspace; quirks come from the environment
        with DemoServer(size="tiny", speedup=sources.DEMO_SPEEDUP) as server:
            modes.append(server.quirks.mode)
            yield (DEMO_KEY, server.url, server.keys.get(DEMO_KEY),
                   {PACING_ENV: format_pacing(server.client_pacing())})

    monkeypatch.setattr(sources, "demo_server", tiny_demo)
    pages, tables = {}, {}
    for mode in ("strict", "live"):
        monkeypatch.setenv(QUIRKS_ENV, mode)
        out = tmp_path / mode
        chosen = [arg for name in NAMES for arg in ("--notebook", str(NOTEBOOKS / f"{name}.ipynb"))]
        assert main(["--demo", *chosen, "--keep-notebooks", "--quiet", "--out", str(out)]) == 0
        page = Path(capfd.readouterr().out.strip().splitlines()[-1])
        pages[mode] = STAMP.sub("<time>", page.read_text())
        tables[mode] = [t for name in NAMES
                        for t in _tables(out / f"{page.stem}_notebooks" / f"{name}.ipynb")]
    assert modes == ["strict", "live"]
    assert len(tables["strict"]) >= 3 and tables["live"] == tables["strict"]
    assert any(row for t in tables["strict"] for row in t["rows"])  # figures, not empty tables
    assert pages["live"] == pages["strict"]
