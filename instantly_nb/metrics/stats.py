"""Statistics on proportions: confidence intervals, two-sample tests, Holm, chi-square, power.

Every function is vectorised over numpy arrays or works on plain numbers, uses
``scipy.special`` / ``scipy.stats`` for distribution functions, and returns NaN (never raises)
where a quantity is undefined, e.g. a rate with zero trials. The tests check each function
against ``statsmodels`` / ``scipy.stats`` reference implementations to 1e-9.

Formulas (x successes out of n trials, z = the standard normal quantile at 1 - (1 - level)/2)

* Wilson score interval: centre ``(p + z²/2n) / (1 + z²/n)``, half-width
  ``z sqrt(p(1-p)/n + z²/4n²) / (1 + z²/n)``.
* Agresti-Coull: ``ñ = n + z²``, ``p̃ = (x + z²/2)/ñ``, ``p̃ ± z sqrt(p̃(1-p̃)/ñ)``, clipped to [0, 1].
* Jeffreys: the central ``level`` interval of Beta(x + 1/2, n - x + 1/2).
* Two-proportion z-test (pooled standard error): ``p̄ = (x1+x2)/(n1+n2)``,
  ``z = (p2 - p1) / sqrt(p̄(1-p̄)(1/n1 + 1/n2))``, two-sided p = ``2 Φ(-|z|)``.
* Fisher's exact test (two-sided): the sum of the hypergeometric probabilities of all tables
  with the observed margins that are no more likely than the observed table (relative
  tolerance 1e-7 for ties).
* Chi-square test of homogeneity across k variants (no continuity correction):
  ``Σ (O - E)² / E`` over the k x 2 table, k - 1 degrees of freedom.
* Holm step-down adjustment: sort the m p-values, ``p_(i) ↦ max_{j<=i} min(1, (m-j+1) p_(j))``.
* Power: Cohen's ``h = 2 asin(sqrt p2) - 2 asin(sqrt p1)``; the sends per variant ``n`` solve
  ``Φ(|h| sqrt(n/2) - z) + Φ(-|h| sqrt(n/2) - z) = power`` (two-sided, equal allocation), the
  same equation as statsmodels' ``NormalIndPower`` with ``ratio=1``.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize, special, stats

CI_METHODS = ("wilson", "agresti_coull", "jeffreys")
EXPECTED_CELL_MIN = 5.0
FISHER_TIE_TOLERANCE = 1e-7

ArrayLike = float | int | np.ndarray


def z_critical(level: float) -> float:
    """Two-sided standard-normal critical value for a confidence ``level`` (0.95 -> 1.95996)."""
    _check_level(level)
    return float(-special.ndtri((1.0 - level) / 2.0))


def _check_level(level: float) -> None:
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be between 0 and 1 (e.g. 0.95), got {level!r}")


def proportion_ci(
    successes: ArrayLike, trials: ArrayLike, level: float = 0.95, method: str = "wilson"
) -> tuple[np.ndarray, np.ndarray]:
    """Confidence interval for a binomial proportion.

    Parameters
    ----------
    successes, trials : array-like
        Counts. Where ``trials <= 0``, ``successes < 0`` or ``successes > trials`` the bounds
        are NaN (the rate has no binomial interval).
    level : float
        Confidence level, e.g. 0.95.
    method : {"wilson", "agresti_coull", "jeffreys"}
        Interval method; Wilson is the default everywhere in the package.

    Returns
    -------
    (ci_low, ci_high) : tuple of numpy arrays

    Examples
    --------
    >>> low, high = proportion_ci(40, 1000)
    >>> round(float(low), 4), round(float(high), 4)
    (0.0295, 0.054)
    """
    if method not in CI_METHODS:
        raise ValueError(f"method must be one of {CI_METHODS}, got {method!r}")
    x = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    valid = (n > 0) & (x >= 0) & (x <= n)
    n_safe = np.where(valid, n, 1.0)
    x_safe = np.where(valid, x, 0.0)
    z = z_critical(level)
    if method == "wilson":
        p = x_safe / n_safe
        denom = 1.0 + z * z / n_safe
        centre = (p + z * z / (2.0 * n_safe)) / denom
        half = z * np.sqrt(p * (1.0 - p) / n_safe + z * z / (4.0 * n_safe**2)) / denom
        low, high = centre - half, centre + half
    elif method == "agresti_coull":
        n_c = n_safe + z * z
        p_c = (x_safe + z * z / 2.0) / n_c
        half = z * np.sqrt(p_c * (1.0 - p_c) / n_c)
        low, high = p_c - half, p_c + half
    else:
        tail = (1.0 - level) / 2.0
        a, b = x_safe + 0.5, n_safe - x_safe + 0.5
        low, high = stats.beta.ppf(tail, a, b), stats.beta.isf(tail, a, b)
    low = np.where(valid, np.clip(low, 0.0, 1.0), np.nan)
    high = np.where(valid, np.clip(high, 0.0, 1.0), np.nan)
    return low, high


def min_expected_cell(x1: float, n1: float, x2: float, n2: float) -> float:
    """Smallest expected count of the 2x2 table (arm x success/failure) under independence."""
    total = n1 + n2
    if total <= 0:
        return 0.0
    k = x1 + x2
    return min(n1, n2) * min(k, total - k) / total


def ztest_2prop(x1: float, n1: float, x2: float, n2: float) -> tuple[float, float]:
    """Two-sided two-proportion z-test with the pooled standard error.

    Returns ``(z, p_value)`` for the difference ``x2/n2 - x1/n1`` (arm 2 minus arm 1).
    Both are NaN when a sample is empty or the pooled rate is 0 or 1.
    """
    if n1 <= 0 or n2 <= 0:
        return math.nan, math.nan
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2))
    if se == 0.0:
        return math.nan, math.nan
    z = (x2 / n2 - x1 / n1) / se
    return z, float(2.0 * special.ndtr(-abs(z)))


def fisher_2x2(x1: int, n1: int, x2: int, n2: int) -> float:
    """Two-sided Fisher's exact test p-value for successes ``x1/n1`` vs ``x2/n2``.

    The p-value sums the hypergeometric probabilities of every table with the observed
    margins whose probability does not exceed the observed one (times 1 + 1e-7, for ties).
    """
    x1, n1, x2, n2 = int(x1), int(n1), int(x2), int(n2)
    total, k = n1 + n2, x1 + x2
    if n1 <= 0 or n2 <= 0 or k in (0, total):
        return 1.0
    support = np.arange(max(0, k - n2), min(n1, k) + 1)
    pmf = stats.hypergeom.pmf(support, total, k, n1)
    observed = stats.hypergeom.pmf(x1, total, k, n1)
    p = float(pmf[pmf <= observed * (1.0 + FISHER_TIE_TOLERANCE)].sum())
    return min(p, 1.0)


def compare_2prop(x1: float, n1: float, x2: float, n2: float) -> tuple[str, float]:
    """Pick and run the two-sample test: Fisher when an expected cell is below 5, else z.

    Returns ``(test_name, p_value)`` with test_name ``"fisher exact"`` or ``"z-test (pooled)"``.
    """
    if min_expected_cell(x1, n1, x2, n2) < EXPECTED_CELL_MIN:
        return "fisher exact", fisher_2x2(int(x1), int(n1), int(x2), int(n2))
    return "z-test (pooled)", ztest_2prop(x1, n1, x2, n2)[1]


def chi2_homogeneity(successes: np.ndarray, trials: np.ndarray) -> tuple[float, float, int]:
    """Pearson chi-square test (no continuity correction) that k proportions are equal.

    Arms with zero trials are left out. Returns ``(statistic, p_value, dof)``; NaN statistic and
    p-value when fewer than two arms have trials or no arm has any success (or any failure).
    """
    x = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    keep = n > 0
    x, n = x[keep], n[keep]
    dof = int(len(n) - 1)
    if len(n) < 2:
        return math.nan, math.nan, max(dof, 0)
    observed = np.column_stack([x, n - x])
    col = observed.sum(axis=0)
    if np.any(col == 0):
        return math.nan, math.nan, dof
    expected = np.outer(n, col) / n.sum()
    statistic = float(((observed - expected) ** 2 / expected).sum())
    return statistic, float(special.chdtrc(dof, statistic)), dof


def holm(p_values: np.ndarray) -> np.ndarray:
    """Holm step-down adjusted p-values; NaN entries stay NaN and are not counted in ``m``."""
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    idx = np.flatnonzero(~np.isnan(p))
    m = len(idx)
    if m == 0:
        return out
    order = idx[np.argsort(p[idx], kind="stable")]
    scaled = np.minimum(1.0, (m - np.arange(m)) * p[order])
    out[order] = np.maximum.accumulate(scaled)
    return out


def cohens_h(p_control: float, p_variant: float) -> float:
    """Cohen's effect size for proportions, ``2 asin(sqrt p_variant) - 2 asin(sqrt p_control)``."""
    return 2.0 * math.asin(math.sqrt(p_variant)) - 2.0 * math.asin(math.sqrt(p_control))


def power_2prop(h: float, n_per_arm: float, alpha: float = 0.05) -> float:
    """Power of the two-sided two-sample test of effect size ``h`` with ``n_per_arm`` each."""
    z = float(-special.ndtri(alpha / 2.0))
    shift = abs(h) * math.sqrt(n_per_arm / 2.0)
    return float(special.ndtr(shift - z) + special.ndtr(-shift - z))


def sample_size_2prop(
    p_control: float, p_variant: float, alpha: float = 0.05, power: float = 0.8
) -> float:
    """Sends per variant (equal allocation) to detect ``p_control -> p_variant``.

    Two-sided test at level ``alpha``, normal approximation on Cohen's h (the equation of
    statsmodels ``NormalIndPower().solve_power(effect_size=h, alpha=alpha, power=power)``).
    Returns ``inf`` when the two rates are equal and NaN when a rate is outside [0, 1].

    Examples
    --------
    >>> round(sample_size_2prop(0.05, 0.07))
    2198
    """
    if not 0.0 < alpha < 1.0 or not alpha < power < 1.0:
        raise ValueError(f"need 0 < alpha < power < 1, got alpha={alpha!r}, power={power!r}")
    if not (0.0 <= p_control <= 1.0 and 0.0 <= p_variant <= 1.0):
        return math.nan
    h = cohens_h(p_control, p_variant)
    if h == 0.0:
        return math.inf
    z_a = float(-special.ndtri(alpha / 2.0))
    z_b = float(special.ndtri(power))
    upper = 2.0 * ((z_a + z_b) / h) ** 2  # one-tail formula: always enough
    return float(
        optimize.brentq(
            lambda n: power_2prop(h, n, alpha) - power, 1e-12, upper, xtol=1e-12, rtol=1e-15
        )
    )
