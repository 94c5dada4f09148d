"""Charts: pure functions from the tidy metrics frames to altair charts.

Each function takes the frame returned by the matching :mod:`instantly_nb.metrics` function
and returns a chart value (test it with ``chart.to_dict()``); nothing is displayed or fetched.
Every chart carries tooltips with the counts behind each rate, interval marks where a rate is
drawn, dates in UTC and a subtitle with the metric's definition. ``save`` writes a chart to
PNG/SVG/PDF/HTML offline.

The package theme is attached to each chart (``themed=True``); pass ``themed=False`` to layer
or concatenate charts, and ``apply_theme`` to the result. The theme is also registered with
altair as ``"instantly_nb"`` (``alt.theme.enable("instantly_nb")`` to use it everywhere).
"""

from __future__ import annotations

from instantly_nb.charts._base import MAX_ROWS, THEME_CONFIG, THEME_NAME, apply_theme
from instantly_nb.charts.ab import step_variant_pages, step_variants
from instantly_nb.charts.campaign import funnel, reply_timing, trend
from instantly_nb.charts.export import save
from instantly_nb.charts.senders import alerts, deliverability

__all__ = [
    "MAX_ROWS",
    "THEME_CONFIG",
    "THEME_NAME",
    "alerts",
    "apply_theme",
    "deliverability",
    "funnel",
    "reply_timing",
    "save",
    "step_variant_pages",
    "step_variants",
    "trend",
]

# Kernels started with INSTANTLY_NB_OFFLINE_CHARTS=1 (as `make lab` does) draw charts offline.
from instantly_nb.charts.render import enable_from_environment as _enable_from_environment  # noqa: E402

_enable_from_environment()
