"""Shared chart plumbing: the theme, inline data preparation, titles and date encodings.

Data go into the spec inline (``alt.Data(values=...)``) after selecting only the encoded
columns: dates become ISO ``YYYY-MM-DD`` strings (read by Vega as UTC midnight and shown with
``utc`` time units, so no viewer sees a day shift), NaN becomes null, and anything that is not a
plain scalar (lists, structs, durations) is refused before it can break serialisation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import altair as alt
import polars as pl

MAX_ROWS = 5000
THEME_NAME = "instantly_nb"
FONT = "Helvetica Neue, Helvetica, Arial, sans-serif"
PALETTE = ["#3366cc", "#e4572e", "#17a398", "#f3a712", "#8e6bbf", "#6c757d", "#d63384",
           "#2b9348", "#a0522d", "#20c997"]
VERDICTS = ["winner", "loser", "no significant difference", "not enough data", "control"]
VERDICT_COLORS = ["#2b9348", "#d62828", "#6c757d", "#f3a712", "#3366cc"]
VERDICT_SHAPES = ["triangle-up", "triangle-down", "circle", "diamond", "square"]
SEVERITIES = ["critical", "warning", "info"]
SEVERITY_COLORS = ["#d62828", "#f3a712", "#3366cc"]

THEME_CONFIG: dict[str, Any] = {
    "font": FONT,
    "background": "white",
    "view": {"continuousWidth": 720, "continuousHeight": 260, "stroke": None},
    "title": {"fontSize": 15, "anchor": "start", "subtitleFontSize": 11,
              "subtitleColor": "#555555", "offset": 10},
    "axis": {"labelFontSize": 11, "titleFontSize": 12, "gridColor": "#ececec",
             "domainColor": "#888888", "tickColor": "#888888", "titleFontWeight": "normal"},
    "header": {"labelFontSize": 12, "titleFontSize": 12},
    # Legends sit below the plot in two narrow columns, so a chart fits a phone's width.
    "legend": {"labelFontSize": 11, "titleFontSize": 12, "orient": "bottom", "columns": 2,
               "labelLimit": 140},
    "range": {"category": PALETTE},
    "point": {"size": 70},
    "line": {"strokeWidth": 2},
}

_SCALARS = (pl.Boolean, pl.String, pl.Date, pl.Categorical, pl.Enum)


@alt.theme.register(THEME_NAME, enable=False)
def _theme() -> alt.theme.ThemeConfig:
    return {"config": THEME_CONFIG}  # type: ignore[typeddict-item]


def apply_theme(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    """Return a copy of ``chart`` carrying the package theme as its top-level config.

    Use ``themed=False`` on the chart functions instead when charts will be layered or
    concatenated (Vega-Lite allows a config only at the top level).
    """
    out = cast(Any, chart).copy(deep=False)
    out.config = alt.Config(**THEME_CONFIG)
    return cast(alt.TopLevelMixin, out)


def inline_data(df: pl.DataFrame, columns: Sequence[str]) -> alt.Data:
    """Inline ``df[columns]`` as JSON-ready rows; refuse big or nested data with advice."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"chart data lacks column(s) {', '.join(missing)}")
    sub = df.select(list(dict.fromkeys(columns)))
    if sub.height > MAX_ROWS:
        raise ValueError(
            f"{sub.height} rows is too many to draw ({MAX_ROWS} at most); aggregate first "
            "(e.g. weekly trends, fewer accounts) or filter the frame."
        )
    exprs = []
    for name, dtype in sub.schema.items():
        if dtype == pl.Date:
            exprs.append(pl.col(name).dt.strftime("%Y-%m-%d"))
        elif isinstance(dtype, pl.Datetime):
            # naive datetimes are taken as UTC, the API's time zone
            col = pl.col(name)
            if dtype.time_zone:
                col = col.dt.convert_time_zone("UTC")
            exprs.append(col.dt.strftime("%Y-%m-%dT%H:%M:%SZ"))
        elif dtype.is_float():
            exprs.append(pl.col(name).fill_nan(None))
        elif dtype.is_numeric() or isinstance(dtype, _SCALARS) or dtype == pl.Null:
            exprs.append(pl.col(name))
        else:
            raise ValueError(f"column {name!r} has dtype {dtype}, which cannot be charted; "
                             "drop it or turn it into text first")
    return alt.Data(values=sub.select(exprs).to_dicts())


def first_value(df: pl.DataFrame, column: str, default: Any) -> Any:
    """First non-null value of ``column`` (``default`` when absent or empty)."""
    if column not in df.columns:
        return default
    value = df[column].drop_nulls().first()
    return default if value is None else value


def title(text: str, subtitle: Sequence[str] = ()) -> alt.TitleParams:
    """A title with subtitle lines (empty lines dropped)."""
    lines = [s for s in subtitle if s]
    return alt.TitleParams(text=text, subtitle=lines) if lines else alt.TitleParams(text=text)


def finish(chart: alt.TopLevelMixin, themed: bool) -> alt.TopLevelMixin:
    """Apply the theme when asked (the last step of every chart function)."""
    return apply_theme(chart) if themed else chart


def date_x(field: str = "date", axis_title: str | None = "Date") -> alt.X:
    """Temporal x encoding for ISO date strings, shown in UTC (no time-zone shift).

    The axis starts and ends with the data (no rounding out to whole months).
    """
    return alt.X(f"{field}:T", timeUnit="utcyearmonthdate", title=axis_title,
                 axis=alt.Axis(format="%b %d", labelAngle=0), scale=alt.Scale(nice=False))


def group_label(df: pl.DataFrame, columns: Sequence[str], name: str = "group") -> pl.DataFrame:
    """Add a text column ``name`` joining the values of ``columns`` (for color/offset)."""
    if not columns:
        return df.with_columns(pl.lit("all").alias(name))
    parts = [pl.col(c).cast(pl.String).fill_null("(none)") for c in columns]
    return df.with_columns(pl.concat_str(parts, separator=" · ").alias(name))


def pct(field: str, label: str) -> alt.Tooltip:
    """Tooltip for a rate, shown as a percentage with two decimals."""
    return alt.Tooltip(f"{field}:Q", title=label, format=".2%")


def num(field: str, label: str, fmt: str = ",.0f") -> alt.Tooltip:
    """Tooltip for a count or number."""
    return alt.Tooltip(f"{field}:Q", title=label, format=fmt)


def require_columns(df: pl.DataFrame, columns: Sequence[str], what: str) -> None:
    """Raise ``ValueError`` naming the columns a chart function needs but ``df`` lacks."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(
            f"{what}: missing column(s) {', '.join(repr(c) for c in missing)}; pass the frame "
            f"returned by the matching instantly_nb.metrics function."
        )
