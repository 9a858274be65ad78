"""Gamma-Gamma formulas: published CDNOW estimates, agreement with lifetimes, the posterior mean.

The analytic gradient and the limits of the conditional spend are tested in
test_gammagamma_gradient.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifetimes import GammaGammaFitter
from lifetimes.datasets import load_cdnow_summary_data_with_monetary_value
from scipy import optimize

from clvmodels.formulas import gammagamma


@pytest.fixture(scope="module")
def repeat_buyers():
    """The 946 repeat buyers of the CDNOW 1/10 sample, with their mean repeat spend (lifetimes)."""
    data = load_cdnow_summary_data_with_monetary_value()
    data = data[data["frequency"] > 0]
    assert len(data) == 946
    return data["frequency"].to_numpy(float), data["monetary_value"].to_numpy()


def random_params(rng, size):
    return np.exp(rng.uniform(np.log([0.5, 1.2, 1.0]), np.log([20.0, 20.0, 200.0]), size=(size, 3)))


def test_gradient_descent_lands_on_published_estimates(repeat_buyers):
    """Fader & Hardie (2013), "The Gamma-Gamma model of monetary value", CDNOW: p = 6.25,
    q = 3.74, gamma = 15.44: p and q to the printed 2 decimals (0.005); gamma within 0.01, since
    lifetimes' copy of the data gives 15.448 (lifetimes' own fit lands there too)."""
    x, mbar = repeat_buyers
    result = optimize.minimize(gammagamma.neg_log_likelihood_and_grad, np.zeros(3),
                               args=(x, mbar, np.ones(x.size)), jac=True, method="L-BFGS-B",
                               options={"gtol": 1e-8})
    assert result.success
    np.testing.assert_array_less(np.abs(np.exp(result.x) - [6.25, 3.74, 15.44]), [0.005, 0.005, 0.01])


def test_log_likelihood_matches_lifetimes(repeat_buyers):
    x, mbar = repeat_buyers
    for params in random_params(np.random.default_rng(0), 6):
        ours = gammagamma.log_likelihood(*params, x, mbar).sum()
        theirs = -GammaGammaFitter._negative_log_likelihood(np.log(params), x, mbar, np.ones(x.size), 0.0) * x.size
        assert ours == pytest.approx(theirs, rel=1e-12)


def test_expected_spend_matches_lifetimes(repeat_buyers):
    x, mbar = repeat_buyers
    for params in random_params(np.random.default_rng(1), 6):
        model = GammaGammaFitter()
        model.params_ = pd.Series(dict(zip(["p", "q", "v"], params)))
        np.testing.assert_allclose(gammagamma.expected_spend(*params, x, mbar),
                                   model.conditional_expected_average_profit(x, mbar), rtol=1e-12)
        assert gammagamma.population_mean_spend(*params) == pytest.approx(params[0] * params[2] / (params[1] - 1))


def test_expected_spend_is_the_posterior_mean_of_simulated_customers():
    """Independent check of FH 2013 eq. 5: simulate nu ~ Gamma(q, gamma) and x transaction values
    z ~ Gamma(p, nu); among customers whose mean lands in a narrow bin, the average true mean
    spend p/nu matches the formula (4 standard errors)."""
    rng = np.random.default_rng(2)
    p, q, gamma, x, size = 6.25, 3.74, 15.44, 3, 2_000_000
    nu = rng.gamma(q, 1.0 / gamma, size)
    mbar = rng.gamma(p * x, 1.0 / (x * nu))  # the mean of x Gamma(p, nu) values is Gamma(px, x nu)
    in_bin = np.abs(mbar - 40.0) < 0.5
    true_means = p / nu[in_bin]
    expected = gammagamma.expected_spend(p, q, gamma, x, 40.0)
    assert abs(true_means.mean() - expected) < 4 * true_means.std() / np.sqrt(in_bin.sum())


def test_no_repeat_purchase_gives_the_population_mean_and_q_below_one_is_infinite():
    assert gammagamma.expected_spend(6.25, 3.74, 15.44, 0, 0.0) == pytest.approx(6.25 * 15.44 / 2.74)
    assert np.isinf(gammagamma.expected_spend(6.25, 0.8, 15.44, 0, 0.0))
    # with purchases the posterior mean exists even when q <= 1 (p x + q - 1 > 0)
    assert np.isfinite(gammagamma.expected_spend(6.25, 0.8, 15.44, 2, 30.0))
