"""``instantly-nb report``: run notebooks with parameters and render one offline HTML report.

Examples::

    instantly-nb report --period previous-week --out reports/
    instantly-nb report --start 2026-11-01 --end 2026-11-15 --campaign <id> --campaign <id>
    instantly-nb report --demo --notebook campaign_overview --notebook deliverability
    instantly-nb report --period previous-week --pdf --email   # also .pdf and .email.html

The API key comes from ``INSTANTLY_API_KEY``. Without it the demo workspace is read only with
``--demo``, or in an interactive terminal (the first line says so); a scheduled run without a key
and without ``--demo`` stops with exit code 2 naming the variable. Only the paths of the written
files go to stdout (one a line); messages go to stderr.

Exit codes (for cron) are the table of :mod:`instantly_nb.exits`, shared with ``pull``: 0 the
report was written; 1 a notebook failed (the report is still written, with the failure shown, and
the executed notebooks are kept next to it); 2 bad usage or configuration (also --pdf without
chromium: the HTML is still written); 3 the API refused the key (401, 402, 403), no report is
written.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

from ..exits import EXIT_AUTH, EXIT_CONFIG, EXIT_FAILED, EXIT_OK, help_text
from . import sources
from .periods import PERIODS, report_filename
from .plan import DEFAULT_NOTEBOOKS, Plan, UsageError, make_plan
from .runner import NotebookRun, classify, kernel_env, run_notebook, scrub

__all__ = [
    "DEFAULT_NOTEBOOKS",
    "Plan",
    "UsageError",
    "build_parser",
    "main",
    "make_plan",
    "run_plan",
]

log = logging.getLogger("instantly_nb.report")


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-11-23") from None


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``instantly-nb report``."""
    parser = argparse.ArgumentParser(
        prog="instantly-nb report",
        description="Run the ready-made notebooks for a date window and write one "
        "self-contained HTML report (code hidden, charts interactive, works offline).",
        epilog=help_text(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    window = parser.add_argument_group("window (default: --period last-7d)")
    window.add_argument("--period", choices=PERIODS, help="a named window; see docs/REPORTS.md")
    window.add_argument("--start", type=_iso_date, help="first day, inclusive (with --end)")
    window.add_argument("--end", type=_iso_date, help="last day, inclusive (with --start)")
    window.add_argument(
        "--as-of",
        type=_iso_date,
        dest="as_of",
        metavar="DATE",
        help="count --period from this day instead of today (backfills)",
    )
    parser.add_argument(
        "--campaign",
        action="append",
        dest="campaigns",
        default=[],
        metavar="ID",
        help="limit to a campaign (repeatable; default all)",
    )
    parser.add_argument(
        "--notebook",
        action="append",
        dest="notebooks",
        default=[],
        metavar="NAME|PATH",
        help=f"notebook to run, in order (repeatable; default {', '.join(DEFAULT_NOTEBOOKS)})",
    )
    parser.add_argument(
        "--notebooks-dir",
        type=Path,
        metavar="DIR",
        help="where to look for notebooks named without a path",
    )
    parser.add_argument("--title", default="Instantly report", help="report title")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("reports"),
        metavar="DIR",
        help="output folder (default ./reports)",
    )
    parser.add_argument(
        "--name", default="instantly-report", help="file name prefix (default instantly-report)"
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="read the embedded demo workspace (invented data); without INSTANTLY_API_KEY a "
        "run outside a terminal needs it",
    )
    parser.add_argument(
        "-p",
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra notebook parameter, e.g. a threshold; VALUE is read as JSON "
        "when it parses, else as text (never pass a key here)",
    )
    parser.add_argument(
        "--cache",
        type=Path,
        metavar="DIR",
        help="keep the fetched frames in this snapshot folder; a later run (e.g. the next "
        "day's) fetches only what changed: new days, the last days the API may still "
        "correct, and lists",
    )
    parser.add_argument(
        "--keep-notebooks",
        action="store_true",
        help="keep the executed notebooks next to the report",
    )
    parser.add_argument(
        "--timeout",
        type=int,
        default=600,
        metavar="SECONDS",
        help="longest time one cell may run (default 600)",
    )
    parser.add_argument(
        "--pdf",
        action="store_true",
        help="also print the report to PDF next to it (needs Debian chromium: "
        "apt-get install chromium)",
    )
    parser.add_argument(
        "--email",
        action="store_true",
        help="also write a light variant to paste into an e-mail body (static charts, inline "
        "styles, no scripts): <name>.email.html",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="errors only on stderr")
    from .agency import add_arguments

    add_arguments(parser)
    return parser


@contextmanager
def _connection(
    plan: Plan, environ: dict[str, str]
) -> Iterator[tuple[str, str | None, str | None, dict[str, str]]]:
    """(api key, base URL, workspace name if known, extra kernel environment); one demo server
    at most."""
    if plan.demo and not plan.demo_running:
        try:
            with sources.demo_server() as connection:
                yield connection
        except sources.DemoUnavailable as exc:
            raise UsageError(str(exc)) from None
    else:
        yield (environ["INSTANTLY_API_KEY"].strip(), environ.get("INSTANTLY_BASE_URL") or None,
               None, {})


class _ScrubFilter(logging.Filter):
    """Last line of defence: no log record leaves with the key in it."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: list[str] = []

    def filter(self, record: logging.LogRecord) -> bool:
        message = [record.getMessage()]
        if scrub(message, self.secrets):
            record.msg, record.args = message[0], None
        return True


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".partial")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)  # a half-written report never sits under the final name


def _refused(kind: str, where: str, message: str) -> int:
    if kind == "auth":
        log.error(
            "%s: the API refused the key (%s). Check INSTANTLY_API_KEY: a V2 key with the "
            "all:read scope, of a workspace on a paid plan.",
            where,
            message,
        )
        return EXIT_AUTH
    log.error("%s: configuration error: %s", where, message)
    return EXIT_CONFIG


def _probe(key: str, base_url: str | None) -> tuple[int | None, str | None]:
    """(exit code if the run must stop, workspace name) from one request before any kernel."""
    from instantly_nb.errors import InstantlyError

    try:
        return None, sources.probe_workspace(key, base_url)
    except InstantlyError as exc:
        kind = classify(type(exc))
        if kind != "failed":
            return _refused(kind, "workspaces.current", str(exc)), None
        log.warning("could not read the workspace name (%s); running the notebooks anyway", exc)
        return None, None


def _run_notebooks(
    plan: Plan, env: dict[str, str], key: str, nb_dir: Path
) -> tuple[int | None, list[NotebookRun]]:
    import nbformat

    params = {
        "start_date": plan.window.start.isoformat(),
        "end_date": plan.window.end.isoformat(),
        "campaign_ids": list(plan.campaign_ids),
        "title": plan.title,
        "demo": plan.demo,
        "scheduled": True,
        **plan.params,
    }
    runs = []
    for path in plan.notebooks:
        log.info("running %s", path.name)
        run = run_notebook(path, params, env, secrets=[key], timeout=plan.timeout)
        runs.append(run)
        saved = nb_dir / f"{run.name}.ipynb"
        if run.kind != "ok" or plan.keep_notebooks:
            _write(saved, nbformat.writes(run.notebook))
        if run.kind in ("auth", "config"):
            return _refused(run.kind, run.name, run.failure or ""), runs
        if run.failure:
            log.error("%s failed: %s (executed notebook: %s)", run.name, run.failure, saved)
    return None, runs


def _write_extras(target: Path, html: str, *, pdf: bool, email: bool) -> int | None:
    """Write the e-mail variant and the PDF next to the report; an exit code if one failed."""
    if email:
        from .email_page import email_page

        path = target.with_name(target.stem + ".email.html")
        _write(path, email_page(html))
        print(path.resolve())
    if pdf:
        from .pdf import PdfError, write_pdf

        try:
            print(write_pdf(target, target.with_suffix(".pdf")).resolve())
        except PdfError as exc:
            log.error("%s", exc)
            return EXIT_CONFIG
    return None


def run_plan(
    plan: Plan,
    environ: dict[str, str],
    secret_filter: _ScrubFilter,
    *,
    pdf: bool = False,
    email: bool = False,
) -> int:
    """Run every notebook of the plan and write the report (and the PDF and e-mail variant
    when asked); return the exit code."""
    from .page import render_report

    target = plan.out_dir / report_filename(plan.window, prefix=plan.name)
    with _connection(plan, environ) as (key, base_url, known_name, extra_env):
        secret_filter.secrets.append(key)
        stop, workspace = _probe(key, base_url)
        if stop is not None:
            return stop
        env = kernel_env({**environ, **extra_env, **cache_env(plan)}, api_key=key,
                         base_url=base_url)
        stop, runs = _run_notebooks(plan, env, key, target.with_name(target.stem + "_notebooks"))
        if stop is not None:
            return stop
    warnings: list[str] = []
    html = render_report(
        [(run.name, run.notebook, run.failure) for run in runs],
        title=plan.title,
        window=plan.window,
        generated_at=datetime.now(UTC),
        workspace=workspace or known_name,
        campaign_ids=plan.campaign_ids,
        demo=plan.demo,
        definitions=sources.metrics_definitions(),
        warnings=warnings,
    )
    for warning in warnings:
        log.warning("%s", warning)
    if scrub([html], [key]):
        log.error("internal error: the API key reached the report page; nothing was written")
        return EXIT_FAILED
    _write(target, html)
    print(target.resolve())
    stop = _write_extras(target, html, pdf=pdf, email=email)
    if stop is not None:
        return stop
    return EXIT_FAILED if any(run.failure for run in runs) else EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``instantly-nb report``; returns the exit code (see the module docstring).

    Parameters
    ----------
    argv : list of str, optional
        Arguments after ``report``; defaults to ``sys.argv[1:]``.
    """
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse exits 0 for --help and 2 for bad usage
        return exc.code if isinstance(exc.code, int) else EXIT_CONFIG
    handler = logging.StreamHandler(sys.stderr)
    secret_filter = _ScrubFilter()
    handler.addFilter(secret_filter)
    handler.setFormatter(logging.Formatter("instantly-nb report: %(message)s"))
    log.addHandler(handler)
    previous_level, log.propagate = log.level, False
    log.setLevel(logging.ERROR if args.quiet else logging.INFO)
    try:
        environ = dict(os.environ)
        if args.workspaces:
            from .agency import run_agency

            return run_agency(args, environ, secret_filter, run_plan=run_plan, write=_write)
        plan = make_plan(args, environ)
        return run_plan(plan, environ, secret_filter, pdf=args.pdf, email=args.email)
    except UsageError as exc:
        log.error("%s", exc)
        return EXIT_CONFIG
    finally:
        log.removeHandler(handler)
        log.setLevel(previous_level)
        log.propagate = True


def cache_env(plan: Plan) -> dict[str, str]:
    """The kernels' snapshot folder (``--cache``), as the variable ``connect()`` reads."""
    from ..settings import CACHE_ENV

    return {CACHE_ENV: str(plan.cache.expanduser().resolve())} if plan.cache else {}
