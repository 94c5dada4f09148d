"""What the client does per endpoint beyond the OpenAPI document, declared once.

:data:`instantly_nb.ENDPOINTS` is generated from the official document. What the API does beyond
it (learned from its answers) and what the client does about it is declared here, once, and read
by the client, the named methods, the notebooks, ``instantly-nb pull`` and ``docs/ENDPOINTS.md``:

* :data:`VIEWS` -- frames shaped differently from the entry whose answers they read;
* :data:`WINDOW_DAYS` -- the longest date window one request may cover (the API answers 413
  beyond it); longer windows are split into requests of at most that many days;
* :data:`EVERY_ACCOUNT` -- entries whose ``emails`` default to every account of the workspace;
* :data:`REPEATED_ROWS` -- entries whose split requests may answer the same row twice (overlapping
  batches or windows): rows repeated across parts are dropped;
* :data:`ID_COLUMNS` -- the column added when a list fans out over a single-valued ``id``;
* :data:`HISTORY` -- point-in-time frames the API keeps no history of: each fresh fetch is added
  to a dated history in the snapshot store;
* :data:`INCREMENTAL` -- large listings a stale snapshot refreshes by asking only for what is new;
* :data:`DAILY` -- daily frames kept per day in the store (name -> the column holding the day), so
  a window that overlaps stored days fetches only the missing ones (:mod:`instantly_nb.daily`).

Rate limits of single endpoints (``GET /emails``: 20 a minute) come from the OpenAPI document and
are in the table itself (:attr:`~instantly_nb.spec.Endpoint.per_minute`).
"""

from __future__ import annotations

from dataclasses import dataclass

from .endpoints import ENDPOINTS
from .spec import Field

__all__ = ["DAILY", "EVERY_ACCOUNT", "HISTORY", "ID_COLUMNS", "INCREMENTAL", "Incremental", "REPEATED_ROWS",
           "VIEWS", "View", "WINDOW_DAYS", "entry_of", "fields_of", "id_column", "names",
           "views_of"]


@dataclass(frozen=True)
class View:
    """A frame read from the answers of another entry (``source``), shaped its own way.

    ``reads`` names the part of the answer the view is made of; ``fields`` are the declared
    columns (empty: the source entry's own columns).
    """

    name: str
    source: str
    reads: str
    summary: str
    fields: tuple[Field, ...] = ()


VIEWS: dict[str, View] = {v.name: v for v in (
    View("accounts.warmup_daily", "accounts.warmup_analytics", "email_date_data",
         "one row per account e-mail and date: sent, landed_inbox, landed_spam, received"),
    View("accounts.warmup_summary", "accounts.warmup_analytics", "aggregate_data",
         "one row per account e-mail: sent, landed_inbox, landed_spam, received, health_score, "
         "health_score_label",
         (Field("email", "str"), Field("sent", "int"), Field("landed_inbox", "int"),
          Field("landed_spam", "int"), Field("received", "int"), Field("health_score", "float"),
          Field("health_score_label", "str"))),
)}

WINDOW_DAYS: dict[str, int] = {"accounts.analytics_daily": 31}

EVERY_ACCOUNT: frozenset[str] = frozenset({"accounts.warmup_analytics", "accounts.analytics_daily"})

REPEATED_ROWS: frozenset[str] = frozenset({"accounts.warmup_analytics", "accounts.analytics_daily"})

ID_COLUMNS: dict[str, str] = {
    "campaigns": "campaign_id",
    "subsequences": "subsequence_id",
    "lead_lists": "list_id",
}

HISTORY: frozenset[str] = frozenset({"accounts.warmup_summary", "accounts.list",
                                     "inbox_placement_tests.list",
                                     "inbox_placement_analytics.stats_by_test"})


@dataclass(frozen=True)
class Incremental:
    """Refresh a stale snapshot by asking only for rows past the largest ``column`` it holds,
    with the request parameter ``resume`` set to that value."""

    column: str
    resume: str


INCREMENTAL: dict[str, Incremental] = {
    "leads.list": Incremental("id", "starting_after"),
    "emails.list": Incremental("timestamp_created", "min_timestamp_created"),
}


DAILY: dict[str, str] = {"campaigns.analytics_daily": "date", "accounts.analytics_daily": "date"}


def entry_of(name: str) -> str:
    """The ``ENDPOINTS`` entry behind a fetchable name (a view's source, else the name)."""
    view = VIEWS.get(name)
    return view.source if view is not None else name


def views_of(entry: str) -> tuple[str, ...]:
    """The views that read the answers of ``entry``, in declaration order."""
    return tuple(v.name for v in VIEWS.values() if v.source == entry)


def fields_of(name: str) -> tuple[Field, ...]:
    """The declared columns of the frame of an entry or a view (KeyError for other names)."""
    view = VIEWS.get(name)
    if view is not None and view.fields:
        return view.fields
    return ENDPOINTS[entry_of(name)].fields


def names() -> list[str]:
    """Every name ``client.fetch`` accepts: the table's entries, then the views."""
    return [*ENDPOINTS, *VIEWS]


def id_column(resource: str) -> str:
    """The column a fan-out over a single-valued ``id`` of ``resource`` adds (``id`` by default)."""
    return ID_COLUMNS.get(resource, "id")
