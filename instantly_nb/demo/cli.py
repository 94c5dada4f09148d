"""Command line of the demo server (``python -m instantly_nb.demo`` / ``instantly-nb
demo-server``): prints the base URL and the key it accepts, then serves until Ctrl-C."""

from __future__ import annotations

import argparse
import threading
from collections.abc import Sequence
from dataclasses import fields, replace
from typing import Any

from .config import DEMO_KEY, SIZES, Faults, Limits
from .quirks import MODES, QUIRKS_ENV

__all__ = ["build_parser", "main", "parse_faults"]


def build_parser(prog: str = "python -m instantly_nb.demo") -> argparse.ArgumentParser:
    """The argument parser of the demo server command."""
    p = argparse.ArgumentParser(prog=prog, description="Serve the instantly_nb demo workspace "
                                "(a local Instantly API V2) on 127.0.0.1.")
    p.add_argument("--port", type=int, default=0, help="port to listen on (0 = any free port)")
    p.add_argument("--size", choices=sorted(SIZES), default="default")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--today", help="last day of the history, YYYY-MM-DD (default: today, UTC)")
    p.add_argument("--key", default=None,
                   help=f"the only key the server accepts (default: the public demo key {DEMO_KEY} "
                        "and the extra demo keys)")
    p.add_argument("--latency-ms", type=float, default=0.0)
    p.add_argument("--jitter-ms", type=float, default=0.0)
    p.add_argument("--speedup", type=float, default=1.0, help="multiply every rate limit")
    p.add_argument("--no-limits", action="store_true", help="do not enforce rate limits")
    p.add_argument("--quirks", choices=MODES, default=None,
                   help="'live': answer in the shapes the live API really sends; 'strict': as "
                        f"the OpenAPI document says (default: ${QUIRKS_ENV} or strict)")
    f = p.add_argument_group("faults (all off by default)")
    f.add_argument("--error-rate", type=float, default=0.0,
                   help="share of requests answered with 429/500/502/503")
    f.add_argument("--error-statuses", default="429,500,502,503")
    f.add_argument("--fail-first", default="", help="statuses for the first requests, e.g. 503,429")
    f.add_argument("--hang-rate", type=float, default=0.0)
    f.add_argument("--hang-seconds", type=float, default=30.0)
    f.add_argument("--truncate-rate", type=float, default=0.0)
    f.add_argument("--invalid-json-rate", type=float, default=0.0)
    f.add_argument("--empty-final-cursor", action="store_true")
    f.add_argument("--dangling-cursor", action="store_true")
    f.add_argument("--error-in-200", metavar="ENDPOINT", help="e.g. accounts.list")
    f.add_argument("--fault-endpoints", default="", help="comma list of endpoint names")
    f.add_argument("--fault-seed", type=int, default=0)
    f.add_argument("--faults", default="", metavar="SPEC",
                   help="Faults fields as name=value pairs, e.g. "
                        "'error_rate=0.1,dangling_cursor=true,error_statuses=500+503'")
    return p


def _codes(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(",") if part.strip())


def parse_faults(spec: str, base: Faults | None = None) -> Faults:
    """``"name=value,..."`` (fields of :class:`Faults`; tuples joined with ``+``) -> Faults."""
    base = base or Faults()
    changes: dict[str, Any] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        name, _, text = item.partition("=")
        name = name.strip().replace("-", "_")
        if name not in {f.name for f in fields(Faults)}:
            raise SystemExit(f"--faults: unknown fault {name!r}; known: "
                             f"{', '.join(f.name for f in fields(Faults))}")
        current = getattr(base, name)
        if isinstance(current, bool):
            changes[name] = text.strip().lower() in ("1", "true", "yes", "on")
        elif isinstance(current, tuple):
            parts = [p for p in text.split("+") if p.strip()]
            changes[name] = tuple(int(p) if p.strip().lstrip("-").isdigit() else p.strip()
                                  for p in parts)
        elif isinstance(current, int):
            changes[name] = int(text)
        elif isinstance(current, float):
            changes[name] = float(text)
        else:
            changes[name] = text.strip() or None
    return replace(base, **changes)


def faults_from_args(args: argparse.Namespace) -> Faults:
    """The :class:`Faults` the command line asks for."""
    return parse_faults(args.faults, _flag_faults(args))


def _flag_faults(args: argparse.Namespace) -> Faults:
    return Faults(
        latency_ms=args.latency_ms, jitter_ms=args.jitter_ms, error_rate=args.error_rate,
        error_statuses=_codes(args.error_statuses), fail_first=_codes(args.fail_first),
        hang_rate=args.hang_rate, hang_seconds=args.hang_seconds,
        truncate_rate=args.truncate_rate, invalid_json_rate=args.invalid_json_rate,
        empty_final_cursor=args.empty_final_cursor, dangling_cursor=args.dangling_cursor,
        error_in_200=args.error_in_200,
        endpoints=tuple(e.strip() for e in args.fault_endpoints.split(",") if e.strip()),
        seed=args.fault_seed,
    )


def main(argv: Sequence[str] | None = None, *, stop: threading.Event | None = None) -> int:
    """Run the demo server until Ctrl-C (or until ``stop`` is set); returns the exit code."""
    from .server import DemoServer

    args = build_parser().parse_args(argv)
    key = args.key or DEMO_KEY
    server = DemoServer(size=args.size, seed=args.seed, faults=faults_from_args(args),
                        key=key, limits=Limits(enabled=not args.no_limits),
                        speedup=args.speedup, today=args.today, port=args.port,
                        quirks=args.quirks, extra_keys=args.key is None)
    server.start()
    print(f"instantly_nb demo server: {server.url}", flush=True)
    print(f"answers: {server.quirks.mode} (--quirks live: as the live API really answers)",
          flush=True)
    if args.key is None:  # the public demo keys can be shown; a key of the user's is not
        others = ", ".join(k for k in server.keys if k != key)
        print(f"accepted key: {key}  (extra demo keys: {others})", flush=True)
        print(f"export INSTANTLY_BASE_URL={server.url} INSTANTLY_API_KEY={key}", flush=True)
    else:
        print("accepted key: the one given with --key, and no other", flush=True)
        print(f"export INSTANTLY_BASE_URL={server.url} INSTANTLY_API_KEY=<your --key>", flush=True)
    waiter = stop or threading.Event()
    try:
        while not waiter.wait(0.5):
            pass
    except KeyboardInterrupt:
        print("stopping", flush=True)
    finally:
        server.stop()
    return 0
