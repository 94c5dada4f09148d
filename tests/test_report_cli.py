"""``instantly-nb report``: options, exit codes, secrets and the demo server, with real kernels."""

from __future__ import annotations

import importlib.util
import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

import pytest

from instantly_nb.report import cli, sources
from instantly_nb.report.cli import build_parser, main, make_plan
from instantly_nb.report.periods import utc_today

FIXTURES = Path(__file__).parent / "fixtures" / "report"
FAKE_KEY = "sk-test-DO-NOT-LEAK-7f3a9c"
DEMO_KEY = "demo-key-for-tests-123"
PROBE = str(FIXTURES / "env_probe.ipynb")

_spec = importlib.util.spec_from_file_location("report_fake_api", FIXTURES / "fake_api.py")
assert _spec and _spec.loader
fake_api = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fake_api)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("INSTANTLY_API_KEY", "INSTANTLY_BASE_URL", "INSTANTLY_NB_NOTEBOOKS"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the default --out (./reports) is created by make_plan


@pytest.fixture
def live_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """A live-mode run against a loopback API that knows FAKE_KEY (never the internet)."""
    with fake_api.FakeAPI({FAKE_KEY: "Acme <b>Outreach</b>"}) as api:
        monkeypatch.setenv("INSTANTLY_API_KEY", FAKE_KEY)
        monkeypatch.setenv("INSTANTLY_BASE_URL", api.url)
        yield api


def _files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


# -- usage (no kernel starts) -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--period", "fortnight"], "invalid choice"),
        (["--start", "2026-11-10"], "both --start and --end"),
        (["--start", "2026-11-10", "--end", "2026-11-01"], "starts after it ends"),
        (["--period", "last-7d", "--start", "2026-11-01", "--end", "2026-11-02"], "not both"),
        (["--start", "11/10/2026", "--end", "2026-11-12"], "not a date"),
        (["--notebook", "no_such_notebook"], "not found"),
        (["-p", "api_key=abc"], "INSTANTLY_API_KEY"),
        (["-p", "start_date=2026-01-01"], "its own option"),
        (["-p", "not a name"], "NAME=VALUE"),
        (["--name", "../escape"], "may only hold"),
        (["--timeout", "0"], "positive"),
    ],
)
def test_bad_usage_exits_2_with_a_message(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--notebook", PROBE, "--out", str(tmp_path), *args]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert message in captured.err
    assert captured.out == "" and _files(tmp_path) == []


def test_unwritable_output_folder_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert main(["--demo", "--notebook", PROBE, "--out", str(blocker / "reports")]) == 2
    assert "--out" in capsys.readouterr().err


def test_log_lines_never_carry_the_key() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    scrubber = cli._ScrubFilter()
    scrubber.secrets.append(FAKE_KEY)
    handler.addFilter(scrubber)
    logger = logging.getLogger("instantly_nb.report.test-scrub")
    logger.addHandler(handler)
    try:
        logger.warning("request failed for Bearer %s", FAKE_KEY)
    finally:
        logger.removeHandler(handler)
    assert stream.getvalue() == "request failed for Bearer [redacted]\n"


def test_help_exits_0_and_documents_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "--period" in out and "exit codes:" in out and "3  the API refused the key" in out


def _plan(args: list[str], environ: dict[str, str] | None = None) -> cli.Plan:
    environ = {"INSTANTLY_API_KEY": FAKE_KEY} if environ is None else environ
    return make_plan(build_parser().parse_args(["--notebook", PROBE, *args]), environ)


def test_default_window_is_the_last_7_full_days() -> None:
    plan = _plan([])
    yesterday = utc_today() - timedelta(days=1)
    assert (plan.window.start, plan.window.end) == (yesterday - timedelta(days=6), yesterday)
    assert plan.window.period == "last-7d"


def test_window_options() -> None:
    plan = _plan(["--period", "previous-month", "--as-of", "2026-03-10"])
    assert (plan.window.start, plan.window.end) == (date(2026, 2, 1), date(2026, 2, 28))
    plan = _plan(["--start", "2026-11-01", "--end", "2026-11-15"])
    assert (plan.window.start, plan.window.end, plan.window.period) == (
        date(2026, 11, 1),
        date(2026, 11, 15),
        None,
    )


def test_demo_only_when_asked() -> None:
    assert _plan([], {"INSTANTLY_API_KEY": FAKE_KEY}).demo is False
    assert _plan(["--demo"], {"INSTANTLY_API_KEY": FAKE_KEY}).demo is True
    assert _plan(["--demo"], {}).demo is True
    with pytest.raises(cli.UsageError, match="INSTANTLY_API_KEY is not set"):
        _plan([], {})  # no key, no --demo, no terminal (the test's stdin is not one)


def test_a_scheduled_run_without_a_key_fails_naming_the_variable(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INSTANTLY_")}
    done = subprocess.run(
        [sys.executable, "-m", "instantly_nb.cli", "report", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=120, check=False, env=env,
        stdin=subprocess.DEVNULL)
    assert done.returncode == 2
    assert "INSTANTLY_API_KEY is not set" in done.stderr and "--demo" in done.stderr
    assert done.stdout == "" and _files(tmp_path) == []


def test_params_campaigns_and_notebook_lookup(tmp_path: Path) -> None:
    plan = _plan(["--campaign", "c1", "--campaign", "c2", "-p", "min_rate=0.8", "-p", "tag=weekly"])
    assert plan.campaign_ids == ["c1", "c2"]
    assert plan.params == {"min_rate": 0.8, "tag": "weekly"}
    found = make_plan(
        build_parser().parse_args(["--demo", "--notebooks-dir", str(FIXTURES), "--notebook", "failing"]), {}
    )
    assert found.notebooks == [(FIXTURES / "failing.ipynb").resolve()]


def test_default_notebooks_are_looked_up_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in cli.DEFAULT_NOTEBOOKS:
        (tmp_path / f"{name}.ipynb").write_text((FIXTURES / "env_probe.ipynb").read_text())
    monkeypatch.setenv("INSTANTLY_NB_NOTEBOOKS", str(tmp_path))
    plan = make_plan(build_parser().parse_args(["--demo"]), {})
    assert [p.stem for p in plan.notebooks] == list(cli.DEFAULT_NOTEBOOKS)
    assert "leads_and_replies" not in cli.DEFAULT_NOTEBOOKS  # lead e-mails stay out by default


def test_missing_demo_server_is_a_configuration_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "instantly_nb.demo", None)  # import now fails
    assert main(["--demo", "--notebook", PROBE, "--out", str(tmp_path)]) == 2
    assert "demo workspace is not available" in capsys.readouterr().err


# -- real kernels -------------------------------------------------------------------------------


def test_failed_notebook_exits_1_and_secrets_are_scrubbed(
    tmp_path: Path, live_api: object, capfd: pytest.CaptureFixture[str]
) -> None:
    argv = [
        "--notebook",
        str(FIXTURES / "leaky.ipynb"),
        "--notebook",
        str(FIXTURES / "failing.ipynb"),
    ]
    argv += ["--start", "2026-11-01", "--end", "2026-11-07", "--out", str(tmp_path)]
    assert main(argv) == 1
    out, err = capfd.readouterr()
    report = tmp_path / "instantly-report_2026-11-01_2026-11-07.html"
    assert out.strip() == str(report.resolve())
    html = report.read_text()
    assert "before the failure" in html and "never runs" not in html
    assert "ValueError: boom &lt;b&gt;not bold&lt;/b&gt;" in html
    assert "Did not run to the end: failing." in html
    assert "Acme &lt;b&gt;Outreach&lt;/b&gt;" in html  # workspace name from the API, escaped
    assert "[redacted]" in html  # leaky printed the key and put it in a table
    assert "failing failed: ValueError" in err and "replaced by [redacted]" in err
    kept = tmp_path / "instantly-report_2026-11-01_2026-11-07_notebooks" / "failing.ipynb"
    assert kept.is_file()  # a failed notebook is kept for debugging
    for path in _files(tmp_path):
        assert FAKE_KEY not in path.read_text(), path
        # leaky also streamed the key in two pieces: neither piece is left
        assert FAKE_KEY[:13] not in path.read_text() and FAKE_KEY[13:] not in path.read_text(), path
    assert FAKE_KEY not in out + err


def test_key_refused_before_any_kernel_exits_3(
    tmp_path: Path,
    live_api: object,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    wrong = "sk-test-wrong-key-000000"
    monkeypatch.setenv("INSTANTLY_API_KEY", wrong)
    assert main(["--notebook", PROBE, "--out", str(tmp_path)]) == 3
    out, err = capfd.readouterr()
    assert out == "" and _files(tmp_path) == []
    assert "refused the key" in err and "401" in err
    assert live_api.seen == [("/api/v2/workspaces/current", False)]  # type: ignore[attr-defined]
    assert wrong not in err


def test_key_refused_inside_a_notebook_exits_3_and_writes_no_report(
    tmp_path: Path, live_api: object, capfd: pytest.CaptureFixture[str]
) -> None:
    argv = ["--notebook", str(FIXTURES / "auth_error.ipynb"), "--notebook", PROBE]
    assert main([*argv, "--out", str(tmp_path)]) == 3
    out, err = capfd.readouterr()
    assert out == ""
    assert "refused the key" in err and "INSTANTLY_API_KEY" in err
    assert not list(tmp_path.glob("*.html"))
    kept = list(tmp_path.rglob("*.ipynb"))
    assert [p.name for p in kept] == ["auth_error.ipynb"]  # stopped before the second notebook
    assert FAKE_KEY not in kept[0].read_text() + out + err


def test_demo_run_starts_one_server_and_passes_it_through_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    starts: list[object] = []

    @contextmanager
    def fake_demo() -> Iterator[tuple[str, str, str, dict[str, str]]]:
        with fake_api.FakeAPI({DEMO_KEY: "Fake demo workspace"}) as api:
            starts.append(api)
            yield DEMO_KEY, api.url, "short name", {"INSTANTLY_NB_PACING": "rate_per_second=500"}

    monkeypatch.setattr(sources, "demo_server", fake_demo)
    argv = ["--demo", "--notebook", PROBE, "--notebook", PROBE, "--keep-notebooks",
            "--out", str(tmp_path)]
    assert main(argv) == 0
    out, err = capfd.readouterr()
    assert len(starts) == 1
    # one request from the runner (workspace name), one from each notebook's kernel
    assert starts[0].seen == [("/api/v2/workspaces/current", True)] * 3  # type: ignore[attr-defined]
    html = Path(out.strip()).read_text()
    assert "Fake demo workspace" in html and "demo data" in html
    assert "workspace answered: Fake demo workspace" in html
    nb_dir = tmp_path / (Path(out.strip()).stem + "_notebooks")
    nb = json.loads((nb_dir / "env_probe.ipynb").read_text())
    assert nb["metadata"]["papermill"]["parameters"]["demo"] is True
    assert DEMO_KEY not in json.dumps(nb) and DEMO_KEY not in html + err


def test_demo_run_with_the_real_demo_server(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    from instantly_nb.demo import DEMO_KEY as REAL_KEY

    assert main(["--demo", "--notebook", PROBE, "--out", str(tmp_path)]) == 0
    out, _ = capfd.readouterr()
    html = Path(out.strip()).read_text()
    name = html.split("workspace answered: ", 1)[1].split("\n", 1)[0]
    header = html.split("</header>", 1)[0]
    assert name and f"<dd>{name}<span" in header  # the header names the demo workspace
    assert REAL_KEY not in html


def test_cache_option_gives_the_kernels_a_snapshot_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    import nbformat

    probe = nbformat.v4.new_notebook()
    probe.cells = [
        nbformat.v4.new_code_cell("demo = False", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(
            "import instantly_nb\nclient = instantly_nb.connect()\n"
            "print('store at', client.store.root)\nclient.close()"),
    ]
    path = tmp_path / "cache_probe.ipynb"
    nbformat.write(probe, path)

    @contextmanager
    def fake_demo() -> Iterator[tuple[str, str, str, dict[str, str]]]:
        with fake_api.FakeAPI({DEMO_KEY: "Fake demo workspace"}) as api:
            yield DEMO_KEY, api.url, "short name", {}

    monkeypatch.setattr(sources, "demo_server", fake_demo)
    cache = tmp_path / "snapshots"
    argv = ["--demo", "--notebook", str(path), "--keep-notebooks", "--cache", str(cache),
            "--out", str(tmp_path / "out")]
    assert main(argv) == 0
    out, _ = capfd.readouterr()
    kept = Path(out.strip()).with_suffix("")
    nb = json.loads((kept.with_name(kept.name + "_notebooks") / "cache_probe.ipynb").read_text())
    printed = "".join("".join(o.get("text", "")) for c in nb["cells"] if c["cell_type"] == "code"
                      for o in c.get("outputs", []))
    assert f"store at {cache.resolve()}" in printed


def test_connect_keeps_frames_where_the_cache_variable_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from instantly_nb import connect

    monkeypatch.setenv("INSTANTLY_NB_CACHE", str(tmp_path / "kept"))
    with connect(size="tiny") as client:
        assert client.store is not None and client.store.root == tmp_path / "kept"
        client.campaigns.list()
    assert list((tmp_path / "kept").rglob("*.parquet"))


def test_a_scheduled_connect_without_a_key_refuses_the_demo(monkeypatch: pytest.MonkeyPatch) -> None:
    from instantly_nb import connect
    from instantly_nb.errors import ConfigurationError

    monkeypatch.delenv("INSTANTLY_API_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="INSTANTLY_API_KEY") as caught:
        connect(scheduled=True, size="tiny")
    assert "demo=True" in str(caught.value)
    with connect(scheduled=True, demo=True, size="tiny") as client:  # the demo, asked for
        assert client.demo_server is not None
    with connect(size="tiny") as client:  # at the keyboard: the demo, as before
        assert client.demo_server is not None
