"""Many workspaces pulled side by side into one hive-partitioned dataset, read by polars and DuckDB."""

from __future__ import annotations

import datetime as dt
import socket

import duckdb
import polars as pl
import pytest

from instantly_nb import Client, Workspaces, open_dataset
from instantly_nb.cli import main
from instantly_nb.demo import DemoServer, Limits
from instantly_nb.http import RetryPolicy

ONLY = ["campaigns.analytics", "campaigns.analytics_steps", "leads.list", "emails.list",
        "accounts.warmup_daily"]
TODAY = dt.date(2026, 1, 31)


@pytest.fixture(scope="module")
def server():
    with DemoServer(size="tiny", today="2026-01-31", limits=Limits(enabled=False)) as srv:
        yield srv


def dead_url() -> str:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}"


def clients(server, keys):
    return {wid: Client(api_key=key, base_url=server.url, **server.client_pacing()) for wid, key in keys.items()}


@pytest.fixture(scope="module")
def pulled(server, tmp_path_factory):
    out = tmp_path_factory.mktemp("dataset")
    outage = Client(api_key="demo-key-gone", base_url=dead_url(), retry=RetryPolicy(max_attempts=1))
    ws = Workspaces({**clients(server, {"alpha": "demo-key-alpha", "beta": "demo-key-beta",
                                        "badkey": "not-a-key", "unpaid": "demo-key-unpaid-co"}),
                     "outage": outage})
    with ws:
        summary = ws.pull(out, days=30, end=TODAY, only=ONLY, batch_pages=2, workers=6)
        direct = {wid: {n: ws.clients[wid].fetch(n) for n in ("leads.list", "campaigns.list")}
                  for wid in ("alpha", "beta")}
        ids = {wid: ws.clients[wid].workspace_id() for wid in ("alpha", "beta")}
    return out, summary, direct, ids


def test_a_failing_workspace_is_reported_and_the_others_are_written(pulled):
    out, summary, _direct, ids = pulled
    status = dict(summary.select("workspace", "status").iter_rows())
    assert status["alpha"] == status["beta"] == "ok"
    assert status["badkey"].startswith("failed: AuthenticationError")
    assert status["unpaid"].startswith("failed: PaymentRequiredError")
    assert status["outage"].startswith("failed: TransportError")
    assert "not-a-key" not in summary.write_csv()
    assert summary.filter(pl.col("status") == "ok")["rows"].min() > 0
    ds = open_dataset(out)
    assert sorted(ds["campaigns.list"].select("workspace").unique().collect()["workspace"]) == sorted(ids.values())
    assert not (out / ".staging").exists()


def test_rows_match_a_direct_fetch_and_large_listings_are_written_in_parts(pulled):
    out, _summary, direct, ids = pulled
    ds = open_dataset(out)
    for wid in ("alpha", "beta"):
        leads = ds["leads.list"].filter(pl.col("workspace") == ids[wid]).collect()
        assert leads.height == direct[wid]["leads.list"].height
        assert leads["id"].n_unique() == leads.height
        assert sorted(leads["id"]) == sorted(direct[wid]["leads.list"]["id"])
        names = ds["campaigns.list"].filter(pl.col("workspace") == ids[wid]).collect()["name"]
        assert all(n.endswith(f"[{wid}]") for n in names) and len(names) == 8
    parts = list((out / "leads.list" / f"workspace={ids['alpha']}").glob("*.parquet"))
    assert len(parts) == 1  # shaped every 2 pages as it went, held up to one part's size


def test_schema_is_fixed_per_endpoint_across_workspaces(pulled):
    out, *_ = pulled
    for table in ("campaigns.analytics_steps", "leads.list", "emails.list", "accounts.warmup_daily"):
        schemas = {str(pl.read_parquet_schema(p)) for p in (out / table).rglob("*.parquet")}
        assert len(schemas) == 1, table
    steps = open_dataset(out)["campaigns.analytics_steps"].collect_schema()
    assert list(steps)[:2] == ["workspace", "campaign_id"] and list(steps)[-1] == "_extra"


@pytest.mark.parametrize("table", ["campaigns.analytics", "leads.list", "emails.list"])
def test_duckdb_reads_the_same_rows_as_polars(pulled, table, tmp_path):
    out, *_ = pulled
    lazy = open_dataset(out)[table]
    key = ["workspace", "campaign_id"] if table == "campaigns.analytics" else ["workspace", "id"]
    polars_rows = lazy.sort(key).collect()
    source = f"read_parquet('{out / table / '**' / '*.parquet'}', hive_partitioning = true)"
    counts = dict(duckdb.sql(f"select workspace, count(*) from {source} group by workspace").fetchall())
    assert counts == dict(polars_rows.group_by("workspace").len().iter_rows())
    copy = tmp_path / "duck.parquet"  # every value, as DuckDB read it, back through parquet
    duckdb.sql(f"copy (select * from {source} order by {', '.join(key)}) to '{copy}' (format parquet)")
    duck = pl.read_parquet(copy)
    assert duck.height == polars_rows.height > 0
    assert sorted(duck.columns) == sorted(polars_rows.columns)
    assert duck.select(polars_rows.columns).equals(polars_rows)


def test_a_second_pull_replaces_a_workspace_without_duplicates(server, tmp_path):
    with Workspaces(clients(server, {"alpha": "demo-key-alpha"})) as ws:
        first = ws.pull(tmp_path, days=30, end=TODAY, only=["campaigns.analytics"])
        second = ws.pull(tmp_path, days=30, end=TODAY, only=["campaigns.analytics"], fanout=2)
        assert ws.clients["alpha"]._max_workers is None  # its own fan-out pool again
    assert first["rows"].to_list() == second["rows"].to_list()
    table = open_dataset(tmp_path)["campaigns.analytics"].collect()
    assert table.height == 8 and table["campaign_id"].n_unique() == 8
    pulls = open_dataset(tmp_path)["_workspaces"].collect()
    assert pulls.height == 1 and pulls["entry"].to_list() == ["alpha"]


def test_cli_pulls_a_workspaces_file_on_the_demo(tmp_path, capsys):
    path = tmp_path / "workspaces.toml"
    path.write_text('[workspaces.north]\nname = "North Ltd"\nkey_env = "NORTH_KEY"\n'
                    '[workspaces.south]\nname = "South plc"\nkey_env = "SOUTH_KEY"\n')
    code = main(["pull", "--workspaces", str(path), "--demo", "--demo-size", "tiny",
                 "--out", str(tmp_path / "data"), "--days", "14"])
    text = capsys.readouterr().out
    assert code == 0, text
    assert "North Ltd" in text and "South plc" in text and "2 of 2 workspaces" in text
    assert open_dataset(tmp_path / "data")["_workspaces"].collect().height == 2
    # a second job for one workspace only writes into the same dataset
    assert main(["pull", "--workspaces", str(path), "--workspace", "south", "--demo",
                 "--demo-size", "tiny", "--out", str(tmp_path / "data"), "--days", "14"]) == 0
    assert "1 of 1 workspaces" in capsys.readouterr().out
    pulls = open_dataset(tmp_path / "data")["_workspaces"].collect().sort("entry")
    assert pulls["entry"].to_list() == ["north", "south"]
    assert pulls["pulled_at"][1] > pulls["pulled_at"][0]
    path.write_text('[workspaces.north]\nkey_env = "NORTH_KEY"\ntoken = "abc"\n')
    assert main(["pull", "--workspaces", str(path), "--demo", "--out", str(tmp_path)]) == 2
    assert "never go in the workspaces file" in capsys.readouterr().err


def test_rows_are_written_out_whenever_a_parts_worth_is_held(tmp_path):
    from instantly_nb.dataset import DatasetWriter, table_schema

    schema = table_schema("campaigns.analytics")
    frames = [pl.DataFrame({"campaign_id": [f"c{i}", f"d{i}"], "surprise": [i, i]})
              for i in range(3)]
    writer = DatasetWriter(tmp_path, "ws-1", part_bytes=1)  # every batch is a part's worth
    writer.begin("campaigns.analytics", schema)
    folder = writer.staging / "campaigns.analytics" / "workspace=ws-1"
    for i, frame in enumerate(frames):
        writer.add("campaigns.analytics", frame)
        assert len(list(folder.glob("*.parquet"))) == i + 1  # written out, not held
    writer.finish("campaigns.analytics")
    assert len(list(folder.glob("*.parquet"))) == 3
    writer.commit()
    table = open_dataset(tmp_path)["campaigns.analytics"].sort("campaign_id").collect()
    assert table["campaign_id"].to_list() == ["c0", "c1", "c2", "d0", "d1", "d2"]
    assert table["_extra"].to_list()[:2] == ['{"surprise":0}', '{"surprise":1}']  # kept as JSON
    assert table["workspace"].unique().to_list() == ["ws-1"]
    held = DatasetWriter(tmp_path / "b", "ws-2")  # default part size: held, one file at the end
    held.begin("campaigns.analytics", schema)
    for frame in frames:
        held.add("campaigns.analytics", frame)
    folder = held.staging / "campaigns.analytics" / "workspace=ws-2"
    assert not list(folder.glob("*.parquet"))
    held.finish("campaigns.analytics")
    assert len(list(folder.glob("*.parquet"))) == 1 and held.rows["campaigns.analytics"] == 6


def test_no_more_workspaces_than_at_once_are_in_flight(server, tmp_path):
    import threading

    active: dict[str, int] = {}
    most = [0]
    lock = threading.Lock()

    def tracked(wid, client):
        send = client._requester.send

        def one(*args, **kwargs):
            with lock:
                active[wid] = active.get(wid, 0) + 1
                most[0] = max(most[0], sum(1 for n in active.values() if n))
            try:
                return send(*args, **kwargs)
            finally:
                with lock:
                    active[wid] -= 1

        client._requester.send = one
        return client

    keys = {f"w{i}": f"demo-key-w{i}" for i in range(3)}
    ws = Workspaces({w: tracked(w, c) for w, c in clients(server, keys).items()})
    with ws:
        summary = ws.pull(tmp_path, days=14, end=TODAY, only=["leads.list", "campaigns.analytics"],
                          at_once=1, batch_pages=1)
    assert summary["status"].to_list() == ["ok"] * 3
    assert most[0] == 1  # one workspace at a time: the next starts when one is done
    leads = open_dataset(tmp_path)["leads.list"].group_by("workspace").len().collect()
    assert leads.height == 3 and leads["len"].min() > 0


def test_heavy_steps_of_at_most_heavy_workspaces_run_while_the_long_walks_go_on(server, tmp_path):
    import threading

    keys = {f"h{i}": f"demo-key-h{i}" for i in range(4)}
    walking = threading.Barrier(len(keys), timeout=60)  # every workspace's e-mail walk at once
    heavy: dict[str, int] = {}
    most = {"heavy": 0, "lead pages": 0}
    leads = [0]
    lock = threading.Lock()

    def tracked(wid, client):
        send = client._requester.send
        first = [True]

        def one(endpoint, *args, **kwargs):
            if endpoint.name in ("workspaces.current", "campaigns.list", "lead_lists.list"):
                return send(endpoint, *args, **kwargs)  # the id, and where the lead chains come from
            if endpoint.name == "emails.list":
                if first[0]:  # the first page of each walk waits for all the others
                    first[0] = False
                    walking.wait()
                return send(endpoint, *args, **kwargs)
            lead = endpoint.name == "leads.list"
            with lock:
                if lead:
                    leads[0] += 1
                    most["lead pages"] = max(most["lead pages"], leads[0])
                else:
                    heavy[wid] = heavy.get(wid, 0) + 1
                    most["heavy"] = max(most["heavy"], sum(1 for n in heavy.values() if n))
            try:
                return send(endpoint, *args, **kwargs)
            finally:
                with lock:
                    if lead:
                        leads[0] -= 1
                    else:
                        heavy[wid] -= 1

        client._requester.send = one
        return client

    ws = Workspaces({w: tracked(w, c) for w, c in clients(server, keys).items()})
    with ws:
        summary = ws.pull(tmp_path, days=14, end=TODAY, at_once=4, heavy=1, chains=2,
                          batch_pages=1, only=["leads.list", "emails.list",
                                               "campaigns.analytics_steps"])
    assert summary["status"].to_list() == ["ok"] * 4
    assert most["heavy"] == 1  # one workspace's heavy steps at a time, e-mail walks beside them
    assert 1 <= most["lead pages"] <= 2  # a chain asks one page at a time: 2 chains at most
    assert not walking.broken
    ds = open_dataset(tmp_path)
    for table in ("leads.list", "emails.list", "campaigns.analytics_steps"):
        assert ds[table].group_by("workspace").len().collect().height == 4, table
    leads_table = ds["leads.list"].collect()
    assert leads_table.group_by("workspace", "id").len()["len"].max() == 1  # every lead once


def test_a_failing_workspace_gives_its_slots_back(server, tmp_path):
    keys = {"ok1": "demo-key-ok1", "badkey": "not-a-key", "unpaid": "demo-key-unpaid-x",
            "ok2": "demo-key-ok2"}
    import threading

    result = {}

    def pull():
        with Workspaces(clients(server, keys)) as ws:
            result["summary"] = ws.pull(tmp_path, days=14, end=TODAY, at_once=2, heavy=1,
                                        only=["leads.list", "emails.list", "campaigns.analytics"])

    thread = threading.Thread(target=pull, daemon=True)
    thread.start()
    thread.join(300)  # a slot never given back would leave the pull waiting forever
    assert not thread.is_alive(), "the pull is stuck: a failed workspace kept its slot"
    summary = result["summary"]
    status = dict(summary.select("workspace", "status").iter_rows())
    assert status["ok1"] == status["ok2"] == "ok"
    assert status["badkey"].startswith("failed: AuthenticationError")
    assert status["unpaid"].startswith("failed: PaymentRequiredError")
    assert open_dataset(tmp_path)["_workspaces"].collect()["entry"].sort().to_list() == ["ok1", "ok2"]
