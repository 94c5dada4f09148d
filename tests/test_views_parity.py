"""One set of numbers: the report (its notebooks, executed by ``instantly-nb report``), the
explorer and ``instantly-nb summary``'s view agree on every figure they share for one window.

One tiny demo server for the module; the report run and the explorer read the same server.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from instantly_nb import Client, views
from instantly_nb.demo import DEMO_KEY, DemoServer
from instantly_nb.explorer import ExplorerState, compute_view, load_data
from instantly_nb.report import sources
from instantly_nb.report.cli import DEFAULT_NOTEBOOKS, main
from instantly_nb.report.mime import MIME_ALERTS, MIME_HEADLINE, MIME_TABLE

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.notebooks


@pytest.fixture(scope="module")
def server() -> Iterator[Any]:
    with DemoServer(size="tiny", speedup=sources.DEMO_SPEEDUP) as running:
        yield running


def _pacing(server: Any) -> dict[str, str]:
    from instantly_nb.settings import PACING_ENV, format_pacing

    return {PACING_ENV: format_pacing(server.client_pacing())}


@pytest.fixture(scope="module")
def report_run(server: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The default report (every default notebook) on the module's server, notebooks kept."""
    out = tmp_path_factory.mktemp("report")

    @contextmanager
    def same_server() -> Iterator[tuple[str, str, str | None, dict[str, str]]]:
        yield DEMO_KEY, server.url, server.keys.get(DEMO_KEY), _pacing(server)

    patch = pytest.MonkeyPatch()
    patch.setattr(sources, "demo_server", same_server)
    try:
        code = main(["--demo", "--keep-notebooks", "--quiet", "--out", str(out)])
    finally:
        patch.undo()
    assert code == 0
    page = next(out.glob("*.html"))
    folder = out / f"{page.stem}_notebooks"
    notebooks = {p.stem: json.loads(p.read_text()) for p in folder.glob("*.ipynb")}
    assert sorted(notebooks) == sorted(DEFAULT_NOTEBOOKS)
    return {"page": page.read_text(), "notebooks": notebooks}


def _bundles(nb: dict[str, Any], mime: str) -> list[Any]:
    return [o["data"][mime] for c in nb["cells"] if c["cell_type"] == "code"
            for o in c.get("outputs", []) if mime in o.get("data", {})]


def _table(nb: dict[str, Any], title: str) -> pl.DataFrame:
    found = [t for t in _bundles(nb, MIME_TABLE) if t["title"] == title]
    assert found, [t["title"] for t in _bundles(nb, MIME_TABLE)]
    names = [c["name"] for c in found[0]["columns"]]
    return pl.DataFrame([dict(zip(names, row, strict=True)) for row in found[0]["rows"]],
                        infer_schema_length=None)


def _window(report_run: dict[str, Any]) -> views.Window:
    params = report_run["notebooks"]["summary"]["metadata"]["papermill"]["parameters"]
    return views.resolve_window(params["start_date"], params["end_date"])


@pytest.fixture(scope="module")
def explorer(server: Any, report_run: dict[str, Any]) -> Any:
    window = _window(report_run)
    with Client(api_key=DEMO_KEY, base_url=server.url, **server.client_pacing()) as client:
        campaigns = views.display_names(client.campaigns.list())
        state = ExplorerState((), window.start, window.end)
        yield compute_view(load_data(client, campaigns, state), state)


def _close(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)


def test_rates_agree(report_run: dict[str, Any], explorer: Any) -> None:
    nb = report_run["notebooks"]["campaign_overview"]
    pooled = _table(nb, "Pooled rates")
    mine = explorer.table("overview")
    assert pooled["metric"].to_list() == mine["metric"].to_list()
    for col in ("numerator", "denominator", "rate", "rate_low", "rate_high"):
        assert all(_close(a, b) for a, b in zip(pooled[col], mine[col], strict=True)), col
    per_campaign = _table(nb, "Campaigns").sort("campaign_id")
    theirs = explorer.sections["overview"].tables["campaigns"].sort("campaign_id")
    assert per_campaign["campaign_id"].to_list() == theirs["campaign_id"].to_list()
    for col in ("reply_rate", "opportunity_rate", "bounce_rate", "contacted", "sent"):
        assert all(_close(a, b) for a, b in zip(per_campaign[col], theirs[col], strict=True)), col


def test_ab_verdicts_agree_and_name_the_copy(report_run: dict[str, Any], explorer: Any) -> None:
    nb = report_run["notebooks"]["ab_testing"]
    table = _table(nb, "Variants compared with A")
    mine = explorer.table("ab")
    assert table.height and table.height == mine.height
    key = ["campaign", "step", "variant"]
    theirs = table.select(*key, "verdict", "variant_rate", "sends", "subject").sort(key)
    ours = mine.select(*key, "verdict", "variant_rate", "sends", "subject").sort(key)
    assert theirs["verdict"].to_list() == ours["verdict"].to_list()
    assert theirs["sends"].to_list() == ours["sends"].to_list()
    assert all(_close(a, b) for a, b in zip(theirs["variant_rate"], ours["variant_rate"],
                                            strict=True))
    assert theirs["subject"].to_list() == ours["subject"].to_list()
    assert all(theirs["subject"])  # every variant says which e-mail it is


def test_alerts_agree(report_run: dict[str, Any], explorer: Any) -> None:
    nb = report_run["notebooks"]["deliverability"]
    [payload] = _bundles(nb, MIME_ALERTS)
    shown = sorted((a["details"]["email"], a["message"]) for a in payload["alerts"])
    mine = explorer.sections["deliverability"].tables["alerts"]
    assert shown == sorted(mine.select("email", "message").rows())
    for alert in payload["alerts"]:  # sentences for readers, no rule names
        assert "_" not in alert["message"].split("@")[-1] and alert["message"].endswith(".")


def test_headline_agrees_with_the_explorer_and_the_page(report_run: dict[str, Any],
                                                        explorer: Any) -> None:
    [head] = _bundles(report_run["notebooks"]["summary"], MIME_HEADLINE)
    data = head.get("data", head)
    figures = {f["label"]: f for f in data["figures"]}
    comparison = explorer.sections["overview"].tables["comparison"]
    for row in comparison.iter_rows(named=True):
        fig = figures[row["metric"]]
        assert _close(fig["value"], row["this_period"]) and _close(fig["previous"],
                                                                   row["previous_period"])
        assert fig["noise"] is (not row["beyond_noise"])
    ab = explorer.sections["ab"].tables["all"]
    winners = ab.filter(pl.col("verdict") == "winner")
    assert len(data["winners"]) == winners.height
    assert sorted(w["subject"] for w in data["winners"]) == sorted(winners["subject"])
    pooled = _table(report_run["notebooks"]["campaign_overview"], "Pooled rates")
    for key, label in (("reply_rate", "Reply rate"), ("positive_rate", "Positive-reply rate"),
                       ("bounce_rate", "Bounce rate")):
        shown = {f["key"]: f for f in data["figures"]}[key]
        assert _close(shown["value"], pooled.filter(pl.col("metric") == label)["rate"].item())
    alerted = explorer.sections["deliverability"].tables["alerts"]["email"].unique()
    assert sorted(a["email"] for a in data["accounts"]) == sorted(alerted)
    assert 3 <= len(data["actions"]) <= 5
    page = report_run["page"]
    assert page.index("Analytics days are UTC days") > 0
    assert page.count("INSTANTLY_API_KEY") == 0 and "campaign_ids" not in page


def test_summary_cli_view_matches_the_report(server: Any, report_run: dict[str, Any]) -> None:
    [head] = _bundles(report_run["notebooks"]["summary"], MIME_HEADLINE)
    data = head.get("data", head)
    window = _window(report_run)
    with Client(api_key=DEMO_KEY, base_url=server.url, **server.client_pacing()) as client:
        scope = views.load_scope(client, window.start, window.end)
        again = views.summary.view(views.summary.load(scope)).headline
    assert again is not None
    assert json.loads(json.dumps(again, default=str))["figures"] == data["figures"]
