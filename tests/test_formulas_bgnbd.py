"""BG/NBD formulas: published CDNOW numbers, agreement with lifetimes, gradient, broadcasting, PMF.

High-precision (mpmath) checks of extreme histories live in test_formulas_extremes.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from lifetimes import BetaGeoFitter
from lifetimes.datasets import load_cdnow_summary
from scipy import optimize

from clvmodels.formulas import bgnbd

PUBLISHED = (0.243, 4.414, 0.793, 2.426)  # Fader, Hardie & Lee (2005), CDNOW 1/10 sample


@pytest.fixture(scope="module")
def cdnow():
    """The CDNOW 1/10 sample (2,357 customers, weeks) as shipped with lifetimes."""
    data = load_cdnow_summary()
    return data["frequency"].to_numpy(), data["recency"].to_numpy(), data["T"].to_numpy()


def lifetimes_model(params) -> BetaGeoFitter:
    model = BetaGeoFitter()
    model.params_ = pd.Series(dict(zip(bgnbd.PARAM_NAMES, params)))
    return model


def random_params(rng, size):
    """Parameter sets spread over the plausible range (log-uniform)."""
    low, high = np.log([0.05, 0.5, 0.1, 0.2]), np.log([5.0, 50.0, 5.0, 20.0])
    return np.exp(rng.uniform(low, high, size=(size, 4)))


# --- published numbers --------------------------------------------------------------------------

def test_cdnow_log_likelihood_matches_published(cdnow):
    """FHL 2005, section 4: LL = -9582.4 at r=0.243, alpha=4.414, a=0.793, b=2.426 (tol 0.05)."""
    assert bgnbd.log_likelihood(*PUBLISHED, *cdnow).sum() == pytest.approx(-9582.4, abs=0.05)


def test_gradient_descent_lands_on_published_estimates(cdnow):
    """FHL 2005, section 4: the MLE on CDNOW is r=0.243, alpha=4.414, a=0.793, b=2.426 (3 decimals)."""
    x, t_x, T = cdnow
    result = optimize.minimize(bgnbd.neg_log_likelihood_and_grad, np.zeros(4), args=(x, t_x, T, None),
                               jac=True, method="L-BFGS-B", options={"gtol": 1e-8})
    assert result.success
    np.testing.assert_allclose(np.exp(result.x), PUBLISHED, atol=6e-4)
    assert -result.fun == pytest.approx(-9582.4, abs=0.05)


def test_published_conditional_expectation():
    """FHL 2005, section 5: the customer with x=2, t_x=30.43, T=38.86 expects 1.226 purchases in the
    next 39 weeks (3 decimals)."""
    assert bgnbd.expected_purchases(*PUBLISHED, 2, 30.43, 38.86, 39) == pytest.approx(1.226, abs=5e-4)


def test_published_pmf_values():
    """BTYD documentation (bgnbd.pmf): P(X(2)=10) = 1.07869e-07 and P(X(39)=0) = 0.5737864 at the
    CDNOW estimates (to the printed digits)."""
    assert bgnbd.purchase_probability_new(*PUBLISHED, 2.0, 10) == pytest.approx(1.07869e-07, rel=1e-5)
    assert bgnbd.purchase_probability_new(*PUBLISHED, 39.0, 0) == pytest.approx(0.5737864, abs=1e-7)


# --- agreement with lifetimes --------------------------------------------------------------------

def test_log_likelihood_matches_lifetimes(cdnow):
    x, t_x, T = cdnow
    for params in random_params(np.random.default_rng(1), 5):
        ours = bgnbd.log_likelihood(*params, x, t_x, T).sum()
        theirs = -BetaGeoFitter._negative_log_likelihood(np.log(params), x, t_x, T, np.ones(x.size), 0.0) * x.size
        assert ours == pytest.approx(theirs, rel=1e-12)


def test_predictions_match_lifetimes(cdnow):
    """At parameter sets with a + b > 1: below that lifetimes takes the log of a negative 2F1 for
    x = 0 and returns nan (those cases are checked against mpmath in test_formulas_extremes.py)."""
    x, t_x, T = cdnow
    draws = random_params(np.random.default_rng(2), 12)
    for params in draws[draws[:, 2] + draws[:, 3] > 1.0][:5]:
        theirs = lifetimes_model(params)
        np.testing.assert_allclose(bgnbd.p_alive(*params, x, t_x, T),
                                   theirs.conditional_probability_alive(x, t_x, T), rtol=1e-12)
        np.testing.assert_allclose(
            bgnbd.expected_purchases(*params, x, t_x, T, 39.0),
            theirs.conditional_expected_number_of_purchases_up_to_time(39.0, x, t_x, T), rtol=1e-9)
        horizons = np.array([1.0, 10.0, 52.0, 520.0])
        np.testing.assert_allclose(bgnbd.expected_purchases_new(*params, horizons),
                                   theirs.expected_number_of_purchases_up_to_time(horizons), rtol=1e-9)
        for n in (0, 1, 3, 7):
            assert bgnbd.purchase_probability_new(*params, 20.0, n) == pytest.approx(
                theirs.probability_of_n_purchases_up_to_time(20.0, n), rel=1e-9)


# --- the optimiser's objective --------------------------------------------------------------------

@pytest.mark.parametrize("shift", [None, 0.0, 0.25])
def test_objective_is_minus_weighted_sum_and_gradient_is_exact(cdnow, shift):
    """Whole frequencies (int, or float with shift 0.0) take the per-distinct-frequency path;
    non-whole values (shift 0.25, meaningless as data but a valid argument) the per-row path."""
    x, t_x, T = cdnow
    weights = np.random.default_rng(3).integers(1, 4, x.size).astype(float)
    if shift is not None:
        x = np.where(x > 0, x + shift, 0.0)
    for params in random_params(np.random.default_rng(4), 4):
        log_params = np.log(params)
        value, grad = bgnbd.neg_log_likelihood_and_grad(log_params, x, t_x, T, weights)
        assert value == pytest.approx(-(weights * bgnbd.log_likelihood(*params, x, t_x, T)).sum(), rel=1e-12)
        step = 1e-6
        numeric = [
            (bgnbd.neg_log_likelihood_and_grad(log_params + step * e, x, t_x, T, weights)[0]
             - bgnbd.neg_log_likelihood_and_grad(log_params - step * e, x, t_x, T, weights)[0]) / (2 * step)
            for e in np.eye(4)
        ]
        np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-4)


def test_weights_equal_repeated_rows(cdnow):
    x, t_x, T = (v[:300] for v in cdnow)
    counts = np.random.default_rng(5).integers(1, 5, x.size)
    log_params = np.log(PUBLISHED)
    weighted = bgnbd.neg_log_likelihood_and_grad(log_params, x, t_x, T, counts.astype(float))
    repeated = bgnbd.neg_log_likelihood_and_grad(log_params, np.repeat(x, counts), np.repeat(t_x, counts),
                                                 np.repeat(T, counts), None)
    assert weighted[0] == pytest.approx(repeated[0], rel=1e-12)
    np.testing.assert_allclose(weighted[1], repeated[1], rtol=1e-10)


# --- broadcasting ------------------------------------------------------------------------------

def test_draws_broadcast_against_customers(cdnow):
    x, t_x, T = (v[:50] for v in cdnow)
    draws = random_params(np.random.default_rng(6), 3)
    columns = [draws[:, [k]] for k in range(4)]  # four arrays of shape (S, 1)
    checks = {
        "log_likelihood": (bgnbd.log_likelihood, ()),
        "p_alive": (bgnbd.p_alive, ()),
        "p_alive_at": (bgnbd.p_alive_at, (26.0,)),
        "expected_purchases": (bgnbd.expected_purchases, (26.0,)),
        "purchase_probability": (bgnbd.purchase_probability, (26.0, 2)),
        "expected_discounted_purchases": (bgnbd.expected_discounted_purchases, (260.0, 0.002)),
    }
    for name, (function, extra) in checks.items():
        together = function(*columns, x, t_x, T, *extra)
        assert together.shape == (3, 50), name
        one_by_one = np.vstack([function(*draw, x, t_x, T, *extra) for draw in draws])
        np.testing.assert_allclose(together, one_by_one, rtol=1e-13, err_msg=name)
    assert np.ndim(bgnbd.expected_purchases(*PUBLISHED, 2, 30.43, 38.86, 39)) == 0


# --- internal consistency ------------------------------------------------------------------------

def test_discounted_with_zero_rate_equals_expected_purchases(cdnow):
    x, t_x, T = cdnow
    for horizon in (1.0, 39.0, 520.0):
        np.testing.assert_allclose(bgnbd.expected_discounted_purchases(*PUBLISHED, x, t_x, T, horizon, 0.0),
                                   bgnbd.expected_purchases(*PUBLISHED, x, t_x, T, horizon), rtol=1e-9)


def test_discounting_lowers_value_and_converges_for_an_infinite_horizon(cdnow):
    x, t_x, T = (v[:200] for v in cdnow)
    weekly = (1.1) ** (1 / 52) - 1
    undiscounted = bgnbd.expected_discounted_purchases(*PUBLISHED, x, t_x, T, 5200.0, 0.0)
    discounted = bgnbd.expected_discounted_purchases(*PUBLISHED, x, t_x, T, 5200.0, weekly)
    forever = bgnbd.expected_discounted_purchases(*PUBLISHED, x, t_x, T, np.inf, weekly)
    assert np.all(discounted < undiscounted)
    # beyond a century, 10 % a year discounts what is left to below (1.1)^-100 = 7e-5 of it
    np.testing.assert_allclose(forever, discounted, rtol=1e-4)
    assert np.all(forever >= discounted)


def test_pmf_sums_to_one_and_its_mean_is_the_expectation(cdnow):
    x, t_x, T = (v[:40] for v in cdnow)
    n = np.arange(400)[:, None]
    for t in (1.0, 39.0, 200.0):
        pmf = bgnbd.purchase_probability(*PUBLISHED, x, t_x, T, t, n)
        np.testing.assert_allclose(pmf.sum(axis=0), 1.0, atol=1e-12)
        np.testing.assert_allclose((n * pmf).sum(axis=0), bgnbd.expected_purchases(*PUBLISHED, x, t_x, T, t),
                                   rtol=1e-9)


def test_pmf_and_survival_match_simulation_from_the_posterior():
    """Independent check: draw (lambda, p) from the alive posterior, simulate purchases in (T, T+t]
    event by event, compare with the closed forms (tolerance 4 standard errors)."""
    rng = np.random.default_rng(7)
    r, alpha, a, b = 0.8, 6.0, 1.3, 3.0
    x, t_x, T, t, size = 4, 20.0, 30.0, 25.0, 200_000
    alive = rng.random(size) < bgnbd.p_alive(r, alpha, a, b, x, t_x, T)
    lam = rng.gamma(r + x, 1.0 / (alpha + T), size)
    p = rng.beta(a, b + x, size)
    count = np.zeros(size, dtype=int)
    clock = np.zeros(size)
    active = alive.copy()
    while active.any():
        clock[active] += rng.exponential(1.0 / lam[active])
        buys = active & (clock <= t)
        count[buys] += 1
        active = buys & (rng.random(size) >= p)  # drops out after this purchase with probability p
    survived = alive & (rng.exponential(1.0, size) > lam * p * t)  # exp(-lambda p t) given alive
    for n in range(5):
        expected = bgnbd.purchase_probability(r, alpha, a, b, x, t_x, T, t, n)
        assert abs((count == n).mean() - expected) < 4 * np.sqrt(expected * (1 - expected) / size)
    expected = bgnbd.p_alive_at(r, alpha, a, b, x, t_x, T, t)
    assert abs(survived.mean() - expected) < 4 * np.sqrt(expected * (1 - expected) / size)


def test_p_alive_at_starts_at_p_alive_and_falls(cdnow):
    x, t_x, T = cdnow
    now = bgnbd.p_alive(*PUBLISHED, x, t_x, T)
    np.testing.assert_allclose(bgnbd.p_alive_at(*PUBLISHED, x, t_x, T, 0.0), now, rtol=1e-14)
    later = [bgnbd.p_alive_at(*PUBLISHED, x, t_x, T, t) for t in (1.0, 10.0, 100.0, 1000.0)]
    assert np.all(np.diff(np.vstack([now, *later]), axis=0) <= 0)
    assert np.all(later[-1] < now)


# --- properties -------------------------------------------------------------------------------

positive = st.floats(0.05, 20.0)
histories = st.tuples(st.integers(0, 3000), st.floats(0.0, 1.0), st.floats(0.1, 3650.0))


@settings(max_examples=60, deadline=None)
@given(params=st.tuples(positive, st.floats(0.1, 500.0), positive, positive), history=histories,
       t=st.floats(0.01, 5000.0), ratio=st.floats(1.001, 10.0))
def test_properties(params, history, t, ratio):
    """0 <= P(alive) <= 1; expected purchases >= 0 and non-decreasing in t; the PMF sums to one.

    Non-decreasing is checked up to 1e-9 relative: the closed form and its numerical fallback agree
    to about 1e-10, so two horizons on either side of the switch can differ by that much. The PMF
    is summed over n < M = 50,000; the mass it leaves out is at most ``(E[N] - sum_{n<M} n P(n)) / M``
    (Markov's argument on the tail: E[N] >= sum_{n<M} n P(n) + M P(N >= M)), which can exceed 1e-8
    for a heavy buyer with a small dropout probability (x = 114, T = 0.1, a = 1 leaves 1.0e-8
    beyond 50,000 purchases), so the sum is checked against that bound rather than against 1."""
    frequency, fraction, T = history
    t_x = 0.0 if frequency == 0 else fraction * T
    alive = bgnbd.p_alive(*params, frequency, t_x, T)
    assert 0.0 <= alive <= 1.0
    later_alive = bgnbd.p_alive_at(*params, frequency, t_x, T, t)
    assert 0.0 <= later_alive <= alive * (1 + 1e-12)
    near = bgnbd.expected_purchases(*params, frequency, t_x, T, t)
    far = bgnbd.expected_purchases(*params, frequency, t_x, T, t * ratio)
    assert np.isfinite(near) and near >= 0.0
    assert far >= near * (1 - 1e-9)
    window = min(t, 200.0)
    # the sum runs over n < 50,000; heavy tails (small a) need it to be far beyond the mean
    assume(bgnbd.expected_purchases(*params, frequency, t_x, T, window) < 100.0)
    n = np.arange(50_000)
    pmf = bgnbd.purchase_probability(*params, frequency, t_x, T, window, n)
    assert np.all(pmf >= 0.0)
    mean = bgnbd.expected_purchases(*params, frequency, t_x, T, window)
    tail_bound = max(mean - float(n @ pmf), 0.0) / n.size
    assert 1.0 - 1e-8 - tail_bound <= pmf.sum() <= 1.0 + 1e-8
