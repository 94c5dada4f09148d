"""The report as readers see it, in real headless Chromium: phone, laptop, wide screen, paper,
scripts off and the e-mail variant.

One page is built per module, without a kernel, from outputs shaped like the ready-made
notebooks' (a headline, alerts over many accounts, a wide table with long names, and the real
funnel, A/B and warmup charts drawn from metrics on generated data). It is printed to PDF once.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from instantly_nb import charts, metrics, report
from instantly_nb.report.email_page import email_page
from instantly_nb.report.headline import headline_payload
from instantly_nb.report.mime import MIME_ALERTS, MIME_HEADLINE, MIME_TABLE
from instantly_nb.report.page import render_report
from instantly_nb.report.payloads import table_payload
from instantly_nb.report.pdf import write_pdf

from .conftest import require_chromium
from .test_report_page import HEADLINE

pytestmark = pytest.mark.browser

WIDTHS = (390, 1280, 1920)
VEGALITE = "application/vnd.vegalite.v6+json"
ACCOUNTS = [f"sender.number{i:02d}@a-rather-long-domain-name.example" for i in range(14)]
CAMPAIGNS = ["Agency Owners <EU> & UK - Q4 Outreach", "SaaS Founders", "Series A CTOs"]
#: A4 at 96 px per inch, less the 14 mm top and bottom margins of the print stylesheet.
PRINTABLE_HEIGHT_PX = (297 - 28) / 25.4 * 96


@dataclass
class Layout:
    html: Path
    email: Path
    pdf: Path
    charts: int


def _display(data: dict[str, Any]) -> Any:
    return new_output("display_data", data={**data, "text/plain": "output"})


def _alerts() -> dict[str, Any]:
    rows = []
    for i, email in enumerate(ACCOUNTS):
        rows.append({"severity": "critical" if i % 5 == 0 else "warning", "email": email,
                     "message": f"{email}: health fell {10 + i} points over the window"})
        rows.append({"severity": "warning", "email": email, "rule": "spam_rate",
                     "message": f"{email}: {20 + i}% of warmup mail landed in spam"})
    return report.display.alerts_payload(rows)


def _wide_table() -> dict[str, Any]:
    n = 40
    frame = pl.DataFrame({
        "campaign": [f"{CAMPAIGNS[i % 3]} — wave {i} with a long descriptive name" for i in range(n)],
        "status": ["Active"] * n,
        "leads": [1000 + 37 * i for i in range(n)],
        "contacted": [900 + 31 * i for i in range(n)],
        "sent": [2400 + 77 * i for i in range(n)],
        "reply_rate": [0.01 + i / 1000 for i in range(n)],
        "reply_low": [0.005 + i / 1000 for i in range(n)],
        "reply_high": [0.02 + i / 1000 for i in range(n)],
        "bounce_rate": [0.004 * (i % 7) for i in range(n)],
        "open_rate": [0.3 + i / 200 for i in range(n)],
        "click_rate": [0.01] * n,
        "opportunity_rate": [0.002 * (i % 4) for i in range(n)],
        "unsubscribe_rate": [0.001] * n,
        "owner": ["growth-team@a-rather-long-domain-name.example"] * n,
    })
    return table_payload(frame, title="Campaigns", ci={"reply_rate": ("reply_low", "reply_high")},
                         labels={"reply_rate": "Reply rate", "bounce_rate": "Bounce rate"})


def _chart_outputs() -> list[Any]:
    funnel = metrics.funnel(pl.DataFrame({
        "campaign_id": CAMPAIGNS, "contacted_count": [1000, 800, 500],
        "open_count": [400, 300, 100], "reply_count": [50, 30, 10]}), by="campaign_id")
    steps = pl.DataFrame({
        "campaign": [c for c in CAMPAIGNS for _ in range(5)],
        "step": [1, 1, 1, 2, 2] * 3, "variant": [0, 1, 2, 0, 1] * 3,
        "sent": [2000, 2000, 1900, 600, 640] * 3,
        "unique_replies": [80, 140, 82, 12, 30, 60, 61, 59, 9, 10, 40, 90, 41, 5, 16]})
    ab = metrics.step_variants(steps, by="campaign").with_columns(
        pl.format("Subject line number {} for {{company}}", pl.col("variant")).alias("subject"))
    days = [dt.date(2026, 9, 1) + dt.timedelta(days=d) for d in range(90)]
    warm = pl.DataFrame({
        "email": [a for a in ACCOUNTS for _ in days], "date": days * len(ACCOUNTS),
        "landed_inbox": [max(1, 20 - (i % 9) - d // 30) for i in range(len(ACCOUNTS))
                         for d in range(90)],
        "landed_spam": [1 + (i % 9) * (d // 30) // 3 for i in range(len(ACCOUNTS))
                        for d in range(90)]})
    health = metrics.deliverability(warm)
    return [_display({VEGALITE: chart.to_dict()}) for chart in (
        charts.funnel(funnel), charts.step_variants(ab), charts.deliverability(health))]


@pytest.fixture(scope="module")
def layout(tmp_path_factory: pytest.TempPathFactory) -> Layout:
    require_chromium()
    folder = tmp_path_factory.mktemp("layout")
    overview = new_notebook(cells=[
        new_markdown_cell("# Campaign overview\n\nHow the campaigns did in the window."),
        new_code_cell("x", outputs=[_display({MIME_HEADLINE: headline_payload(HEADLINE)}),
                                    _display({MIME_ALERTS: _alerts()}),
                                    _display({MIME_TABLE: _wide_table()})]),
    ])
    chart_outputs = _chart_outputs()
    tests = new_notebook(cells=[new_markdown_cell("# Charts\n\nFunnel, A/B tests, warmup."),
                                new_code_cell("x", outputs=chart_outputs)])
    page = render_report(
        [("overview", overview, None), ("charts", tests, None)], title="Weekly report",
        window=report.Window(dt.date(2026, 11, 17), dt.date(2026, 11, 23), "previous-week"),
        demo=True,
    )
    html, email = folder / "report.html", folder / "report.email.html"
    html.write_text(page, encoding="utf-8")
    email.write_text(email_page(page), encoding="utf-8")
    pdf = write_pdf(html, folder / "report.pdf")
    return Layout(html, email, pdf, len(chart_outputs))


def _open(browser: Any, url: str, width: int, *, scripts: bool = True, height: int = 800) -> Any:
    context = browser.new_context(viewport={"width": width, "height": height},
                                  java_script_enabled=scripts)
    page = context.new_page()
    page.goto(url)
    if scripts:
        page.wait_for_selector("html[data-charts=done]", state="attached", timeout=30_000)
    return page


@pytest.fixture(scope="module")
def screen(browser: Any, layout: Layout) -> Iterator[Any]:
    """The report with scripts on, opened once; tests change the viewport size as they need."""
    page = _open(browser, layout.html.as_uri(), 1280)
    yield page
    page.context.close()


_WIDEST = """() => {
  const viewport = document.documentElement.clientWidth;
  let widest = {right: 0, what: ""};
  for (const el of document.querySelectorAll("body *")) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) continue;
    const folded = el.closest("details:not([open])");
    if (folded && !el.closest("summary") && el !== folded) continue;  // not shown
    if (box.right > widest.right) {
      const where = el.closest("[id]");
      widest = {right: Math.ceil(box.right),
                what: el.tagName.toLowerCase() + "." + el.className + " in #" + (where && where.id)};
    }
  }
  const scrolling = Array.from(document.querySelectorAll(".ink-table .scroll, .ink-chart"))
    .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.closest("[id]").id);
  return {viewport, page: document.documentElement.scrollWidth, widest, scrolling};
}"""


def test_the_headline_is_above_the_fold_on_a_laptop(screen: Any) -> None:
    screen.set_viewport_size({"width": 1280, "height": 800})
    box = screen.locator("#summary").bounding_box()
    order = screen.evaluate(
        "() => Array.from(document.querySelectorAll('body > *')).map(e => e.id || e.tagName)")
    assert box is not None and box["y"] < 200 and box["y"] + box["height"] <= 800, box
    assert order[:3] == ["HEADER", "summary", "alerts"]


def test_wide_table_keeps_reader_columns_and_a_fixed_name_column(screen: Any) -> None:
    screen.set_viewport_size({"width": 1280, "height": 800})
    table = screen.locator("figure.ink-table").first
    headers = [h.strip() for h in table.locator("thead th").all_inner_texts()]
    assert headers[0] == "campaign" and headers[-1] == "Details" and len(headers) == 8
    assert table.locator("thead th .sort[role=button]").count() == 7
    sticky = table.locator("tbody td").first.evaluate("e => getComputedStyle(e).position")
    assert sticky == "sticky"
    table.locator("details.more summary").first.click()  # stays open for the width test
    detail = table.locator("details.more").first.inner_text()
    assert "opportunity_rate" in detail and "owner" in detail


@pytest.mark.parametrize("width", WIDTHS)
def test_nothing_is_wider_than_the_viewport(screen: Any, width: int) -> None:
    screen.set_viewport_size({"width": width, "height": 900})
    screen.evaluate("() => { document.querySelector('details.more').open = true; }")
    # Charts that follow the page width redraw after a resize (Vega debounces it).
    screen.wait_for_function(
        "w => Array.from(document.querySelectorAll('.ink-chart .vis svg'))"
        ".every(s => s.getBoundingClientRect().right <= w)", arg=width, timeout=10_000)
    found = screen.evaluate(_WIDEST)
    assert found["viewport"] == width
    assert found["widest"]["right"] <= width, found  # names the widest element
    assert found["page"] <= width and found["scrolling"] == [], found


def test_charts_draw_with_scripts_and_show_static_pictures_without(
    browser: Any, screen: Any, layout: Layout
) -> None:
    assert screen.locator("figure.ink-chart").count() == layout.charts
    assert screen.locator("figure.ink-chart.drawn .vis svg.marks").count() == layout.charts
    assert screen.locator("figure.ink-chart .static img:visible").count() == 0
    assert screen.locator("button.csv:visible").count() == 1

    page = _open(browser, layout.html.as_uri(), 1280, scripts=False)
    pictures = page.locator("figure.ink-chart .static img")
    assert pictures.count() == layout.charts
    for i in range(layout.charts):
        assert pictures.nth(i).is_visible()
        assert pictures.nth(i).evaluate("img => img.complete && img.naturalWidth > 200")
    assert page.locator("button:visible").count() == 0  # nothing that needs scripts
    assert page.locator("figure.ink-chart svg").count() == 0
    page.context.close()


def _pdf_pages(pdf: bytes) -> int:
    pages = len(re.findall(rb"/Type /Page\b", pdf))
    counts = [int(n) for n in re.findall(rb"/Type /Pages\b[^>]*?/Count (\d+)", pdf, re.S)]
    assert pages == max(counts)  # the root of the page tree counts every page
    return pages


def _figure_pages(pdf: bytes) -> dict[str, set[int]]:
    """Alt text of each image in the tagged PDF -> the page objects its content sits on."""
    found: dict[str, set[int]] = {}
    for alt, body in re.findall(rb"/S /Figure\s*/Alt \(([^)]*)\)(.*?)>>\s*endobj", pdf, re.S):
        pages = {int(p) for p in re.findall(rb"/Pg (\d+) 0 R", body)}
        found.setdefault(alt.decode(), set()).update(pages)
    return found


def test_pdf_pages_and_no_chart_split(screen: Any, layout: Layout) -> None:
    data = layout.pdf.read_bytes()
    assert data.startswith(b"%PDF")
    pages = _pdf_pages(data)
    # Every chart is one picture on one page (a picture split over two pages would be drawn,
    # and tagged, on both).
    figures = _figure_pages(data)
    assert len(figures) == layout.charts and all(len(p) == 1 for p in figures.values()), figures
    # The page count is what the content needs: at least its printed height, and no more than
    # one extra page per chart moved whole to the next page.
    screen.set_viewport_size({"width": 718, "height": 900})  # A4 less margins, 96 px per inch
    screen.emulate_media(media="print")
    layout_facts = screen.evaluate("""() => ({
      height: document.documentElement.scrollHeight,
      charts: Array.from(document.querySelectorAll('figure.ink-chart'))
        .map(f => f.getBoundingClientRect().height),
      avoid: Array.from(document.querySelectorAll('figure.ink-chart'))
        .every(f => getComputedStyle(f).breakInside === 'avoid'),
      headings: Array.from(document.querySelectorAll('h2, h3'))
        .every(h => getComputedStyle(h).breakAfter === 'avoid'),
      hidden: Array.from(document.querySelectorAll('.vis, .toolbar'))
        .every(e => getComputedStyle(e).display === 'none'),
    })""")
    screen.emulate_media(media="screen")
    assert layout_facts["avoid"] and layout_facts["headings"] and layout_facts["hidden"]
    assert max(layout_facts["charts"]) < PRINTABLE_HEIGHT_PX  # each chart fits on a page
    least = math.ceil(layout_facts["height"] / PRINTABLE_HEIGHT_PX)
    assert least <= pages <= least + layout.charts, (pages, least)


def test_email_variant_is_light_static_and_script_free(browser: Any, layout: Layout) -> None:
    text = layout.email.read_text(encoding="utf-8")
    assert len(text.encode()) < 300_000
    assert "<script" not in text.lower() and "<style" not in text.lower()
    assert "<button" not in text and "<details" not in text
    page = _open(browser, layout.email.as_uri(), 700, scripts=False)
    assert page.locator("img").count() == layout.charts
    assert all(page.locator("img").nth(i).evaluate("i => i.complete && i.naturalWidth > 200")
               for i in range(layout.charts))
    assert "1,200" in page.locator("#summary").inner_text()
    styled = page.evaluate("() => document.querySelectorAll('[style]').length")
    page.context.close()
    assert styled > 100
