"""``make lab``: JupyterLab on the ready-made notebooks, with charts that draw offline.

With ``INSTANTLY_API_KEY`` set, the notebooks read that workspace; without it they start the
embedded demo workspace themselves (``instantly_nb.connect()``), so nothing else is needed.

Charts: JupyterLab cannot draw altair 6 charts without a network (altair's default output loads
Vega from a CDN). For the lab it starts, this module puts a private copy of the ``python3``
kernel spec first on ``JUPYTER_PATH``, identical but for ``--ext instantly_nb.lab``. That
IPython extension (:func:`load_ipython_extension`) turns on the offline renderer
(:mod:`instantly_nb.charts.render`) the moment the kernel imports altair: notebooks need no extra
cell, kernels start as fast as before (altair takes seconds to import) and the user's IPython
profile is still used. ``INSTANTLY_NB_OFFLINE_CHARTS=0 make lab`` keeps altair's default renderer.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "KERNEL_EXTENSION",
    "lab_command",
    "lab_environment",
    "load_ipython_extension",
    "main",
    "write_kernelspec",
]

#: IPython extension the lab's kernels load (it enables the offline chart renderer).
KERNEL_EXTENSION = "instantly_nb.lab"

OFFLINE_ENV = "INSTANTLY_NB_OFFLINE_CHARTS"
KERNEL_NAME = "python3"


def lab_command(folder: str | os.PathLike[str], extra: Sequence[str] = ()) -> list[str]:
    """The command that starts JupyterLab on ``folder`` with this interpreter.

    As root (containers, CI machines) JupyterLab refuses to start without ``--allow-root``.
    """
    root = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    extra = [e for e in extra if e != "--allow-root"]
    return [sys.executable, "-m", "jupyterlab", os.fspath(folder), *root, *extra]


# Environment variables that decide where Jupyter finds kernel specs.
_PATH_VARIABLES = ("JUPYTER_PATH", "JUPYTER_DATA_DIR", "JUPYTER_PREFER_ENV_PATH",
                   "JUPYTER_PLATFORM_DIRS")


@contextlib.contextmanager
def _jupyter_paths_of(env: Mapping[str, str]) -> Iterator[None]:
    """Within the block, this process looks up Jupyter paths as a process with ``env`` would."""
    saved = {name: os.environ.get(name) for name in _PATH_VARIABLES}
    try:
        for name in _PATH_VARIABLES:
            if name in env:
                os.environ[name] = env[name]
            else:
                os.environ.pop(name, None)
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _base_spec(env: Mapping[str, str]) -> dict[str, Any]:
    """The ``python3`` kernel spec JupyterLab would use, as a kernel.json dict."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        with _jupyter_paths_of(env):
            spec = KernelSpecManager().get_kernel_spec(KERNEL_NAME)
        return {**spec.to_dict(), "resource_dir": spec.resource_dir}
    except NoSuchKernel:
        return {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "Python 3 (ipykernel)", "language": "python"}


def write_kernelspec(data_dir: Path, env: Mapping[str, str] | None = None) -> Path | None:
    """Write ``data_dir/kernels/python3``: the current spec plus ``--ext`` for offline charts.

    Parameters
    ----------
    data_dir : Path
        A Jupyter data directory to put first on ``JUPYTER_PATH``.
    env : Mapping, optional
        The environment JupyterLab will run in (defaults to ``os.environ``).

    Returns
    -------
    Path or None
        The kernel spec directory, or None when the ``python3`` kernel is not an IPython kernel
        (``--ext`` would mean nothing to it) and was left alone.
    """
    spec = _base_spec(os.environ if env is None else env)
    argv = [str(arg) for arg in spec.get("argv", [])]
    if not any("ipykernel" in arg for arg in argv):
        return None
    target = data_dir / "kernels" / KERNEL_NAME
    source = spec.pop("resource_dir", None)
    if isinstance(source, str) and Path(source).is_dir():
        shutil.copytree(source, target)  # logos and any files the argv refers to
    target.mkdir(parents=True, exist_ok=True)
    spec["argv"] = [*argv, f"--ext={KERNEL_EXTENSION}"]
    (target / "kernel.json").write_text(json.dumps(spec, indent=1), encoding="utf-8")
    return target


@contextlib.contextmanager
def lab_environment(base: Mapping[str, str] | None = None) -> Iterator[dict[str, str]]:
    """The environment for a JupyterLab process whose kernels draw charts offline.

    Parameters
    ----------
    base : Mapping, optional
        Starting environment (defaults to ``os.environ``).

    Yields
    ------
    dict
        ``base`` plus ``JUPYTER_PATH`` led by a temporary data directory holding the kernel spec
        (removed on exit) and ``INSTANTLY_NB_OFFLINE_CHARTS=1``. Unchanged when ``base`` has
        ``INSTANTLY_NB_OFFLINE_CHARTS=0``.
    """
    env = dict(os.environ if base is None else base)
    if env.get(OFFLINE_ENV) == "0":
        yield env
        return
    with tempfile.TemporaryDirectory(prefix="instantly-nb-lab-") as folder:
        if write_kernelspec(Path(folder), env) is not None:
            paths = [folder, *([env["JUPYTER_PATH"]] if env.get("JUPYTER_PATH") else [])]
            env["JUPYTER_PATH"] = os.pathsep.join(paths)
        env[OFFLINE_ENV] = "1"
        yield env


def load_ipython_extension(ipython: Any) -> None:
    """``--ext instantly_nb.lab``: offline charts from the kernel's first ``import altair`` on.

    Enables the renderer at once when altair is already imported; otherwise a one-shot import
    hook enables it right after altair's own import has run, before any chart can be shown.
    """
    if "altair" in sys.modules:
        _enable_charts()
    elif not any(isinstance(finder, _AfterAltair) for finder in sys.meta_path):
        sys.meta_path.insert(0, _AfterAltair())


def _enable_charts() -> None:
    try:
        from instantly_nb.charts.render import enable_offline_charts

        enable_offline_charts()
    except Exception as exc:  # a broken renderer must not break `import altair`
        warnings.warn(f"instantly_nb: offline charts are off ({exc!r}); charts may need a "
                      "network. Try `%load_ext instantly_nb.charts.render`.", stacklevel=2)


class _AfterAltair(importlib.abc.MetaPathFinder):
    """A one-shot post-import hook: runs :func:`_enable_charts` once altair has executed."""

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if fullname != "altair":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)  # what the other finders make of it
        loader = spec.loader if spec is not None else None
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        run = loader.exec_module

        def exec_module(module: Any) -> None:
            run(module)
            del loader.exec_module  # type: ignore[method-assign]  # the loader's own again
            _enable_charts()

        # This loader instance serves altair's package module only. A loader that takes no
        # instance attributes leaves charts on altair's renderer (%load_ext still works).
        with contextlib.suppress(AttributeError):
            loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def main(argv: list[str] | None = None) -> int:
    """``python -m instantly_nb.lab [FOLDER] [JUPYTERLAB OPTIONS...]`` (``make lab``).

    Parameters
    ----------
    argv : list of str, optional
        The folder to open (default ``notebooks``) and options passed on to JupyterLab.

    Returns
    -------
    int
        JupyterLab's exit status.
    """
    argv = sys.argv[1:] if argv is None else argv
    folder = argv[0] if argv else "notebooks"
    if not os.environ.get("INSTANTLY_API_KEY"):
        print("No INSTANTLY_API_KEY: the notebooks will use the embedded demo workspace.")
    with lab_environment() as env:
        return _run(lab_command(folder, argv[1:]), env)


def _run(command: list[str], env: Mapping[str, str]) -> int:
    """Run JupyterLab until it exits; Ctrl-C is its to answer (it asks before shutting down)."""
    # A no-op handler, not SIG_IGN: handlers reset on exec, so JupyterLab still gets Ctrl-C,
    # while this process stays to remove the kernel spec directory after JupyterLab is gone.
    previous = signal.signal(signal.SIGINT, lambda *_: None)
    try:
        return subprocess.Popen(command, env=dict(env)).wait()
    finally:
        signal.signal(signal.SIGINT, previous)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
