"""What a side-by-side pull (:mod:`instantly_nb.sidebyside`) lets run at once, and the
allocator setting its many threads need.

Every workspace in flight runs its *light* steps at once -- the long walks paced by a
per-workspace limit (the e-mail listing, the leads) and the two short listings the lead chains
come from -- while its other, *heavy* steps (many short fetches: where a pull's CPU and memory
go) wait for one of a few heavy slots (:class:`Slots`).
"""

from __future__ import annotations

from typing import Any, Protocol

from .leadwalk import ENDPOINT as LEADS

__all__ = ["LIGHT", "LEAD_CHAINS", "Slots", "few_arenas", "light"]

LEAD_CHAINS = ("campaigns.list", "lead_lists.list")  # leads are walked one chain per entry
# outside the heavy slots: the long walks at a per-workspace limit (one page per round trip and
# chain) -- the e-mail listing, and the leads, whose chains are bounded over all workspaces --
# and the two short listings the lead chains come from, so every leads walk starts at once
LIGHT = frozenset({"emails.list", LEADS, *LEAD_CHAINS})
ARENAS = 2  # the C allocator's arenas for the many threads of a pull (see few_arenas)
M_ARENA_MAX = -8  # mallopt's parameter number (malloc.h)


class _Step(Protocol):
    @property
    def name(self) -> str: ...


class _Job(Protocol):
    heavy_running: int
    error: str | None
    pending: list[Any]


def light(step: _Step) -> bool:
    """Whether ``step`` runs beside the heavy steps, outside the heavy slots (the long walks
    at a per-workspace limit that cost little CPU and memory per second)."""
    return step.name in LIGHT


class Slots:
    """The heavy slots (workspaces whose heavy steps may run) and the heavy steps running."""

    def __init__(self, heavy: int) -> None:
        self.heavy = max(1, heavy)
        self.holders: list[Any] = []  # workspaces holding a heavy slot, oldest first
        self.heavy_running = 0

    def may_take(self, job: _Job) -> bool:
        """Whether ``job`` holds a heavy slot or one is free."""
        return job in self.holders or len(self.holders) < self.heavy

    def take(self, job: _Job, step: _Step) -> None:
        if light(step):
            return
        job.heavy_running += 1
        self.heavy_running += 1
        if job not in self.holders:
            self.holders.append(job)

    def give(self, job: _Job, step: _Step) -> None:
        if not light(step):
            job.heavy_running -= 1
            self.heavy_running -= 1

    def release_if_done(self, job: _Job) -> None:
        """A workspace gives its slot back once no heavy step of it is pending or running."""
        if job in self.holders and job.heavy_running == 0 and (
                job.error is not None or not any(not light(s) for s in job.pending)):
            self.holders.remove(job)


def few_arenas() -> None:
    """At most :data:`ARENAS` arenas of glibc's allocator (a no-op elsewhere). glibc gives
    threads up to eight arenas per core, and each keeps the memory its threads freed; a pull's
    hundred-odd threads (walks, chains, fan-outs) spread the pages' bytes over all of them:
    355 -> 312 MB peak for 20 workspaces at the same client CPU (106 against 105 s). Python
    allocates under its interpreter lock anyway, so two arenas cost no waiting. glibc fixes
    its arena limit once, when a process first needs more arenas than it starts with, so the
    limit stays for the process (and a process that already has many keeps them)."""
    try:
        import ctypes

        ctypes.CDLL(None).mallopt(M_ARENA_MAX, ARENAS)
    except (OSError, AttributeError):
        pass
