"""Pareto/NBD formulas: published CDNOW numbers, lifetimes as an oracle, mpmath at the extremes,
gradients, the conditional PMF and exact individual-level sampling."""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize

from clvmodels.datasets import load_cdnow_summary
from clvmodels.formulas import paretonbd as pn
from clvmodels.formulas.individual_paretonbd import (
    sample_death_time,
    sample_paretonbd_latents,
    simulate_paretonbd_purchases,
)

PUBLISHED = (0.5534, 10.580, 0.6061, 11.656)  # BTYD vignette, cdnowSummary
X = np.array([0, 0, 1, 2, 5, 26, 30, 3, 1])
T_X = np.array([0.0, 0.0, 5.0, 30.43, 20.0, 30.85714, 38.5, 2.0, 0.5])
T = np.array([39.0, 2.0, 39.0, 38.86, 39.0, 31.0, 39.0, 52.0, 104.0])


@pytest.fixture(scope="module")
def cdnow():
    s = load_cdnow_summary(holdout=False)
    return s["frequency"].to_numpy(), s["recency"].to_numpy(), s["T"].to_numpy()


@pytest.fixture(scope="module")
def mle(cdnow):
    x, t_x, T_ = cdnow
    res = minimize(pn.neg_log_likelihood_and_grad, pn.start_point(x, t_x, T_, None),
                   args=(x, t_x, T_, None), jac=True, method="L-BFGS-B",
                   options={"gtol": 1e-9, "ftol": 1e-15})
    return res


def _lifetimes(params):
    from lifetimes import ParetoNBDFitter

    fitter = ParetoNBDFitter()
    fitter.params_ = pd.Series(dict(zip(pn.PARAM_NAMES, params)))
    return fitter


def test_cdnow_mle_reproduces_btyd(mle):
    """BTYD vignette ("Buy 'Til You Die - A Walkthrough", Dziurzynski, Wadsworth & McCarthy),
    Pareto/NBD on cdnowSummary (2,357 customers, 39 weeks): r = 0.5534, alpha = 10.580,
    s = 0.6061, beta = 11.656, LL = -9594.976, and a new customer's E[X(52)] = 1.473434.

    Our optimum has a gradient below 1e-6 and matches LL to 1e-3; the parameters agree to 0.2%
    (the likelihood is flat along beta: BTYD's Nelder-Mead stops 0.1% short in beta with the same
    LL to 3 decimals). E[X(52)] at our optimum agrees to 1e-6 relative.
    """
    assert mle.success and np.max(np.abs(mle.jac)) < 1e-5
    assert abs(-mle.fun - (-9594.976)) < 1e-3
    np.testing.assert_allclose(np.exp(mle.x), PUBLISHED, rtol=2e-3)
    np.testing.assert_allclose(pn.expected_purchases_new(*np.exp(mle.x), 52.0), 1.473434, rtol=1e-6)


def test_btyd_vignette_predictions_at_the_published_parameters():
    """BTYD vignette at r = 0.5534, alpha = 10.580, s = 0.6061, beta = 11.656: customer 1516
    (x = 26, t_x = 30.85714, T = 31) has E[Y(52)] = 25.45647 and P(alive) = 0.997874; a customer
    with x = 0, T = 39 has P(alive) = 0.2941633.

    The vignette computed them at its unrounded estimate; rounding the parameters to the printed
    4-5 digits moves these numbers by up to 1.1e-4 relative, hence rtol 3e-4 (the formulas
    themselves agree with lifetimes to 1e-9, test below).
    """
    np.testing.assert_allclose(pn.expected_purchases(*PUBLISHED, 26, 30.85714, 31.0, 52.0), 25.45647,
                               rtol=3e-4)
    np.testing.assert_allclose(pn.p_alive(*PUBLISHED, 26, 30.85714, 31.0), 0.997874, rtol=3e-6)
    np.testing.assert_allclose(pn.p_alive(*PUBLISHED, 0, 0.0, 39.0), 0.2941633, rtol=3e-4)


@pytest.mark.parametrize("branch", ["alpha>=beta", "alpha<beta"])
def test_lifetimes_oracle_at_random_parameters(branch):
    """lifetimes 0.11.3 ParetoNBDFitter (Fader & Hardie note 009 eqs. 18, 27, 37, 41; note 028
    eq. 16) at random parameters on both 2F1 branches: agreement to 1e-8 relative."""
    rng = np.random.default_rng(0 if branch == "alpha>=beta" else 1)
    for _ in range(5):
        r, s = rng.uniform(0.2, 3.0, 2)
        small, big = np.sort(rng.uniform(1.0, 30.0, 2))
        alpha, beta = (big, small) if branch == "alpha>=beta" else (small, big)
        params = (r, alpha, s, beta)
        ref = _lifetimes(params)
        np.testing.assert_allclose(pn.log_likelihood(*params, X, T_X, T),
                                   ref._conditional_log_likelihood(params, X, T_X, T), rtol=1e-10)
        np.testing.assert_allclose(pn.p_alive(*params, X, T_X, T),
                                   ref.conditional_probability_alive(X, T_X, T), rtol=1e-9)
        np.testing.assert_allclose(pn.expected_purchases(*params, X, T_X, T, 39.0),
                                   ref.conditional_expected_number_of_purchases_up_to_time(39.0, X, T_X, T),
                                   rtol=1e-9)
        t = np.array([1.0, 39.0, 520.0])
        np.testing.assert_allclose(pn.expected_purchases_new(*params, t),
                                   ref.expected_number_of_purchases_up_to_time(t), rtol=1e-9)
        for n in range(4):
            got = pn.purchase_probability(*params, X, T_X, T, 39.0, n)
            want = [ref.conditional_probability_of_n_purchases_up_to_time(n, 39.0, *h)
                    for h in zip(X, T_X, T)]
            np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-14)


def _log_odds_mpmath(r, alpha, s, beta, x, t_x, T):
    """ln[s/(beta+T) int_{t_x}^T ((alpha+T)/(alpha+tau))^(r+x) ((beta+T)/(beta+tau))^(s+1) dtau]:
    the death-time integral of note 009 eq. 11, by mpmath at 40 digits."""
    mp.mp.dps = 40
    r, alpha, s, beta, x, t_x, T = map(mp.mpf, (r, alpha, s, beta, x, t_x, T))

    def f(tau):
        return mp.exp(-(r + x) * mp.log((alpha + tau) / (alpha + T)) - (s + 1) * mp.log((beta + tau) / (beta + T)))

    points = [t_x] + [t_x + (T - t_x) * k for k in (1e-6, 1e-4, 1e-2, 0.1, 0.5)] + [T]
    return float(mp.log(s * mp.quad(f, points) / (beta + T)))


@pytest.mark.parametrize("case", [
    (0.5534, 10.58, 0.6061, 11.656, 10_000, 3000.0, 3650.0),
    (0.5534, 10.58, 0.6061, 11.656, 10_000, 3649.9, 3650.0),
    (0.9, 0.9, 10.1, 385.2, 10_000, 0.0, 3650.0),           # alpha < beta, dead long ago
    (21.9, 0.48, 59.3, 0.35, 10_000, 3.65, 3650.0),          # alpha > beta
    (0.076, 0.25, 0.29, 7.0, 0, 0.0, 3650.0),
    (160.0, 3.86, 0.62, 0.053, 3000, 0.365, 365.0),
    (2.0, 50.0, 0.05, 500.0, 1, 1.0, 3650.0),
    (0.05, 0.05, 0.05, 500.0, 0, 0.0, 3650.0),               # the two powers bend 1e4 apart
])
def test_extremes_against_mpmath(case):
    """x up to 10,000 and T = ten years of days: the log-odds of death (hence the likelihood and
    P(alive)) agree with a 40-digit mpmath quadrature to 1e-10 relative, and stay finite."""
    got = float(pn._log_odds_death(*case))
    want = _log_odds_mpmath(*case)
    assert abs(got - want) <= 1e-10 * max(1.0, abs(want))
    assert np.isfinite(pn.log_likelihood(*case))
    assert 0.0 <= pn.p_alive(*case) <= 1.0


@pytest.mark.parametrize("params", [(0.55, 10.6, 0.61, 11.7), (2.0, 3.0, 1.5, 40.0), (0.3, 50.0, 4.0, 2.0)])
def test_gradient_matches_finite_differences(params, cdnow):
    x, t_x, T_ = (v[::7] for v in cdnow)
    weights = np.random.default_rng(2).integers(1, 5, x.size).astype(float)
    point = np.log(params)
    value, grad = pn.neg_log_likelihood_and_grad(point, x, t_x, T_, weights)
    np.testing.assert_allclose(value, -np.sum(weights * pn.log_likelihood(*params, x, t_x, T_)), rtol=1e-12)
    step = 1e-6
    numeric = [(pn.neg_log_likelihood_and_grad(point + step * e, x, t_x, T_, weights)[0]
                - pn.neg_log_likelihood_and_grad(point - step * e, x, t_x, T_, weights)[0]) / (2 * step)
               for e in np.eye(4)]
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-5)


def test_counts_equal_repeated_rows():
    counts = np.array([3, 1, 2, 1, 4, 1, 1, 2, 5])
    point = np.log(PUBLISHED)
    with_counts = pn.neg_log_likelihood_and_grad(point, X, T_X, T, counts.astype(float))
    plain = pn.neg_log_likelihood_and_grad(point, *(np.repeat(v, counts) for v in (X, T_X, T)), None)
    np.testing.assert_allclose(with_counts[0], plain[0], rtol=1e-12)
    np.testing.assert_allclose(with_counts[1], plain[1], rtol=1e-10)


def test_broadcasting_over_draws():
    draws = [np.full((3, 1), v) * np.array([[1.0], [1.1], [0.9]]) for v in PUBLISHED]
    alive = pn.p_alive(*draws, X, T_X, T)
    assert alive.shape == (3, X.size)
    np.testing.assert_allclose(alive[1], pn.p_alive(*(d[1, 0] for d in draws), X, T_X, T), rtol=1e-14)


def test_survival_and_expectations_are_monotone():
    horizons = np.array([0.0, 0.5, 5.0, 52.0, 520.0, 5200.0])[:, None]
    survival = pn.survival_if_alive(*PUBLISHED, X, T, horizons)
    expected = pn.expected_purchases(*PUBLISHED, X, T_X, T, horizons)
    np.testing.assert_allclose(survival[0], 1.0)
    np.testing.assert_allclose(expected[0], 0.0)
    assert np.all(np.diff(survival, axis=0) <= 0) and np.all(np.diff(expected, axis=0) >= 0)
    # s = 1 exactly: the bracket becomes ln(1 + t/(beta+T))
    np.testing.assert_allclose(pn.expected_purchases_if_alive(0.5, 10.0, 1.0, 12.0, 2, 39.0, 52.0),
                               2.5 / 49.0 * 51.0 * np.log1p(52.0 / 51.0), rtol=1e-14)


def test_discounting():
    """Zero discount equals the undiscounted expectation; the discounted alive time agrees with
    mpmath; a long horizon reaches DERT (Fader, Hardie & Lee 2005, JMR 42(4), eq. 2)."""
    np.testing.assert_allclose(pn.expected_discounted_purchases(*PUBLISHED, X, T_X, T, 52.0, 0.0),
                               pn.expected_purchases(*PUBLISHED, X, T_X, T, 52.0), rtol=1e-14)
    d = 0.15 / 52  # 15% a year, weekly, as in FHL 2005 JMR
    delta = np.log1p(d)
    mp.mp.dps = 30
    for s, B, H in [(0.6061, 50.656, 52.0), (0.6061, 11.656, 1e4), (4.0, 2.0, 300.0)]:
        want = float(mp.quad(lambda u: (1 + u / B) ** (-s) * mp.exp(-delta * u), [0, 1, 10, 100, H]))
        got = pn.discounted_alive_time_if_alive(1.0, 1.0, s, B, 0.0, 0.0, H, d)
        assert abs(got / want - 1) < 1e-9
    finite = pn.expected_discounted_purchases(*PUBLISHED, X, T_X, T, 1e6, d)
    infinite = pn.expected_discounted_purchases(*PUBLISHED, X, T_X, T, np.inf, d)
    np.testing.assert_allclose(finite, infinite, rtol=1e-12)
    np.testing.assert_allclose(infinite, pn.dert(*PUBLISHED, X, T_X, T, delta), rtol=1e-8)


def test_conditional_pmf_sums_to_one_with_the_expected_mean():
    n = np.arange(0, 400)[:, None]
    pmf = pn.purchase_probability(*PUBLISHED, X, T_X, T, 39.0, n)
    np.testing.assert_allclose(pmf.sum(axis=0), 1.0, atol=1e-9)
    np.testing.assert_allclose((n * pmf).sum(axis=0), pn.expected_purchases(*PUBLISHED, X, T_X, T, 39.0),
                               rtol=1e-7)
    np.testing.assert_allclose(pn.prob_no_purchase(*PUBLISHED, X, T_X, T, 39.0), pmf[0], rtol=1e-10)
    np.testing.assert_allclose(pn.purchase_probability_new(*PUBLISHED, 39.0, n[:5, 0]),
                               pn.purchase_probability(*PUBLISHED, 0, 0.0, 0.0, 39.0, n[:5, 0]))


@pytest.mark.parametrize("x, t_x, T_, t", [(10_000, 3650.0, 3650.0, 365.0), (10_000, 3650.0, 3650.0, 3650.0),
                                        (10_000, 1000.0, 3650.0, 3650.0), (0, 0.0, 3650.0, 3650.0)])
def test_conditional_pmf_at_the_extremes(x, t_x, T_, t):
    """A customer with 10,000 purchases in ten years of days, over one and ten more years: the PMF
    sums to 1 and has the closed-form mean to 1e-9, and its n = 0 term equals prob_no_purchase
    (an independent route: the death-time integral of the likelihood) to 1e-12 absolute."""
    n = np.arange(0, 60_000)
    pmf = pn.purchase_probability(*PUBLISHED, x, t_x, T_, t, n)
    assert np.all(pmf >= 0)
    np.testing.assert_allclose(pmf.sum(), 1.0, atol=1e-9)
    np.testing.assert_allclose((n * pmf).sum(), pn.expected_purchases(*PUBLISHED, x, t_x, T_, t), rtol=1e-9)
    np.testing.assert_allclose(pmf[0], pn.prob_no_purchase(*PUBLISHED, x, t_x, T_, t), rtol=0, atol=1e-12)


def test_death_time_sampler_matches_its_density():
    """The sampled death time's CDF against the quadrature CDF J(w)/J(delta) of the density
    (1 + w/A)^-k1 (1 + w/B)^-k2, within 4 binomial standard errors, for a heavy and a light buyer."""
    rng = np.random.default_rng(3)
    n = 40_000
    for k1, A, k2, B, delta in [(30.5, 40.0, 1.6, 42.0, 8.0), (0.55, 10.6, 1.6, 11.7, 39.0)]:
        full = np.full(n, 1.0)
        w = sample_death_time(rng, k1 * full, A * full, k2 * full, B * full, delta * full)
        assert np.all((w >= 0) & (w <= delta))
        total = pn._power_integral(k1, A, k2, B, delta)
        for w0 in delta * np.array([0.05, 0.2, 0.5, 0.8]):
            p = pn._power_integral(k1, A, k2, B, w0) / total
            assert abs(np.mean(w <= w0) - p) < 4 * np.sqrt(p * (1 - p) / n)


def test_simulation_from_the_individual_posterior_matches_the_expectations():
    """Latents from each customer's exact posterior, futures simulated: the share alive and the
    mean purchase count agree with P(alive) and E[Y(39)] within 4 standard errors; same seed,
    same numbers."""
    n_sims = 40_000
    params = [np.full((n_sims, 1), v) for v in PUBLISHED]
    rng = np.random.default_rng(7)
    alive, lam, mu = sample_paretonbd_latents(rng, *params, X, T_X, T)
    counts = simulate_paretonbd_purchases(rng, alive, lam, mu, 39.0)
    p = pn.p_alive(*PUBLISHED, X, T_X, T)
    assert np.all(np.abs(alive.mean(axis=0) - p) < 4 * np.sqrt(p * (1 - p) / n_sims) + 1e-9)
    expected = pn.expected_purchases(*PUBLISHED, X, T_X, T, 39.0)
    se = counts.std(axis=0) / np.sqrt(n_sims)
    assert np.all(np.abs(counts.mean(axis=0) - expected) < 4 * se + 1e-9)
    # the dead branch too: E[lambda | history] = (r+x) [P(alive)/(alpha+T) + P(dead) E[1/(alpha+tau)]]
    # with tau from the death-time density, E[1/(alpha+tau)] = J(k1+1)/(J(k1) (alpha+t_x))
    r, alpha, s, beta = PUBLISHED
    A, B, gap = alpha + T_X, beta + T_X, T - T_X
    with np.errstate(invalid="ignore"):
        inv_tau = np.nan_to_num(pn._power_integral(r + X + 1, A, s + 1, B, gap)
                                / (pn._power_integral(r + X, A, s + 1, B, gap) * A))
    mean_lam = (r + X) * (p / (alpha + T) + (1 - p) * inv_tau)
    assert np.all(np.abs(lam.mean(axis=0) - mean_lam) < 4 * lam.std(axis=0) / np.sqrt(n_sims))
    # and the death rate: E[mu | history] = P(alive) s/(beta+T) + P(dead) (s+1) E[1/(beta+tau)]
    with np.errstate(invalid="ignore"):
        inv_tau_b = np.nan_to_num(pn._power_integral(r + X, A, s + 2, B, gap)
                                  / (pn._power_integral(r + X, A, s + 1, B, gap) * B))
    mean_mu = p * s / (beta + T) + (1 - p) * (s + 1) * inv_tau_b
    assert np.all(np.abs(mu.mean(axis=0) - mean_mu) < 4 * mu.std(axis=0) / np.sqrt(n_sims))
    assert np.all(lam > 0) and np.all(mu > 0)
    again = sample_paretonbd_latents(np.random.default_rng(7), *params, X, T_X, T)
    np.testing.assert_array_equal(again[1], lam)


def test_family_adapter_maps_onto_the_formulas():
    """clvmodels.families.paretonbd only renames: its predictions are the formulas' own."""
    from clvmodels.families.paretonbd import PARETONBD

    params = dict(zip(pn.PARAM_NAMES, PUBLISHED))
    np.testing.assert_array_equal(PARETONBD.p_alive(params, X, T_X, T), pn.p_alive(*PUBLISHED, X, T_X, T))
    np.testing.assert_array_equal(PARETONBD.expected_purchases(params, X, T_X, T, 52.0),
                                  pn.expected_purchases(*PUBLISHED, X, T_X, T, 52.0))
    assert PARETONBD.param_names == tuple(PARETONBD.example_params) == pn.PARAM_NAMES
