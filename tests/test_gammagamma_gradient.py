"""Gamma-Gamma formulas: analytic gradient, compression, conditional spend at the edges."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import approx_fprime

from clvmodels.formulas import gammagamma


def test_gradient_matches_finite_differences():
    rng = np.random.default_rng(0)
    x = rng.integers(1, 30, size=500).astype(float)
    mbar = rng.gamma(3.0, 10.0, size=500)
    w = rng.integers(1, 5, size=500).astype(float)
    for log_params in (np.log([6.25, 3.74, 15.44]), np.log([0.5, 1.5, 200.0])):
        value, grad = gammagamma.neg_log_likelihood_and_grad(log_params, x, mbar, w)
        numeric = approx_fprime(log_params, lambda lp: gammagamma.neg_log_likelihood_and_grad(lp, x, mbar, w)[0],
                                1e-6)
        np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-3)
        assert value == pytest.approx(-np.sum(w * gammagamma.log_likelihood(*np.exp(log_params), x, mbar)))


def test_expected_spend_limits():
    p, q, gamma = 6.25, 3.74, 15.44
    assert gammagamma.expected_spend(p, q, gamma, 0, 0.0) == pytest.approx(p * gamma / (q - 1))
    # many transactions: the customer's own mean dominates
    assert gammagamma.expected_spend(p, q, gamma, 10_000, 42.0) == pytest.approx(42.0, rel=1e-3)
    assert np.isinf(gammagamma.population_mean_spend(p, 0.9, gamma))


def test_broadcasts_over_draws():
    draws = np.array([[6.0], [6.5]]), np.array([[3.5], [4.0]]), np.array([[15.0], [16.0]])
    out = gammagamma.expected_spend(*draws, np.array([1.0, 2.0, 0.0]), np.array([30.0, 40.0, 0.0]))
    assert out.shape == (2, 3)
