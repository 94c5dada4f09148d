"""A checked report run: window, notebooks, parameters and output folder from the options.

Everything that can be wrong with the options is found here, before any kernel starts, and
raised as :class:`UsageError` (exit code 2) with a message that says what to do.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError
from ..exits import use_demo
from .periods import DEFAULT_PERIOD, Window, report_filename, resolve_period, utc_today

__all__ = [
    "DEFAULT_NOTEBOOKS",
    "RESERVED_PARAMS",
    "Plan",
    "UsageError",
    "find_notebook",
    "make_plan",
    "notebook_dirs",
]

#: Run when no --notebook is given. leads_and_replies is left out on purpose: it lists lead
#: e-mail addresses, and a recurring report is often mailed around.
DEFAULT_NOTEBOOKS = ("summary", "campaign_overview", "deliverability", "ab_testing")
RESERVED_PARAMS = frozenset(
    {"start_date", "end_date", "campaign_ids", "title", "demo", "scheduled"}
)
_SECRET_WORDS = ("key", "token", "secret", "password")

log = logging.getLogger("instantly_nb.report")


class UsageError(Exception):
    """Bad options or configuration (exit code 2); the message says what to do."""


@dataclass
class Plan:
    """Everything one report run needs, checked."""

    window: Window
    notebooks: list[Path]
    title: str
    out_dir: Path
    name: str
    campaign_ids: list[str]
    demo: bool
    params: dict[str, Any] = field(default_factory=dict)
    keep_notebooks: bool = False
    cache: Path | None = None
    timeout: int = 600
    #: ``demo`` data served by a demo server that is already running (its key and URL are in
    #: the environment): the report is labelled as demo data, no second server is started
    demo_running: bool = False


def _parse_params(items: Sequence[str]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for item in items:
        name, sep, raw = item.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise UsageError(f"--param {item!r}: write NAME=VALUE with NAME a Python name")
        if any(word in name.lower() for word in _SECRET_WORDS):
            raise UsageError(
                f"--param {name}: secrets are never notebook parameters (they are saved in the "
                "executed notebook); set INSTANTLY_API_KEY in the environment instead"
            )
        if name in RESERVED_PARAMS:
            raise UsageError(f"--param {name}: set it with its own option (see --help)")
        try:
            params[name] = json.loads(raw)
        except ValueError:
            params[name] = raw
    return params


def _window(args: argparse.Namespace) -> Window:
    if (args.start is None) != (args.end is None):
        raise UsageError("give both --start and --end (inclusive dates), or neither")
    if args.start is not None:
        if args.period:
            raise UsageError("give either --period or --start/--end, not both")
        try:
            return Window(args.start, args.end)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    period = args.period or DEFAULT_PERIOD
    start, end = resolve_period(period, args.as_of or utc_today())
    return Window(start, end, period)


def notebook_dirs(extra: Path | None = None) -> list[Path]:
    """Folders searched for notebooks named without a path, in order."""
    package = Path(__file__).resolve().parents[1]
    dirs = [extra] if extra else []
    env = os.environ.get("INSTANTLY_NB_NOTEBOOKS")
    if env:
        dirs.append(Path(env))
    dirs += [package / "notebooks", package.parent / "notebooks", Path.cwd() / "notebooks"]
    return dirs


def find_notebook(spec: str, dirs: Sequence[Path]) -> Path:
    """Resolve ``--notebook``: an existing ``.ipynb`` path, or a name found in ``dirs``."""
    path = Path(spec).expanduser()
    if path.suffix == ".ipynb" and path.is_file():
        return path.resolve()
    stem = path.name[: -len(".ipynb")] if path.name.endswith(".ipynb") else path.name
    for folder in dirs:
        candidate = folder / f"{stem}.ipynb"
        if candidate.is_file():
            return candidate.resolve()
    known = sorted({p.stem for d in dirs if d.is_dir() for p in d.glob("*.ipynb")})
    raise UsageError(
        f"notebook {spec!r} not found in {', '.join(str(d) for d in dirs)}; "
        f"available: {', '.join(known) or 'none'} (or give a path to an .ipynb file)"
    )


def make_plan(args: argparse.Namespace, environ: dict[str, str]) -> Plan:
    """Check the options and turn them into a :class:`Plan` (raises :class:`UsageError`)."""
    if args.timeout <= 0:
        raise UsageError("--timeout must be a positive number of seconds")
    if not args.title.strip():
        raise UsageError("--title must not be empty")
    window = _window(args)
    try:
        report_filename(window, prefix=args.name)
    except ValueError as exc:
        raise UsageError(f"--name: {exc}") from None
    dirs = notebook_dirs(args.notebooks_dir)
    notebooks = [find_notebook(spec, dirs) for spec in args.notebooks or DEFAULT_NOTEBOOKS]
    campaigns = [c.strip() for c in args.campaigns if c.strip()]
    params = _parse_params(args.param)
    try:  # no key: the demo only with --demo or in a terminal, which is told so first
        demo = use_demo(args.demo, environ, say=log.warning)
    except ConfigurationError as exc:
        raise UsageError(str(exc)) from None
    _check_out_dir(args.out)  # last: fail before any kernel runs, but after cheap checks
    return Plan(
        window=window,
        notebooks=notebooks,
        title=args.title.strip(),
        out_dir=args.out,
        name=args.name,
        campaign_ids=campaigns,
        demo=demo,
        params=params,
        keep_notebooks=args.keep_notebooks,
        timeout=args.timeout,
        cache=getattr(args, "cache", None),
    )


def _check_out_dir(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--out {folder}: cannot create the folder ({exc.strerror})") from None
    if not os.access(folder, os.W_OK):
        raise UsageError(f"--out {folder}: the folder is not writable")
