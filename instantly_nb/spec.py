"""Types of the endpoint table: what one read operation of the API looks like as data.

``instantly_nb.endpoints`` (generated from the official OpenAPI document by
``scripts/gen_endpoints.py``) holds one :class:`Endpoint` per read operation. The client,
the demo server, the frame shaper and the coverage tests all read that one table.

Column naming rule (one rule for every endpoint)
------------------------------------------------
* A field of the item object becomes a column of the same name.
* A nested object with declared properties is flattened: its fields become columns named
  ``<parent>__<child>`` (recursively, e.g. ``campaign_schedule__timezone``).
* An object without declared properties (a free-form map) becomes a ``json`` column: the
  value serialised as JSON text, so nothing is lost and the dtype never varies.
* An array of scalars becomes a ``list[...]`` column; an array of objects becomes a
  ``list[json]`` column (each element serialised as JSON text).
* A field with enum codes gets a second column ``<field>_label`` with the short meaning of
  the code (an unknown code gives a null label).

Dtype vocabulary used in :attr:`Field.dtype`: ``str``, ``int``, ``float``, ``bool``,
``datetime`` (UTC, microseconds), ``date``, ``json``, ``list[str]``, ``list[int]``,
``list[float]``, ``list[bool]``, ``list[json]``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

ParamLocation = Literal["path", "query", "body"]
Pagination = Literal["none", "cursor_query", "cursor_body", "offset"]
Envelope = Literal["items", "array", "object", "keyed", "text"]

DTYPES = (
    "str",
    "int",
    "float",
    "bool",
    "datetime",
    "date",
    "json",
    "list[str]",
    "list[int]",
    "list[float]",
    "list[bool]",
    "list[json]",
)


def csv_column(header: str) -> str:
    """Column name of a CSV header cell ("Blocked Email" -> "blocked_email")."""
    return "_".join("".join(c if c.isalnum() else " " for c in header).lower().split())


@dataclass(frozen=True)
class Param:
    """One request parameter (path, query string or JSON body field)."""

    name: str
    location: ParamLocation
    type: str  # JSON-schema type: string, integer, number, boolean, array, object
    required: bool = False
    format: str | None = None  # uuid, date, date-time, email, ...
    items: str | None = None  # JSON-schema type of array items
    items_format: str | None = None
    enum: tuple[Any, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    min_items: int | None = None
    max_items: int | None = None
    default: Any = None


@dataclass(frozen=True)
class Field:
    """One column of the frame an endpoint returns (after the flattening rule above)."""

    name: str
    dtype: str
    enum: tuple[tuple[Any, str], ...] = ()  # (code, short label) pairs

    @property
    def labels(self) -> dict[Any, str]:
        return dict(self.enum)


@dataclass(frozen=True)
class Endpoint:
    """One read operation of the API.

    ``envelope`` says where the records are in a 200 body:

    * ``items``  -- ``{"items": [...], "next_starting_after": ...}`` (paged or not)
    * ``array``  -- a bare JSON array of records
    * ``object`` -- a single object: one record
    * ``keyed``  -- maps keyed by e-mail and/or date (warmup analytics); shaped specially
    * ``text``   -- not JSON (the block-list CSV download)
    """

    name: str  # "<resource>.<verb>", e.g. "campaigns.analytics_steps"
    operation_id: str
    method: Literal["GET", "POST"]
    path: str  # exactly as in the spec, e.g. "/api/v2/campaigns/{id}"
    params: tuple[Param, ...]
    pagination: Pagination
    envelope: Envelope
    fields: tuple[Field, ...]
    page_limit: int | None = None  # the limit sent on every page (100, audit logs 1000)
    scopes: tuple[str, ...] = ()
    per_minute: int | None = None  # stricter endpoint rate limit, e.g. GET /emails: 20
    success_status: int = 200
    tags: tuple[str, ...] = field(default=())

    @property
    def resource(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def verb(self) -> str:
        return self.name.split(".", 1)[1]

    def param(self, name: str) -> Param | None:
        for p in self.params:
            if p.name == name:
                return p
        return None

    @property
    def path_params(self) -> tuple[Param, ...]:
        return tuple(p for p in self.params if p.location == "path")

    @property
    def column_names(self) -> tuple[str, ...]:
        out: list[str] = []
        for f in self.fields:
            out.append(f.name)
            if f.enum:
                out.append(f"{f.name}_label")
        return tuple(out)
