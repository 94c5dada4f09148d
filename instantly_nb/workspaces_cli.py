"""``instantly-nb pull --workspaces FILE``: every client workspace of a workspaces file, side by side.

``--demo`` serves the file's workspaces from the embedded demo server (a workspace whose key
variable is not set gets the demo key ``demo-key-<id>``), so the same file runs with no account.
The printed summary has one line per workspace; the exit code is 0 when every workspace was
pulled completely, 1 when any workspace or endpoint failed (the others are still written).
"""

from __future__ import annotations

import argparse
import contextlib
import os
from collections.abc import Iterator
from typing import Any

import polars as pl

__all__ = ["add_arguments", "open_workspaces", "pull_workspaces"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options ``pull`` (and ``report``) take for a workspaces file."""
    parser.add_argument("--workspaces", metavar="FILE",
                        help="a workspaces.toml: pull every client workspace it lists, side by side, "
                             "into one hive-partitioned dataset")
    parser.add_argument("--workspace", action="append", dest="only", metavar="ID",
                        help="only this workspace of the file (repeatable): one scheduled job per "
                             "workspace can write into the same dataset")
    parser.add_argument("--demo-size", default="default", choices=("tiny", "default", "large"),
                        help="size of each demo workspace with --demo --workspaces (default: default)")
    parser.add_argument("--workers", type=int, default=32,
                        help="endpoint fetches in flight at once over all workspaces (default 32)")
    parser.add_argument("--at-once", type=int, default=None, metavar="N",
                        help="workspaces pulled at once, each walking its e-mail listing; the next "
                             "starts when one is done (default 10; their other steps run for 4 "
                             "at a time, so memory does not grow with the file's length)")


@contextlib.contextmanager
def open_workspaces(path: str, demo: bool, size: str = "default", today: Any = None,
                    only: list[str] | None = None) -> Iterator[Any]:
    """The file's :class:`~instantly_nb.Workspaces`, with a demo server behind it if asked."""
    from .demo import DemoServer, Limits
    from .workspaces import Workspaces
    from .workspaces_file import read_workspaces_file

    read_workspaces_file(path)  # a bad file is refused before any server starts
    server = DemoServer(size=size, limits=Limits(), speedup=50.0, today=today).start() if demo else None
    try:
        with Workspaces.from_file(path, demo=server, only=only) as ws:
            ws.demo_server = server
            yield ws
    finally:
        if server is not None:
            server.stop()


def pull_workspaces(args: argparse.Namespace) -> int:
    """``instantly-nb pull --workspaces FILE``: every workspace side by side; the exit code."""
    with open_workspaces(args.workspaces, args.demo, args.demo_size, only=args.only) as ws:
        extra = {"at_once": args.at_once} if getattr(args, "at_once", None) else {}
        summary = ws.pull(args.out, days=args.days, workers=args.workers, **extra)
    with pl.Config(tbl_rows=1000, tbl_hide_dataframe_shape=True, tbl_width_chars=160,
                   fmt_str_lengths=120):
        print(summary)
    ok = summary.filter(pl.col("status") == "ok").height
    print(f"{ok} of {summary.height} workspaces pulled completely into {os.path.abspath(args.out)} "
          "(read it with instantly_nb.open_dataset)")
    return 0 if ok == summary.height else 1
