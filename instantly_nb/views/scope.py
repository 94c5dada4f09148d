"""What a view looks at: the window, the campaigns in scope, their display names and accounts.

One place for the parameters every notebook, the report and the explorer share:

* :func:`resolve_window` turns ``start_date``/``end_date`` (or nothing) into an inclusive
  :class:`~instantly_nb.report.periods.Window` of UTC days;
* :func:`load_scope` resolves a campaign selection against the workspace into a :class:`Scope`;
* :func:`display_names` gives every campaign a unique display name;
* :func:`scope_accounts` picks the sending accounts of the selected campaigns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from ..report.periods import UTC_NOTE, Window, resolve_period, utc_today

__all__ = [
    "DEFAULT_DAYS",
    "UTC_NOTE",
    "Scope",
    "Window",
    "display_names",
    "load_scope",
    "make_scope",
    "resolve_window",
    "scope_accounts",
    "utc_today",
]

DEFAULT_DAYS = 30


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
    """The inclusive window of UTC days from ``start_date``/``end_date``.

    Parameters
    ----------
    start_date, end_date : str or datetime.date, optional
        ISO dates, both inclusive. Both None: the ``days`` full days that end yesterday (UTC).
        Only ``start_date``: up to yesterday. Only ``end_date``: the ``days`` days ending then.
    days : int
        Length of the default window.
    today : datetime.date, optional
        Pin the current day (tests); the current UTC date otherwise.

    Examples
    --------
    >>> resolve_window(None, None, today=dt.date(2026, 11, 26)).label()
    '2026-10-27 – 2026-11-25 (last 30 days)'
    """
    day = today or utc_today()
    start = _as_date(start_date, "start_date") if start_date else None
    end = _as_date(end_date, "end_date") if end_date else None
    if start is None and end is None:
        if days in (7, 30):
            name = f"last-{days}d"
            return Window(*resolve_period(name, day), period=name)
        return Window(day - dt.timedelta(days=days), day - dt.timedelta(days=1))
    if end is None:
        end = max(day - dt.timedelta(days=1), start or day)
    if start is None:
        start = end - dt.timedelta(days=days - 1)
    return Window(start, end)


def display_names(campaigns: pl.DataFrame) -> pl.DataFrame:
    """``campaigns.list`` rows with a ``campaign`` column: the name, made unique.

    Two campaigns may share a name; the short id keeps table rows and chart facets apart.
    """
    name = pl.col("name").fill_null("(unnamed)")
    dup = name.is_duplicated()
    label = pl.when(dup).then(pl.format("{} ({})", name, pl.col("id").str.slice(0, 8)))
    return campaigns.with_columns(label.otherwise(name).alias("campaign"))


@dataclass
class Scope:
    """What one run looks at: the client, the window and the campaigns in scope.

    Attributes
    ----------
    client : instantly_nb.Client
    window : Window
    campaigns : pl.DataFrame
        ``campaigns.list`` rows in scope, with a unique ``campaign`` display name.
    campaign_ids : list of str
        The selection as given; empty means every campaign.
    workspace : str or None
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
        """``frame`` with a ``campaign`` display-name column first (from ``id_column``)."""
        return with_names(frame, self.names(), id_column)

    def at(self, window: Window) -> Scope:
        """The same selection over another window."""
        return Scope(self.client, window, self.campaigns, self.campaign_ids, self.workspace,
                     self.demo)


def with_names(frame: pl.DataFrame, names: dict[str, str],
               id_column: str = "campaign_id") -> pl.DataFrame:
    """``frame`` with a ``campaign`` display-name column first, from ``id_column``.

    Rows of campaigns that no longer exist (the API keeps sending analytics of deleted
    campaigns) stay, named ``"<name or short id> (deleted)"``.
    """
    gone = pl.col("campaign_name") if "campaign_name" in frame.columns else pl.lit(None)
    gone = pl.format("{} (deleted)", pl.coalesce(gone.cast(pl.String),
                                                pl.col(id_column).cast(pl.String).str.slice(0, 8)))
    label = pl.col(id_column).replace_strict(names, default=gone, return_dtype=pl.String)
    rest = [c for c in frame.columns if c != "campaign"]
    return frame.with_columns(label.alias("campaign")).select(["campaign", *rest])


def make_scope(client: Any, window: Window, campaigns: pl.DataFrame,
               campaign_ids: Sequence[str] | None = None, *, workspace: str | None = None,
               demo: bool = False) -> Scope:
    """A :class:`Scope` from an already fetched ``campaigns.list`` frame.

    Raises ``ValueError`` naming any campaign id the workspace does not have.
    """
    wanted = [str(c) for c in (campaign_ids or [])]
    if "campaign" not in campaigns.columns:
        campaigns = display_names(campaigns)
    if wanted:
        unknown = sorted(set(wanted) - set(campaigns["id"].to_list()))
        if unknown:
            raise ValueError(
                f"campaign_ids not found in this workspace: {', '.join(unknown)}. Leave "
                "campaign_ids empty for every campaign, or copy ids from the campaign table."
            )
        campaigns = campaigns.filter(pl.col("id").is_in(wanted))
    return Scope(client, window, campaigns, wanted, workspace, demo)


def load_scope(
    client: Any, start_date: Any = None, end_date: Any = None,
    campaign_ids: Sequence[str] | None = None, *, demo: bool = False,
    today: dt.date | None = None, days: int = DEFAULT_DAYS,
) -> Scope:
    """Resolve the run's parameters against the workspace (fetches campaigns and its name)."""
    window = resolve_window(start_date, end_date, today=today, days=days)
    campaigns = client.campaigns.list()
    ws = client.workspaces.current()
    name = ws["name"][0] if "name" in ws.columns and ws.height else None
    is_demo = demo or getattr(client, "demo_server", None) is not None
    return make_scope(client, window, campaigns, campaign_ids, workspace=name, demo=is_demo)


def scope_accounts(accounts: pl.DataFrame, campaigns: pl.DataFrame,
                   campaign_ids: Sequence[str]) -> pl.DataFrame:
    """The ``accounts.list`` rows that send for the selected campaigns (all when none is)."""
    if not campaign_ids or "email_list" not in campaigns.columns:
        return accounts
    picked = campaigns.filter(pl.col("id").is_in(list(campaign_ids)))
    used = picked["email_list"].explode().drop_nulls().unique()
    return accounts.filter(pl.col("email").is_in(used.implode()))
