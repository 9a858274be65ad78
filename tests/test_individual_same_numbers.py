"""The in-place forms of the BG/NBD log-odds and P(alive) give the same numbers (bit for bit) as the
direct evaluation of their formulas; the compiled latent draws and purchase counts have the direct
simulation's distribution."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
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


@pytest.mark.parametrize("history", [(0.0, 0.0, 39.0), (2.0, 30.43, 38.86), (5.0, 10.0, 39.0), (20.0, 38.0, 39.0)])
def test_latents_have_the_distribution_of_the_direct_simulation(history):
    """The compiled latent draws against the direct form (selection by np.where) for a newcomer,
    FHL 2005's example customer, a likely dropout and a heavy buyer, 100,000 draws each at the
    FHL 2005 CDNOW estimates: the alive share within 4 binomial SEs, lambda and p (alive and dead
    components together) by two-sample KS tests (p > 0.001)."""
    draws = 100_000
    params = (0.243, 4.414, 0.793, 2.426)  # FHL 2005 CDNOW estimates (weekly)
    x, t_x, T = (np.full(draws, v) for v in history)
    got = sample_bgnbd_latents(np.random.default_rng(5), *params, x, t_x, T)
    want = _direct_latents(np.random.default_rng(6), *params, x, t_x, T)
    share = float(bgnbd.p_alive(*params, *history))
    se = np.sqrt(share * (1 - share) / draws) + 1e-12
    assert abs(got[0].mean() - share) <= 4 * se + 1e-12, (got[0].mean(), share)
    for g, w in zip(got[1:], want[1:]):
        assert stats.ks_2samp(g, w).pvalue > 1e-3


def test_latent_shapes():
    """Broadcast shapes: draws x customers, scalars, and empty input."""
    rng = np.random.default_rng(0)
    alive, lam, p = sample_bgnbd_latents(rng, *PARAMS, X, T_X, T)
    assert alive.shape == lam.shape == p.shape == (S, N) and alive.dtype == bool
    assert alive[:, X == 0].all() and ((p >= 0) & (p <= 1)).all() and (lam >= 0).all()
    assert sample_bgnbd_latents(rng, 0.2, 4.0, 0.8, 2.4, 3.0, 20.0, 39.0)[1].shape == ()
    assert sample_bgnbd_latents(rng, *PARAMS, X[:0], T_X[:0], T[:0])[2].shape == (S, 0)


@pytest.mark.parametrize("p, lam", [(0.3, 0.05), (0.3, 2.0), (0.0, 1.0), (1.0, 1.0), (0.05, 40.0)])
def test_counts_have_the_distribution_of_the_direct_simulation(p, lam):
    """The compiled counts (draws only where needed) against the direct form (Poisson and
    geometric in every cell): 200,000 alive cells at horizon 1, chi-square p-value > 0.001 on
    the counts 0..7 and a tail bin; p = 1 gives min(K, 1), p = 0 gives K; dead cells give 0."""
    cells = 200_000
    alive = np.ones(cells, bool)
    got = simulate_purchase_counts(np.random.default_rng(3), alive, lam, p, 1.0)
    want = _direct_counts(np.random.default_rng(4), alive, np.full(cells, lam), np.full(cells, p), 1.0)
    bins = [np.bincount(np.minimum(c, 8), minlength=9) for c in (got, want)]
    table = np.array(bins)
    table = table[:, table.sum(axis=0) > 0]
    assert stats.chi2_contingency(table).pvalue > 1e-3, table
    if p == 1.0:
        assert got.max() == 1
    np.testing.assert_array_equal(simulate_purchase_counts(np.random.default_rng(3), ~alive[:10], lam, p, 1.0), 0)


def test_count_shapes_and_dtype():
    """Broadcast shape and int64 for scalars, a horizon per draw and empty input."""
    rng = np.random.default_rng(0)
    assert simulate_purchase_counts(rng, True, 2.0, 0.1, 10.0).shape == ()
    alive, lam, p = _direct_latents(rng, *PARAMS, X, T_X, T)
    counts = simulate_purchase_counts(rng, alive, lam, p, np.linspace(1, 80, S)[:, None])
    assert counts.shape == (S, N) and counts.dtype == np.int64 and (counts[~alive] == 0).all()
    assert simulate_purchase_counts(rng, np.ones((0, 3), bool), 1.0, 0.5, 1.0).shape == (0, 3)
