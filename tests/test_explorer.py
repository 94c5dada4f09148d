"""The explorer: pure panels on real demo frames, and the widget wiring without a kernel.

One tiny demo workspace for the module (through ``Client.demo``); the data of the default state
is fetched once and shared by the pure tests.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from typing import Any

import ipywidgets
import polars as pl
import pytest

import instantly_nb
from instantly_nb import Client, views
from instantly_nb.explorer import (
    EXPLORER_METRICS,
    Explorer,
    ExplorerData,
    ExplorerState,
    compute_view,
    csv_link,
    explore,
    load_data,
)

WINDOW = views.resolve_window(None, None)


@pytest.fixture(scope="module")
def client() -> Any:
    with Client.demo(size="tiny", seed=7) as demo:
        yield demo


@pytest.fixture(scope="module")
def campaigns(client: Any) -> pl.DataFrame:
    return views.display_names(client.campaigns.list())


def _state(**changes: Any) -> ExplorerState:
    base = ExplorerState((), WINDOW.start, WINDOW.end)
    return ExplorerState(**{**base.__dict__, **changes})


@pytest.fixture(scope="module")
def data(client: Any, campaigns: pl.DataFrame) -> ExplorerData:
    return load_data(client, campaigns, _state())


def _two_with_steps(data: ExplorerData) -> list[str]:
    """Two campaigns that have variants to compare."""
    steps = data.ab.steps.filter(pl.col("sent") > 0)
    multi = steps.group_by("campaign_id", "step").agg(pl.col("variant").n_unique().alias("n")) \
        .filter(pl.col("n") > 1)
    ids = sorted(multi["campaign_id"].unique().to_list())
    assert len(ids) >= 2
    return ids[:2]


def _spec(chart: Any) -> str:
    return json.dumps(chart.to_dict())


# -- the pure panels ----------------------------------------------------------------------------


def test_panels_are_the_views(data: ExplorerData) -> None:
    """Every panel shows the figures of the view the notebooks call, for the same scope."""
    view = compute_view(data, _state())
    notebook = views.campaigns.view(views.campaigns.load(data.scope))
    assert view.table("overview").equals(notebook.tables["pooled"])
    assert view.sections["overview"].tables["campaigns"].equals(notebook.tables["campaigns"])
    ab = views.ab.view(views.ab.load(data.scope))
    assert view.table("ab").equals(ab.tables["verdicts"])
    health = views.deliverability.view(views.deliverability.load(data.scope))
    assert view.sections["deliverability"].tables["alerts"].equals(health.tables["alerts"])
    assert all(view.sections[p].charts["chart"] is not None for p in ("overview", "ab"))


def test_period_comparison(data: ExplorerData) -> None:
    view = compute_view(data, _state())
    table = view.sections["overview"].tables["comparison"]
    assert table["metric"].to_list()[0] == "E-mails sent"
    sent = data.campaigns.analytics["emails_sent_count"].sum()
    assert table["this_period"][0] == sent
    assert table["previous_period"][0] == data.previous["emails_sent_count"].sum()
    assert str(WINDOW.previous().start) in view.notes["comparison"]


def test_selected_campaigns_only(client: Any, campaigns: pl.DataFrame, data: ExplorerData) -> None:
    ids = _two_with_steps(data)
    state = _state(campaign_ids=tuple(ids))
    picked = load_data(client, campaigns, state)
    view = compute_view(picked, state)
    names = data.scope.names()
    assert set(view.table("ab")["campaign"]) == {names[i] for i in ids}
    contacted = view.sections["overview"].tables["funnel"].filter(pl.col("stage") == "contacted")
    assert contacted["count"].item() == picked.campaigns.analytics["contacted_count"].sum()
    senders = set(campaigns.filter(pl.col("id").is_in(ids))["email_list"].explode())
    assert set(view.table("deliverability")["email"]) <= senders
    with pytest.raises(ValueError, match="another window or selection"):
        compute_view(data, state)


def test_step_filter_and_steps_offered(data: ExplorerData) -> None:
    everything = compute_view(data, _state())
    step = everything.steps_available[0]
    view = compute_view(data, _state(step=step))
    assert view.table("ab")["step"].unique().to_list() == [step]
    assert view.steps_available == everything.steps_available  # options keep every step


def test_metric_drives_the_ab_panel(data: ExplorerData) -> None:
    view = compute_view(data, _state(metric="click"))
    assert view.sections["ab"].tables["all"]["metric"].unique().to_list() == ["click"]
    assert "Click rate" in _spec(view.sections["ab"].charts["chart"])
    assert "click rate" in view.notes["ab"]


def test_account_picker(data: ExplorerData) -> None:
    everything = compute_view(data, _state())
    alerted = everything.sections["deliverability"].tables["alerts"]["email"].to_list()
    one = alerted[0] if alerted else everything.accounts_available[0]
    view = compute_view(data, _state(account=one))
    assert view.table("deliverability")["email"].to_list() == [one]
    assert set(view.sections["deliverability"].tables["alerts"]["email"]) <= {one}
    assert view.accounts_available == everything.accounts_available


def test_alert_list_reads_as_sentences(data: ExplorerData) -> None:
    alerts = compute_view(data, _state()).sections["deliverability"].tables["alerts"]
    assert alerts.height and alerts.columns == ["severity", "email", "message", "date"]
    for message in alerts["message"]:
        assert message.endswith(".") and "_" not in message  # no rule names


def test_per_campaign_trend(client: Any, campaigns: pl.DataFrame, data: ExplorerData) -> None:
    one = data.campaigns.analytics.sort("emails_sent_count", descending=True)["campaign_id"][0]
    state = _state(trend_campaign=one)
    view = compute_view(load_data(client, campaigns, state), state)
    trend = view.table("trend").filter(pl.col("metric") == "reply")
    own = data.campaigns.analytics.filter(pl.col("campaign_id") == one)
    assert trend["denominator"].sum() <= own["emails_sent_count"].sum()
    assert data.scope.names()[one] in view.sections["trend"].notes["trend"]


@pytest.mark.parametrize(("changes", "message"), [
    ({"start_date": WINDOW.end + dt.timedelta(days=1)}, "after the end date"),
    ({"metric": "nope"}, "Unknown metric"),
])
def test_bad_states_are_refused(data: ExplorerData, changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        compute_view(data, _state(**changes))


@pytest.mark.parametrize("metric", EXPLORER_METRICS)
def test_every_offered_metric_works(data: ExplorerData, metric: str) -> None:
    view = compute_view(data, _state(metric=metric))
    assert view.sections["ab"].tables["all"]["metric"].unique().to_list() == [metric]


def test_csv_link_holds_the_table() -> None:
    frame = pl.DataFrame({"campaign": ["a <b>", "c"], "reply_rate": [0.1, None]})
    link = csv_link(frame, "ab numbers")
    encoded = re.search(r"base64,([A-Za-z0-9+/=]+)", link)
    assert encoded and 'download="ab_numbers.csv"' in link
    assert base64.b64decode(encoded.group(1)).decode() == frame.write_csv()


# -- the widget wiring --------------------------------------------------------------------------


def _payload(app: Explorer, panel: str) -> str:
    return json.dumps(app.outputs[panel].outputs)


@pytest.fixture(scope="module")
def app(client: Any) -> Explorer:
    return instantly_nb.explore(client)


def test_explore_draws_chart_and_table_on_every_panel(app: Explorer) -> None:
    assert isinstance(app, ipywidgets.VBox)
    for panel in ("overview", "ab", "deliverability"):
        text = _payload(app, panel)
        assert "vega" in text and "<table" in text and "text/csv;base64" in text, panel
    assert "period comparison" in _payload(app, "overview")
    assert "Alerts" in _payload(app, "deliverability")
    assert app.view is not None and app.view.state.campaign_ids == ()
    assert [v for _label, v in app.step.options] == ["all", *app.view.steps_available]
    assert [v for _label, v in app.account.options] == ["all", *app.view.accounts_available]


def test_account_and_metric_redraw(app: Explorer) -> None:
    assert app.view is not None
    email = app.view.accounts_available[0]
    app.account.value = email
    assert app.view.table("deliverability")["email"].to_list() == [email]
    app.metric.value = "click"
    assert "Click rate" in _payload(app, "ab") and app.account.value == email
    app.account.value, app.metric.value = "all", "reply"


def test_a_bad_date_range_is_reported_and_nothing_redrawn(app: Explorer) -> None:
    drawn = _payload(app, "overview")
    view = app.view
    app.start.value = WINDOW.end + dt.timedelta(days=3)
    assert "after the end date" in app.status.value and "b00020" in app.status.value
    assert _payload(app, "overview") == drawn and app.view is view
    app._say('<img src=x onerror="alert(1)">', error=True)  # API text is escaped
    assert "<img" not in app.status.value and "&lt;img" in app.status.value
    app.start.value = WINDOW.start


def test_changing_dates_fetches_the_new_window(app: Explorer, client: Any) -> None:
    sent = client.requests_sent
    app.end.value = WINDOW.end - dt.timedelta(days=7)
    assert client.requests_sent > sent  # a new window is fetched...
    assert app.view is not None and app.view.state.end_date == WINDOW.end - dt.timedelta(days=7)
    sent = client.requests_sent
    app.end.value = WINDOW.end
    assert client.requests_sent == sent  # ...and a window seen before is not fetched again


def test_svg_charts_are_drawn_offline(client: Any, data: ExplorerData) -> None:
    from instantly_nb.explorer import _bundle

    chart = compute_view(data, _state()).sections["overview"].charts["chart"]
    assert "<svg" in _bundle(chart, "svg")["data"]["image/svg+xml"]
    with pytest.raises(ValueError, match="chart_format"):
        explore(client, chart_format="gif")
