"""Every rate lies in [0, 1] with its interval around it, on generated frames and on the demo.

Frames are generated with a seeded generator (the same cases on every run): counts of every
size, including numerators above their denominators, negative counts and zero denominators;
whatever the frame, a rate is either empty (with a note) or a proportion inside its interval.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import numpy as np
import polars as pl
import pytest

from instantly_nb import Client, metrics
from instantly_nb.demo import DEMO_KEY, DemoServer, Limits
from instantly_nb.metrics.definitions import RATES

COLUMNS = ("reply_count_unique", "reply_count_automatic_unique", "open_count_unique",
           "link_click_count_unique", "bounced_count", "unsubscribed_count",
           "total_opportunities", "total_interested", "total_meeting_booked",
           "total_meeting_completed", "total_closed")


def _frame(rng: np.random.Generator, rows: int) -> pl.DataFrame:
    contacted = rng.integers(0, 5000, size=rows)
    scale = np.maximum(contacted, 1)
    data: dict[str, object] = {
        "campaign_id": [f"c{i % 4}" for i in range(rows)],
        "contacted_count": contacted,
        "new_leads_contacted_count": (contacted * rng.uniform(0, 1, size=rows)).astype(int),
        "emails_sent_count": contacted * rng.integers(1, 5, size=rows),
        "open_tracking": rng.random(rows) < 0.8,
        "link_tracking": rng.random(rows) < 0.8,
    }
    for col in COLUMNS:
        # mostly proportions, sometimes above the denominator or negative (broken exports)
        share = rng.choice([0.01, 0.1, 0.5, 1.0, 1.7], size=rows)
        data[col] = (scale * share * rng.random(rows)).astype(int) - (rng.random(rows) < 0.03)
    return pl.DataFrame(data)


def _check(out: pl.DataFrame) -> int:
    rated = out.filter(pl.col("rate").is_not_null())
    r, lo, hi = (rated[c].to_numpy() for c in ("rate", "ci_low", "ci_high"))
    assert ((r >= 0) & (r <= 1)).all()
    assert ((lo <= r + 1e-12) & (r <= hi + 1e-12) & (lo >= 0) & (hi <= 1)).all()
    empty = out.filter(pl.col("rate").is_null() & (pl.col("denominator") > 0))
    assert (empty["note"] != "").all()  # an empty rate with a denominator says why
    return rated.height


@pytest.mark.parametrize("seed", range(12))
def test_generated_frames_give_bounded_rates(seed: int) -> None:
    rng = np.random.default_rng(seed)
    df = _frame(rng, int(rng.integers(1, 40)))
    shown = 0
    for name, rdef in RATES.items():
        for den in rdef.allowed:
            for by in (None, "campaign_id"):
                shown += _check(metrics.rate(df, name, den, by=by,
                                             level=float(rng.choice([0.8, 0.95, 0.99]))))
    _check_funnel(metrics.funnel(df, by="campaign_id"))
    assert shown > 0


def _check_funnel(tidy: pl.DataFrame) -> None:
    for col, low, high in (("rate", "ci_low", "ci_high"),
                           ("conversion", "conv_ci_low", "conv_ci_high")):
        part = tidy.filter(pl.col(col).is_not_null())
        assert ((part[col] >= 0) & (part[col] <= 1)).all()
        assert ((part[low] <= part[col] + 1e-12) & (part[col] <= part[high] + 1e-12)).all()
    assert tidy.filter(pl.col("kind") == "beside")["conversion"].null_count() == tidy.filter(
        pl.col("kind") == "beside").height


TODAY = dt.date(2026, 11, 20)
WINDOWS = [(None, None), (dt.date(2026, 11, 14), TODAY), (dt.date(2026, 10, 1),
                                                          dt.date(2026, 10, 31)),
           (dt.date(2026, 11, 3), dt.date(2026, 11, 3))]


@pytest.fixture(scope="module", params=[("default", 7), ("default", 8), ("tiny", 7)],
                ids=["default-7", "default-8", "tiny-7"])
def demo(request: pytest.FixtureRequest) -> Iterator[Client]:
    size, seed = request.param
    with DemoServer(size=size, seed=seed, today=TODAY, limits=Limits(enabled=False)) as server, \
            Client(api_key=DEMO_KEY, base_url=server.url, **server.client_pacing()) as client:
        yield client


@pytest.mark.parametrize("window", WINDOWS, ids=["all", "week", "october", "one-day"])
def test_demo_rates_are_bounded_for_every_window(demo: Client,
                                                 window: tuple[dt.date | None, ...]) -> None:
    start, end = window
    span = {} if start is None else {"start_date": start, "end_date": end}
    campaigns = demo.campaigns.analytics(**span)
    listed = demo.campaigns.list().select(pl.col("id").alias("campaign_id"), "open_tracking")
    campaigns = campaigns.join(listed, on="campaign_id", how="left")
    overview = demo.campaigns.analytics_overview(**span)
    for name, rdef in RATES.items():
        for frame in (campaigns, overview):
            for den in rdef.allowed:
                try:
                    out = metrics.rate(frame, name, den, by="campaign_id"
                                       if "campaign_id" in frame.columns else None)
                except ValueError:
                    continue  # the frame does not carry this rate's columns
                _check(out)
    # per-lead counts of the demo are subsets of the new leads contacted: nothing is hidden
    assert metrics.rate(campaigns, "reply", by="campaign_id")["note"].to_list().count(
        "") == campaigns.height
    opens = metrics.rate(campaigns, "open", by="campaign_id")
    assert (opens.filter(pl.col("note") == "")["rate"] <= 1).all()
    _check_funnel(metrics.funnel(campaigns, by="campaign_id"))
