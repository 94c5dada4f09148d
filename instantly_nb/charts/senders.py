"""Sender charts: warmup inbox placement and health over time, and the alert grid."""

from __future__ import annotations

import altair as alt
import polars as pl

from instantly_nb.charts._base import (
    SEVERITIES,
    SEVERITY_COLORS,
    date_x,
    finish,
    first_value,
    inline_data,
    num,
    pct,
    require_columns,
    title,
)

MAX_ACCOUNTS = 10


def _worst_accounts(df: pl.DataFrame, max_accounts: int) -> tuple[pl.DataFrame, str]:
    latest = (df.sort("date").group_by("email").agg(pl.col("window_inbox_rate").drop_nulls()
                                                    .last().alias("_last")))
    if latest.height <= max_accounts:
        return df, ""
    keep = latest.sort("_last", nulls_last=True).head(max_accounts)["email"]
    note = (f"Showing the {max_accounts} of {latest.height} accounts with the lowest latest "
            "window inbox rate.")
    return df.filter(pl.col("email").is_in(keep.implode())), note


def deliverability(
    tidy: pl.DataFrame, *, max_accounts: int = MAX_ACCOUNTS, themed: bool = True
) -> alt.TopLevelMixin:
    """Two stacked panels per account over time: window inbox rate, then health.

    Parameters
    ----------
    tidy : pl.DataFrame
        Output of :func:`instantly_nb.metrics.deliverability`.
    max_accounts : int
        Most accounts drawn; the worst by latest window inbox rate are kept.
    themed : bool
        Attach the package theme.

    Returns
    -------
    altair.VConcatChart
        Top: trailing-window inbox rate (line) and daily inbox rate (points), one color per
        account. Bottom: health estimate (line) and the API health score (points).
    """
    require_columns(tidy, ["email", "date", "landed_inbox", "landed_spam", "inbox_rate",
                           "window_inbox_rate", "window_inbox", "window_spam", "health_score",
                           "health_estimate", "health_change"], "charts.deliverability")
    df, note = _worst_accounts(tidy, max_accounts)
    window = int(first_value(tidy, "window_days", 7))
    data = inline_data(df, ["email", "date", "landed_inbox", "landed_spam", "inbox_rate",
                            "window_inbox_rate", "window_inbox", "window_spam", "health_score",
                            "health_estimate", "health_change"])
    x = date_x()
    color = alt.Color("email:N", title="Account")
    tips = [alt.Tooltip("email:N", title="Account"),
            alt.Tooltip("date:T", timeUnit="utcyearmonthdate", title="Date"),
            num("landed_inbox", "Inbox (day)"), num("landed_spam", "Spam (day)"),
            pct("inbox_rate", "Inbox rate (day)"), num("window_inbox", f"Inbox ({window} d)"),
            num("window_spam", f"Spam ({window} d)"),
            pct("window_inbox_rate", f"Inbox rate ({window} d)"),
            num("health_score", "Health score (API)", ".0f"),
            num("health_estimate", "Health estimate", ".1f"),
            num("health_change", f"Health change ({window} d fit)", "+.1f")]
    inbox_y = alt.Y("window_inbox_rate:Q", title=f"Inbox rate ({window}-day)",
                    axis=alt.Axis(format="%"))
    top = alt.layer(
        alt.Chart().mark_line().encode(x=x, y=inbox_y, color=color, tooltip=tips),
        alt.Chart().mark_point(opacity=0.5).encode(x=x, y=alt.Y("inbox_rate:Q"), color=color,
                                                    tooltip=tips),
    ).properties(height=220)
    health_y = alt.Y("health_estimate:Q", title="Health (points)", scale=alt.Scale(zero=False))
    bottom = alt.layer(
        alt.Chart().mark_line(strokeDash=[2, 2]).encode(x=x, y=health_y, color=color,
                                                        tooltip=tips),
        alt.Chart().mark_point(filled=True, shape="diamond", size=90).encode(
            x=x, y=alt.Y("health_score:Q"), color=color, tooltip=tips),
    ).properties(height=160)
    chart = alt.vconcat(top, bottom, data=data).properties(title=title(
        "Warmup deliverability",
        [f"Inbox rate = landed in inbox / (inbox + spam), pooled over {window} days (line) "
         "and per day (dots).",
         "Health: dashed = 100 x window inbox rate (estimate); diamonds = API health score.",
         note]))
    return finish(chart, themed)


def alerts(tidy: pl.DataFrame, *, themed: bool = True) -> alt.TopLevelMixin:
    """Grid of accounts x rules, colored by severity, with the message as tooltip.

    Parameters
    ----------
    tidy : pl.DataFrame
        Output of :func:`instantly_nb.metrics.alerts`.
    themed : bool
        Attach the package theme.
    """
    require_columns(tidy, ["email", "rule", "severity", "value", "threshold", "date",
                           "message"], "charts.alerts")
    data = inline_data(tidy, ["email", "rule", "severity", "value", "threshold", "date",
                              "message"])
    chart = alt.Chart(data).mark_rect(stroke="white").encode(
        x=alt.X("rule:N", title="Rule", axis=alt.Axis(labelAngle=-30)),
        y=alt.Y("email:N", title="Account"),
        color=alt.Color("severity:N", title="Severity",
                        scale=alt.Scale(domain=SEVERITIES, range=SEVERITY_COLORS)),
        tooltip=[alt.Tooltip("email:N", title="Account"), alt.Tooltip("rule:N", title="Rule"),
                 alt.Tooltip("severity:N", title="Severity"),
                 num("value", "Value", ".4g"), num("threshold", "Threshold", ".4g"),
                 alt.Tooltip("date:T", timeUnit="utcyearmonthdate", title="Date"),
                 alt.Tooltip("message:N", title="Message")],
    ).properties(title=title("Deliverability alerts", [f"{tidy.height} alert(s)."]))
    return finish(chart, themed)
