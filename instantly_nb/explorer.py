"""The interactive explorer: ``instantly_nb.explore(client)`` in JupyterLab.

Pick campaigns, a date range, a metric and a step; the funnel, A/B and deliverability charts
redraw. Three layers, so the logic is tested without a kernel:

* :func:`load_data` fetches the frames of one window (:class:`ExplorerData`);
* :func:`compute_view` is pure: an :class:`ExplorerState` (the widget values) and the data in,
  frames, charts and notes out (:class:`ExplorerView`);
* :class:`Explorer` is the ipywidgets app: it reads the widgets, asks its loader for the window
  (fetched once per window), calls :func:`compute_view` and puts the charts into
  ``ipywidgets.Output`` areas.

Charts are shown the way altair is set up in the kernel (its active renderer); pass
``chart_format="svg"`` for static SVG drawn offline by vl-convert (no tooltips).
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import ipywidgets as w
import polars as pl

from . import charts, metrics
from .errors import InstantlyError
from .metrics.ab import AB_TAIL
from .metrics.definitions import RATES
from .notebook_helpers import display_names, in_window, resolve_window, tested

__all__ = [
    "METRICS",
    "Explorer",
    "ExplorerData",
    "ExplorerState",
    "ExplorerView",
    "compute_view",
    "explore",
    "load_data",
]

#: Metrics offered for the A/B comparison (replies first: opens are unreliable).
METRICS = ("reply", "click", "open", "opportunity", "meeting", "closed")
PANELS = ("funnel", "ab", "deliverability")
# ipywidgets reads a Dropdown value of None as "nothing selected", so "every step" needs a value.
ALL_STEPS = "all"
TITLES = ("Funnel", "A/B by step", "Deliverability")


@dataclass(frozen=True)
class ExplorerState:
    """What the widgets say: campaigns (empty = all), window, metric and step (None = all)."""

    campaign_ids: tuple[str, ...]
    start_date: dt.date
    end_date: dt.date
    metric: str = "reply"
    step: int | None = None

    def check(self) -> None:
        """Raise ``ValueError`` with a message for the user when the state cannot be shown."""
        if self.start_date > self.end_date:
            raise ValueError(f"The start date {self.start_date} is after the end date "
                             f"{self.end_date}.")
        if self.metric not in RATES:
            raise ValueError(f"Unknown metric {self.metric!r}; choose one of {', '.join(METRICS)}.")


@dataclass
class ExplorerData:
    """The frames behind the explorer for one window (every campaign and account)."""

    start_date: dt.date
    end_date: dt.date
    campaigns: pl.DataFrame
    analytics: pl.DataFrame
    steps: pl.DataFrame
    accounts: pl.DataFrame
    warmup_daily: pl.DataFrame
    warmup_summary: pl.DataFrame
    account_daily: pl.DataFrame

    def names(self) -> dict[str, str]:
        """Campaign id -> display name."""
        return dict(zip(self.campaigns["id"].to_list(), self.campaigns["campaign"].to_list(),
                        strict=True))


@dataclass
class ExplorerView:
    """Everything one redraw shows: frames, charts (None when there is nothing to draw), notes."""

    state: ExplorerState
    funnel: pl.DataFrame
    ab: pl.DataFrame
    health: pl.DataFrame
    alerts: pl.DataFrame
    steps_available: list[int]
    charts: dict[str, Any] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)


class _Loader:
    """Fetches through a client: window-free frames once, window frames once per window."""

    def __init__(self, client: Any, window_days: int = 7):
        self.client = client
        self.window_days = window_days
        self._fixed: dict[str, pl.DataFrame] | None = None
        self._windows: dict[tuple[dt.date, dt.date], ExplorerData] = {}

    def fixed(self) -> dict[str, pl.DataFrame]:
        if self._fixed is None:
            accounts = self.client.accounts.list()
            emails = accounts["email"].to_list()
            self._fixed = {
                "campaigns": display_names(self.client.campaigns.list()),
                "accounts": accounts,
                "warmup_daily": self.client.accounts.warmup_daily(emails=emails),
                "warmup_summary": self.client.accounts.warmup_summary(emails=emails),
            }
        return self._fixed

    def get(self, start: dt.date, end: dt.date) -> ExplorerData:
        if (start, end) not in self._windows:
            self._windows[(start, end)] = load_data(self.client, start, end,
                                                    window_days=self.window_days,
                                                    fixed=self.fixed())
        return self._windows[(start, end)]


def load_data(client: Any, start: dt.date, end: dt.date, *, window_days: int = 7,
              fixed: dict[str, pl.DataFrame] | None = None) -> ExplorerData:
    """Fetch the explorer's frames for one window (``fixed`` reuses window-free frames)."""
    if fixed is None:
        fixed = _Loader(client, window_days).fixed()
    campaigns = fixed["campaigns"]
    window = {"start_date": start, "end_date": end}
    ids = campaigns["id"].to_list()
    steps = (client.campaigns.analytics_steps(campaign_id=ids, include_opportunities_count=True,
                                              **window) if ids
             else client.campaigns.analytics_steps(**window).with_columns(
                 pl.lit(None, dtype=pl.String).alias("campaign_id")))
    emails = fixed["accounts"]["email"].to_list()
    account_daily = client.accounts.analytics_daily(
        emails=emails, start_date=start - dt.timedelta(days=window_days - 1), end_date=end)
    return ExplorerData(start, end, campaigns, client.campaigns.analytics(**window), steps,
                        fixed["accounts"], fixed["warmup_daily"], fixed["warmup_summary"],
                        account_daily)


def _selected_ids(data: ExplorerData, state: ExplorerState) -> list[str]:
    return list(state.campaign_ids) or data.campaigns["id"].to_list()


def _funnel(data: ExplorerData, state: ExplorerState) -> tuple[pl.DataFrame, Any, str]:
    ids = _selected_ids(data, state)
    rows = data.analytics.filter(pl.col("campaign_id").is_in(ids))
    rows = rows.with_columns(pl.col("campaign_id").replace_strict(
        data.names(), default=pl.col("campaign_name")).alias("campaign"))
    by = "campaign" if state.campaign_ids else None  # all campaigns: one pooled funnel
    tidy = metrics.funnel(rows, by=by)
    if rows.is_empty():
        return tidy, None, "No analytics for the selected campaigns in this window."
    scope = f"{rows.height} campaign(s)" + ("" if by else ", pooled")
    return tidy, charts.funnel(tidy), f"Funnel of {scope}, {state.start_date} to {state.end_date}."


def _ab(data: ExplorerData, state: ExplorerState) -> tuple[pl.DataFrame, Any, str, list[int]]:
    ids = _selected_ids(data, state)
    steps = data.steps.filter(pl.col("campaign_id").is_in(ids))
    available = sorted(s for s in steps["step"].drop_nulls().unique().to_list())
    if state.step is not None:
        steps = steps.filter(pl.col("step") == state.step)
    steps = steps.with_columns(pl.col("campaign_id").replace_strict(
        data.names(), default=pl.col("campaign_id")).alias("campaign")).drop("campaign_id")
    rdef = RATES[state.metric]
    if not any(c in steps.columns for c in rdef.numerators):
        empty = pl.DataFrame(schema={"campaign": pl.String, **AB_TAIL})
        return empty, None, f"The step analytics have no column for {rdef.label.lower()}.", \
            available
    ab = metrics.step_variants(steps, metric=state.metric, by="campaign")
    compared = tested(ab)
    if compared.is_empty():
        return ab, None, "No step of the selection has two variants with sends here.", available
    winners = compared.filter(pl.col("verdict") == "winner").height
    note = (f"{compared.filter(~pl.col('is_control')).height} variant(s) compared with A on "
            f"{rdef.label.lower()}; {winners} winner(s).")
    return ab, charts.step_variants(compared), note, available


def _deliverability(data: ExplorerData, state: ExplorerState,
                    window_days: int) -> tuple[pl.DataFrame, pl.DataFrame, Any, str]:
    accounts = data.accounts
    if state.campaign_ids and "email_list" in data.campaigns.columns:
        used = (data.campaigns.filter(pl.col("id").is_in(list(state.campaign_ids)))
                ["email_list"].explode().drop_nulls().unique())
        accounts = accounts.filter(pl.col("email").is_in(used.implode()))
    emails = accounts["email"].implode()
    health = metrics.deliverability(
        data.warmup_daily.filter(pl.col("email").is_in(emails)),
        data.warmup_summary.filter(pl.col("email").is_in(emails)), accounts,
        data.account_daily.filter(pl.col("email_account").is_in(emails)),
        window_days=window_days)
    alerts = metrics.alerts(health, accounts, as_of=state.end_date)
    window = resolve_window(state.start_date, state.end_date)
    shown = in_window(health, window)
    if shown.is_empty():
        return shown, alerts, None, "No warmup data for these accounts in this window."
    note = f"{accounts.height} sending account(s); {alerts.height} alert(s) on {state.end_date}."
    return shown, alerts, charts.deliverability(shown), note


def compute_view(data: ExplorerData, state: ExplorerState, *,
                 window_days: int = 7) -> ExplorerView:
    """The frames, charts and notes for ``state``; pure (no fetching, no display).

    ``state``'s window must be the one ``data`` was fetched for. Raises ``ValueError`` for a
    state that cannot be shown (see :meth:`ExplorerState.check`).
    """
    state.check()
    if (state.start_date, state.end_date) != (data.start_date, data.end_date):
        raise ValueError("compute_view: the data was fetched for another window.")
    unknown = set(state.campaign_ids) - set(data.campaigns["id"].to_list())
    if unknown:
        raise ValueError(f"Unknown campaign id(s): {', '.join(sorted(unknown))}.")
    funnel, funnel_chart, funnel_note = _funnel(data, state)
    ab, ab_chart, ab_note, steps = _ab(data, state)
    health, alerts, health_chart, health_note = _deliverability(data, state, window_days)
    return ExplorerView(
        state, funnel, ab, health, alerts, steps,
        charts={"funnel": funnel_chart, "ab": ab_chart, "deliverability": health_chart},
        notes={"funnel": funnel_note, "ab": ab_note, "deliverability": health_note},
    )


def _bundle(obj: Any, chart_format: str) -> dict[str, Any]:
    """A display_data output for ``obj`` (an altair chart) without needing a kernel."""
    if chart_format == "svg":
        import altair as alt
        import vl_convert as vlc

        # vl-convert bundles a fixed set of Vega-Lite versions: use altair's when it has it.
        wanted = ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])
        version = wanted if wanted in vlc.get_vegalite_versions() else None
        svg = vlc.vegalite_to_svg(obj.to_dict(), vl_version=version)
        return {"output_type": "display_data", "metadata": {},
                "data": {"image/svg+xml": svg, "text/plain": "<chart>"}}
    raw = obj._repr_mimebundle_()
    data, meta = raw if isinstance(raw, tuple) else (raw, {})
    return {"output_type": "display_data", "data": data, "metadata": meta or {}}


def _note(text: str) -> dict[str, Any]:
    return {"output_type": "display_data", "metadata": {},
            "data": {"text/html": f"<p>{html.escape(text)}</p>", "text/plain": text}}


class Explorer(w.VBox):
    """The widget app: an ``ipywidgets.VBox`` of controls, a status line and three chart tabs.

    Attributes
    ----------
    campaigns, start, end, metric, step : ipywidgets controls
        Set their ``value`` to drive the app from code (tests do).
    outputs : dict of ipywidgets.Output
        ``"funnel"``, ``"ab"``, ``"deliverability"``.
    status : ipywidgets.HTML
        The last note or error.
    view : ExplorerView or None
        The last view drawn.
    """

    def __init__(self, client: Any, state: ExplorerState, *, window_days: int = 7,
                 chart_format: str = "auto"):
        if chart_format not in ("auto", "svg"):
            raise ValueError(f"chart_format must be 'auto' or 'svg', got {chart_format!r}")
        self.loader = _Loader(client, window_days)
        self.window_days, self.chart_format = window_days, chart_format
        self.view: ExplorerView | None = None
        self._quiet = False
        campaigns = self.loader.fixed()["campaigns"]
        self.campaigns = w.SelectMultiple(
            options=list(zip(campaigns["campaign"].to_list(), campaigns["id"].to_list(),
                             strict=True)),
            value=state.campaign_ids, rows=min(10, max(campaigns.height, 3)),
            description="Campaigns", layout=w.Layout(width="420px"))
        self.start = w.DatePicker(value=state.start_date, description="From")
        self.end = w.DatePicker(value=state.end_date, description="To")
        self.metric = w.Dropdown(options=[(RATES[m].label, m) for m in METRICS],
                                 value=state.metric, description="Metric")
        self.step = w.Dropdown(options=[("All steps", ALL_STEPS)], value=ALL_STEPS,
                               description="Step")
        self.status = w.HTML()
        self.outputs = {name: w.Output() for name in PANELS}
        tabs = w.Tab(children=[self.outputs[name] for name in PANELS])
        tabs.titles = TITLES
        hint = w.HTML("<small>No campaign selected = every campaign.</small>")
        controls = w.HBox([w.VBox([self.campaigns, hint]),
                           w.VBox([self.start, self.end, self.metric, self.step])])
        super().__init__([controls, self.status, tabs])
        for control in (self.campaigns, self.start, self.end, self.metric, self.step):
            control.observe(self._changed, names="value")
        self.refresh(step=state.step)

    def state(self) -> ExplorerState:
        """The state the widgets show."""
        step = None if self.step.value in (ALL_STEPS, None) else int(self.step.value)
        return ExplorerState(tuple(self.campaigns.value), self.start.value, self.end.value,
                             self.metric.value, step)

    def _changed(self, _change: Any) -> None:
        if not self._quiet:
            self.refresh()

    def _say(self, text: str, error: bool = False) -> None:
        style = ' style="color:#b00020"' if error else ""
        self.status.value = f"<p{style}>{html.escape(text)}</p>"

    def refresh(self, step: int | None = None) -> ExplorerView | None:
        """Fetch the window if needed, recompute the view and redraw every panel."""
        state = self.state() if step is None else replace(self.state(), step=step)
        if state.start_date is None or state.end_date is None:
            self._say("Pick a start and an end date.", error=True)
            return None
        try:
            state.check()
            data = self.loader.get(state.start_date, state.end_date)
            view = compute_view(data, state, window_days=self.window_days)
        except (ValueError, InstantlyError) as exc:  # shown to the user, never swallowed
            self._say(str(exc), error=True)
            return None
        self._set_steps(view.steps_available, state.step)
        for name in PANELS:
            chart, note = view.charts.get(name), view.notes.get(name, "")
            shown = [_note(note)] + ([_bundle(chart, self.chart_format)] if chart else [])
            self.outputs[name].outputs = tuple(shown)
        self._say(f"{len(state.campaign_ids) or 'All'} campaign(s), {state.start_date} to "
                  f"{state.end_date}, {RATES[state.metric].label.lower()}.")
        self.view = view
        return view

    def _set_steps(self, steps: Sequence[int], current: int | None) -> None:
        self._quiet = True  # new options would otherwise re-trigger a redraw
        try:
            self.step.options = [("All steps", ALL_STEPS), *[(f"Step {s}", s) for s in steps]]
            self.step.value = current if current in steps else ALL_STEPS
        finally:
            self._quiet = False


def explore(client: Any, *, start_date: Any = None, end_date: Any = None,
            campaign_ids: Sequence[str] | None = None, metric: str = "reply",
            step: int | None = None, window_days: int = 7,
            chart_format: str = "auto") -> Explorer:
    """The explorer app for ``client``'s workspace; display it (last expression of a cell).

    Parameters
    ----------
    client : instantly_nb.Client
    start_date, end_date : str or datetime.date, optional
        Initial window; the 30 full days that end yesterday by default.
    campaign_ids : list of str, optional
        Initially selected campaigns (none = every campaign).
    metric : str
        Initial A/B metric, one of :data:`METRICS`.
    step : int, optional
        Initial step filter of the A/B panel.
    window_days : int
        Trailing days pooled in the deliverability figures.
    chart_format : {"auto", "svg"}
        ``"auto"``: altair's active renderer; ``"svg"``: static SVG rendered offline.

    Examples
    --------
    >>> import instantly_nb
    >>> with instantly_nb.Client.demo() as client:          # doctest: +SKIP
    ...     app = instantly_nb.explore(client, metric="click")
    """
    window = resolve_window(start_date, end_date)
    state = ExplorerState(tuple(campaign_ids or ()), window.start, window.end, metric, step)
    return Explorer(client, state, window_days=window_days, chart_format=chart_format)
