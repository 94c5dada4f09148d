"""The ready-made notebooks: committed clean, generated from their source, and executed.

Every notebook runs in a real ``python3`` kernel against one demo server (started once for this
module, with a fake key), twice: as committed (defaults, interactive display) and with
parameters through the report runner (papermill parameters, report display mode). A run fails
on any error cell; no output may contain the key.
"""

from __future__ import annotations

import ast
import datetime as dt
import importlib.util
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import nbformat
import polars as pl
import pytest

from instantly_nb import Client
from instantly_nb import notebook_helpers as nbh
from instantly_nb.demo import DemoServer
from instantly_nb.report.mime import MIME_ALERTS, MIME_TABLE
from instantly_nb.views import utc_today

from .conftest import FAKE_KEY, REPO

NOTEBOOKS = REPO / "notebooks"
NAMES = ("summary", "campaign_overview", "ab_testing", "deliverability", "leads_and_replies",
         "workspace_tour")
COMMON_PARAMS = ("start_date", "end_date", "campaign_ids", "title", "scheduled")
CELL_TIMEOUT = 120
# Statements that would be logic defined in a notebook rather than a call of the package.
LOGIC = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda, ast.For, ast.While,
         ast.If, ast.IfExp, ast.Try, ast.With, ast.ListComp, ast.DictComp, ast.SetComp,
         ast.GeneratorExp)
# Per notebook: thresholds set to non-default values in the parameterized run.
EXTRA_PARAMS: dict[str, dict[str, Any]] = {
    "campaign_overview": {"level": 0.9, "min_contacted": 20, "top_n": 1},
    "summary": {"noise_alpha": 0.1, "max_actions": 3},
    "ab_testing": {"metric": "click", "alpha": 0.1, "look_days": 14},
    "deliverability": {"health_min": 90.0, "bounce_warn": 0.01, "window_days": 5},
    "leads_and_replies": {"email_pages": 3},
    "workspace_tour": {"max_pages": 2},
}

pytestmark = pytest.mark.notebooks



def _load_generator() -> Any:
    """scripts/make_notebooks.py as a module (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location("make_notebooks",
                                                  REPO / "scripts" / "make_notebooks.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_notebooks = _load_generator()


# -- committed notebooks ------------------------------------------------------------------------


def _read(name: str) -> Any:
    return nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)


def test_every_notebook_is_committed() -> None:
    assert sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb")) == sorted(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_committed_without_outputs(name: str) -> None:
    nb = _read(name)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code
    assert all(c.outputs == [] and c.execution_count is None for c in code)


@pytest.mark.parametrize("name", NAMES)
def test_exactly_one_parameters_cell_first(name: str) -> None:
    nb = _read(name)
    tagged = [i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    first_code = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
    assert tagged[0] == first_code  # papermill injects values right after it, before any use
    namespace: dict[str, Any] = {}
    exec(nb.cells[tagged[0]].source, namespace)  # noqa: S102 - our own parameters cell
    assert {k: namespace[k] for k in ("start_date", "end_date", "campaign_ids", "scheduled")} \
        == {"start_date": None, "end_date": None, "campaign_ids": [], "scheduled": False}
    assert isinstance(namespace["title"], str) and namespace["title"]


@pytest.mark.parametrize("name", NAMES)
def test_cells_are_short_calls_with_no_logic_and_no_key(name: str) -> None:
    nb = _read(name)
    code = [c.source for c in nb.cells if c.cell_type == "code"
            and "parameters" not in c.metadata.get("tags", [])]
    for source in code:
        assert len(source.splitlines()) <= 8, source
        logic = [type(n).__name__ for n in ast.walk(ast.parse(source)) if isinstance(n, LOGIC)]
        assert not logic, (logic, source)
        for banned in ("getpass", "input(", "api_key=", "environ", "print("):
            assert banned not in source, source
    assert any("instantly_nb.connect(scheduled=scheduled, demo=demo)" in s for s in code)
    assert sum(c.cell_type == "markdown" for c in nb.cells) >= 4  # a narrative to follow


def test_notebooks_match_their_source(tmp_path: Path) -> None:
    assert make_notebooks.main(["--check"]) == 0
    make_notebooks.main(["--out", str(tmp_path)])
    for name in NAMES:
        assert (tmp_path / f"{name}.ipynb").read_text() == (NOTEBOOKS / f"{name}.ipynb").read_text()


def test_check_notices_a_stale_notebook(tmp_path: Path) -> None:
    make_notebooks.main(["--out", str(tmp_path)])
    path = tmp_path / "ab_testing.ipynb"
    path.write_text(path.read_text().replace("A/B tests", "A/B tests (edited)"))
    assert make_notebooks.main(["--check", "--out", str(tmp_path)]) == 1


# -- execution ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server() -> Any:
    """One demo server for the module; it only accepts the fake key (and its own extra keys)."""
    with DemoServer(size="tiny", seed=7, key=FAKE_KEY, latency_ms=0, speedup=50) as running:
        yield running


@pytest.fixture(scope="module")
def kernel_env(server: Any) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INSTANTLY_")}
    env.update(INSTANTLY_API_KEY=FAKE_KEY, INSTANTLY_BASE_URL=server.url,
               INSTANTLY_NB_PROGRESS="0", TQDM_DISABLE="1")
    return env


@pytest.fixture(scope="module")
def picked_campaigns(server: Any) -> list[str]:
    """Two active campaigns of the demo workspace."""
    with Client(api_key=FAKE_KEY, base_url=server.url) as client:
        campaigns = client.campaigns.list()
    active = campaigns.filter(campaigns["status"] == 1)["id"].to_list()
    assert len(active) >= 2
    return active[:2]


def _execute(path: Path, env: dict[str, str], parameters: dict[str, Any] | None) -> Any:
    """Run as a user would (no parameters) or as a report run would (papermill parameters)."""
    from nbclient import NotebookClient

    if parameters is not None:
        from instantly_nb.report.runner import kernel_env, run_notebook

        run = run_notebook(path, parameters, kernel_env(env, api_key=env["INSTANTLY_API_KEY"],
                                                        base_url=env["INSTANTLY_BASE_URL"]),
                           secrets=(), timeout=CELL_TIMEOUT)  # nothing scrubbed: we look
        assert run.failure is None, run.failure
        return run.notebook
    from jupyter_client.manager import AsyncKernelManager

    nb = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory(prefix="nb-test-") as sockets:  # private IPC, not TCP
        km = AsyncKernelManager(kernel_name="python3", transport="ipc", ip=f"{sockets}/k")
        NotebookClient(nb, km=km, timeout=CELL_TIMEOUT, kernel_name="python3",
                       allow_errors=False, resources={"metadata": {"path": str(path.parent)}}
                       ).execute(env=env)
    return nb


def _outputs(nb: Any) -> list[dict[str, Any]]:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]


def _mimes(nb: Any) -> list[str]:
    return [m for o in _outputs(nb) for m in o.get("data", {})]


def _text(nb: Any, mime: str = "text/markdown") -> str:
    return "\n".join(str(o["data"][mime]) for o in _outputs(nb) if mime in o.get("data", {}))


def _tables(nb: Any) -> list[dict[str, Any]]:
    return [o["data"][MIME_TABLE] for o in _outputs(nb) if MIME_TABLE in o.get("data", {})]


def _charts(nb: Any) -> int:
    return sum(any(m.startswith("application/vnd.vegalite") or m == "text/html" and
                   "vega" in str(o["data"][m]) for m in o.get("data", {})) for o in _outputs(nb))


def _check_clean(nb: Any) -> None:
    errors = [o for o in _outputs(nb) if o.get("output_type") == "error"]
    assert not errors, errors[0].get("evalue")
    assert FAKE_KEY not in json.dumps(nb)  # sources, outputs, metadata, parameters


def _table(nb: Any, title: str) -> dict[str, Any]:
    found = [t for t in _tables(nb) if t["title"] == title]
    assert found, [t["title"] for t in _tables(nb)]
    return found[0]


def _column(table: dict[str, Any], name: str) -> list[Any]:
    i = [c["name"] for c in table["columns"]].index(name)
    return [row[i] for row in table["rows"]]


EXPECTED: dict[str, dict[str, Any]] = {  # least content of a successful run
    "summary": {"tables": 0, "charts": 0},
    "campaign_overview": {"tables": 5, "charts": 3},
    "ab_testing": {"tables": 2, "charts": 1},
    "deliverability": {"tables": 3, "charts": 2},
    "leads_and_replies": {"tables": 5, "charts": 1},
    "workspace_tour": {"tables": 40, "charts": 0},
}


@pytest.mark.parametrize("name", NAMES)
def test_runs_as_committed(name: str, kernel_env: dict[str, str]) -> None:
    nb = _execute(NOTEBOOKS / f"{name}.ipynb", kernel_env, None)
    _check_clean(nb)
    assert len(_tables(nb)) >= EXPECTED[name]["tables"]
    assert _charts(nb) >= EXPECTED[name]["charts"]
    header = _text(nb)
    # The kernel read the key from its environment: a client of the test server, no demo
    # server of its own (that would say "demo data"), and the default 30-day window.
    assert "campaigns: all" in header and "demo data" not in header
    assert "30 days" in header


@pytest.mark.parametrize("name", NAMES)
def test_runs_with_parameters(name: str, kernel_env: dict[str, str],
                              picked_campaigns: list[str]) -> None:
    today = utc_today()
    params = {"start_date": (today - dt.timedelta(days=14)).isoformat(),
              "end_date": (today - dt.timedelta(days=1)).isoformat(),
              "campaign_ids": picked_campaigns, "title": "Weekly client report",
              "scheduled": True, "demo": True, **EXTRA_PARAMS[name]}
    nb = _execute(NOTEBOOKS / f"{name}.ipynb", kernel_env, params)
    _check_clean(nb)
    assert "injected-parameters" in json.dumps(nb)
    header = _text(nb)
    assert "campaigns: 2 selected" in header and "14 days" in header
    assert "Weekly client report" not in header  # the report page shows the title itself
    assert len(_tables(nb)) >= EXPECTED[name]["tables"]
    assert _charts(nb) >= EXPECTED[name]["charts"]
    _check_parameters_used(name, nb, picked_campaigns)


def _headline(nb: Any) -> str:
    """The headline as shown: the report's headline bundle, else its Markdown fallback."""
    shown = [json.dumps(o["data"]) for o in _outputs(nb)
             if "What to do" in json.dumps(o.get("data", {}))
             or "actions" in json.dumps(o.get("data", {}))]
    assert shown, "no headline in the summary notebook"
    return shown[0]


def _check_parameters_used(name: str, nb: Any, picked: list[str]) -> None:
    if name == "summary":
        assert "Analytics days are UTC days" in _text(nb)
        assert "Reply rate" in _headline(nb)
    elif name == "campaign_overview":
        ids = _column(_table(nb, "Campaigns"), "campaign_id")
        assert sorted(ids) == sorted(picked)
        assert len(_column(_table(nb, "Best and worst campaigns by reply rate"), "rank")) <= 2
    elif name == "ab_testing":
        text = _text(nb)
        assert "sequential" in text and "click rate" in text
        assert "0.1 significance level" in text
        assert "A/B figures count every send from" in text  # the period they cover
        verdicts = _table(nb, "Variants compared with A")
        assert all(_column(verdicts, "subject"))  # each variant's subject line
    elif name == "deliverability":
        mimes = _mimes(nb)
        assert MIME_ALERTS in mimes and mimes.index(MIME_ALERTS) < mimes.index(MIME_TABLE)
    elif name == "leads_and_replies":
        pages = re.search(r"\((\d+) page\(s\) of the e-mail listing", _text(nb))
        assert pages and 1 <= int(pages.group(1)) <= 3
        assert len(_column(_table(nb, "Lead status by campaign"), "campaign")) == 2
    elif name == "workspace_tour":
        summary = _table(nb, "Endpoints read")
        assert max(_column(summary, "requests")) <= 2 + 1  # two pages (+1 for defaults)


@pytest.mark.parametrize("name", ["summary", "campaign_overview", "ab_testing", "deliverability"])
def test_report_text_is_for_marketers(name: str) -> None:
    """Cells about keys, parameters and other notebooks are for analysts: reports skip them."""
    nb = _read(name)
    analyst = [c for c in nb.cells if "remove_cell" in c.metadata.get("tags", [])]
    assert any("INSTANTLY_API_KEY" in c.source for c in analyst)
    shown = [c.source for c in nb.cells if c.cell_type == "markdown"
             and "remove_cell" not in c.metadata.get("tags", [])]
    for text in shown:
        for word in ("INSTANTLY_API_KEY", "campaign_ids", "min_contacted", "ab_testing", "`"):
            assert word not in text, (word, text)


def test_leak_check_catches_a_printed_key(kernel_env: dict[str, str], tmp_path: Path) -> None:
    """The leak check is not vacuous: the key is in the kernel, and printing it is caught."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import os\nos.environ['INSTANTLY_API_KEY']")])
    path = tmp_path / "leaky.ipynb"
    nbformat.write(nb, path)
    executed = _execute(path, kernel_env, None)
    with pytest.raises(AssertionError):
        _check_clean(executed)


# -- the helpers the notebooks call --------------------------------------------------------------


@pytest.mark.parametrize(("start", "end", "expected"), [
    (None, None, ("2026-10-27", "2026-11-25")),
    ("2026-11-01", None, ("2026-11-01", "2026-11-25")),
    (None, "2026-11-10", ("2026-10-12", "2026-11-10")),
    ("2026-11-01", "2026-11-07", ("2026-11-01", "2026-11-07")),
    (dt.date(2026, 11, 3), dt.date(2026, 11, 3), ("2026-11-03", "2026-11-03")),
])
def test_resolve_window(start: Any, end: Any, expected: tuple[str, str]) -> None:
    window = nbh.resolve_window(start, end, today=dt.date(2026, 11, 26))
    assert (window.start.isoformat(), window.end.isoformat()) == expected


@pytest.mark.parametrize(("start", "end", "message"), [
    ("2026-13-01", None, "start_date must be an ISO date"),
    ("2026-11-20", "2026-11-10", "starts after it ends"),
])
def test_resolve_window_refuses(start: Any, end: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        nbh.resolve_window(start, end, today=dt.date(2026, 11, 26))


def test_md_escape_keeps_api_text_literal() -> None:
    from instantly_nb.report.markdown import render_markdown

    name = "Agency <EU> & *UK* [x](http://e.x) # 1"
    html = render_markdown(f"Campaign {nbh.md_escape(name)}")
    assert "<em>" not in html and "<a " not in html and "&lt;EU&gt;" in html
    assert "*UK*" in html


def test_ci_and_labels_pair_rate_columns() -> None:
    frame = pl.DataFrame({"campaign": ["a"], "reply_rate": [0.1], "reply_rate_low": [0.05],
                          "reply_rate_high": [0.2], "lift_rate": [0.01]})
    assert nbh.ci_of(frame) == {"reply_rate": ("reply_rate_low", "reply_rate_high")}
    labels = nbh.labels_of(frame)
    assert labels["reply_rate"] == "Reply rate" and labels["lift_rate"] == "Lift vs A"


def test_best_and_worst_ranks_only_campaigns_with_enough_leads() -> None:
    table = pl.DataFrame({
        "campaign": ["big good", "big bad", "tiny", "mid"], "status": ["Active"] * 4,
        "contacted": [2000, 2000, 10, 2000], "replied": [200, 40, 5, 100],
    }).with_columns((pl.col("replied") / pl.col("contacted")).alias("reply_rate"))
    from instantly_nb.metrics import proportion_ci

    low, high = proportion_ci(table["replied"].to_numpy(), table["contacted"].to_numpy(), 0.95)
    table = table.with_columns(pl.Series("reply_rate_low", low), pl.Series("reply_rate_high", high))
    ranked = nbh.best_and_worst(table, min_contacted=100, n=1)
    assert ranked.select("rank", "campaign", "versus_all").rows() == [
        ("best", "big good", "above all campaigns"), ("worst", "big bad", "below all campaigns")]


def test_hide_secrets_masks_key_columns() -> None:
    frame = pl.DataFrame({"name": ["job"], "key": ["sk-live-123"], "token": [None]})
    hidden = nbh.hide_secrets(frame)
    assert hidden.rows() == [("job", "[hidden]", None)]


def test_breakdown_shares_and_missing_labels() -> None:
    leads = pl.DataFrame({"campaign": ["a", "a", "b", "b"],
                          "status_label": ["Active", None, "Active", "Bounced"]})
    out = nbh.breakdown(leads, "status_label", missing="unknown")
    assert out.rows() == [("Active", 2, 0.5), ("Bounced", 1, 0.25), ("unknown", 1, 0.25)]
    wide = nbh.breakdown_by_campaign(leads, "status_label", missing="unknown")
    assert wide.columns == ["campaign", "leads", "Active", "Bounced", "unknown"]


def test_fetch_pages_stops_at_the_budget(server: Any) -> None:
    with Client(api_key=FAKE_KEY, base_url=server.url) as client:
        before = client.requests_sent
        sample = nbh.fetch_pages(client, "leads.list", max_pages=2)
        assert client.requests_sent - before == 2 == sample.pages
        assert sample.frame.height == 200 and sample.more
        everything = nbh.fetch_pages(client, "lead_lists.list", max_pages=5)
        assert everything.pages == 1 and not everything.more
        assert everything.frame.height == client.lead_lists.list().height


def test_unknown_campaign_ids_are_named(server: Any) -> None:
    with Client(api_key=FAKE_KEY, base_url=server.url) as client, \
            pytest.raises(ValueError, match="not-a-campaign"):
        nbh.load_scope(client, campaign_ids=["not-a-campaign"])
