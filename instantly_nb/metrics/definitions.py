"""The one place where every rate of the package is defined, and ``rate()`` which computes them.

Instantly's analytics frames name the same quantity differently (``reply_count_unique`` per
campaign, ``unique_replies`` per day or step), so each rate lists *candidate* columns in order of
preference and uses the first one the frame has; the columns used are returned with the result.

Bounded by construction: every numerator counts a subset of what its denominator counts (leads
who replied are leads contacted), so a rate lies in [0, 1]. Where a frame breaks that (replies in
a short window from leads first contacted before it, or impossible counts) the rate is left
empty and the ``note`` column says why; it is never shown above 100 %.

Replies. Instantly's analytics guide defines the reply rate as
``(reply_count_unique - reply_count_automatic_unique) / new_leads_contacted_count``: the reply
counts include automatic replies (out-of-office, auto-responders) and the automatic ones are
subtracted. The OpenAPI text says ``reply_count_unique`` already excludes them; we follow the
guide, which is how the vendor's own dashboard computes the figure and matches what users see
(automatic replies making up most of "replies" in some workspaces). If the OpenAPI text were
right, the subtraction would under-count human replies by the automatic ones, and impossible
counts (automatic above all replies) are flagged instead of shown.

=================  ==========================================  ===============================
name               numerator                                   denominators (first present)
=================  ==========================================  ===============================
reply              leads who replied, automatic replies out    new_leads | contacted | sent
automatic          leads who sent an automatic reply           new_leads | contacted | sent
interested         interested leads (positive replies)         new_leads | contacted | sent
opportunity        opportunities                               new_leads | contacted | sent
meeting            meetings booked                             new_leads | contacted | sent
meeting_completed  meetings completed                          new_leads | contacted | sent
closed             closed / won deals                          new_leads | contacted | sent
open               leads who opened (first open per lead)      contacted | sent
click              leads who clicked a link (first click)      contacted | sent
bounce             bounced leads / emails                      contacted | sent
unsubscribe        unsubscribed leads                          contacted | sent
=================  ==========================================  ===============================

Open (click) rates are empty and noted "not tracked" for campaigns whose ``open_tracking``
(``link_tracking``) is false in ``campaigns.list``; pooled rates leave those campaigns out of
numerator and denominator alike. Pooled rates (across campaigns, accounts, days or
workspaces) sum numerators and denominators, then divide: a ratio of sums, never a mean of
ratios.
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
    "Open rates are unreliable: privacy proxies and security scanners open mail "
    "automatically, inflating the count; with open tracking off opens read 0 (shown as "
    "\"not tracked\" when the campaign list says so)."
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
        Default denominator key (a key of ``DENOMINATORS``); when the frame lacks it the next
        key of ``allowed`` the frame has is used.
    allowed : tuple of str
        Denominator keys that make sense for this rate, in order of preference.
    what : str
        What is counted in the numerator (used to build the one-line definition).
    caveat : str
        Caveat to print next to the rate ("" when none).
    automatic : dict
        Numerator column -> column counting automatic replies within it; subtracted by default
        when the frame has it.
    tracking : str
        Campaign setting column (``open_tracking``) that must be true for the rate to mean
        anything ("" when none).
    """

    name: str
    label: str
    numerators: tuple[str, ...]
    denominator: str
    allowed: tuple[str, ...]
    what: str
    caveat: str = ""
    automatic: dict[str, str] = field(default_factory=dict)
    tracking: str = ""

    def definition(self, denominator: str | None = None) -> str:
        """One-line definition for chart subtitles and report footnotes.

        ``denominator`` is a denominator key or the denominator column actually used.
        """
        key = denominator or self.denominator
        below = DENOMINATOR_LABELS.get(key, key)
        return f"{self.label} = {self.what} / {below}; pooled as a ratio of sums."


AUTOMATIC = {
    "unique_replies": "unique_replies_automatic",
    "reply_count": "reply_count_automatic",
    "reply_count_unique": "reply_count_automatic_unique",
}
LEAD_OUTCOME = ("new_leads", "contacted", "sent")
SENT_SIDE = ("contacted", "sent")

RATES: dict[str, RateDef] = {
    d.name: d
    for d in (
        RateDef("reply", "Reply rate", ("reply_count_unique", "unique_replies", "reply_count"),
                "new_leads", LEAD_OUTCOME,
                "leads who replied (automatic replies subtracted, as in Instantly's guide)",
                automatic=AUTOMATIC),
        RateDef("automatic", "Automatic-reply rate",
                ("reply_count_automatic_unique", "unique_replies_automatic",
                 "reply_count_automatic"),
                "new_leads", LEAD_OUTCOME,
                "leads who sent an automatic reply (out-of-office, auto-responder)"),
        RateDef("interested", "Positive-reply rate", ("total_interested",), "new_leads",
                LEAD_OUTCOME, "leads marked interested"),
        RateDef("opportunity", "Opportunity rate",
                ("total_opportunities", "unique_opportunities", "opportunities"),
                "new_leads", LEAD_OUTCOME, "opportunities"),
        RateDef("meeting", "Meeting rate", ("total_meeting_booked", "meetings_booked"),
                "new_leads", LEAD_OUTCOME, "meetings booked"),
        RateDef("meeting_completed", "Meeting-completed rate", ("total_meeting_completed",),
                "new_leads", LEAD_OUTCOME, "meetings completed"),
        RateDef("closed", "Close rate", ("total_closed", "won"), "new_leads", LEAD_OUTCOME,
                "closed deals"),
        RateDef("open", "Open rate", ("open_count_unique", "unique_opened", "unique_opens",
                                      "open_count"),
                "contacted", SENT_SIDE, "leads who opened (first open per lead)", OPEN_CAVEAT,
                tracking="open_tracking"),
        RateDef("click", "Click rate", ("link_click_count_unique", "unique_clicks",
                                        "link_click_count"),
                "contacted", SENT_SIDE, "leads who clicked a link (first click per lead)",
                CLICK_CAVEAT, tracking="link_tracking"),
        RateDef("bounce", "Bounce rate", ("bounced_count", "bounced"), "contacted", SENT_SIDE,
                "bounces"),
        RateDef("unsubscribe", "Unsubscribe rate", ("unsubscribed_count",), "contacted",
                SENT_SIDE, "unsubscribed leads"),
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
    "note": pl.String(),
}
NOT_TRACKED = "not tracked"


def get(name: str) -> RateDef:
    """Look up a rate definition by name; raise ``ValueError`` listing the known names."""
    try:
        return RATES[name]
    except KeyError:
        raise ValueError(f"unknown rate {name!r}; known rates: {', '.join(RATES)}") from None


def definitions(names: tuple[str, ...] | None = None,
                denominator: str | None = None) -> list[tuple[str, str]]:
    """``(label, definition and caveat)`` for each rate: the text reports and notebooks print.

    ``denominator`` (a key such as ``"sent"``) is used for the rates that allow it.
    """
    out = []
    for name in names or tuple(RATES):
        rdef = get(name)
        text = rdef.definition(denominator if denominator in rdef.allowed else None)
        out.append((rdef.label, f"{text} {rdef.caveat}".strip()))
    return out


def resolve_columns(
    df: pl.DataFrame,
    name: str,
    denominator: str | None = None,
    *,
    numerator: str | None = None,
) -> tuple[RateDef, str, str]:
    """Find the numerator and denominator columns of rate ``name`` in ``df``.

    ``denominator`` is a key of ``DENOMINATORS`` or, failing that, a column name; without it
    the first key of the rate's ``allowed`` list the frame has wins. ``numerator`` overrides
    the candidate list with an explicit column. Raises ``ValueError`` naming the columns that
    were looked for when none is present.
    """
    rdef = get(name)
    num_candidates = (numerator,) if numerator else rdef.numerators
    num_col = first_present(df, num_candidates)
    if denominator in DENOMINATORS and denominator not in rdef.allowed:
        raise ValueError(
            f"rate {name!r}: denominator {denominator!r} is not offered for this rate; use one "
            f"of {', '.join(rdef.allowed)} (or name a column)."
        )
    keys = (denominator,) if denominator else rdef.allowed
    den_candidates = tuple(c for k in keys for c in DENOMINATORS.get(k, (k,)))
    den_col = first_present(df, den_candidates)
    if num_col is None or den_col is None:
        wanted = [*(() if num_col else num_candidates), *(() if den_col else den_candidates)]
        raise ValueError(
            f"rate {name!r}: the frame has none of the column(s) {', '.join(wanted)}; "
            f"it has {', '.join(df.columns) or 'no columns'}. Pass a frame of "
            "campaign/daily/step analytics, or name the columns with numerator=/denominator=."
        )
    return rdef, num_col, den_col


def numerator_expr(df: pl.DataFrame, rdef: RateDef, num_col: str,
                   exclude_automatic: bool | None = None) -> pl.Expr:
    """The numerator as Float64, automatic replies subtracted when asked (or, with ``None``,
    when the frame counts them)."""
    expr = pl.col(num_col).cast(pl.Float64, strict=False)
    auto = rdef.automatic.get(num_col)
    if exclude_automatic is False or (exclude_automatic is None and
                                      (auto is None or auto not in df.columns)):
        return expr
    if auto is None or auto not in df.columns:
        raise ValueError(
            f"rate({rdef.name!r}, exclude_automatic=True): no automatic-reply column for "
            f"{num_col!r} (looked for {auto!r}); use a frame that has it or "
            "exclude_automatic=False."
        )
    return expr - pl.col(auto).cast(pl.Float64, strict=False).fill_null(0.0)


def tracked_expr(df: pl.DataFrame, rdef: RateDef) -> pl.Expr:
    """True where the rate's tracking setting is on or unknown."""
    if not rdef.tracking or rdef.tracking not in df.columns:
        return pl.lit(True)
    return pl.col(rdef.tracking).cast(pl.Boolean, strict=False).fill_null(True)


def rate(
    df: pl.DataFrame,
    name: str,
    denominator: str | None = None,
    by: ByArg = None,
    level: float = 0.95,
    method: str = "wilson",
    *,
    numerator: str | None = None,
    exclude_automatic: bool | None = None,
) -> pl.DataFrame:
    """Pooled rate with a confidence interval, overall or per group.

    Parameters
    ----------
    df : pl.DataFrame
        Any analytics frame holding the rate's columns (campaigns.analytics,
        campaigns.analytics_daily, campaigns.analytics_steps, accounts.analytics_daily, ...),
        optionally with ``open_tracking`` / ``link_tracking`` joined from campaigns.list.
    name : str
        A key of ``RATES``: reply, automatic, interested, opportunity, meeting,
        meeting_completed, closed, open, click, bounce, unsubscribe.
    denominator : str, optional
        ``"new_leads"``, ``"contacted"``, ``"sent"`` or a column name; default: the first of
        the rate's denominators the frame has.
    by : str or list of str, optional
        Group columns; ``None`` pools every row into one rate.
    level : float
        Confidence level of the interval.
    method : {"wilson", "agresti_coull", "jeffreys"}
        Interval method.
    numerator : str, optional
        Explicit numerator column (overrides the registry's candidates).
    exclude_automatic : bool, optional
        Reply rate: subtract automatic replies (default: when the frame counts them).

    Returns
    -------
    pl.DataFrame
        ``by`` columns, then metric, numerator, denominator, rate, ci_low, ci_high, level,
        method, rows (input rows pooled), numerator_col, denominator_col, definition, caveat,
        note. Rate and bounds are null where the denominator is 0, where the numerator is not
        a subset of the denominator, and for untracked opens ("not tracked" in ``note``).

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
    num_expr = numerator_expr(df, rdef, num_col, exclude_automatic)
    out_schema = {**{c: df.schema[c] for c in groups}, **RATE_SCHEMA_TAIL}
    if df.is_empty():
        return empty(out_schema)
    tracked = tracked_expr(df, rdef)
    den_expr = pl.col(den_col).cast(pl.Float64, strict=False)
    work = df.select(*groups, pl.when(tracked).then(num_expr).alias("_x"),
                     pl.when(tracked).then(den_expr).alias("_n"), tracked.alias("_t"))
    work = work.filter(~pl.col("_t") | (pl.col("_x").is_not_null()
                                        & pl.col("_n").is_not_null()))
    aggs = [pl.col("_x").sum().alias("numerator"), pl.col("_n").sum().alias("denominator"),
            pl.len().alias("rows"), pl.col("_t").any().alias("_tracked")]
    pooled = (
        work.group_by(groups, maintain_order=True).agg(aggs) if groups else work.select(aggs)
    )
    done = finish_rates(
        pooled, level=level, method=method, metric=name, extra={
            "numerator_col": num_col, "denominator_col": den_col,
            "definition": rdef.definition(den_col),
            "caveat": rdef.caveat,
        },
    )
    untracked = ~pl.col("_tracked")
    done = done.with_columns(
        *[pl.when(untracked).then(None).otherwise(pl.col(c)).alias(c)
          for c in ("rate", "ci_low", "ci_high")],
        pl.when(untracked).then(pl.lit(f"{NOT_TRACKED} ({rdef.tracking} is off)"))
        .otherwise(pl.col("note")).alias("note"),
    )
    return done.select(list(out_schema)).cast(out_schema)  # type: ignore[arg-type]


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
    """Add metric, rate, ci_low, ci_high, level, method, note and the ``extra`` text columns.

    The rate and its bounds are null unless ``0 <= numerator <= denominator`` and the
    denominator is positive; ``note`` says why when they are not.
    """
    x = pooled[num].cast(pl.Float64).fill_null(0.0).to_numpy()
    n = pooled[den].cast(pl.Float64).fill_null(0.0).to_numpy()
    low, high = proportion_ci(x, n, level, method)
    bounded = (pl.col(den) > 0) & (pl.col(num) >= 0) & (pl.col(num) <= pl.col(den))
    note = (pl.when(pl.col(num) < 0)
            .then(pl.lit("invalid counts: negative numerator (automatic replies above replies?)"))
            .when((pl.col(den) > 0) & (pl.col(num) > pl.col(den)))
            .then(pl.lit("not a proportion over this window: the numerator exceeds the "
                         "denominator (events from leads contacted before the window?); "
                         "widen the window"))
            .otherwise(pl.lit("")))
    return pooled.with_columns(
        pl.lit(metric).alias("metric"),
        pl.when(bounded).then(pl.col(num) / pl.col(den)).alias("rate"),
        pl.Series("ci_low", low).fill_nan(None),
        pl.Series("ci_high", high).fill_nan(None),
        pl.lit(level).alias("level"),
        pl.lit(method).alias("method"),
        note.alias("note"),
        *[pl.lit(v, dtype=pl.String).alias(k) for k, v in extra.items()],
    )
