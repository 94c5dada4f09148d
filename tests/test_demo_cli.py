"""The demo server's command line: ``python -m instantly_nb.demo`` and ``main(argv)``."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import httpx
import pytest

from instantly_nb.demo import DEMO_KEY, Faults, main
from instantly_nb.demo.cli import build_parser, faults_from_args, parse_faults

from .test_demo_support import TODAY


def _wait_for_url(capsys: pytest.CaptureFixture[str], seconds: float = 10) -> tuple[str, str]:
    deadline, seen = time.monotonic() + seconds, ""
    while time.monotonic() < deadline:
        seen += capsys.readouterr().out
        for line in seen.splitlines():
            if line.startswith("instantly_nb demo server: "):
                return line.split(": ", 1)[1], seen
        time.sleep(0.05)
    raise AssertionError(f"the demo server printed no URL: {seen!r}")


def test_main_serves_until_stopped(capsys: pytest.CaptureFixture[str]) -> None:
    stop = threading.Event()
    argv = ["--size", "tiny", "--today", TODAY, "--latency-ms", "1", "--fail-first", "503"]
    runner = threading.Thread(target=main, args=(argv,), kwargs={"stop": stop})
    runner.start()
    try:
        url, printed = _wait_for_url(capsys)
        headers = {"Authorization": f"Bearer {DEMO_KEY}"}
        codes = [httpx.get(url + "/api/v2/campaigns/count-launched", headers=headers).status_code
                 for _ in range(2)]
    finally:
        stop.set()
        runner.join(10)
    assert codes == [503, 200]
    assert f"accepted key: {DEMO_KEY}" in printed
    assert not runner.is_alive()


def test_module_entry_point_prints_its_help() -> None:
    done = subprocess.run([sys.executable, "-m", "instantly_nb.demo", "--help"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0
    for flag in ("--port", "--size", "--seed", "--latency-ms", "--faults", "--key",
                 "--error-rate", "--hang-rate", "--empty-final-cursor", "--dangling-cursor",
                 "--error-in-200", "--truncate-rate", "--invalid-json-rate"):
        assert flag in done.stdout


def test_every_fault_is_a_command_line_flag() -> None:
    args = build_parser().parse_args([
        "--latency-ms", "5", "--jitter-ms", "2", "--error-rate", "0.2",
        "--error-statuses", "500,503", "--fail-first", "429", "--hang-rate", "0.1",
        "--hang-seconds", "9", "--truncate-rate", "0.05", "--invalid-json-rate", "0.04",
        "--empty-final-cursor", "--dangling-cursor", "--error-in-200", "accounts.list",
        "--fault-endpoints", "accounts.list,emails.list", "--fault-seed", "4"])
    assert faults_from_args(args) == Faults(
        latency_ms=5, jitter_ms=2, error_rate=0.2, error_statuses=(500, 503), fail_first=(429,),
        hang_rate=0.1, hang_seconds=9, truncate_rate=0.05, invalid_json_rate=0.04,
        empty_final_cursor=True, dangling_cursor=True, error_in_200="accounts.list",
        endpoints=("accounts.list", "emails.list"), seed=4)


def test_faults_spec_string() -> None:
    assert parse_faults("error_rate=0.1, dangling_cursor=true, error_statuses=502+503") == \
        Faults(error_rate=0.1, dangling_cursor=True, error_statuses=(502, 503))
    with pytest.raises(SystemExit, match="unknown fault 'nope'"):
        parse_faults("nope=1")
