"""Parameters, scope, Markdown and table display shared by every ready-made notebook."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from ..metrics.definitions import RATES
from ..report import in_report_mode
from ..report import table as report_table
from ..report.periods import Window, resolve_period

__all__ = [
    "DEFAULT_DAYS",
    "Scope",
    "ci_of",
    "definitions",
    "display_names",
    "header",
    "labels_of",
    "load_scope",
    "markdown",
    "md_escape",
    "rate_columns",
    "resolve_window",
    "show",
]

DEFAULT_DAYS = 30
#: Headers of columns whose name alone reads badly.
LABELS = {
    "lift_rate": "Lift vs A", "control_rate": "Rate of A", "variant_rate": "Rate",
    "prob_best_rate": "Prob. best", "p_adjusted": "p (adjusted)", "change_rate": "Change",
    "change_p_value": "p of change", "target_rate": "Lift sized for",
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


# -- parameters ------------------------------------------------------------------------------
def _as_date(value: Any, name: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError(
            f"{name} must be an ISO date such as '2026-11-01' (or None), got {value!r}"
        ) from None


def resolve_window(
    start_date: Any = None, end_date: Any = None, *, days: int = DEFAULT_DAYS,
    today: dt.date | None = None,
) -> Window:
    """The inclusive date window of a notebook run from its ``start_date``/``end_date``.

    Parameters
    ----------
    start_date, end_date : str or datetime.date, optional
        ISO dates, both inclusive. Both None: the ``days`` full days that end yesterday.
        Only ``start_date``: up to yesterday. Only ``end_date``: the ``days`` days ending then.
    days : int
        Length of the default window.
    today : datetime.date, optional
        Pin the current day (tests); ``date.today()`` otherwise.

    Returns
    -------
    instantly_nb.report.Window
        ``start``, ``end``, ``days`` and ``label()``.

    Examples
    --------
    >>> resolve_window(None, None, today=dt.date(2026, 11, 26)).label()
    '2026-10-27 – 2026-11-25 (30 days, last-30d)'
    """
    day = today or dt.date.today()
    start = _as_date(start_date, "start_date") if start_date else None
    end = _as_date(end_date, "end_date") if end_date else None
    if start is None and end is None:
        if days == 30:
            return Window(*resolve_period("last-30d", day), period="last-30d")
        return Window(day - dt.timedelta(days=days), day - dt.timedelta(days=1))
    if end is None:
        end = max(day - dt.timedelta(days=1), start or day)
    if start is None:
        start = end - dt.timedelta(days=days - 1)
    return Window(start, end)


@dataclass
class Scope:
    """What one notebook run looks at: the client, the window and the campaigns in scope.

    Attributes
    ----------
    client : instantly_nb.Client
    window : instantly_nb.report.Window
    campaigns : pl.DataFrame
        ``campaigns.list`` rows in scope, with a ``campaign`` display-name column (unique).
    campaign_ids : list of str
        The selection as given; empty means every campaign.
    workspace : str or None
        Name of the workspace.
    demo : bool
        The data comes from the demo workspace.
    """

    client: Any
    window: Window
    campaigns: pl.DataFrame
    campaign_ids: list[str]
    workspace: str | None = None
    demo: bool = False

    @property
    def ids(self) -> list[str]:
        """Ids of every campaign in scope."""
        return self.campaigns["id"].to_list()

    @property
    def dates(self) -> dict[str, dt.date]:
        """``start_date``/``end_date`` keyword arguments for the analytics endpoints."""
        return {"start_date": self.window.start, "end_date": self.window.end}

    def names(self) -> dict[str, str]:
        """Campaign id -> display name."""
        return dict(zip(self.campaigns["id"].to_list(), self.campaigns["campaign"].to_list(),
                        strict=True))

    def with_names(self, frame: pl.DataFrame, id_column: str = "campaign_id") -> pl.DataFrame:
        """``frame`` with a ``campaign`` display-name column first (from ``id_column``).

        Rows of campaigns that no longer exist (the API keeps sending analytics of deleted
        campaigns) stay, named ``"<name or short id> (deleted)"``.
        """
        gone = pl.col("campaign_name") if "campaign_name" in frame.columns else pl.lit(None)
        gone = pl.format("{} (deleted)", pl.coalesce(gone.cast(pl.String),
                                                    pl.col(id_column).cast(pl.String).str.slice(0, 8)))
        names = pl.col(id_column).replace_strict(self.names(), default=gone, return_dtype=pl.String)
        rest = [c for c in frame.columns if c != "campaign"]
        return frame.with_columns(names.alias("campaign")).select(["campaign", *rest])


def display_names(campaigns: pl.DataFrame) -> pl.DataFrame:
    """``campaigns.list`` rows with a ``campaign`` column: the name, made unique.

    Two campaigns may share a name; the short id keeps table rows and chart facets apart.
    """
    name = pl.col("name").fill_null("(unnamed)")
    dup = name.is_duplicated()
    label = pl.when(dup).then(pl.format("{} ({})", name, pl.col("id").str.slice(0, 8)))
    return campaigns.with_columns(label.otherwise(name).alias("campaign"))


def load_scope(
    client: Any, start_date: Any = None, end_date: Any = None,
    campaign_ids: Sequence[str] | None = None, *, demo: bool = False,
    today: dt.date | None = None,
) -> Scope:
    """Resolve the notebook parameters against the workspace.

    Raises ``ValueError`` naming any campaign id the workspace does not have.
    """
    window = resolve_window(start_date, end_date, today=today)
    wanted = [str(c) for c in (campaign_ids or [])]
    campaigns = display_names(client.campaigns.list())
    if wanted:
        unknown = sorted(set(wanted) - set(campaigns["id"].to_list()))
        if unknown:
            raise ValueError(
                f"campaign_ids not found in this workspace: {', '.join(unknown)}. Leave "
                "campaign_ids empty for every campaign, or copy ids from the campaign table."
            )
        campaigns = campaigns.filter(pl.col("id").is_in(wanted))
    ws = client.workspaces.current()
    name = ws["name"][0] if "name" in ws.columns and ws.height else None
    is_demo = demo or getattr(client, "demo_server", None) is not None
    return Scope(client, window, campaigns, wanted, name, is_demo)


def header(scope: Scope, title: str | None = None) -> Any:
    """One Markdown paragraph: title (outside reports), workspace, window, campaign selection."""
    n = scope.campaigns.height
    picked = f"{n} selected" if scope.campaign_ids else f"all {n}"
    parts = [f"Workspace **{md_escape(scope.workspace or 'unknown')}**"
             + (" (demo data)" if scope.demo else ""),
             f"window {md_escape(scope.window.label())}", f"campaigns: {picked}"]
    lead = f"**{md_escape(title)}** · " if title and not in_report_mode() else ""
    return markdown(lead + " · ".join(parts))


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


def rate_columns(rates: pl.DataFrame, prefix: str) -> list[pl.Expr]:
    """A metrics rate frame's rate and bounds as ``prefix``, ``prefix_low``, ``prefix_high``."""
    return [pl.col("rate").alias(prefix), pl.col("ci_low").alias(prefix + "_low"),
            pl.col("ci_high").alias(prefix + "_high")]


def definitions(names: Iterable[str] = ("reply", "open", "click", "bounce", "opportunity"),
                denominator: str | None = None) -> list[tuple[str, str]]:
    """``(label, definition + caveat)`` pairs for :func:`instantly_nb.report.definitions`."""
    out = []
    for name in names:
        rdef = RATES[name]
        text = rdef.definition(denominator if denominator in rdef.allowed else None)
        out.append((rdef.label, f"{text} {rdef.caveat}".strip()))
    return out
