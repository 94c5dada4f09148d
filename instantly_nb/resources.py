"""Named methods per resource: ``client.campaigns.analytics_steps(...)`` and friends.

One namespace per resource of :data:`instantly_nb.ENDPOINTS`, one method per entry (and per view),
each a thin call of ``client.fetch(name, **params)``. The methods are built from the table, with a
real signature and a docstring listing the entry's parameters, so tab completion and ``?`` help
work in Jupyter -- and there is no hand-written method per endpoint to drift from the table.
"""

from __future__ import annotations

import functools
import inspect
import keyword as keyword_module
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from .endpoint_facts import EVERY_ACCOUNT, VIEWS, entry_of, names
from .endpoints import ENDPOINTS
from .spec import Endpoint

if TYPE_CHECKING:
    import polars as pl

__all__ = ["Fetcher", "Resource", "attach_resources", "resource_names"]


class Fetcher(Protocol):
    """What the named methods need of a client: ``fetch(name, **params)``."""

    def fetch(self, name: str, **params: Any) -> pl.DataFrame: ...


def resource_names() -> list[str]:
    """The resources of the endpoint table (``campaigns``, ``accounts``, ...), sorted."""
    return sorted({name.split(".", 1)[0] for name in ENDPOINTS})


class Resource:
    """The named methods of one resource (``client.campaigns``, ``client.accounts``, ...)."""

    def __init__(self, client: Fetcher, name: str):
        self._client = client
        self._name = name

    def __repr__(self) -> str:
        verbs = ", ".join(v for v in dir(self) if not v.startswith("_"))
        return f"<{self._name}: {verbs}>"

    if TYPE_CHECKING:  # the verbs are built from the table at run time
        def __getattr__(self, verb: str) -> Callable[..., pl.DataFrame]: ...


def _describe(endpoint: Endpoint) -> str:
    lines = [f"{endpoint.method} {endpoint.path} as a DataFrame ({endpoint.name}).", ""]
    if endpoint.pagination != "none":
        lines.append("Every page is fetched; the client sets the page size.")
    lines.append("Parameters")
    lines.append("----------")
    for p in endpoint.params:
        if p.name in ("limit", "starting_after", "offset"):
            continue
        kind = p.type if p.type != "array" else f"list of {p.items or 'string'}"
        flags = []
        if p.required:
            flags.append("required")
        if p.format:
            flags.append(p.format)
        if p.enum:
            flags.append("one of " + ", ".join(map(str, p.enum[:12])) + ("..." if len(p.enum) > 12 else ""))
        if p.name == "emails" and endpoint.name in EVERY_ACCOUNT:
            flags.append("every account of the workspace by default")
        if p.max_items:
            flags.append(f"at most {p.max_items} per request (batched automatically)")
        lines.append(f"{p.name} : {kind}{', ' + '; '.join(flags) if flags else ''}")
    lines += ["refresh : bool", "    Bypass the snapshot store.", "",
              "Returns", "-------", "polars.DataFrame", f"    Columns: {', '.join(endpoint.column_names[:20])}"
              + (", ..." if len(endpoint.column_names) > 20 else "")]
    return "\n".join(lines)


def _method(name: str, endpoint: Endpoint, doc: str | None = None) -> Any:
    def call(self: Resource, **params: Any) -> Any:
        return self._client.fetch(name, **params)

    keyword = [
        inspect.Parameter(p.name, inspect.Parameter.KEYWORD_ONLY, default=None)
        for p in endpoint.params
        if p.name.isidentifier() and not keyword_module.iskeyword(p.name)
        and p.name not in ("limit", "starting_after", "offset")
    ]
    keyword.append(inspect.Parameter("refresh", inspect.Parameter.KEYWORD_ONLY, default=False))
    # names that are Python keywords (``from``) still pass through: fetch(**{"from": ...})
    keyword.append(inspect.Parameter("params", inspect.Parameter.VAR_KEYWORD))
    call.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD), *keyword]
    )
    call.__name__ = name.split(".", 1)[1]
    call.__qualname__ = name
    call.__doc__ = (doc + "\n\n" if doc else "") + _describe(endpoint)
    return call


@functools.cache
def _namespace_classes() -> dict[str, type[Resource]]:
    classes: dict[str, type[Resource]] = {}
    for resource in resource_names():
        attrs: dict[str, Any] = {"__doc__": f"Named reads of the {resource} resource."}
        for name in names():
            if name.split(".", 1)[0] != resource:
                continue
            endpoint = ENDPOINTS[entry_of(name)]
            view = VIEWS.get(name)
            doc = f"The {name} view: {view.summary}." if view else None
            attrs[name.split(".", 1)[1]] = _method(name, endpoint, doc)
        classes[resource] = type(f"{resource.title().replace('_', '')}Resource", (Resource,), attrs)
    return classes


def attach_resources(client: Fetcher) -> None:
    """Give ``client`` one attribute per resource."""
    for resource, cls in _namespace_classes().items():
        setattr(client, resource, cls(client, resource))
