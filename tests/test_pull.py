"""The one-call sweep, several workspaces and the command line, against the real demo server."""

from __future__ import annotations

import polars as pl
import pytest

from instantly_nb import Client, Workspaces, errors
from instantly_nb.cli import main
from instantly_nb.demo import DEMO_KEY, DemoServer, Limits
from instantly_nb.pull import SWEEP


@pytest.fixture(scope="module")
def server():
    with DemoServer(size="tiny", seed=11, limits=Limits(enabled=False)) as srv:
        yield srv


def test_pull_fetches_every_sweep_step_and_reruns_from_the_store(server, tmp_path):
    client = Client(api_key=DEMO_KEY, base_url=server.url, **server.client_pacing())
    summary = client.pull(tmp_path / "out", days=30)
    assert summary["endpoint"].to_list() == [s.name for s in SWEEP]
    assert summary.filter(pl.col("status") != "ok").height == 0, summary.filter(pl.col("status") != "ok")
    assert summary["requests"].sum() == client.requests_sent
    for name in summary["endpoint"]:
        assert (tmp_path / "out" / f"{name}.parquet").exists()
    leads = pl.read_parquet(tmp_path / "out" / "leads.list.parquet")
    assert leads["id"].n_unique() == leads.height > 0
    analytics = pl.read_parquet(tmp_path / "out" / "campaigns.analytics.parquet")
    assert analytics["campaign_id"].n_unique() == analytics.height
    before = client.requests_sent
    again = client.pull(tmp_path / "out", days=30)
    assert client.requests_sent == before  # served from <out>/.snapshots with no HTTP
    assert again["requests"].sum() == 0
    assert again["rows"].to_list() == summary["rows"].to_list()


def test_pull_only_fetches_prerequisites_too(server, tmp_path):
    client = Client(api_key=DEMO_KEY, base_url=server.url, **server.client_pacing())
    summary = client.pull(tmp_path, only=["campaigns.analytics_steps"])
    assert summary["endpoint"].to_list() == ["campaigns.list", "campaigns.analytics_steps"]
    steps = pl.read_parquet(tmp_path / "campaigns.analytics_steps.parquet")
    assert steps.columns[0] == "campaign_id"
    with pytest.raises(ValueError, match="not steps of the sweep"):
        client.pull(tmp_path, only=["campaigns.nope"])


def test_pull_records_a_failed_step_and_skips_its_dependents(tmp_path):
    with DemoServer(size="tiny", seed=11, limits=Limits(enabled=False)) as srv:
        client = Client(api_key=DEMO_KEY, base_url=srv.url, **srv.client_pacing())
        client._workspace_id = "x"
        srv.stop()  # every request now fails at the network level
        from instantly_nb.http import RetryPolicy

        client._requester.retry = RetryPolicy(max_attempts=1)
        with pytest.warns(UserWarning, match="failed"):
            summary = client.pull(tmp_path, only=["campaigns.analytics"])
    status = dict(summary.select("endpoint", "status").iter_rows())
    assert status["campaigns.list"].startswith("failed: TransportError")
    assert status["campaigns.analytics"].startswith("skipped: campaigns.list failed")
    with pytest.raises(errors.TransportError):
        client.pull(tmp_path, only=["campaigns.list"], strict=True)


def test_workspaces_roll_up_with_a_workspace_column(server):
    ws = Workspaces({"north": "demo-key-north", "south": "demo-key-south"}, base_url=server.url,
                    **server.client_pacing())
    frame = ws.fetch("campaigns.analytics")
    assert frame.columns[0] == "workspace"
    assert frame["workspace"].unique(maintain_order=True).to_list() == ["north", "south"]
    north = ws.clients["north"].fetch("campaigns.analytics")
    assert frame.filter(pl.col("workspace") == "north").drop("workspace").equals(north)
    assert ws.clients["north"].throttle is not ws.clients["south"].throttle
    names = ws.fetch("workspaces.current")["name"].to_list()
    assert len(set(names)) == 2
    ws.close()


def test_cli_pull_and_endpoints(server, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("INSTANTLY_API_KEY", DEMO_KEY)
    monkeypatch.setenv("INSTANTLY_BASE_URL", server.url)
    assert main(["pull", "--out", str(tmp_path), "--days", "14"]) == 0
    out = capsys.readouterr().out
    assert "leads.list" in out and f"wrote {len(SWEEP)} frames" in out
    assert main(["endpoints"]) == 0
    assert "campaigns.analytics_steps" in capsys.readouterr().out
    monkeypatch.setenv("INSTANTLY_API_KEY", "wrong-key")
    assert main(["pull", "--out", str(tmp_path / "x")]) == 3
    assert "all:read" in capsys.readouterr().err
