"""Step x variant A/B comparison: rates, tests, Holm, probability of best, sends needed, verdicts.

Input: ``campaigns.analytics_steps`` or subsequence step analytics (``step``, ``variant``,
``sent`` and the metric's success column, e.g. ``unique_replies``), grouped by ``campaign_id``
when the frame has it. All defaults come from one :class:`~instantly_nb.metrics.ABSettings`
(``AB_DEFAULTS``); keyword arguments override single fields.

Looks. With an ``as_of`` column (a Date) the frame holds several cumulative looks: each look's
counts run from the test's start to that day. The comparison is read on each group's latest
look; with the sequential test the p-value is the lowest always-valid p-value over the looks,
so a verdict once reached stays. Without ``as_of`` the frame is one look.

Per step the control is variant A (index 0); when A is absent, has no sends or impossible
counts, the lowest variant with valid sends is the control and the reason says so. For each
other variant v against control c (x successes out of n sends):

* rate with a Wilson interval (``level``); lift ``r_v - r_c`` and ``(r_v - r_c) / r_c``;
* sequential (default): the mSPRT always-valid p-value, mixing scale tuned to
  ``expected_sends`` (see :mod:`~instantly_nb.metrics.ab_settings`); fixed-horizon: Fisher's
  exact test when the smallest expected cell is below 5, else the pooled z-test;
* Holm adjustment over the step's comparisons; chi-square across all valid variants;
  Beta(1, 1) probability of being the best variant;
* ``sends_needed``: sends per arm to detect ``min_lift`` (or the lift seen) at ``power`` with
  the fixed test, or -- sequential -- the sends at which the always-valid test would cross at the
  same rates; ``more_sends_needed`` = what the smaller arm still lacks.

Verdicts: ``winner`` / ``loser`` (adjusted p < alpha; more sends needed 0); ``not enough data``
(not crossed and an arm below ``min_sends`` or below the sends needed; more sends needed is
then positive, or unknown when no number of sends would do); ``no significant difference``
(not crossed although the sends needed are there, or the variants are level); ``control``;
``invalid data`` for impossible counts (successes above sends, negative successes such as
automatic replies above replies), with the reason and no test; ``unattributed`` for rows whose
step or variant is null, which are never compared.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import polars as pl

from instantly_nb.metrics import bayes, sequential
from instantly_nb.metrics._frame import ByArg, as_list, empty, require
from instantly_nb.metrics.ab_looks import (
    PASS_THROUGH,
    aggregate,
    invalid_reason,
    latest_look,
    look_arms,
    running_pvalue,
)
from instantly_nb.metrics.ab_settings import AB_DEFAULTS, ABSettings
from instantly_nb.metrics.ab_verdict import variant_fields
from instantly_nb.metrics.definitions import RateDef, resolve_columns
from instantly_nb.metrics.stats import chi2_homogeneity, compare_2prop, holm, proportion_ci

MIN_SENDS = AB_DEFAULTS.min_sends
MSPRT_TEST = "mSPRT (always valid)"
INVALID = "invalid data"

AB_TAIL: dict[str, pl.DataType] = {
    "step": pl.Int64(), "variant": pl.Int64(), "variant_label": pl.String(),
    "is_control": pl.Boolean(), "sends": pl.Int64(), "successes": pl.Int64(),
    "rate": pl.Float64(), "ci_low": pl.Float64(), "ci_high": pl.Float64(),
    "control_rate": pl.Float64(), "lift_abs": pl.Float64(), "lift_rel": pl.Float64(),
    "test": pl.String(), "p_value": pl.Float64(), "p_adjusted": pl.Float64(),
    "chi2": pl.Float64(), "chi2_dof": pl.Int64(), "chi2_p": pl.Float64(),
    "prob_best": pl.Float64(), "target_lift": pl.Float64(), "sends_needed": pl.Int64(),
    "more_sends_needed": pl.Int64(), "verdict": pl.String(), "reason": pl.String(),
    "metric": pl.String(), "success_col": pl.String(), "caveat": pl.String(),
    "level": pl.Float64(), "alpha": pl.Float64(), "as_of": pl.Date(), "looks": pl.Int64(),
}


def step_variants(
    steps_df: pl.DataFrame,
    metric: str | None = None,
    level: float | None = None,
    alpha: float | None = None,
    power: float | None = None,
    min_lift: float | None = None,
    sequential: bool | None = None,
    by: ByArg = None,
    *,
    settings: ABSettings = AB_DEFAULTS,
    looks: str | None = "as_of",
    **overrides: Any,
) -> pl.DataFrame:
    """Compare the variants of every step against its control.

    Parameters
    ----------
    steps_df : pl.DataFrame
        Step analytics; optionally several cumulative looks told apart by the ``looks`` column.
    metric, level, alpha, power, min_lift, sequential : optional
        Override the fields of ``settings`` of the same name (``None`` = keep the setting).
    by : str or list of str, optional
        Group columns; default ``campaign_id`` when the frame has it (steps of different
        campaigns are different e-mails), else none. Pass ``[]`` to pool explicitly.
    settings : ABSettings
        The defaults (``AB_DEFAULTS``).
    looks : str or None
        Column holding each look's date; ignored when the frame lacks it.
    **overrides
        Any other ``ABSettings`` field: ``tau``, ``min_sends``, ``expected_sends``,
        ``exclude_automatic``, ``prob_best_method``, ``seed``, ``method``.

    Returns
    -------
    pl.DataFrame
        ``by`` columns then ``AB_TAIL`` (step ... alpha, as_of, looks) and ``subject`` /
        ``body_preview`` when the input has them. One row per (group, step, variant).

    Examples
    --------
    >>> import polars as pl
    >>> df = pl.DataFrame({"step": [1, 1], "variant": [0, 1], "sent": [2000, 2000],
    ...                    "unique_replies": [80, 160]})
    >>> step_variants(df)["verdict"].to_list()
    ['control', 'winner']
    """
    given = dict(metric=metric, level=level, alpha=alpha, power=power, min_lift=min_lift,
                 sequential=sequential, **overrides)
    s = dataclasses.replace(settings, **{k: v for k, v in given.items() if v is not None})
    groups = _groups(steps_df, by)
    require(steps_df, [*groups, "step", "variant", "sent"], "step_variants")
    rdef, success_col, _ = resolve_columns(steps_df, s.metric, "sent")
    auto = _automatic(steps_df, rdef, success_col, s.exclude_automatic)
    _refuse_mixed_campaigns(steps_df, groups)
    look = looks if looks and looks in steps_df.columns else None
    passed = [c for c in PASS_THROUGH if c in steps_df.columns]
    schema = {**{c: steps_df.schema[c] for c in groups}, **AB_TAIL,
              **{c: pl.String() for c in passed}}
    if steps_df.is_empty():
        return empty(schema)
    counts = aggregate(steps_df, groups, look, success_col, auto)
    latest = latest_look(counts, groups, look)
    cfg = _config(s, success_col, auto, look is not None)
    history = (counts.partition_by([*groups, "step"], as_dict=True, maintain_order=True)
               if look else {})
    rows: list[dict[str, Any]] = []
    known = latest.filter(pl.col("step").is_not_null() & pl.col("variant").is_not_null())
    for key, part in known.partition_by([*groups, "step"], as_dict=True,
                                        maintain_order=True).items():
        rows.extend(_compare_step(part, cfg, history.get(key)))
    rows.extend(_unattributed(latest, cfg))
    common = {"metric": s.metric, "success_col": success_col, "level": s.level,
              "alpha": s.alpha, "caveat": _caveat(rdef, s.metric, auto)}
    out = pl.DataFrame([{**r, **common} for r in rows], schema=schema, strict=False)
    return out.sort([*groups, "step", "variant"], nulls_last=True, maintain_order=True)


def _groups(df: pl.DataFrame, by: ByArg) -> list[str]:
    if by is None:
        return ["campaign_id"] if "campaign_id" in df.columns else []
    return as_list(by)


def _automatic(df: pl.DataFrame, rdef: RateDef, success_col: str,
               exclude: bool | None) -> str | None:
    auto = rdef.automatic.get(success_col)
    if exclude is False or (exclude is None and (auto is None or auto not in df.columns)):
        return None
    if auto is None or auto not in df.columns:
        raise ValueError(
            f"step_variants(exclude_automatic=True): no automatic-reply column for "
            f"{success_col!r}; the frame needs {auto!r}."
        )
    return auto


def _caveat(rdef: RateDef, metric: str, auto: str | None) -> str:
    if metric == "reply" and auto is None:
        return ("Automatic replies are included: the frame does not count them separately.")
    return rdef.caveat


def _config(s: ABSettings, success_col: str, auto: str | None, has_looks: bool) -> dict[str, Any]:
    kw: dict[str, Any] = ({"tau": s.tau} if s.tau is not None else {"rho": s.rho})
    return {**dataclasses.asdict(s), "mix": kw, "success_col": success_col, "auto": auto,
            "has_looks": has_looks}


def _refuse_mixed_campaigns(df: pl.DataFrame, groups: list[str]) -> None:
    # Step 1 of campaign X and step 1 of campaign Y hold different copy: pooling them would
    # compare nothing meaningful, so ask for an explicit grouping instead of guessing.
    for col in ("campaign_id", "subsequence_id", "workspace"):
        if col in df.columns and col not in groups and df[col].n_unique() > 1:
            raise ValueError(
                f"step_variants: the frame holds several {col} values; steps of different "
                f"campaigns are different emails. Pass by={col!r} (or filter the frame first)."
            )


def sequential_tau() -> float:
    """Fixed mSPRT mixing scale used when ``tau`` is given without a value (one point)."""
    return sequential.DEFAULT_TAU


def _compare_step(part: pl.DataFrame, cfg: dict[str, Any],
                  hist: pl.DataFrame | None) -> list[dict[str, Any]]:
    rows = part.sort("variant").to_dicts()
    bad = [invalid_reason(r, cfg["success_col"], cfg["auto"]) for r in rows]
    x = np.array([r["successes"] for r in rows], dtype=float)
    n = np.array([r["sends"] for r in rows], dtype=float)
    has = np.array([b is None for b in bad]) & (n > 0)
    ctrl = int(np.flatnonzero(has)[0]) if has.any() else None
    low, high = proportion_ci(np.where(has, x, 0), np.where(has, n, 0), cfg["level"],
                              cfg["method"])
    chi2, chi2_p, dof = chi2_homogeneity(x[has], n[has]) if has.sum() >= 2 else (
        math.nan, math.nan, None)
    pb = np.full(len(rows), np.nan)
    if has.sum() >= 2:
        pb[has] = bayes.prob_best(x[has], n[has], method=cfg["prob_best_method"],
                                  seed=cfg["seed"])
    tested = [i for i in range(len(rows)) if has[i] and i != ctrl]
    arms = look_arms(hist) if cfg["sequential"] and tested else None
    tests = {i: _test(rows, ctrl, i, arms, hist, cfg) for i in tested} if ctrl is not None else {}
    padj = dict(zip(tested, holm(np.array([tests[i][1] for i in tested])), strict=True))
    out = []
    for i, r in enumerate(rows):
        r.update(is_control=i == ctrl, rate=x[i] / n[i] if has[i] else math.nan,
                 ci_low=low[i], ci_high=high[i], chi2=chi2, chi2_dof=dof, chi2_p=chi2_p,
                 prob_best=pb[i], looks=tests[i][3] if i in tests else None)
        r.update(_fields(i, r, rows, ctrl, bad[i], tests.get(i), padj.get(i), len(tested), cfg))
        out.append({k: (None if isinstance(v, float) and math.isnan(v) else v)
                    for k, v in r.items() if not k.startswith("_")})
    return out


def _fields(i: int, r: dict[str, Any], rows: list[dict[str, Any]], ctrl: int | None,
            bad: str | None, test: tuple[str, float, float, int] | None, padj: float | None,
            m: int, cfg: dict[str, Any]) -> dict[str, Any]:
    label = r["variant_label"] or f"variant {r['variant']}"
    if bad is not None:
        return {"verdict": INVALID, "rate": None, "ci_low": None, "ci_high": None,
                "reason": f"{label}: invalid data: {bad}; no test was run. Check the export "
                          "(or the automatic-reply setting) before reading this step."}
    if ctrl is None:
        return {"verdict": "not enough data",
                "reason": f"{label}: no variant of this step has sends yet; nothing to compare."}
    c = rows[ctrl]
    if i == ctrl:
        return {"verdict": "control", "reason": _control_reason(r, rows, label)}
    if test is None:
        return {"verdict": "not enough data",
                "reason": f"{label} vs {c['variant_label']}: no sends yet "
                          f"(control {_frac(c['successes'], c['sends'])})."}
    name, p, sign, _looks = test
    fields = variant_fields(r["successes"], r["sends"], c["successes"], c["sends"], name, p,
                            padj if padj is not None else p, sign, m, cfg)
    fields["reason"] = f"{label} vs {c['variant_label']}: {fields['reason']}"
    return fields


def _control_reason(r: dict[str, Any], rows: list[dict[str, Any]], label: str) -> str:
    note = ""
    if r["variant"] != 0:
        a = next((o for o in rows if o["variant"] == 0), None)
        why = ("absent" if a is None else "without sends" if a["sends"] <= 0
               else "with invalid counts")
        note = f" (variant A is {why}; the lowest variant with sends is the control)"
    alone = " Only one variant in this step: nothing to compare." if len(rows) == 1 else ""
    return f"control {label}{note}: {_frac(r['successes'], r['sends'])}.{alone}"


def _test(rows: list[dict[str, Any]], ctrl: int, i: int, arms: Any,
          hist: pl.DataFrame | None, cfg: dict[str, Any]) -> tuple[str, float, float, int]:
    c, v = rows[ctrl], rows[i]
    now = (c["successes"], c["sends"], v["successes"], v["sends"])
    if cfg["sequential"]:
        def pfunc(xc: Any, nc: Any, xv: Any, nv: Any) -> Any:
            return sequential.msprt_pvalue(xc, nc, xv, nv, **cfg["mix"])

        p, sign, looks = running_pvalue(arms, c["variant"], v["variant"], pfunc, now)
        return MSPRT_TEST, p, sign, looks
    name, p = compare_2prop(now[0], now[1], now[2], now[3])
    lift = now[2] / now[3] - now[0] / now[1]
    looks = hist["as_of"].n_unique() if hist is not None else 1
    return name, 1.0 if math.isnan(p) else p, float(np.sign(lift)), looks


def _frac(x: float, n: float) -> str:
    rate = f"{x / n:.2%}" if n > 0 else "n/a"
    return f"{rate} ({int(x):,}/{int(n):,})"


def _unattributed(counts: pl.DataFrame, cfg: dict[str, Any]) -> list[dict[str, Any]]:
    bad = counts.filter(pl.col("step").is_null() | pl.col("variant").is_null())
    rows = []
    for r in bad.to_dicts():
        valid = invalid_reason(r, cfg["success_col"], cfg["auto"]) is None and r["sends"] > 0
        low, high = proportion_ci(r["successes"] if valid else 0, r["sends"] if valid else 0,
                                  cfg["level"], cfg["method"])
        r.update(
            is_control=False,
            rate=r["successes"] / r["sends"] if valid else None,
            ci_low=None if np.isnan(low) else float(low),
            ci_high=None if np.isnan(high) else float(high),
            verdict="unattributed",
            reason=(f"step/variant unknown: {_frac(r['successes'], r['sends'])} left out of "
                    "every comparison."),
        )
        rows.append({k: v for k, v in r.items() if not k.startswith("_")})
    return rows


__all__ = ["AB_TAIL", "INVALID", "MIN_SENDS", "MSPRT_TEST", "step_variants"]
