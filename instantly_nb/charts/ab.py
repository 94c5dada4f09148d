"""A/B chart: each step's variants with interval bars, a control line and verdict marks."""

from __future__ import annotations

from typing import Any

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


def step_variants(tidy: pl.DataFrame, *, themed: bool = True) -> alt.TopLevelMixin:
    """Variant rates per step (facets) with intervals, colored and shaped by verdict.

    Parameters
    ----------
    tidy : pl.DataFrame
        Output of :func:`instantly_nb.metrics.step_variants`. Unattributed rows (null step or
        variant) are not drawn; the subtitle says how many sends they hold.
    themed : bool
        Attach the package theme.

    Returns
    -------
    altair.FacetChart
        Column facet per step (and row facet per group when the frame has group columns);
        inside: error bars (interval), points (x = variant, y = rate, color + shape = verdict)
        and a dashed rule at the control's rate. Tooltips carry sends, successes, lift,
        p-values, probability of best and the verdict's reason.
    """
    require_columns(tidy, NEEDED, "charts.step_variants")
    groups = [c for c in tidy.columns if c not in AB_TAIL]
    attributed = tidy.filter(pl.col("step").is_not_null() & pl.col("variant").is_not_null())
    lost = tidy.filter(pl.col("step").is_null() | pl.col("variant").is_null())
    metric = str(first_value(tidy, "metric", "reply"))
    rdef = RATES.get(str(metric))
    label = rdef.label if rdef else str(metric)
    test_names = sorted({t for t in attributed["test"].drop_nulls().to_list()})
    alpha = float(first_value(tidy, "alpha", 0.05))
    data = inline_data(attributed, [*groups, *NEEDED])
    x = alt.X("variant_label:N", title="Variant", sort=alt.EncodingSortField("variant", op="min"),
              axis=alt.Axis(labelAngle=0))
    tips = [alt.Tooltip("step:O", title="Step"), alt.Tooltip("variant_label:N", title="Variant"),
            num("sends", "Sends"), num("successes", "Successes"), pct("rate", label),
            pct("ci_low", "CI low"), pct("ci_high", "CI high"),
            pct("lift_abs", "Lift vs control (abs)"), pct("lift_rel", "Lift vs control (rel)"),
            alt.Tooltip("test:N", title="Test"), num("p_value", "p-value", ".3g"),
            num("p_adjusted", "Holm-adjusted p", ".3g"), pct("prob_best", "P(best)"),
            num("sends_needed", "Sends/variant needed"), alt.Tooltip("verdict:N", title="Verdict"),
            alt.Tooltip("reason:N", title="Why")]
    bars = alt.Chart().mark_errorbar(ticks=True, color="#555555").encode(
        x=x, y=alt.Y("ci_low:Q", title=label, axis=alt.Axis(format="%")), y2="ci_high:Q",
        tooltip=tips,
    )
    points = alt.Chart().mark_point(filled=True, size=110, opacity=1).encode(
        x=x, y=alt.Y("rate:Q", title=label, axis=alt.Axis(format="%")),
        color=alt.Color("verdict:N", title="Verdict",
                        scale=alt.Scale(domain=VERDICTS, range=VERDICT_COLORS)),
        shape=alt.Shape("verdict:N", title="Verdict",
                        scale=alt.Scale(domain=VERDICTS, range=VERDICT_SHAPES)),
        tooltip=tips,
    )
    control = alt.Chart().transform_filter("datum.is_control").mark_rule(
        strokeDash=[4, 3], color="#3366cc").encode(y="rate:Q")
    facet: dict[str, Any] = {"column": alt.Column("step:O", title="Step")}
    if groups:
        facet["row"] = alt.Row(f"{groups[0]}:N", title=groups[0])
    lost_sends = int(lost["sends"].sum()) if lost.height else 0
    subtitle = [
        rdef.definition("sent") if rdef else "",
        f"Points: rate; bars: interval; dashed line: control (variant A). Verdicts use "
        f"{' / '.join(test_names) or 'no test'} with Holm adjustment at alpha {alpha:g}.",
        f"{lost_sends:,} sends with no step/variant are not drawn." if lost_sends else "",
        (rdef.caveat if rdef else ""),
    ]
    chart = alt.layer(bars, points, control, data=data).facet(**facet).resolve_scale(
        x="independent"
    ).properties(
        title=title(f"Step × variant: {label}", subtitle)
    )
    return finish(chart, themed)
