"""A/B view: step x variant comparisons over the test's life, with each variant's copy.

Whatever the report window, A/B counts accumulate from the test's start (each campaign's first
day, or ``test_start``) up to the window's last day. The sequential verdict needs the earlier
looks too, so :func:`load` fetches cumulative step analytics at weekly checkpoints (``end_date``
at each earlier week, counted back from the window's end) and stacks them with an ``as_of``
column; ``metrics.step_variants(..., looks="as_of")`` decides on the latest look with the
running minimum of the always-valid p-value. The looks come from the API's history, so a first
run on a new machine gives the verdict the hundredth scheduled run gives.

Each (campaign, step, variant) is joined to its subject line and the first words of its body
from ``campaigns.list`` ``sequences`` (columns ``subject`` and ``body_preview``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Any

import polars as pl

from .. import charts, metrics
from ..metrics.ab import AB_TAIL
from ..metrics.definitions import RATES
from ..report.periods import Window
from .scope import Scope, with_names
from .section import Charts, Section

__all__ = [
    "ABData",
    "ABParams",
    "checkpoints",
    "load",
    "settings_of",
    "tested",
    "variant_copy",
    "view",
]

PREVIEW_WORDS = 12
_TEMPLATE = re.compile(r"\{\{\s*([^}]*)\}\}")
_TAG = re.compile(r"<[^>]+>")
_COPY_SCHEMA = {"campaign_id": pl.String, "step_index": pl.Int64, "variant": pl.Int64,
                "subject": pl.String, "body_preview": pl.String}


@dataclass(frozen=True)
class ABParams:
    """Parameters of the A/B view.

    Attributes
    ----------
    metric : str
        What a variant is judged on: reply, opportunity, meeting, click or open.
    alpha : float
        Significance level, after adjusting for several variants.
    test_start : str or None
        First day the A/B counts accumulate from ("YYYY-MM-DD"); None = each campaign's start.
    look_days : int
        Days between two looks of the sequential test (the report runs weekly).
    """

    metric: str = metrics.AB_DEFAULTS.metric
    alpha: float = metrics.AB_DEFAULTS.alpha
    test_start: str | None = None
    look_days: int = 7


def settings_of(params: ABParams) -> metrics.ABSettings:
    """The shared A/B settings (``metrics.AB_DEFAULTS``) with the params' metric and alpha."""
    return dataclasses.replace(metrics.AB_DEFAULTS, metric=params.metric, alpha=params.alpha)


@dataclass
class ABData:
    """Cumulative step analytics at every look, the variants' copy and the period covered."""

    window: Window
    start: dt.date
    steps: pl.DataFrame
    copy: pl.DataFrame
    names: dict[str, str]


def campaign_starts(campaigns: pl.DataFrame) -> pl.Series:
    """Each campaign's first day: its schedule's start date, else its creation date."""
    parts = []
    if "campaign_schedule__start_date" in campaigns.columns:
        parts.append(pl.col("campaign_schedule__start_date").cast(pl.Date, strict=False))
    if "timestamp_created" in campaigns.columns:
        parts.append(pl.col("timestamp_created").cast(pl.Datetime("us", "UTC"), strict=False)
                     .dt.date())
    if not parts:
        return pl.Series("start", [None] * campaigns.height, pl.Date)
    return campaigns.select(pl.min_horizontal(parts).alias("start"))["start"]


def test_period_start(campaigns: pl.DataFrame, window: Window,
                      test_start: str | dt.date | None) -> dt.date:
    """The first day the A/B counts cover: ``test_start`` or the earliest campaign start.

    Counts before a campaign's own start are zero, so summing from the earliest start of the
    scope is summing each campaign from its own start.
    """
    if test_start:
        day = test_start if isinstance(test_start, dt.date) else \
            dt.date.fromisoformat(str(test_start).strip())
        if day > window.end:
            raise ValueError(f"test_start {day} is after the window's last day {window.end}")
        return day
    first = campaign_starts(campaigns).drop_nulls().min() if campaigns.height else None
    return min(first, window.end) if isinstance(first, dt.date) else window.start


def checkpoints(start: dt.date, end: dt.date, every: int = 7) -> list[dt.date]:
    """Look days: ``end`` and every ``every`` days before it, back to the first on/after start."""
    if every < 1:
        raise ValueError(f"look_days must be at least 1, got {every}")
    days, day = [], end
    while day >= start:
        days.append(day)
        day -= dt.timedelta(days=every)
    return sorted(days)


def _preview(body: Any) -> str:
    text = body.get("text") or body.get("html") or "" if isinstance(body, dict) else body or ""
    text = _TAG.sub(" ", _TEMPLATE.sub(lambda m: m.group(1).strip(), str(text)))
    words = text.split()
    return " ".join(words[:PREVIEW_WORDS]) + (" …" if len(words) > PREVIEW_WORDS else "")


def variant_copy(campaigns: pl.DataFrame) -> pl.DataFrame:
    """(campaign_id, step_index (0-based), variant) -> subject, body_preview of the first
    sequence of every campaign."""
    rows: list[dict[str, Any]] = []
    if "sequences" not in campaigns.columns:
        return pl.DataFrame(schema=_COPY_SCHEMA)
    for cid, seqs in campaigns.select("id", "sequences").iter_rows():
        for raw in (seqs or [])[:1]:
            seq = json.loads(raw) if isinstance(raw, str) else raw
            for s, step in enumerate((seq or {}).get("steps") or []):
                for v, variant in enumerate(step.get("variants") or []):
                    rows.append({"campaign_id": cid, "step_index": s, "variant": v,
                                 "subject": variant.get("subject"),
                                 "body_preview": _preview(variant.get("body"))})
    return pl.DataFrame(rows, schema=_COPY_SCHEMA)


def load(scope: Scope, params: ABParams = ABParams()) -> ABData:
    """Fetch cumulative step analytics of the scope at every look, and the variants' copy."""
    start = test_period_start(scope.campaigns, scope.window, params.test_start)
    looks = []
    for day in checkpoints(start, scope.window.end, params.look_days):
        frame = scope.client.campaigns.analytics_steps(
            campaign_id=scope.ids, start_date=start, end_date=day,
            include_opportunities_count=True) if scope.ids else pl.DataFrame()
        if frame.height:
            looks.append(frame.with_columns(pl.lit(day, dtype=pl.Date).alias("as_of")))
    steps = pl.concat(looks, how="diagonal_relaxed") if looks else pl.DataFrame()
    return ABData(scope.window, start, steps, variant_copy(scope.campaigns), scope.names())


def _with_copy(ab: pl.DataFrame, copy: pl.DataFrame) -> pl.DataFrame:
    """Join subject/body_preview; steps count from 0 or 1 depending on the source, so each
    campaign's lowest step is its first."""
    if ab.is_empty() or "campaign_id" not in ab.columns:
        return ab.with_columns(pl.lit(None, pl.String).alias("subject"),
                               pl.lit(None, pl.String).alias("body_preview"))
    first = pl.col("step").min().over("campaign_id")
    keyed = ab.with_columns((pl.col("step") - pl.when(first == 0).then(0).otherwise(1))
                            .alias("step_index"))
    keyed = keyed.drop([c for c in ("subject", "body_preview") if c in keyed.columns])
    return keyed.join(copy, on=["campaign_id", "step_index", "variant"], how="left") \
        .drop("step_index")


def compare(steps: pl.DataFrame, params: ABParams) -> pl.DataFrame:
    """``metrics.step_variants`` with the shared settings over every look of ``steps``."""
    return metrics.step_variants(steps, by="campaign_id", settings=settings_of(params),
                                 looks="as_of")


def tested(ab: pl.DataFrame) -> pl.DataFrame:
    """Rows of the (campaign, step) pairs that compare two or more variants with sends."""
    keys = [c for c in ("campaign_id", "campaign", "step") if c in ab.columns]
    real = ab.filter(pl.col("step").is_not_null() & pl.col("variant").is_not_null()
                     & (pl.col("sends") > 0))
    return real.filter(pl.len().over(keys) >= 2)


def verdict_table(ab: pl.DataFrame) -> pl.DataFrame:
    """One row per variant compared with its control: copy, rates, lift, verdict, sends."""
    keys = [c for c in ("campaign",) if c in ab.columns]
    return tested(ab).select(
        *keys, "step", pl.col("variant_label").alias("variant"), "subject", "body_preview",
        "sends", "successes", pl.col("rate").alias("variant_rate"),
        pl.col("ci_low").alias("variant_rate_low"), pl.col("ci_high").alias("variant_rate_high"),
        pl.col("control_rate"), pl.col("lift_abs").alias("lift_rate"),
        pl.col("prob_best").alias("prob_best_rate"), "verdict", "sends_needed",
        "more_sends_needed",
        pl.when(pl.col("verdict") == "invalid data").then(pl.col("reason")).alias("note"),
    )


def sends_needed(ab: pl.DataFrame) -> pl.DataFrame:
    """Undecided comparisons: how many more sends each variant needs before a verdict."""
    keys = [c for c in ("campaign",) if c in ab.columns]
    open_ = tested(ab).filter(~pl.col("is_control") & pl.col("verdict").is_in(
        ["not enough data", "no significant difference"]))
    return open_.select(
        *keys, "step", pl.col("variant_label").alias("variant"), "subject", "sends", "verdict",
        pl.col("target_lift").alias("target_rate"), "sends_needed", "more_sends_needed",
    ).sort("more_sends_needed", nulls_last=True)


def period_text(data: ABData) -> str:
    """Which days the A/B figures cover, in words."""
    return (f"A/B figures count every send from {data.start.isoformat()} (the start of the "
            f"earliest test in scope) to {data.window.end.isoformat()}, whatever the report "
            "window, so a test keeps its evidence from week to week.")


def summary_text(ab: pl.DataFrame, metric: str) -> str:
    """Counts of verdicts, then one line per winner and loser (Markdown)."""
    rows = tested(ab).filter(~pl.col("is_control"))
    if rows.is_empty():
        return ("No step of the selected campaigns has two variants with sends yet, so there "
                "is nothing to compare.")
    counts = rows["verdict"].value_counts(sort=True)
    lines = [", ".join(f"**{c}** {v}" for v, c in counts.iter_rows())
             + f" (variants compared with A on {RATES[metric].label.lower()})."]
    for r in rows.filter(pl.col("verdict").is_in(["winner", "loser"])).iter_rows(named=True):
        word = "beats" if r["verdict"] == "winner" else "trails"
        subject = f" (“{r['subject']}”)" if r.get("subject") else ""
        lines.append(f"- {r.get('campaign') or ''}, step {r['step']}: variant "
                     f"{r['variant_label']}{subject} {word} A ({r['rate']:.1%} vs "
                     f"{r['control_rate']:.1%}).")
    return "\n".join(lines)


def view(data: ABData, params: ABParams = ABParams()) -> Section:
    """The A/B section: verdicts over the test's life with each variant's copy."""
    if params.metric not in RATES:
        raise ValueError(f"unknown A/B metric {params.metric!r}; use reply, opportunity, "
                         "meeting, click or open")
    if data.steps.is_empty():
        ab = pl.DataFrame(schema={"campaign_id": pl.String, "campaign": pl.String,
                                  **AB_TAIL, "subject": pl.String,
                                  "body_preview": pl.String})
    else:
        ab = with_names(_with_copy(compare(data.steps, params), data.copy), data.names)
    compared = tested(ab)
    return Section(
        "A/B tests",
        tables={"all": ab, "verdicts": verdict_table(ab), "sends_needed": sends_needed(ab)},
        charts=Charts(variants=lambda: charts.step_variants(compared) if compared.height
                      else None,
                      variant_pages=lambda: charts.step_variant_pages(compared)
                      if compared.height else None),
        notes={"summary": summary_text(ab, params.metric), "period": period_text(data)},
        period=f"{data.start.isoformat()} – {data.window.end.isoformat()}",
    )
