"""The contract battery: every purchase-model family must pass these (parametrised over all).

Each test states a property any latent-attrition model has, whatever its formulas (the idea of
scikit-learn's ``parametrize_with_checks``): probabilities in [0, 1], survival non-increasing,
closed forms that must agree with each other, gradients against finite differences, counts equal
repeated rows, and simulation from the exact individual posterior agreeing with the expectations.
"""

from __future__ import annotations

import numpy as np
import pytest

from clvmodels.families import family_names, get_family

FAMILIES = [get_family(name) for name in family_names()]

# histories (x, t_x, T) in weeks: one-time buyers, light and heavy buyers, recent and lapsed
X = np.array([0, 0, 1, 2, 5, 10, 30, 3, 1])
T_X = np.array([0.0, 0.0, 5.0, 30.43, 20.0, 38.0, 38.5, 2.0, 0.5])
T = np.array([39.0, 2.0, 39.0, 38.86, 39.0, 38.0, 39.0, 52.0, 104.0])
# discrete opportunities (x, t_x, n): whole numbers with x <= t_x <= n (t_x = 0 when x = 0)
X_D = np.array([0, 0, 1, 2, 5, 6, 3, 1, 4])
T_X_D = np.array([0, 0, 1, 5, 6, 6, 3, 9, 10])
N_D = np.array([6, 1, 6, 6, 6, 6, 10, 12, 40])


def _history(family):
    """The history arrays in the family's column order."""
    if family.discrete_time:
        columns = dict(zip(family.history_columns, (X_D, T_X_D, N_D)))
    else:
        columns = {"frequency": X, "recency": T_X, "T": T}
    return tuple(columns[c] for c in family.history_columns)


def _draws(family, n_draws=3, spread=0.1, seed=0):
    """Parameter draws of shape (S, 1) scattered around the family's example point."""
    rng = np.random.default_rng(seed)
    return {k: v * np.exp(spread * rng.standard_normal((n_draws, 1)))
            for k, v in family.example_params.items()}


@pytest.fixture(params=FAMILIES, ids=lambda f: f.name)
def family(request):
    return request.param


def test_identity_is_complete(family):
    assert family.param_names == tuple(family.example_params)
    assert set(family.alive_key) <= set(family.history_columns)


def test_p_alive_is_a_probability_and_broadcasts_over_draws(family):
    alive = family.p_alive(_draws(family), *_history(family))
    assert alive.shape == (3, X.size)
    assert np.all((alive >= 0) & (alive <= 1))


def test_survival_if_alive_starts_at_one_and_never_increases(family):
    params = _draws(family)
    key = family.key_of(*_history(family))
    horizons = np.array([0.0, 0.5, 1, 5, 20, 100, 1000])
    curves = np.stack([family.survival_if_alive(params, *key, t) for t in horizons])
    np.testing.assert_allclose(curves[0], 1.0, rtol=0, atol=1e-12)
    assert np.all((curves >= 0) & (curves <= 1))
    assert np.all(np.diff(curves, axis=0) <= 1e-12)


def test_expected_purchases_grow_from_zero_and_factorise(family):
    params, history = _draws(family), _history(family)
    key = family.key_of(*history)
    horizons = [0.0, 1.0, 10.0, 52.0, 520.0]
    curves = np.stack([family.expected_purchases_if_alive(params, *key, t) for t in horizons])
    np.testing.assert_allclose(curves[0], 0.0, atol=1e-12)
    assert np.all(np.diff(curves, axis=0) >= -1e-12)
    np.testing.assert_allclose(family.expected_purchases(params, *history, 52.0),
                               family.p_alive(params, *history) * curves[3], rtol=1e-12)


def test_zero_discount_equals_undiscounted(family):
    params, key = _draws(family), family.key_of(*_history(family))
    np.testing.assert_allclose(family.expected_discounted_purchases_if_alive(params, *key, 52.0, 0.0),
                               family.expected_purchases_if_alive(params, *key, 52.0), rtol=1e-8)


def test_discounted_alive_time_is_the_integral_of_discounted_survival(family):
    """Continuous time: the integral of the discounted survival; discrete opportunities: its sum
    over the coming opportunities k = 1..H."""
    params, key = family.example_params, family.key_of(*_history(family))
    if family.discrete_time:
        horizon, d = 30, 0.05
        total = sum(family.survival_if_alive(params, *key, k) * (1 + d) ** -k for k in range(1, horizon + 1))
        np.testing.assert_allclose(family.discounted_alive_time_if_alive(params, *key, horizon, d),
                                   total, rtol=1e-9)
        return
    horizon, d = 104.0, 0.002
    s = np.linspace(0.0, horizon, 4001)
    integrand = np.stack([family.survival_if_alive(params, *key, si) * (1 + d) ** -si for si in s])
    trapezoid = ((integrand[1:] + integrand[:-1]) / 2 * np.diff(s)[:, None]).sum(axis=0)
    np.testing.assert_allclose(family.discounted_alive_time_if_alive(params, *key, horizon, d),
                               trapezoid, rtol=1e-5)


def test_purchase_probabilities_sum_to_one_with_the_expected_mean(family):
    params, history = family.example_params, _history(family)
    n = np.arange(0, 400)[:, None]
    pmf = family.purchase_probability(params, *history, 39.0, n)
    np.testing.assert_allclose(pmf.sum(axis=0), 1.0, atol=1e-8)
    np.testing.assert_allclose((n * pmf).sum(axis=0), family.expected_purchases(params, *history, 39.0),
                               rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(family.prob_no_purchase(params, *history, 39.0), pmf[0], rtol=1e-10)


def test_new_customer_is_the_empty_history(family):
    params = family.example_params
    zeros = tuple(np.zeros(1) for _ in family.history_columns)
    np.testing.assert_allclose(family.expected_purchases_new(params, 52.0),
                               family.expected_purchases(params, *zeros, 52.0), rtol=1e-12)


def test_gradient_matches_finite_differences(family):
    history, weights = _history(family), np.arange(1.0, X.size + 1)
    point = np.log(list(family.example_params.values())) + 0.05
    value, grad = family.neg_log_likelihood_and_grad(point, *history, weights)
    assert np.isfinite(value)
    step = 1e-6
    numeric = [(family.neg_log_likelihood_and_grad(point + step * e, *history, weights)[0]
                - family.neg_log_likelihood_and_grad(point - step * e, *history, weights)[0]) / (2 * step)
               for e in np.eye(point.size)]
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-6)


def test_counts_equal_repeated_rows(family):
    history = _history(family)
    counts = np.array([3, 1, 2, 1, 4, 1, 1, 2, 5])
    repeated = tuple(np.repeat(h, counts) for h in history)
    point = np.log(list(family.example_params.values()))
    with_counts = family.neg_log_likelihood_and_grad(point, *history, counts.astype(float))
    plain = family.neg_log_likelihood_and_grad(point, *repeated, np.ones(counts.sum()))
    np.testing.assert_allclose(with_counts[0], plain[0], rtol=1e-12)
    np.testing.assert_allclose(with_counts[1], plain[1], rtol=1e-10)
    assert np.all(np.isfinite(family.start(*history, counts.astype(float))))


def test_simulation_from_the_individual_posterior_matches_the_expectations(family):
    """Latents drawn from each customer's exact posterior, then futures simulated: the mean count
    and the share alive agree with the closed forms within 4 standard errors."""
    params, history = family.example_params, _history(family)
    rng = np.random.default_rng(7)
    n_sims = 40_000
    stacked = {k: np.full((n_sims, 1), v) for k, v in params.items()}
    latents = family.sample_latents(rng, stacked, *history)
    counts = family.simulate_purchases(rng, latents, 39.0)
    expected = family.expected_purchases(params, *history, 39.0)
    se = counts.std(axis=0) / np.sqrt(n_sims) + 1e-12
    assert np.all(np.abs(counts.mean(axis=0) - expected) < 4 * se + 1e-9)
    alive = latents["alive"].mean(axis=0)
    p = family.p_alive(params, *history)
    assert np.all(np.abs(alive - p) < 4 * np.sqrt(p * (1 - p) / n_sims) + 1e-9)


def test_simulated_futures_with_timing_match_the_discounted_closed_forms(family):
    """``simulate_future`` (one future per draw with purchase times, dropout and Gamma-Gamma
    spends): the means of the count, the discounted count, the discounted alive time and the
    discounted spend agree with P(alive) x the alive-branch closed forms (the spend through
    the Gamma-Gamma conditional mean, spend being independent of purchases) within 4 standard
    errors. Discrete-time families count whole opportunities and discount per opportunity."""
    from clvmodels.formulas import gammagamma

    params, history = family.example_params, _history(family)
    horizon, d = (10.0, 0.05) if family.discrete_time else (52.0, 0.004)
    gg = {"p": 6.25, "q": 3.74, "gamma": 15.44}  # CDNOW Gamma-Gamma (Fader & Hardie 2013)
    x = history[0].astype(float)
    mbar = np.where(x > 0, 20.0 + 3.0 * x, 0.0)
    n_sims = 40_000
    stacked = {k: np.full((n_sims, 1), v) for k, v in params.items()}
    future = family.simulate_future(np.random.default_rng(11), stacked, *history, horizon, d,
                                    spend_shape=gg["p"], nu_shape=gg["p"] * x + gg["q"],
                                    nu_rate=gg["gamma"] + x * mbar)
    alive, key = family.p_alive(params, *history), family.key_of(*history)
    spend = gammagamma.expected_spend(gg["p"], gg["q"], gg["gamma"], x, mbar)
    purchases = alive * family.expected_discounted_purchases_if_alive(params, *key, horizon, d)
    expected = {
        "count": family.expected_purchases(params, *history, horizon),
        "discounted_count": purchases,
        "discounted_alive_time": alive * family.discounted_alive_time_if_alive(params, *key, horizon, d),
        "discounted_spend": purchases * spend,
    }
    for name, closed_form in expected.items():
        sims = getattr(future, name)
        assert sims.shape == (n_sims, x.size)
        se = sims.std(axis=0) / np.sqrt(n_sims)
        assert np.all(np.abs(sims.mean(axis=0) - closed_form) < 4 * se + 1e-9), name
    assert np.all(future.discounted_count <= future.count + 1e-12)
    assert np.all(future.discounted_alive_time <= future.alive_time + 1e-12)


def test_alive_history_carries_the_key_and_the_alive_branch_of_every_recency(family):
    """``alive_history`` (recency = age) keeps the alive key, ``aged`` moves only the age, and
    P(no purchase in a window | alive at T), read off ``prob_no_purchase`` and ``p_alive`` as
    (P0 - (1 - P(alive))) / P(alive), is the same at the real history and at the alive history:
    given alive, the recency no longer matters."""
    params, history = family.example_params, _history(family)
    key = family.key_of(*history)
    ref = family.alive_history(*key)
    for a, b in zip(family.key_of(*ref), key):
        np.testing.assert_array_equal(a, b)
    older = family.aged(*history, 3.0)
    np.testing.assert_array_equal(older[-1], history[-1] + 3.0)
    for a, b in zip(older[:-1], history[:-1]):
        np.testing.assert_array_equal(a, b)

    def q(h):
        alive = family.p_alive(params, *h)
        return (family.prob_no_purchase(params, *h, 4.0) - (1.0 - alive)) / alive, alive

    q_real, alive_real = q(history)
    q_ref, alive_ref = q(ref)
    assert np.all(alive_ref > 0.05)
    usable = alive_real > 0.05  # where the division of the real history loses nothing
    np.testing.assert_allclose(q_real[usable], q_ref[usable], rtol=1e-7)
