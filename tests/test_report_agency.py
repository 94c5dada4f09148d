"""``instantly-nb report --workspaces FILE``: a portfolio page and one report per client, with no
client's data in another client's report (each demo workspace plants its name in its campaigns)."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

from instantly_nb.report.cli import main as report_main
from instantly_nb.report.portfolio import failed_row, rank

CLIENTS = {"mkalpha": "Alpha Ltd", "mkbeta": "Beta plc"}
# lists the workspace's campaigns through an ordinary Client: cheap to run, and any data of
# another client in a kernel would show up in its report
NOTEBOOK = str(Path(__file__).parent / "fixtures" / "report" / "campaign_names.ipynb")


def test_each_client_report_holds_only_its_own_data(tmp_path, monkeypatch, capsys):
    path = tmp_path / "workspaces.toml"
    path.write_text("".join(f'[workspaces.{wid}]\nname = "{name}"\nkey_env = "{wid.upper()}_KEY"\n'
                            for wid, name in CLIENTS.items())
                    + '[workspaces.gone]\nname = "Gone Inc"\nkey_env = "GONE_KEY"\n')
    monkeypatch.setenv("GONE_KEY", "revoked-key-of-gone")  # refused by the demo server: 401
    out = tmp_path / "reports"
    code = report_main(["--workspaces", str(path), "--demo", "--demo-size", "tiny",
                        "--notebook", NOTEBOOK, "--period", "last-30d",
                        "--out", str(out), "--quiet"])
    printed = capsys.readouterr().out.split()
    assert code == 1  # one client could not be read; the others are written
    files = {p.name: p.read_text() for p in out.glob("*.html")}
    portfolio = [n for n in files if n.startswith("instantly-report-portfolio_")]
    assert len(portfolio) == 1 and len(files) == 3, sorted(files)
    assert sorted(str(p) for p in printed) == sorted(str((out / n).resolve()) for n in files)
    for wid in CLIENTS:
        (own,) = [text for name, text in files.items() if name.startswith(f"instantly-report-{wid}_")]
        assert f"[{wid}]" in own  # its campaigns are in its report...
        for other in set(CLIENTS) - {wid}:
            assert f"[{other}]" not in own  # ...and no other client's
    page = files[portfolio[0]]
    assert "Alpha Ltd" in page and "Beta plc" in page and "Gone Inc" in page
    assert "AuthenticationError" in page
    for name, text in files.items():
        assert "revoked-key-of-gone" not in text and "demo-key-mk" not in text
        # every page made from the demo server says so, as the single demo report does
        assert '<span class="badge">demo data</span>' in text, name


def test_portfolio_rows_rank_best_first_and_failed_last():
    rows = [{"client": c, "id": c, "status": "ok", "reply_rate": r, "winners": []}
            for c, r in (("b", 0.02), ("a", 0.05), ("c", None), ("d", 0.01))]
    rows.append(failed_row("x", "X", "failed: AuthenticationError: 401"))
    ranked = rank(rows)
    assert ranked["client"].to_list() == ["a", "b", "d", "c", "X"]
    assert ranked.schema["winners"] == pl.List(pl.String)
    assert re.match("failed", ranked["status"][-1])


def test_alerted_accounts_are_grouped_per_account_and_named_by_client():
    from instantly_nb.report.portfolio import ClientData, alerted_accounts

    alerts = pl.DataFrame({"email": ["a@x.example", "a@x.example", "b@x.example"],
                           "severity": ["warning", "critical", "info"],
                           "message": ["m1", "m2", "m3"], "sentence": ["s1", None, "s3"]})
    data = ClientData({}, pl.DataFrame(), pl.DataFrame(), alerts, client="Alpha Ltd")
    assert alerted_accounts(data) == [
        {"email": "Alpha Ltd: a@x.example", "reasons": ["M2.", "S1."]},
        {"email": "Alpha Ltd: b@x.example", "reasons": ["S3."]}]
