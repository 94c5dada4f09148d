"""The interactive explorer: ``instantly_nb.explore(client)`` in JupyterLab.

Pick campaigns, a date range, an A/B metric and step, a sending account and a campaign for the
trend; four tabs redraw: overview (funnel, pooled rates, this period against the previous one),
trend, A/B and deliverability (accounts, alert list). Under every chart is the table of its
numbers with a CSV download. The figures come from :mod:`instantly_nb.views`, the functions the
notebooks and the HTML report use, so the same window and selection give the same numbers.

Three layers, so the logic is tested without a kernel: :func:`~instantly_nb.views.panels.load_data`
fetches (cached here per window and selection), :func:`~instantly_nb.views.panels.compute_view`
is pure, and :class:`Explorer` is the ipywidgets app that draws the result.

Charts are shown the way altair is set up in the kernel (its active renderer); pass
``chart_format="svg"`` for static SVG drawn offline by vl-convert (no tooltips).
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import ipywidgets as w
import polars as pl

from .errors import InstantlyError
from .metrics.definitions import RATES
from .views.panels import (
    EXPLORER_METRICS,
    PANELS,
    ExplorerData,
    ExplorerState,
    ExplorerView,
    compute_view,
    load_data,
)
from .views.scope import display_names, resolve_window

__all__ = ["EXPLORER_METRICS", "Explorer", "ExplorerData", "ExplorerState", "ExplorerView",
           "compute_view", "csv_link", "explore", "load_data"]

# ipywidgets reads a Dropdown value of None as "nothing selected", so "all" needs a value.
ALL = "all"
TITLES = ("Overview", "Trend", "A/B by step", "Deliverability")
TABLE_ROWS = 200


class _Loader:
    """Fetches through a client: campaigns once, each (window, selection, trend) once."""

    def __init__(self, client: Any, window_days: int = 7):
        self.client = client
        self.window_days = window_days
        self.campaigns = display_names(client.campaigns.list())
        self._seen: dict[tuple[Any, ...], ExplorerData] = {}

    def get(self, state: ExplorerState) -> ExplorerData:
        key = (state.start_date, state.end_date, state.campaign_ids, state.trend_campaign)
        if key not in self._seen:
            self._seen[key] = load_data(self.client, self.campaigns, state,
                                        window_days=self.window_days)
        return self._seen[key]


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


def _html(text: str, plain: str = "") -> dict[str, Any]:
    return {"output_type": "display_data", "metadata": {},
            "data": {"text/html": text, "text/plain": plain or text}}


def _note(text: str) -> dict[str, Any]:
    return _html(f"<p>{html.escape(text).replace('**', '')}</p>", text)


def csv_link(frame: pl.DataFrame, name: str) -> str:
    """An HTML link that downloads ``frame`` as ``name.csv`` (a data URI: no kernel needed)."""
    flat = frame.select([c for c, t in frame.schema.items() if not t.is_nested()])
    data = base64.b64encode(flat.write_csv().encode("utf-8")).decode("ascii")
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name) or "table"
    return (f'<a download="{safe}.csv" href="data:text/csv;base64,{data}">'
            f"Download the {html.escape(name)} table as CSV ({frame.height} rows)</a>")


def table_output(frame: pl.DataFrame, name: str) -> dict[str, Any]:
    """The numbers under a chart: an HTML table (first rows) and a CSV download link."""
    from .notebook_helpers import labels_of

    if frame.is_empty():
        return _html("<p>No rows.</p>", "No rows.")
    shown = frame.select([c for c, t in frame.schema.items() if not t.is_nested()])
    head = "".join(f"<th>{html.escape(labels_of(shown).get(c, c))}</th>" for c in shown.columns)
    rows = []
    for row in shown.head(TABLE_ROWS).iter_rows():
        cells = "".join(f"<td>{html.escape(_fmt(v))}</td>" for v in row)
        rows.append(f"<tr>{cells}</tr>")
    more = f"<p>First {TABLE_ROWS} of {frame.height} rows.</p>" if frame.height > TABLE_ROWS \
        else ""
    text = (f'<table class="instantly-nb-table"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>{more}<p>{csv_link(frame, name)}</p>")
    return _html(text, f"{name}: {frame.height} rows")


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


class Explorer(w.VBox):
    """The widget app: controls, a status line and four tabs (chart + table + CSV each).

    Attributes
    ----------
    campaigns, start, end, metric, step, account, trend_campaign : ipywidgets controls
        Set their ``value`` to drive the app from code (tests do).
    outputs : dict of ipywidgets.Output
        ``"overview"``, ``"trend"``, ``"ab"``, ``"deliverability"``.
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
        campaigns = self.loader.campaigns
        pairs = list(zip(campaigns["campaign"].to_list(), campaigns["id"].to_list(),
                         strict=True))
        self.campaigns = w.SelectMultiple(options=pairs, value=state.campaign_ids,
                                          rows=min(10, max(campaigns.height, 3)),
                                          description="Campaigns", layout=w.Layout(width="420px"))
        self.start = w.DatePicker(value=state.start_date, description="From")
        self.end = w.DatePicker(value=state.end_date, description="To")
        self.metric = w.Dropdown(options=[(RATES[m].label, m) for m in EXPLORER_METRICS],
                                 value=state.metric, description="A/B metric")
        self.step = w.Dropdown(options=[("All steps", ALL)], value=ALL, description="Step")
        self.account = w.Dropdown(options=[("All accounts", ALL)], value=ALL,
                                  description="Account")
        self.trend_campaign = w.Dropdown(options=[("Whole selection", ALL), *pairs],
                                         value=state.trend_campaign or ALL,
                                         description="Trend of")
        self.status = w.HTML()
        self.outputs = {name: w.Output() for name in PANELS}
        tabs = w.Tab(children=[self.outputs[name] for name in PANELS])
        tabs.titles = TITLES
        hint = w.HTML("<small>No campaign selected = every campaign. Days are UTC days.</small>")
        controls = w.HBox([w.VBox([self.campaigns, hint]),
                           w.VBox([self.start, self.end, self.metric, self.step]),
                           w.VBox([self.account, self.trend_campaign])])
        super().__init__([controls, self.status, tabs])
        for control in (self.campaigns, self.start, self.end, self.metric, self.step,
                        self.account, self.trend_campaign):
            control.observe(self._changed, names="value")
        self.refresh(step=state.step, account=state.account)

    def state(self) -> ExplorerState:
        """The state the widgets show."""
        step = None if self.step.value in (ALL, None) else int(self.step.value)
        account = None if self.account.value in (ALL, None) else str(self.account.value)
        trend = None if self.trend_campaign.value in (ALL, None) else str(self.trend_campaign.value)
        return ExplorerState(tuple(self.campaigns.value), self.start.value, self.end.value,
                             self.metric.value, step, account, trend)

    def _changed(self, _change: Any) -> None:
        if not self._quiet:
            self.refresh()

    def _say(self, text: str, error: bool = False) -> None:
        style = ' style="color:#b00020"' if error else ""
        self.status.value = f"<p{style}>{html.escape(text)}</p>"

    def refresh(self, step: int | None = None, account: str | None = None) -> ExplorerView | None:
        """Fetch what the state needs (once), recompute the view and redraw every panel."""
        state = self.state()
        if step is not None or account is not None:
            state = replace(state, step=step if step is not None else state.step,
                            account=account if account is not None else state.account)
        if state.start_date is None or state.end_date is None:
            self._say("Pick a start and an end date.", error=True)
            return None
        try:
            state.check()
            state = self._valid_account(state)
            view = compute_view(self.loader.get(state), state, window_days=self.window_days)
        except (ValueError, InstantlyError) as exc:  # shown to the user, never swallowed
            self._say(str(exc), error=True)
            return None
        self._set_options(view, state)
        for name in PANELS:
            self.outputs[name].outputs = tuple(self._panel(view, name))
        self._say(f"{len(state.campaign_ids) or 'All'} campaign(s), {state.start_date} to "
                  f"{state.end_date}, A/B on {RATES[state.metric].label.lower()}.")
        self.view = view
        return view

    def _valid_account(self, state: ExplorerState) -> ExplorerState:
        """Forget a picked account that does not send for the new selection."""
        if state.account is None:
            return state
        data = self.loader.get(state)
        known = set(data.deliverability.accounts["email"].to_list())
        return state if state.account in known else replace(state, account=None)

    def _panel(self, view: ExplorerView, name: str) -> list[dict[str, Any]]:
        section = view.sections[name]
        out = [_note(view.notes.get(name, ""))] if view.notes.get(name) else []
        chart = section.charts.get("chart")
        if chart is not None:
            out.append(_bundle(chart, self.chart_format))
        out.append(table_output(section.tables["shown"], f"{name} numbers"))
        if name == "overview":
            out += [_note(view.notes["comparison"]),
                    table_output(section.tables["comparison"], "period comparison")]
        if name == "deliverability":
            out += [_note("Alerts"), table_output(section.tables["alerts"], "alerts")]
        return out

    def _set_options(self, view: ExplorerView, state: ExplorerState) -> None:
        self._quiet = True  # new options would otherwise re-trigger a redraw
        try:
            steps = view.steps_available
            self.step.options = [("All steps", ALL), *[(f"Step {s}", s) for s in steps]]
            self.step.value = state.step if state.step in steps else ALL
            emails = view.accounts_available
            self.account.options = [("All accounts", ALL), *[(e, e) for e in emails]]
            self.account.value = state.account if state.account in emails else ALL
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
        Initial window (UTC days); the 30 full days that end yesterday by default.
    campaign_ids : list of str, optional
        Initially selected campaigns (none = every campaign).
    metric : str
        Initial A/B metric, one of :data:`EXPLORER_METRICS`.
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


