"""Executed notebooks -> report sections, rebuilt from data (never from HTML outputs).

What is kept of a notebook, in cell order:

* markdown cells, rendered with raw HTML escaped (:mod:`.markdown`);
* outputs of code cells (never the code), one representation each, by priority:
  report tables > Vega-Lite charts > SVG/PNG/JPEG images > ``text/markdown`` > ``text/plain``;
* ``stdout`` text; ``stderr`` is dropped (warnings), errors become a notice.

Report headline, alerts, definitions and context outputs are collected for the page (headline
then alerts first, definitions as footnotes, workspace in the header) instead of appearing in
place.
``text/html`` and widget outputs are dropped: their origin cannot be trusted and their scripts
would need the network. Cells tagged ``remove_cell`` (or added by the runner) are skipped;
``remove_output`` hides a cell's outputs.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from .fragments import esc, header_keys, json_for_script, notice_html, table_html
from .headline import read_headline
from .markdown import render_markdown
from .mime import (
    MIME_ALERTS,
    MIME_CONTEXT,
    MIME_DEFINITIONS,
    MIME_HEADLINE,
    MIME_TABLE,
    SETUP_TAG,
    is_vegalite_mime,
)
from .payloads import PayloadError, read_alerts, read_context, read_definitions, read_table

__all__ = ["Collected", "PageSection", "collect", "render_section"]

_SKIP_CELL_TAGS = {"remove_cell", SETUP_TAG, "parameters", "injected-parameters"}
_WIDGET = "application/vnd.jupyter.widget-view+json"
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_BASE64 = re.compile(r"^[A-Za-z0-9+/=\s]+$")
_OBJECT_REPR = re.compile(r"^<[\w. ]+ object( at 0x[0-9a-fA-F]+)?>$")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)


@dataclass
class PageSection:
    """One notebook rendered as a report section."""

    title: str
    anchor: str
    html: str
    charts: int = 0
    tables: int = 0
    has_heading: bool = False


@dataclass
class Collected:
    """What all notebooks say about the whole page."""

    alerts: list[dict[str, Any]] = field(default_factory=list)
    definitions: list[tuple[str, str]] = field(default_factory=list)
    workspace: str | None = None
    headline: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)
    headers: set[str] = field(default_factory=set)

    def add_definitions(self, pairs: Iterable[tuple[str, str]]) -> None:
        """Add definitions, keeping the first text given for each name (case-insensitive)."""
        known = {name.lower() for name, _ in self.definitions}
        for name, text in pairs:
            if name.lower() not in known:
                known.add(name.lower())
                self.definitions.append((name, text))

    def add_table(self, table: Mapping[str, Any]) -> None:
        """Remember a table's visible headers, so definitions they name can be footnoted."""
        for col in table["columns"]:
            if not col["hidden"]:
                self.headers.update(header_keys(col))

    def footnotes(self) -> dict[str, int]:
        """Lower-cased definition name -> footnote number."""
        return {name.strip().lower(): i for i, (name, _) in enumerate(self.definitions, 1)}


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _json(value: Any) -> Any:
    return json.loads(_text(value)) if isinstance(value, (str, list)) else value


def _cells(nb: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    for cell in nb.get("cells", []):
        tags = set(cell.get("metadata", {}).get("tags", []))
        if not tags & _SKIP_CELL_TAGS:
            yield cell


def _outputs(cell: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    if cell.get("cell_type") != "code":
        return []
    if "remove_output" in cell.get("metadata", {}).get("tags", []):
        return []
    return cell.get("outputs", [])


def _payloads(nb: Mapping[str, Any]) -> Iterable[tuple[str, Any]]:
    """(MIME type, raw payload) of every page-level report output, in notebook order."""
    page_level = (MIME_TABLE, MIME_ALERTS, MIME_DEFINITIONS, MIME_CONTEXT, MIME_HEADLINE)
    for cell in _cells(nb):
        for out in _outputs(cell):
            data = out.get("data", {})
            for mime in page_level:
                if mime in data:
                    yield mime, data[mime]


def _collect_one(mime: str, payload: Any, into: Collected) -> None:
    if mime == MIME_TABLE:
        into.add_table(read_table(payload))
    elif mime == MIME_ALERTS:
        into.alerts.append(read_alerts(payload))
    elif mime == MIME_DEFINITIONS:
        into.add_definitions(read_definitions(payload))
    elif mime == MIME_HEADLINE:
        if into.headline is None:  # the first headline of the report wins
            into.headline = read_headline(payload)
    elif into.workspace is None:
        into.workspace = read_context(payload)["workspace"]


def collect(notebooks: Iterable[tuple[str, Mapping[str, Any]]], into: Collected) -> None:
    """First pass: gather alerts, definitions, table headers and the workspace name."""
    for name, nb in notebooks:
        for mime, raw in _payloads(nb):
            try:
                _collect_one(mime, _json(raw), into)
            except (PayloadError, ValueError) as exc:
                if mime != MIME_TABLE:  # a broken table is reported where it stands
                    into.warnings.append(f"{name}: {mime} output skipped ({exc})")


def section_title(name: str, nb: Mapping[str, Any]) -> tuple[str, bool]:
    """The first Markdown heading of a notebook and True, else its readable file name and False."""
    for cell in _cells(nb):
        if cell.get("cell_type") == "markdown":
            match = _HEADING.search(_text(cell.get("source", "")))
            if match:
                return re.sub(r"[*_`]", "", match.group(1)), True
    return name.replace("_", " ").replace("-", " ").strip().capitalize(), False


class _SectionBuilder:
    """Second pass over one notebook: HTML of its cells, with ids unique in the page."""

    def __init__(self, name: str, prefix: str, footnotes: Mapping[str, int]):
        self.name, self.prefix, self.footnotes = name, prefix, footnotes
        self.parts: list[str] = []
        self.charts = self.tables = 0
        self.warnings: list[str] = []

    def cell(self, cell: Mapping[str, Any]) -> None:
        if cell.get("cell_type") == "markdown":
            self.parts.append(
                f'<div class="md">{render_markdown(_text(cell.get("source", "")))}</div>'
            )
            return
        for out in _outputs(cell):
            kind = out.get("output_type")
            if kind == "stream" and out.get("name") == "stdout":
                text = _ANSI.sub("", _text(out.get("text", "")))
                self.parts.append(f'<pre class="stream">{esc(text)}</pre>')
            elif kind == "error":
                evalue = _ANSI.sub("", str(out.get("evalue", "")))
                message = f"{out.get('ename', 'Error')}: {evalue}"
                self.parts.append(notice_html("A cell failed.", message))
            elif kind in ("display_data", "execute_result"):
                self.data(out.get("data", {}))

    def data(self, data: Mapping[str, Any]) -> None:
        if any(m in data for m in (MIME_ALERTS, MIME_DEFINITIONS, MIME_CONTEXT, MIME_HEADLINE)):
            return  # shown by the page, not in place
        try:
            html = self._choose(data)
        except (PayloadError, ValueError, TypeError, binascii.Error) as exc:
            self.warnings.append(f"{self.name}: an output could not be shown ({exc})")
            html = notice_html("An output could not be shown.", str(exc), kind="warning")
        if html is None:
            if set(data) - {"text/plain"}:
                self.warnings.append(f"{self.name}: dropped an output of type(s) {sorted(data)}")
            return
        self.parts.append(html)

    def _choose(self, data: Mapping[str, Any]) -> str | None:
        if _WIDGET in data:
            return None  # a widget needs a live kernel; its text form is only a repr
        if MIME_TABLE in data:
            self.tables += 1
            table = read_table(_json(data[MIME_TABLE]))
            return table_html(
                table, table_id=f"{self.prefix}-t{self.tables}", footnotes=self.footnotes
            )
        vegalite = next((m for m in data if is_vegalite_mime(m)), None)
        if vegalite:
            return self._chart(_json(data[vegalite]))
        if "image/svg+xml" in data:
            svg = base64.b64encode(_text(data["image/svg+xml"]).encode()).decode()
            return _img("image/svg+xml", svg)
        for mime in ("image/png", "image/jpeg"):
            if mime in data:
                encoded = _text(data[mime])
                if not _BASE64.match(encoded):
                    raise ValueError(f"{mime} output is not base64")
                return _img(mime, "".join(encoded.split()))
        if "text/markdown" in data:
            return f'<div class="md">{render_markdown(_text(data["text/markdown"]))}</div>'
        plain = _ANSI.sub("", _text(data.get("text/plain", "")))
        if not plain or _OBJECT_REPR.match(plain.strip()):
            return None  # e.g. an HTML display whose text form is only "<... object>"
        # e.g. a polars frame shown directly: its text form is safe, its HTML is never used.
        return f'<pre class="plain">{esc(plain)}</pre>'

    def _chart(self, spec: Any) -> str:
        if not isinstance(spec, dict):
            raise PayloadError("a Vega-Lite output must be a JSON object")
        spec = dict(spec)
        usermeta = spec.get("usermeta")
        if isinstance(usermeta, dict):
            # The page chooses how charts are embedded (offline loader, no eval), not the spec.
            spec["usermeta"] = {k: v for k, v in usermeta.items() if k != "embedOptions"}
        self.charts += 1
        chart_id = f"{self.prefix}-c{self.charts}"
        caption, name, spec = _caption(spec)
        static = self._static(fit_width(spec, STATIC_WIDTH), name)
        mode, drawn = compiled(fit_width(spec, "container"))
        return (
            f'<figure class="ink-chart" id="{chart_id}" data-mode="{mode}">{caption}{static}'
            '<div class="vis"></div><script type="application/json" class="spec">'
            f"{json_for_script(drawn)}</script></figure>"
        )

    def _static(self, spec: dict[str, Any], name: str) -> str:
        """The chart drawn at build time, shown until (or unless) scripts draw it."""
        try:
            svg = static_svg(spec)
        except ValueError as exc:
            self.warnings.append(f"{self.name}: a chart has no static picture ({exc})")
            return ""
        alt = esc(name or "Chart")
        return (
            f'<div class="static"><img alt="{alt}" width="{svg_width(svg)}" '
            f'src="{svg_data_url(svg)}"></div>'
        )


#: Width of the static picture of a chart that follows the page width (it scales down).
STATIC_WIDTH = 1000
_COMPOSED = ("facet", "hconcat", "vconcat", "concat", "repeat", "spec")


def fit_width(spec: dict[str, Any], width: int | str) -> dict[str, Any]:
    """A single or layered chart without a set width takes ``width`` ("container": the page's).

    Faceted and concatenated charts keep their own panel sizes (Vega-Lite cannot stretch them).
    """
    if "width" in spec or any(key in spec for key in _COMPOSED):
        return spec
    return {**spec, "width": width, "autosize": {"type": "fit-x", "contains": "padding"}}


def compiled(spec: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """("vega", the Vega spec) compiled offline by vl-convert, else ("vega-lite", ``spec``).

    Compiling when the report is built spares the reader's browser the work, and Vega-Lite's
    compile-time notes (e.g. that a chart following the page width keeps its row height) stay
    out of the reader's console.
    """
    import vl_convert

    try:
        vega: dict[str, Any] = vl_convert.vegalite_to_vega(dict(spec))
    except Exception:  # the page then compiles it and shows why it fails
        return "vega-lite", spec
    return "vega", vega


def static_svg(spec: Mapping[str, Any]) -> str:
    """SVG of a Vega-Lite spec drawn offline by vl-convert (no URL may be loaded).

    Raises
    ------
    ValueError
        When vl-convert cannot draw the spec (the message says why).
    """
    import vl_convert

    try:
        svg: str = vl_convert.vegalite_to_svg(dict(spec), allowed_base_urls=[])
    except Exception as exc:  # vl-convert raises plain ValueError/RuntimeError with its reason
        raise ValueError(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None
    return slim_svg(svg)


_SVG_NOISE = re.compile(
    r' (?:aria-label|aria-roledescription|aria-hidden|role|pointer-events|class)="[^"]*"'
    r'| opacity="1"|<path d="M0,0h0v0h0Z"/>|<path d="" display="none"/>'
)
_SVG_FONT = re.compile(r' font-family="([^"]*)"')
_SVG_DECIMALS = re.compile(r"(\d\.\d\d)\d+")


def slim_svg(svg: str) -> str:
    """A lighter SVG that draws the same: for a picture inside an ``<img>``.

    There the SVG has no accessibility tree and no events (the ``alt`` text names the chart), so
    per-mark labels, roles and classes go; so do empty background paths, ``opacity="1"`` and
    digits beyond the second decimal (a hundredth of a pixel); the most used font is set once
    on the root. Often half of the file.
    """
    svg = _SVG_DECIMALS.sub(r"\1", _SVG_NOISE.sub("", svg))
    fonts = _SVG_FONT.findall(svg)
    if fonts:
        common = max(set(fonts), key=fonts.count)
        svg = svg.replace(f' font-family="{common}"', "")
        svg = svg.replace("<svg ", f'<svg font-family="{common}" ', 1)
    return svg


def svg_data_url(svg: str) -> str:
    """A ``data:`` URL of an SVG, percent-encoded (a third smaller than base64), for an
    attribute value: quotes, ``<``, ``>``, ``&``, ``#`` and ``%`` never appear in it raw."""
    return "data:image/svg+xml;charset=utf-8," + quote(svg, safe=" =:/;,.-_()!*+?@[]{}$~")


_SVG_WIDTH = re.compile(r'<svg[^>]*?\swidth="([0-9.]+)"')


def svg_width(svg: str) -> int:
    """The width an SVG declares, in pixels (0 when it declares none)."""
    match = _SVG_WIDTH.search(svg)
    return round(float(match.group(1))) if match else 0


def _lines(value: Any) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    return [str(item) for item in items if str(item).strip()]


def _caption(spec: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """The chart's title and subtitle as an HTML caption that wraps, the title as text, and the
    spec without them.

    Text inside a chart never wraps: on a phone a long subtitle line would be cut off.
    """
    title = spec.get("title")
    if title is None:
        return "", "", spec
    if isinstance(title, Mapping):
        text, subtitle = _lines(title.get("text")), _lines(title.get("subtitle"))
    else:
        text, subtitle = _lines(title), []
    rest = {k: v for k, v in spec.items() if k != "title"}
    lines = "".join(f'<span class="sub">{esc(line)}</span>' for line in subtitle)
    name = " ".join(text)
    return f"<figcaption>{esc(name)}{lines}</figcaption>", name, rest


def _img(mime: str, encoded: str) -> str:
    return f'<img class="output" alt="" src="data:{mime};base64,{encoded}">'


def render_section(
    name: str,
    nb: Mapping[str, Any],
    *,
    index: int,
    footnotes: Mapping[str, int],
    failure: str | None = None,
    warnings: list[str] | None = None,
) -> PageSection:
    """Second pass: render one executed notebook as a report section.

    Parameters
    ----------
    name : str
        Notebook name (used for the fallback title and in warnings).
    nb : Mapping
        The executed notebook (``nbformat`` node or plain JSON dict).
    index : int
        Position in the report; makes element ids unique.
    footnotes : Mapping[str, int]
        From :meth:`Collected.footnotes`, to link table headers to definitions.
    failure : str, optional
        Why the notebook failed; shown as a notice at the end of the section.
    warnings : list of str, optional
        Receives a line per output that was dropped or could not be shown.
    """
    builder = _SectionBuilder(name, f"s{index}", footnotes)
    for cell in _cells(nb):
        builder.cell(cell)
    if failure:
        builder.parts.append(notice_html("This section did not run to the end.", failure))
    if warnings is not None:
        warnings.extend(builder.warnings)
    title, has_heading = section_title(name, nb)
    return PageSection(
        title=title,
        anchor=f"s{index}",
        html="".join(builder.parts),
        charts=builder.charts,
        tables=builder.tables,
        has_heading=has_heading,
    )
