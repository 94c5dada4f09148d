"""The portfolio: one row per client workspace, and the page that shows them.

One definition per figure: :func:`load_client` reads a client exactly as that client's own
report does -- :func:`instantly_nb.views.load_scope` over the report's window, then
:func:`instantly_nb.views.summary.load` and :func:`~instantly_nb.views.summary.view` with the
same parameter defaults (so the same A/B settings, ``metrics.AB_DEFAULTS``, and the same alert
rules) -- and :func:`client_row` takes the row's sends, human and positive reply rates, bounce
rate, alerts and A/B winners from that headline. The all-clients figures are
:func:`instantly_nb.views.summary.figures` of every client's analytics pooled (numerators and
denominators summed). :func:`portfolio_notebook` lays the rows out as the display bundles of
the report machinery (headline, table, alerts), so the portfolio page is rendered, escaped and
made self-contained exactly like every other report.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from .. import metrics, views
from ..views.summary import SummaryParams
from .mime import MIME_ALERTS, MIME_HEADLINE, MIME_TABLE
from .payloads import alerts_payload, table_payload
from .periods import Window

__all__ = ["ClientData", "client_row", "load_client", "portfolio_notebook", "previous_window",
           "ROW_SCHEMA"]

#: (portfolio column prefix, figure key of views.summary, rate name of metrics.definitions)
SHOWN = (("reply", "reply_rate", "reply"), ("interested", "positive_rate", "interested"),
         ("bounce", "bounce_rate", "bounce"))
LABELS = {"reply": "Human reply rate", "interested": "Positive-reply rate",
          "bounce": "Bounce rate"}
ROW_SCHEMA: dict[str, Any] = {
    "client": pl.String, "id": pl.String, "status": pl.String, "sends": pl.Int64,
    "sends_previous": pl.Int64,
    **{f"{k}_{part}": pl.Float64 for k, _f, _r in SHOWN
       for part in ("rate", "low", "high", "previous")},
    "reply_change": pl.Float64, "alerts": pl.Int64, "ab_winners": pl.Int64, "report": pl.String,
    "winners": pl.List(pl.String),
}


def previous_window(window: Window) -> tuple[dt.date, dt.date]:
    """The window of the same length that ends the day before ``window`` starts."""
    before = window.previous()
    return before.start, before.end


@dataclass
class ClientData:
    """One client as its own report sees it: the summary view's headline, its alerts and A/B
    verdicts, and the analytics overviews of the window and the previous one (for pooling)."""

    headline: dict[str, Any]
    current: pl.DataFrame
    previous: pl.DataFrame
    alerts: pl.DataFrame
    ab: pl.DataFrame = field(default_factory=pl.DataFrame)
    client: str = ""


def load_client(client: Any, window: Window, *, demo: bool = False,
                params: SummaryParams | None = None) -> ClientData:
    """Read one client through its own client (and throttle) the way its report does."""
    scope = views.load_scope(client, window.start, window.end, [], demo=demo)
    data = views.summary.load(scope)
    section = views.summary.view(data, params or SummaryParams())
    alerts = section.alerts if section.alerts is not None else pl.DataFrame()
    return ClientData(section.headline or {}, data.current, data.previous, alerts,
                      section.tables["ab"])


def _figures(data: ClientData) -> dict[str, dict[str, Any]]:
    return {f["key"]: f for f in data.headline.get("figures", [])}


def _interval(frame: pl.DataFrame, name: str) -> tuple[float | None, float | None]:
    """The 95 % interval of the rate the headline shows (same frame, same definition)."""
    if frame.is_empty():
        return None, None
    row = metrics.rate(frame, name).row(0, named=True)
    return row["ci_low"], row["ci_high"]


def winners(data: ClientData) -> list[str]:
    """The client's A/B winners (``views.summary.winners``) as sentences."""
    return [f"{w['campaign']}: step {w['step']} variant {w['variant']}"
            + (f" ({w['lift']:+.0%} on its control)" if w.get("lift") is not None else "")
            for w in data.headline.get("winners", [])]


def client_row(entry_id: str, name: str, data: ClientData, report: str) -> dict[str, Any]:
    """One portfolio row: the figures of the client's own headline, with intervals."""
    figs = _figures(data)
    sends = figs.get("sends", {})
    row: dict[str, Any] = {"client": name, "id": entry_id, "status": "ok",
                           "sends": sends.get("value", 0), "sends_previous": sends.get("previous")}
    for key, figure, rate in SHOWN:
        fig = figs.get(figure, {})
        low, high = _interval(data.current, rate) if fig else (None, None)
        row.update({f"{key}_rate": fig.get("value"), f"{key}_low": low, f"{key}_high": high,
                    f"{key}_previous": fig.get("previous")})
    row["reply_change"] = figs.get("reply_rate", {}).get("change")
    won = winners(data)
    row.update({"alerts": data.alerts.height, "ab_winners": len(won), "report": report,
                "winners": won})
    return row


def failed_row(entry_id: str, name: str, status: str) -> dict[str, Any]:
    """The row of a client whose data could not be read (its reason in ``status``)."""
    return {"client": name, "id": entry_id, "status": status, "report": "", "winners": []}


def rank(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """Rows as a frame, best human reply rate first, worst last, failed clients at the end."""
    frame = pl.DataFrame(rows, schema=ROW_SCHEMA, orient="row") if rows else pl.DataFrame(
        schema=ROW_SCHEMA)
    return frame.sort([pl.col("status") != "ok", pl.col("reply_rate")],
                      descending=[False, True], nulls_last=True)


def _headline(frame: pl.DataFrame, totals: dict[str, Any], window: Window) -> dict[str, Any]:
    prev_start, prev_end = previous_window(window)
    ok = frame.filter(pl.col("status") == "ok")
    figures = [{**f, "label": f"{f['label']}, all clients"} for f in totals["figures"]]
    actions = []
    if ok.height:
        best, worst = ok.row(0, named=True), ok.row(ok.height - 1, named=True)
        actions.append(f"Best human reply rate: {best['client']}; lowest: {worst['client']}.")
    failed = frame.filter(pl.col("status") != "ok")
    actions += [f"{r['client']}: no data ({r['status']})." for r in failed.iter_rows(named=True)]
    return {"period": {"start": window.start.isoformat(), "end": window.end.isoformat()},
            "previous": {"start": prev_start.isoformat(), "end": prev_end.isoformat()},
            "figures": figures, "actions": actions, "winners": totals.get("winners", []),
            "accounts": totals.get("accounts", [])}


def pooled(datas: list[ClientData], params: SummaryParams | None = None) -> dict[str, Any]:
    """All clients' figures (``views.summary.figures`` of the pooled analytics: sums of
    numerators over sums of denominators, each change tested against noise), and the A/B
    winners and alerted accounts of every client."""
    cur = pl.concat([d.current for d in datas], how="diagonal_relaxed") if datas else pl.DataFrame()
    prev = pl.concat([d.previous for d in datas], how="diagonal_relaxed") if datas else pl.DataFrame()
    shown = {"sends"} | {figure for _k, figure, _r in SHOWN}
    alpha = (params or SummaryParams()).noise_alpha
    figures = [f for f in views.summary.figures(cur, prev, alpha) if f["key"] in shown]
    return {"figures": figures,
            "winners": [w for d in datas for w in winner_items(d)],
            "accounts": [a for d in datas for a in alerted_accounts(d)][:ACCOUNTS_SHOWN]}


ACCOUNTS_SHOWN = 6


def alerted_accounts(data: ClientData) -> list[dict[str, Any]]:
    """One entry per alerted account of the client (``views.summary.account_reasons``)."""
    return [{"email": f"{data.client}: {a['email']}", "reasons": a["reasons"]}
            for a in views.summary.account_reasons(data.alerts)]


def winner_items(data: ClientData) -> list[dict[str, Any]]:
    """The client's A/B winners in the headline's shape (campaign names carry the client)."""
    return [{**w, "campaign": f"{data.client}: {w['campaign']}"}
            for w in data.headline.get("winners", [])]


def _display(data: dict[str, Any], text: str) -> dict[str, Any]:
    return {"output_type": "display_data", "metadata": {}, "data": {**data, "text/plain": text}}


def portfolio_notebook(frame: pl.DataFrame, totals: dict[str, Any], window: Window) -> dict[str, Any]:
    """The portfolio as a notebook of report display bundles (rendered by ``render_report``)."""
    from .headline import headline_payload

    table = frame.with_columns(pl.col("winners").list.join("; ")).select(
        "client", "sends", "reply_rate", "reply_low", "reply_high", "reply_change",
        "interested_rate", "interested_low", "interested_high", "bounce_rate", "alerts",
        "ab_winners", "status", "report", "winners")
    payload = table_payload(
        table, title="Clients, best human reply rate first",
        caption="Rates pool every campaign of the client over the window; intervals are 95 %. "
                "Change is against the previous window of the same length.",
        formats={"reply_rate": "percent", "interested_rate": "percent", "bounce_rate": "percent",
                 "reply_change": "delta", "sends": "int", "alerts": "int", "ab_winners": "int"},
        labels={"client": "Client", "sends": "Emails sent", "reply_rate": "Reply rate",
                "reply_change": "Reply rate change", "interested_rate": "Positive-reply rate",
                "bounce_rate": "Bounce rate", "alerts": "Open alerts", "ab_winners": "A/B winners",
                "status": "Status", "report": "Client report", "winners": "Winning variants"},
        ci={"reply_rate": ("reply_low", "reply_high"),
            "interested_rate": ("interested_low", "interested_high")},
        filename="portfolio", detail=("winners", "report"))
    failed = frame.filter(pl.col("status") != "ok")
    alerts = alerts_payload([{"severity": "critical", "message": f"{r['client']}: {r['status']}"}
                             for r in failed.iter_rows(named=True)], title="Clients without data")
    outputs = [_display({MIME_HEADLINE: headline_payload(_headline(frame, totals, window))},
                        "Portfolio headline"),
               _display({MIME_TABLE: payload}, f"{frame.height} clients")]
    if failed.height:
        outputs.append(_display({MIME_ALERTS: alerts}, f"{failed.height} clients without data"))
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "markdown", "metadata": {}, "source": "# Portfolio"},
        {"cell_type": "code", "metadata": {}, "source": "", "execution_count": 1,
         "outputs": outputs}]}
