"""``instantly-nb report --workspaces FILE``: a portfolio page and one report per client.

Every client's report is the ordinary report (:func:`instantly_nb.report.cli.run_plan`: the same
notebooks, page and checks) run with that client's key alone in the kernels' environment, so it
can hold nothing of another client. The portfolio page is rendered by the same page machinery
from the rows of :mod:`instantly_nb.report.portfolio`. A client whose key is refused or whose
notebooks fail is named on the portfolio page and in the exit code; the others are written.

Files, in ``--out``::

    <name>-portfolio_<start>_<end>.html      every client, best human reply rate first
    <name>-<client id>_<start>_<end>.html    one per client, that client's data only
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import InstantlyError
from .periods import report_filename
from .plan import Plan

__all__ = ["run_agency"]

log = logging.getLogger("instantly_nb.report")


def _client_env(environ: Mapping[str, str], key: str, base_url: str | None,
                pacing: str | None) -> dict[str, str]:
    from ..settings import KEY_ENV, PACING_ENV, URL_ENV

    env = {k: v for k, v in environ.items() if k not in (KEY_ENV, URL_ENV)}
    env[KEY_ENV] = key
    if base_url:
        env[URL_ENV] = base_url
    if pacing:
        env[PACING_ENV] = pacing
    return env


def _is_demo(ws: Any, wid: str) -> bool:
    """The client's data comes from the demo server (not a workspace with its own URL)."""
    server = ws.demo_server
    return server is not None and ws.clients[wid].base_url.rstrip("/") == server.url.rstrip("/")


def _rows(ws: Any, plan: Plan, files: dict[str, str]) -> tuple[list[dict[str, Any]], list[Any]]:
    from .portfolio import client_row, failed_row, load_client

    rows, datas = [], []
    for wid, client in ws.clients.items():
        name = ws.names[wid]
        try:
            data = load_client(client, plan.window, demo=_is_demo(ws, wid))
        except InstantlyError as exc:
            rows.append(failed_row(wid, name, f"failed: {type(exc).__name__}: {exc}"))
            continue
        data.client = name
        datas.append(data)
        rows.append(client_row(wid, name, data, files[wid]))
    return rows, datas


def _client_reports(ws: Any, plan: Plan, keys: Mapping[str, str], environ: Mapping[str, str],
                    server: Any, secret_filter: Any, run_plan: Callable[..., int]) -> dict[str, int]:
    from ..settings import format_pacing

    pacing = format_pacing(server.client_pacing()) if server is not None else None
    codes = {}
    for wid, client in ws.clients.items():
        # demo data is labelled as such; the server is the one already running (demo_running)
        one = dataclasses.replace(plan, name=f"{plan.name}-{wid}", demo=_is_demo(ws, wid),
                                  demo_running=True, title=f"{ws.names[wid]}: {plan.title}")
        log.info("report of %s", ws.names[wid])
        env = _client_env(environ, keys[wid], client.base_url, pacing)
        codes[wid] = run_plan(one, env, secret_filter)
    return codes


def _portfolio_page(rows: list[dict[str, Any]], datas: list[Any], plan: Plan, demo: bool) -> str:
    from . import sources
    from .page import render_report
    from .portfolio import pooled, portfolio_notebook, rank

    frame = rank(rows)
    nb = portfolio_notebook(frame, pooled(datas), plan.window)
    return render_report([("portfolio", nb, None)], title=f"{plan.title}: portfolio",
                         window=plan.window, generated_at=datetime.now(UTC),
                         workspace=f"{frame.height} client workspaces", demo=demo,
                         definitions=sources.metrics_definitions())


def run_agency(args: argparse.Namespace, environ: dict[str, str], secret_filter: Any, *,
               run_plan: Callable[..., int], write: Callable[[Path, str], None]) -> int:
    """Write the portfolio page and every client's report; return the exit code.

    ``run_plan`` writes one client's report and ``write`` a page (those of
    :mod:`instantly_nb.report.cli`, which calls this).
    """
    from ..errors import ConfigurationError
    from ..exits import EXIT_CONFIG

    try:
        return _run(args, environ, secret_filter, run_plan, write)
    except ConfigurationError as exc:
        log.error("%s", exc)
        return EXIT_CONFIG


def _run(args: argparse.Namespace, environ: dict[str, str], secret_filter: Any,
         run_plan: Callable[..., int], write: Callable[[Path, str], None]) -> int:
    from ..exits import EXIT_FAILED, EXIT_OK
    from ..settings import KEY_ENV
    from ..workspaces_cli import open_workspaces
    from ..workspaces_file import demo_keys, read_workspaces_file, resolve_keys
    from .plan import make_plan
    from .runner import scrub

    entries = read_workspaces_file(args.workspaces)
    if args.only:
        entries = [e for e in entries if e.id in set(args.only)]
    plan = make_plan(args, {**environ, KEY_ENV: "-"})  # keys come from the file's variables
    with open_workspaces(args.workspaces, args.demo, args.demo_size, only=args.only) as ws:
        server = ws.demo_server
        keys = resolve_keys(entries, environ, demo_keys(entries) if server is not None else None)
        secret_filter.secrets.extend(keys.values())
        files = {wid: report_filename(plan.window, prefix=f"{plan.name}-{wid}") for wid in ws.clients}
        codes = _client_reports(ws, plan, keys, environ, server, secret_filter, run_plan)
        rows, datas = _rows(ws, plan, files)
        demo = any(_is_demo(ws, wid) for wid in ws.clients)  # any demo row: the page says so
    for row in rows:
        code = codes.get(row["id"], EXIT_OK)
        if code != EXIT_OK and row["status"] == "ok":
            row["status"] = f"report failed (exit code {code})"
    html = _portfolio_page(rows, datas, plan, demo)
    if scrub([html], list(keys.values())):
        log.error("internal error: an API key reached the portfolio page; nothing was written")
        return EXIT_FAILED
    target = plan.out_dir / report_filename(plan.window, prefix=f"{plan.name}-portfolio")
    write(target, html)
    print(target.resolve())
    failed = [r["client"] for r in rows if r["status"] != "ok"]
    if failed:
        log.error("no complete report for: %s (see the portfolio page)", ", ".join(failed))
    return EXIT_FAILED if failed else EXIT_OK


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--workspaces`` and its companions on ``instantly-nb report``."""
    group = parser.add_argument_group("many client workspaces")
    group.add_argument("--workspaces", metavar="FILE",
                       help="a workspaces.toml: write a portfolio page and one report per client")
    group.add_argument("--workspace", action="append", dest="only", metavar="ID",
                       help="only this client of the file (repeatable)")
    group.add_argument("--demo-size", default="default", choices=("tiny", "default", "large"),
                       help="size of each demo workspace with --demo --workspaces")
