"""Views: one set of numbers for the notebooks, the HTML report, the explorer and the CLI.

Each view module has ``load(scope, ...)`` (fetches through the client) and a pure
``view(data, params) -> Section`` (tables, charts, notes, alerts). Parameters are frozen
dataclasses; ``scripts/make_notebooks.py`` writes their defaults into each notebook's
parameters cell, so defaults cannot drift between the notebooks and the explorer.

=====================  ==============================================================
module                 for
=====================  ==============================================================
``scope``              window (UTC days), campaign selection, display names, accounts
``campaigns``          totals, campaign table, funnel, pooled rates, trends, ranking
``ab``                 A/B over the test's life, with each variant's subject and body
``deliverability``     account health, alerts, bounces, placement tests
``summary``            the headline: figures vs the previous period, winners, what to do
=====================  ==============================================================
"""

from __future__ import annotations

from . import ab, campaigns, deliverability, summary
from .ab import ABParams
from .campaigns import CampaignParams
from .deliverability import DeliverabilityParams
from .scope import (
    UTC_NOTE,
    Scope,
    Window,
    display_names,
    load_scope,
    make_scope,
    resolve_window,
    scope_accounts,
    utc_today,
)
from .section import Section, param_defaults
from .summary import SummaryParams

__all__ = [
    "UTC_NOTE",
    "ABParams",
    "CampaignParams",
    "DeliverabilityParams",
    "Scope",
    "Section",
    "SummaryParams",
    "Window",
    "ab",
    "campaigns",
    "deliverability",
    "display_names",
    "load_scope",
    "make_scope",
    "param_defaults",
    "resolve_window",
    "scope_accounts",
    "summary",
    "utc_today",
]
