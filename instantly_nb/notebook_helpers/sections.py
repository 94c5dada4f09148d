"""Notebook glue around the views: the A/B method note and the headline display.

The figures come from :mod:`instantly_nb.views`; these helpers only turn them into Markdown or
report bundles.
"""

from __future__ import annotations

from typing import Any

from ..metrics.definitions import RATES
from ..views.ab import ABParams
from ._common import markdown, md_escape

__all__ = ["ab_note", "headline", "headline_markdown", "headline_text"]


def ab_note(params: ABParams | None = None) -> Any:
    """How the verdicts were reached, in one Markdown paragraph."""
    params = params or ABParams()
    rdef = RATES[params.metric]
    text = (f"Each variant is compared with variant A of the same step on **{rdef.label.lower()}**"
            f" ({md_escape(rdef.definition('sent'))}). The test is sequential: it is read every "
            "week, and its p-values stay valid however often it is read, so a winner stays a "
            "winner. P-values are adjusted for the number of variants (Holm) at a "
            f"{params.alpha:g} significance level; *sends needed* is the sends per variant for "
            "an 80% chance to detect the lift seen so far.")
    return markdown(text + (f"\n\n*{md_escape(rdef.caveat)}*" if rdef.caveat else ""))


def _figure_text(fig: dict[str, Any]) -> str:
    def fmt(value: Any) -> str:
        if value is None:
            return "–"
        return f"{value:.1%}" if fig["unit"] == "rate" else f"{value:,.0f}"

    change = ""
    if fig.get("change") is not None:
        if fig["unit"] == "rate":
            change = f"{fig['change'] * 100:+.1f} points"
        else:
            change = f"{fig['change']:+,.0f}"
        change += " (within normal variation)" if fig["noise"] else " (more than chance)"
    return f"{fig['label']}: {fmt(fig['value'])} (before: {fmt(fig['previous'])}" \
           f"{', ' + change if change else ''})"


def headline_text(data: dict[str, Any]) -> str:
    """The headline as plain text (terminal)."""
    if not data:
        return "No figures."
    lines = [f"{data['period']['start']} – {data['period']['end']} compared with "
             f"{data['previous']['start']} – {data['previous']['end']}", ""]
    lines += ["  " + _figure_text(f) for f in data["figures"]]
    lines += ["", f"A/B winners: {len(data['winners'])}"]
    lines += [f"  {w['campaign']}, step {w['step']}, variant {w['variant']}: "
              f"{w.get('subject') or ''}" for w in data["winners"]]
    lines += ["", f"Accounts needing action: {len(data['accounts'])}"]
    lines += [f"  {a['email']}: {' '.join(a['reasons'])}" for a in data["accounts"]]
    lines += ["", "What to do:"] + [f"  - {a}" for a in data["actions"]]
    return "\n".join(lines)


def headline_markdown(data: dict[str, Any]) -> str:
    """The headline as Markdown, for notebooks opened outside a report."""
    lines = [f"**{data['period']['start']} – {data['period']['end']}** compared with "
             f"{data['previous']['start']} – {data['previous']['end']}", ""]
    lines += [f"- {md_escape(_figure_text(f))}" for f in data["figures"]]
    lines += ["", f"**A/B winners:** {len(data['winners'])}"]
    lines += [f"- {md_escape(w['campaign'])}, step {w['step']}, variant {w['variant']}: "
              f"{md_escape(w.get('subject') or '')}" for w in data["winners"]]
    lines += ["", f"**Accounts needing action:** {len(data['accounts'])}"]
    lines += [f"- {md_escape(a['email'])}: {md_escape(' '.join(a['reasons']))}"
              for a in data["accounts"]]
    lines += ["", "**What to do**"] + [f"- {md_escape(a)}" for a in data["actions"]]
    return "\n".join(lines)


def headline(data: dict[str, Any]) -> Any:
    """Show the headline: the report's headline block when available, else Markdown."""
    from ..report import display

    show = getattr(display, "headline", None)
    if show is not None:
        show(data)
        return None
    return markdown(headline_markdown(data))
