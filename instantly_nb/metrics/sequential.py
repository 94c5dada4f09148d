"""Mixture sequential probability ratio test (mSPRT) for the difference of two proportions.

A fixed-horizon p-value is only valid if the data are looked at once. Campaign data are looked
at every day, so "stop when p < 0.05" inflates false positives. The mSPRT gives an
*always-valid* p-value: whatever the number of looks and whenever one stops, the chance that
it ever drops below alpha under the null is at most alpha (approximately, through the normal
approximation below).

Formulas (control x_c/n_c, variant x_v/n_v)

* effect estimate ``θ̂ = x_v/n_v - x_c/n_c``;
* its variance under the null, from the pooled rate ``p̄ = (x_c+x_v)/(n_c+n_v)``:
  ``V = p̄(1-p̄)(1/n_c + 1/n_v)``;
* with a normal mixing distribution ``θ ~ N(0, τ²)`` over alternatives, the mixture likelihood
  ratio of the normal approximation ``θ̂ ~ N(θ, V)`` against ``θ = 0`` is

      Λ = sqrt(V / (V + τ²)) · exp( τ² θ̂² / (2 V (V + τ²)) )

* the always-valid p-value at the current look is ``min(1, 1/Λ)``; over a sequence of looks
  it is the running minimum of those values (``running=True`` in :func:`msprt_pvalue_path`).

Λ is (approximately) a non-negative martingale under the null, so by Ville's inequality
``P(sup_n Λ_n >= 1/alpha) <= alpha``. ``τ`` is the scale of effects one expects (in rate
units, e.g. 0.01 = one percentage point); any fixed ``τ`` keeps validity, a well-chosen one
detects real effects sooner. Reference: Johari, Pekelis, Walsh, "Always valid inference:
bringing sequential analysis to A/B testing" (2015).

With ``rho`` instead of ``tau`` the mixture is over the standardised effect:
``τ² = 2 ρ² p̄(1-p̄)``, so the same ``rho`` (tuned to an expected number of sends per arm, see
:mod:`instantly_nb.metrics.ab_settings`) suits every base rate.
"""

from __future__ import annotations

import numpy as np

DEFAULT_TAU = 0.01


def msprt_pvalue(
    x_control: np.ndarray | float,
    n_control: np.ndarray | float,
    x_variant: np.ndarray | float,
    n_variant: np.ndarray | float,
    tau: float = DEFAULT_TAU,
    *,
    rho: float | None = None,
) -> np.ndarray:
    """Always-valid mSPRT p-value ``min(1, 1/Λ)`` for each set of counts (vectorised).

    Parameters
    ----------
    x_control, n_control, x_variant, n_variant : array-like
        Cumulative successes and trials of the control and the variant at the current look.
    tau : float
        Standard deviation of the normal mixing distribution over the rate difference.
    rho : float, optional
        Mixing standard deviation of the standardised effect; when given, ``tau`` is ignored
        and ``τ² = 2 ρ² p̄(1-p̄)``.

    Returns
    -------
    numpy.ndarray
        p-values in (0, 1]; 1 where an arm is empty or the pooled rate is 0 or 1.

    Examples
    --------
    >>> float(msprt_pvalue(100, 2000, 100, 2000))
    1.0
    >>> float(msprt_pvalue(80, 2000, 160, 2000)) < 0.001
    True
    """
    if rho is not None and not rho > 0:
        raise ValueError(f"rho must be positive, got {rho!r}")
    if rho is None and not tau > 0:
        raise ValueError(f"tau must be positive (a rate difference such as 0.01), got {tau!r}")
    xc, nc = np.asarray(x_control, float), np.asarray(n_control, float)
    xv, nv = np.asarray(x_variant, float), np.asarray(n_variant, float)
    ok = (nc > 0) & (nv > 0)
    nc_s, nv_s = np.where(ok, nc, 1.0), np.where(ok, nv, 1.0)
    pooled = np.where(ok, (xc + xv) / (nc_s + nv_s), 0.0)
    var = pooled * (1.0 - pooled) * (1.0 / nc_s + 1.0 / nv_s)
    ok &= var > 0
    var_s = np.where(ok, var, 1.0)
    theta = xv / nv_s - xc / nc_s
    t2 = 2.0 * rho * rho * pooled * (1.0 - pooled) if rho is not None else tau * tau
    ok &= t2 > 0
    t2 = np.where(ok, t2, 1.0)
    log_lambda = 0.5 * np.log(var_s / (var_s + t2)) + t2 * theta**2 / (2.0 * var_s * (var_s + t2))
    p = np.exp(-np.maximum(log_lambda, 0.0))
    return np.where(ok, p, 1.0)


def msprt_pvalue_path(
    x_control: np.ndarray,
    n_control: np.ndarray,
    x_variant: np.ndarray,
    n_variant: np.ndarray,
    tau: float = DEFAULT_TAU,
    *,
    rho: float | None = None,
    running: bool = True,
) -> np.ndarray:
    """mSPRT p-values along a sequence of looks (last axis = looks, cumulative counts).

    With ``running=True`` (default) the result is the running minimum, the always-valid
    p-value process: once it is below alpha it stays there.
    """
    p = msprt_pvalue(x_control, n_control, x_variant, n_variant, tau, rho=rho)
    return np.minimum.accumulate(p, axis=-1) if running else p


SCALE_GRID = np.exp(np.linspace(0.0, np.log(1e6), 1200))


def msprt_scale_needed(
    rate_control: float, n_control: float, rate_variant: float, n_variant: float,
    threshold: float, tau: float = DEFAULT_TAU, *, rho: float | None = None,
) -> float | None:
    """Smallest factor ``k >= 1`` by which both arms must grow (rates unchanged) before the
    mSPRT p-value falls below ``threshold``; ``None`` when the rates are equal or it would take
    more than a million times the current sends. Accurate to about 1 %.
    """
    if rate_control == rate_variant or n_control <= 0 or n_variant <= 0:
        return None
    k = SCALE_GRID
    nc, nv = k * n_control, k * n_variant
    p = msprt_pvalue(rate_control * nc, nc, rate_variant * nv, nv, tau, rho=rho)
    hit = np.flatnonzero(p < threshold)
    return float(k[hit[0]]) if hit.size else None
