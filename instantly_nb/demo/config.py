"""Settings of the demo server: demo keys, workspace sizes, rate limits and faults.

Everything here is a plain, frozen value. :class:`Limits` says which documented rate limits the
server enforces (and how much faster an interactive demo may go), :class:`Faults` says which
misbehaviours it injects; both are off-the-shelf objects that tests build with a few keywords.

Demo keys
---------
The demo server accepts only demo keys (they are not secrets and look nothing like real keys).
Each key opens its own workspace, generated from its own seed, with its own rate limits:

==========================  ==========  =====
key                         workspace   seed
==========================  ==========  =====
``demo-key-instantly-nb``   ``demo``    the server's ``seed`` argument (7 by default)
``demo-key-north``          ``north``   ``seed_for("north")``
``demo-key-south``          ``south``   ``seed_for("south")``
``demo-key-<name>``         ``<name>``  ``seed_for(name)``: any name of 1-40 lower-case letters,
                                        digits and ``-``, so an agency of any size can be played
==========================  ==========  =====

A name starting with ``unpaid`` (``demo-key-unpaid-co``) plays a workspace without a paid plan:
every request is answered 402. A named workspace carries its name in its id, its display name (``"North Demo Workspace"``) and
every campaign name (``"Series A CTOs [north]"``), so rolled-up data shows where each row came from.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace

__all__ = [
    "DEMO_KEY",
    "DEMO_KEYS",
    "Faults",
    "Limits",
    "SIZES",
    "SizeSpec",
    "demo_key_name",
    "seed_for",
]

DEMO_KEY = "demo-key-instantly-nb"
DEMO_KEY_PREFIX = "demo-key-"
UNPAID_PREFIX = "unpaid"  # demo-key-unpaid-<...>: a workspace without a paid plan (402)
_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")


def seed_for(name: str) -> int:
    """The seed of the demo workspace called ``name`` (stable across runs and machines)."""
    return int.from_bytes(hashlib.sha256(f"demo-workspace:{name}".encode()).digest()[:4], "big")


def demo_key_name(key: str) -> str | None:
    """The workspace name of an extra demo key ``demo-key-<name>``, or None if it is not one."""
    if key == DEMO_KEY or not key.startswith(DEMO_KEY_PREFIX):
        return None
    name = key[len(DEMO_KEY_PREFIX):]
    return name if _NAME.match(name) and name not in ("demo", "instantly-nb") else None


# The extra demo keys documented by name -> seed of the workspace each one opens (any other
# ``demo-key-<name>`` works the same way).
DEMO_KEYS: dict[str, int] = {"demo-key-north": seed_for("north"), "demo-key-south": seed_for("south")}

# Workspace names shown by GET /workspaces/current for each extra key.
DEMO_KEY_NAMES: dict[str, str] = {"demo-key-north": "north", "demo-key-south": "south"}


@dataclass(frozen=True)
class SizeSpec:
    """How big a generated workspace is."""

    campaigns: int
    accounts: int
    campaign_leads: tuple[int, int]  # min/max leads per campaign
    list_leads: int  # leads that sit in lead lists only
    lead_lists: int
    inbox_tests: int
    history_days: int = 90


SIZES: dict[str, SizeSpec] = {
    "tiny": SizeSpec(
        campaigns=8, accounts=12, campaign_leads=(120, 300), list_leads=200, lead_lists=3,
        inbox_tests=2,
    ),
    "default": SizeSpec(
        campaigns=12, accounts=80, campaign_leads=(2500, 5000), list_leads=5000, lead_lists=6,
        inbox_tests=6,
    ),
    "large": SizeSpec(
        campaigns=100, accounts=300, campaign_leads=(6000, 12000), list_leads=100_000,
        lead_lists=40, inbox_tests=20,
    ),
}


@dataclass(frozen=True)
class Limits:
    """The documented rate limits, enforced per workspace with 429 and ``Retry-After``.

    Parameters
    ----------
    enabled : bool
        ``False`` turns every limit off.
    per_second, per_minute : int
        Workspace-wide limits (the API documents 100 per second and 6,000 per minute).
    endpoint_per_minute : dict or None
        Stricter per-endpoint limits by endpoint name; ``None`` takes them from the endpoint
        table (``GET /emails``: 20 per minute).
    speedup : float
        Multiplies every limit (``speedup=10`` lets an interactive demo go ten times faster).
    """

    enabled: bool = True
    per_second: int = 100
    per_minute: int = 6000
    endpoint_per_minute: dict[str, int] | None = None
    speedup: float = 1.0

    def scaled(self, speedup: float) -> Limits:
        """A copy whose limits are multiplied by ``speedup`` (on top of its own factor)."""
        return replace(self, speedup=self.speedup * speedup)

    def allowance(self, count: int) -> int:
        """``count`` requests scaled by the speedup (never below one)."""
        return max(1, int(count * self.speedup))


@dataclass(frozen=True)
class Faults:
    """Misbehaviours injected on demand; every one is off by default.

    Random choices come from a generator seeded with ``seed``, so a run repeats exactly.

    Parameters
    ----------
    latency_ms, jitter_ms : float
        Fixed delay before every answer, plus a uniform random extra of up to ``jitter_ms``.
    error_rate : float
        Share of requests answered with one of ``error_statuses`` (a 429 carries Retry-After).
    error_statuses : tuple of int
        The statuses drawn from for ``error_rate`` (429, 500, 502, 503 by default).
    fail_first : tuple of int
        Statuses answered, in order, to the first requests (deterministic, e.g. ``(503, 429)``).
    hang_rate : float
        Share of requests that sleep ``hang_seconds`` before answering (longer than a client
        timeout).
    truncate_rate, invalid_json_rate : float
        Share of 200 answers whose JSON body is cut in half, or replaced by text that is not JSON.
    empty_final_cursor : bool
        The last page of every cursor list carries ``"next_starting_after": ""``.
    dangling_cursor : bool
        The last page with data still carries a cursor; it leads to an empty page.
    error_in_200 : str or None
        Endpoint name (e.g. ``"accounts.list"``) answered with HTTP 200 and ``{"error": ...}``.
    error_in_200_message : str
        The ``error`` text of that body.
    endpoints : tuple of str
        Limit the random faults (errors, hangs, bodies) to these endpoint names; empty = all.
    seed : int
        Seed of the fault generator.
    """

    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    error_rate: float = 0.0
    error_statuses: tuple[int, ...] = (429, 500, 502, 503)
    fail_first: tuple[int, ...] = ()
    hang_rate: float = 0.0
    hang_seconds: float = 30.0
    truncate_rate: float = 0.0
    invalid_json_rate: float = 0.0
    empty_final_cursor: bool = False
    dangling_cursor: bool = False
    error_in_200: str | None = None
    error_in_200_message: str = "ACC_AUTH_ERROR"
    endpoints: tuple[str, ...] = field(default=())
    seed: int = 0

    def applies_to(self, endpoint_name: str) -> bool:
        """Whether random faults apply to this endpoint."""
        return not self.endpoints or endpoint_name in self.endpoints

    @property
    def any_random(self) -> bool:
        return bool(
            self.error_rate or self.hang_rate or self.truncate_rate or self.invalid_json_rate
        )
