"""Beta-Binomial probability that each variant has the highest true rate.

With a Beta(a0, b0) prior (Beta(1, 1), i.e. uniform, by default) the posterior of variant i's
rate after ``x_i`` successes in ``n_i`` trials is ``Beta(a0 + x_i, b0 + n_i - x_i)``. The
probability that variant i is best is

    P(i best) = ∫ f_i(p) Π_{j≠i} F_j(p) dp

(f = posterior density, F = posterior CDF). Two ways to compute it are offered:

* ``method="exact"`` (default): the one-dimensional integral above by adaptive quadrature
  (``scipy.integrate.quad``) over the range holding all but 1e-15 of f_i's mass. Deterministic;
  absolute error below 1e-8 (checked in the tests against the closed form for two variants).
* ``method="mc"``: Monte Carlo with ``draws`` joint posterior draws from a seeded generator;
  standard error at most ``0.5 / sqrt(draws)`` (0.0011 for the default 200,000 draws).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import integrate, special

PRIOR = (1.0, 1.0)
TAIL_MASS = 1e-15
MC_DRAWS = 200_000


def prob_best(
    successes: np.ndarray,
    trials: np.ndarray,
    *,
    method: str = "exact",
    prior: tuple[float, float] = PRIOR,
    draws: int = MC_DRAWS,
    seed: int = 0,
) -> np.ndarray:
    """Posterior probability that each arm has the highest rate.

    Parameters
    ----------
    successes, trials : array-like of length k
        Counts per arm; arms must have ``0 <= successes <= trials``.
    method : {"exact", "mc"}
        Numeric integration (default) or seeded Monte Carlo.
    prior : (a0, b0)
        Beta prior parameters, Beta(1, 1) by default.
    draws, seed : int
        Monte Carlo settings (ignored by ``"exact"``).

    Returns
    -------
    numpy.ndarray
        One probability per arm, summing to 1 (within the stated tolerance).

    Examples
    --------
    >>> p = prob_best([40, 60], [1000, 1000])
    >>> round(float(p[1]), 3)
    0.98
    """
    x = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    if x.shape != n.shape or x.ndim != 1:
        raise ValueError("successes and trials must be 1-D arrays of the same length")
    if np.any(x < 0) or np.any(x > n):
        raise ValueError("every arm needs 0 <= successes <= trials")
    a = prior[0] + x
    b = prior[1] + n - x
    if len(x) == 0:
        return np.zeros(0)
    if len(x) == 1:
        return np.ones(1)
    if method == "exact":
        if len(a) == 2 and float(a[1]).is_integer() and a[1] <= 1e6:
            return _two_arms(a, b)
        return _exact(a, b)
    if method == "mc":
        rng = np.random.default_rng(seed)
        sample = rng.beta(a, b, size=(int(draws), len(a)))
        return np.bincount(sample.argmax(axis=1), minlength=len(a)) / float(draws)
    raise ValueError(f"method must be 'exact' or 'mc', got {method!r}")


def _two_arms(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Closed form for two arms with an integer first parameter of the second posterior:
    P(p2 > p1) = sum_{i < a2} B(a1 + i, b1 + b2) / ((b2 + i) B(1 + i, b2) B(a1, b1))."""
    i = np.arange(int(a[1]), dtype=float)
    terms = (special.betaln(a[0] + i, b[0] + b[1]) - np.log(b[1] + i)
             - special.betaln(1.0 + i, b[1]) - special.betaln(a[0], b[0]))
    second = float(min(1.0, max(0.0, np.exp(terms).sum())))
    return np.array([1.0 - second, second])


def _exact(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    # scipy.special directly: the integrand is called hundreds of times per arm, and the
    # scipy.stats wrappers cost ~50x more per call than the functions underneath
    log_norm = special.betaln(a, b)
    out = np.empty(len(a))
    for i in range(len(a)):
        others = [j for j in range(len(a)) if j != i]
        ai, bi, ci = float(a[i]), float(b[i]), float(log_norm[i])
        ao, bo = a[others], b[others]

        def integrand(p: float, ai: float = ai, bi: float = bi, ci: float = ci,
                      ao: np.ndarray = ao, bo: np.ndarray = bo) -> float:
            if p <= 0.0 or p >= 1.0:
                return 0.0
            density = math.exp((ai - 1.0) * math.log(p) + (bi - 1.0) * math.log1p(-p) - ci)
            return density * float(np.prod(special.betainc(ao, bo, p)))

        lo = float(special.betaincinv(ai, bi, TAIL_MASS))
        hi = float(special.betainccinv(ai, bi, TAIL_MASS))
        # break points at every arm's posterior mean: where the integrand changes fastest
        means = sorted({float(m) for m in a / (a + b) if lo < m < hi})
        value, _err = integrate.quad(
            integrand, lo, hi, points=means or None, limit=200, epsabs=1e-12, epsrel=1e-10
        )
        out[i] = value
    return out
