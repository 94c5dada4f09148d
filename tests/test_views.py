"""The views on their own: A/B over the test's life with the variants' copy, the headline's
figures and sentences, windows of UTC days, and the params the notebooks are generated from."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import polars as pl
import pytest

from instantly_nb import Client, metrics, views
from instantly_nb.demo import DEMO_KEY, DemoServer, Limits
from instantly_nb.views import ab as ab_view
from instantly_nb.views import summary

TODAY = dt.date(2026, 11, 20)


def test_default_weekly_ab_calls_the_planted_winners_and_names_their_copy() -> None:
    """The default report window (last 7 days) on the default demo workspace: counts since the
    tests began, weekly looks, the shared settings -> at least 10 of the 15 planted 3x variants
    are winners, no equal variant is, and every variant carries its subject line."""
    with DemoServer(seed=7, today=TODAY, limits=Limits(enabled=False)) as server, \
            Client(api_key=DEMO_KEY, base_url=server.url, **server.client_pacing()) as client:
        truth = server.workspace.truth
        scope = views.load_scope(client, days=7, today=TODAY)
        data = ab_view.load(scope)
        section = ab_view.view(data)
    assert scope.window.days == 7 and data.start < scope.window.start  # the test's life
    assert data.steps["as_of"].n_unique() >= 10 and data.steps["as_of"].max() == scope.window.end
    got = {(r["campaign_id"], r["step"], r["variant"]): r
           for r in section.tables["all"].iter_rows(named=True)}
    better = [got[(v.campaign_id, v.step, v.variant)] for v in truth.better_variants]
    equal = [got[(v.campaign_id, v.step, v.variant)] for v in truth.equal_variants]
    assert len(better) == 15 and sum(r["verdict"] == "winner" for r in better) >= 10
    assert not any(r["verdict"] in ("winner", "loser") for r in equal)
    assert all(r["subject"] for r in better + equal)
    verdicts = section.tables["verdicts"]
    assert verdicts["subject"].null_count() == 0 and "body_preview" in verdicts.columns
    assert str(data.start) in section.notes["period"] and str(scope.window.end) in section.period


def test_checkpoints_are_weekly_back_from_the_window_end() -> None:
    days = ab_view.checkpoints(dt.date(2026, 10, 1), dt.date(2026, 10, 29))
    assert days == [dt.date(2026, 10, d) for d in (1, 8, 15, 22, 29)]
    assert ab_view.checkpoints(dt.date(2026, 10, 2), dt.date(2026, 10, 29))[0] == \
        dt.date(2026, 10, 8)
    with pytest.raises(ValueError, match="look_days"):
        ab_view.checkpoints(dt.date(2026, 10, 1), dt.date(2026, 10, 29), every=0)


def test_variant_copy_from_sequences_joins_whether_steps_count_from_0_or_1() -> None:
    seq = {"steps": [{"variants": [{"subject": "Hello", "body": "<p>Hi {{firstName}},</p> "
                                    + "word " * 20},
                                   {"subject": "Other", "body": {"text": "Short one"}}]}]}
    campaigns = pl.DataFrame({"id": ["c1"], "sequences": [[json.dumps(seq)]]})
    copy = ab_view.variant_copy(campaigns)
    assert copy.rows() == [("c1", 0, 0, "Hello", "Hi firstName, " + "word " * 9 + "word …"),
                           ("c1", 0, 1, "Other", "Short one")]
    for first in (0, 1):
        ab = pl.DataFrame({"campaign_id": ["c1", "c1"], "step": [first, first],
                           "variant": [0, 1]})
        joined = ab_view._with_copy(ab, copy)
        assert joined["subject"].to_list() == ["Hello", "Other"]


def test_test_start_parameter_and_its_checks() -> None:
    window = views.Window(dt.date(2026, 11, 1), dt.date(2026, 11, 7))
    campaigns = pl.DataFrame({"campaign_schedule__start_date": [dt.date(2026, 9, 3), None],
                              "timestamp_created": [None, dt.datetime(2026, 8, 30, tzinfo=dt.UTC)]})
    assert ab_view.test_period_start(campaigns, window, None) == dt.date(2026, 8, 30)
    assert ab_view.test_period_start(campaigns, window, "2026-10-01") == dt.date(2026, 10, 1)
    with pytest.raises(ValueError, match="after the window"):
        ab_view.test_period_start(campaigns, window, "2026-11-08")


def test_ab_params_follow_the_shared_settings() -> None:
    params = views.ABParams()
    assert (params.metric, params.alpha) == (metrics.AB_DEFAULTS.metric, metrics.AB_DEFAULTS.alpha)
    settings = ab_view.settings_of(dataclasses.replace(params, alpha=0.1))
    assert settings == dataclasses.replace(metrics.AB_DEFAULTS, alpha=0.1)


def _analytics(sent: int, contacted: int, replies: int, bounced: int) -> pl.DataFrame:
    return pl.DataFrame({"campaign_id": ["c"], "emails_sent_count": [sent],
                         "contacted_count": [contacted], "new_leads_contacted_count": [contacted],
                         "reply_count_unique": [replies], "bounced_count": [bounced],
                         "total_opportunities": [replies // 4]})


def test_headline_figures_say_when_a_change_is_noise() -> None:
    now, before = _analytics(4000, 2000, 120, 10), _analytics(4000, 2000, 60, 11)
    figs = {f["key"]: f for f in summary.figures(now, before)}
    assert figs["sends"] == {**figs["sends"], "value": 4000, "previous": 4000, "change": 0,
                             "noise": True}
    assert figs["reply_rate"]["noise"] is False  # 6% against 3% on 2,000 leads: real
    assert figs["reply_rate"]["change"] == pytest.approx(figs["reply_rate"]["value"]
                                                         - figs["reply_rate"]["previous"])
    assert figs["bounce_rate"]["noise"] is True  # 10 against 11 bounces: chance
    small = {f["key"]: f for f in summary.figures(_analytics(40, 20, 2, 0),
                                                  _analytics(40, 20, 1, 0))}
    assert small["reply_rate"]["noise"] is True


def test_accounts_are_listed_once_with_every_reason_as_a_sentence() -> None:
    alerts = pl.DataFrame({
        "email": ["a@x.io", "a@x.io", "b@x.io"], "rule": ["bounce", "spam_placement", "bounce"],
        "severity": ["warning", "warning", "critical"], "value": [0.03, 0.2, 0.09],
        "threshold": [0.02, 0.1, 0.05], "date": [TODAY] * 3, "message": ["m"] * 3,
        "sentence": ["a@x.io: its bounce rate is 3%", "a@x.io: 20% of warmup mail went to spam.",
                     "b@x.io: its bounce rate is 9%."]})
    accounts = summary.account_reasons(alerts)
    assert [a["email"] for a in accounts] == ["b@x.io", "a@x.io"]  # critical first
    assert accounts[1]["reasons"] == ["Its bounce rate is 3%.", "20% of warmup mail went to spam."]
    lines = summary.actions([], [], accounts, undecided=2)
    assert 3 <= len(lines) <= 5 and "b@x.io" in lines[0]
    assert all("_" not in line for line in lines)


def test_windows_are_utc_days_and_previous_periods_have_the_same_length() -> None:
    window = views.resolve_window(None, None, days=7, today=dt.date(2026, 11, 26))
    assert (window.start, window.end, window.period) == (dt.date(2026, 11, 19),
                                                        dt.date(2026, 11, 25), "last-7d")
    before = window.previous()
    assert before.days == 7 and before.end == dt.date(2026, 11, 18)
    assert "last-7d" not in window.text()
    assert views.utc_today() == dt.datetime.now(dt.UTC).date()


def test_param_defaults_are_what_the_generator_writes() -> None:
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "scripts" / "make_notebooks.py"
    spec = importlib.util.spec_from_file_location("make_notebooks", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name, kind in (("ab_testing", views.ABParams), ("deliverability", views.DeliverabilityParams),
                       ("campaign_overview", views.CampaignParams), ("summary", views.SummaryParams)):
        cell = next(c for c in module.NOTEBOOKS[name] if "parameters" in c[2])
        namespace: dict[str, object] = {}
        exec(cell[1], namespace)  # noqa: S102 - our own generated parameters cell
        assert {k: namespace[k] for k in views.param_defaults(kind)} == views.param_defaults(kind)
    assert views.DeliverabilityParams().rules() == metrics.AlertRules()


def test_campaign_table_shows_the_counts_behind_its_reply_rate() -> None:
    from instantly_nb.views.campaigns import best_and_worst, campaign_table

    analytics = pl.DataFrame({
        "campaign": ["North", "South"], "campaign_id": ["c1", "c2"],
        "campaign_status_label": ["Active", "Active"], "leads_count": [900, 50],
        "contacted_count": [800, 400], "new_leads_contacted_count": [600, 300],
        "emails_sent_count": [1500, 700], "reply_count_unique": [90, 30],
        "reply_count_automatic_unique": [30, 6], "total_opportunities": [12, 3],
        "bounced_count": [8, 4],
    })
    table = campaign_table(analytics).sort("campaign")
    assert table["new_leads_contacted"].to_list() == [600, 300]
    assert table["replied"].to_list() == [60, 24]  # automatic replies left out
    assert table["reply_rate"].to_list() == pytest.approx([60 / 600, 24 / 300])
    assert table["bounce_rate"].to_list() == pytest.approx([8 / 800, 4 / 400])
    ranked = best_and_worst(table, min_contacted=100, n=1)
    assert ranked["campaign"].to_list() == ["North", "South"]
    # pooled with the same definition as each row: 84 / 900 lies inside both intervals here
    assert ranked["versus_all"].to_list() == ["not clearly different"] * 2
