"""Where a report run gets its workspace from: the demo server, the key's workspace name, and
the package's metric definitions.

Only this module of the report talks to other parts of instantly_nb (the demo server, the
client, the metric registry), each import kept inside the function that needs it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["DemoUnavailable", "demo_server", "metrics_definitions", "probe_workspace"]

DEMO_SPEEDUP = 50.0


class DemoUnavailable(RuntimeError):
    """The embedded demo workspace cannot be started in this installation."""


@contextmanager
def demo_server() -> Iterator[tuple[str, str, str | None, dict[str, str]]]:
    """Start one demo server for the whole run.

    Yields ``(key, base URL, workspace name, extra kernel environment)``; the environment tells
    the notebooks' clients to pace themselves to the server's relaxed limits.
    """
    try:
        from instantly_nb.demo import DEMO_KEY, DemoServer
    except ImportError as exc:
        raise DemoUnavailable(
            f"the demo workspace is not available ({exc}); set INSTANTLY_API_KEY to report "
            "on a real workspace"
        ) from None
    # Same workspace as Client.demo() (default size, seed 7), with its relaxed rate limits.
    from instantly_nb.settings import PACING_ENV, format_pacing

    with DemoServer(speedup=DEMO_SPEEDUP) as server:
        extra = {PACING_ENV: format_pacing(server.client_pacing())}
        yield DEMO_KEY, server.url, server.keys.get(DEMO_KEY), extra


def probe_workspace(api_key: str, base_url: str | None) -> str | None:
    """The name of the key's workspace (``GET /api/v2/workspaces/current``).

    One request before any kernel starts: a refused key ends the run at once (exit 3) and the
    header gets the workspace name.

    Raises
    ------
    instantly_nb.errors.InstantlyError
        As raised by the client (``AuthenticationError`` for a refused key, ...).
    """
    from instantly_nb.client import Client

    with Client(api_key=api_key, base_url=base_url, progress=False) as client:
        frame = client.fetch("workspaces.current")
    if "name" not in frame.columns or frame.height == 0:
        return None
    name = frame["name"][0]
    return str(name) if name else None


def metrics_definitions() -> list[tuple[str, str]]:
    """``(label, definition)`` of every rate in :mod:`instantly_nb.metrics.definitions`.

    The report shows one of them only when a table header names it (e.g. "Reply rate").
    """
    try:
        from instantly_nb.metrics.definitions import RATES
    except ImportError:
        return []
    pairs = []
    for rate in RATES.values():
        text = rate.definition()
        pairs.append((rate.label, f"{text} {rate.caveat}".strip()))
    return pairs
