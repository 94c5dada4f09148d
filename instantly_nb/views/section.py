"""What every view returns: a :class:`Section` of named tables, charts, notes and alerts.

A view is a pure function ``view(data, params) -> Section``: the data were fetched before (by
the view module's ``load``), the parameters are a frozen dataclass. Notebooks, the HTML report
and the explorer all draw their figures from sections, so the same window and parameters give
the same numbers wherever they are shown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass, field, fields
from typing import Any

import polars as pl

__all__ = ["Charts", "Section", "evidence", "param_defaults"]


class Charts(MutableMapping[str, Any]):
    """Named charts, each drawn on first access (building altair charts is not free, and a
    reader of a section's tables need not pay for its charts).

    ``Charts(funnel=lambda: charts.funnel(frame))``; a builder may return None (nothing to
    draw). Plain values can be set too.
    """

    def __init__(self, **builders: Callable[[], Any]):
        self._builders: dict[str, Callable[[], Any]] = dict(builders)
        self._built: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name not in self._built:
            self._built[name] = self._builders[name]()
        return self._built[name]

    def add(self, name: str, build: Callable[[], Any]) -> None:
        """Add a chart drawn by ``build`` on first access."""
        self._builders[name] = build
        self._built.pop(name, None)

    def __setitem__(self, name: str, value: Any) -> None:
        self._builders[name] = lambda: value
        self._built[name] = value

    def __delitem__(self, name: str) -> None:
        del self._builders[name]
        self._built.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self._builders)

    def __len__(self) -> int:
        return len(self._builders)


@dataclass
class Section:
    """The output of one view.

    Attributes
    ----------
    title : str
        Heading of the section.
    tables : dict of str -> pl.DataFrame
        Named tables, in display order.
    charts : Charts (a mapping of str -> altair chart or None)
        Named charts, drawn on first access; None when there is nothing to draw.
    notes : dict of str -> str
        Named plain-language sentences (Markdown-safe: API text is escaped by whoever shows it).
    alerts : pl.DataFrame or None
        Alert rows (deliverability) or None.
    period : str or None
        Which days the figures cover, in words.
    headline : dict or None
        The summary view's headline (see :mod:`instantly_nb.views.summary`).
    """

    title: str
    tables: dict[str, pl.DataFrame] = field(default_factory=dict)
    charts: Charts = field(default_factory=Charts)
    notes: dict[str, str] = field(default_factory=dict)
    alerts: pl.DataFrame | None = None
    period: str | None = None
    headline: dict[str, Any] | None = None


def param_defaults(params_type: type) -> dict[str, Any]:
    """``{field: default}`` of a params dataclass (the notebook generator writes these)."""
    return {f.name: getattr(params_type(), f.name) for f in fields(params_type)}


def evidence(p: float | None, alpha: float = 0.05) -> str | None:
    """A p-value in plain words, the number in brackets: ``"more than chance (p < 0.001)"``."""
    if p is None or p != p:  # None or NaN
        return None
    number = "p < 0.001" if p < 0.001 else f"p = {p:.3f}" if p < 0.1 else f"p = {p:.2f}"
    words = "more than chance" if p < alpha else "could be chance"
    return f"{words} ({number})"
