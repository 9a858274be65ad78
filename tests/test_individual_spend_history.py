"""Predictive spend given a spend history (clvmodels.formulas.individual.simulate_spend_given_history).

The total of a customer's next N transactions given x repeat transactions of mean mbar is
``(gamma + x mbar) * BetaPrime(p N, p x + q)`` (nu | history ~ Gamma(p x + q, rate gamma + x mbar),
Fader & Hardie 2013 note on the Gamma-Gamma model; a sum of N Gamma(p, nu) values is
Gamma(p N, nu); a ratio of independent standard Gamma variates is beta-prime). Checked by
Kolmogorov-Smirnov tests against scipy's betaprime at a fixed seed.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from clvmodels.formulas.individual import sample_gg_nu, simulate_spend_given_history, simulate_spend_totals

GG = dict(p=6.25, q=3.74, gamma=15.44)  # Fader & Hardie 2013 note, CDNOW
# customers: a non-repeat buyer, two with the same x (they share the G_A table entry), a heavy one
X = np.array([0.0, 2.0, 2.0, 30.0])
MBAR = np.array([0.0, 40.0, 12.0, 80.0])


def _reference(n, x, mbar):
    p, q, gamma = GG.values()
    return stats.betaprime(p * n, p * x + q, scale=gamma + x * mbar)


@pytest.mark.parametrize("per_customer", [False, True])
@pytest.mark.parametrize("n", [None, 1, 3])
def test_every_customer_draws_follow_the_beta_prime_predictive(per_customer, n):
    """Each customer's column of 20,000 draws passes a KS test (p > 0.001) against the exact
    distribution, with parameters shared by all customers ((S, 1): the x-table path) or given per
    customer ((S, n): the per-cell path), for the next purchase (None) and for N = 1 or 3."""
    S = 20_000
    rng = np.random.default_rng(11)
    shape = (S, X.size) if per_customer else (S, 1)
    p, q, gamma = (np.full(shape, v) for v in GG.values())
    counts = None if n is None else np.full((S, X.size), n)
    totals = simulate_spend_given_history(rng, counts, p, q, gamma, X, MBAR)
    assert totals.shape == (S, X.size)
    for i in range(X.size):
        pvalue = stats.kstest(totals[:, i], _reference(1 if n is None else n, X[i], MBAR[i]).cdf).pvalue
        assert pvalue > 1e-3, (i, pvalue)


def test_zero_counts_give_zero_and_mixed_counts_match_the_two_step_simulation():
    """N = 0 gives exactly 0; cells with N = 2 have the same distribution as the nu-then-totals
    simulation (sample_gg_nu, simulate_spend_totals), by a two-sample KS test (p > 0.001)."""
    S = 40_000
    rng = np.random.default_rng(3)
    p, q, gamma = (np.full((S, 1), v) for v in GG.values())
    counts = np.where(np.arange(S)[:, None] % 2 == 0, 2, 0) * np.ones(X.size, int)
    totals = simulate_spend_given_history(rng, counts, p, q, gamma, X, MBAR)
    np.testing.assert_array_equal(totals[counts == 0], 0.0)
    two_step = simulate_spend_totals(rng, np.full(S // 2, 2), GG["p"],
                                     sample_gg_nu(rng, *GG.values(), np.full(S // 2, X[3]), np.full(S // 2, MBAR[3])))
    assert stats.ks_2samp(totals[counts[:, 3] == 2, 3], two_step).pvalue > 1e-3


def test_same_seed_same_draws():
    """A seed fixes every number."""
    p, q, gamma = (np.full((50, 1), v) for v in GG.values())
    counts = np.random.default_rng(0).integers(0, 4, (50, X.size))
    runs = [simulate_spend_given_history(np.random.default_rng(8), c, p, q, gamma, X, MBAR)
            for c in (counts, counts, None, None)]
    np.testing.assert_array_equal(runs[0], runs[1])
    np.testing.assert_array_equal(runs[2], runs[3])
