"""The portfolio: one row per client workspace, and the page that shows them.

:func:`load_client` fetches what one client's row needs through that client's own
:class:`~instantly_nb.Client` (the workspace's analytics overview for the window and for the
previous window of the same length, step analytics for A/B verdicts, warmup data for
deliverability alerts);
:func:`client_row` turns it into figures with :mod:`instantly_nb.metrics` (pooled rates with
intervals, changes, alerts, A/B winners). :func:`portfolio_notebook` lays the rows out as the
display bundles of the report machinery (headline, table, alerts), so the portfolio page is
rendered, escaped and made self-contained exactly like every other report.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from .. import metrics
from ..metrics.definitions import RATES
from .mime import MIME_ALERTS, MIME_HEADLINE, MIME_TABLE
from .payloads import alerts_payload, table_payload
from .periods import Window

__all__ = ["ClientData", "client_row", "load_client", "portfolio_notebook", "previous_window",
           "ROW_SCHEMA"]

SENT = "emails_sent_count"
SHOWN = (("reply", "Human reply rate"), ("interested", "Positive-reply rate"),
         ("bounce", "Bounce rate"))
ROW_SCHEMA: dict[str, Any] = {
    "client": pl.String, "id": pl.String, "status": pl.String, "sends": pl.Int64,
    "sends_previous": pl.Int64,
    **{f"{k}_{part}": pl.Float64 for k, _ in SHOWN for part in ("rate", "low", "high", "previous")},
    "reply_change": pl.Float64, "alerts": pl.Int64, "ab_winners": pl.Int64, "report": pl.String,
    "winners": pl.List(pl.String),
}


def previous_window(window: Window) -> tuple[dt.date, dt.date]:
    """The window of the same length that ends the day before ``window`` starts."""
    days = (window.end - window.start).days + 1
    end = window.start - dt.timedelta(days=1)
    return end - dt.timedelta(days=days - 1), end


@dataclass
class ClientData:
    """What one client's portfolio row is computed from (``current``/``previous``: overviews)."""

    current: pl.DataFrame
    previous: pl.DataFrame
    ab: pl.DataFrame
    alerts: pl.DataFrame
    names: dict[str, str] = field(default_factory=dict)
    client: str = ""


def load_client(client: Any, window: Window) -> ClientData:
    """Fetch one client's data for ``window`` through its own client (and throttle)."""
    prev_start, prev_end = previous_window(window)
    current = client.fetch("campaigns.analytics_overview", start_date=window.start,
                           end_date=window.end)
    previous = client.fetch("campaigns.analytics_overview", start_date=prev_start,
                            end_date=prev_end)
    campaigns = client.fetch("campaigns.analytics", start_date=window.start, end_date=window.end)
    ids = campaigns["campaign_id"].drop_nulls().unique().to_list() if campaigns.height else []
    ab = pl.DataFrame()
    if ids:
        steps = client.fetch("campaigns.analytics_steps", campaign_id=ids,
                             start_date=window.start, end_date=window.end)
        ab = metrics.step_variants(steps, by="campaign_id")
    accounts = client.fetch("accounts.list")
    health = metrics.deliverability(client.fetch("accounts.warmup_daily"),
                                    client.fetch("accounts.warmup_summary"), accounts=accounts)
    names = dict(zip(campaigns["campaign_id"].to_list(), campaigns["campaign_name"].to_list(),
                     strict=True)) if campaigns.height else {}
    return ClientData(current, previous, ab, metrics.alerts(health, accounts), names)


def _rate(frame: pl.DataFrame, name: str) -> tuple[float | None, float | None, float | None]:
    if frame.is_empty():
        return None, None, None
    row = metrics.rate(frame, name).row(0, named=True)
    return row["rate"], row["ci_low"], row["ci_high"]


def _sends(frame: pl.DataFrame) -> int:
    return int(frame[SENT].fill_null(0).sum()) if SENT in frame.columns else 0


def winners(data: ClientData) -> list[str]:
    """The A/B winners of the window, as sentences naming campaign, step and variant."""
    if data.ab.is_empty() or "verdict" not in data.ab.columns:
        return []
    won = data.ab.filter(pl.col("verdict") == "winner")
    return [f"{data.names.get(r['campaign_id'], r['campaign_id'])}: step {r['step']} variant "
            f"{r['variant_label']} ({r['lift_rel']:+.0%} on its control)" if r["lift_rel"] is not None
            else f"{data.names.get(r['campaign_id'], r['campaign_id'])}: step {r['step']} variant "
                 f"{r['variant_label']}"
            for r in won.iter_rows(named=True)]


def client_row(entry_id: str, name: str, data: ClientData, report: str) -> dict[str, Any]:
    """One portfolio row: sends, rates with intervals, change, alerts, A/B winners."""
    row: dict[str, Any] = {"client": name, "id": entry_id, "status": "ok",
                           "sends": _sends(data.current), "sends_previous": _sends(data.previous)}
    for key, _label in SHOWN:
        rate, low, high = _rate(data.current, key)
        row.update({f"{key}_rate": rate, f"{key}_low": low, f"{key}_high": high,
                    f"{key}_previous": _rate(data.previous, key)[0]})
    now, before = row["reply_rate"], row["reply_previous"]
    row["reply_change"] = now - before if now is not None and before is not None else None
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


def _figure(key: str, label: str, unit: str, value: Any, previous: Any, noise: bool) -> dict[str, Any]:
    rdef = RATES.get(key)
    return {"key": key, "label": label, "unit": unit, "value": value, "previous": previous,
            "noise": bool(noise), "definition": rdef.definition() if rdef else "Emails sent."}


def _headline(frame: pl.DataFrame, pooled: dict[str, Any], window: Window) -> dict[str, Any]:
    prev_start, prev_end = previous_window(window)
    ok = frame.filter(pl.col("status") == "ok")
    figures = [_figure("sent", "Emails sent, all clients", "count", pooled["sends"],
                       pooled["sends_previous"], pooled["sends_noise"])]
    figures += [_figure(k, f"{label}, all clients", "rate", pooled[f"{k}_rate"],
                        pooled[f"{k}_previous"], pooled[f"{k}_noise"]) for k, label in SHOWN]
    actions = []
    if ok.height:
        best, worst = ok.row(0, named=True), ok.row(ok.height - 1, named=True)
        actions.append(f"Best human reply rate: {best['client']}; lowest: {worst['client']}.")
    failed = frame.filter(pl.col("status") != "ok")
    actions += [f"{r['client']}: no data ({r['status']})." for r in failed.iter_rows(named=True)]
    return {"period": {"start": window.start.isoformat(), "end": window.end.isoformat()},
            "previous": {"start": prev_start.isoformat(), "end": prev_end.isoformat()},
            "figures": figures, "actions": actions, "winners": pooled.get("winners", []),
            "accounts": pooled.get("accounts", [])}


def _counts(frame: pl.DataFrame, name: str) -> tuple[float, float]:
    if frame.is_empty():
        return 0.0, 0.0
    row = metrics.rate(frame, name).row(0, named=True)
    return float(row["numerator"] or 0.0), float(row["denominator"] or 0.0)


def pooled(datas: list[ClientData]) -> dict[str, Any]:
    """All clients' counts pooled (sums of numerators over sums of denominators), whether each
    change is within noise, and the A/B winners and alerted accounts of every client."""
    from scipy import stats as sps

    from ..metrics.stats import compare_2prop

    cur = pl.concat([d.current for d in datas], how="diagonal_relaxed") if datas else pl.DataFrame()
    prev = pl.concat([d.previous for d in datas], how="diagonal_relaxed") if datas else pl.DataFrame()
    now, before = _sends(cur), _sends(prev)
    out: dict[str, Any] = {"sends": now, "sends_previous": before, "sends_noise":
                           now + before == 0 or sps.binomtest(now, now + before, 0.5).pvalue >= 0.05}
    for key, _label in SHOWN:
        out[f"{key}_rate"] = _rate(cur, key)[0]
        out[f"{key}_previous"] = _rate(prev, key)[0]
        (x1, n1), (x2, n2) = _counts(cur, key), _counts(prev, key)
        out[f"{key}_noise"] = not (n1 and n2) or compare_2prop(x1, n1, x2, n2)[1] >= 0.05
    out["winners"] = [w for d in datas for w in winner_items(d)]
    out["accounts"] = [a for d in datas for a in alerted_accounts(d)][:ACCOUNTS_SHOWN]
    return out


ACCOUNTS_SHOWN = 6


def alerted_accounts(data: ClientData) -> list[dict[str, Any]]:
    """One entry per alerted account of the client, its alerts' sentences as reasons."""
    if data.alerts.is_empty():
        return []
    reasons: dict[str, list[str]] = {}
    for r in data.alerts.iter_rows(named=True):
        reasons.setdefault(str(r["email"]), []).append(str(r.get("sentence") or r["message"]))
    return [{"email": f"{data.client}: {email}", "reasons": texts} for email, texts in reasons.items()]


def winner_items(data: ClientData) -> list[dict[str, Any]]:
    """The client's A/B winners in the headline's shape (campaign names carry the client)."""
    if data.ab.is_empty() or "verdict" not in data.ab.columns:
        return []
    won = data.ab.filter(pl.col("verdict") == "winner")
    return [{"campaign": f"{data.client}: {data.names.get(r['campaign_id'], r['campaign_id'])}",
             "step": r["step"], "variant": r["variant_label"], "lift": r["lift_rel"]}
            for r in won.iter_rows(named=True)]


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
