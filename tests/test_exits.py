"""Exit codes shared by the commands, and the demo workspace only when asked for."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from instantly_nb import cli
from instantly_nb.errors import (
    APIError,
    AuthenticationError,
    ConfigurationError,
    NotFoundError,
    PaymentRequiredError,
    PermissionDeniedError,
)
from instantly_nb.exits import EXIT_CODES, exit_code, help_text, use_demo
from instantly_nb.report.cli import build_parser as report_parser
from instantly_nb.report.runner import classify


def test_use_demo_needs_the_flag_or_a_terminal() -> None:
    said: list[str] = []
    assert use_demo(True, {}, interactive=False, say=said.append) is True
    assert use_demo(False, {"INSTANTLY_API_KEY": "k"}, interactive=True, say=said.append) is False
    assert said == []
    assert use_demo(False, {}, interactive=True, say=said.append) is True
    assert len(said) == 1 and "DEMO workspace" in said[0] and "INSTANTLY_API_KEY" in said[0]
    with pytest.raises(ConfigurationError, match="INSTANTLY_API_KEY is not set"):
        use_demo(False, {"INSTANTLY_API_KEY": "  "}, interactive=False)


def _api(cls: type[APIError], status: int) -> APIError:
    return cls(status=status, method="GET", path="/api/v2/campaigns")


@pytest.mark.parametrize(("error", "code"), [
    (_api(AuthenticationError, 401), 3), (_api(PaymentRequiredError, 402), 3),
    (_api(PermissionDeniedError, 403), 3), (ConfigurationError("no key"), 2),
    (_api(NotFoundError, 404), 1), (_api(APIError, 500), 1), (RuntimeError("bug"), 1),
])
def test_exit_code_of_each_error(error: BaseException, code: int) -> None:
    assert exit_code(error) == code


def test_pull_report_and_summary_list_the_same_table_in_their_help(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert report_parser().epilog == help_text()
    for command in ("pull", "summary"):
        with pytest.raises(SystemExit):
            cli.main([command, "--help"])
        shown = capsys.readouterr().out
        for code, what in EXIT_CODES.items():
            assert f"  {code}  {what.split()[0]}" in shown, (command, code)


def test_pull_without_a_key_outside_a_terminal_stops_with_code_2(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-m", "instantly_nb.cli", "pull", "--out", str(tmp_path / "data")],
        capture_output=True, text=True, timeout=120, check=False, env=env,
        stdin=subprocess.DEVNULL)
    assert done.returncode == 2, done.stderr
    assert "INSTANTLY_API_KEY is not set" in done.stderr
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize(("error", "kind"), [
    ("AuthenticationError", "auth"), ("PaymentRequiredError", "auth"),
    (PermissionDeniedError, "auth"), ("BlockedRequestError", "failed"),
    ("ConfigurationError", "config"), (NotFoundError, "failed"), ("ServerError", "failed"),
    ("KeyError", "failed"), ("NoSuchName", "failed"), (ValueError, "failed"),
])
def test_report_runs_sort_errors_by_type(error: type[BaseException] | str, kind: str) -> None:
    assert classify(error) == kind


def test_a_refused_part_of_a_fan_out_still_stops_the_report() -> None:
    error = _api(AuthenticationError, 401)
    error.add_note("while fetching campaign_id=c2 (one of 3 parts; no partial result is returned)")
    assert classify(type(error)) == "auth" and exit_code(error) == 3
