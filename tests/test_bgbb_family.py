"""BG/BB on the purchase-model contract: the contract battery's properties in discrete time.

tests/test_family_contract.py builds histories in continuous weeks (columns frequency, recency,
T); BG/BB's history is whole opportunities (frequency, recency, n_periods), so its properties
are checked here with integer histories, and the discounted alive time against the sum over
future opportunities it is defined as.
"""

from __future__ import annotations

import numpy as np
import pytest

from clvmodels.families.bgbb import BGBB
from clvmodels.formulas import bgbb

X = np.array([0, 0, 1, 2, 5, 6, 3, 1])
T_X = np.array([0, 0, 1, 4, 6, 6, 9, 1])
N = np.array([6, 1, 6, 6, 6, 6, 12, 20])
HISTORY = (X, T_X, N)


def draws(n_draws=3, spread=0.1, seed=0):
    rng = np.random.default_rng(seed)
    return {k: v * np.exp(spread * rng.standard_normal((n_draws, 1))) for k, v in BGBB.example_params.items()}


def test_identity():
    assert BGBB.param_names == tuple(BGBB.example_params)
    assert BGBB.key_of(*HISTORY) == (X, N)


def test_p_alive_and_survival():
    params = draws()
    alive = BGBB.p_alive(params, *HISTORY)
    assert alive.shape == (3, X.size) and np.all((alive >= 0) & (alive <= 1))
    np.testing.assert_allclose(alive[:, 4:6], 1.0)  # a transaction at the last opportunity
    curves = np.stack([BGBB.survival_if_alive(params, X, N, t) for t in [0, 1, 5, 20, 100]])
    np.testing.assert_allclose(curves[0], 1.0)
    assert np.all(np.diff(curves, axis=0) <= 1e-15)
    # FHS 2010's P(alive in period n + 1) is p_alive_at one opportunity on
    np.testing.assert_allclose(BGBB.p_alive_at(BGBB.example_params, *HISTORY, 1),
                               bgbb.p_alive_at(*BGBB.example_params.values(), *HISTORY, 1), rtol=1e-14)


def test_expectations_factorise_and_discounting():
    params = draws()
    key = BGBB.key_of(*HISTORY)
    curves = np.stack([BGBB.expected_purchases_if_alive(params, *key, t) for t in [0, 1, 5, 50]])
    np.testing.assert_allclose(curves[0], 0.0, atol=1e-15)
    assert np.all(np.diff(curves, axis=0) >= 0)
    np.testing.assert_allclose(BGBB.expected_purchases(params, *HISTORY, 5),
                               bgbb.expected_transactions(*(params[k] for k in BGBB.param_names), *HISTORY, 5),
                               rtol=1e-13)
    np.testing.assert_allclose(BGBB.expected_discounted_purchases_if_alive(params, *key, 5, 0.0), curves[2],
                               rtol=1e-12)


def test_discounted_alive_time_is_the_sum_over_future_opportunities():
    """sum_{k=1}^{H} P(alive at n+k | alive at n) (1+d)^-k, H = 10 opportunities, d = 8%."""
    params, key = BGBB.example_params, BGBB.key_of(*HISTORY)
    brute = sum(BGBB.survival_if_alive(params, *key, k) * 1.08**-k for k in range(1, 11))
    np.testing.assert_allclose(BGBB.discounted_alive_time_if_alive(params, *key, 10, 0.08), brute, rtol=1e-12)


def test_pmf_no_purchase_and_new_customer():
    params = BGBB.example_params
    k = np.arange(0, 8)[:, None]
    pmf = BGBB.purchase_probability(params, *HISTORY, 7, k)
    np.testing.assert_allclose(pmf.sum(axis=0), 1.0, rtol=1e-12)
    np.testing.assert_allclose((k * pmf).sum(axis=0), BGBB.expected_purchases(params, *HISTORY, 7), rtol=1e-11)
    np.testing.assert_allclose(BGBB.prob_no_purchase(params, *HISTORY, 7), pmf[0], rtol=1e-14)
    zeros = (np.zeros(1),) * 3
    np.testing.assert_allclose(BGBB.expected_purchases_new(params, 10),
                               BGBB.expected_purchases(params, *zeros, 10), rtol=1e-13)


def test_gradient_counts_and_start():
    weights = np.arange(1.0, X.size + 1)
    point = np.log(list(BGBB.example_params.values())) + 0.05
    value, grad = BGBB.neg_log_likelihood_and_grad(point, *HISTORY, weights)
    step = 1e-6
    numeric = [(BGBB.neg_log_likelihood_and_grad(point + step * e, *HISTORY, weights)[0]
                - BGBB.neg_log_likelihood_and_grad(point - step * e, *HISTORY, weights)[0]) / (2 * step)
               for e in np.eye(4)]
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-6)
    counts = np.array([3, 1, 2, 1, 4, 1, 2, 5])
    repeated = tuple(np.repeat(h, counts) for h in HISTORY)
    with_counts = BGBB.neg_log_likelihood_and_grad(point, *HISTORY, counts.astype(float))
    plain = BGBB.neg_log_likelihood_and_grad(point, *repeated, np.ones(counts.sum()))
    assert with_counts[0] == pytest.approx(plain[0], rel=1e-12)
    np.testing.assert_allclose(with_counts[1], plain[1], rtol=1e-10)
    assert np.all(np.isfinite(BGBB.start(*HISTORY, counts.astype(float))))


def test_simulation_from_the_posterior_matches_the_expectations():
    params = BGBB.example_params
    rng = np.random.default_rng(7)
    n_sims = 40_000
    stacked = {k: np.full((n_sims, 1), v) for k, v in params.items()}
    latents = BGBB.sample_latents(rng, stacked, *HISTORY)
    counts = BGBB.simulate_purchases(rng, latents, 5)
    expected = BGBB.expected_purchases(params, *HISTORY, 5)
    se = counts.std(axis=0) / np.sqrt(n_sims) + 1e-12
    assert np.all(np.abs(counts.mean(axis=0) - expected) < 4 * se)
    p = BGBB.p_alive(params, *HISTORY)
    assert np.all(np.abs(latents["alive"].mean(axis=0) - p) < 4 * np.sqrt(p * (1 - p) / n_sims) + 1e-9)
