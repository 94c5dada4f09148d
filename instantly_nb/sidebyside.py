"""Pull many workspaces side by side into one dataset (:mod:`instantly_nb.dataset`).

Every workspace runs the sweep of :mod:`instantly_nb.pull` under its own client -- and so its own
throttle, since the API's limits are per workspace -- while all of them share one bounded thread
pool (``workers`` steps in flight at once, taken from the workspaces in turn, the slow listings
first). Every workspace in flight walks its two long listings from the start -- the e-mails,
paced by the workspace's own limit, and the leads, whose chains go through one gate of
``chains`` for all workspaces -- while its other steps (many short fetches) run for at most
``heavy`` workspaces at once. Large listings (leads, e-mails) are shaped and written out every ``batch_pages`` pages
(:mod:`instantly_nb.workspaces_walk`: the leads as one cursor chain per campaign and per lead
list, as a single Client walks them), and a workspace keeps only the small frames later steps
take their ids from, so memory stays bounded however large the workspaces are.

A workspace that fails -- a refused key, an unpaid plan, an outage -- is recorded in the summary
and left out of the dataset (its previous data stays); the others go on. A failed endpoint of an
otherwise healthy workspace keeps its previous partition too.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import polars as pl

from . import frames as shaping
from .client import Client
from .dataset import DatasetWriter, HeldRows, table_schema, workspace_record
from .endpoint_facts import id_column
from .errors import AuthenticationError, InstantlyError, PaymentRequiredError, describe
from .fanout import progress_enabled
from .http import count_requests
from .leadwalk import ENDPOINT as LEADS
from .pull import Step, _empty_fanout, _select
from .sideslots import LEAD_CHAINS, Slots, few_arenas, light
from .workspaces_walk import stream


class ClientsByWorkspace(Protocol):
    """What a side-by-side pull needs: clients by workspace id, and their display names
    (an :class:`instantly_nb.Workspaces` is one)."""

    clients: dict[str, Client]
    names: dict[str, str]

__all__ = ["pull_all", "SUMMARY_SCHEMA", "STEP_SCHEMA"]

FATAL = (AuthenticationError, PaymentRequiredError)
STREAMED = ("emails.list", "leads.list")  # walked page by page, written out in batches
FIRST = {"emails.list": 0, "campaigns.list": 1, "lead_lists.list": 1, LEADS: 2}  # long walks first
KEEP = {"accounts.list", "campaigns.list", "subsequences.list", "lead_lists.list",
        "inbox_placement_tests.list"}  # frames later steps take ids from

AT_ONCE = 10  # workspaces in flight at once (see pull_all)
HEAVY = 4  # workspaces whose other steps run at once (see pull_all)
CHAINS = 24  # lead chains walked at once over all workspaces (see pull_all)

SUMMARY_SCHEMA = {"workspace": pl.String, "name": pl.String, "workspace_id": pl.String,
                  "status": pl.String, "endpoints": pl.Int64, "failed": pl.Int64, "rows": pl.Int64,
                  "requests": pl.Int64, "seconds": pl.Float64}
STEP_SCHEMA = {"endpoint": pl.String, "rows": pl.Int64, "requests": pl.Int64,
               "seconds": pl.Float64, "status": pl.String}


@dataclass(eq=False)  # a workspace is itself only: compared by identity (the scheduler asks
class _Job:  # "is this one holding a slot?" after every finished step)
    """One workspace's sweep."""

    wid: str
    name: str
    client: Client
    pending: list[Step]
    started: float | None = None
    finished: float | None = None
    workspace_id: str | None = None
    writer: DatasetWriter | None = None
    frames: dict[str, pl.DataFrame] = field(default_factory=dict)
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)
    done: set[str] = field(default_factory=set)
    failed: set[str] = field(default_factory=set)
    running: int = 0
    heavy_running: int = 0
    error: str | None = None
    bar: Any = None

    def ids(self, listing: str) -> list[str]:
        """Ids of a listing this pull already holds (else fetched) for the lead chains."""
        frame = self.frames[listing] if listing in self.frames else self.client.fetch(listing)
        return frame["id"].drop_nulls().to_list() if "id" in frame.columns else []

    def ready(self, only: Callable[[Step], bool] | None = None) -> Iterator[Step]:
        """The pending steps (those ``only`` accepts, when given) whose inputs are done, in
        order (lazily: the scheduler takes the first)."""
        done = self.done
        steps = self.pending if only is None else filter(only, self.pending)
        return (s for s in steps if all(n in done for n in s.needs))

    def skip_blocked(self) -> None:
        for step in list(self.pending):
            if any(n in self.failed for n in step.needs):
                self.pending.remove(step)
                self.failed.add(step.name)
                self.record(step.name, None, 0, 0.0,
                            "skipped: " + ", ".join(n for n in step.needs if n in self.failed) + " failed")

    def record(self, name: str, rows: int | None, requests: int | None, seconds: float | None,
               status: str) -> None:
        self.steps[name] = {"endpoint": name, "rows": rows, "requests": requests,
                            "seconds": seconds, "status": status}
        if self.bar is not None:
            self.bar.update()


def fanout_columns(client: Client, name: str, params: dict[str, Any]) -> list[str]:
    """The columns a list given for a single-valued parameter adds in front of the frame."""
    endpoint = client.endpoint(name)
    return [id_column(endpoint.resource) if p.name == "id" else p.name
            for p in endpoint.params
            if p.type != "array" and isinstance(params.get(p.name), list | tuple)]


def _run_step(job: _Job, step: Step, start: dt.date, end: dt.date, batch: int,
              gate: Any = None) -> None:
    assert job.writer is not None
    params = step.params(job.frames, start, end)
    t0 = time.perf_counter()
    with count_requests() as tally:
        if _empty_fanout(params):
            frame = shaping.empty(step.name)
            job.writer.write(step.name, frame, table_schema(step.name, fanout_columns(job.client, step.name, params)))
            status, rows = "skipped: nothing to ask (no ids from " + ", ".join(step.needs) + ")", 0
        elif step.name in STREAMED and not any(isinstance(v, list) for v in params.values()):
            rows = stream(job.client, job.writer, step.name, params, job.ids, batch,
                          gate=gate if step.name == LEADS else None)
            status = "ok"
        else:
            frame = job.client.fetch(step.name, **params)
            schema = table_schema(step.name, fanout_columns(job.client, step.name, params))
            job.writer.write(step.name, frame, schema)
            if step.name in KEEP:
                job.frames[step.name] = frame
            status, rows = "ok", frame.height
    job.record(step.name, rows, tally.n, round(time.perf_counter() - t0, 3), status)


def _start(job: _Job, out: Path, held: HeldRows) -> None:
    with count_requests() as tally:
        job.workspace_id = job.client.workspace_id()
    job.writer = DatasetWriter(out, job.workspace_id, shared=held)
    job.steps["(workspace id)"] = {"endpoint": "workspaces.current (id)", "rows": 1,
                                   "requests": tally.n, "seconds": 0.0, "status": "ok"}


def _finish(job: _Job, start: dt.date, end: dt.date) -> None:
    """Commit the workspace's tables, or drop them all if the workspace failed."""
    if job.writer is None:
        return
    if job.error is not None:
        job.writer.abort()
        return
    for name in job.failed:
        job.writer.drop(name)
    steps = pl.DataFrame(list(job.steps.values()), schema=STEP_SCHEMA, orient="row")
    job.writer.write("_pull_steps", steps, dict(steps.schema))
    record = workspace_record(job.wid, job.name, job.workspace_id or "", start, end)
    job.writer.write("_workspaces", record, dict(record.schema))
    job.writer.commit()


def _failure(exc: BaseException) -> str:
    return f"failed: {type(exc).__name__}: {describe(exc)}"


def pull_all(
    workspaces: ClientsByWorkspace,
    out: str | os.PathLike[str],
    *,
    days: int = 90,
    end: dt.date | None = None,
    only: list[str] | None = None,
    workers: int = 32,
    per_workspace: int = 4,
    batch_pages: int = 5,
    fanout: int = 4,
    at_once: int = AT_ONCE,
    heavy: int = HEAVY,
    chains: int = CHAINS,
    progress: bool | None = None,
) -> pl.DataFrame:
    """Pull every workspace of ``workspaces`` into the dataset at ``out``, side by side.

    Parameters
    ----------
    workspaces : Workspaces
    out : path
        Root of the hive-partitioned dataset (created if missing; other workspaces' data in it
        is kept, this pull's workspaces are replaced endpoint by endpoint).
    days, end, only
        As for :func:`instantly_nb.pull.pull`.
    workers : int
        Steps in flight at once over all workspaces besides the long walks (the one bounded
        pool has a thread more for each walk of a workspace in flight).
    per_workspace : int
        Steps in flight at once within one workspace, besides its long walks.
    batch_pages : int
        Pages of a large listing shaped and written out at once (the JSON held at a time).
    fanout : int
        Requests of one fetch in flight at once (a client's fan-out pool during the pull), so
        at most ``workers * fanout`` requests are in flight over all workspaces.
    at_once : int
        Workspaces in flight at once; the next starts when one is done. Each in flight walks
        its e-mail listing (paced by its own limit) and its leads from the start: long walks
        of one page per round trip, light per second, so many of them wait out their limits
        and round trips side by side.
    heavy : int
        Workspaces whose other steps (the analytics fan-outs, the settings: everything but the
        two long walks and the two listings the lead chains come from) run at once; a workspace
        holds its heavy slot until its last such step is done and the next in line takes it.
    chains : int
        Lead chains walked at once over all workspaces (a workspace's leads are walked as one
        cursor chain per campaign, per list and for the rest, at most ``fanout`` of them at
        once). Each chain in flight holds its batch of pages while it is shaped, so memory
        grows with ``heavy`` and ``chains`` (and, less, with ``at_once``), not with the number
        of workspaces; the leads of all workspaces are walked at about ``chains`` pages per
        round trip.
    progress : bool, optional
        One progress line per workspace (by default when the output is interactive).

    Returns
    -------
    polars.DataFrame
        One row per workspace: workspace, name, workspace_id, status, endpoints, failed, rows,
        requests, seconds. The per-step detail of every committed workspace is in the dataset's
        ``_pull_steps`` table.
    """
    end = end or dt.datetime.now(dt.UTC).date()
    start = end - dt.timedelta(days=days - 1)
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    steps = _steps(only)
    steps.sort(key=lambda s: FIRST.get(s.name, 9))
    jobs = [_Job(wid, workspaces.names.get(wid, wid), client, list(steps))
            for wid, client in workspaces.clients.items()]
    show = progress_enabled(progress)
    saved = {j.wid: (j.client.progress, getattr(j.client, "_max_workers", None)) for j in jobs}
    for i, job in enumerate(jobs):
        job.client.progress = False
        job.client.max_workers = max(1, fanout)
        if show:
            from tqdm.auto import tqdm

            job.bar = tqdm(total=len(steps), desc=job.name[:24].ljust(24), unit="endpoint",
                           position=i, leave=True)
    try:
        few_arenas()
        _drive(jobs, folder, start, end, workers, per_workspace, batch_pages, max(1, at_once),
               max(1, heavy), max(1, chains))
    finally:
        for job in jobs:
            job.client.progress, job.client.max_workers = saved[job.wid]
            if job.bar is not None:
                job.bar.close()
    return _summary(jobs)


def _steps(only: list[str] | None) -> list[Step]:
    """The sweep's steps; the leads listing waits for the listings its chains come from."""
    steps = _select(only)
    if any(s.name == LEADS for s in steps):
        have = {s.name for s in steps}
        steps += [s for s in _select(list(LEAD_CHAINS)) if s.name not in have]
        steps = [Step(LEADS, LEAD_CHAINS, s.params) if s.name == LEADS else s for s in steps]
    return steps


def _drive(jobs: list[_Job], out: Path, start: dt.date, end: dt.date, workers: int,
           per_workspace: int, batch: int, at_once: int, heavy: int, chains: int) -> None:
    """The one scheduler: ready steps of the workspaces in flight, in turn, on one bounded
    pool. A workspace starts when one of the ``at_once`` in flight is done; its long walks
    start at once (the lead chains of all of them through one gate of ``chains``), its other
    steps wait for one of the ``heavy`` heavy slots."""
    lock = threading.Lock()
    running: dict[Future[None], tuple[_Job, Step | None]] = {}
    slots = Slots(heavy)
    held = HeldRows()  # the rows all workspaces' writers hold together, bounded
    gate = threading.BoundedSemaphore(chains)  # lead chains walked at once, all workspaces
    # every workspace in flight has at most its id request or four light steps on a thread
    # of its own, beside the ``workers`` heavy steps
    threads = max(1, workers) + 4 * at_once
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="inb-ws") as pool:

        def submit(job: _Job, step: Step | None, fn: Callable[[], None]) -> None:
            job.running += 1
            if step is not None:
                slots.take(job, step)
            running[pool.submit(contextvars.copy_context().run, fn)] = (job, step)

        waiting = list(jobs)

        def start_more() -> None:  # at most ``at_once`` workspaces started and not closed
            while waiting and sum(j.started is not None and j.finished is None
                                  for j in jobs) < at_once:
                job = waiting.pop(0)
                job.started = time.perf_counter()
                submit(job, None, lambda j=job: _start(j, out, held))  # type: ignore[misc]

        def fill() -> None:
            _fill(jobs, running, submit, slots, workers, per_workspace, start, end, batch, gate)

        start_more()
        while running:
            fill()
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for fut in finished:
                job, step = running.pop(fut)
                job.running -= 1
                if step is not None:
                    slots.give(job, step)
                with lock:
                    _settle(job, step, fut.exception())
                slots.release_if_done(job)
                if job.running == 0 and (not job.pending or job.error is not None):
                    _close(job, start, end)
            start_more()
            fill()


def _fill(jobs: list[_Job], running: dict[Any, Any], submit: Callable[..., None], slots: Slots,
          workers: int, per_workspace: int, start: dt.date, end: dt.date, batch: int,
          gate: Any) -> None:
    """Submit ready steps, one workspace at a time in turn: the light steps of every workspace
    in flight, the heavy steps of the workspaces holding a heavy slot (given in the order the
    workspaces started), at most ``per_workspace`` of one workspace and ``workers`` of all."""
    progressed = True
    while progressed:
        progressed = False
        for job in jobs:
            if job.writer is None or job.error is not None:
                continue
            heavy_ok = (job.heavy_running < per_workspace and slots.heavy_running < workers
                        and slots.may_take(job))
            step = next((s for s in job.ready(None if heavy_ok else light)), None)
            if step is not None:
                job.pending.remove(step)
                submit(job, step, lambda j=job, s=step: _run_step(j, s, start, end, batch, gate))
                progressed = True


def _settle(job: _Job, step: Step | None, exc: BaseException | None) -> None:
    if step is None:  # the workspace-id request
        if exc is not None:
            job.error = _failure(exc)
            job.pending.clear()
        return
    if exc is None:
        job.done.add(step.name)
        return
    cause = exc.__cause__ if exc.__cause__ is not None else exc
    if isinstance(exc, FATAL) or isinstance(cause, FATAL):
        job.error = _failure(cause)
        for s in job.pending:
            job.record(s.name, None, 0, 0.0, "skipped: the workspace failed")
        job.pending.clear()
    if job.writer is not None:
        job.writer.drop(step.name)
    job.failed.add(step.name)
    job.record(step.name, None, None, None, _failure(exc))
    job.skip_blocked()


def _close(job: _Job, start: dt.date, end: dt.date) -> None:
    job.finished = time.perf_counter()
    try:
        _finish(job, start, end)
    except (OSError, InstantlyError, pl.exceptions.PolarsError) as exc:
        job.error = _failure(exc)
    if job.bar is not None:
        job.bar.set_postfix_str("failed" if job.error else "done", refresh=True)


def _summary(jobs: list[_Job]) -> pl.DataFrame:
    rows = []
    for job in jobs:
        steps = [s for k, s in job.steps.items() if k != "(workspace id)"]
        failed = [s for s in steps if s["status"].startswith("failed")]
        status = job.error or (f"partial: {len(failed)} endpoint(s) failed" if failed else "ok")
        rows.append({"workspace": job.wid, "name": job.name, "workspace_id": job.workspace_id,
                     "status": status, "endpoints": sum(s["status"] == "ok" for s in steps),
                     "failed": len(failed), "rows": sum(s["rows"] or 0 for s in steps),
                     "requests": sum(s["requests"] or 0 for s in job.steps.values()),
                     "seconds": round((job.finished or time.perf_counter())
                                      - (job.started or time.perf_counter()), 3)})
    return pl.DataFrame(rows, schema=SUMMARY_SCHEMA, orient="row")
