"""Glue that the ready-made notebooks call, so that each of their cells stays a few lines long.

The notebooks' ``parameters`` cell gives a date window, a campaign selection and thresholds;
:func:`load_scope` turns them into a :class:`Scope` (window, campaigns, workspace name), and the
other helpers fetch what a notebook needs through the client and shape the metric frames into
the tables a marketer reads. Statistics live in :mod:`instantly_nb.metrics`, charts in
:mod:`instantly_nb.charts`, display helpers in :mod:`instantly_nb.report`; nothing here draws.

Helpers that return prose return ``IPython.display.Markdown`` (the last expression of a cell
displays it); text that comes from the API (campaign and workspace names) is escaped first.

============================  =====================================================
module                        for
============================  =====================================================
``_common``                   parameters (:func:`resolve_window`, :func:`load_scope`),
                              Markdown, :func:`show` (report tables with intervals)
``campaigns``                 campaign_overview and ab_testing
``senders``                   deliverability
``leads``                     leads_and_replies
``tour``                      workspace_tour and page-bounded reads
============================  =====================================================
"""

from __future__ import annotations

from ._common import (
    DEFAULT_DAYS,
    Scope,
    ci_of,
    definitions,
    display_names,
    header,
    labels_of,
    load_scope,
    markdown,
    md_escape,
    rate_columns,
    resolve_window,
    show,
)
from .campaigns import (
    ab_note,
    ab_summary,
    best_and_worst,
    campaign_analytics,
    campaign_daily,
    campaign_summary,
    campaign_table,
    pooled_rates,
    sends_needed,
    status_counts,
    step_analytics,
    tested,
    trend_table,
    verdict_table,
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
from .senders import (
    SenderData,
    account_table,
    bounce_table,
    in_window,
    placement_results,
    scope_accounts,
    sender_data,
)
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
    "SenderData",
    "Tour",
    "ab_note",
    "ab_summary",
    "account_table",
    "best_and_worst",
    "bounce_table",
    "breakdown",
    "breakdown_by_campaign",
    "campaign_analytics",
    "campaign_daily",
    "campaign_summary",
    "campaign_table",
    "ci_of",
    "definitions",
    "display_names",
    "fetch_for_first",
    "fetch_pages",
    "header",
    "hide_secrets",
    "in_window",
    "input_needed",
    "interest_breakdown",
    "labels_of",
    "lead_list_table",
    "load_scope",
    "markdown",
    "md_escape",
    "placement_results",
    "pooled_rates",
    "sends_needed",
    "rate_columns",
    "resolve_window",
    "sample_emails",
    "sample_note",
    "scope_accounts",
    "scope_leads",
    "sender_data",
    "show",
    "show_heads",
    "status_counts",
    "step_analytics",
    "tested",
    "timing_table",
    "tour",
    "tour_names",
    "trend_table",
    "verdict_table",
]
