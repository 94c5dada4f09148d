"""``make lab`` for real: JupyterLab, a kernel and headless chromium, with no network.

One JupyterLab server per module, started the way ``make lab`` starts it (``lab_command`` in
``lab_environment``), on a notebook that displays altair charts with no set-up cell: two plain
ones and one inside an ``ipywidgets.Output`` (as the explorer shows them). The browser runs all
cells and every chart must draw inside its iframe, fit its iframe, show a tooltip on hover, and
no request may leave 127.0.0.1. The kernel-spec plumbing is also checked without a browser.

Browser tests need Debian chromium at /usr/bin/chromium (CI installs it with apt); only they are
skipped when it is missing, and never in CI.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import nbformat
import pytest

from instantly_nb import lab
from instantly_nb.charts import render

from .conftest import CHROMIUM, CHROMIUM_ARGS, require_chromium

CELLS = [
    "import altair as alt\nimport ipywidgets as widgets\nimport polars as pl\n"
    "from IPython.display import display\n"
    "frame = pl.DataFrame({'step': ['Step 1', 'Step 2', 'Step 3'], 'replies': [12, 30, 21]})",
    # One rect that fills the whole view, so hovering the middle of the chart hits a mark.
    "alt.Chart(frame.head(1)).mark_rect().encode(\n"
    "    x=alt.X('step:N', axis=None), y=alt.Y('step:N', axis=None),\n"
    "    tooltip=['step:N', 'replies:Q'],\n"
    ").properties(width=240, height=120, title='Replies by step')",
    "alt.Chart(frame).mark_line(point=True).encode(x='step:N', y='replies:Q', tooltip=['replies'])",
    "out = widgets.Output()\ndisplay(out)\nwith out:\n"
    "    display(alt.Chart(frame).mark_bar().encode(x='step:N', y='replies:Q'))",
    "print('renderer:', alt.renderers.active)",
]
LOCAL = "127.0.0.1"
WAIT_MS = 30_000


@dataclass
class Lab:
    url: str
    token: str
    folder: Path
    log: Path
    process: subprocess.Popen[bytes]


@dataclass
class Visit:
    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    frames: list[dict[str, Any]] = field(default_factory=list)
    tooltip: str = ""
    renderer_line: str = ""
    in_widget: int = 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOCAL, 0))
        return int(sock.getsockname()[1])


def _wait_ready(server: Lab, timeout: float = 45.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise AssertionError(f"JupyterLab exited:\n{server.log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{server.url}/api/status?token={server.token}",
                                        timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    raise AssertionError(f"JupyterLab not ready in {timeout} s:\n{server.log.read_text()[-3000:]}")


def _stop(server: Lab) -> None:
    """Ask the server to shut down (it stops its kernels); kill its process group if it hangs."""
    if server.process.poll() is not None:
        return
    request = urllib.request.Request(f"{server.url}/api/shutdown", method="POST",
                                     headers={"Authorization": f"token {server.token}"})
    try:
        urllib.request.urlopen(request, timeout=5).close()
        server.process.wait(timeout=15)
    except (urllib.error.URLError, OSError, subprocess.TimeoutExpired):
        os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait(timeout=10)


def _server_env(home: Path) -> dict[str, str]:
    """This environment minus any key, with Jupyter's per-user state in a scratch folder."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("INSTANTLY_")}
    env["INSTANTLY_NB_PROGRESS"] = "0"
    for name, sub in [("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_RUNTIME_DIR", "runtime"),
                      ("JUPYTERLAB_SETTINGS_DIR", "settings"),
                      ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"), ("IPYTHONDIR", "ipython")]:
        env[name] = str(home / sub)
    return env


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    require_chromium()
    folder = tmp_path_factory.mktemp("notebooks")
    home = tmp_path_factory.mktemp("jupyter-home")
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    nbformat.write(notebook, folder / "charts.ipynb")
    token, port = secrets.token_hex(16), _free_port()
    extra = ["--no-browser", f"--port={port}", f"--ServerApp.ip={LOCAL}",
             f"--IdentityProvider.token={token}", "--LabApp.news_url=None",
             "--ServerApp.port_retries=0"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers and CI runners often are root
        extra.append("--allow-root")
    with ExitStack() as stack:
        env = stack.enter_context(lab.lab_environment(_server_env(home)))
        log = home / "lab.log"
        sink = stack.enter_context(log.open("wb"))
        process = subprocess.Popen(lab.lab_command(folder, extra), env=env, stdout=sink,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        running = Lab(f"http://{LOCAL}:{port}", token, folder, log, process)
        try:
            _wait_ready(running)
            yield running
        finally:
            _stop(running)


def _run_all_cells(page: Any) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()


def _measure(page: Any, index: int) -> dict[str, Any]:
    """Wait until chart ``index`` drew and its iframe fits it; return both sizes."""
    frame = page.frame_locator(f"iframe.{render.FRAME_CLASS}").nth(index)
    frame.locator(".vega-embed svg.marks, .vega-embed canvas").first.wait_for(timeout=WAIT_MS)
    iframe = page.locator(f"iframe.{render.FRAME_CLASS}").nth(index)
    deadline = time.monotonic() + 10
    while True:
        outer = iframe.bounding_box()
        inner = frame.locator("#vis").bounding_box()
        assert outer and inner
        fits = abs(outer["height"] - (inner["height"] + 12)) <= 2  # 6 px padding each side
        if fits or time.monotonic() > deadline:
            return {"outer": outer, "inner": inner, "fits": fits}
        time.sleep(0.1)


def _drive(page: Any, server: Lab, seen: Visit) -> None:
    page.goto(f"{server.url}/lab/tree/charts.ipynb?token={server.token}")
    page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=WAIT_MS)
    # Run All is disabled until the kernel is up; the status bar says when it is.
    page.locator("#jp-main-statusbar", has_text="| Idle").wait_for(timeout=WAIT_MS)
    _run_all_cells(page)
    done = page.locator(".jp-OutputArea-output", has_text="renderer:")
    done.wait_for(timeout=WAIT_MS)
    seen.renderer_line = done.inner_text().strip()
    charts = page.locator(f"iframe.{render.FRAME_CLASS}")
    seen.frames = [_measure(page, i) for i in range(charts.count())]
    seen.in_widget = page.locator(f".widget-output iframe.{render.FRAME_CLASS}").count()
    first = page.frame_locator(f"iframe.{render.FRAME_CLASS}").nth(0)
    first.locator(".vega-embed canvas, .vega-embed svg.marks").first.hover()
    tip = first.locator("#vg-tooltip-element.visible")
    tip.wait_for(timeout=10_000)
    seen.tooltip = tip.inner_text()


@pytest.fixture(scope="module")
def visit(server: Lab) -> Iterator[Visit]:
    """Open the notebook in chromium, run all cells and collect what the tests assert on."""
    from playwright.sync_api import sync_playwright

    seen = Visit()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 1000})
            context.on("request", lambda request: seen.requests.append(request.url))

            def guard(route: Any) -> None:  # anything not local is recorded above, then refused
                if urlsplit(route.request.url).hostname == LOCAL:
                    route.continue_()
                else:
                    route.abort()

            context.route("**/*", guard)
            page = context.new_page()
            page.on("websocket", lambda ws: seen.requests.append(ws.url))
            page.on("console", lambda msg: msg.type == "error" and seen.console_errors.append(
                msg.text))
            try:
                _drive(page, server, seen)
            except Exception:
                # Left for whoever reads the failure: what the page showed, and the server log.
                page.screenshot(path=str(server.log.with_name("failure.png")), full_page=True)
                raise
        finally:
            browser.close()
    yield seen


@pytest.mark.browser
def test_kernel_uses_the_offline_renderer_with_no_setup_cell(visit: Visit) -> None:
    assert visit.renderer_line == f"renderer: {render.RENDERER_NAME}"


@pytest.mark.browser
def test_every_chart_draws_and_its_iframe_fits(visit: Visit) -> None:
    assert len(visit.frames) == 3
    assert visit.in_widget == 1  # the ipywidgets.Output chart, as in the explorer
    for measured in visit.frames:
        assert measured["fits"], measured
        assert measured["inner"]["height"] > 50


@pytest.mark.browser
def test_tooltips_work(visit: Visit) -> None:
    assert "replies" in visit.tooltip and "12" in visit.tooltip


@pytest.mark.browser
def test_no_request_leaves_localhost(visit: Visit) -> None:
    network = [u for u in visit.requests if urlsplit(u).scheme in ("http", "https", "ws", "wss")]
    assert network, "no request recorded: the recorder is broken"
    assert [u for u in network if urlsplit(u).hostname != LOCAL] == []
    assert [u for u in visit.requests if u not in network
            and urlsplit(u).scheme not in ("data", "blob", "about")] == []


@pytest.mark.browser
# --- the kernel spec ``make lab`` hands JupyterLab, without a browser -------------------------


def _spec_dir(env: dict[str, str]) -> Path:
    return Path(env["JUPYTER_PATH"].split(os.pathsep)[0]) / "kernels" / "python3"


def test_lab_kernels_load_the_chart_extension(monkeypatch: pytest.MonkeyPatch) -> None:
    from jupyter_client.kernelspec import KernelSpecManager

    with lab.lab_environment({"PATH": os.environ.get("PATH", "")}) as env:
        folder = _spec_dir(env)
        spec = json.loads((folder / "kernel.json").read_text())
        assert spec["argv"][-1] == f"--ext={lab.KERNEL_EXTENSION}"
        assert "ipykernel" in " ".join(spec["argv"][:-1])
        assert env[render.OFFLINE_ENV] == "1"
        monkeypatch.setenv("JUPYTER_PATH", env["JUPYTER_PATH"])
        assert Path(KernelSpecManager().get_kernel_spec("python3").resource_dir) == folder
    assert not folder.exists()  # removed when the lab exits


def test_lab_environment_keeps_an_existing_jupyter_path(tmp_path: Path) -> None:
    with lab.lab_environment({"JUPYTER_PATH": str(tmp_path)}) as env:
        first, rest = env["JUPYTER_PATH"].split(os.pathsep, 1)
        assert rest == str(tmp_path) and Path(first) != tmp_path


def test_lab_environment_opt_out() -> None:
    base = {render.OFFLINE_ENV: "0", "PATH": "/bin"}
    with lab.lab_environment(base) as env:
        assert env == base


def test_a_python3_kernel_that_is_not_ipython_is_left_alone(tmp_path: Path) -> None:
    other = tmp_path / "kernels" / "python3"
    other.mkdir(parents=True)
    (other / "kernel.json").write_text(json.dumps({
        "argv": ["/opt/other-kernel", "{connection_file}"], "display_name": "Other",
        "language": "python"}))
    with lab.lab_environment({"JUPYTER_PATH": str(tmp_path)}) as env:
        assert env["JUPYTER_PATH"] == str(tmp_path)


def test_main_runs_jupyterlab_while_the_spec_exists(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[list[str], bool]] = []

    def fake_run(command: list[str], env: dict[str, str]) -> int:
        seen.append((command, (_spec_dir(env) / "kernel.json").is_file()))
        return 3

    monkeypatch.setattr(lab, "_run", fake_run)
    assert lab.main(["notebooks", "--no-browser"]) == 3
    assert seen == [([*lab.lab_command("notebooks"), "--no-browser"], True)]


# The kernel extension, each case in a fresh interpreter (altair must not be imported yet).
HOOK_PROBE = """
import json, sys
import instantly_nb.lab as lab
lab.load_ipython_extension(None)
lab.load_ipython_extension(None)
hooks = sum(type(f).__name__ == "_AfterAltair" for f in sys.meta_path)
imported_early = "altair" in sys.modules
import altair as alt
chart = alt.Chart(alt.Data(values=[{"a": 1}])).mark_bar().encode(x="a:Q")
print(json.dumps({
    "hooks_before": hooks, "imported_early": imported_early,
    "hooks_after": sum(type(f).__name__ == "_AfterAltair" for f in sys.meta_path),
    "loader_patched": "exec_module" in vars(alt.__spec__.loader),
    "active": alt.renderers.active, "mimes": sorted(chart._repr_mimebundle_()),
}))
"""


def test_kernel_extension_enables_charts_when_altair_is_imported() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INSTANTLY_")}
    runs = {mode: subprocess.Popen([sys.executable, "-c", HOOK_PROBE], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True,
                                   env={**env, "INSTANTLY_NB_REPORT": mode})
            for mode in ("0", "1")}
    seen = {}
    for mode, run in runs.items():
        out, err = run.communicate(timeout=60)
        assert run.returncode == 0, err
        seen[mode] = json.loads(out)
    assert seen["0"] == {"hooks_before": 1, "imported_early": False, "hooks_after": 0,
                         "loader_patched": False, "active": render.RENDERER_NAME,
                         "mimes": ["text/html", "text/plain"]}
    # A report kernel keeps altair's renderer until the runner's set-up cell replaces it.
    assert seen["1"]["active"] == "default" and seen["1"]["hooks_after"] == 0


def test_kernel_extension_with_altair_already_imported() -> None:
    import altair as alt

    active, options = alt.renderers.active, dict(alt.renderers.options)
    try:
        alt.renderers.enable("default")
        lab.load_ipython_extension(None)
        now = alt.renderers.active
    finally:
        alt.renderers.enable(active, **options)
    assert now == render.RENDERER_NAME
    assert not [f for f in sys.meta_path if type(f).__name__ == "_AfterAltair"]
