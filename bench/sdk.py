"""The ``instantlyai`` SDK from PyPI, walking the same listings with its own list iterators.

The SDK is never a dependency of instantly_nb: :func:`ensure` installs it with pip into a
folder of the benchmark's own (``bench/out/sdk``, git-ignored) and the SDK runs in a child
process with that folder on ``PYTHONPATH``, pointed at the demo server on 127.0.0.1. The child
(``python -m bench.sdk``) walks each listing page by page, up to a given number of pages, and
prints seconds and pages per listing as JSON.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "bench" / "out" / "sdk"
PACKAGE = "instantlyai"

# ENDPOINTS name -> (SDK resource attribute, page size): cursor listings with no required input.
LISTINGS: dict[str, tuple[str, int]] = {
    "leads.list": ("leads", 100), "emails.list": ("emails", 100),
    "accounts.list": ("accounts", 100), "campaigns.list": ("campaigns", 100),
    "lead_lists.list": ("lead_lists", 100), "audit_logs.list": ("audit_logs", 1000),
    "webhook_events.list": ("webhook_events", 100),
    "block_list_entries.list": ("block_list_entries", 100),
    "custom_tags.list": ("custom_tags", 100), "custom_tag_mappings.list": ("custom_tag_mappings", 100),
    "lead_labels.list": ("lead_labels", 100), "background_jobs.list": ("background_jobs", 100),
    "inbox_placement_tests.list": ("inbox_placement_tests", 100),
    "webhooks.list": ("webhooks", 100), "api_keys.list": ("api_keys", 100),
    "workspace_members.list": ("workspace_members", 100),
    "workspace_group_members.list": ("workspace_group_members", 100),
    "dfy_orders.list": ("dfy_email_account_orders", 100),
}


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(TARGET), str(ROOT)])}


def ensure(timeout_s: float = 300.0) -> tuple[bool, str]:
    """Make the SDK importable from ``bench/out/sdk``; (ok, version or why not)."""
    probe = [sys.executable, "-c", f"import {PACKAGE}; print({PACKAGE}.__version__)"]
    found = subprocess.run(probe, env=_env(), capture_output=True, text=True, timeout=60)
    if found.returncode == 0:
        return True, found.stdout.strip()
    try:
        pip = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--target",
                              str(TARGET), PACKAGE], capture_output=True, text=True,
                             timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return False, f"pip install {PACKAGE} timed out after {timeout_s:.0f} s"
    if pip.returncode != 0:
        return False, f"pip install {PACKAGE} failed: {pip.stderr.strip()[-300:]}"
    found = subprocess.run(probe, env=_env(), capture_output=True, text=True, timeout=60)
    if found.returncode != 0:
        return False, f"{PACKAGE} installed but does not import: {found.stderr.strip()[-300:]}"
    return True, found.stdout.strip()


def walk(url: str, key: str, pages: dict[str, int], deadline_s: float) -> dict[str, Any]:
    """Run the child: walk up to ``pages[name]`` pages of each listing; seconds per listing."""
    request = json.dumps({"url": url, "key": key, "pages": pages, "deadline_s": deadline_s})
    done = subprocess.run([sys.executable, "-m", "bench.sdk"], input=request, env=_env(),
                          cwd=ROOT, capture_output=True, text=True, timeout=deadline_s + 120)
    if done.returncode != 0:
        raise RuntimeError(f"the SDK run failed: {done.stderr.strip()[-600:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _child() -> int:
    import instantlyai  # type: ignore[import-not-found]

    job = json.loads(sys.stdin.read())
    stop = time.monotonic() + float(job["deadline_s"])
    out: dict[str, Any] = {"version": instantlyai.__version__, "listings": {}}
    with instantlyai.Instantly(api_key=job["key"], base_url=job["url"]) as client:
        for name, max_pages in job["pages"].items():
            attr, size = LISTINGS[name]
            t0 = time.perf_counter()
            try:
                pager = getattr(client, attr).list(limit=size)
                items = sum(1 for _ in itertools.islice(iter(pager), int(max_pages) * size))
            except Exception as exc:  # noqa: BLE001 - reported in the table, not hidden
                out["listings"][name] = {"error": f"{type(exc).__name__}: {str(exc)[:200]}"}
                continue
            seconds = time.perf_counter() - t0
            walked = min(int(max_pages), max(1, -(-items // size)))
            out["listings"][name] = {"pages": walked, "items": items, "seconds": seconds}
            if time.monotonic() > stop:
                out["listings"][name]["deadline"] = True
                break
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(_child())
