"""The ``instantly-nb`` command.

Subcommands::

    instantly-nb report ...        run the ready-made notebooks and write one offline HTML report
    instantly-nb pull --out DIR    fetch a whole workspace into parquet files (and the store)
    instantly-nb pull --workspaces FILE --out DIR
                                   every client workspace of a workspaces.toml, side by side,
                                   into one hive-partitioned dataset
    instantly-nb summary           the headline figures of the last 7 days against the 7 before
    instantly-nb demo-server ...   serve the demo workspace on 127.0.0.1 for any HTTP client
    instantly-nb endpoints         list every read endpoint by name

With ``--demo`` ``pull`` and ``summary`` read the embedded demo workspace; without
``INSTANTLY_API_KEY`` they do so only in an interactive terminal, saying so first. Exit codes are
those of :data:`instantly_nb.exits.EXIT_CODES`, listed in ``--help``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

import polars as pl

from .errors import InstantlyError
from .exits import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, exit_code, help_text, use_demo

__all__ = ["main"]


def _client(demo: bool, cache: str | None = None):  # type: ignore[no-untyped-def]
    from .client import Client

    if use_demo(demo):
        return Client.demo(cache=cache)
    return Client(cache=cache)


def _pull(args: argparse.Namespace) -> int:
    if args.workspaces:
        from .workspaces_cli import pull_workspaces

        return pull_workspaces(args)
    try:
        with _client(args.demo) as client:
            summary = client.pull(args.out, days=args.days, skip=args.skip,
                                  emails_since=args.emails_since)
    except KeyboardInterrupt as exc:
        # the pull cancelled its steps and says what it kept; exit now rather than wait for
        # requests still in flight (the output folder is only ever replaced as a whole)
        print(f"\n{exc or 'interrupted'}", file=sys.stderr, flush=True)
        sys.stdout.flush()
        os._exit(EXIT_INTERRUPTED)
    with pl.Config(tbl_rows=100, tbl_hide_dataframe_shape=True, tbl_width_chars=120):
        print(summary)
    print(f"wrote {summary.height} frames to {os.path.abspath(args.out)}")
    bad = summary.filter(pl.col("status").str.starts_with("failed"))
    return EXIT_FAILED if bad.height else EXIT_OK


def _summary(args: argparse.Namespace) -> int:
    from . import views
    from .notebook_helpers.sections import headline_text

    with _client(args.demo) as client:
        scope = views.load_scope(client, days=args.days)
        section = views.summary.view(views.summary.load(scope))
    print(f"Workspace: {scope.workspace or 'unknown'}  ({client.base_url})")
    print(f"Campaigns: {scope.campaigns.height}   {views.UTC_NOTE}")
    print(headline_text(section.headline or {}))
    return 0


def _endpoints(_args: argparse.Namespace) -> int:
    from .endpoints import ENDPOINTS

    for ep in ENDPOINTS.values():
        print(f"{ep.name:<50} {ep.method:<5} {ep.path}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``instantly-nb``; returns the exit code (see :mod:`instantly_nb.exits`)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "report":
        from .report.cli import main as report_main

        return report_main(argv[1:])
    if argv and argv[0] == "demo-server":
        from .demo import main as demo_main

        return int(demo_main(argv[1:]) or 0)
    parser = argparse.ArgumentParser(prog="instantly-nb", description=__doc__, epilog=help_text(),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("report", help="write an offline HTML report (see instantly-nb report --help)")
    sub.add_parser("demo-server", help="serve the demo workspace (see instantly-nb demo-server --help)")
    p = sub.add_parser("pull", help="fetch a whole workspace into parquet files", epilog=help_text(),
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="folder for the parquet files")
    p.add_argument("--days", type=int, default=90, help="analytics window in days (default 90)")
    p.add_argument("--demo", action="store_true", help="read the embedded demo workspace "
                   "(invented data); needed without INSTANTLY_API_KEY unless in a terminal")
    p.add_argument("--skip", action="append", metavar="NAME",
                   help="leave out this step and the steps that need it (e.g. emails.list; "
                        "repeatable)")
    p.add_argument("--emails-since", metavar="DATE",
                   help="list only e-mails created since DATE (YYYY-MM-DD); the e-mail listing "
                        "runs at 20 requests a minute")
    from .workspaces_cli import add_arguments

    add_arguments(p)
    p.set_defaults(run=_pull)
    s = sub.add_parser("summary", help="print the headline figures of the last days",
                       epilog=help_text(), formatter_class=argparse.RawDescriptionHelpFormatter)
    s.add_argument("--days", type=int, default=7,
                   help="length of the period, ending yesterday (UTC; default 7)")
    s.add_argument("--demo", action="store_true", help="read the embedded demo workspace "
                   "(invented data); needed without INSTANTLY_API_KEY unless in a terminal")
    s.set_defaults(run=_summary)
    e = sub.add_parser("endpoints", help="list every read endpoint")
    e.set_defaults(run=_endpoints)
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except InstantlyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exit_code(exc)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
