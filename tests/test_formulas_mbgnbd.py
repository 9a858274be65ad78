"""MBG/NBD formulas: the CDNOW fit of lifetimes and BTYDplus, lifetimes as an oracle, mpmath at
the extremes, gradients, the conditional PMF and exact individual-level sampling."""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize

from clvmodels.datasets import load_cdnow_summary
from clvmodels.formulas import mbgnbd as mb
from clvmodels.formulas.individual import simulate_purchase_counts
from clvmodels.formulas.individual_mbgnbd import sample_mbgnbd_latents

PUBLISHED = (0.525, 6.183, 0.891, 1.614)  # CDNOW sample, lifetimes ModifiedBetaGeoFitter / BTYDplus
X = np.array([0, 0, 1, 2, 5, 26, 30, 3, 1])
T_X = np.array([0.0, 0.0, 5.0, 30.43, 20.0, 30.85714, 38.5, 2.0, 0.5])
T = np.array([39.0, 2.0, 39.0, 38.86, 39.0, 31.0, 39.0, 52.0, 104.0])


@pytest.fixture(scope="module")
def cdnow():
    s = load_cdnow_summary(holdout=False)
    return s["frequency"].to_numpy(), s["recency"].to_numpy(), s["T"].to_numpy()


def _lifetimes(params):
    from lifetimes import ModifiedBetaGeoFitter

    fitter = ModifiedBetaGeoFitter()
    fitter.params_ = pd.Series(dict(zip(mb.PARAM_NAMES, params)))
    return fitter


def test_cdnow_mle_reproduces_lifetimes_and_btydplus(cdnow):
    """MBG/NBD on the CDNOW 1/10 sample, 39-week calibration: r = 0.525, alpha = 6.183,
    a = 0.891, b = 1.614 (lifetimes' ModifiedBetaGeoFitter and BTYDplus' mbgnbd.EstimateParameters
    agree; issue 15 reference numbers). Our optimum (gradient < 1e-5) agrees to the printed digits,
    and its log-likelihood equals lifetimes' objective there to 1e-10 relative."""
    x, t_x, T_ = cdnow
    res = minimize(mb.neg_log_likelihood_and_grad, mb.start_point(x, t_x, T_, None),
                   args=(x, t_x, T_, None), jac=True, method="L-BFGS-B",
                   options={"gtol": 1e-9, "ftol": 1e-15})
    assert res.success and np.max(np.abs(res.jac)) < 1e-5
    np.testing.assert_allclose(np.exp(res.x), PUBLISHED, rtol=1e-3)
    lifetimes_nll = _lifetimes(PUBLISHED)._negative_log_likelihood(res.x, x, t_x, T_, np.ones(x.size), 0.0)
    np.testing.assert_allclose(res.fun, lifetimes_nll * x.size, rtol=1e-10)


def test_lifetimes_oracle_at_random_parameters():
    """lifetimes 0.11.3 ModifiedBetaGeoFitter (BDF 2007; Wagner & Hoppe 2008) at random
    parameters: P(alive), conditional and unconditional expectations, P(X(t) = n) and the
    likelihood, to 1e-9 relative."""
    rng = np.random.default_rng(0)
    for _ in range(8):
        params = (rng.uniform(0.2, 3), rng.uniform(1, 30), rng.uniform(1.2, 5), rng.uniform(0.3, 8))
        ref = _lifetimes(params)
        np.testing.assert_allclose(mb.p_alive(*params, X, T_X, T), ref.conditional_probability_alive(X, T_X, T),
                                   rtol=1e-12)
        np.testing.assert_allclose(mb.expected_purchases(*params, X, T_X, T, 39.0),
                                   ref.conditional_expected_number_of_purchases_up_to_time(39.0, X, T_X, T),
                                   rtol=1e-9)
        t = np.array([1.0, 39.0, 520.0])
        np.testing.assert_allclose(mb.expected_purchases_new(*params, t),
                                   ref.expected_number_of_purchases_up_to_time(t), rtol=1e-9)
        for n in range(6):
            np.testing.assert_allclose(mb.purchase_probability_new(*params, 39.0, n),
                                       ref.probability_of_n_purchases_up_to_time(39.0, n), rtol=1e-9)
        one = np.ones(X.size)
        np.testing.assert_allclose(-mb.log_likelihood(*params, X, T_X, T).sum(),
                                   ref._negative_log_likelihood(np.log(params), X, T_X, T, one, 0.0) * X.size,
                                   rtol=1e-12)


def test_one_time_buyers_can_be_dead():
    """BDF 2007: dropout is possible right after the first purchase, so P(alive | x = 0) =
    1 / (1 + a/b ((alpha+T)/alpha)^r) < 1 (by hand at the CDNOW fit), and a new customer is alive
    with probability b/(a+b)."""
    r, alpha, a, b = PUBLISHED
    by_hand = 1.0 / (1.0 + a / b * ((alpha + 39.0) / alpha) ** r)
    np.testing.assert_allclose(mb.p_alive(*PUBLISHED, 0, 0.0, 39.0), by_hand, rtol=1e-14)
    assert by_hand < 1.0
    np.testing.assert_allclose(mb.p_alive(*PUBLISHED, 0, 0.0, 0.0), b / (a + b), rtol=1e-14)


@pytest.mark.parametrize("case", [(0.525, 6.183, 0.891, 1.614, 10_000, 3000.0, 3650.0),
                                  (0.525, 6.183, 0.891, 1.614, 10_000, 3649.99, 3650.0),
                                  (3.0, 0.5, 2.5, 0.2, 5_000, 3650.0, 3650.0)])
def test_extremes_against_mpmath(case):
    """x up to 10,000 over ten years of days: P(alive), the likelihood and E[Y(365)] against
    mpmath at 50 digits (BDF 2007 eqs. 3, 5 and 8 evaluated directly), to 1e-9 relative."""
    mp.mp.dps = 50
    r, alpha, a, b, x, t_x, T_ = map(mp.mpf, case)
    odds = a / (b + x) * ((alpha + T_) / (alpha + t_x)) ** (r + x)
    alive = 1 / (1 + odds)
    ll = (mp.loggamma(r + x) - mp.loggamma(r) + r * mp.log(alpha) + mp.log(mp.beta(a, b + x + 1) / mp.beta(a, b))
          - (r + x) * mp.log(alpha + T_) + mp.log(1 + odds))
    t = mp.mpf(365)
    if_alive = (a + b + x) / (a - 1) * (1 - ((alpha + T_) / (alpha + T_ + t)) ** (r + x)
                                        * mp.hyp2f1(r + x, b + x + 1, a + b + x, t / (alpha + T_ + t)))
    np.testing.assert_allclose(mb.p_alive(*case), float(alive), rtol=1e-9, atol=1e-300)
    np.testing.assert_allclose(mb.log_likelihood(*case), float(ll), rtol=1e-12)
    np.testing.assert_allclose(mb.expected_purchases(*case, 365.0), float(alive * if_alive), rtol=1e-9)


@pytest.mark.parametrize("params", [PUBLISHED, (2.0, 3.0, 1.5, 40.0), (0.3, 50.0, 4.0, 0.5)])
def test_gradient_matches_finite_differences(params, cdnow):
    x, t_x, T_ = (v[::7] for v in cdnow)
    weights = np.random.default_rng(2).integers(1, 5, x.size).astype(float)
    point = np.log(params)
    value, grad = mb.neg_log_likelihood_and_grad(point, x, t_x, T_, weights)
    np.testing.assert_allclose(value, -np.sum(weights * mb.log_likelihood(*params, x, t_x, T_)), rtol=1e-12)
    step = 1e-6
    numeric = [(mb.neg_log_likelihood_and_grad(point + step * e, x, t_x, T_, weights)[0]
                - mb.neg_log_likelihood_and_grad(point - step * e, x, t_x, T_, weights)[0]) / (2 * step)
               for e in np.eye(4)]
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-5)


def test_counts_equal_repeated_rows():
    counts = np.array([3, 1, 2, 1, 4, 1, 1, 2, 5])
    point = np.log(PUBLISHED)
    with_counts = mb.neg_log_likelihood_and_grad(point, X, T_X, T, counts.astype(float))
    plain = mb.neg_log_likelihood_and_grad(point, *(np.repeat(v, counts) for v in (X, T_X, T)), None)
    np.testing.assert_allclose(with_counts[0], plain[0], rtol=1e-12)
    np.testing.assert_allclose(with_counts[1], plain[1], rtol=1e-10)


def test_survival_expectations_and_discounting():
    horizons = np.array([0.0, 0.5, 5.0, 52.0, 520.0])[:, None]
    survival = mb.survival_if_alive(*PUBLISHED, X, T, horizons)
    expected = mb.expected_purchases(*PUBLISHED, X, T_X, T, horizons)
    np.testing.assert_allclose(survival[0], 1.0)
    np.testing.assert_allclose(expected[0], 0.0, atol=1e-15)
    assert np.all(np.diff(survival, axis=0) <= 1e-15) and np.all(np.diff(expected, axis=0) >= 0)
    np.testing.assert_allclose(mb.expected_discounted_purchases(*PUBLISHED, X, T_X, T, 52.0, 0.0),
                               mb.expected_purchases(*PUBLISHED, X, T_X, T, 52.0), rtol=1e-8)
    discounted = mb.expected_discounted_purchases(*PUBLISHED, X, T_X, T, 52.0, 0.01)
    assert np.all(discounted < expected[3]) and np.all(discounted > expected[3] * 1.01 ** -52)


def test_conditional_pmf_sums_to_one_with_the_expected_mean():
    n = np.arange(0, 400)[:, None]
    pmf = mb.purchase_probability(*PUBLISHED, X, T_X, T, 39.0, n)
    np.testing.assert_allclose(pmf.sum(axis=0), 1.0, atol=1e-9)
    np.testing.assert_allclose((n * pmf).sum(axis=0), mb.expected_purchases(*PUBLISHED, X, T_X, T, 39.0),
                               rtol=1e-7)
    np.testing.assert_allclose(mb.prob_no_purchase(*PUBLISHED, X, T_X, T, 39.0), pmf[0], rtol=1e-12)


def test_simulation_from_the_individual_posterior_matches_the_expectations():
    """Latents from the exact posterior mixture, futures by the BG/NBD simulator: share alive,
    mean count and mean dropout probability within 4 standard errors of the closed forms
    (E[p | history] = P(alive) a/(a+b+x+1) + P(dead) (a+1)/(a+b+x+1))."""
    n_sims = 40_000
    params = [np.full((n_sims, 1), v) for v in PUBLISHED]
    rng = np.random.default_rng(7)
    alive, lam, p = sample_mbgnbd_latents(rng, *params, X, T_X, T)
    counts = simulate_purchase_counts(rng, alive, lam, p, 39.0)
    q = mb.p_alive(*PUBLISHED, X, T_X, T)
    assert np.all(np.abs(alive.mean(axis=0) - q) < 4 * np.sqrt(q * (1 - q) / n_sims))
    expected = mb.expected_purchases(*PUBLISHED, X, T_X, T, 39.0)
    assert np.all(np.abs(counts.mean(axis=0) - expected) < 4 * counts.std(axis=0) / np.sqrt(n_sims))
    r, alpha, a, b = PUBLISHED
    mean_p = (q * a + (1 - q) * (a + 1)) / (a + b + X + 1)
    assert np.all(np.abs(p.mean(axis=0) - mean_p) < 4 * p.std(axis=0) / np.sqrt(n_sims))


def test_family_adapter_maps_onto_the_formulas():
    """clvmodels.families.mbgnbd only renames: its predictions are the formulas' own, and its
    discounted alive time (BG/NBD's at b+1) is the integral of its survival."""
    from clvmodels.families.mbgnbd import MBGNBD

    params = dict(zip(mb.PARAM_NAMES, PUBLISHED))
    np.testing.assert_array_equal(MBGNBD.p_alive(params, X, T_X, T), mb.p_alive(*PUBLISHED, X, T_X, T))
    np.testing.assert_array_equal(MBGNBD.expected_purchases(params, X, T_X, T, 52.0),
                                  mb.expected_purchases(*PUBLISHED, X, T_X, T, 52.0))
    s = np.linspace(0.0, 52.0, 2001)
    survival = np.stack([mb.survival_if_alive(*PUBLISHED, X, T, si) for si in s])
    trapezoid = ((survival[1:] + survival[:-1]) / 2 * np.diff(s)[:, None]).sum(axis=0)
    np.testing.assert_allclose(MBGNBD.discounted_alive_time_if_alive(params, X, T, 52.0, 0.0), trapezoid, rtol=1e-6)
