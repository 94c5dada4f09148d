"""The one pagination routine.

Three styles exist in the API (see ``Endpoint.pagination``):

* ``cursor_query`` -- ``limit`` and ``starting_after`` in the query string, the answer carries
  ``next_starting_after``;
* ``cursor_body`` -- the same two fields in the JSON body (``POST /api/v2/leads/list``);
* ``offset`` -- ``offset`` and ``limit`` in the query string, a short page ends the walk.

A walk stops on a missing or empty-string cursor or on an empty page. A cursor seen before raises
:class:`~instantly_nb.errors.PaginationError` instead of looping, and so does a walk longer than
``max_pages``. No other module knows the cursor field names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from .errors import PaginationError
from .spec import Endpoint

__all__ = ["iter_pages", "DEFAULT_MAX_PAGES", "CURSOR_PARAMS"]

DEFAULT_MAX_PAGES = 100_000
CURSOR_PARAMS = frozenset({"starting_after", "limit", "offset"})

Send = Callable[..., Any]


def iter_pages(
    send: Send,
    endpoint: Endpoint,
    *,
    path_params: Mapping[str, str] | None = None,
    query: Mapping[str, Any] | None = None,
    body: Mapping[str, Any] | None = None,
    max_pages: int | None = None,
    on_page: Callable[[int], None] | None = None,
) -> Iterator[Any]:
    """Yield the decoded body of every page of one listing.

    ``send(endpoint, path_params=..., query=..., body=...)`` performs one request (normally
    :meth:`instantly_nb.http.Requester.send`). ``on_page(n_items)`` is called after each page.
    A caller-supplied ``starting_after`` (or ``offset``) is where the walk begins; a
    caller-supplied ``limit`` sets the page size.
    """
    query = dict(query or {})
    body = dict(body or {})
    if endpoint.pagination == "none":
        page = send(endpoint, path_params=path_params, query=query, body=body)
        if on_page:
            on_page(_count(page))
        yield page
        return
    limit_cap = max_pages if max_pages is not None else DEFAULT_MAX_PAGES
    if endpoint.pagination == "offset":
        yield from _offset_pages(send, endpoint, path_params, query, body, limit_cap, on_page)
        return
    carrier = body if endpoint.pagination == "cursor_body" else query
    carrier.setdefault("limit", endpoint.page_limit or 100)
    seen: set[str] = set()
    cursor = carrier.get("starting_after")
    if cursor:
        seen.add(str(cursor))
    for n in range(limit_cap + 1):
        if n == limit_cap:
            raise PaginationError(
                f"{endpoint.method} {endpoint.path} returned more than {limit_cap} pages; "
                "raise max_pages if the listing really is that long."
            )
        if cursor:
            carrier["starting_after"] = cursor
        page = send(endpoint, path_params=path_params, query=query, body=body)
        items = page.get("items") if isinstance(page, dict) else None
        if on_page:
            on_page(len(items or ()))
        yield page
        cursor = page.get("next_starting_after") if isinstance(page, dict) else None
        if not items or not cursor:
            return
        cursor = str(cursor)
        if cursor in seen:
            raise PaginationError(
                f"{endpoint.method} {endpoint.path} sent the cursor {cursor!r} twice; stopping "
                "instead of looping. The listing changed underneath or the API misbehaved: "
                "fetch again."
            )
        seen.add(cursor)


def _offset_pages(
    send: Send,
    endpoint: Endpoint,
    path_params: Mapping[str, str] | None,
    query: dict[str, Any],
    body: dict[str, Any],
    cap: int,
    on_page: Callable[[int], None] | None,
) -> Iterator[Any]:
    limit = int(query.setdefault("limit", endpoint.page_limit or 100))
    offset = int(query.get("offset") or 0)
    for n in range(cap + 1):
        if n == cap:
            raise PaginationError(
                f"{endpoint.method} {endpoint.path} returned more than {cap} pages; "
                "raise max_pages if the listing really is that long."
            )
        query["offset"] = offset
        page = send(endpoint, path_params=path_params, query=query, body=body)
        count = _count(page)
        if on_page:
            on_page(count)
        yield page
        if count < limit:
            return
        offset += count


def _count(page: Any) -> int:
    if isinstance(page, list):
        return len(page)
    if isinstance(page, dict) and isinstance(page.get("items"), list):
        return len(page["items"])
    return 1
