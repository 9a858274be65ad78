"""The fast paths of customer value and win-back scoring give the same numbers as the plain ones.

Chunks run on threads (``clvmodels.models.scoring.N_THREADS``, set from CLVMODELS_THREADS): each
chunk has its own random stream, keyed by its index, and shared per-draw sums (group totals,
referral credit) are added in chunk order, so 1 and 4 threads must give bit-identical tables.
"""

import numpy as np
import pandas as pd
import pytest

from clvmodels.models import scoring
from clvmodels.value.customer_value import value_run
from clvmodels.value.referrals import Referrals
from test_value_referral_accounting import BG, GG, _world
from test_value_support import fixed_models

# a Laplace covariance on log-parameters, so that draws differ and intervals are not points
BG_COV = np.diag([0.01, 0.01, 0.02, 0.02])
GG_COV = np.diag([0.01, 0.01, 0.01])


@pytest.fixture(scope="module")
def world():
    summary, table = _world(np.random.default_rng(7), 600, 150)
    models = fixed_models(BG, GG, time_unit="W", bg_cov_log=BG_COV, gg_cov_log=GG_COV)
    return summary, table, models


def _run(world, threads, monkeypatch, uncertainty, **settings):
    summary, table, models = world
    monkeypatch.setattr(scoring, "N_THREADS", threads)
    return value_run(*models, summary, referrals=Referrals(table, share=0.5), uncertainty=uncertainty,
                     n_draws=40, seed=3, rollup_by=[None, "channel"], chunk_size=64,
                     margin=0.3, horizon=52, discount_rate=0.1, cost_per_transaction=1.0, **settings)


@pytest.mark.filterwarnings("ignore::clvmodels.errors.ConvergenceWarning")
@pytest.mark.parametrize("uncertainty", ["expected", "predictive"])
def test_one_and_four_threads_give_identical_customer_tables_and_rollups(world, monkeypatch,
                                                                         uncertainty):
    """600 customers in 10 chunks of 64, 150 of them referred (referrers spread over chunks), two
    rollups: every column of the customer table and of both rollup views is bit-identical with 1
    and with 4 threads, and the intervals are not degenerate (the check has something to see)."""
    one = _run(world, 1, monkeypatch, uncertainty)
    four = _run(world, 4, monkeypatch, uncertainty)
    pd.testing.assert_frame_equal(one.customers, four.customers, check_exact=True)
    width = one.customers["net_value_upper"] - one.customers["net_value_lower"]
    assert (width > 0).mean() > 0.5
    for by in (None, "channel"):
        for attribution in (False, True):
            pd.testing.assert_frame_equal(one.rollup(by, attribution=attribution),
                                          four.rollup(by, attribution=attribution), check_exact=True)


# ----- the sparse simulator has the distribution of the dense one ------------------------------------
HISTORIES = {"one-time buyer": (0.0, 0.0, 30.0), "three purchases": (3.0, 20.0, 35.0),
             "ten, recent": (10.0, 34.0, 35.0)}


def _futures(sparse: bool, x, t_x, T, mbar, horizon, rate, n_sims, seed):
    from clvmodels.formulas import future_simulation, individual

    bg = {k: np.full((n_sims, 1), v) for k, v in BG.items()}
    gg = {k: np.full((n_sims, 1), v) for k, v in GG.items()}
    rng = np.random.default_rng(seed)
    x, t_x, T, mbar = (np.array([v]) for v in (x, t_x, T, mbar))
    if sparse:
        return future_simulation.simulate_bgnbd_futures(
            rng, *bg.values(), x, t_x, T, horizon, rate, spend_shape=gg["p"],
            nu_shape=gg["p"] * x + gg["q"], nu_rate=gg["gamma"] + x * mbar)
    alive, lam, p = individual.sample_bgnbd_latents(rng, *bg.values(), x, t_x, T)
    nu = individual.sample_gg_nu(rng, *gg.values(), x, mbar)
    return future_simulation.simulate_discounted_purchases(rng, alive, lam, p, horizon, rate,
                                                    spend_shape=gg["p"], nu=nu)


@pytest.mark.parametrize("rate", [0.002, 0.0])
@pytest.mark.parametrize("history", list(HISTORIES))
def test_sparse_simulation_matches_the_dense_one_in_distribution(history, rate):
    """simulate_bgnbd_futures draws only what a future depends on (nothing after death at T or
    without a potential purchase; one Gamma(N p) spend total when undiscounted). Against the
    dense path (sample_bgnbd_latents + sample_gg_nu + simulate_discounted_purchases) on 100,000
    futures each, over 52 weeks at CDNOW parameters: the means of every output agree within 5
    standard errors of their difference, P(no purchase) too, and a two-sample KS test of the
    discounted spend does not reject (p > 1e-3); fixed seeds, so the check is deterministic."""
    from scipy.stats import ks_2samp

    x, t_x, T = HISTORIES[history]
    args = (x, t_x, T, 35.0 if x > 0 else 0.0, 52.0, rate, 100_000)
    sparse, dense = _futures(True, *args, seed=11), _futures(False, *args, seed=12)
    for name in ("count", "discounted_count", "alive_time", "discounted_alive_time",
                 "discounted_spend"):
        a, b = np.ravel(getattr(sparse, name)).astype(float), np.ravel(getattr(dense, name)).astype(float)
        se = np.sqrt(a.var() / a.size + b.var() / b.size)
        assert abs(a.mean() - b.mean()) <= 5 * se + 1e-12, name
    zero_s, zero_d = (np.ravel(f.count) == 0 for f in (sparse, dense))
    assert abs(zero_s.mean() - zero_d.mean()) <= 5 * np.sqrt(0.5 / zero_s.size)
    assert ks_2samp(np.ravel(sparse.discounted_spend), np.ravel(dense.discounted_spend)).pvalue > 1e-3
    if rate == 0:  # undiscounted: discounted quantities are the plain ones
        np.testing.assert_array_equal(sparse.discounted_count, sparse.count)
        np.testing.assert_array_equal(sparse.discounted_alive_time, sparse.alive_time)


# ----- win-back scoring on threads -------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore::clvmodels.errors.ConvergenceWarning")
def test_winback_targets_are_identical_on_one_and_four_threads(monkeypatch):
    """CDNOW's lapsed customers (no purchase in the last 26 of 39 weeks) scored in chunks of 100
    (so that the threads share the work), with an assumed 5% uplift and 40 draws: the whole
    campaign list, intervals included, is bit-identical with 1 and 4 threads; the value interval
    is not degenerate."""
    from clvmodels import BetaGeoModel, GammaGammaModel, lapsed_customers, winback_targets
    from clvmodels.datasets import load_cdnow_summary
    from clvmodels.reactivation import incremental

    cdnow = load_cdnow_summary()
    bg, gg = BetaGeoModel().fit(cdnow), GammaGammaModel().fit(cdnow)
    lapsed = lapsed_customers(cdnow, window=182)
    monkeypatch.setattr(incremental, "chunk_size_for", lambda *a, **k: 100)
    lists = []
    for threads in (1, 4):
        monkeypatch.setattr(scoring, "N_THREADS", threads)
        lists.append(winback_targets(lapsed, bg, gg, uplift=0.05, sequence=[("letter", 0.75, 0)],
                                     margin=0.3, horizon=520, discount_rate=0.1, n_draws=40, seed=5,
                                     include_rejected=True))
    assert len(lists[0]) > 1000
    pd.testing.assert_frame_equal(lists[0], lists[1], check_exact=True)
    assert (lists[0]["expected_value_upper"] > lists[0]["expected_value_lower"]).mean() > 0.5


def test_distinct_rows_is_numpys_unique_of_rows():
    """distinct_rows (one int64 code per row) returns exactly np.unique(rows, axis=0)'s first
    indices and inverse, for ties, single rows and many columns."""
    from clvmodels.value.expected import distinct_rows

    rng = np.random.default_rng(0)
    for n in (1, 2, 50, 5_000):
        cols = [rng.integers(0, 4, n).astype(float), rng.integers(0, 3, n) * 0.5,
                rng.random(n).round(1), np.zeros(n)]
        first, inverse = distinct_rows(*cols)
        _, want_first, want_inverse = np.unique(np.column_stack(cols), axis=0, return_index=True,
                                                return_inverse=True)
        np.testing.assert_array_equal(first, want_first)
        np.testing.assert_array_equal(inverse, want_inverse.ravel())


@pytest.mark.parametrize("n, pr", [(0.243, 0.46), (1.5, 0.9), (5.0, 0.3), (0.8, 0.02)])
def test_negative_binomial_given_at_least_one_purchase(n, pr):
    """The potential purchases of a buyer, NB(n, pr) given K >= 1 (inversion where P(K=0) > 1/2,
    rejection otherwise), against scipy.stats.nbinom's pmf divided by 1 - pmf(0): frequencies of
    K = 1..6 within 5 standard errors and the mean within 5 standard errors, 200,000 draws."""
    from scipy.stats import nbinom

    from clvmodels.formulas.future_simulation import _negative_binomial_at_least_one

    size = 200_000
    k = _negative_binomial_at_least_one(np.random.default_rng(4), np.full(size, n), np.full(size, pr),
                                        np.full(size, n * np.log(pr)))
    assert k.min() >= 1
    truncated = nbinom(n, pr)
    for value in range(1, 7):
        want = truncated.pmf(value) / truncated.sf(0)
        assert abs((k == value).mean() - want) <= 5 * np.sqrt(want * (1 - want) / size) + 1e-12
    mean = truncated.mean() / truncated.sf(0)
    assert abs(k.mean() - mean) <= 5 * k.std() / np.sqrt(size)


def test_alive_branch_tables_per_segment_equal_the_per_chunk_computation(monkeypatch):
    """A model pooled by segment gets its alive-branch tables once per distinct (x, T, segment);
    the values equal those each chunk computes for itself (the path taken when the tables would
    be too large), for point values and both interval kinds."""
    import clvmodels
    from clvmodels.datasets import simulate_summary
    from clvmodels.value import engine

    a = simulate_summary(1_500, r=0.25, alpha=4.0, a=0.8, b=2.5, p=6.0, q=3.7, gamma=15.0, seed=1)
    b = simulate_summary(1_500, r=0.6, alpha=3.0, a=0.5, b=3.0, p=6.0, q=3.7, gamma=25.0, seed=2,
                         id_offset=10_000)
    summary = pd.concat([a.assign(channel="a"), b.assign(channel="b")])
    summary.attrs = a.attrs
    bg = clvmodels.BetaGeoModel(pool_by="channel").fit(summary)
    gg = clvmodels.GammaGammaModel(pool_by="channel").fit(summary)

    def values(uncertainty):
        return clvmodels.customer_value(bg, gg, summary, margin=0.3, horizon=52, uncertainty=uncertainty,
                                        n_draws=50, seed=4, chunk_size=700)

    with_tables = {u: values(u) for u in (None, "expected", "predictive")}
    real_distinct = engine.distinct_rows

    def no_tables(*columns):  # report more distinct rows than the table budget allows
        first, inverse = real_distinct(*columns)
        return np.broadcast_to(first[:1], (400_000_000,)), inverse  # a view: no memory

    monkeypatch.setattr(engine, "distinct_rows", no_tables)
    for uncertainty, expected in with_tables.items():
        pd.testing.assert_frame_equal(values(uncertainty), expected, rtol=1e-12)
