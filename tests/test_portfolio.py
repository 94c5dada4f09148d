"""The portfolio shows each client the figures of that client's own report: one definition per
figure (views.summary over the same window, with the same A/B settings and alert rules)."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from instantly_nb import Client, metrics, views
from instantly_nb.demo import DemoServer, Limits
from instantly_nb.report.periods import Window
from instantly_nb.report.portfolio import client_row, load_client, pooled, rank

WINDOW = Window(dt.date(2026, 1, 1), dt.date(2026, 1, 30))


@pytest.fixture(scope="module")
def server():
    with DemoServer(size="tiny", today="2026-01-31", limits=Limits(enabled=False)) as srv:
        yield srv


@pytest.fixture(scope="module")
def clients(server):
    made = {wid: Client(api_key=f"demo-key-{wid}", base_url=server.url, **server.client_pacing())
            for wid in ("pfalpha", "pfbeta")}
    yield made
    for c in made.values():
        c.close()


def own_report(client):
    """What the client's own summary notebook computes (its code, with the report's window)."""
    scope = views.load_scope(client, WINDOW.start.isoformat(), WINDOW.end.isoformat(), [],
                             demo=True)
    data = views.summary.load(scope)
    return data, views.summary.view(data, views.SummaryParams())


@pytest.fixture(scope="module")
def loaded(clients):
    """Per client: (its own report's data and summary section, the portfolio's ClientData)."""
    return {wid: (*own_report(c), load_client(c, WINDOW, demo=True)) for wid, c in clients.items()}


def test_each_portfolio_row_equals_the_clients_own_report(loaded):
    for wid, (data, section, portfolio_data) in loaded.items():
        figures = {f["key"]: f for f in section.headline["figures"]}
        row = client_row(wid, wid, portfolio_data, "r.html")
        assert row["sends"] == figures["sends"]["value"] > 0
        assert row["sends"] == int(data.current["emails_sent_count"].sum())
        for key, figure in (("reply", "reply_rate"), ("interested", "positive_rate"),
                            ("bounce", "bounce_rate")):
            assert row[f"{key}_rate"] == pytest.approx(figures[figure]["value"])
            assert row[f"{key}_previous"] == pytest.approx(figures[figure]["previous"])
            assert row[f"{key}_low"] <= row[f"{key}_rate"] <= row[f"{key}_high"]
        # the human reply rate is the documented one: human replies / leads contacted
        assert row["reply_rate"] == pytest.approx(metrics.rate(data.current, "reply")["rate"][0])
        assert row["alerts"] == section.alerts.height
        won = section.headline["winners"]
        assert row["ab_winners"] == len(won)
        assert all(any(w["campaign"] in text and f"variant {w['variant']}" in text
                       for text in row["winners"]) for w in won)


def test_ab_winners_use_the_shared_ab_settings(loaded):
    for wid, (data, _section, portfolio_data) in loaded.items():
        again = metrics.step_variants(data.ab.steps, by="campaign_id",
                                      settings=metrics.AB_DEFAULTS, looks="as_of")
        row = client_row(wid, wid, portfolio_data, "r.html")
        assert row["ab_winners"] == again.filter(pl.col("verdict") == "winner").height
        # every verdict, not only the winners, is the one the shared settings give
        assert sorted(portfolio_data.ab["verdict"].to_list()) == sorted(again["verdict"].to_list())
        assert again.height > 0


def test_all_clients_figures_pool_counts_not_rates(clients, loaded):
    datas = [d for _data, _section, d in loaded.values()]
    totals = {f["key"]: f for f in pooled(datas)["figures"]}
    both = pl.concat([d.current for d in datas], how="diagonal_relaxed")
    assert totals["sends"]["value"] == sum(int(d.current["emails_sent_count"].sum()) for d in datas)
    assert totals["reply_rate"]["value"] == pytest.approx(metrics.rate(both, "reply")["rate"][0])
    frame = rank([client_row(w, w, d, "") for w, d in zip(clients, datas, strict=True)])
    assert frame["reply_rate"].is_sorted(descending=True)
