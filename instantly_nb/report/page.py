"""The report page: one self-contained HTML file that works offline.

Layout: header (title, workspace, window, campaigns, generation time) -> headline (when a
notebook displayed one) -> alerts grouped by account (only when some fired) -> contents -> one
section per notebook -> metric definitions as footnotes -> footer.

Offline and safe by construction:

* the Vega, Vega-Lite and vega-embed bundle (from ``vl_convert.javascript_bundle()``) is
  inlined once, only when the page has charts; no CDN, no web font, no remote image;
* a Content-Security-Policy allows exactly the page's own two scripts (by SHA-256 hash), no
  network requests of any kind and no inline event handlers, so even a string that slipped
  through escaping could neither run nor fetch anything;
* all data sits in ``<script type="application/json">`` blocks escaped by
  :func:`fragments.json_for_script`.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from importlib import metadata, resources
from typing import Any

from .fragments import alerts_html, definitions_html, esc
from .headline import headline_html
from .periods import Window
from .render import Collected, PageSection, collect, render_section

__all__ = ["ReportMeta", "build_page", "render_report"]


@dataclass(frozen=True)
class ReportMeta:
    """Facts shown in the report header.

    Attributes
    ----------
    title : str
        Page title.
    window : Window
        Dates covered.
    generated_at : datetime.datetime
        When the report was made (shown in UTC).
    workspace : str or None
        Workspace name; None shows a dash.
    campaign_ids : tuple of str
        Campaign filter; empty means all campaigns.
    demo : bool
        The data comes from the demo workspace (a badge says so).
    failures : tuple of str
        Notebooks that did not run to the end (named in the footer).
    """

    title: str
    window: Window
    generated_at: datetime
    workspace: str | None = None
    campaign_ids: tuple[str, ...] = ()
    demo: bool = False
    failures: tuple[str, ...] = field(default_factory=tuple)


@lru_cache(maxsize=1)
def _page_bundle() -> str:
    """The Vega + Vega-Lite + vega-embed bundle of the installed vl-convert with its window
    globals, safe to inline in a ``<script>`` (cached; the notebooks' own bundle is
    :func:`instantly_nb.charts.render.javascript_bundle`)."""
    import vl_convert

    # The stub marks ``snippet`` required; without it the bundle exposes the window globals.
    bundle: str = vl_convert.javascript_bundle()  # type: ignore[call-arg]
    # The bundle is inlined in a <script>; make sure no text in it can close that element.
    return bundle.replace("</script", "<\\/script").replace("<!--", "<\\!--")


def _asset(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def _hash(script: str) -> str:
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def _csp(scripts: Sequence[str]) -> str:
    return "; ".join(
        [
            "default-src 'none'",
            "script-src " + " ".join(_hash(s) for s in scripts),
            "style-src 'unsafe-inline'",
            "img-src data: blob:",
            "connect-src 'none'",
            "font-src 'none'",
            "media-src 'none'",
            "object-src 'none'",
            "frame-src 'none'",
            "worker-src 'none'",
            "base-uri 'none'",
            "form-action 'none'",
        ]
    )


def _version() -> str:
    try:
        return metadata.version("instantly_nb")
    except metadata.PackageNotFoundError:
        return "dev"


def _header(meta: ReportMeta) -> str:
    workspace = esc(meta.workspace or "—")
    if meta.demo:
        workspace += '<span class="badge">demo data</span>'
    campaigns = ", ".join(meta.campaign_ids) if meta.campaign_ids else "all campaigns"
    generated = meta.generated_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    facts = [
        ("Workspace", workspace),
        ("Window", esc(meta.window.label())),
        ("Campaigns", esc(campaigns)),
        ("Generated", esc(generated)),
    ]
    items = "".join(f"<div><dt>{k}</dt><dd>{v}</dd></div>" for k, v in facts)
    return (
        f'<header class="report-header"><h1>{esc(meta.title)}</h1>'
        f'<dl class="facts">{items}</dl></header>'
    )


def _contents(sections: Sequence[PageSection], collected: Collected, alert_count: int) -> str:
    links = []
    if collected.headline is not None:
        links.append('<li><a href="#summary">At a glance</a></li>')
    if alert_count:
        links.append(f'<li><a href="#alerts">Alerts ({alert_count})</a></li>')
    links += [f'<li><a href="#{s.anchor}">{esc(s.title)}</a></li>' for s in sections]
    if collected.definitions:
        links.append('<li><a href="#definitions">Definitions</a></li>')
    if len(links) < 2:
        return ""
    return f'<nav class="toc" aria-label="Contents"><ol>{"".join(links)}</ol></nav>'


def _headline(collected: Collected, sections: Sequence[PageSection], alert_count: int) -> str:
    if collected.headline is None:
        return ""
    ab = next((s.anchor for s in sections if "A/B" in s.title), None)
    return headline_html(
        collected.headline,
        winners_href=f"#{ab}" if ab else None,
        accounts_href="#alerts" if alert_count else None,
    )


def _section(section: PageSection) -> str:
    heading = "" if section.has_heading else f"<h2>{esc(section.title)}</h2>"
    return f'<section class="nb" id="{section.anchor}">{heading}{section.html}</section>'


def build_page(meta: ReportMeta, sections: Sequence[PageSection], collected: Collected) -> str:
    """Assemble the whole report page.

    Parameters
    ----------
    meta : ReportMeta
        Header facts.
    sections : sequence of PageSection
        Rendered notebooks, in order (:func:`render.render_section`).
    collected : Collected
        Alerts, definitions and workspace gathered from all notebooks (:func:`render.collect`).

    Returns
    -------
    str
        A complete HTML document.
    """
    alerts = alerts_html(collected.alerts)
    alert_count = sum(len(group["alerts"]) for group in collected.alerts)
    scripts = [_asset("report.js")]
    if any(s.charts for s in sections):
        scripts.insert(0, _page_bundle())
    failed = ""
    if meta.failures:
        failed = f"<p>Did not run to the end: {esc(', '.join(meta.failures))}.</p>"
    body = "".join(
        [
            _header(meta),
            _headline(collected, sections, alert_count),
            alerts,
            _contents(sections, collected, alert_count),
            "".join(_section(s) for s in sections),
            definitions_html(collected.definitions),
            f"<footer>{failed}<p>Made with instantly-nb {esc(_version())}. This file is "
            "self-contained: it loads nothing from the network.</p></footer>",
        ]
    )
    script_tags = "".join(f"<script>{s}</script>" for s in scripts)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_csp(scripts)}">'
        '<meta name="referrer" content="no-referrer">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(meta.title)} · {esc(meta.window.label())}</title>"
        f"<style>{_asset('report.css')}</style></head>"
        f"<body>{body}{script_tags}</body></html>\n"
    )


def render_report(
    notebooks: Sequence[tuple[str, Mapping[str, Any], str | None]],
    *,
    title: str,
    window: Window,
    generated_at: datetime | None = None,
    workspace: str | None = None,
    campaign_ids: Sequence[str] = (),
    demo: bool = False,
    definitions: Iterable[tuple[str, str]] = (),
    warnings: list[str] | None = None,
) -> str:
    """Render executed notebooks into one report page.

    Parameters
    ----------
    notebooks : sequence of (name, notebook, failure)
        Executed notebooks (``nbformat`` nodes or JSON dicts) in report order; ``failure`` is
        None or why the notebook stopped.
    title : str
        Report title.
    window : Window
        Dates covered (header and page title).
    generated_at : datetime.datetime, optional
        Defaults to now (UTC).
    workspace : str, optional
        Header workspace name; when None, the first :func:`~instantly_nb.report.context`
        output of the notebooks is used.
    campaign_ids : sequence of str
        Campaign filter shown in the header; empty means all campaigns.
    demo : bool
        Mark the data as demo data.
    definitions : iterable of (name, definition)
        Extra metric definitions (the hook for ``instantly_nb.metrics``): each becomes a
        footnote only when a table header of the report names it (case-insensitive). Those the
        notebooks display with :func:`~instantly_nb.report.definitions` always show, first.
    warnings : list of str, optional
        Receives a line per output that was dropped or could not be shown.

    Returns
    -------
    str
        The complete HTML page.
    """
    collected = Collected()
    collect([(name, nb) for name, nb, _ in notebooks], collected)
    collected.add_definitions(d for d in definitions if d[0].strip().lower() in collected.headers)
    footnotes = collected.footnotes()
    sections = [
        render_section(
            name, nb, index=i, footnotes=footnotes, failure=failure, warnings=collected.warnings
        )
        for i, (name, nb, failure) in enumerate(notebooks, start=1)
    ]
    if warnings is not None:
        warnings.extend(collected.warnings)
    meta = ReportMeta(
        title=title,
        window=window,
        generated_at=generated_at or datetime.now(UTC),
        workspace=workspace or collected.workspace,
        campaign_ids=tuple(campaign_ids),
        demo=demo,
        failures=tuple(name for name, _, failure in notebooks if failure),
    )
    return build_page(meta, sections, collected)
