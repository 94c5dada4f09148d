"""Several workspaces at once (agencies run one per client).

>>> from instantly_nb import Workspaces
>>> ws = Workspaces.from_file("workspaces.toml")                         # doctest: +SKIP
>>> ws.fetch("campaigns.analytics")                                      # doctest: +SKIP
>>> ws.pull("data/")                                                     # doctest: +SKIP

Each workspace gets its own :class:`~instantly_nb.Client` -- and so its own throttle, because the
API's limits apply per workspace. ``fetch`` gets a frame from every workspace (concurrently) and
concatenates them with a ``workspace`` column first, in the order the workspaces were given; if
one workspace fails, it raises (naming it) and never returns a partial roll-up. ``pull`` writes
every workspace side by side into one hive-partitioned dataset and reports a failed workspace in
its summary without stopping the others (:mod:`instantly_nb.sidebyside`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from .client import Client
from .fanout import run_parts
from .workspaces_file import WorkspacesFileError, demo_keys, read_workspaces_file, resolve_keys

__all__ = ["Workspaces"]


class Workspaces:
    """Named clients; ``fetch`` rolls the same frame up across all of them.

    Parameters
    ----------
    workspaces : mapping of id to API key or Client
    names : mapping of id to display name, optional
        Shown in summaries and reports (the id itself when missing).
    **client_kwargs
        Passed to every Client built from a key (``cache=``, ``progress=``...).
    """

    def __init__(self, workspaces: Mapping[str, str | Client], *,
                 names: Mapping[str, str] | None = None, **client_kwargs: Any):
        if not workspaces:
            raise ValueError("Workspaces needs at least one {name: api_key} entry.")
        self.clients: dict[str, Client] = {}
        try:
            for wid, value in workspaces.items():
                self.clients[wid] = value if isinstance(value, Client) else Client(
                    api_key=value, **client_kwargs)
        except BaseException:
            self.close()
            raise
        self.names: dict[str, str] = {wid: (names or {}).get(wid, wid) for wid in self.clients}
        self._closers: list[Any] = []
        self.demo_server: Any = None  # the demo server behind these clients, if any

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], *, demo: Any = None,
                  environ: Mapping[str, str] | None = None, only: Sequence[str] | None = None,
                  **client_kwargs: Any) -> Workspaces:
        """The workspaces listed in a ``workspaces.toml`` (see :mod:`instantly_nb.workspaces_file`).

        Each key is read from the environment variable its table names. ``demo`` (a running
        :class:`~instantly_nb.demo.DemoServer`) points every workspace without its own
        ``base_url`` at that server, and a variable that is not set falls back to the demo key
        ``demo-key-<id>``, so the same file runs against the demo with no key at all. ``only``
        keeps the listed ids (one scheduled job per workspace); an unknown id is refused.
        """
        entries = read_workspaces_file(path)
        if only:
            unknown = sorted(set(only) - {e.id for e in entries})
            if unknown:
                raise WorkspacesFileError(f"{path} has no workspace {', '.join(unknown)}; it lists "
                                          f"{', '.join(e.id for e in entries)}.")
            entries = [e for e in entries if e.id in set(only)]
        fallback = demo_keys(entries) if demo else {}
        keys = resolve_keys(entries, environ, fallback)
        clients: dict[str, str | Client] = {}
        try:
            for e in entries:
                url = e.base_url or (demo.url if demo is not None else None)
                pacing = demo.client_pacing() if demo is not None and not e.base_url else {}
                clients[e.id] = Client(api_key=keys[e.id], base_url=url, **{**pacing, **client_kwargs})
        except BaseException:
            for c in clients.values():
                if isinstance(c, Client):
                    c.close()
            raise
        return cls(clients, names={e.id: e.name for e in entries})

    def __repr__(self) -> str:
        return f"Workspaces({list(self.clients)})"

    def __enter__(self) -> Workspaces:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for client in self.clients.values():
            client.close()
        while getattr(self, "_closers", None):
            self._closers.pop()()

    def fetch(self, name: str, **params: Any) -> pl.DataFrame:
        """``client.fetch(name, **params)`` in every workspace, with a ``workspace`` column."""

        def one(item: tuple[str, Client]) -> pl.DataFrame:
            ws, client = item
            frame = client.fetch(name, **params)
            return frame.select(pl.lit(ws, dtype=pl.String).alias("workspace"), pl.all())

        parts = list(self.clients.items())
        results = run_parts(one, parts, max_workers=len(parts), describe=lambda p: f"workspace {p[0]!r}")
        return pl.concat(results, how="diagonal_relaxed")

    def pull(self, out: str | os.PathLike[str], **kwargs: Any) -> pl.DataFrame:
        """Pull every workspace side by side into one dataset; see :func:`instantly_nb.sidebyside.pull_all`."""
        from .sidebyside import pull_all

        return pull_all(self, out, **kwargs)
