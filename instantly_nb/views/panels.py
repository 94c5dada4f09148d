"""The explorer's panels, computed from the views: pure, so they are tested without widgets.

:func:`load_data` fetches what one explorer state needs through the views' own ``load``
functions (the explorer caches it per window and selection); :func:`compute_view` turns an
:class:`ExplorerState` and the data into an :class:`ExplorerView`: one
:class:`~instantly_nb.views.section.Section` per panel, each with its chart and the table of the
numbers under it. The figures are those the notebooks and the report show for the same window,
selection and parameters.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from .. import charts, metrics
from ..metrics.definitions import RATES
from . import ab as ab_view
from . import campaigns as campaign_view
from . import deliverability as dv
from .scope import Scope, Window, make_scope
from .section import Charts, Section
from .summary import figures, load_overview

__all__ = ["EXPLORER_METRICS", "PANELS", "ExplorerData", "ExplorerState", "ExplorerView",
           "comparison_table", "compute_view", "load_data"]

#: Metrics offered for the A/B comparison (replies first: opens are unreliable).
EXPLORER_METRICS = ("reply", "opportunity", "meeting", "closed", "click", "open")
PANELS = ("overview", "trend", "ab", "deliverability")


@dataclass(frozen=True)
class ExplorerState:
    """What the widgets say.

    campaign_ids (empty = all), window, A/B metric, step (None = all), the sending account of
    the deliverability panel (None = all) and the campaign of the trend panel (None = the
    whole selection).
    """

    campaign_ids: tuple[str, ...]
    start_date: dt.date
    end_date: dt.date
    metric: str = "reply"
    step: int | None = None
    account: str | None = None
    trend_campaign: str | None = None

    def check(self) -> None:
        """Raise ``ValueError`` with a message for the user when the state cannot be shown."""
        if self.start_date > self.end_date:
            raise ValueError(f"The start date {self.start_date} is after the end date "
                             f"{self.end_date}.")
        if self.metric not in RATES:
            raise ValueError(f"Unknown metric {self.metric!r}; choose one of {', '.join(EXPLORER_METRICS)}.")

    @property
    def window(self) -> Window:
        return Window(self.start_date, self.end_date)


@dataclass
class ExplorerData:
    """The views' data for one window and selection (``overview``/``previous``: the analytics
    overview of this and the previous period, as the headline reads them)."""

    scope: Scope
    campaigns: campaign_view.CampaignData
    overview: pl.DataFrame
    previous: pl.DataFrame
    ab: ab_view.ABData
    deliverability: dv.DeliverabilityData
    trend: pl.DataFrame
    trend_campaign: str | None = None


@dataclass
class ExplorerView:
    """One redraw: a section per panel (chart + the table of its numbers) and notes."""

    state: ExplorerState
    sections: dict[str, Section]
    steps_available: list[int]
    accounts_available: list[str]
    notes: dict[str, str] = field(default_factory=dict)

    def table(self, panel: str) -> pl.DataFrame:
        """The numbers under the panel's chart."""
        return self.sections[panel].tables["shown"]


def load_data(client: Any, campaigns: pl.DataFrame, state: ExplorerState, *,
              window_days: int = 7) -> ExplorerData:
    """Fetch the explorer's data for ``state`` through the views' ``load`` functions."""
    scope = make_scope(client, state.window, campaigns, list(state.campaign_ids))
    trend = campaign_view.load_daily(
        make_scope(client, state.window, campaigns, [state.trend_campaign])
        if state.trend_campaign else scope)
    return ExplorerData(
        scope, campaign_view.load(scope), load_overview(scope),
        load_overview(scope.at(scope.window.previous())), ab_view.load(scope),
        dv.load(scope, dv.DeliverabilityParams(window_days=window_days)), trend,
        state.trend_campaign)


def comparison_table(figs: list[dict[str, Any]]) -> pl.DataFrame:
    """This period against the previous one: one row per headline figure."""
    return pl.DataFrame(
        [{"metric": f["label"], "this_period": float(f["value"] or 0.0),
          "previous_period": None if f["previous"] is None else float(f["previous"]),
          "change": f["change"], "beyond_noise": not f["noise"]} for f in figs],
        schema={"metric": pl.String, "this_period": pl.Float64, "previous_period": pl.Float64,
                "change": pl.Float64, "beyond_noise": pl.Boolean})


def _none() -> None:
    return None


def _overview(data: ExplorerData) -> Section:
    section = campaign_view.view(data.campaigns)
    before = data.scope.window.previous()
    section.tables["comparison"] = comparison_table(figures(data.overview, data.previous))
    section.tables["shown"] = section.tables["pooled"]
    section.notes["comparison"] = (f"{data.scope.window.text()} against "
                                   f"{before.text()}.")
    return section


def _trend(data: ExplorerData) -> Section:
    level = campaign_view.CampaignParams().level
    daily = metrics.trends(data.trend, freq="1d", level=level)
    name = data.scope.names().get(data.trend_campaign or "", "the selection")
    shown = daily.select("period", "metric", "numerator", "denominator", "rate", "ci_low",
                         "ci_high") if daily.height else daily
    return Section("Trend", tables={"shown": shown},
                   charts=Charts(chart=lambda: charts.trend(daily) if daily.height else None),
                   notes={"trend": f"Daily rates of {name}."}, period=data.scope.window.text())


def _ab(data: ExplorerData, state: ExplorerState) -> tuple[Section, list[int]]:
    params = ab_view.ABParams(metric=state.metric)
    try:
        section = ab_view.view(data.ab, params)
    except ValueError as exc:  # e.g. the step analytics have no column for this metric
        return Section("A/B tests", tables={"shown": pl.DataFrame()}, charts=Charts(chart=_none),
                       notes={"summary": str(exc)}), []
    steps = sorted(section.tables["all"]["step"].drop_nulls().unique().to_list())
    compared = ab_view.tested(section.tables["all"])
    table = section.tables["verdicts"]
    if state.step is not None:
        compared = compared.filter(pl.col("step") == state.step)
        table = table.filter(pl.col("step") == state.step)
    section.tables["shown"] = table
    section.charts.add("chart", lambda: charts.step_variants(compared)
                       if compared.height else None)
    return section, steps


def _deliverability(data: ExplorerData, state: ExplorerState,
                    window_days: int) -> tuple[Section, list[str]]:
    accounts = sorted(data.deliverability.accounts["email"].to_list())
    params = dv.DeliverabilityParams(window_days=window_days,
                                     accounts=(state.account,) if state.account else ())
    section = dv.view(data.deliverability, params)
    section.tables["shown"] = section.tables["accounts"]
    section.charts.add("chart", lambda: section.charts["health"])
    return section, accounts


def compute_view(data: ExplorerData, state: ExplorerState, *,
                 window_days: int = 7) -> ExplorerView:
    """The sections, charts and tables for ``state``; pure (no fetching, no display).

    ``data`` must have been loaded for the state's window and selection. Raises
    ``ValueError`` for a state that cannot be shown.
    """
    state.check()
    if data.scope.window != state.window or \
            tuple(data.scope.campaign_ids) != tuple(state.campaign_ids):
        raise ValueError("compute_view: the data was fetched for another window or selection.")
    overview = _overview(data)
    overview.charts.add("chart", lambda: overview.charts["funnel"])
    ab, steps = _ab(data, state)
    health, accounts = _deliverability(data, state, window_days)
    return ExplorerView(
        state, {"overview": overview, "trend": _trend(data), "ab": ab,
                "deliverability": health}, steps, accounts,
        notes={"overview": overview.notes["summary"], "comparison": overview.notes["comparison"],
               "trend": "", "ab": ab.notes.get("summary", ""),
               "deliverability": health.notes["summary"]})
