"""MIME types and environment variable names shared by notebooks, the runner and the renderer.

Notebooks pass structured content to the report through display outputs with these custom MIME
types (each with a ``text/html`` fallback for JupyterLab). The renderer rebuilds the report from
the JSON payloads only; it never copies an HTML string out of a notebook.

=================================================  =========================================
``application/vnd.instantly-nb.table+json``        a table: columns, formats, raw rows
``application/vnd.instantly-nb.alerts+json``       alerts, shown first in the report
``application/vnd.instantly-nb.definitions+json``  metric definitions, shown as footnotes
``application/vnd.instantly-nb.context+json``      facts for the header (workspace name)
``application/vnd.instantly-nb.headline+json``     the headline block, shown first
=================================================  =========================================

Charts travel as Vega-Lite JSON. In report runs charts are emitted as
``application/vnd.vegalite.v6+json`` (the major version follows altair). altair 6's own
``mimetype`` renderer uses ``application/vnd.vegalite.v6.json``, which nbformat refuses to store
as JSON; the renderer accepts every ``application/vnd.vegalite.vN`` type all the same.
"""

from __future__ import annotations

import re

__all__ = [
    "MIME_ALERTS",
    "MIME_CONTEXT",
    "MIME_DEFINITIONS",
    "MIME_HEADLINE",
    "MIME_TABLE",
    "PAYLOAD_VERSION",
    "REPORT_ENV",
    "SETUP_TAG",
    "is_vegalite_mime",
]

MIME_TABLE = "application/vnd.instantly-nb.table+json"
MIME_ALERTS = "application/vnd.instantly-nb.alerts+json"
MIME_DEFINITIONS = "application/vnd.instantly-nb.definitions+json"
MIME_CONTEXT = "application/vnd.instantly-nb.context+json"
MIME_HEADLINE = "application/vnd.instantly-nb.headline+json"
PAYLOAD_VERSION = 1

#: Set to "1" in the kernels of a report run (progress bars off, charts as Vega-Lite JSON).
REPORT_ENV = "INSTANTLY_NB_REPORT"

#: Tag of the cell the runner adds at the top of each notebook it executes.
SETUP_TAG = "instantly-nb-report-setup"

_VEGALITE = re.compile(r"^application/vnd\.vegalite\.v(\d+)(?:\.json|\+json)$")


def is_vegalite_mime(mime: str) -> bool:
    """True for a Vega-Lite JSON MIME type of any major version (``.json`` or ``+json``)."""
    return _VEGALITE.match(mime) is not None
