"""Write a chart to a file offline (PNG, SVG, PDF, self-contained HTML or the JSON spec).

Rendering goes through vl-convert, which bundles Vega and Vega-Lite, so nothing is loaded
from a CDN: the HTML file opens without network access too.
"""

from __future__ import annotations

import json
from pathlib import Path

import altair as alt
import vl_convert as vlc

FORMATS = (".png", ".svg", ".pdf", ".html", ".json")


def _vl_version() -> str | None:
    # altair writes e.g. "v6.4.1"; vl-convert wants "6.4" and knows a fixed set of versions
    wanted = ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])
    return wanted if wanted in vlc.get_vegalite_versions() else None


def save(chart: alt.TopLevelMixin, path: str | Path, *, scale: float = 2.0) -> Path:
    """Render ``chart`` to ``path``; the suffix picks the format.

    Parameters
    ----------
    chart : altair chart
        Any chart returned by :mod:`instantly_nb.charts`.
    path : str or Path
        Target file ending in .png, .svg, .pdf, .html or .json.
    scale : float
        Pixel scale for PNG output.

    Returns
    -------
    Path
        The written path.
    """
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"cannot save as {suffix or 'no suffix'!r}; use one of {FORMATS}")
    spec = chart.to_dict()
    version = _vl_version()
    if suffix == ".png":
        target.write_bytes(vlc.vegalite_to_png(spec, vl_version=version, scale=scale))
    elif suffix == ".svg":
        target.write_text(vlc.vegalite_to_svg(spec, vl_version=version), encoding="utf-8")
    elif suffix == ".pdf":
        target.write_bytes(vlc.vegalite_to_pdf(spec, vl_version=version))
    elif suffix == ".html":
        html = vlc.vegalite_to_html(spec, vl_version=version, bundle=True)
        target.write_text(html, encoding="utf-8")
    else:
        target.write_text(json.dumps(spec, indent=2), encoding="utf-8")
    return target
