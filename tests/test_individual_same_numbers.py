"""The in-place forms of the BG/NBD log-odds, P(alive), latent draws and purchase counts give the
same numbers (bit for bit, same random streams) as the direct evaluation of their formulas."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit

from clvmodels.formulas import bgnbd
from clvmodels.formulas.individual import draw_geometric, sample_bgnbd_latents, simulate_purchase_counts

rng0 = np.random.default_rng(0)
S, N = 40, 600
PARAMS = [rng0.uniform(0.1, 1, (S, 1)), rng0.uniform(1, 10, (S, 1)), rng0.uniform(0.2, 2, (S, 1)),
          rng0.uniform(0.5, 5, (S, 1))]
X = rng0.integers(0, 50, N).astype(float)
T = rng0.uniform(1, 52, N)
T_X = T * rng0.uniform(0, 1, N) * (X > 0)


def _direct_log_odds(r, alpha, a, b, x, t_x, T):
    """FHL 2005 eq. 6 rewritten (the log-odds of dropout), evaluated directly."""
    r, alpha, a, b, x, t_x, T = (np.asarray(v, dtype=float) for v in (r, alpha, a, b, x, t_x, T))
    with np.errstate(divide="ignore", invalid="ignore"):
        lo = np.log(a) - np.log(b + np.maximum(x, 1.0) - 1.0) + (r + x) * np.log1p((T - t_x) / (alpha + t_x))
    return np.where(x > 0, lo, -np.inf)


CASES = {
    "draws x customers": (*PARAMS, X, T_X, T),
    "point x customers": (*(p[0, 0] for p in PARAMS), X, T_X, T),
    "per-customer params": (*(p * np.ones(N) for p in PARAMS), X, T_X, T),
    "scalars": (*(p[0, 0] for p in PARAMS), 3.0, 2.0, 5.0),
    "newcomer": (*PARAMS, 0.0, 0.0, 4.0),
}


@pytest.mark.parametrize("case", list(CASES))
def test_log_odds_and_p_alive_equal_the_direct_formula(case):
    args = CASES[case]
    direct = _direct_log_odds(*args)
    np.testing.assert_array_equal(bgnbd._log_odds_dropout(*args), direct)
    alive = bgnbd.p_alive(*args)
    np.testing.assert_array_equal(alive, expit(-direct))
    assert np.shape(alive) == np.shape(direct)


def _direct_latents(rng, r, alpha, a, b, x, t_x, T):
    alive = rng.random(np.broadcast_shapes(np.shape(r), np.shape(x))) < expit(-_direct_log_odds(r, alpha, a, b, x, t_x, T))
    lam = rng.standard_gamma(r + x) / np.where(alive, alpha + T, alpha + t_x)
    p = rng.beta(np.where(alive, a, a + 1.0), np.where(alive, b + x, b + np.maximum(x, 1.0) - 1.0))
    return alive, lam, p


def _direct_counts(rng, alive, lam, p, t):
    potential = rng.poisson(lam * t)
    last = draw_geometric(rng, p, np.shape(alive))
    return np.where(alive, np.minimum(potential, last), 0).astype(np.int64)


@pytest.mark.parametrize("seed", [1, 2])
def test_latents_and_counts_equal_the_direct_simulation(seed):
    """Same seed: the same alive flags, rates, dropout probabilities and purchase counts as the
    direct form (selection by np.where, geometric dropout drawn in every cell); also with p at 0
    (never drops out) and 1 (drops out after the first purchase) and a horizon per draw."""
    got = sample_bgnbd_latents(np.random.default_rng(seed), *PARAMS, X, T_X, T)
    want = _direct_latents(np.random.default_rng(seed), *PARAMS, X, T_X, T)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
    alive, lam, p = want
    edge = np.random.default_rng(seed + 5).random(p.shape)
    p = np.where(edge < 0.1, 1.0, np.where(edge > 0.9, 0.0, p))
    for t in (39.0, np.linspace(1, 80, S)[:, None]):
        np.testing.assert_array_equal(simulate_purchase_counts(np.random.default_rng(seed), alive, lam * 5, p, t),
                                      _direct_counts(np.random.default_rng(seed), alive, lam * 5, p, t))
    for a in (True, False):
        one = simulate_purchase_counts(np.random.default_rng(seed), a, 2.0, 0.1, 10.0)
        assert one.shape == () and one == _direct_counts(np.random.default_rng(seed), a, 2.0, 0.1, 10.0)
