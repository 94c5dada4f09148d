"""A/B chart: small multiples per campaign and step, variants with intervals and verdicts."""

from __future__ import annotations

import altair as alt
import polars as pl

from instantly_nb.charts._base import (
    VERDICT_COLORS,
    VERDICT_SHAPES,
    VERDICTS,
    finish,
    first_value,
    inline_data,
    num,
    pct,
    require_columns,
    title,
)
from instantly_nb.metrics.ab import AB_TAIL
from instantly_nb.metrics.definitions import RATES

NEEDED = ["step", "variant", "variant_label", "is_control", "sends", "successes", "rate",
          "ci_low", "ci_high", "lift_abs", "lift_rel", "test", "p_value", "p_adjusted",
          "prob_best", "sends_needed", "verdict", "reason"]


PANEL_WIDTH = 260
PANEL_HEIGHT_PER_VARIANT = 34
SUBJECT_CHARS = 38
#: Panels per chart of :func:`step_variant_pages`: four rows of two fit a printed page at a
#: readable size (one chart of 26 panels printed at a third of the page width).
PANELS_PER_PAGE = 8
#: Rows the chart cannot place in a panel (no step or no variant).
_UNATTRIBUTED = pl.col("step").is_null() | pl.col("variant").is_null()


def _panels(attributed: pl.DataFrame, groups: list[str]) -> pl.DataFrame:
    """Add ``panel`` (campaign · step N) and ``label`` (variant and its subject line)."""
    step = pl.format("step {}", pl.col("step"))
    if groups:
        parts = [pl.col(g).cast(pl.String).fill_null("(none)") for g in groups]
        panel = pl.concat_str([*parts, step], separator=" · ")
    else:
        panel = pl.format("Step {}", pl.col("step"))
    label = pl.col("variant_label").cast(pl.String)
    if "subject" in attributed.columns:
        subject = pl.col("subject").cast(pl.String).str.strip_chars()
        short = pl.when(subject.str.len_chars() > SUBJECT_CHARS).then(
            pl.concat_str([subject.str.slice(0, SUBJECT_CHARS - 1), pl.lit("…")])
        ).otherwise(subject)
        label = pl.when(subject.is_null() | (subject == "")).then(label).otherwise(
            pl.concat_str([label, pl.lit(": "), short]))
    return attributed.with_columns(panel.alias("panel"), label.alias("label"))


def step_variants(
    tidy: pl.DataFrame, *, columns: int = 2, themed: bool = True, part: str = ""
) -> alt.TopLevelMixin:
    """Small multiples, one panel per campaign and step: each variant's rate with its interval.

    Parameters
    ----------
    tidy : pl.DataFrame
        Output of :func:`instantly_nb.metrics.step_variants` (optionally with ``subject``, the
        variant's subject line, shown beside its letter). Unattributed rows (null step or
        variant) are not drawn; the subtitle says how many sends they hold.
    columns : int
        Panels per row.
    themed : bool
        Attach the package theme.
    part : str
        Appended to the title (which part of a cut chart this is; see
        :func:`step_variant_pages`).

    Returns
    -------
    altair.FacetChart
        A wrapped facet (campaign · step) with an independent rate axis per panel: a row per
        variant (letter and subject line), a point at its rate colored and shaped by verdict,
        its interval as a bar, and a dashed rule at the control's rate. Tooltips carry sends,
        successes, lift, p-values, probability of best and the verdict's reason.
    """
    require_columns(tidy, NEEDED, "charts.step_variants")
    groups = _groups(tidy)
    attributed, lost = tidy.filter(~_UNATTRIBUTED), tidy.filter(_UNATTRIBUTED)
    metric = str(first_value(tidy, "metric", "reply"))
    rdef = RATES.get(str(metric))
    label = rdef.label if rdef else str(metric)
    test_names = sorted({t for t in attributed["test"].drop_nulls().to_list()})
    alpha = float(first_value(tidy, "alpha", 0.05))
    panels = _panels(attributed, _shown(groups))
    extra = [c for c in ("subject",) if c in panels.columns]
    data = inline_data(panels, ["panel", "label", *groups, *NEEDED, *extra])
    sizes = panels.group_by("panel").len()["len"].to_list()
    most = max(sizes, default=1)
    y = alt.Y("label:N", title=None, sort=alt.EncodingSortField("variant", op="min"),
              axis=alt.Axis(labelLimit=230, labelFontSize=11))
    tips = [alt.Tooltip("panel:N", title="Test"), alt.Tooltip("label:N", title="Variant"),
            num("sends", "Sends"), num("successes", "Successes"), pct("rate", label),
            pct("ci_low", "Interval low"), pct("ci_high", "Interval high"),
            pct("lift_rel", "Lift vs A (relative)"), num("p_adjusted", "Adjusted p", ".3g"),
            pct("prob_best", "Chance of being best"),
            num("more_sends_needed", "More sends needed"),
            alt.Tooltip("verdict:N", title="Verdict"), alt.Tooltip("reason:N", title="Why")]
    x = alt.X("ci_low:Q", title=label, axis=alt.Axis(format="%", tickCount=4),
              scale=alt.Scale(zero=False))
    bars = alt.Chart().mark_rule(color="#777777", strokeWidth=2).encode(
        y=y, x=x, x2="ci_high:Q", tooltip=tips)
    points = alt.Chart().mark_point(filled=True, size=90, opacity=1).encode(
        y=y, x=alt.X("rate:Q", title=label),
        color=alt.Color("verdict:N", title="Verdict",
                        scale=alt.Scale(domain=VERDICTS, range=VERDICT_COLORS),
                        legend=alt.Legend(orient="top")),
        shape=alt.Shape("verdict:N", title="Verdict",
                        scale=alt.Scale(domain=VERDICTS, range=VERDICT_SHAPES)),
        tooltip=tips,
    )
    control = alt.Chart().transform_filter("datum.is_control").mark_rule(
        strokeDash=[4, 3], color="#3366cc").encode(x="rate:Q")
    lost_sends = int(lost["sends"].sum()) if lost.height else 0
    subtitle = [
        rdef.definition("sent") if rdef else "",
        "Dot: rate; bar: its interval; dashed line: variant A. Each panel has its own scale. "
        f"Verdicts: {' / '.join(test_names) or 'no test'}, adjusted for several variants, "
        f"at a {alpha:g} significance level.",
        "Bars apart can still read 'not enough data': an always-valid verdict asks for more "
        "evidence than one look's intervals (the table says how many more sends)."
        if any("always valid" in t for t in test_names) else "",
        f"{lost_sends:,} sends with no step/variant are not drawn." if lost_sends else "",
    ]
    layered = alt.layer(bars, points, control).properties(
        width=PANEL_WIDTH, height=PANEL_HEIGHT_PER_VARIANT * max(most, 2))
    chart = layered.facet(
        facet=alt.Facet("panel:N", title=None, header=alt.Header(labelFontWeight="bold",
                                                                 labelLimit=480,
                                                                 labelAnchor="start")),
        columns=max(1, columns), data=data,
    ).resolve_scale(x="independent", y="independent").resolve_axis(
        x="independent", y="independent"
    ).properties(title=title(f"A/B tests: {label}{part}", subtitle))
    return finish(chart, themed)


def step_variant_pages(
    tidy: pl.DataFrame, *, per_page: int = PANELS_PER_PAGE, columns: int = 2,
    themed: bool = True,
) -> list[alt.TopLevelMixin]:
    """:func:`step_variants` cut into charts of at most ``per_page`` panels, in panel order.

    One chart of dozens of panels is a tall picture that paper shrinks to a third of its width;
    cut into pages, each prints at full size. The titles say which part each chart is
    ("tests 9-16 of 26"); rows with no step/variant are counted in the first part only.
    """
    require_columns(tidy, NEEDED, "charts.step_variants")
    if per_page < 1:
        raise ValueError(f"per_page must be at least 1, got {per_page}")
    attributed = tidy.filter(~_UNATTRIBUTED)
    panel = _panels(attributed, _shown(_groups(tidy)))["panel"]
    order = sorted(set(panel.to_list()))
    if len(order) <= per_page:
        return [step_variants(tidy, columns=columns, themed=themed)]
    charts = []
    for start in range(0, len(order), per_page):
        part = attributed.filter(panel.is_in(order[start:start + per_page]))
        if start == 0:
            part = pl.concat([part, tidy.filter(_UNATTRIBUTED)])
        end = min(start + per_page, len(order))
        charts.append(step_variants(part, columns=columns, themed=themed,
                                    part=f" (tests {start + 1}–{end} of {len(order)})"))
    return charts


def _groups(tidy: pl.DataFrame) -> list[str]:
    return [c for c in tidy.columns if c not in AB_TAIL and c not in ("subject", "body_preview")]


def _shown(groups: list[str]) -> list[str]:
    named = [c for c in groups if not c.endswith("_id")]
    return named or groups  # a campaign's name says more than its id
