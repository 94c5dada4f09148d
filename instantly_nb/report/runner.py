"""Run one notebook for a report: parameters in (papermill), kernel environment set, secrets out.

The API key reaches the kernel **only through its environment** (``INSTANTLY_API_KEY``); it is
never a parameter, because papermill writes parameters into the executed notebook. Every string
of the executed notebook is scrubbed of the key before it is saved or rendered, and the runner
says so in a warning when a notebook printed it.

Kernels of a report run also get ``INSTANTLY_NB_REPORT=1`` (see
:func:`instantly_nb.report.in_report_mode`) and ``TQDM_DISABLE=1`` (no progress bars), and a
first cell, tagged ``instantly-nb-report-setup``, that makes altair emit Vega-Lite JSON.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .mime import REPORT_ENV, SETUP_TAG

__all__ = [
    "REDACTED",
    "NotebookRun",
    "classify",
    "kernel_env",
    "prepare_notebook",
    "run_notebook",
    "scrub",
]

log = logging.getLogger("instantly_nb.report")
# nbclient reports every kernel start at INFO; only its warnings matter in a report run.
_kernel_log = logging.getLogger("instantly_nb.report.kernel")
_kernel_log.setLevel(logging.WARNING)

REDACTED = "[redacted]"
# What may separate two pieces of a secret printed in parts: spaces, line breaks, quotes.
_GAP = r"""[\s'"]*"""
_MAX_MESSAGE = 500
KERNEL_NAME = "python3"
_SETUP_SOURCE = "from instantly_nb.report import setup_report_mode\nsetup_report_mode()"


@dataclass
class NotebookRun:
    """The outcome of running one notebook.

    Attributes
    ----------
    name : str
        Notebook file stem.
    notebook : nbformat.NotebookNode
        The executed notebook, already scrubbed of secrets.
    failure : str or None
        ``"ExceptionName: message"`` when a cell failed, the kernel died or timed out.
    kind : str
        ``"ok"``, ``"failed"``, ``"auth"`` (the API refused the key) or ``"config"``.
    leaked : bool
        A secret was found in the outputs (and replaced by ``[redacted]``).
    """

    name: str
    notebook: Any
    failure: str | None = None
    kind: str = "ok"
    leaked: bool = False


def kernel_env(
    base: Mapping[str, str], *, api_key: str, base_url: str | None = None
) -> dict[str, str]:
    """The environment of a report kernel: ``base`` plus key, base URL and report switches."""
    env = dict(base)
    env["INSTANTLY_API_KEY"] = api_key
    if base_url:
        env["INSTANTLY_BASE_URL"] = base_url
    env[REPORT_ENV] = "1"
    env["INSTANTLY_NB_PROGRESS"] = "0"  # the client's own switch for its progress bars
    env["TQDM_DISABLE"] = "1"  # tqdm reads it at import: any non-empty value disables bars
    return env


def prepare_notebook(path: Path, parameters: Mapping[str, Any]) -> Any:
    """Read a notebook, add the report setup cell and inject ``parameters`` (papermill)."""
    import nbformat
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    nb = load_notebook_node(str(path))
    setup = nbformat.v4.new_code_cell(_SETUP_SOURCE)
    setup.metadata["tags"] = [SETUP_TAG, "remove_cell"]
    nb.cells.insert(0, setup)
    return parameterize_notebook(nb, dict(parameters), kernel_name=KERNEL_NAME, language="python")


def scrub(node: Any, secrets: Iterable[str]) -> bool:
    """Replace every secret in every string of a JSON-like tree, in place.

    A secret is found whole, but also when it was printed in pieces: split by whitespace, line
    breaks or quotes (a long string shown as ``('abc'\n 'def')``), across the items of a multi-line text list, or across the separate stream outputs
    (stdout and stderr chunks) of a notebook, taken in order. Each occurrence becomes one
    ``[redacted]`` and its pieces are removed wherever they landed.

    Returns True when something was replaced. Secrets shorter than 6 characters are ignored
    (replacing them would mangle ordinary text and hides nothing worth hiding).
    """
    patterns = [re.compile(_GAP.join(re.escape(c) for c in s))
                for s in dict.fromkeys(secrets) if s and len(s) >= 6]
    if not patterns:
        return False
    found = _scrub_outputs(node, patterns)

    def clean(value: Any) -> Any:
        nonlocal found
        if isinstance(value, str):
            pieces, hit = _scrub_pieces([value], patterns)
            found = found or hit
            return pieces[0]
        if isinstance(value, dict):
            for key in list(value):
                value[key] = clean(value[key])
        elif isinstance(value, list):
            if value and all(isinstance(item, str) for item in value):
                value[:], hit = _scrub_pieces(list(value), patterns)
                found = found or hit
            value[:] = [clean(item) for item in value]
        return value

    clean(node)
    return found


def _scrub_pieces(pieces: list[str], patterns: list[re.Pattern[str]]) -> tuple[list[str], bool]:
    """Redact matches of ``patterns`` in the concatenation of ``pieces``, keeping the pieces."""
    joined = "".join(pieces)
    spans = sorted(m.span() for rx in patterns for m in rx.finditer(joined) if m.end() > m.start())
    if not spans:
        return pieces, False
    merged: list[list[int]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    out, offset = [], 0
    for piece in pieces:
        lo, hi, text, cursor = offset, offset + len(piece), [], offset
        for a, b in merged:
            if b <= lo or a >= hi:
                continue
            text.append(joined[cursor:max(a, lo)])
            if a >= lo:
                text.append(REDACTED)  # the occurrence is announced where it starts
            cursor = min(b, hi)
        text.append(joined[cursor:hi])
        out.append("".join(text))
        offset = hi
    return out, True


def _scrub_outputs(node: Any, patterns: list[re.Pattern[str]]) -> bool:
    """Scrub the text outputs of a notebook as one stream, so a secret split across outputs is
    found. Returns True when something was replaced."""
    cells = node.get("cells") if isinstance(node, dict) else None
    if not isinstance(cells, list):
        return False
    slots: list[tuple[dict[str, Any], str]] = []
    for cell in cells:
        for output in cell.get("outputs", []) if isinstance(cell, dict) else []:
            if isinstance(output, dict) and output.get("output_type") == "stream":
                slots.append((output, "text"))
            elif isinstance(output, dict) and isinstance(output.get("data"), dict) \
                    and "text/plain" in output["data"]:
                slots.append((output["data"], "text/plain"))
    pieces = [_as_text(holder[key]) for holder, key in slots]
    cleaned, hit = _scrub_pieces(pieces, patterns)
    if hit:
        for (holder, key), text in zip(slots, cleaned, strict=True):
            holder[key] = text
    return hit


def _as_text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _kernel_config(sockets: Path) -> Any:
    """Kernel settings: private Unix sockets where the platform has them.

    Outputs (workspace data) then never cross a TCP port that other local users could reach,
    and ipykernel does not warn about unencrypted TCP on every run. The client still creates
    (and so shuts down) the kernel manager itself.
    """
    from traitlets.config import Config

    config = Config()
    if os.name != "nt":
        config.KernelManager.transport = "ipc"
        config.KernelManager.ip = str(sockets / "k")
    return config


def classify(error: type[BaseException] | str) -> str:
    """``"auth"``, ``"config"`` or ``"failed"`` for an exception type, or for the name a kernel
    reports of one (a name of :mod:`instantly_nb.errors`; any other name is ``"failed"``).

    The type decides, never the message: the key was refused (401, 402, 403 from the API), the
    toolkit is not configured, or something else failed -- see :func:`instantly_nb.exits.exit_code`.
    """
    from instantly_nb import errors
    from instantly_nb.exits import EXIT_AUTH, EXIT_CONFIG, exit_code

    kind = error if isinstance(error, type) else getattr(errors, error, None)
    if not (isinstance(kind, type) and issubclass(kind, errors.InstantlyError)):
        return "failed"
    return {EXIT_AUTH: "auth", EXIT_CONFIG: "config"}.get(exit_code(kind), "failed")


def run_notebook(
    path: Path,
    parameters: Mapping[str, Any],
    env: Mapping[str, str],
    *,
    secrets: Iterable[str] = (),
    timeout: int = 600,
) -> NotebookRun:
    """Execute one notebook in a fresh kernel and return the scrubbed result.

    Parameters
    ----------
    path : pathlib.Path
        The notebook; it runs with its own folder as working directory.
    parameters : Mapping
        Values for the ``parameters`` cell. Never put a secret here.
    env : Mapping[str, str]
        The kernel's whole environment (see :func:`kernel_env`).
    secrets : iterable of str
        Strings to scrub from the executed notebook (the API key).
    timeout : int
        Seconds one cell may run.
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    nb = prepare_notebook(path, parameters)
    failure, kind = None, "ok"
    try:
        with tempfile.TemporaryDirectory(prefix="instantly-nb-kernel-") as sockets:
            client = NotebookClient(
                nb,
                config=_kernel_config(Path(sockets)),
                timeout=timeout,
                startup_timeout=120,
                kernel_name=KERNEL_NAME,
                allow_errors=False,
                store_widget_state=False,
                record_timing=False,
                resources={"metadata": {"path": str(path.parent.resolve())}},
                log=_kernel_log,
            )
            client.execute(env=dict(env))
    except CellExecutionError as exc:
        failure, kind = f"{exc.ename}: {exc.evalue}", classify(exc.ename)
    except CellTimeoutError:
        failure, kind = f"a cell ran longer than {timeout} s (raise --timeout)", "failed"
    except DeadKernelError as exc:
        failure, kind = f"the kernel died ({exc})", "failed"
    except Exception as exc:  # noqa: BLE001 - a cron run must end with a report, not a traceback
        log.debug("unexpected error while running %s", path.name, exc_info=True)
        failure, kind = f"{type(exc).__name__}: {str(exc)[:_MAX_MESSAGE]}", "failed"
    secret_list = list(secrets)
    leaked = scrub(nb, secret_list)
    if failure is not None:
        scrubbed = [failure]
        scrub(scrubbed, secret_list)
        failure = scrubbed[0]
    if leaked:
        log.warning(
            "%s: an output contained the API key; it was replaced by %s", path.name, REDACTED
        )
    return NotebookRun(name=path.stem, notebook=nb, failure=failure, kind=kind, leaked=leaked)
