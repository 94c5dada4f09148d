"""The large listings of a side-by-side pull, written out as they are walked, never held whole.

``leads.list`` is walked as a single :class:`~instantly_nb.Client` walks it
(:mod:`instantly_nb.leadwalk`): one cursor chain per campaign, one per lead list and one for the
leads in neither, side by side on the workspace's fan-out pool under its one throttle, so a
workspace's time is no longer one 500-page chain. Every chain shapes its pages every
``batch_pages`` pages (the fast byte reader of :mod:`instantly_nb.rawpages` where it applies)
and hands the rows to the :class:`~instantly_nb.dataset.DatasetWriter`, which writes a part file
whenever it holds ``part_bytes`` of them: at most ``batch_pages`` pages per chain and one part's
rows per listing are held at any time, whatever the size of the workspace, and no merge of the
parts is needed at the end.

Every lead is written exactly once without holding the ids walked so far: a lead in a campaign
and in a list is listed by both chains, and the list chain drops the leads whose campaign has a
chain of its own (the rows :func:`instantly_nb.leadwalk.dedupe` would drop after the fact).

Other listings (``emails.list``) are one chain, written out the same way. A side-by-side pull
hands every leads walk the same ``gate`` (a semaphore), so the chains in flight -- and the pages
they hold -- are bounded over all workspaces, however many are walking.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import polars as pl

from . import leadwalk, rawpages
from .dataset import DatasetWriter, table_schema
from .fanout import run_parts
from .paginate import iter_pages
from .params import prepare
from .throttle import bulk

__all__ = ["chains", "keep_once", "stream"]

def chains(name: str, params: Mapping[str, Any], ids: Callable[[str], Sequence[str]]
           ) -> list[dict[str, Any]]:
    """The cursor chains that list what ``name`` with ``params`` lists (one when not split)."""
    if name == leadwalk.ENDPOINT:
        split = leadwalk.partitions(params, ids)
        if split is not None:
            return split
    return [dict(params)]


def keep_once(frame: pl.DataFrame, chain: Mapping[str, Any], walked: frozenset[str]
              ) -> pl.DataFrame:
    """``frame`` without the leads another chain of the walk lists (those of a campaign in
    ``walked``, when ``chain`` is a lead list's)."""
    if "list_id" not in chain or not walked or "campaign" not in frame.columns:
        return frame
    return frame.filter(pl.col("campaign").is_null() | ~pl.col("campaign").is_in(list(walked)))


def stream(client: Any, writer: DatasetWriter, name: str, params: Mapping[str, Any],
           ids: Callable[[str], Sequence[str]], batch_pages: int,
           gate: AbstractContextManager[Any] | None = None) -> int:
    """Walk listing ``name`` into ``writer`` part by part; return the rows written. Each chain
    is walked inside ``gate`` when given (a semaphore shared by many walks bounds the chains
    in flight over all of them)."""
    endpoint = client.endpoint(name)
    send = client._requester.send
    if rawpages.eligible(name):
        send = rawpages.raw_sender(send, name)
    planned = chains(name, params, ids)
    walked = frozenset(str(c["campaign"]) for c in planned if "campaign" in c)
    writer.begin(name, table_schema(name))

    def one(chain: dict[str, Any]) -> None:
        prepared = prepare(endpoint, chain)
        pages: list[Any] = []
        for page in iter_pages(send, endpoint, path_params=prepared.path, query=prepared.query,
                               body=prepared.body):
            pages.append(page)
            if len(pages) >= batch_pages:
                writer.add(name, keep_once(rawpages.frame(name, pages), chain, walked))
                pages.clear()
        if pages:
            writer.add(name, keep_once(rawpages.frame(name, pages), chain, walked))

    def one_of_many(chain: dict[str, Any]) -> None:
        with bulk(), gate or nullcontext():  # a chain waits beside the workspace's other
            one(chain)  # fetches, as in a Client, and for its turn among all walks' chains

    def single(chain: dict[str, Any]) -> None:
        with gate or nullcontext():
            one(chain)

    # as in Client.fetch: the pages held add objects the cyclic collector would walk again and
    # again, and nothing they hold is cyclic (it runs again when no walk or fetch is left)
    with rawpages.gc_paused():
        run_parts(single if len(planned) == 1 else one_of_many, planned,
                  max_workers=client.max_workers, describe=_describe)
    writer.finish(name)
    return writer.rows[name]


def _describe(chain: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in chain.items()) or "the listing"
