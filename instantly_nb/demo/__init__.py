"""The embedded demo workspace: a local server that speaks the Instantly API V2.

Everything runs with no account, no key and no network::

    from instantly_nb.demo import DEMO_KEY, DemoServer

    with DemoServer(size="default", seed=7) as server:
        server.url   # "http://127.0.0.1:<port>"; send "Authorization: Bearer " + DEMO_KEY

The server is routed by ``instantly_nb.endpoints.ENDPOINTS`` (one handler per entry) and answers
every read endpoint from one generated, seeded workspace (:func:`build_workspace`), so the
analytics agree with each other for any date window. :class:`Limits` sets the enforced rate
limits (429 + ``Retry-After``), :class:`Faults` the injected misbehaviours.
``python -m instantly_nb.demo`` (or ``instantly-nb demo-server``) serves it from a terminal.

Keys
    ``DEMO_KEY`` (``"demo-key-instantly-nb"``) opens the workspace of the server's ``seed``;
    ``DEMO_KEYS`` adds ``"demo-key-north"`` and ``"demo-key-south"``, and any other
    ``"demo-key-<name>"`` opens a workspace seeded from ``<name>`` (its name in its id, display
    name and campaign names), each with its own rate limits. ``server.keys`` maps the keys seen
    so far to workspace names.

Today
    The 90-day history ends on ``today``: the current UTC date when the workspace is built,
    unless ``DemoServer(today="2026-11-20")`` / ``build_workspace(today=...)`` pins it (tests
    do). Same (seed, size, today) -> byte-identical answers.

Ground truth
    ``server.workspace.truth`` (:class:`Truth`) lists what the generator planted: variants
    made about 2x / 1x / 0.5x as likely to get replies as their step's control, accounts whose
    warmup health decays or whose spam placement rises, accounts in an error state, campaign
    statuses, campaigns with open tracking off.
"""

from __future__ import annotations

from .cli import main
from .config import DEMO_KEY, DEMO_KEYS, SIZES, Faults, Limits
from .examples import example_params
from .model import Truth, VariantTruth
from .server import DemoServer
from .workspace import Workspace, build_workspace

__all__ = [
    "DEMO_KEY",
    "DEMO_KEYS",
    "SIZES",
    "DemoServer",
    "Faults",
    "Limits",
    "Truth",
    "VariantTruth",
    "Workspace",
    "build_workspace",
    "example_params",
    "main",
]
