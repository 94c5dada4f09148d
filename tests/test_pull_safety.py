"""A pull stops on Ctrl-C, never changes ``client.store`` and replaces its output folder as a
unit -- against the real demo server (and the real command in a subprocess)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from instantly_nb import Client, errors
from instantly_nb.demo import DEMO_KEY, DemoServer, Faults, Limits

from .conftest import REPO, Recorder, json_response

HANG = Faults(hang_rate=1.0, hang_seconds=20.0, endpoints=("emails.list",))
STEPS = ["campaigns.analytics_steps"]  # campaigns.list, then the steps of each campaign


def _tops(folder: Path) -> dict[str, tuple[int, int]]:
    """The files of a pull folder (not its snapshot store) with their size and change time."""
    return {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.iterdir() if p.is_file()}


def test_a_pull_hands_its_store_to_its_steps_and_never_swaps_client_store(tmp_path):
    seen: list[object] = []

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/workspaces/current"):
            return json_response({"id": "ws-1", "name": "W"})
        if path.endswith("/count-launched"):
            return json_response({"count": 3})
        if path.endswith("/campaigns"):
            seen.append(client.store)  # what every other thread sees meanwhile
            other = threading.Thread(target=lambda: seen.append(
                client.fetch("campaigns.count_launched").height))
            other.start()  # a fetch of another thread, in the middle of the pull
            other.join()
            return json_response({"items": [{"id": "019ffad2-90b0-7d6d-b877-e244a0d3d2b2"}]})
        return json_response({"items": []})

    rec = Recorder(handler)
    client = Client(api_key="k" * 20, base_url="https://api.test", transport=rec.transport)
    client.pull(tmp_path / "out", only=["campaigns.list"])
    assert seen == [None, 1] and client.store is None
    snapshots = tmp_path / "out" / ".snapshots" / "ws-1"
    assert (snapshots / "campaigns.list").is_dir()  # the pull's own frames are in its store
    assert not (snapshots / "campaigns.count_launched").exists()  # the other thread's are not


def test_a_failed_pull_leaves_the_previous_complete_pull_in_place(tmp_path):
    out = tmp_path / "out"
    with DemoServer(size="tiny", seed=11, limits=Limits(enabled=False)) as srv, \
            Client(api_key=DEMO_KEY, base_url=srv.url, **srv.client_pacing()) as client:
        first = client.pull(out, only=STEPS, days=30)
    manifest = json.loads((out / "_manifest.json").read_text())
    assert set(manifest["files"]) == {f"{n}.parquet" for n in first["endpoint"]}
    before = _tops(out)
    time.sleep(0.05)
    broken = Faults(error_in_200="campaigns.analytics_steps")
    with DemoServer(size="tiny", seed=11, limits=Limits(enabled=False), faults=broken) as srv, \
            Client(api_key=DEMO_KEY, base_url=srv.url, **srv.client_pacing()) as client:
        with pytest.raises(errors.InstantlyError):
            client.pull(out, only=STEPS, days=7, strict=True)  # campaigns.list succeeds first
    assert _tops(out) == before  # not one file of the first pull was touched
    assert json.loads((out / "_manifest.json").read_text()) == manifest
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no staging folder left
    with DemoServer(size="tiny", seed=11, limits=Limits(enabled=False)) as srv, \
            Client(api_key=DEMO_KEY, base_url=srv.url, **srv.client_pacing()) as client:
        client.pull(out, only=STEPS, days=7)  # a complete pull replaces the folder
    again = json.loads((out / "_manifest.json").read_text())
    assert again["generation"] != manifest["generation"] and again["window"]["start"] != manifest["window"]["start"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


@pytest.mark.parametrize("mine", ["notes.txt", "sales.parquet"])
def test_a_folder_holding_other_files_is_refused(tmp_path, monkeypatch, mine):
    (tmp_path / mine).write_text("mine")
    client = Client(api_key="k" * 20, base_url="https://api.test",
                    transport=Recorder(lambda r: json_response({})).transport)
    with pytest.raises(errors.ConfigurationError, match="did not write"):
        client.pull(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [mine]
    (tmp_path / mine).unlink()
    monkeypatch.chdir(tmp_path)
    with pytest.raises(errors.ConfigurationError, match="working directory"):
        client.pull(".")
    assert list(tmp_path.iterdir()) == []


def _interrupt_after(seconds: float, times: list[float], count: int = 1, gap: float = 0.3) -> None:
    def fire() -> None:
        time.sleep(seconds)
        for _ in range(count):
            times.append(time.perf_counter())
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(gap)

    threading.Thread(target=fire, daemon=True).start()


def test_ctrl_c_cancels_the_pull_within_a_second_and_says_what_was_kept(tmp_path):
    out = tmp_path / "out"
    with DemoServer(size="tiny", seed=11, limits=Limits(enabled=False), faults=HANG) as srv, \
            Client(api_key=DEMO_KEY, base_url=srv.url, timeout=30, **srv.client_pacing()) as client:
        fired: list[float] = []
        _interrupt_after(2.0, fired)
        with pytest.raises(KeyboardInterrupt) as info:
            client.pull(out, days=7)  # e-mails.list hangs for 20 s
        raised = time.perf_counter()
        assert raised - fired[0] < 2.5  # the grace is one second
        sent = client.requests_sent
        time.sleep(1.0)
        assert client.requests_sent == sent  # nothing more goes out
    message = str(info.value)
    assert "pull interrupted" in message and "cancelled" in message
    assert "kept in the snapshot store" in message and str(out) in message
    assert not list(out.glob("*.parquet"))  # no half pull in the output folder
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_second_ctrl_c_stops_at_once(tmp_path):
    with DemoServer(size="tiny", seed=11, limits=Limits(enabled=False), faults=HANG) as srv, \
            Client(api_key=DEMO_KEY, base_url=srv.url, timeout=30, **srv.client_pacing()) as client:
        fired: list[float] = []
        _interrupt_after(2.0, fired, count=2, gap=0.1)
        with pytest.raises(KeyboardInterrupt, match="second Ctrl-C"):
            client.pull(tmp_path / "out", days=7)
        assert time.perf_counter() - fired[1] < 0.6  # the grace would end 0.9 s later


def test_the_pull_command_exits_at_once_on_ctrl_c(tmp_path):
    with DemoServer(size="tiny", seed=11, limits=Limits(enabled=False), faults=HANG) as srv:
        env = {**os.environ, "INSTANTLY_API_KEY": DEMO_KEY, "INSTANTLY_BASE_URL": srv.url,
               "INSTANTLY_NB_PROGRESS": "0"}
        proc = subprocess.Popen(
            [sys.executable, "-m", "instantly_nb.cli", "pull", "--out", str(tmp_path / "out"),
             "--days", "7"], cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True)
        deadline = time.monotonic() + 60
        while not (tmp_path / "out" / ".snapshots").exists():  # the sweep has begun
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
        time.sleep(1.0)
        sent = time.perf_counter()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
        took = time.perf_counter() - sent
    assert proc.returncode == 130, err
    assert took < 4.0
    assert "pull interrupted" in err and "Traceback" not in err


def test_ctrl_c_during_a_fan_out_fetch_returns_at_once():
    """A notebook's fetch over many campaigns, interrupted while its parts hang."""
    hang = Faults(hang_rate=1.0, hang_seconds=20.0, endpoints=("campaigns.analytics_steps",))
    with DemoServer(size="tiny", seed=11, limits=Limits(enabled=False), faults=hang) as srv, \
            Client(api_key=DEMO_KEY, base_url=srv.url, timeout=30, **srv.client_pacing()) as client:
        ids = client.campaigns.list()["id"].to_list()
        assert len(ids) > 1
        fired: list[float] = []
        _interrupt_after(1.0, fired)
        with pytest.raises(KeyboardInterrupt):
            client.fetch("campaigns.analytics_steps", campaign_id=ids)
        assert time.perf_counter() - fired[0] < 1.0


def test_a_pull_refused_before_its_first_frame_leaves_nothing_behind(tmp_path):
    client = Client(api_key="k" * 20, base_url="https://api.test",
                    transport=Recorder(lambda r: json_response({"message": "no"}, 401)).transport)
    with pytest.raises(errors.AuthenticationError):
        client.pull(tmp_path / "out")
    assert [p.name for p in tmp_path.iterdir()] in ([], ["out"])
    assert not list(tmp_path.glob(".out.pull-*"))


def test_the_listings_that_set_the_pace_start_first(tmp_path):
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/workspaces/current"):
            return json_response({"id": "ws-1", "name": "W"})
        if request.url.path.endswith("/count-launched"):
            return json_response({"count": 0})
        return json_response({"items": []})

    rec = Recorder(handler)
    client = Client(api_key="k" * 20, base_url="https://api.test", transport=rec.transport,
                    progress=False)
    client.pull(tmp_path / "out", concurrency=1,
                only=["leads.list", "emails.list", "accounts.list", "campaigns.list"])
    paths = [p.removeprefix("/api/v2") for p in rec.paths()]
    # the e-mail estimate (one overview request), then the e-mail chain, then the leads
    # (which list the campaigns and lead lists to split their chains), then the rest
    assert paths.index("/emails") < paths.index("/leads/list") < paths.index("/accounts")
    assert paths.index("/emails") < paths.index("/campaigns")
    assert [p for p in paths if p in ("/emails", "/leads/list", "/accounts")] \
        == ["/emails", "/leads/list", "/accounts"]


def test_a_pull_of_the_demo_workspace_says_so_in_its_manifest(tmp_path):
    with Client.demo(size="tiny", progress=False) as client:
        client.pull(tmp_path / "demo", only=STEPS, days=7)
    assert json.loads((tmp_path / "demo" / "_manifest.json").read_text())["demo"] is True
