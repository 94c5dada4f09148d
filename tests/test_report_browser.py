"""The written report in a real headless browser: offline, charts drawn, hostile text inert, CSV.

One report is built per module (a real kernel runs ``fixtures/report/hostile.ipynb``) and one
browser serves every test. Browser tests need Debian chromium at /usr/bin/chromium (CI installs
it with apt); only they are skipped when it is missing.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from instantly_nb.report.cli import main
from instantly_nb.report.mime import MIME_TABLE, is_vegalite_mime

from .conftest import FAKE_KEY

FIXTURES = Path(__file__).parent / "fixtures" / "report"
HOSTILE = '<img src=x onerror="window.__pwned = 1">'
BREAKOUT = "</script><script>window.__pwned = 2</script><!--"

_spec = importlib.util.spec_from_file_location("report_fake_api", FIXTURES / "fake_api.py")
assert _spec and _spec.loader
fake_api = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fake_api)


@dataclass
class Built:
    html: Path
    notebook: dict[str, Any]
    folder: Path
    stdout: str
    stderr: str


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    """Run the hostile fixture notebook through ``instantly-nb report`` once for the module."""
    folder = tmp_path_factory.mktemp("report")
    mp = pytest.MonkeyPatch()
    capture = io.StringIO()
    try:
        with fake_api.FakeAPI({FAKE_KEY: HOSTILE + " workspace"}) as api:
            mp.setenv("INSTANTLY_API_KEY", FAKE_KEY)
            mp.setenv("INSTANTLY_BASE_URL", api.url)
            mp.delenv("INSTANTLY_NB_NOTEBOOKS", raising=False)
            mp.setattr("sys.stdout", capture)
            errors = io.StringIO()
            mp.setattr("sys.stderr", errors)
            argv = ["--notebook", str(FIXTURES / "hostile.ipynb"), "--keep-notebooks"]
            argv += ["--start", "2026-11-17", "--end", "2026-11-23", "--out", str(folder)]
            argv += ["--title", "Weekly <b>report</b>"]
            code = main(argv)
    finally:
        mp.undo()
    assert code == 0, errors.getvalue()
    html = Path(capture.getvalue().strip())
    notebook = folder / "instantly-report_2026-11-17_2026-11-23_notebooks" / "hostile.ipynb"
    yield Built(
        html, json.loads(notebook.read_text()), folder, capture.getvalue(), errors.getvalue()
    )


@dataclass
class Opened:
    page: Any
    console: list[tuple[str, str]] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


@pytest.fixture
def opened(browser: Any, built: Built) -> Iterator[Opened]:
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    result = Opened(page)
    page.on("console", lambda msg: result.console.append((msg.type, msg.text)))
    page.on("pageerror", lambda exc: result.console.append(("pageerror", str(exc))))
    context.on("request", lambda request: result.requests.append(request.url))
    page.goto(built.html.as_uri())
    page.wait_for_selector("html[data-charts=done]", state="attached", timeout=10_000)
    yield result
    context.close()


def _outputs(notebook: dict[str, Any]) -> list[dict[str, Any]]:
    return [o for c in notebook["cells"] if c["cell_type"] == "code" for o in c["outputs"]]


def _table_payload(notebook: dict[str, Any]) -> dict[str, Any]:
    (table,) = [
        o["data"][MIME_TABLE] for o in _outputs(notebook) if MIME_TABLE in o.get("data", {})
    ]
    return table


# -- without a browser --------------------------------------------------------------------------


def test_the_key_is_absent_from_every_output(built: Built) -> None:
    files = [p for p in built.folder.rglob("*") if p.is_file()]
    assert {p.suffix for p in files} == {".html", ".ipynb"}
    for path in files:
        assert FAKE_KEY not in path.read_text(), path
    assert FAKE_KEY not in built.stdout + built.stderr
    parameters = built.notebook["metadata"]["papermill"]["parameters"]
    assert set(parameters) == {
        "start_date",
        "end_date",
        "campaign_ids",
        "title",
        "demo",
        "scheduled",
    }


def test_file_name_and_header(built: Built) -> None:
    assert built.html.name == "instantly-report_2026-11-17_2026-11-23.html"
    header = built.html.read_text().split("</header>", 1)[0]
    assert "Weekly &lt;b&gt;report&lt;/b&gt;" in header
    assert "&lt;img src=x onerror=&quot;window.__pwned = 1&quot;&gt; workspace" in header


# -- in the browser -----------------------------------------------------------------------------


@pytest.mark.browser
def test_opens_offline_without_errors(opened: Opened, built: Built) -> None:
    assert [m for m in opened.console if m[0] in ("error", "pageerror", "warning")] == []
    own = built.html.as_uri()
    assert opened.requests and all(
        url == own or url.startswith(("data:", "blob:")) for url in opened.requests
    ), opened.requests


@pytest.mark.browser
def test_every_chart_draws(opened: Opened, built: Built) -> None:
    expected = sum(
        1 for o in _outputs(built.notebook) if any(is_vegalite_mime(m) for m in o.get("data", {}))
    )
    assert expected == 2
    page = opened.page
    assert page.locator("figure.ink-chart").count() == expected
    assert page.locator("figure.ink-chart .vis svg.marks").count() == expected
    assert page.locator("figure.ink-chart.failed").count() == 0


@pytest.mark.browser
def test_hostile_text_shows_as_text_and_runs_nothing(opened: Opened) -> None:
    page = opened.page
    assert page.evaluate("typeof window.__pwned") == "undefined"
    # no <img src=x>, no remote pixel: the only images are the charts' static pictures
    sources = page.eval_on_selector_all("img", "els => els.map(e => e.getAttribute('src'))")
    assert len(sources) == 2 and all(s.startswith("data:image/svg+xml;") for s in sources)
    assert page.locator(".ink-chart .static img").count() == 2
    assert page.locator("#raw-html").count() == 0  # the raw HTML output was dropped
    cells = page.locator("figure.ink-table tbody tr td:first-child").all_text_contents()
    assert cells[:2] == [HOSTILE, BREAKOUT]
    assert HOSTILE in page.locator("#alerts").inner_text()
    assert (
        "<script>window.__pwned = 'markdown'</script>"
        in page.locator("section.nb h2").first.inner_text()
    )


@pytest.mark.browser
def test_chart_tooltip_shows_the_name_as_text(opened: Opened) -> None:
    page = opened.page
    bar = page.locator("figure.ink-chart").first.locator("path[role=graphics-symbol]").first
    bar.hover()
    tooltip = page.locator("#vg-tooltip-element")
    tooltip.wait_for(state="visible", timeout=5_000)
    assert "campaign_name" in tooltip.inner_text()
    assert tooltip.locator("img").count() == 0
    assert page.evaluate("typeof window.__pwned") == "undefined"


@pytest.mark.browser
def test_table_is_formatted_and_sortable(opened: Opened) -> None:
    page = opened.page
    table = page.locator("figure.ink-table").first
    headers = table.locator("thead th").all_text_contents()
    assert headers[0] == "Campaign" and headers[-1].startswith("Reply rate")
    assert table.locator("tbody tr").first.locator("td").nth(1).inner_text() == "1,200"
    assert table.locator("tbody tr").first.locator("td").last.inner_text() == "4.2% (3.8–4.6%)"
    sent = table.locator("thead th .sort[role=button]", has_text="sent")
    sent.click()
    column = table.locator("tbody tr td:nth-child(2)")
    assert column.all_text_contents() == ["10", "450", "800", "1,200"]
    sent.click()
    assert column.all_text_contents() == ["1,200", "800", "450", "10"]
    sent.focus()
    page.keyboard.press("Enter")  # the keyboard sorts too
    assert column.all_text_contents() == ["10", "450", "800", "1,200"]
    # Chromium leaves form controls out of the header it repeats on each printed page: the
    # sort control must not be one, or every page after the first prints a blank header.
    assert table.locator("thead button, thead input, thead select").count() == 0


@pytest.mark.browser
def test_csv_download_yields_the_table_data(opened: Opened, built: Built) -> None:
    page = opened.page
    with page.expect_download() as info:
        page.locator("figure.ink-table button.csv").first.click()
    download = info.value
    assert download.suggested_filename == "campaigns.csv"
    text = Path(download.path()).read_bytes().decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:], newline="")))
    payload = _table_payload(built.notebook)
    assert rows[0] == [c["name"] for c in payload["columns"]]

    def read(text: str, like: Any) -> Any:
        # JavaScript writes 0.0 as "0": compare numbers as numbers, exactly.
        if like is None:
            return None if text == "" else text
        if isinstance(like, (int, float)) and not isinstance(like, bool):
            return float(text)
        return text[1:] if text[:1] == "'" and text[1:2] in ("=", "+", "-", "@") else text

    assert len(rows) == len(payload["rows"]) + 1
    for got, want in zip(rows[1:], payload["rows"], strict=True):
        assert [read(t, v) for t, v in zip(got, want, strict=True)] == want
    assert rows[4][0] == '\'=HYPERLINK("x")'  # a formula-looking name stays text
    assert rows[1][0] == HOSTILE
