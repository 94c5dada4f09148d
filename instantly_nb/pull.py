"""``client.pull(dir)``: one call that fetches a whole workspace.

The sweep follows the order in which ids become known (workspace context, accounts, campaigns,
subsequences, lists and leads, the Unibox, organisation data, inbox placement, webhooks, other),
except that the listings which set the pull's pace (:data:`PACE_SETTERS`: the e-mails, then
the leads) start first. Steps whose inputs are ready run concurrently -- the slow, separately limited e-mail listing
overlaps everything else -- and every request goes through the client's one throttle. Nothing in
the sweep writes: only entries of ``ENDPOINTS`` can be sent at all.

Each step's frame is written as ``<dir>/<name>.parquet`` and kept in the snapshot store under
``<dir>/.snapshots`` (or the client's own store), so a second pull within the store's TTL is
served with no HTTP request. The returned summary has one row per step: endpoint, rows,
requests, seconds, status.

Safety:

* ``<dir>`` is replaced as a unit when the sweep is done (:mod:`instantly_nb.pull_output`): a
  failed, interrupted or killed pull leaves the previous complete pull in place;
* the pull's store is handed to its steps (:func:`instantly_nb.scope.using_store`); ``client.store``
  is never swapped, so other threads using the client meanwhile are not affected;
* a first Ctrl-C cancels every step within about a second (requests in flight and throttle waits
  included) and raises ``KeyboardInterrupt`` saying what was kept; a second one while the steps
  wind down raises at once.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import logging
import os
import threading
import time
import warnings
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Protocol

import polars as pl

from . import frames as shaping
from .errors import AuthenticationError, InstantlyError, PaymentRequiredError, describe
from .fanout import Progress, progress_enabled
from .http import count_requests
from .pull_eta import Countdown, as_day, plan_emails, without
from .pull_output import PullOutput
from .scope import cancellable, check_cancelled, using_store
from .store import Store

__all__ = ["pull", "Step", "SWEEP", "PACE_SETTERS", "Pullable"]

log = logging.getLogger("instantly_nb.pull")

Frames = Mapping[str, pl.DataFrame]
FATAL = (AuthenticationError, PaymentRequiredError)
GRACE_SECONDS = 1.0  # how long an interrupted pull waits for its steps to wind down


class Pullable(Protocol):
    """What the sweep needs of a client (a :class:`~instantly_nb.Client` is one)."""

    store: Store | None
    progress: bool | None

    def fetch(self, name: str, **params: Any) -> pl.DataFrame: ...


@dataclass(frozen=True)
class Step:
    """One fetch of the sweep: ``name`` with parameters computed from earlier frames."""

    name: str
    needs: tuple[str, ...] = ()
    params: Callable[[Frames, dt.date, dt.date], dict[str, Any]] = field(
        default=lambda f, s, e: {})


def _col(frames: Frames, name: str, column: str) -> list[Any]:
    frame = frames[name]
    return frame[column].drop_nulls().unique(maintain_order=True).to_list() if column in frame.columns else []


def _window(_f: Frames, start: dt.date, end: dt.date) -> dict[str, Any]:
    return {"start_date": start, "end_date": end}


SWEEP: tuple[Step, ...] = (
    Step("workspaces.current"),
    Step("workspace_billing.plan_details"),
    Step("workspace_billing.subscription_details"),
    Step("workspaces.whitelabel_domain"),
    Step("workspace_members.list"),
    Step("workspace_group_members.list"),
    Step("workspace_group_members.admin"),
    Step("api_keys.list"),
    Step("audit_logs.list"),
    Step("accounts.list"),
    Step("accounts.analytics_daily", ("accounts.list",),
         lambda f, s, e: {"emails": _col(f, "accounts.list", "email"), **_window(f, s, e)}),
    Step("accounts.warmup_daily", ("accounts.list",),
         lambda f, s, e: {"emails": _col(f, "accounts.list", "email")}),
    Step("accounts.warmup_summary", ("accounts.list",),
         lambda f, s, e: {"emails": _col(f, "accounts.list", "email")}),
    Step("account_campaign_mappings.list", ("accounts.list",),
         lambda f, s, e: {"email": _col(f, "accounts.list", "email")}),
    Step("campaigns.list"),
    Step("campaigns.analytics", ("campaigns.list",),
         lambda f, s, e: {"ids": _col(f, "campaigns.list", "id"), **_window(f, s, e)}),
    Step("campaigns.analytics_overview", ("campaigns.list",),
         lambda f, s, e: {"id": _col(f, "campaigns.list", "id"), **_window(f, s, e)}),
    Step("campaigns.analytics_daily", ("campaigns.list",),
         lambda f, s, e: {"campaign_id": _col(f, "campaigns.list", "id"), **_window(f, s, e)}),
    Step("campaigns.analytics_steps", ("campaigns.list",),
         lambda f, s, e: {"campaign_id": _col(f, "campaigns.list", "id"),
                          "include_opportunities_count": True, **_window(f, s, e)}),
    Step("campaigns.sending_status", ("campaigns.list",),
         lambda f, s, e: {"id": _col(f, "campaigns.list", "id")}),
    Step("campaigns.count_launched"),
    Step("subsequences.list", ("campaigns.list",)),
    Step("subsequences.analytics", ("campaigns.list",),
         lambda f, s, e: {"campaign_id": _col(f, "campaigns.list", "id")}),
    Step("subsequences.analytics_steps", ("subsequences.list",),
         lambda f, s, e: {"id": _col(f, "subsequences.list", "id"), **_window(f, s, e)}),
    Step("subsequences.sending_status", ("subsequences.list",),
         lambda f, s, e: {"id": _col(f, "subsequences.list", "id")}),
    Step("lead_lists.list"),
    Step("lead_lists.verification_stats", ("lead_lists.list",),
         lambda f, s, e: {"id": _col(f, "lead_lists.list", "id")}),
    Step("leads.list"),
    Step("emails.list"),
    Step("emails.unread_count"),
    Step("custom_tags.list"),
    Step("custom_tag_mappings.list"),
    Step("lead_labels.list"),
    Step("block_list_entries.list"),
    Step("background_jobs.list"),
    Step("inbox_placement_tests.list"),
    Step("inbox_placement_tests.esp_options"),
    Step("inbox_placement_analytics.list", ("inbox_placement_tests.list",),
         lambda f, s, e: {"test_id": _col(f, "inbox_placement_tests.list", "id")}),
    Step("inbox_placement_reports.list", ("inbox_placement_tests.list",),
         lambda f, s, e: {"test_id": _col(f, "inbox_placement_tests.list", "id")}),
    Step("inbox_placement_analytics.stats_by_test", ("inbox_placement_tests.list",),
         lambda f, s, e: {"test_ids": _col(f, "inbox_placement_tests.list", "id")}),
    Step("inbox_placement_analytics.stats_by_date", ("inbox_placement_tests.list",),
         lambda f, s, e: {"test_id": _col(f, "inbox_placement_tests.list", "id")}),
    Step("inbox_placement_analytics.deliverability_insights", ("inbox_placement_tests.list",),
         lambda f, s, e: {"test_id": _col(f, "inbox_placement_tests.list", "id")}),
    Step("webhooks.list"),
    Step("webhooks.event_types"),
    Step("webhook_events.list"),
    Step("webhook_events.summary"),
    Step("webhook_events.summary_by_date"),
    Step("dfy_orders.list"),
    Step("dfy_orders.accounts"),
    Step("crm_actions.phone_numbers"),
)


# The listings that set a full pull's pace, longest first: the e-mail listing (a cursor chain
# under its own per-minute limit) and the leads (the longest cursor chains of the workspace).
# A chain goes one page at a time, so every second it starts late is a second added to the pull;
# the other steps fit beside it.
PACE_SETTERS: tuple[str, ...] = ("emails.list", "leads.list")


def _pace_first(steps: list[Step]) -> list[Step]:
    """``steps`` with the pace setters first (dependencies still wait for what they need)."""
    rank = {name: i for i, name in enumerate(PACE_SETTERS)}
    return sorted(steps, key=lambda s: rank.get(s.name, len(rank)))


def _empty_fanout(params: Mapping[str, Any]) -> bool:
    """A step whose id list came back empty has nothing to ask."""
    return any(isinstance(v, list) and not v for v in params.values())


def pull(
    client: Pullable,
    out: str | os.PathLike[str] | None = None,
    *,
    days: int = 90,
    end: dt.date | None = None,
    only: list[str] | None = None,
    concurrency: int = 4,
    strict: bool = False,
    skip: list[str] | None = None,
    emails_since: dt.date | str | None = None,
) -> pl.DataFrame:
    """Fetch every endpoint worth fetching for the workspace.

    Parameters
    ----------
    client : Client
    out : path, optional
        Folder for ``<name>.parquet`` files and the snapshot store (``<out>/.snapshots``).
        Without it, frames go only to the client's own store.
    days : int
        Length of the analytics window, ending ``end`` (today, UTC, by default).
    only : list of str, optional
        Restrict the sweep to these step names (their prerequisites are fetched too).
    concurrency : int
        Steps in flight at once (each step also fans out on the client's pool).
    strict : bool
        Raise on the first failed step instead of recording it in the summary.
    skip : list of str, optional
        Steps to leave out (and the steps that need them), e.g. ``["emails.list"]``.
    emails_since : date or ISO string, optional
        List only e-mails created since that day (the listing runs at 20 requests a minute;
        before the pull starts, it says how long the listing may take).

    Returns
    -------
    polars.DataFrame
        endpoint, rows, requests, seconds, status -- one row per step, in sweep order.
    """
    end = end or dt.datetime.now(dt.UTC).date()
    start = end - dt.timedelta(days=days - 1)
    steps, skipped = without(_select(only), skip, SWEEP)
    since = as_day(emails_since)
    output = PullOutput(out, {f"{s.name}.parquet" for s in SWEEP}) if out is not None else None
    store = client.store
    if store is None and output is not None:
        store = Store(output.snapshots)
    frames: dict[str, pl.DataFrame] = {}
    rows: dict[str, dict[str, Any]] = {}
    lock = threading.Lock()
    bar = Progress(progress_enabled(client.progress), len(steps), "pull", unit="endpoint")
    with using_store(store), count_requests() as asked:  # counted with the e-mail listing
        plan = plan_emails(client, since) if any(s.name == "emails.list" for s in steps) else None
    countdown = Countdown(bar, plan) if plan is not None else None
    if countdown is not None:
        log.warning(countdown.plan.sentence())

    def run(step: Step) -> None:
        params = step.params(frames, start, end)
        if step.name == "emails.list" and since is not None:
            params = {**params, "min_timestamp_created": f"{since.isoformat()}T00:00:00Z"}
        t0 = time.perf_counter()
        with count_requests() as tally:
            if step.name == "emails.list" and countdown is not None:
                countdown.tally = tally
            if _empty_fanout(params):
                frame = shaping.empty(step.name)
                status = "skipped: nothing to ask (no ids from " + ", ".join(step.needs) + ")"
            else:
                frame = client.fetch(step.name, **params)
                status = "ok"
        check_cancelled()
        with lock:
            frames[step.name] = frame
            if output is not None:
                frame.write_parquet(output.path(f"{step.name}.parquet"))
            rows[step.name] = {"endpoint": step.name, "rows": frame.height,
                               "requests": tally.n + (asked.n if step.name == "emails.list"
                                                      else 0),
                               "seconds": round(time.perf_counter() - t0, 3), "status": status}

    try:
        with using_store(store), cancellable(threading.Event()) as cancel, \
                (countdown or contextlib.nullcontext()):
            _schedule(_pace_first(steps), run, concurrency, rows, strict, bar, cancel)
    except KeyboardInterrupt as exc:
        if output is not None:
            output.discard()
        raise KeyboardInterrupt(_interrupted_message(steps, rows, store, output, exc)) from None
    except BaseException:
        if output is not None:
            output.discard()
        raise
    finally:
        bar.close()
    rows.update({name: {"endpoint": name, "rows": None, "requests": 0, "seconds": 0.0,
                        "status": reason} for name, reason in skipped.items()})
    summary = pl.DataFrame([rows[s.name] for s in SWEEP if s.name in rows],
                           schema={"endpoint": pl.String, "rows": pl.Int64, "requests": pl.Int64,
                                   "seconds": pl.Float64, "status": pl.String}, orient="row")
    if output is not None:
        try:
            summary.write_parquet(output.path("_summary.parquet"))
            output.commit({f"{n}.parquet": f.height for n, f in frames.items()}, (start, end),
                          demo=getattr(client, "demo_server", None) is not None)
        except BaseException:
            output.discard()
            raise
    failed = summary.filter(~pl.col("status").str.starts_with("ok") & ~pl.col("status").str.starts_with("skipped"))
    if failed.height:
        warnings.warn(f"{failed.height} step(s) of the pull failed; see the summary's status column: "
                      + "; ".join(f"{r['endpoint']}: {r['status'][:160]}" for r in failed.iter_rows(named=True)),
                      stacklevel=2)
    return summary


def _interrupted_message(steps: list[Step], rows: Mapping[str, Mapping[str, Any]],
                         store: Store | None, output: PullOutput | None,
                         exc: KeyboardInterrupt) -> str:
    """What an interrupted pull kept, in one paragraph."""
    finished = [s.name for s in steps if str(rows.get(s.name, {}).get("status", "")).startswith("ok")]
    how = "stopped at once on a second Ctrl-C" if exc.args == (_AGAIN,) else "cancelled"
    text = f"pull interrupted: the remaining steps were {how}. {len(finished)} of {len(steps)} steps had finished"
    if finished and store is not None:
        text += (f" ({', '.join(finished[:8])}{', ...' if len(finished) > 8 else ''}); their frames "
                 f"are kept in the snapshot store at {store.root}, and a pull within "
                 f"{store.ttl / 3600:g} h reuses them without asking the API again.")
    elif finished:
        text += "; without a snapshot store nothing of them was kept."
    else:
        text += "; nothing was kept."
    if output is not None:
        state = "the previous complete pull" if output.had_previous() else "no pull yet"
        text += f" {output.folder} was left unchanged (it holds {state})."
    return text


def _select(only: list[str] | None) -> list[Step]:
    if not only:
        return list(SWEEP)
    by_name = {s.name: s for s in SWEEP}
    unknown = [n for n in only if n not in by_name]
    if unknown:
        raise ValueError(f"not steps of the sweep: {unknown}; choose from {list(by_name)}")
    wanted: set[str] = set()
    todo = list(only)
    while todo:
        name = todo.pop()
        if name not in wanted:
            wanted.add(name)
            todo.extend(by_name[name].needs)
    return [s for s in SWEEP if s.name in wanted]


_AGAIN = "interrupted again"


def _schedule(steps: list[Step], run: Callable[[Step], None], concurrency: int,
              rows: dict[str, dict[str, Any]], strict: bool, bar: Progress,
              cancel: threading.Event) -> None:
    """Run steps as soon as the steps they need are done; record failures per step.

    On any exception (Ctrl-C included) the steps still running are cancelled and given
    :data:`GRACE_SECONDS` to stop; the pool's threads are never waited for beyond that.
    """
    pool = ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="instantly-nb-pull")
    running: dict[Future[None], Step] = {}
    try:
        _drive(steps, run, pool, running, rows, strict, bar)
    except BaseException:
        _stop(pool, running, cancel)
        raise
    pool.shutdown(wait=True)


def _stop(pool: ThreadPoolExecutor, running: Mapping[Future[None], Step],
          cancel: threading.Event) -> None:
    """Cancel the running steps and wait at most GRACE_SECONDS for them; a Ctrl-C ends the wait."""
    cancel.set()
    pool.shutdown(wait=False, cancel_futures=True)
    deadline = time.monotonic() + GRACE_SECONDS
    try:  # short slices: a second Ctrl-C is seen at once even where lock waits ignore signals
        while wait(list(running), timeout=0.1).not_done and time.monotonic() < deadline:
            pass
    except KeyboardInterrupt:
        raise KeyboardInterrupt(_AGAIN) from None


def _drive(steps: list[Step], run: Callable[[Step], None], pool: ThreadPoolExecutor,
           running: dict[Future[None], Step], rows: dict[str, dict[str, Any]], strict: bool,
           bar: Progress) -> None:
    pending = list(steps)
    done: set[str] = set()
    failed: set[str] = set()
    while pending or running:
        for step in list(pending):
            if any(n in failed for n in step.needs):
                pending.remove(step)
                failed.add(step.name)
                rows[step.name] = {"endpoint": step.name, "rows": None, "requests": 0, "seconds": 0.0,
                                   "status": "skipped: " + ", ".join(n for n in step.needs if n in failed) + " failed"}
                bar.update()
            elif all(n in done for n in step.needs):
                pending.remove(step)
                running[pool.submit(contextvars.copy_context().run, run, step)] = step
        if not running:
            continue
        # a bounded wait: an interrupt is handled promptly even where lock waits are not
        # interrupted by signals
        finished, _ = wait(running, timeout=0.5, return_when=FIRST_COMPLETED)
        for fut in finished:
            step = running.pop(fut)
            bar.update()
            exc = fut.exception()
            if exc is None:
                done.add(step.name)
                continue
            # a refused key or an unpaid workspace fails every step: stop at once
            if strict or not isinstance(exc, InstantlyError) or isinstance(exc, FATAL):
                raise exc
            failed.add(step.name)
            rows[step.name] = {"endpoint": step.name, "rows": None, "requests": None, "seconds": None,
                               "status": f"failed: {type(exc).__name__}: {describe(exc)}"}
