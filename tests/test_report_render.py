"""Report rendering without a kernel: formatting, payloads, escaping, page assembly."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from datetime import UTC, date, datetime
from typing import Any

import altair as alt
import nbformat
import polars as pl
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from instantly_nb import report
from instantly_nb.report import display as report_display
from instantly_nb.report import sources
from instantly_nb.report.formatting import format_ci, format_value
from instantly_nb.report.fragments import json_for_script
from instantly_nb.report.markdown import render_markdown
from instantly_nb.report.mime import MIME_ALERTS, MIME_DEFINITIONS, MIME_TABLE, is_vegalite_mime
from instantly_nb.report.page import render_report
from instantly_nb.report.payloads import PayloadError, read_table, table_payload

HOSTILE = '<img src=x onerror="window.__pwned = 1">'
BREAKOUT = "</script><script>window.__pwned = 2</script><!--"
WINDOW = report.Window(date(2026, 11, 17), date(2026, 11, 23), "previous-week")
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\nfake").decode()


# -- formatting ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "spec", "shown"),
    [
        (12345, "int", "12,345"),
        (1234.5678, "number", "1,234.57"),
        (1234.5678, "number:0", "1,235"),
        (0.0421, "percent", "4.2%"),
        (0.0421, "percent:2", "4.21%"),
        (None, "percent", "—"),
        (float("nan"), "number", "—"),
        (0.012, "delta", "+1.2 pp"),
        (-0.004, "delta:2", "-0.40 pp"),
        (0.0004, "pvalue", "< 0.001"),
        (0.04567, "pvalue", "0.046"),
        (True, "bool", "yes"),
        ("2026-11-23T14:05:00+00:00", "datetime", "2026-11-23 14:05"),
        ("<b>", "text", "<b>"),
    ],
)
def test_format_value(value: Any, spec: str, shown: str) -> None:
    assert format_value(value, spec) == shown


def test_rate_with_confidence_interval() -> None:
    assert format_ci(0.042, 0.038, 0.047) == "4.2% (3.8–4.7%)"
    assert format_ci(1.5, 1.25, 1.75, "number") == "1.50 (1.25–1.75)"
    assert format_ci(0.042, None, 0.047) == "4.2%"


@pytest.mark.parametrize("spec", ["percent:x", "int:2", "money"])
def test_bad_format_specs_are_refused(spec: str) -> None:
    with pytest.raises(ValueError, match="format"):
        format_value(1, spec)


# -- script-safe JSON ---------------------------------------------------------------------------


def test_json_for_script_cannot_break_out_of_a_script_element() -> None:
    data = {"name": BREAKOUT + " & \u2028\u2029 >", "n": float("inf")}
    text = json_for_script(data)
    for forbidden in ("<", ">", "&", "\u2028", "\u2029"):
        assert forbidden not in text
    assert json.loads(text) == {"name": data["name"], "n": None}


# -- table payloads -----------------------------------------------------------------------------


def _campaigns() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "campaign_name": [HOSTILE, "B"],
            "sent": [1200, 30],
            "reply_rate": [0.042, None],
            "lo": [0.038, None],
            "hi": [0.047, None],
            "day": [date(2026, 11, 17), date(2026, 11, 18)],
        }
    )


def test_table_payload_formats_and_ci_bounds() -> None:
    payload = table_payload(_campaigns(), title="Top campaigns", ci={"reply_rate": ("lo", "hi")})
    cols = {c["name"]: c for c in payload["columns"]}
    assert [cols[n]["format"] for n in ("campaign_name", "sent", "reply_rate", "day")] == [
        "text",
        "int",
        "percent",
        "date",
    ]
    assert cols["lo"]["hidden"] and cols["hi"]["hidden"] and not cols["sent"]["hidden"]
    assert payload["rows"][0] == [HOSTILE, 1200, 0.042, 0.038, 0.047, "2026-11-17"]
    assert payload["filename"] == "top-campaigns"
    json.dumps(payload, allow_nan=False)  # survives the notebook round trip as strict JSON


def test_table_payload_names_missing_columns() -> None:
    with pytest.raises(ValueError, match="nope"):
        table_payload(_campaigns(), formats={"nope": "int"})
    with pytest.raises(ValueError, match="missing_hi"):
        table_payload(_campaigns(), ci={"reply_rate": ("lo", "missing_hi")})


def test_table_rows_are_capped_with_a_note() -> None:
    frame = pl.DataFrame({"n": list(range(30))})
    table = read_table(table_payload(frame, max_rows=10))
    assert len(table["rows"]) == 10 and table["total_rows"] == 30
    page = _page([_nb([_display({MIME_TABLE: table_payload(frame, max_rows=10)})])])
    assert "Showing the first 10 of 30 rows." in page


@pytest.mark.parametrize(
    "payload",
    [
        {"columns": "x", "rows": []},
        {"columns": [{"name": "a"}], "rows": [[1, 2]]},
        {"columns": [{"name": "a"}], "rows": [[{"nested": 1}]]},
        {"columns": [{"name": "a", "format": "evil"}], "rows": []},
        {"columns": [{"name": "a", "ci": ["a", "zz"]}], "rows": []},
    ],
)
def test_read_table_refuses_malformed_payloads(payload: dict[str, Any]) -> None:
    with pytest.raises(PayloadError):
        read_table(payload)


def test_display_helpers_emit_custom_mime_bundles(monkeypatch: pytest.MonkeyPatch) -> None:
    shown: list[dict[str, Any]] = []
    monkeypatch.setattr(report_display, "_show", shown.append)
    report.table(_campaigns(), title="T", formats={"reply_rate": "percent:2"})
    report.alerts([{"level": "CRITICAL", "message": HOSTILE, "account": "a@x.com"}])
    report.definitions([("Reply rate", "replies / contacted")])
    table, alerts, definitions = shown
    assert set(table) == {MIME_TABLE, "text/html", "text/plain"}
    assert HOSTILE not in table["text/html"] and "&lt;img src=x" in table["text/html"]
    assert "<button" not in table["text/html"]  # the JupyterLab fallback has no dead controls
    assert alerts[MIME_ALERTS]["alerts"] == [
        {"severity": "critical", "message": HOSTILE, "details": {"account": "a@x.com"}}
    ]
    assert definitions[MIME_DEFINITIONS]["definitions"] == [
        {"name": "Reply rate", "definition": "replies / contacted"}
    ]


def test_metric_definitions_come_from_the_metrics_registry() -> None:
    pairs = dict(sources.metrics_definitions())
    assert "Reply rate" in pairs and "leads who replied" in pairs["Reply rate"]
    assert "unreliable" in pairs["Open rate"]  # the caveat travels with the definition


# -- charts in report mode ----------------------------------------------------------------------


@pytest.fixture
def report_renderer():
    previous = alt.renderers.active
    report.setup_report_mode()
    yield
    alt.renderers.enable(previous)


def test_report_mode_charts_are_vegalite_json_that_nbformat_stores(report_renderer: None) -> None:
    chart = (
        alt.Chart(pl.DataFrame({"a": [1, 2], "b": ["x", BREAKOUT]})).mark_bar().encode(x="a", y="b")
    )
    bundle, _ = chart._repr_mimebundle_()
    mimes = [m for m in bundle if is_vegalite_mime(m)]
    assert mimes == ["application/vnd.vegalite.v6+json"]
    output = new_output("display_data", data=bundle)
    nb = new_notebook(cells=[new_code_cell("chart", outputs=[output])])
    nbformat.validate(nbformat.reads(nbformat.writes(nb), as_version=4))


@pytest.mark.parametrize(
    ("mime", "ok"),
    [
        ("application/vnd.vegalite.v6+json", True),
        ("application/vnd.vegalite.v6.json", True),
        ("application/vnd.vegalite.v5+json", True),
        ("application/vnd.vega.v6+json", False),
        ("text/html", False),
    ],
)
def test_vegalite_mime_types(mime: str, ok: bool) -> None:
    assert is_vegalite_mime(mime) is ok


# -- markdown -----------------------------------------------------------------------------------


def test_markdown_escapes_raw_html_and_drops_remote_images() -> None:
    html = render_markdown(
        f"# Title <script>alert(1)</script>\n\n{HOSTILE} ![pixel](https://example.com/p.png) "
        f"![inline](data:image/png;base64,{PNG}) [x](javascript:alert(1)) [ok](https://e.org)"
    )
    assert "<script" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "example.com" not in html and "[image: pixel]" in html
    assert f'<img src="data:image/png;base64,{PNG}"' in html
    assert "javascript:" not in html
    assert '<a href="https://e.org" rel="noopener noreferrer">ok</a>' in html
    assert html.startswith("<h2>")  # notebook headings sit below the page title


# -- page assembly ------------------------------------------------------------------------------


def _display(data: dict[str, Any]) -> Any:
    return new_output("display_data", data=data)


def _nb(outputs: list[Any], *, markdown: str = "# Section") -> Any:
    return new_notebook(cells=[new_markdown_cell(markdown), new_code_cell("x", outputs=outputs)])


def _page(notebooks: list[Any], **kwargs: Any) -> str:
    items = [(f"nb{i}", nb, None) for i, nb in enumerate(notebooks)]
    return render_report(
        items,
        title=kwargs.pop("title", "Weekly"),
        window=WINDOW,
        generated_at=datetime(2026, 11, 24, 7, 0, tzinfo=UTC),
        **kwargs,
    )


def _spec(name: str) -> dict[str, Any]:
    chart = alt.Chart(pl.DataFrame({"a": [1], "b": [name]})).mark_bar().encode(x="a", y="b")
    return chart.to_dict()


def _scripts(page: str) -> list[str]:
    return re.findall(r"<script>(.*?)</script>", page, flags=re.S)


def test_page_inlines_the_chart_bundle_once_and_allows_only_its_own_scripts() -> None:
    charts = [
        _display({"application/vnd.vegalite.v6+json": _spec(BREAKOUT), "text/plain": "c"}),
        _display({"application/vnd.vegalite.v5+json": json.dumps(_spec("b")), "text/plain": "c"}),
    ]
    page = _page([_nb(charts), _nb([charts[0]])])
    assert page.count("window.vegaEmbed=") == 1
    assert page.count('class="ink-chart"') == 3
    assert BREAKOUT not in page
    assert page.lower().count("</script") == page.lower().count("<script")
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page).group(1)
    hashes = set(re.findall(r"'sha256-([^']+)'", csp))
    expected = {
        base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() for s in _scripts(page)
    }
    assert hashes == expected and len(hashes) == 2
    assert "default-src 'none'" in csp and "connect-src 'none'" in csp
    assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]


def test_page_without_charts_carries_no_bundle() -> None:
    page = _page([_nb([_display({"text/plain": "hello"})])])
    assert "window.vegaEmbed=" not in page and len(_scripts(page)) == 1


def test_untrusted_outputs_are_rebuilt_or_dropped() -> None:
    warnings: list[str] = []
    outputs = [
        _display(
            {
                "text/html": "<script>window.__pwned = 3</script>",
                "text/plain": "<IPython.core.display.HTML object>",
            }
        ),
        _display({"text/html": f"<b>{HOSTILE}</b>", "text/plain": f"frame {HOSTILE}"}),
        _display({"text/markdown": f"**{HOSTILE}**"}),
        _display({"image/png": PNG, "text/plain": "img"}),
        _display(
            {"image/svg+xml": "<svg xmlns='http://www.w3.org/2000/svg'><script>x()</script></svg>"}
        ),
        _display(
            {
                "application/vnd.jupyter.widget-view+json": {"model_id": "m1"},
                "text/plain": "IntProgress(value=3)",
            }
        ),
        new_output("stream", name="stdout", text=f"printed {HOSTILE}\n"),
        new_output("stream", name="stderr", text="a warning\n"),
        new_output("error", ename="ValueError", evalue=f"bad {HOSTILE}", traceback=[]),
    ]
    page = _page([_nb(outputs, markdown=f"# Title {HOSTILE}")], warnings=warnings)
    body = page.split("</style>", 1)[1]
    assert "window.__pwned = 3" not in body and "<img src=x" not in body
    assert body.count("&lt;img src=x onerror=&quot;window.__pwned = 1&quot;&gt;") == 5
    assert f'src="data:image/png;base64,{PNG}"' in body
    svg_b64 = re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', body).group(1)
    assert b"<script>" in base64.b64decode(svg_b64)  # inert inside <img>: never parsed as markup
    assert "a warning" not in body and "IntProgress" not in body
    assert "ValueError: bad" in body
    assert any("text/html" in w for w in warnings)


def test_alerts_come_first_and_definitions_become_linked_footnotes() -> None:
    table = table_payload(
        pl.DataFrame({"campaign": ["a"], "reply_rate": [0.1], "bounce_rate": [0.01]}),
        labels={"reply_rate": "Reply rate"},
    )
    alert = report.display.alerts_payload([{"severity": "warning", "message": HOSTILE}])
    outputs = [
        _display({MIME_TABLE: table, "text/plain": "t"}),
        _display({MIME_ALERTS: alert, "text/plain": "a"}),
        _display({MIME_DEFINITIONS: {"definitions": [{"name": "reply rate", "definition": "d1"}]}}),
    ]
    page = _page(
        [_nb(outputs)],
        definitions=[
            ("Reply rate", "library text"),
            ("Bounce rate", "bounced / sent"),
            ("Open rate", "no table shows it"),
        ],
    )
    assert page.index('id="alerts"') < page.index('id="s1"') < page.index('id="definitions"')
    assert "Alerts (1)" in page
    assert '<li id="def-1"><strong>reply rate</strong>: d1</li>' in page
    assert '<li id="def-2"><strong>Bounce rate</strong>: bounced / sent</li>' in page
    assert "library text" not in page  # the notebook's own definition wins
    assert "no table shows it" not in page  # library definitions only for headers shown
    assert '<a href="#def-1" class="fn-ref">[1]</a>' in page


def test_many_alerts_fold_after_the_first_ten_critical_first() -> None:
    rows = [{"severity": "warning", "message": f"w{i}"} for i in range(11)]
    rows.append({"severity": "critical", "message": "down"})
    page = _page([_nb([_display({MIME_ALERTS: report.display.alerts_payload(rows)})])])
    alerts = page.split('id="alerts"', 1)[1].split("</section>", 1)[0]
    assert "Alerts (12: 1 critical, 11 warning)" in alerts
    shown, folded = alerts.split("<details>", 1)
    assert shown.count("<li") == 10 and folded.count("<li") == 2
    assert shown.index("down") < shown.index("w0")
    assert "<summary>Show 2 more</summary>" in folded and "w10" in folded


def test_no_alerts_section_when_none_fired() -> None:
    empty = report.display.alerts_payload(pl.DataFrame({"severity": [], "message": []}))
    page = _page([_nb([_display({MIME_ALERTS: empty})])])
    assert 'id="alerts"' not in page


def test_header_shows_title_workspace_window_and_time() -> None:
    context = {"application/vnd.instantly-nb.context+json": {"workspace": HOSTILE}}
    page = _page([_nb([_display(context)])], title=f"Weekly {HOSTILE}", campaign_ids=["c-1"])
    header = page.split('<header class="report-header">', 1)[1].split("</header>", 1)[0]
    assert "Weekly &lt;img" in header and HOSTILE not in header
    assert "2026-11-17 – 2026-11-23 (7 days, previous week)" in header
    assert "2026-11-24 07:00 UTC" in header and "c-1" in header
    assert header.count("&lt;img src=x") == 2  # title and workspace, both as text


def test_failed_notebook_is_named_and_shown() -> None:
    page = render_report([("broken", _nb([]), f"KeyError: {HOSTILE}")], title="T", window=WINDOW)
    assert "This section did not run to the end." in page
    assert "Did not run to the end: broken." in page
    assert "<img src=x" not in page


def test_page_loads_nothing_remote() -> None:
    page = _page([_nb([_display({"application/vnd.vegalite.v6+json": _spec("a")})])])
    markup = re.sub(r"<script>.*?</script>", "", page, flags=re.S)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", markup, flags=re.I)
    assert "@import" not in markup and "url(" not in markup
