"""Recurring offline HTML reports made from the ready-made notebooks.

Two halves:

* **In notebooks** — display helpers that hand structured content to the report:
  :func:`table` (formatted, sortable, CSV download), :func:`alerts` (listed first),
  :func:`definitions` (footnotes), :func:`context` (workspace name for the header),
  :func:`headline` (the summary block shown first).
  Charts need nothing: altair output becomes Vega-Lite JSON in report runs.
* **On the command line** — ``instantly-nb report`` (:func:`instantly_nb.report.cli.main`)
  runs notebooks with parameters and renders them into one self-contained HTML file
  (:func:`render_report`); :func:`resolve_period` does the date arithmetic.

See ``docs/REPORTS.md`` in the repository for cron/systemd recipes.
"""

from __future__ import annotations

from typing import Any

from .display import (
    alerts,
    context,
    definitions,
    headline,
    in_report_mode,
    setup_report_mode,
    table,
)
from .mime import MIME_ALERTS, MIME_CONTEXT, MIME_DEFINITIONS, MIME_TABLE, REPORT_ENV
from .periods import PERIODS, Window, report_filename, resolve_period

__all__ = [
    "MIME_ALERTS",
    "MIME_CONTEXT",
    "MIME_DEFINITIONS",
    "MIME_TABLE",
    "PERIODS",
    "REPORT_ENV",
    "Window",
    "alerts",
    "context",
    "definitions",
    "headline",
    "in_report_mode",
    "render_report",
    "report_filename",
    "resolve_period",
    "setup_report_mode",
    "table",
]


def __getattr__(name: str) -> Any:
    # The renderer pulls in Markdown and Vega tooling; notebooks that only display tables
    # should not pay for it at import time.
    if name == "render_report":
        from .page import render_report

        return render_report
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
