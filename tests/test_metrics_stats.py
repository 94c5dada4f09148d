"""Statistics primitives against scipy / statsmodels reference implementations (to 1e-9)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special, stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import (
    proportion_confint,
    proportion_effectsize,
    proportions_ztest,
)

from instantly_nb.metrics import bayes, sequential
from instantly_nb.metrics import stats as st

TOL = 1e-9
COUNTS = [(0, 1), (0, 50), (1, 50), (7, 50), (50, 50), (3, 2000), (80, 2000), (1999, 2000),
          (412, 5000)]


@pytest.mark.parametrize("method", ["wilson", "agresti_coull", "jeffreys"])
@pytest.mark.parametrize("level", [0.8, 0.95, 0.99])
def test_proportion_ci_matches_statsmodels(method: str, level: float) -> None:
    x = np.array([c for c, _ in COUNTS])
    n = np.array([t for _, t in COUNTS])
    low, high = st.proportion_ci(x, n, level, method)
    ref_low, ref_high = proportion_confint(x, n, alpha=1 - level, method=method)
    np.testing.assert_allclose(low, ref_low, rtol=0, atol=TOL)
    np.testing.assert_allclose(high, ref_high, rtol=0, atol=TOL)


def test_proportion_ci_undefined_cases_are_nan() -> None:
    low, high = st.proportion_ci([0, 5, -1], [0, 4, 10])
    assert np.isnan(low).all() and np.isnan(high).all()


def test_proportion_ci_rejects_unknown_method_and_level() -> None:
    with pytest.raises(ValueError, match="method"):
        st.proportion_ci(1, 10, method="clopper")
    with pytest.raises(ValueError, match="level"):
        st.proportion_ci(1, 10, level=95)


@pytest.mark.parametrize(
    ("x1", "n1", "x2", "n2"),
    [(80, 2000, 160, 2000), (80, 2000, 82, 2000), (30, 500, 20, 700), (400, 1000, 350, 900)],
)
def test_ztest_matches_statsmodels(x1: int, n1: int, x2: int, n2: int) -> None:
    z, p = st.ztest_2prop(x1, n1, x2, n2)
    ref_z, ref_p = proportions_ztest([x2, x1], [n2, n1])
    assert z == pytest.approx(ref_z, abs=TOL)
    assert p == pytest.approx(ref_p, abs=TOL)


def test_ztest_degenerate_is_nan() -> None:
    assert all(math.isnan(v) for v in st.ztest_2prop(0, 100, 0, 100))
    assert all(math.isnan(v) for v in st.ztest_2prop(0, 0, 3, 100))


@pytest.mark.parametrize(
    ("x1", "n1", "x2", "n2"),
    [(1, 30, 3, 30), (0, 20, 5, 20), (2, 50, 2, 50), (10, 12, 1, 9), (3, 400, 11, 380),
     (0, 5, 0, 7), (5, 5, 0, 5), (1, 3, 2, 4)],
)
def test_fisher_matches_scipy(x1: int, n1: int, x2: int, n2: int) -> None:
    ref = stats.fisher_exact([[x1, n1 - x1], [x2, n2 - x2]]).pvalue
    assert st.fisher_2x2(x1, n1, x2, n2) == pytest.approx(ref, abs=TOL)


def test_compare_picks_fisher_only_for_small_expected_cells() -> None:
    # expected successes in the smaller arm: 30 * 4 / 60 = 2 < 5 -> Fisher
    assert st.compare_2prop(1, 30, 3, 30)[0] == "fisher exact"
    assert st.min_expected_cell(1, 30, 3, 30) == pytest.approx(2.0)
    name, p = st.compare_2prop(80, 2000, 160, 2000)
    assert name == "z-test (pooled)"
    assert p == pytest.approx(proportions_ztest([160, 80], [2000, 2000])[1], abs=TOL)


@pytest.mark.parametrize(
    "table",
    [[(80, 2000), (160, 2000), (82, 2000)], [(5, 100), (9, 120)], [(40, 300), (35, 310),
                                                                  (52, 290), (30, 305)]],
)
def test_chi2_matches_scipy(table: list[tuple[int, int]]) -> None:
    x = np.array([a for a, _ in table])
    n = np.array([b for _, b in table])
    stat, p, dof = st.chi2_homogeneity(x, n)
    ref = stats.chi2_contingency(np.column_stack([x, n - x]), correction=False)
    assert stat == pytest.approx(ref.statistic, abs=TOL)
    assert p == pytest.approx(ref.pvalue, abs=TOL)
    assert dof == ref.dof


def test_chi2_undefined_without_variation_or_arms() -> None:
    assert math.isnan(st.chi2_homogeneity(np.array([0, 0]), np.array([100, 100]))[1])
    assert math.isnan(st.chi2_homogeneity(np.array([3]), np.array([100]))[1])
    # an arm without sends is left out rather than breaking the test
    stat, p, dof = st.chi2_homogeneity(np.array([5, 0, 9]), np.array([100, 0, 120]))
    assert dof == 1 and not math.isnan(p)


@pytest.mark.parametrize(
    "pvals",
    [[0.01, 0.04, 0.03], [0.2, 0.001, 0.5, 0.04], [0.05], [0.3, 0.3, 0.01]],
)
def test_holm_matches_statsmodels(pvals: list[float]) -> None:
    ref = multipletests(pvals, method="holm")[1]
    np.testing.assert_allclose(st.holm(np.array(pvals)), ref, atol=TOL)


def test_holm_ignores_nan() -> None:
    out = st.holm(np.array([np.nan, 0.01, 0.04]))
    assert math.isnan(out[0])
    np.testing.assert_allclose(out[1:], multipletests([0.01, 0.04], method="holm")[1], atol=TOL)


@pytest.mark.parametrize(
    ("p1", "p2", "alpha", "power"),
    [(0.05, 0.07, 0.05, 0.8), (0.04, 0.08, 0.05, 0.8), (0.04, 0.041, 0.05, 0.9),
     (0.3, 0.25, 0.01, 0.8), (0.5, 0.6, 0.1, 0.95)],
)
def test_sample_size_matches_normal_ind_power(p1: float, p2: float, alpha: float,
                                              power: float) -> None:
    n = st.sample_size_2prop(p1, p2, alpha, power)
    h = proportion_effectsize(p2, p1)
    assert st.cohens_h(p1, p2) == pytest.approx(h, abs=TOL)
    # our n gives exactly the requested power under statsmodels' own power function
    assert NormalIndPower().power(h, n, alpha) == pytest.approx(power, abs=TOL)
    # and agrees with statsmodels' solver (which stops at its own root tolerance)
    ref = NormalIndPower().solve_power(effect_size=h, alpha=alpha, power=power)
    assert n == pytest.approx(ref, rel=1e-6)


def test_sample_size_edge_cases() -> None:
    assert math.isinf(st.sample_size_2prop(0.05, 0.05))
    assert math.isnan(st.sample_size_2prop(0.05, 1.2))
    with pytest.raises(ValueError, match="alpha"):
        st.sample_size_2prop(0.05, 0.06, alpha=0.5, power=0.4)


def _closed_form_prob_b_beats_a(a_a: float, b_a: float, a_b: int, b_b: float) -> float:
    """P(p_B > p_A) for Beta posteriors, exact sum for integer a_b (independent reference)."""
    i = np.arange(a_b)
    terms = (special.betaln(a_a + i, b_a + b_b) - np.log(b_b + i) - special.betaln(1 + i, b_b)
             - special.betaln(a_a, b_a))
    return float(np.exp(terms).sum())


@pytest.mark.parametrize(
    ("xa", "na", "xb", "nb"),
    [(40, 1000, 60, 1000), (80, 2000, 82, 2000), (1, 30, 3, 30), (0, 10, 0, 10),
     (10, 10, 0, 10), (80, 2000, 160, 2000)],
)
def test_prob_best_exact_against_closed_form(xa: int, na: int, xb: int, nb: int) -> None:
    p = bayes.prob_best(np.array([xa, xb]), np.array([na, nb]))
    ref = _closed_form_prob_b_beats_a(1 + xa, 1 + na - xa, 1 + xb, 1 + nb - xb)
    # stated tolerance of the numeric integration: 1e-8 absolute
    assert p[1] == pytest.approx(ref, abs=1e-8)
    assert p.sum() == pytest.approx(1.0, abs=1e-8)


def test_prob_best_three_arms_exact_vs_independent_monte_carlo() -> None:
    x, n = np.array([80, 100, 95]), np.array([2000, 2000, 2000])
    exact = bayes.prob_best(x, n)
    rng = np.random.default_rng(12345)
    draws = rng.beta(1 + x, 1 + n - x, size=(400_000, 3))
    mc = np.bincount(draws.argmax(axis=1), minlength=3) / draws.shape[0]
    # Monte Carlo standard error <= 0.5/sqrt(400000) = 0.0008; tolerance 0.005 (> 6 SE)
    np.testing.assert_allclose(exact, mc, atol=0.005)
    # the package's own seeded MC agrees too, and is reproducible
    own = bayes.prob_best(x, n, method="mc", seed=3)
    np.testing.assert_allclose(own, exact, atol=0.005)
    np.testing.assert_array_equal(own, bayes.prob_best(x, n, method="mc", seed=3))


def test_prob_best_input_checks() -> None:
    with pytest.raises(ValueError, match="successes <= trials"):
        bayes.prob_best(np.array([5]), np.array([3]))
    with pytest.raises(ValueError, match="method"):
        bayes.prob_best(np.array([1, 2]), np.array([10, 10]), method="grid")
    assert bayes.prob_best(np.array([3]), np.array([10])).tolist() == [1.0]


def test_msprt_formula() -> None:
    xc, nc, xv, nv, tau = 80, 2000, 120, 2000, 0.01
    pooled = (xc + xv) / (nc + nv)
    var = pooled * (1 - pooled) * (1 / nc + 1 / nv)
    theta = xv / nv - xc / nc
    lam = math.sqrt(var / (var + tau**2)) * math.exp(
        tau**2 * theta**2 / (2 * var * (var + tau**2)))
    assert float(sequential.msprt_pvalue(xc, nc, xv, nv, tau)) == pytest.approx(
        min(1.0, 1 / lam), abs=TOL)
    assert float(sequential.msprt_pvalue(0, 0, 3, 10)) == 1.0
    with pytest.raises(ValueError, match="tau"):
        sequential.msprt_pvalue(1, 10, 2, 10, tau=0)


def _simulate_looks(p_control: float, p_variant: float, sims: int, looks: int, batch: int,
                    seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    xc = rng.binomial(batch, p_control, size=(sims, looks)).cumsum(axis=1)
    xv = rng.binomial(batch, p_variant, size=(sims, looks)).cumsum(axis=1)
    n = np.broadcast_to(np.arange(1, looks + 1) * batch, (sims, looks))
    return xc, n, xv, n


def test_msprt_false_positive_rate_under_repeated_looks() -> None:
    alpha = 0.05
    xc, nc, xv, nv = _simulate_looks(0.05, 0.05, sims=1000, looks=30, batch=100, seed=7)
    path = sequential.msprt_pvalue_path(xc, nc, xv, nv, tau=0.01)
    msprt_fpr = float((path[:, -1] <= alpha).mean())
    assert msprt_fpr <= alpha
    # the same data looked at 30 times with a fixed-horizon z-test rejects far more often,
    # which is the reason the sequential test exists
    pooled = (xc + xv) / (nc + nv)
    z = (xv / nv - xc / nc) / np.sqrt(pooled * (1 - pooled) * (2 / nc))
    naive_fpr = float((2 * stats.norm.sf(np.abs(z)) <= alpha).any(axis=1).mean())
    assert naive_fpr > 2 * alpha


def test_msprt_detects_a_clear_effect() -> None:
    xc, nc, xv, nv = _simulate_looks(0.04, 0.08, sims=200, looks=30, batch=100, seed=11)
    path = sequential.msprt_pvalue_path(xc, nc, xv, nv, tau=0.01)
    assert float((path[:, -1] <= 0.05).mean()) >= 0.95
    assert np.all(np.diff(path, axis=1) <= 0)  # running minimum never goes back up
