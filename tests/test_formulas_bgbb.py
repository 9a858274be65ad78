"""BG/BB formulas: Fader, Hardie & Shang (2010) donations numbers, lifetimes as an oracle, the
exact posterior against a simulated population, PMF and DERT identities."""

from __future__ import annotations

import os

import lifetimes
import mpmath
import numpy as np
import pandas as pd
import pytest
from lifetimes import BetaGeoBetaBinomFitter
from scipy import optimize
from scipy.special import betaln

from clvmodels.formulas import bgbb

PUBLISHED = (1.204, 0.750, 0.657, 2.783)  # FHS 2010 Table 2 (11,104 donors of 1995)


@pytest.fixture(scope="module")
def donations():
    """The 1995 cohort's recency/frequency matrix (6 opportunities, 1996-2001), as lifetimes ships it."""
    path = os.path.join(os.path.dirname(lifetimes.__file__), "datasets", "donations.csv")
    d = pd.read_csv(path)
    return tuple(d[c].to_numpy(float) for c in ("frequency", "recency", "periods", "weights"))


@pytest.fixture(scope="module")
def mle(donations):
    result = optimize.minimize(bgbb.neg_log_likelihood_and_grad, np.zeros(4), args=donations,
                               jac=True, method="BFGS", options={"gtol": 1e-8})
    assert np.max(np.abs(result.jac)) < 1e-3  # a flat optimum: 1e-3 in log-parameters
    return np.exp(result.x), -result.fun


def test_donations_fit(donations, mle):
    """FHS 2010 Table 2: alpha 1.204, beta 0.750, gamma 0.657, delta 2.783, LL -33,225.6."""
    params, ll = mle
    assert donations[3].sum() == 11_104
    np.testing.assert_allclose(params, PUBLISHED, atol=5e-4)
    assert ll == pytest.approx(-33_225.6, abs=0.05)


def test_donations_predictions(donations, mle):
    """FHS 2010 at the MLE: P(alive in 2002) for (x, t_x) = (0, 0), (2, 4), (6, 6) with n = 6 are
    0.11, 0.59, 0.93 (Figure 6 / text); expected donors with 0 and 6 repeat donations in 1996-2001
    3,454.9 and 1,253.1 (Table 3, eq. 7); the sum of conditional expectations over 2002-2006
    12,884.2 (eq. 13, text; actual 13,260); a new donor's E[X(10)] = 3.1798 (eq. 8)."""
    params, _ = mle
    x, t_x, n, w = donations
    np.testing.assert_allclose(bgbb.p_alive_at(*params, [0, 2, 6], [0, 4, 6], 6, 1),
                               [0.11, 0.59, 0.93], atol=0.005)
    counts = w.sum() * bgbb.purchase_probability_new(*params, 6, np.array([0, 6]))
    np.testing.assert_allclose(counts, [3454.9, 1253.1], atol=0.05)
    assert float(w @ bgbb.expected_transactions(*params, x, t_x, n, 5)) == pytest.approx(12_884.2, abs=0.05)
    assert float(bgbb.expected_transactions_new(*params, 10)) == pytest.approx(3.1798, abs=5e-5)


def lifetimes_model(params):
    model = BetaGeoBetaBinomFitter()
    model.params_ = pd.Series(dict(zip(bgbb.PARAM_NAMES, params)))
    return model


def test_against_lifetimes_at_random_parameters(donations):
    """lifetimes' BetaGeoBetaBinomFitter (its own sum of FHS 2010 eqs. 5, 11, 13) as an oracle.

    Predictions agree to 1e-8: lifetimes sums exponentiated terms and Gamma-function ratios and
    loses up to ~3e-10 relative; the survival sums here match mpmath to 1e-14 (sBG tests)."""
    rng = np.random.default_rng(3)
    x, t_x, n, w = donations
    for params in np.exp(rng.uniform(np.log(0.2), np.log(8.0), (6, 4))):
        model = lifetimes_model(params)
        ll = -BetaGeoBetaBinomFitter._negative_log_likelihood(np.log(params), x, t_x, n, w) * w.sum()
        value, _ = bgbb.neg_log_likelihood_and_grad(np.log(params), x, t_x, n, w)
        assert -value == pytest.approx(ll, rel=1e-10)
        np.testing.assert_allclose(bgbb.p_alive_at(*params, x, t_x, n, 3),
                                   model.conditional_probability_alive(3, x, t_x, n), rtol=1e-8)
        np.testing.assert_allclose(bgbb.expected_transactions(*params, x, t_x, n, 4),
                                   model.conditional_expected_number_of_purchases_up_to_time(4, x, t_x, n),
                                   rtol=1e-8)  # lifetimes' Gamma-function ratios lose ~3e-10; ours match mpmath to 1e-14


def test_gradient_matches_finite_differences(donations):
    rng = np.random.default_rng(5)
    for _ in range(4):
        point = rng.normal(0, 0.7, 4)
        _, grad = bgbb.neg_log_likelihood_and_grad(point, *donations)
        numeric = optimize.approx_fprime(point, lambda p: bgbb.neg_log_likelihood_and_grad(p, *donations)[0], 1e-7)
        np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-2)


def test_broadcasting_over_draws(donations):
    x, t_x, n, _ = donations
    draws = np.array([PUBLISHED, (1.0, 1.0, 1.0, 1.0), (3.0, 0.5, 0.3, 5.0)]).T[:, :, None]  # (4, 3, 1)
    out = bgbb.expected_transactions(*draws, x, t_x, n, 5)
    assert out.shape == (3, x.size)
    np.testing.assert_allclose(out[2], bgbb.expected_transactions(3.0, 0.5, 0.3, 5.0, x, t_x, n, 5), rtol=1e-14)
    assert bgbb.log_likelihood(*draws, x, t_x, n).shape == (3, x.size)


def test_conditional_pmf_sums_to_one_and_has_the_expected_mean(donations):
    x, t_x, n, _ = donations
    k = np.arange(0, 8)[:, None]
    pmf = bgbb.purchase_probability(*PUBLISHED, x, t_x, n, 7, k)
    np.testing.assert_allclose(pmf.sum(axis=0), 1.0, rtol=1e-12)
    np.testing.assert_allclose((k * pmf).sum(axis=0), bgbb.expected_transactions(*PUBLISHED, x, t_x, n, 7),
                               rtol=1e-11)


def test_new_customer_pmf_is_fhs_eq7():
    """FHS 2010 eq. 7 written out term by term for n = 4, k = 1."""
    a, b, g, d = PUBLISHED
    n, k = 4, 1
    eq7 = 4 * np.exp(betaln(a + 1, b + 3) - betaln(a, b) + betaln(g, d + 4) - betaln(g, d))
    eq7 += sum(i * np.exp(betaln(a + 1, b + i - 1) - betaln(a, b) + betaln(g + 1, d + i) - betaln(g, d))
               for i in range(1, 4))
    assert float(bgbb.purchase_probability_new(a, b, g, d, n, k)) == pytest.approx(eq7, rel=1e-12)


def test_dert_is_fhs_eq14():
    """DERT (FHS 2010 eq. 14) against its printed form with mpmath's 2F1, d = 10%."""
    a, b, g, dl = PUBLISHED
    d = 0.1
    for x, t_x, n in [(0, 0, 6), (2, 4, 6), (6, 6, 6), (3, 5, 11)]:
        lik = np.exp(bgbb.log_likelihood(a, b, g, dl, x, t_x, n))
        paper = (np.exp(betaln(a + x + 1, b + n - x) - betaln(a, b) + betaln(g, dl + n + 1) - betaln(g, dl))
                 / (1 + d) * float(mpmath.hyp2f1(1, dl + n + 1, g + dl + n + 1, 1 / (1 + d))) / lik)
        assert float(bgbb.dert(a, b, g, dl, x, t_x, n, d)) == pytest.approx(paper, rel=1e-10)


def simulate_population(rng, params, size, n):
    """Customers drawn from the BG/BB itself: histories after n opportunities and the truth."""
    a, b, g, d = params
    p, theta = rng.beta(a, b, size), rng.beta(g, d, size)
    alive = np.ones(size, bool)
    x, t_x = np.zeros(size), np.zeros(size)
    for t in range(1, n + 1):
        alive &= rng.random(size) >= theta
        buy = alive & (rng.random(size) < p)
        x += buy
        t_x = np.where(buy, t, t_x)
    return x, t_x, alive, p


def test_posterior_sampling_matches_a_simulated_population():
    """Among simulated customers with one history, the share alive and the mean p equal
    p_alive and the mean of sample_latents' draws (the posterior is exact, not approximate)."""
    params, n = (1.2, 0.8, 0.7, 2.5), 6
    rng = np.random.default_rng(2026)
    x, t_x, alive, p = simulate_population(rng, params, 400_000, n)
    for cell in [(0, 0), (2, 4), (3, 3), (5, 6)]:
        mask = (x == cell[0]) & (t_x == cell[1])
        size = int(mask.sum())
        prob = float(bgbb.p_alive(*params, *cell, n))
        assert abs(alive[mask].mean() - prob) < 4 * np.sqrt(prob * (1 - prob) / size) + 1e-9
        draws_alive, draws_p, _ = bgbb.sample_latents(rng, *params, np.full(50_000, cell[0]),
                                                      np.full(50_000, cell[1]), n)
        assert abs(draws_alive.mean() - prob) < 0.01
        assert abs(draws_p.mean() - p[mask].mean()) < 4 * p[mask].std() / np.sqrt(size) + 0.005


def test_simulated_future_matches_expectation_and_seed():
    params, n_star = PUBLISHED, 5
    rng = np.random.default_rng(8)
    x, t_x, n = np.full(100_000, 2.0), np.full(100_000, 4.0), 6
    alive, p, theta = bgbb.sample_latents(rng, *params, x, t_x, n)
    counts = bgbb.simulate_transactions(rng, alive, p, theta, n_star)
    assert counts.max() <= n_star
    expected = float(bgbb.expected_transactions(*params, 2, 4, 6, n_star))
    assert abs(counts.mean() - expected) < 4 * counts.std() / np.sqrt(counts.size)
    pmf = bgbb.purchase_probability(*params, 2, 4, 6, n_star, np.arange(n_star + 1))
    np.testing.assert_allclose(np.bincount(counts, minlength=n_star + 1) / counts.size, pmf, atol=0.005)
    one = bgbb.simulate_transactions(np.random.default_rng(1), alive[:50], p[:50], theta[:50], n_star)
    np.testing.assert_array_equal(one, bgbb.simulate_transactions(np.random.default_rng(1), alive[:50],
                                                                  p[:50], theta[:50], n_star))


def test_long_histories_stay_finite_and_exact():
    """1,000 opportunities: a transaction at the last one makes P(alive) exactly 1; a customer
    silent for 2,500 opportunities is almost surely gone; the likelihood matches mpmath's sum."""
    a, b, g, d = PUBLISHED
    assert float(bgbb.p_alive(a, b, g, d, 1000, 1000, 1000)) == 1.0
    gone = float(bgbb.p_alive(a, b, g, d, 10, 500, 3000))
    assert 0.0 <= gone < 1e-6
    mpmath.mp.dps = 30
    x, t_x, n = 10, 500, 3000
    B = mpmath.beta
    lik = B(a + x, b + n - x) / B(a, b) * B(g, d + n) / B(g, d) + mpmath.fsum(
        B(a + x, b + t_x - x + i) / B(a, b) * B(g + 1, d + t_x + i) / B(g, d) for i in range(n - t_x))
    assert float(bgbb.log_likelihood(a, b, g, d, x, t_x, n)) == pytest.approx(float(mpmath.log(lik)), rel=1e-12)
    assert gone == pytest.approx(float(B(a + x, b + n - x) / B(a, b) * B(g, d + n) / B(g, d) / lik), rel=1e-8)


def test_tabulated_likelihood_equals_the_row_by_row_sum(monkeypatch):
    """The likelihood's (distinct x) x opportunity table with suffix sums gives the value and
    gradient of the opportunity-by-opportunity loop (to 1e-12), for weekly-like histories (n up
    to 60) and a few long ones (n = 2,000)."""
    rng = np.random.default_rng(4)
    n = rng.integers(1, 61, 3000)
    t_x = np.minimum((rng.random(3000) * (n + 1)).astype(int), n)
    x = np.minimum(t_x, (rng.random(3000) * t_x).astype(int) + (t_x > 0))
    x, t_x, n = (np.r_[v, extra] for v, extra in zip((x, t_x, n), ([0, 40, 1500], [0, 1900, 2000], [2000] * 3)))
    rows = np.unique(np.c_[x, t_x, n], axis=0).astype(float)
    weights = rng.integers(1, 9, len(rows)).astype(float)
    for point in (np.zeros(4), np.log(PUBLISHED), np.log([5.0, 0.3, 0.1, 20.0])):
        table = bgbb.neg_log_likelihood_and_grad(point, *rows.T, weights)
        with monkeypatch.context() as patch:
            patch.setattr(bgbb, "_TABLE_MAX", 0)
            loop = bgbb.neg_log_likelihood_and_grad(point, *rows.T, weights)
        assert table[0] == pytest.approx(loop[0], rel=1e-12)
        np.testing.assert_allclose(table[1], loop[1], rtol=1e-10, atol=1e-8)
