"""Several workspaces at once (agencies run one per client).

>>> from instantly_nb import Workspaces
>>> ws = Workspaces({"acme": "key-of-acme", "globex": "key-of-globex"})   # doctest: +SKIP
>>> ws.fetch("campaigns.analytics")                                      # doctest: +SKIP

Each workspace gets its own :class:`~instantly_nb.Client` -- and so its own throttle, because the
API's limits apply per workspace. Frames are fetched from every workspace (concurrently) and
concatenated with a ``workspace`` column first, in the order the workspaces were given. If one
workspace fails, the call raises (naming it); it never returns a partial roll-up.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from .client import Client
from .fanout import run_parts

__all__ = ["Workspaces"]


class Workspaces:
    """Named clients; ``fetch`` rolls the same frame up across all of them.

    Parameters
    ----------
    workspaces : mapping of name to API key or Client
    **client_kwargs
        Passed to every Client built from a key (``cache=``, ``progress=``...).
    """

    def __init__(self, workspaces: Mapping[str, str | Client], **client_kwargs: Any):
        if not workspaces:
            raise ValueError("Workspaces needs at least one {name: api_key} entry.")
        self.clients: dict[str, Client] = {
            name: value if isinstance(value, Client) else Client(api_key=value, **client_kwargs)
            for name, value in workspaces.items()
        }

    def __repr__(self) -> str:
        return f"Workspaces({list(self.clients)})"

    def __enter__(self) -> Workspaces:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for client in self.clients.values():
            client.close()

    def fetch(self, name: str, **params: Any) -> pl.DataFrame:
        """``client.fetch(name, **params)`` in every workspace, with a ``workspace`` column."""

        def one(item: tuple[str, Client]) -> pl.DataFrame:
            ws, client = item
            frame = client.fetch(name, **params)
            return frame.select(pl.lit(ws, dtype=pl.String).alias("workspace"), pl.all())

        parts = list(self.clients.items())
        results = run_parts(one, parts, max_workers=len(parts), describe=lambda p: f"workspace {p[0]!r}")
        return pl.concat(results, how="diagonal_relaxed")
