"""A/B over a test's life: cumulative looks, monotone verdicts, impossible counts, settings."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import numpy as np
import polars as pl
import pytest

from instantly_nb import metrics
from instantly_nb.metrics.sequential import msprt_pvalue

DAY0 = dt.date(2026, 10, 5)


def looks(rows: list[tuple[int, int, int, int, int]]) -> pl.DataFrame:
    """(week, step, variant, cumulative sent, cumulative replies) -> a frame of looks."""
    return pl.DataFrame({
        "as_of": [DAY0 + dt.timedelta(weeks=r[0]) for r in rows],
        "step": [r[1] for r in rows], "variant": [r[2] for r in rows],
        "sent": [r[3] for r in rows], "unique_replies": [r[4] for r in rows],
    })


def variant_b(out: pl.DataFrame) -> dict[str, object]:
    return out.filter(pl.col("variant") == 1).row(0, named=True)


def test_defaults_are_one_settings_object() -> None:
    s = metrics.AB_DEFAULTS
    assert s.sequential and s.metric == "reply" and s.alpha == 0.05
    # rho tuned to the expected sends: eq. of the normal-mixture boundary at alpha 0.05
    assert s.rho == pytest.approx(math.sqrt((-2 * math.log(0.05)
                                             + math.log(1 - 2 * math.log(0.05))) / 2000))
    with pytest.raises(ValueError, match="alpha"):
        metrics.ABSettings(alpha=1.5)
    loose = dataclasses.replace(s, alpha=0.2, tau=0.02)
    df = looks([(0, 1, 0, 1000, 40), (0, 1, 1, 1000, 58)])
    strict_p = variant_b(metrics.step_variants(df, tau=0.02))["p_adjusted"]
    loose_out = variant_b(metrics.step_variants(df, settings=loose))
    assert loose_out["p_adjusted"] == pytest.approx(strict_p)  # same test, other threshold
    assert loose_out["alpha"] == 0.2


def test_running_minimum_keeps_a_reached_verdict() -> None:
    # week 2 shows a clear lift; by week 4 the arms have drifted back together
    frame = looks([(1, 1, 0, 1000, 30), (1, 1, 1, 1000, 75),
                   (2, 1, 0, 2000, 60), (2, 1, 1, 2000, 140),
                   (4, 1, 0, 4000, 150), (4, 1, 1, 4000, 185)])
    out = variant_b(metrics.step_variants(frame))
    per_look = [float(msprt_pvalue(xc, nc, xv, nv, rho=metrics.AB_DEFAULTS.rho))
                for xc, nc, xv, nv in ((30, 1000, 75, 1000), (60, 2000, 140, 2000),
                                       (150, 4000, 185, 4000))]
    assert per_look[-1] > 0.05 > min(per_look)
    assert out["p_value"] == pytest.approx(min(per_look))
    assert out["verdict"] == "winner" and out["more_sends_needed"] == 0
    assert out["looks"] == 3 and out["as_of"] == DAY0 + dt.timedelta(weeks=4)
    assert out["sends"] == 4000 and out["successes"] == 185  # read on the latest look
    last_only = variant_b(metrics.step_variants(frame.filter(pl.col("as_of") == out["as_of"])))
    assert last_only["verdict"] == "not enough data"


def test_fixed_horizon_reads_the_latest_look_only() -> None:
    frame = looks([(1, 1, 0, 1000, 30), (1, 1, 1, 1000, 75),
                   (4, 1, 0, 4000, 150), (4, 1, 1, 4000, 160)])
    out = variant_b(metrics.step_variants(frame, sequential=False))
    assert out["sends"] == 4000 and out["verdict"] == "no significant difference"


@pytest.mark.parametrize(("rows", "auto", "why"), [
    ([(1, 0, 100, 4), (1, 1, 100, 150)], None, "more than every send"),
    ([(1, 0, 100, 4), (1, 1, 100, 5)], [0, 9], "negative human replies"),
    ([(1, 0, 100, 4), (1, 1, -5, 0)], None, "negative sends"),
])
def test_impossible_counts_get_no_verdict(rows: list[tuple[int, int, int, int]],
                                          auto: list[int] | None, why: str) -> None:
    df = pl.DataFrame({"step": [r[0] for r in rows], "variant": [r[1] for r in rows],
                       "sent": [r[2] for r in rows], "unique_replies": [r[3] for r in rows]})
    if auto is not None:
        df = df.with_columns(pl.Series("unique_replies_automatic", auto))
    b = variant_b(metrics.step_variants(df))
    assert b["verdict"] == "invalid data" and why in b["reason"]
    assert b["test"] is None and b["p_value"] is None and b["rate"] is None


def test_control_without_sends_hands_over() -> None:
    df = pl.DataFrame({"step": [1, 1, 1], "variant": [0, 1, 2], "sent": [0, 2000, 2000],
                       "unique_replies": [0, 60, 150]})
    out = metrics.step_variants(df)
    a, b, c = out.to_dicts()
    assert not a["is_control"] and a["verdict"] == "not enough data"
    assert b["is_control"] and "variant A is without sends" in b["reason"]
    assert c["verdict"] == "winner" and c["control_rate"] == pytest.approx(0.03)


def test_human_replies_are_the_default_success() -> None:
    df = pl.DataFrame({"step": [1, 1], "variant": [0, 1], "sent": [1000, 1000],
                       "unique_replies": [50, 50], "unique_replies_automatic": [20, 0]})
    assert metrics.step_variants(df)["successes"].to_list() == [30, 50]
    assert metrics.step_variants(df, exclude_automatic=False)["successes"].to_list() == [50, 50]


def test_opportunities_and_meetings_per_step() -> None:
    df = pl.DataFrame({"step": [1, 1], "variant": [0, 1], "sent": [3000, 3000],
                       "unique_replies": [90, 95], "opportunities": [20, 60],
                       "meetings_booked": [10, 11]})
    opp = variant_b(metrics.step_variants(df, metric="opportunity"))
    assert opp["success_col"] == "opportunities" and opp["verdict"] == "winner"
    meet = variant_b(metrics.step_variants(df, metric="meeting"))
    assert meet["success_col"] == "meetings_booked" and meet["successes"] == 11


def test_subject_and_preview_pass_through() -> None:
    df = pl.DataFrame({"campaign_id": ["c", "c"], "step": [1, 1], "variant": [0, 1],
                       "sent": [100, 100], "unique_replies": [3, 4],
                       "subject": ["Hi", "Hello"], "body_preview": ["a", "b"]})
    out = metrics.step_variants(df)
    assert out["subject"].to_list() == ["Hi", "Hello"] and out.columns[0] == "campaign_id"


def test_verdict_and_sends_needed_never_contradict() -> None:
    rng = np.random.default_rng(7)
    rows = []
    for step in range(1, 121):
        n = rng.integers(0, 4000, size=3)
        p = rng.uniform(0.0, 0.12, size=3)
        x = rng.binomial(n, p)
        rows += [(step, v, int(n[v]), int(x[v])) for v in range(3)]
    df = pl.DataFrame(rows, schema=["step", "variant", "sent", "unique_replies"], orient="row")
    for kw in ({}, {"sequential": False}, {"min_lift": 0.01}, {"sequential": False,
                                                               "min_lift": 0.02}):
        out = metrics.step_variants(df, **kw)  # type: ignore[arg-type]
        verdicts = set(out["verdict"])
        assert {"winner", "not enough data"} <= verdicts
        short = out.filter(pl.col("verdict") == "not enough data")
        assert (short["more_sends_needed"].drop_nulls() > 0).all(), kw
        decided = out.filter(pl.col("verdict").is_in(["winner", "loser"]))
        assert (decided["more_sends_needed"] == 0).all(), kw
        rates = out["rate"].drop_nulls()
        assert ((rates >= 0) & (rates <= 1)).all()
