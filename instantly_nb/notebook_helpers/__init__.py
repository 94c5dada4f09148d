"""Glue that the ready-made notebooks call, so that each of their cells stays a few lines long.

The figures of the notebooks come from :mod:`instantly_nb.views` (the same views the report and
the explorer use); these helpers display a view's sections as Markdown and report tables, and
hold what only the leads and tour notebooks need. Statistics live in :mod:`instantly_nb.metrics`,
charts in :mod:`instantly_nb.charts`; nothing here draws.

Helpers that return prose return ``IPython.display.Markdown`` (the last expression of a cell
displays it); text that comes from the API (campaign and workspace names) is escaped first.

============================  =====================================================
module                        for
============================  =====================================================
``_common``                   Markdown, :func:`show` / :func:`show_table` (report tables
                              with intervals), :func:`header`
``sections``                  the A/B method note and the headline display
``leads``                     leads_and_replies
``tour``                      workspace_tour and page-bounded reads
============================  =====================================================
"""

from __future__ import annotations

from ..views.ab import sends_needed, tested, verdict_table
from ..views.campaigns import best_and_worst, pooled_rates, status_counts, trend_table
from ..views.deliverability import account_table, bounce_table, in_window
from ..views.scope import DEFAULT_DAYS, Scope, display_names, load_scope, resolve_window
from ._common import (
    chart,
    chart_pages,
    ci_of,
    definitions,
    header,
    labels_of,
    markdown,
    md_escape,
    note,
    show,
    show_table,
)
from .leads import (
    EMAIL_PAGES,
    breakdown,
    breakdown_by_campaign,
    interest_breakdown,
    lead_list_table,
    sample_emails,
    sample_note,
    scope_leads,
    timing_table,
)
from .sections import ab_note, headline, headline_markdown
from .tour import (
    Sample,
    Tour,
    fetch_for_first,
    fetch_pages,
    hide_secrets,
    input_needed,
    show_heads,
    tour,
    tour_names,
)

__all__ = [
    "DEFAULT_DAYS",
    "EMAIL_PAGES",
    "Sample",
    "Scope",
    "Tour",
    "ab_note",
    "account_table",
    "best_and_worst",
    "bounce_table",
    "breakdown",
    "breakdown_by_campaign",
    "chart",
    "chart_pages",
    "ci_of",
    "definitions",
    "display_names",
    "fetch_for_first",
    "fetch_pages",
    "header",
    "headline",
    "headline_markdown",
    "hide_secrets",
    "in_window",
    "input_needed",
    "interest_breakdown",
    "labels_of",
    "lead_list_table",
    "load_scope",
    "markdown",
    "md_escape",
    "note",
    "pooled_rates",
    "resolve_window",
    "sample_emails",
    "sample_note",
    "scope_leads",
    "sends_needed",
    "show",
    "show_heads",
    "show_table",
    "status_counts",
    "tested",
    "timing_table",
    "tour",
    "tour_names",
    "trend_table",
    "verdict_table",
]
