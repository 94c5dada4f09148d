"""The offline chart renderer without a browser: what one chart's output holds, and report mode.

Each chart must arrive as a sandboxed iframe whose ``srcdoc`` carries the Vega libraries and the
spec (nothing loaded from a CDN), with hostile data unable to end a script early, and report runs
must keep emitting Vega-Lite JSON. The drawing itself is checked in ``test_lab_browser.py``.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import altair as alt
import polars as pl
import pytest
import vl_convert as vlc

from instantly_nb.charts import render
from instantly_nb.report import setup_report_mode
from instantly_nb.report.display import CHART_RENDERER

BREAKOUT = "</script><script>window.__pwned = 1</script><!-- \"quoted\" & 'single' </SCRIPT >"
CDN_HOSTS = ("cdn.jsdelivr.net", "unpkg.com", "cdnjs.cloudflare.com", "esm.sh", "skypack.dev")


class _Elements(HTMLParser):
    """Every start tag (name, attributes) and the text inside each ``<script>``."""

    def __init__(self, text: str):
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.scripts: list[tuple[dict[str, str], str]] = []
        self._script: dict[str, str] | None = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = {k: v or "" for k, v in attrs}
        self.tags.append((tag, named))
        if tag == "script":
            self._script = named
            self.scripts.append((named, ""))

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            attrs, text = self.scripts[-1]
            self.scripts[-1] = (attrs, text + data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._script = None


@pytest.fixture(autouse=True)
def _restore_renderer() -> Iterator[None]:
    active, options = alt.renderers.active, dict(alt.renderers.options)
    yield
    alt.renderers.enable(active, **options)


def _chart(label: str = "Q4 launch") -> alt.Chart:
    frame = pl.DataFrame({"campaign": [label, "Evergreen"], "replies": [12, 30]})
    return alt.Chart(frame).mark_bar().encode(
        x="campaign:N", y="replies:Q", tooltip=["campaign:N", "replies:Q"]
    ).properties(height=150, title="Replies")


def _bundle(chart: alt.TopLevelMixin) -> dict[str, Any]:
    raw = chart._repr_mimebundle_()
    data = raw[0] if isinstance(raw, tuple) else raw
    assert isinstance(data, dict)
    return data


def _iframe(html_text: str) -> dict[str, str]:
    frames = [attrs for tag, attrs in _Elements(html_text).tags if tag == "iframe"]
    assert len(frames) == 1
    return frames[0]


def _document_parts(document: str) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """The unpacked library, the spec and the embed options a chart document carries."""
    scripts = _Elements(document).scripts
    packed = [text for attrs, text in scripts if attrs.get("id") == "inb-lib"]
    assert len(packed) == 1
    library = gzip.decompress(base64.b64decode(packed[0])).decode("utf-8")
    boot = [text for attrs, text in scripts if "id" not in attrs]
    assert len(boot) == 1
    spec = re.search(r"^var spec = (.*);$", boot[0], re.M)
    options = re.search(r"^var options = (.*);$", boot[0], re.M)
    assert spec and options
    return library, json.loads(spec.group(1)), json.loads(options.group(1))


def test_enabled_renderer_draws_each_chart_in_a_sandboxed_iframe() -> None:
    assert render.enable_offline_charts() is True
    assert alt.renderers.active == render.RENDERER_NAME
    chart = _chart()
    bundle = _bundle(chart)
    assert set(bundle) == {"text/html", "text/plain"}
    frame = _iframe(bundle["text/html"])
    assert frame["class"] == render.FRAME_CLASS
    # Scripts but no same-origin access: the chart cannot reach JupyterLab's page or cookies.
    assert frame["sandbox"].split() == ["allow-scripts", "allow-downloads"]
    assert "height:250px" in frame["style"]  # height 150 + room for axes and title
    library, spec, options = _document_parts(frame["srcdoc"])
    assert spec == chart.to_dict()
    assert options["actions"] == {"export": True, "source": False, "compiled": False,
                                  "editor": False}
    wanted = ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])
    assert wanted in vlc.get_vegalite_versions()
    assert library == vlc.javascript_bundle("window.vegaEmbed = vegaEmbed;", vl_version=wanted)


def test_output_loads_nothing_from_the_network() -> None:
    html_text = render.chart_html(_chart().to_dict())
    document = _iframe(html_text)["srcdoc"]
    library, _, _ = _document_parts(document)
    elements = _Elements(document).tags + _Elements(html_text).tags
    assert not [attrs for _, attrs in elements if "src" in attrs or "href" in attrs]
    assert not [tag for tag, _ in elements if tag in ("link", "img", "object", "embed")]
    outside_library = re.sub(r'(<script id="inb-lib"[^>]*>)[^<]*', r"\1", document)
    urls = re.findall(r"https?://[^\s\"'<>\\]+", outside_library + html_text.split("srcdoc=")[0])
    assert urls and all(u.startswith("https://vega.github.io/schema/vega-lite/") for u in urls)
    assert not [host for host in CDN_HOSTS if host in library or host in document]


def test_hostile_data_cannot_end_a_script_or_the_attribute() -> None:
    chart = _chart(BREAKOUT)
    html_text = render.chart_html(chart.to_dict())
    raw_srcdoc = html_text.split('srcdoc="', 1)[1].split('"></iframe>', 1)[0]
    assert not set(raw_srcdoc) & set("<>\"'")
    document = _iframe(html_text)["srcdoc"]
    # Only the document's own two scripts close; the data's "</script>" and "<!--" are escaped.
    assert len(re.findall(r"</script", document, re.I)) == 2
    assert "<!--" not in document
    _, spec, _ = _document_parts(document)
    assert spec["datasets"] == chart.to_dict()["datasets"]
    assert [rows[0]["campaign"] for rows in spec["datasets"].values()] == [BREAKOUT]
    assert "__pwned" not in html_text.split("srcdoc=")[0] + html_text.split("</iframe>")[1]


def test_output_size_stays_near_the_packed_library() -> None:
    html_text = render.chart_html(_chart().to_dict())
    packed = render.packed_bundle(render._vegalite_version())
    # The compressed library dominates: ~0.4 MB a chart, not the ~1 MB of escaped plain JS.
    assert len(packed) < 500_000
    assert len(packed) < len(html_text) < len(packed) + 20_000


def test_embed_options_reach_vega_embed_and_survive_re_enabling() -> None:
    render.enable_offline_charts()
    alt.renderers.set_embed_options(renderer="svg")
    assert render.enable_offline_charts() is True  # idempotent: options kept
    _, _, options = _document_parts(_iframe(_bundle(_chart())["text/html"])["srcdoc"])
    assert options["renderer"] == "svg"
    assert options["actions"]["export"] is True


def test_width_container_keeps_the_iframe_fluid() -> None:
    spec = _chart().properties(width="container").to_dict()
    frame = _iframe(render.chart_html(spec))
    assert "data-fluid" in frame
    assert "#vis{display:block}" in frame["srcdoc"]


def test_estimated_height_follows_concatenation() -> None:
    top = _chart().properties(height=100)
    bottom = _chart().properties(height=200)
    frame = _iframe(render.chart_html(alt.vconcat(top, bottom).to_dict()))
    assert "height:520px" in frame["style"]  # (100 + 100) + (200 + 100) + 20


def test_report_mode_keeps_vega_lite_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INSTANTLY_NB_REPORT", "1")
    setup_report_mode()
    chart = _chart()
    before = _bundle(chart)
    assert render.enable_offline_charts() is False
    monkeypatch.setenv(render.OFFLINE_ENV, "1")
    assert render.enable_from_environment() is False
    render.load_ipython_extension(None)
    assert alt.renderers.active == CHART_RENDERER
    after = _bundle(chart)
    assert after == before
    assert set(after) == {"application/vnd.vegalite.v6+json", "text/plain"}
    assert after["application/vnd.vegalite.v6+json"] == chart.to_dict()


def test_report_renderer_wins_without_the_environment_variable() -> None:
    render.enable_offline_charts()
    setup_report_mode()  # the report runner's setup cell
    assert render.enable_offline_charts() is False
    assert alt.renderers.active == CHART_RENDERER


def test_environment_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    alt.renderers.enable("default")
    assert render.enable_from_environment() is False
    assert alt.renderers.active == "default"
    monkeypatch.setenv(render.OFFLINE_ENV, "1")
    assert render.enable_from_environment() is True
    assert alt.renderers.active == render.RENDERER_NAME


def test_ipython_extension_round_trip() -> None:
    alt.renderers.enable("default")
    render.load_ipython_extension(None)
    assert alt.renderers.active == render.RENDERER_NAME
    render.unload_ipython_extension(None)
    assert alt.renderers.active == "default"
