"""Sender charts: warmup inbox placement and health over time, and the alert grid."""

from __future__ import annotations

from typing import Any

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

MAX_ACCOUNTS = 5
PANEL_WIDTH = 760


def _worst(df: pl.DataFrame, max_accounts: int) -> list[str]:
    """The accounts with the lowest latest window inbox rate (at most ``max_accounts``)."""
    latest = (df.sort("date").group_by("email").agg(pl.col("window_inbox_rate").drop_nulls()
                                                    .last().alias("_last")))
    ranked = latest.sort(["_last", "email"], nulls_last=True)
    return ranked.head(max_accounts)["email"].to_list()


def _band(df: pl.DataFrame, field: str) -> pl.DataFrame:
    """Per date: the lowest, median and highest value of ``field`` over every account."""
    return (df.filter(pl.col(field).is_not_null()).group_by("date")
            .agg(pl.col(field).min().alias("low"), pl.col(field).median().alias("mid"),
                 pl.col(field).max().alias("high"), pl.len().alias("accounts")).sort("date"))


def _panel(df: pl.DataFrame, worst: list[str], field: str, axis: alt.Axis, height: int,
           tips: list[alt.Tooltip]) -> Any:
    x = date_x(axis_title=None)
    band = _band(df, field)
    all_tips = [alt.Tooltip("date:T", timeUnit="utcyearmonthdate", title="Date"),
                alt.Tooltip("low:Q", title="Lowest", format=axis.format or ".1f"),
                alt.Tooltip("mid:Q", title="Median", format=axis.format or ".1f"),
                alt.Tooltip("high:Q", title="Highest", format=axis.format or ".1f"),
                num("accounts", "Accounts")]
    band_data = inline_data(band, ["date", "low", "mid", "high", "accounts"])
    y = alt.Y("low:Q", title=axis.title, axis=axis, scale=alt.Scale(zero=False, nice=False))
    area = alt.Chart(band_data).mark_area(color="#9aa5b8", opacity=0.25).encode(
        x=x, y=y, y2="high:Q", tooltip=all_tips)
    median = alt.Chart(band_data).mark_line(color="#9aa5b8", strokeWidth=1.5).encode(
        x=x, y=alt.Y("mid:Q"), tooltip=all_tips)
    worst_rows = df.filter(pl.col("email").is_in(worst) & pl.col(field).is_not_null())
    lines = alt.Chart(inline_data(worst_rows, WORST_COLUMNS)).mark_line(point=True).encode(
        x=x, y=alt.Y(f"{field}:Q"),
        color=alt.Color("email:N", title="Lowest accounts", sort=worst,
                        legend=alt.Legend(orient="bottom", columns=1, labelLimit=300)),
        tooltip=tips)
    return alt.layer(area, median, lines).properties(height=height, width=PANEL_WIDTH)


WORST_COLUMNS = ["email", "date", "landed_inbox", "landed_spam", "inbox_rate",
                 "window_inbox_rate", "window_inbox", "window_spam", "health_score",
                 "health_estimate", "health_change"]


def deliverability(
    tidy: pl.DataFrame, *, max_accounts: int = MAX_ACCOUNTS, themed: bool = True
) -> alt.TopLevelMixin:
    """Warmup inbox rate over time: the weakest accounts drawn against a faint band of all.

    Parameters
    ----------
    tidy : pl.DataFrame
        Output of :func:`instantly_nb.metrics.deliverability` (only the dates to draw).
    max_accounts : int
        Accounts drawn as lines: those with the lowest latest window inbox rate.
    themed : bool
        Attach the package theme.

    Returns
    -------
    altair.LayerChart or altair.VConcatChart
        The trailing-window inbox rate: a grey band from the lowest to the highest account of
        each day with the median as a grey line, and one colored line per weakest account.
        When the API's health score is present on two days or more, a second panel draws it
        the same way. The
        date axis starts and ends with the data.
    """
    require_columns(tidy, WORST_COLUMNS, "charts.deliverability")
    window = int(first_value(tidy, "window_days", 7))
    worst = _worst(tidy, max_accounts)
    accounts = tidy["email"].n_unique()
    tips = [alt.Tooltip("email:N", title="Account"),
            alt.Tooltip("date:T", timeUnit="utcyearmonthdate", title="Date"),
            num("landed_inbox", "Inbox (day)"), num("landed_spam", "Spam (day)"),
            num("window_inbox", f"Inbox ({window} d)"), num("window_spam", f"Spam ({window} d)"),
            pct("window_inbox_rate", f"Inbox rate ({window} d)"),
            num("health_score", "Health score", ".0f")]
    inbox = _panel(tidy, worst, "window_inbox_rate",
                   alt.Axis(format="%", title=f"Inbox rate ({window}-day)", tickCount=5),
                   220, tips)
    chart: alt.TopLevelMixin = inbox
    scored_days = tidy.filter(pl.col("health_score").is_not_null())["date"].n_unique()
    if scored_days >= 2:  # the API's score is often today's only: one day is no trend
        health = _panel(tidy, worst, "health_score",
                        alt.Axis(format=".0f", title="Health score", tickCount=4), 140, tips)
        chart = alt.vconcat(inbox, health)
    subtitle = [
        f"Inbox rate = warmup mail in the inbox / (inbox + spam) over the last {window} days.",
        f"Grey band: lowest to highest of all {accounts} accounts (line: median); colored: "
        f"the {len(worst)} with the lowest latest inbox rate.",
    ]
    chart = chart.properties(title=title("Warmup deliverability", subtitle))
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
