"""The headline: the period's key figures against the previous period, winners, accounts to fix
and a few plain-language lines on what to do.

:func:`headline` is pure: it takes the campaign analytics of the period and of the previous
period of the same length, the A/B section and the deliverability alerts, and returns the dict
``instantly_nb.report.display.headline`` renders (shape in the module's ``HEADLINE_KEYS``).
A change counts as more than noise when a two-sided test at ``alpha`` rejects "no change": the
two-proportion test for rates, the conditional binomial test (equal-length periods) for counts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import polars as pl
from scipy import stats as sps

from .. import metrics
from ..metrics.definitions import RATES
from ..metrics.stats import compare_2prop
from ..report.periods import Window
from .deliverability import reason

__all__ = ["HEADLINE_KEYS", "SummaryParams", "account_reasons", "actions", "figures",
           "headline", "winners"]

HEADLINE_KEYS = ("period", "previous", "figures", "winners", "accounts", "actions")
SENT = "emails_sent_count"


@dataclass(frozen=True)
class SummaryParams:
    """Parameters of the headline.

    Attributes
    ----------
    noise_alpha : float
        A change is called more than noise when its test's p-value is below this.
    max_actions : int
        At most this many "what to do" lines.
    """

    noise_alpha: float = 0.05
    max_actions: int = 5


def _sum(frame: pl.DataFrame, column: str) -> float:
    return float(frame[column].fill_null(0).sum()) if column in frame.columns else 0.0


def _rate(frame: pl.DataFrame, name: str) -> dict[str, Any] | None:
    rdef = RATES.get(name)
    if rdef is None or frame.is_empty() or not any(c in frame.columns for c in rdef.numerators):
        return None
    row = metrics.rate(frame, name).row(0, named=True)
    return {"rate": row["rate"], "x": row["numerator"] or 0.0, "n": row["denominator"] or 0.0,
            "label": rdef.label, "definition": rdef.definition()}


def _count_p(now: float, before: float) -> float:
    """Two-sided p-value that two equal-length periods have the same event rate."""
    total = int(round(now + before))
    if total == 0:
        return 1.0
    return float(sps.binomtest(int(round(now)), total, 0.5).pvalue)


def _count_figure(key: str, label: str, now: float, before: float, alpha: float,
                  definition: str) -> dict[str, Any]:
    return {"key": key, "label": label, "value": int(now), "unit": "count",
            "previous": int(before), "change": int(now - before), "noise": _count_p(now, before) >= alpha, "definition": definition}


def _rate_figure(key: str, now: dict[str, Any] | None, before: dict[str, Any] | None,
                 alpha: float) -> dict[str, Any] | None:
    if now is None:
        return None
    value = now["rate"]
    prev = before["rate"] if before else None
    change = value - prev if value is not None and prev is not None else None
    noise = True
    if change is not None and before and now["n"] > 0 and before["n"] > 0:
        noise = compare_2prop(now["x"], now["n"], before["x"], before["n"])[1] >= alpha
    return {"key": key, "label": now["label"], "value": value, "unit": "rate",
            "previous": prev, "change": change, "noise": bool(noise),
            "definition": now["definition"]}


def figures(current: pl.DataFrame, previous: pl.DataFrame,
            alpha: float = 0.05) -> list[dict[str, Any]]:
    """Sends, reply rate, positive reply rate, opportunities and bounce rate, with change."""
    out = [_count_figure("sends", "E-mails sent", _sum(current, SENT), _sum(previous, SENT),
                         alpha, "E-mails sent by every campaign in scope during the period.")]
    for key, name in (("reply_rate", "reply"), ("positive_rate", "interested")):
        fig = _rate_figure(key, _rate(current, name), _rate(previous, name), alpha)
        if fig is not None:
            out.append(fig)
    out.append(_count_figure("opportunities", "Opportunities",
                             _sum(current, "total_opportunities"),
                             _sum(previous, "total_opportunities"), alpha,
                             "Leads marked as opportunities during the period."))
    fig = _rate_figure("bounce_rate", _rate(current, "bounce"), _rate(previous, "bounce"), alpha)
    if fig is not None:
        out.append(fig)
    return out


def winners(ab: pl.DataFrame) -> list[dict[str, Any]]:
    """Variants the A/B test declared winners, with their copy and lift."""
    if ab.is_empty() or "verdict" not in ab.columns:
        return []
    rows = ab.filter(pl.col("verdict") == "winner").sort("campaign", "step", "variant")
    return [{"campaign": r.get("campaign"), "step": r["step"], "variant": r["variant_label"],
             "subject": r.get("subject"), "lift": r["lift_rel"]}
            for r in rows.iter_rows(named=True)]


def _pct(value: Any) -> str:
    return f"{float(value):.1%}" if value is not None and not math.isnan(float(value)) else "?"


def account_reasons(alerts: pl.DataFrame | None) -> list[dict[str, Any]]:
    """One entry per account with alerts: its e-mail, worst severity and reasons as sentences."""
    if alerts is None or alerts.is_empty():
        return []
    order = {"critical": 0, "warning": 1, "info": 2}
    out = []
    for (email,), rows in alerts.group_by("email", maintain_order=True):
        items = sorted(rows.iter_rows(named=True), key=lambda r: order.get(r["severity"], 9))
        out.append({"email": email, "severity": items[0]["severity"],
                    "reasons": [reason(r) for r in items]})
    out.sort(key=lambda a: (order.get(a["severity"], 9), a["email"]))
    return out


def _change_line(fig: dict[str, Any]) -> str | None:
    if fig["noise"] or fig["change"] is None:
        return None
    up = fig["change"] > 0
    if fig["unit"] == "rate":
        moved = f"from {_pct(fig['previous'])} to {_pct(fig['value'])}"
    else:
        moved = f"from {fig['previous']:,.0f} to {fig['value']:,.0f}"
    good = up != (fig["key"] == "bounce_rate")
    advice = ("keep what changed and apply it to other campaigns" if good
              else "look at what changed (copy, lead lists, sending accounts)")
    return f"{fig['label']} {'rose' if up else 'fell'} {moved}, more than chance explains: {advice}."


def actions(figs: list[dict[str, Any]], wins: list[dict[str, Any]],
            accounts: list[dict[str, Any]], undecided: int,
            max_lines: int = 5) -> list[str]:
    """Three to five plain-language lines derived from the figures."""
    lines = []
    critical = [a["email"] for a in accounts if a["severity"] == "critical"]
    if critical:
        lines.append(f"Fix {len(critical)} sending account(s) with a critical problem first: "
                     f"{', '.join(critical[:3])}{' and more' if len(critical) > 3 else ''}.")
    for w in wins[:2]:
        subject = f" (“{w['subject']}”)" if w.get("subject") else ""
        lines.append(f"Make variant {w['variant']}{subject} the only one in step {w['step']} of "
                     f"{w['campaign']}: it wins its test.")
    if len(wins) > 2:
        lines.append(f"{len(wins) - 2} more A/B winner(s) are listed in the A/B section.")
    lines += [line for fig in figs if (line := _change_line(fig))]
    others = len(accounts) - len(critical)
    if others:
        lines.append(f"Check {others} more sending account(s) listed below with warnings.")
    if undecided:
        lines.append(f"Keep {undecided} undecided A/B test(s) running: they need more sends "
                     "before a winner can be called.")
    if len(lines) < 3:
        lines.append("No figure moved by more than normal week-to-week variation.")
    if len(lines) < 3:
        lines.append("No sending account needs action." if not accounts else
                     "Review the accounts listed below.")
    return lines[:max_lines]


def headline(period: Window, current: pl.DataFrame, previous: pl.DataFrame,
             ab: pl.DataFrame, alerts: pl.DataFrame | None,
             params: SummaryParams = SummaryParams()) -> dict[str, Any]:
    """The headline dict of the period (see the module docstring)."""
    before = period.previous()
    figs = figures(current, previous, params.noise_alpha)
    wins = winners(ab)
    accounts = account_reasons(alerts)
    undecided = 0
    if not ab.is_empty() and "verdict" in ab.columns:
        undecided = ab.filter(pl.col("verdict") == "not enough data")["variant_label"].len()
    return {
        "period": {"start": period.start.isoformat(), "end": period.end.isoformat()},
        "previous": {"start": before.start.isoformat(), "end": before.end.isoformat()},
        "figures": figs,
        "winners": wins,
        "accounts": [{"email": a["email"], "reasons": a["reasons"]} for a in accounts],
        "actions": actions(figs, wins, accounts, undecided, params.max_actions),
    }


@dataclass
class SummaryData:
    """Everything the headline needs: this period's and the previous period's analytics
    overview, the A/B data over the tests' life and the deliverability data."""

    window: Window
    current: pl.DataFrame
    previous: pl.DataFrame
    ab: Any
    deliverability: Any


def load_overview(scope: Any) -> pl.DataFrame:
    """``campaigns.analytics_overview`` of the scope's selection and window (one row: it has the
    positive replies, ``total_interested``, that per-campaign analytics lack)."""
    return scope.client.campaigns.analytics_overview(ids=scope.campaign_ids or None,
                                                     **scope.dates)


def load(scope: Any, ab_params: Any = None, deliverability_params: Any = None) -> SummaryData:
    """Fetch the headline's data for ``scope`` (the previous period has the same length)."""
    from . import ab as ab_view
    from . import deliverability as dv

    return SummaryData(scope.window, load_overview(scope),
                       load_overview(scope.at(scope.window.previous())),
                       ab_view.load(scope, ab_params or ab_view.ABParams()),
                       dv.load(scope, deliverability_params or dv.DeliverabilityParams()))


def view(data: SummaryData, params: SummaryParams = SummaryParams(), *,
         ab_params: Any = None, deliverability_params: Any = None) -> Any:
    """The summary section: the headline dict, the alerts and the A/B verdicts it rests on."""
    from . import ab as ab_view
    from . import deliverability as dv
    from .section import Section

    ab = ab_view.view(data.ab, ab_params or ab_view.ABParams())
    health = dv.view(data.deliverability, deliverability_params or dv.DeliverabilityParams())
    head = headline(data.window, data.current, data.previous, ab.tables["all"], health.alerts,
                    params)
    return Section("Summary", tables={"ab": ab.tables["all"]}, alerts=health.alerts,
                   notes={"ab_period": ab.notes["period"]}, period=data.window.text(),
                   headline=head)
