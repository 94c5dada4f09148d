"""Offline chart display in JupyterLab: the ``"instantly_nb"`` altair renderer.

altair's default renderer loads Vega from a CDN and its ``mimetype`` renderer needs a Vega-Lite
v6 extension that JupyterLab does not ship, so on a machine with no network both draw nothing.
This renderer draws each chart inside a sandboxed ``<iframe srcdoc=...>`` whose document carries
the Vega, Vega-Lite and Vega-Embed code from vl-convert (gzip-compressed, base64) and the spec:
no network, tooltips kept, and each chart isolated from the others and from JupyterLab (the
libraries declare globals, so a second copy inlined into the same page would fail).

The chart posts its drawn size to the page and a small script beside the iframe fits the iframe
to it; where that script does not run, the iframe keeps a size estimated from the spec.

``make lab`` turns the renderer on in its kernels (``--ext instantly_nb.lab``, see
:mod:`instantly_nb.lab`); elsewhere call :func:`enable_offline_charts` or
``%load_ext instantly_nb.charts.render``. Report runs keep their own renderer: nothing here
changes altair's output in report mode.
"""

from __future__ import annotations

import base64
import functools
import gzip
import html
import json
import os
from collections.abc import Mapping
from typing import Any

__all__ = [
    "FRAME_CLASS",
    "OFFLINE_ENV",
    "RENDERER_NAME",
    "chart_document",
    "chart_html",
    "enable_from_environment",
    "enable_offline_charts",
    "javascript_bundle",
    "load_ipython_extension",
    "offline_renderer",
    "packed_bundle",
]

#: Name of the renderer in ``altair.renderers``.
RENDERER_NAME = "instantly_nb"

#: ``INSTANTLY_NB_OFFLINE_CHARTS=1`` asks :func:`enable_from_environment` to turn the renderer on;
#: ``=0`` makes ``make lab`` leave altair's default renderer alone.
OFFLINE_ENV = "INSTANTLY_NB_OFFLINE_CHARTS"

#: CSS class of every chart iframe; the page-side sizer looks iframes up by it.
FRAME_CLASS = "instantly-nb-chart"

# Room around the chart inside the iframe, so tooltips and the actions button are not clipped.
_PAD = 6

# Export (SVG/PNG) works offline; the other actions open the source or the online editor.
_DEFAULT_EMBED_OPTIONS: dict[str, Any] = {
    "mode": "vega-lite",
    "actions": {"export": True, "source": False, "compiled": False, "editor": False},
}

# The only global the iframe's boot script needs from the bundle.
_BUNDLE_SNIPPET = "window.vegaEmbed = vegaEmbed;"

# Runs inside the iframe: unpack the libraries, draw, report the drawn size to the page.
_BOOT_JS = """
var vis = document.getElementById("vis");
function post() {
  var r = vis.getBoundingClientRect();
  var bar = Math.max(0, window.innerHeight - document.documentElement.clientHeight);
  parent.postMessage({instantlyNbChart: 1, width: Math.ceil(r.width) + 2 * PAD,
                      height: Math.ceil(r.height) + 2 * PAD + bar}, "*");
}
function fail(err) {
  var p = document.createElement("pre");
  p.className = "inb-error";
  p.textContent = "The chart could not be drawn: " + ((err && err.message) || err);
  vis.appendChild(p);
  post();
}
async function unpack() {
  var raw = atob(document.getElementById("inb-lib").textContent.trim());
  var bytes = new Uint8Array(raw.length);
  for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  var lib = document.createElement("script");
  lib.textContent = await new Response(stream).text();
  document.head.appendChild(lib);
  if (typeof window.vegaEmbed !== "function") throw new Error("the chart library did not load");
}
(async function () {
  try {
    await unpack();
    await window.vegaEmbed(vis, spec, options);
  } catch (err) {
    fail(err);
    return;
  }
  post();
  new ResizeObserver(post).observe(vis);
  window.addEventListener("resize", post);
})();
"""

# Runs in the JupyterLab page (trusted outputs only): one listener for every chart iframe.
_SIZER_JS = """(function () {
  if (window.__instantlyNbChartSizer) return;
  window.__instantlyNbChartSizer = 1;
  window.addEventListener("message", function (e) {
    var d = e.data;
    if (!d || d.instantlyNbChart !== 1) return;
    var frames = document.querySelectorAll("iframe.FRAME_CLASS");
    for (var i = 0; i < frames.length; i++) {
      var f = frames[i];
      if (f.contentWindow !== e.source) continue;
      var w = Math.ceil(+d.width), h = Math.ceil(+d.height);
      if (w > 0 && w < 20000 && !f.hasAttribute("data-fluid")) f.style.width = w + "px";
      if (h > 0 && h < 20000) f.style.height = h + "px";
      return;
    }
  });
})();""".replace("FRAME_CLASS", FRAME_CLASS)


def _vegalite_version() -> str | None:
    """The Vega-Lite ``major.minor`` of altair's schema when vl-convert bundles it, else None."""
    import altair as alt
    import vl_convert as vlc

    wanted = ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])
    return wanted if wanted in vlc.get_vegalite_versions() else None


@functools.lru_cache(maxsize=4)
def javascript_bundle(vl_version: str | None = None) -> str:
    """The Vega + Vega-Lite + Vega-Embed JavaScript from vl-convert (about 0.9 MB, ~1 s once).

    Parameters
    ----------
    vl_version : str, optional
        Vega-Lite ``major.minor`` (e.g. ``"6.4"``); vl-convert's newest when None.

    Returns
    -------
    str
        A classic script that defines ``window.vegaEmbed`` (Vega and Vega-Lite inside).
    """
    import vl_convert as vlc

    return str(vlc.javascript_bundle(_BUNDLE_SNIPPET, vl_version=vl_version))


@functools.lru_cache(maxsize=4)
def packed_bundle(vl_version: str | None = None) -> str:
    """:func:`javascript_bundle` gzip-compressed and base64-encoded (about 0.4 MB).

    Base64 needs no HTML escaping, so the bundle costs the same inside ``srcdoc``; the fixed
    gzip timestamp keeps re-run notebooks byte-identical.
    """
    data = gzip.compress(javascript_bundle(vl_version).encode("utf-8"), 9, mtime=0)
    return base64.b64encode(data).decode("ascii")


def _js_value(value: Any) -> str:
    """``value`` as a JavaScript literal that is safe inside an HTML ``<script>`` element."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=True)
    # <, > and & only occur inside JSON strings, where the \\u escapes mean the same characters:
    # no "</script>" or "<!--" in data can end the script early.
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _title(spec: Mapping[str, Any]) -> str:
    title = spec.get("title")
    if isinstance(title, Mapping):
        title = title.get("text")
    if isinstance(title, list):
        title = " ".join(str(part) for part in title)
    return str(title) if title else "Chart"


def _estimated_height(spec: Mapping[str, Any]) -> int:
    """Height in pixels the iframe starts with: the view height plus room for axes and title."""
    height = spec.get("height")
    if isinstance(height, int | float):
        total = int(height) + 100
    elif "vconcat" in spec:
        total = sum(_estimated_height(part) for part in spec["vconcat"]) + 20
    elif "hconcat" in spec or "layer" in spec:
        parts = spec.get("hconcat") or spec.get("layer") or []
        total = max((_estimated_height(part) for part in parts), default=400)
    else:
        total = 400
    return max(120, min(total, 2400))


def chart_document(spec: Mapping[str, Any], *, embed_options: Mapping[str, Any] | None = None,
                   vl_version: str | None = None) -> str:
    """The HTML document that draws one chart with no network (the iframe's ``srcdoc``).

    Parameters
    ----------
    spec : Mapping
        A Vega-Lite spec (``chart.to_dict()``) with its data inlined.
    embed_options : Mapping, optional
        Vega-Embed options (``alt.renderers.set_embed_options``), over this module's defaults.
    vl_version : str, optional
        Vega-Lite ``major.minor`` to bundle; defaults to altair's when vl-convert has it.

    Returns
    -------
    str
        A complete HTML document; it loads nothing.
    """
    version = vl_version if vl_version is not None else _vegalite_version()
    options = {**_DEFAULT_EMBED_OPTIONS, **dict(embed_options or {})}
    fluid = spec.get("width") == "container"
    # One function scope: the bundle declares many globals that must not meet these names.
    boot = (f"(function () {{\nvar PAD = {_PAD};\nvar spec = {_js_value(dict(spec))};\n"
            f"var options = {_js_value(options)};\n{_BOOT_JS}}})();")
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        f"<title>{html.escape(_title(spec))}</title><style>"
        f"html,body{{margin:0;background:transparent}}body{{padding:{_PAD}px}}"
        f"#vis{{display:{'block' if fluid else 'inline-block'}}}"
        ".inb-error{color:#b00020;font:13px sans-serif;white-space:pre-wrap}"
        '</style></head><body><div id="vis"></div>\n'
        f'<script id="inb-lib" type="application/octet-stream">{packed_bundle(version)}</script>\n'
        f"<script>{boot}</script>\n</body></html>\n"
    )


def chart_html(spec: Mapping[str, Any], *, embed_options: Mapping[str, Any] | None = None,
               vl_version: str | None = None) -> str:
    """The ``text/html`` output for one chart: a sandboxed iframe and the page-side sizer.

    Parameters
    ----------
    spec, embed_options, vl_version
        As for :func:`chart_document`.

    Returns
    -------
    str
        ``<iframe class="instantly-nb-chart" sandbox="allow-scripts allow-downloads"
        srcdoc="...">`` (an opaque origin: the chart cannot reach JupyterLab) and a ``<script>``
        that resizes chart iframes to the size they post.
    """
    document = chart_document(spec, embed_options=embed_options, vl_version=vl_version)
    style = f"display:block;border:0;width:100%;max-width:100%;height:{_estimated_height(spec)}px"
    fluid = " data-fluid" if spec.get("width") == "container" else ""
    return (
        f'<iframe class="{FRAME_CLASS}" title="{html.escape(_title(spec), quote=True)}" '
        f'sandbox="allow-scripts allow-downloads" style="{style}"{fluid} '
        f'srcdoc="{html.escape(document, quote=True)}"></iframe>\n<script>{_SIZER_JS}</script>'
    )


def offline_renderer(spec: dict[str, Any], **metadata: Any) -> dict[str, str]:
    """The altair renderer: a MIME bundle with :func:`chart_html` as ``text/html``.

    Parameters
    ----------
    spec : dict
        The chart's Vega-Lite spec, as altair passes it.
    **metadata
        Renderer options; ``embed_options`` is honoured.

    Returns
    -------
    dict
        ``{"text/html": ..., "text/plain": ...}``.
    """
    html_text = chart_html(spec, embed_options=metadata.get("embed_options"))
    return {"text/html": html_text, "text/plain": f"<chart: {_title(spec)}>"}


def enable_offline_charts() -> bool:
    """Register the ``"instantly_nb"`` renderer with altair and make it the active one.

    Idempotent. Does nothing in report mode (``INSTANTLY_NB_REPORT=1``) or when the report
    renderer is already active, so report runs keep emitting Vega-Lite JSON.

    Returns
    -------
    bool
        True when the offline renderer is active afterwards.

    Examples
    --------
    >>> from instantly_nb.charts.render import enable_offline_charts
    >>> enable_offline_charts()  # doctest: +SKIP
    True
    """
    from instantly_nb.report import in_report_mode
    from instantly_nb.report.display import CHART_RENDERER

    if in_report_mode():
        return False
    import altair as alt

    if alt.renderers.active == CHART_RENDERER:
        return False
    if RENDERER_NAME not in alt.renderers.names():
        alt.renderers.register(RENDERER_NAME, offline_renderer)
    if alt.renderers.active != RENDERER_NAME:
        alt.renderers.enable(RENDERER_NAME)
    return True


def enable_from_environment() -> bool:
    """:func:`enable_offline_charts` when ``INSTANTLY_NB_OFFLINE_CHARTS=1``; else nothing.

    Returns
    -------
    bool
        True when the offline renderer is active afterwards.
    """
    if os.environ.get(OFFLINE_ENV) != "1":
        return False
    return enable_offline_charts()


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext instantly_nb.charts.render``: :func:`enable_offline_charts` now."""
    enable_offline_charts()


def unload_ipython_extension(ipython: Any) -> None:
    """``%unload_ext instantly_nb.charts.render``: back to altair's default renderer."""
    import altair as alt

    if alt.renderers.active == RENDERER_NAME:
        alt.renderers.enable("default")
