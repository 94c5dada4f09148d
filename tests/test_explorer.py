"""The explorer: the pure view function on real demo frames, and the widget wiring without a kernel.

One demo server for the module (through ``Client.demo``); the frames of a window are fetched
once and shared by the pure tests.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import ipywidgets
import polars as pl
import pytest

import instantly_nb
from instantly_nb import Client
from instantly_nb.explorer import (
    METRICS,
    Explorer,
    ExplorerData,
    ExplorerState,
    compute_view,
    explore,
    load_data,
)
from instantly_nb.notebook_helpers import resolve_window

WINDOW = resolve_window(None, None)


@pytest.fixture(scope="module")
def client() -> Any:
    with Client.demo(size="tiny", seed=7) as demo:
        yield demo


@pytest.fixture(scope="module")
def data(client: Any) -> ExplorerData:
    return load_data(client, WINDOW.start, WINDOW.end)


def _state(**changes: Any) -> ExplorerState:
    base = ExplorerState((), WINDOW.start, WINDOW.end)
    return ExplorerState(**{**base.__dict__, **changes})


def _two_with_steps(data: ExplorerData) -> list[str]:
    """Two campaigns that have variants to compare in the window."""
    steps = data.steps.filter(pl.col("sent") > 0)
    multi = steps.group_by("campaign_id", "step").agg(pl.len().alias("n")).filter(pl.col("n") > 1)
    ids = multi["campaign_id"].unique(maintain_order=True).to_list()
    assert len(ids) >= 2
    return sorted(ids)[:2]


def _spec(chart: Any) -> str:
    return json.dumps(chart.to_dict())


# -- the pure function --------------------------------------------------------------------------


def test_all_campaigns_pooled(data: ExplorerData) -> None:
    view = compute_view(data, _state())
    contacted = view.funnel.filter(pl.col("stage") == "contacted")
    assert contacted.height == 1  # one pooled funnel, no campaign column
    assert contacted["count"].item() == data.analytics["contacted_count"].sum()
    assert set(view.ab["campaign"]) <= set(data.campaigns["campaign"])
    assert view.health["email"].n_unique() == data.accounts.height
    assert all(view.charts[k] is not None for k in ("funnel", "ab", "deliverability"))


def test_selected_campaigns_only(data: ExplorerData) -> None:
    ids = _two_with_steps(data)
    names = data.names()
    view = compute_view(data, _state(campaign_ids=tuple(ids)))
    assert sorted(view.funnel["campaign"].unique()) == sorted(names[i] for i in ids)
    assert set(view.ab["campaign"]) == {names[i] for i in ids}
    senders = set(data.campaigns.filter(pl.col("id").is_in(ids))["email_list"].explode())
    assert set(view.health["email"]) <= senders and view.health.height
    funnel_spec = _spec(view.charts["funnel"])
    assert all(names[i] in funnel_spec for i in ids)


def test_step_filter_and_steps_offered(data: ExplorerData) -> None:
    everything = compute_view(data, _state())
    assert everything.steps_available == sorted(data.steps["step"].drop_nulls().unique())
    step = everything.steps_available[0]
    view = compute_view(data, _state(step=step))
    assert view.ab["step"].drop_nulls().unique().to_list() == [step]
    assert view.steps_available == everything.steps_available  # options keep every step


def test_metric_drives_the_ab_panel(data: ExplorerData) -> None:
    view = compute_view(data, _state(metric="click"))
    assert view.ab["metric"].unique().to_list() == ["click"]
    assert view.ab["success_col"].unique().to_list() == ["unique_clicks"]
    assert "Click rate" in _spec(view.charts["ab"])
    assert "click rate" in view.notes["ab"]


def test_metric_missing_from_the_data_is_a_note(data: ExplorerData) -> None:
    bare = ExplorerData(**{**data.__dict__, "steps": data.steps.drop("opportunities",
                                                                      "unique_opportunities",
                                                                      strict=False)})
    view = compute_view(bare, _state(metric="opportunity"))
    assert view.charts["ab"] is None and "no column" in view.notes["ab"]


def test_deliverability_stays_in_the_window(data: ExplorerData) -> None:
    view = compute_view(data, _state())
    assert view.health["date"].min() >= WINDOW.start
    assert view.health["date"].max() <= WINDOW.end
    assert set(view.alerts.columns) >= {"email", "rule", "severity"}


@pytest.mark.parametrize(("changes", "message"), [
    ({"start_date": WINDOW.end + dt.timedelta(days=1)}, "after the end date"),
    ({"metric": "nope"}, "Unknown metric"),
    ({"campaign_ids": ("no-such-id",)}, "Unknown campaign"),
])
def test_bad_states_are_refused(data: ExplorerData, changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        compute_view(data, _state(**changes))


def test_data_of_another_window_is_refused(data: ExplorerData) -> None:
    with pytest.raises(ValueError, match="another window"):
        compute_view(data, _state(start_date=WINDOW.start + dt.timedelta(days=1)))


@pytest.mark.parametrize("metric", METRICS)
def test_every_offered_metric_works(data: ExplorerData, metric: str) -> None:
    view = compute_view(data, _state(metric=metric))
    assert view.ab["metric"].unique().to_list() == [metric]
    assert view.charts["ab"] is not None


# -- the widget wiring --------------------------------------------------------------------------


def _payload(app: Explorer, panel: str) -> str:
    return json.dumps(app.outputs[panel].outputs)


def test_explore_returns_a_widget_with_every_panel_drawn(client: Any) -> None:
    app = instantly_nb.explore(client)
    assert isinstance(app, ipywidgets.VBox)
    for panel in ("funnel", "ab", "deliverability"):
        outputs = app.outputs[panel].outputs
        assert len(outputs) == 2 and "vega" in json.dumps(outputs[1]["data"])
    assert app.view is not None and app.view.state.campaign_ids == ()
    assert [v for _label, v in app.step.options] == ["all", *app.view.steps_available]
    assert app.step.index == 0 and app.step.label == "All steps"  # a real selection, not blank


def test_selecting_campaigns_redraws(client: Any, data: ExplorerData) -> None:
    app = explore(client)
    ids = _two_with_steps(data)
    before = _payload(app, "funnel")
    app.campaigns.value = tuple(ids)
    assert app.view is not None and app.view.state.campaign_ids == tuple(ids)
    after = _payload(app, "funnel")
    assert after != before
    assert all(data.names()[i] in after for i in ids)
    assert "2 campaign(s)" in app.status.value


def test_metric_and_step_redraw_the_ab_panel(client: Any) -> None:
    app = explore(client)
    before = _payload(app, "ab")
    app.metric.value = "click"
    assert app.view is not None and app.view.ab["metric"].unique().to_list() == ["click"]
    assert _payload(app, "ab") != before and "Click rate" in _payload(app, "ab")
    step = app.view.steps_available[-1]
    app.step.value = step
    assert app.view.ab["step"].drop_nulls().unique().to_list() == [step]
    assert app.step.value == step  # redrawing the options kept the choice


def test_changing_dates_fetches_the_new_window(client: Any) -> None:
    app = explore(client)
    sent = client.requests_sent
    app.start.value = WINDOW.start - dt.timedelta(days=14)
    assert client.requests_sent > sent  # a new window is fetched...
    assert app.view is not None and app.view.state.start_date == WINDOW.start - dt.timedelta(days=14)
    assert app.view.health["date"].min() < WINDOW.start
    sent = client.requests_sent
    app.start.value = WINDOW.start
    assert client.requests_sent == sent  # ...and a window seen before is not fetched again


def test_a_bad_date_range_is_reported_and_nothing_redrawn(client: Any) -> None:
    app = explore(client)
    drawn = _payload(app, "funnel")
    view = app.view
    app.start.value = WINDOW.end + dt.timedelta(days=3)
    assert "after the end date" in app.status.value and "b00020" in app.status.value
    assert _payload(app, "funnel") == drawn and app.view is view


def test_campaign_names_are_escaped_in_the_status(client: Any) -> None:
    app = explore(client)
    app._say('<img src=x onerror="alert(1)">', error=True)
    assert "<img" not in app.status.value and "&lt;img" in app.status.value


def test_svg_charts_are_drawn_offline(client: Any) -> None:
    app = explore(client, chart_format="svg", metric="click")
    assert "image/svg+xml" in app.outputs["ab"].outputs[1]["data"]
    with pytest.raises(ValueError, match="chart_format"):
        explore(client, chart_format="gif")
