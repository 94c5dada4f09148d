"""The workspaces file: tables per client, key variables by name, keys refused; demo keys per name."""

from __future__ import annotations

import httpx
import pytest

from instantly_nb import ConfigurationError, Workspaces, WorkspacesFileError
from instantly_nb.demo import DEMO_KEY, DemoServer, Limits
from instantly_nb.workspaces_file import read_workspaces_file, resolve_keys

GOOD = """
[workspaces.north]
name = "North Ltd"
key_env = "NORTH_INSTANTLY_KEY"

[workspaces.acme-eu]
name = "Acme EU"
key_env = "ACME_KEY"
base_url = "http://127.0.0.1:9"
"""
REAL_LOOKING = "ZjQ3YTk2NzQtOWQxZS00Yzk2LWFiOGEtNWE0ZDc3ZTQ3ZTI3OmFiY2RlZg=="


def write(tmp_path, text):
    path = tmp_path / "workspaces.toml"
    path.write_text(text)
    return path


def test_entries_in_file_order_with_names_and_variables(tmp_path):
    entries = read_workspaces_file(write(tmp_path, GOOD))
    assert [(e.id, e.name, e.key_env, e.base_url) for e in entries] == [
        ("north", "North Ltd", "NORTH_INSTANTLY_KEY", None),
        ("acme-eu", "Acme EU", "ACME_KEY", "http://127.0.0.1:9")]


@pytest.mark.parametrize("table, needle", [
    (f'name = "N"\nkey_env = "{REAL_LOOKING}"', "not an environment variable name"),
    ('name = "N"\nkey_env = "K"\napi_key = "SECRETVALUE"', "API keys never go in the workspaces file"),
    ('name = "N"\nkey_env = "K"\ntoken = "SECRETVALUE"', "API keys never go in the workspaces file"),
    ('name = "N"\nkey_env = "aB3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gI"', "not an environment variable name"),
    ('name = "N"', "needs key_env"),
    ('name = "N"\nkey_env = "K"\ncolour = "red"', "unknown field"),
])
def test_a_key_or_a_bad_table_is_refused_without_repeating_the_value(tmp_path, table, needle):
    with pytest.raises(WorkspacesFileError, match=needle) as info:
        read_workspaces_file(write(tmp_path, f"[workspaces.north]\n{table}\n"))
    assert isinstance(info.value, ConfigurationError)
    assert "SECRETVALUE" not in str(info.value) and REAL_LOOKING not in str(info.value)
    assert "aB3dE5gH7jK9" not in str(info.value)


@pytest.mark.parametrize("text, needle", [
    ("", "lists no workspaces"), ("[workspaces\n", "not valid TOML"),
    ("key = 'x'\n[workspaces.a]\nkey_env='A'", "unknown top-level"),
    ("[workspaces.'a b']\nkey_env='A'", "letters, digits"),
])
def test_bad_files_are_refused(tmp_path, text, needle):
    with pytest.raises(WorkspacesFileError, match=needle):
        read_workspaces_file(write(tmp_path, text))
    with pytest.raises(WorkspacesFileError, match="does not exist"):
        read_workspaces_file(tmp_path / "missing.toml")


def test_missing_variables_are_all_named_and_keys_come_from_the_environment(tmp_path):
    entries = read_workspaces_file(write(tmp_path, GOOD))
    with pytest.raises(WorkspacesFileError, match="NORTH_INSTANTLY_KEY.*ACME_KEY"):
        resolve_keys(entries, {})
    assert resolve_keys(entries, {"NORTH_INSTANTLY_KEY": " k1 ", "ACME_KEY": "k2"}) == {
        "north": "k1", "acme-eu": "k2"}


def test_from_file_builds_one_client_per_workspace_against_the_demo(tmp_path):
    path = write(tmp_path, GOOD.replace('base_url = "http://127.0.0.1:9"\n', ""))
    with DemoServer(size="tiny", today="2026-01-31", limits=Limits(enabled=False)) as server:
        ws = Workspaces.from_file(path, demo=server, environ={"ACME_KEY": "demo-key-acme"})
        with ws:
            assert ws.names == {"north": "North Ltd", "acme-eu": "Acme EU"}
            frame = ws.fetch("workspaces.current")
        assert frame["workspace"].to_list() == ["north", "acme-eu"]
        assert frame["name"].to_list() == ["North Demo Workspace", "Acme Demo Workspace"]


def test_any_demo_key_name_opens_its_own_workspace(tmp_path):
    with DemoServer(size="tiny", today="2026-01-31") as server:
        def get(key, path):
            return httpx.get(server.url + path, headers={"Authorization": f"Bearer {key}"}, timeout=120)

        ids, names = {}, {}
        for key in (DEMO_KEY, "demo-key-north", "demo-key-zeta-9", "demo-key-omega"):
            ids[key] = get(key, "/api/v2/workspaces/current").json()["id"]
            names[key] = [c["name"] for c in get(key, "/api/v2/campaigns?limit=100").json()["items"]]
        assert len(set(ids.values())) == 4
        assert all(n.endswith("[zeta-9]") for n in names["demo-key-zeta-9"])
        assert all(n.endswith("[omega]") for n in names["demo-key-omega"])
        assert not any("[" in n for n in names[DEMO_KEY])
        for bad in ("demo-key-", "demo-key-Upper", "demo-key-demo", "key-zeta"):
            assert get(bad, "/api/v2/workspaces/current").status_code == 401
        assert server.keys["demo-key-omega"] == "omega"


def test_each_named_demo_workspace_has_its_own_rate_limit():
    with DemoServer(size="tiny", today="2026-01-31", limits=Limits(per_minute=3)) as server:
        def status(key):
            return httpx.get(server.url + "/api/v2/campaigns/count-launched",
                             headers={"Authorization": f"Bearer {key}"}, timeout=120).status_code

        assert [status("demo-key-omega") for _ in range(4)] == [200, 200, 200, 429]
        assert status("demo-key-zeta-9") == 200


def test_the_example_file_is_valid():
    from pathlib import Path

    example = Path(__file__).resolve().parents[1] / "examples" / "workspaces.toml"
    assert [e.id for e in read_workspaces_file(example)] == ["north", "south", "acme"]
