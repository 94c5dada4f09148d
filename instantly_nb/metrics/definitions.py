"""The one place where every rate of the package is defined, and ``rate()`` which computes them.

Instantly's analytics frames name the same quantity differently (``reply_count`` per campaign,
``unique_replies`` per day or step, ``reply_count_unique`` in the overview), so each rate lists
*candidate* columns in order of preference and uses the first one the frame has. The columns
actually used are returned with the result, so a reader can always see what was divided by what.

Rates (default denominator first)

=================  ====================================  =================================
name               numerator                             denominators
=================  ====================================  =================================
reply              leads who replied (unique)            contacted | sent | new_leads
open               leads who opened (unique)             contacted | sent
click              unique link clicks                    contacted | sent
bounce             bounced leads / emails                contacted | sent
unsubscribe        unsubscribed leads                    contacted | sent
opportunity        opportunities                         contacted | sent
interested         interested opportunities              contacted | new_leads | sent
meeting            meetings booked                       contacted | new_leads | sent
meeting_completed  meetings completed                    contacted | new_leads | sent
closed             closed / won deals                    contacted | new_leads | sent
=================  ====================================  =================================

Pooled rates (across campaigns, accounts, days or workspaces) sum numerators and denominators,
then divide: a ratio of sums, never a mean of ratios.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from instantly_nb.metrics._frame import ByArg, as_list, empty, first_present, require
from instantly_nb.metrics.stats import proportion_ci

DENOMINATORS: dict[str, tuple[str, ...]] = {
    "contacted": ("contacted_count", "contacted", "new_leads_contacted_count"),
    "sent": ("emails_sent_count", "sent", "emails_sent"),
    "new_leads": ("new_leads_contacted_count", "new_leads_contacted"),
}
DENOMINATOR_LABELS = {
    "contacted": "leads contacted",
    "sent": "emails sent",
    "new_leads": "new leads contacted",
    "contacted_count": "leads contacted",
    "new_leads_contacted_count": "new leads contacted",
    "new_leads_contacted": "new leads contacted",
    "emails_sent_count": "emails sent",
    "emails_sent": "emails sent",
}

OPEN_CAVEAT = (
    "Open rates are unreliable: open tracking may be off for a campaign (then opens read 0), "
    "and privacy proxies and security scanners open mail automatically, inflating the count."
)
CLICK_CAVEAT = (
    "Security scanners follow links automatically, so clicks can be inflated; some sources "
    "count clicks rather than clicking leads."
)


@dataclass(frozen=True)
class RateDef:
    """Definition of one named rate.

    Attributes
    ----------
    name : str
        Registry key, e.g. ``"reply"``.
    label : str
        Human name used in charts, e.g. ``"Reply rate"``.
    numerators : tuple of str
        Candidate numerator columns, in order of preference.
    denominator : str
        Default denominator key (a key of ``DENOMINATORS``).
    allowed : tuple of str
        Denominator keys that make sense for this rate.
    what : str
        What is counted in the numerator (used to build the one-line definition).
    caveat : str
        Caveat to print next to the rate ("" when none).
    automatic : dict
        Numerator column -> column counting automatic replies within it, used when automatic
        replies are excluded.
    """

    name: str
    label: str
    numerators: tuple[str, ...]
    denominator: str
    allowed: tuple[str, ...]
    what: str
    caveat: str = ""
    automatic: dict[str, str] = field(default_factory=dict)

    def definition(self, denominator: str | None = None) -> str:
        """One-line definition for chart subtitles and report footnotes.

        ``denominator`` is a denominator key or the denominator column actually used.
        """
        key = denominator or self.denominator
        below = DENOMINATOR_LABELS.get(key, key)
        return f"{self.label} = {self.what} / {below}; pooled as a ratio of sums."


RATES: dict[str, RateDef] = {
    d.name: d
    for d in (
        RateDef(
            "reply", "Reply rate",
            ("reply_count_unique", "reply_count", "unique_replies"),
            "contacted", ("contacted", "sent", "new_leads"), "leads who replied",
            automatic={
                "unique_replies": "unique_replies_automatic",
                "reply_count": "reply_count_automatic",
                "reply_count_unique": "reply_count_automatic_unique",
            },
        ),
        RateDef(
            "open", "Open rate", ("open_count_unique", "open_count", "unique_opened",
                                  "unique_opens"),
            "contacted", ("contacted", "sent"), "leads who opened", OPEN_CAVEAT,
        ),
        RateDef(
            "click", "Click rate", ("link_click_count_unique", "link_click_count",
                                    "unique_clicks"),
            "contacted", ("contacted", "sent"), "unique link clicks", CLICK_CAVEAT,
        ),
        RateDef("bounce", "Bounce rate", ("bounced_count", "bounced"), "contacted",
                ("contacted", "sent"), "bounces"),
        RateDef("unsubscribe", "Unsubscribe rate", ("unsubscribed_count",), "contacted",
                ("contacted", "sent"), "unsubscribed leads"),
        RateDef("opportunity", "Opportunity rate", ("total_opportunities",
                                                    "unique_opportunities", "opportunities"),
                "contacted", ("contacted", "sent"), "opportunities"),
        RateDef("interested", "Interested rate", ("total_interested",), "contacted",
                ("contacted", "new_leads", "sent"), "interested opportunities"),
        RateDef("meeting", "Meeting rate", ("total_meeting_booked", "meetings_booked"),
                "contacted", ("contacted", "new_leads", "sent"), "meetings booked"),
        RateDef("meeting_completed", "Meeting-completed rate", ("total_meeting_completed",),
                "contacted", ("contacted", "new_leads", "sent"), "meetings completed"),
        RateDef("closed", "Close rate", ("total_closed", "won"), "contacted",
                ("contacted", "new_leads", "sent"), "closed deals"),
    )
}

RATE_SCHEMA_TAIL: dict[str, pl.DataType] = {
    "metric": pl.String(),
    "numerator": pl.Float64(),
    "denominator": pl.Float64(),
    "rate": pl.Float64(),
    "ci_low": pl.Float64(),
    "ci_high": pl.Float64(),
    "level": pl.Float64(),
    "method": pl.String(),
    "rows": pl.UInt32(),
    "numerator_col": pl.String(),
    "denominator_col": pl.String(),
    "definition": pl.String(),
    "caveat": pl.String(),
}


def get(name: str) -> RateDef:
    """Look up a rate definition by name; raise ``ValueError`` listing the known names."""
    try:
        return RATES[name]
    except KeyError:
        raise ValueError(f"unknown rate {name!r}; known rates: {', '.join(RATES)}") from None


def resolve_columns(
    df: pl.DataFrame,
    name: str,
    denominator: str | None = None,
    *,
    numerator: str | None = None,
) -> tuple[RateDef, str, str]:
    """Find the numerator and denominator columns of rate ``name`` in ``df``.

    ``denominator`` is a key of ``DENOMINATORS`` or, failing that, a column name; ``numerator``
    overrides the candidate list with an explicit column. Raises ``ValueError`` naming the
    columns that were looked for when none is present.
    """
    rdef = get(name)
    num_candidates = (numerator,) if numerator else rdef.numerators
    num_col = first_present(df, num_candidates)
    key = denominator or rdef.denominator
    if key in DENOMINATORS and key not in rdef.allowed:
        raise ValueError(
            f"rate {name!r}: denominator {key!r} is not offered for this rate; use one of "
            f"{', '.join(rdef.allowed)} (or name a column)."
        )
    den_candidates = DENOMINATORS.get(key, (key,))
    den_col = first_present(df, den_candidates)
    if num_col is None or den_col is None:
        wanted = [*(() if num_col else num_candidates), *(() if den_col else den_candidates)]
        raise ValueError(
            f"rate {name!r}: the frame has none of the column(s) {', '.join(wanted)}; "
            f"it has {', '.join(df.columns) or 'no columns'}. Pass a frame of "
            "campaign/daily/step analytics, or name the columns with numerator=/denominator=."
        )
    return rdef, num_col, den_col


def rate(
    df: pl.DataFrame,
    name: str,
    denominator: str | None = None,
    by: ByArg = None,
    level: float = 0.95,
    method: str = "wilson",
    *,
    numerator: str | None = None,
    exclude_automatic: bool = False,
) -> pl.DataFrame:
    """Pooled rate with a confidence interval, overall or per group.

    Parameters
    ----------
    df : pl.DataFrame
        Any analytics frame holding the rate's columns (campaigns.analytics,
        campaigns.analytics_daily, campaigns.analytics_steps, accounts.analytics_daily, ...).
    name : str
        A key of ``RATES``: reply, open, click, bounce, unsubscribe, opportunity, interested,
        meeting, meeting_completed, closed.
    denominator : str, optional
        ``"contacted"`` (default for most rates), ``"sent"``, ``"new_leads"`` or a column name.
    by : str or list of str, optional
        Group columns; ``None`` pools every row into one rate.
    level : float
        Confidence level of the interval.
    method : {"wilson", "agresti_coull", "jeffreys"}
        Interval method.
    numerator : str, optional
        Explicit numerator column (overrides the registry's candidates).
    exclude_automatic : bool
        Subtract automatic replies (reply rate only; needs the matching ``*_automatic`` column).

    Returns
    -------
    pl.DataFrame
        ``by`` columns, then metric, numerator, denominator, rate, ci_low, ci_high, level,
        method, rows (input rows pooled), numerator_col, denominator_col, definition, caveat.
        Rate and bounds are null where the denominator is 0.

    Examples
    --------
    >>> import polars as pl
    >>> df = pl.DataFrame({"reply_count": [30, 10], "contacted_count": [1000, 1000]})
    >>> rate(df, "reply")["rate"].item()
    0.02
    """
    groups = as_list(by)
    require(df, groups, f"rate({name!r})")
    rdef, num_col, den_col = resolve_columns(df, name, denominator, numerator=numerator)
    num_expr = pl.col(num_col).cast(pl.Float64, strict=False)
    if exclude_automatic:
        auto = rdef.automatic.get(num_col)
        if auto is None or auto not in df.columns:
            raise ValueError(
                f"rate({name!r}, exclude_automatic=True): no automatic-reply column for "
                f"{num_col!r} (looked for {auto!r}); use a frame that has it or "
                "exclude_automatic=False."
            )
        num_expr = num_expr - pl.col(auto).cast(pl.Float64, strict=False).fill_null(0.0)
    out_schema = {**{c: df.schema[c] for c in groups}, **RATE_SCHEMA_TAIL}
    if df.is_empty():
        return empty(out_schema)
    den_expr = pl.col(den_col).cast(pl.Float64, strict=False)
    work = df.select(*groups, num_expr.alias("_x"), den_expr.alias("_n")).drop_nulls(["_x", "_n"])
    aggs = [pl.col("_x").sum().alias("numerator"), pl.col("_n").sum().alias("denominator"),
            pl.len().alias("rows")]
    pooled = (
        work.group_by(groups, maintain_order=True).agg(aggs) if groups else work.select(aggs)
    )
    return finish_rates(
        pooled, level=level, method=method, metric=name, extra={
            "numerator_col": num_col, "denominator_col": den_col,
            "definition": rdef.definition(den_col),
            "caveat": rdef.caveat,
        },
    ).select(list(out_schema)).cast(out_schema)  # type: ignore[arg-type]


def finish_rates(
    pooled: pl.DataFrame,
    *,
    level: float,
    method: str,
    metric: str,
    extra: dict[str, str],
    num: str = "numerator",
    den: str = "denominator",
) -> pl.DataFrame:
    """Add metric, rate, ci_low, ci_high, level, method and the ``extra`` text columns."""
    x = pooled[num].cast(pl.Float64).to_numpy()
    n = pooled[den].cast(pl.Float64).to_numpy()
    low, high = proportion_ci(x, n, level, method)
    return pooled.with_columns(
        pl.lit(metric).alias("metric"),
        pl.when(pl.col(den) > 0).then(pl.col(num) / pl.col(den)).alias("rate"),
        pl.Series("ci_low", low).fill_nan(None),
        pl.Series("ci_high", high).fill_nan(None),
        pl.lit(level).alias("level"),
        pl.lit(method).alias("method"),
        *[pl.lit(v, dtype=pl.String).alias(k) for k, v in extra.items()],
    )
