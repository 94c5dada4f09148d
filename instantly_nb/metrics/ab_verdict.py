"""Verdict, sends needed and reason of one A/B comparison, kept consistent with each other.

The three figures a marketer reads side by side can never contradict:

* ``winner`` / ``loser`` -> more sends needed 0;
* ``not enough data`` -> more sends needed positive (or unknown when no number of sends would
  detect the lift, e.g. the variants are level so far and the arm is below ``min_sends``);
* ``no significant difference`` -> the sends needed are there and the test has not crossed
  (or the variants are level).

Sends needed: fixed-horizon test -> the equal-allocation sample size for ``min_lift`` (or the
lift seen) at ``power`` (Cohen's h, as statsmodels' ``NormalIndPower``); sequential test -> the
sends per arm at which the always-valid p-value would fall below alpha / m (m comparisons in
the step, the strictest Holm step) if the rates stayed as they are (or at control + min_lift).
"""

from __future__ import annotations

import math
from typing import Any

from instantly_nb.metrics import sequential
from instantly_nb.metrics.stats import sample_size_2prop


def variant_fields(
    xv: float, nv: float, xc: float, nc: float, test: str, p: float, padj: float,
    sign: float, m: int, cfg: dict[str, Any],
) -> dict[str, Any]:
    """Fields of a tested variant row: lifts, p-values, sends needed, verdict and reason."""
    rc, rv = xc / nc, xv / nv
    lift = rv - rc
    rel = lift / rc if rc > 0 else math.nan
    target = cfg["min_lift"] if cfg["min_lift"] is not None else lift
    needed = _needed(rc, nc, nv, target, m, cfg)
    smaller = int(min(nc, nv))
    base = {"control_rate": rc, "lift_abs": lift, "lift_rel": rel, "test": test, "p_value": p,
            "p_adjusted": padj, "target_lift": target, "sends_needed": needed}
    numbers = (f"{_frac(xv, nv)} vs control {_frac(xc, nc)}, lift {lift * 100:+.2f} pts"
               f"{'' if math.isnan(rel) else f' ({rel:+.1%})'}, {test} p={p:.3g}, "
               f"Holm-adjusted p={padj:.3g}")
    alpha = cfg["alpha"]
    if padj < alpha:
        verdict = "winner" if sign > 0 else "loser"
        when = " (lowest over the looks so far)" if cfg["sequential"] and cfg["has_looks"] else ""
        return {**base, "verdict": verdict, "more_sends_needed": 0,
                "reason": f"{verdict}: {numbers}{when} < alpha {alpha:g}."}
    required = _required(needed, cfg)
    if required is not None and smaller < required:
        why = (f"fewer than {cfg['min_sends']:,} sends in an arm"
               if smaller < cfg["min_sends"] else _short_text(cfg))
        return {**base, "verdict": "not enough data", "sends_needed": required,
                "more_sends_needed": required - smaller,
                "reason": f"not enough data ({why}): {numbers}; "
                          f"{_power_text(required, required - smaller, target, cfg)}"}
    if needed is None and cfg["sequential"]:
        more = None
        tail = "the variants are level so far; no number of sends separates them."
    else:
        more = None if needed is None else max(0, needed - smaller)
        tail = _power_text(needed, more, target, cfg)
    return {**base, "verdict": "no significant difference", "more_sends_needed": more,
            "reason": f"no significant difference: {numbers} >= alpha {alpha:g}; {tail}"}


def _required(needed: int | None, cfg: dict[str, Any]) -> int | None:
    """Sends per arm below which an undecided comparison is "not enough data"."""
    floor = int(cfg["min_sends"])
    if cfg["sequential"] or cfg["min_lift"] is not None:
        return max(needed, floor) if needed is not None else (floor or None)
    return floor or None


def _short_text(cfg: dict[str, Any]) -> str:
    if cfg["sequential"]:
        return "the always-valid test has not crossed its threshold; keep the test running"
    return "too few sends to detect the minimum lift"


def _needed(rc: float, nc: float, nv: float, target: float, m: int,
            cfg: dict[str, Any]) -> int | None:
    if math.isnan(rc) or math.isnan(target) or target == 0:
        return None
    rt = min(max(rc + target, 0.0), 1.0)
    if cfg["sequential"]:
        k = sequential.msprt_scale_needed(rc, nc, rt, nv, cfg["alpha"] / max(m, 1),
                                          **cfg["mix"])
        return None if k is None else int(math.ceil(k * min(nc, nv)))
    n = sample_size_2prop(rc, rt, cfg["alpha"], cfg["power"])
    return None if math.isnan(n) or math.isinf(n) else int(math.ceil(n))


def _power_text(needed: int | None, more: int | None, target: float, cfg: dict[str, Any]) -> str:
    if needed is None:
        return "a lift of 0 cannot be detected at any sample size."
    if cfg["sequential"]:
        return (f"at these rates the always-valid test crosses at about {needed:,} sends per "
                f"variant ({more or 0:,} more).")
    return (f"detecting {target * 100:+.2f} pts at {cfg['power']:.0%} power needs "
            f"{needed:,} sends per variant ({more or 0:,} more).")


def _frac(x: float, n: float) -> str:
    rate = f"{x / n:.2%}" if n > 0 else "n/a"
    return f"{rate} ({int(x):,}/{int(n):,})"


__all__ = ["variant_fields"]
