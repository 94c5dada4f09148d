"""Parameters, scope, Markdown and table display shared by every ready-made notebook."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import polars as pl

from ..metrics.definitions import RATES
from ..report import in_report_mode
from ..report import table as report_table
from ..views.scope import UTC_NOTE, Scope
from ..views.section import Section

__all__ = [
    "ci_of",
    "definitions",
    "chart",
    "header",
    "labels_of",
    "markdown",
    "md_escape",
    "note",
    "show",
    "show_table",
]

#: Headers of columns whose name alone reads badly.
LABELS = {
    "lift_rate": "Lift vs A", "control_rate": "Rate of A", "variant_rate": "Rate",
    "prob_best_rate": "Prob. best", "p_adjusted": "p (adjusted)", "change_rate": "Change",
    "change_is": "Change is", "target_rate": "Lift sized for",
    "more_sends_needed": "More sends needed", "days_with_data": "Days with data",
}
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~&])")


def md_escape(text: Any) -> str:
    """Backslash-escape Markdown punctuation so API text shows as typed, never as markup."""
    return _MD_SPECIAL.sub(r"\\\1", str(text))


def markdown(text: str) -> Any:
    """``IPython.display.Markdown(text)``: displayed when it is the last expression of a cell."""
    from IPython.display import Markdown

    return Markdown(text)


# -- sections --------------------------------------------------------------------------------
def note(section: Section, name: str) -> Any:
    """A section's note as Markdown (the last expression of a cell displays it)."""
    return markdown(section.notes[name])


def show_table(section: Section, name: str, title: str, caption: str | None = None,
               formats: dict[str, str] | None = None) -> None:
    """Display one table of a view's section (see :func:`show`)."""
    show(section.tables[name], title, caption=caption, formats=formats)


def chart(section: Section, name: str) -> Any:
    """One chart of a section, or a Markdown line when there is nothing to draw."""
    found = section.charts.get(name)
    return found if found is not None else markdown("Nothing to draw for this selection.")


def chart_pages(section: Section, name: str) -> Any:
    """A chart the section cut into parts (a list of charts): every part but the last is
    displayed here, the last is returned, so the cell shows them all one after another."""
    found = section.charts.get(name)
    if not found:
        return markdown("Nothing to draw for this selection.")
    from IPython.display import display

    for part in found[:-1]:
        display(part)
    return found[-1]


def header(scope: Scope, title: str | None = None) -> Any:
    """One Markdown paragraph: title (outside reports), workspace, window, campaign selection."""
    n = scope.campaigns.height
    picked = f"{n} selected" if scope.campaign_ids else f"all {n}"
    parts = [f"Workspace **{md_escape(scope.workspace or 'unknown')}**"
             + (" (demo data)" if scope.demo else ""),
             f"window {md_escape(scope.window.text())}", f"campaigns: {picked}"]
    if in_report_mode():  # the report page shows the title and says once that days are UTC
        return markdown(" · ".join(parts))
    lead = f"**{md_escape(title)}** · " if title else ""
    return markdown(lead + " · ".join(parts) + f"\n\n*{UTC_NOTE}*")


# -- tables ----------------------------------------------------------------------------------
def ci_of(frame: pl.DataFrame) -> dict[str, tuple[str, str]]:
    """``{column: (column_low, column_high)}`` for every column whose bounds are present."""
    cols = set(frame.columns)
    return {c: (c + "_low", c + "_high") for c in frame.columns
            if c + "_low" in cols and c + "_high" in cols}


def labels_of(frame: pl.DataFrame) -> dict[str, str]:
    """Readable headers: ``reply_rate`` -> ``Reply rate`` (the name of its definition)."""
    labels = {}
    for col in frame.columns:
        key = col.removesuffix("_rate")
        if col in LABELS:
            labels[col] = LABELS[col]
        elif col.endswith("_rate") and key in RATES:
            labels[col] = RATES[key].label
        else:
            labels[col] = col.replace("_", " ").capitalize()
    return labels


def show(frame: pl.DataFrame, title: str, caption: str | None = None,
         formats: dict[str, str] | None = None) -> None:
    """:func:`instantly_nb.report.table` with CI columns paired and readable headers."""
    shares = {c: "percent" for c in frame.columns if c == "share" or c.endswith("_share")}
    report_table(frame, title=title, caption=caption, formats={**shares, **(formats or {})},
                 ci=ci_of(frame), labels=labels_of(frame))


def definitions(names: Iterable[str] = ("reply", "open", "click", "bounce", "opportunity"),
                denominator: str | None = None) -> list[tuple[str, str]]:
    """``(label, definition + caveat)`` pairs for :func:`instantly_nb.report.definitions`."""
    out = []
    for name in names:
        rdef = RATES[name]
        text = rdef.definition(denominator if denominator in rdef.allowed else None)
        out.append((rdef.label, f"{text} {rdef.caveat}".strip()))
    return out
