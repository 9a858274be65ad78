"""The compiled future simulation (clvmodels/formulas/timing_kernel.py) has the distribution of the
batched numpy code it replaced, and of the closed forms.

The numpy implementation of ``_discounted_sums`` and of the negative binomial given K >= 1 that
the kernels replaced are kept below as references (test code only). Every check is seeded and
so deterministic; tolerances are 5 standard errors or a KS/chi-square p-value above 1e-3.
"""

from __future__ import annotations

import numba
import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.special import hyp1f1

from clvmodels.formulas import timing_kernel
from clvmodels.formulas.future_simulation import (_negative_binomial_at_least_one,
                                                  simulate_bgnbd_futures)
from clvmodels.formulas.purchase_timing import _discounted_sums


# ----- the numpy reference (the code before the kernel, batches and all) ----------------------------
def _reference_discounted_sums(rng, count, rest, horizon, log_discount, spend_shape, nu):
    """The former numpy ``_discounted_sums`` (one batch; per-purchase spends): flat per-purchase
    arrays, exponential spacings summed per customer, a bincount per sum."""
    discounted, spend, last_time = (np.zeros(count.shape) for _ in range(3))
    rows = np.flatnonzero(count > 0)
    n_rows = count[rows]
    owner = np.repeat(np.arange(rows.size), n_rows)
    e = rng.standard_exponential(owner.size)
    starts = np.cumsum(n_rows) - n_rows
    cumulative = np.cumsum(e) - np.repeat(np.cumsum(e)[starts] - e[starts], n_rows)
    total = cumulative[np.cumsum(n_rows) - 1]
    scale = np.broadcast_to(horizon, count.shape)[rows] / (total + rest[rows])
    times = cumulative * scale[owner]
    weight = np.exp(-np.broadcast_to(log_discount, count.shape)[rows][owner] * times)
    discounted[rows] = np.bincount(owner, weight, minlength=rows.size)
    last_time[rows] = total * scale
    value = rng.standard_gamma(spend_shape[rows][owner]) / nu[rows][owner]
    spend[rows] = np.bincount(owner, weight * value, minlength=rows.size)
    return discounted, spend, last_time


def _reference_nb_at_least_one(rng, n, pr):
    """NB(n, pr) given K >= 1 by plain rejection of Gamma-Poisson draws (the former code's
    fallback, vectorised)."""
    out = np.zeros(n.size, dtype=np.int64)
    todo = np.arange(n.size)
    while todo.size:
        k = rng.poisson(rng.standard_gamma(n[todo]) * (1 - pr[todo]) / pr[todo])
        out[todo[k > 0]] = k[k > 0]
        todo = todo[k == 0]
    return out


# ----- purchase times and discounted sums ------------------------------------------------------------
@pytest.mark.parametrize("n, k", [(1, 1), (3, 5), (7, 7), (2, 30)])
def test_discounted_count_and_spend_have_their_closed_form_means(n, k):
    """N purchases among K potential ones in (0, h]: the times are the first N of K uniform order
    statistics, s_i / h ~ Beta(i, K + 1 - i), so E[discounted count] = sum_i 1F1(i; K + 1; -c h)
    (the Beta's moment generating function) and E[last time] = h N / (K + 1). Given the
    weights, the spend sum of N Gamma(p, rate nu) spends has mean p / nu * sum of weights, so
    spend - p / nu * discounted has mean 0. 200,000 customers, c h = 1.04; within 5 standard
    errors each."""
    size, h, c, p, nu = 200_000, 52.0, 0.02, 6.25, 0.4
    rng = np.random.default_rng(n * 100 + k)
    count = np.full(size, n, dtype=np.int64)
    rest = rng.standard_gamma(k + 1.0 - n, size)
    discounted, spend, last = _discounted_sums(rng, count, rest, h, c, np.full(size, p),
                                               np.full(size, nu), None)
    want = sum(hyp1f1(i, k + 1, -c * h) for i in range(1, n + 1))
    assert abs(discounted.mean() - want) <= 5 * discounted.std() / np.sqrt(size)
    assert abs(last.mean() - h * n / (k + 1)) <= 5 * last.std() / np.sqrt(size)
    gap = spend - p / nu * discounted
    assert abs(gap.mean()) <= 5 * gap.std() / np.sqrt(size)
    assert np.all((discounted > 0) & (discounted <= n) & (last > 0) & (last <= h))


def test_undiscounted_sums_are_the_counts_and_one_gamma_spend_total():
    """At log_discount 0 every factor is 1: the discounted count is N exactly, and the spend
    total (one Gamma(N p) draw) has mean p N / nu and variance p N / nu^2 (within 5 standard
    errors; the variance's standard error from the fourth moment)."""
    size, p, nu = 200_000, 2.5, 0.8
    rng = np.random.default_rng(3)
    count = rng.integers(0, 6, size)
    discounted, spend, last = _discounted_sums(rng, count, rng.standard_exponential(size), 10.0, 0.0,
                                               np.full(size, p), np.full(size, nu), None,
                                               one_spend_draw=True)
    np.testing.assert_array_equal(discounted, count)
    assert np.all(spend[count == 0] == 0) and np.all(last[count == 0] == 0)
    for n in range(1, 6):
        v = spend[count == n]
        assert abs(v.mean() - p * n / nu) <= 5 * v.std() / np.sqrt(v.size)
        centred = (v - p * n / nu) ** 2
        assert abs(centred.mean() - p * n / nu**2) <= 5 * centred.std() / np.sqrt(v.size)


def test_discounted_sums_match_the_numpy_reference_in_distribution():
    """Mixed counts 0-12, a horizon and a discount rate per customer (as the Pareto/NBD passes
    them): the kernel against the former numpy code on 150,000 customers each, two-sample KS of
    the discounted count, spend and last purchase time among buyers (p > 1e-3), and customers
    without purchases are 0 everywhere."""
    size = 150_000
    setup = np.random.default_rng(0)
    count = setup.poisson(1.5, size)
    rest = setup.standard_gamma(1.0 + setup.poisson(1.0, size))
    horizon = setup.uniform(5, 60, size)
    log_discount = setup.choice([0.001, 0.01, 0.05], size)
    shape, nu = setup.uniform(1.5, 8, size), setup.uniform(0.1, 1, size)
    new = _discounted_sums(np.random.default_rng(1), count, rest, horizon, log_discount, shape, nu, None)
    old = _reference_discounted_sums(np.random.default_rng(2), count, rest, horizon, log_discount,
                                     shape, nu)
    buyers = count > 0
    for a, b in zip(new, old):
        assert np.all(a[~buyers] == 0)
        assert stats.ks_2samp(a[buyers], b[buyers]).pvalue > 1e-3


def test_spend_shapes_below_one_and_a_single_shared_horizon():
    """A Gamma-Gamma shape below 1 (numba's own Gamma draw, not Marsaglia-Tsang) and scalar
    horizon / discount: the spend gap spend - p / nu * discounted has mean 0 (5 standard errors)."""
    size, p, nu = 200_000, 0.6, 2.0
    rng = np.random.default_rng(8)
    count = rng.integers(1, 4, size)
    discounted, spend, _ = _discounted_sums(rng, count, rng.standard_exponential(size), 52.0, 0.01,
                                            np.full(size, p), np.full(size, nu), None)
    gap = spend - p / nu * discounted
    assert abs(gap.mean()) <= 5 * gap.std() / np.sqrt(size)


@numba.njit
def _gammas(rng, shape, size):
    out = np.empty(size)
    for i in range(size):
        out[i] = timing_kernel._gamma(rng, shape)
    return out


@pytest.mark.parametrize("shape", [0.3, 1.0, 1.7, 6.25, 80.0])
def test_kernel_gamma_draws_are_numpys_numbers(shape):
    """The kernel's Gamma (Marsaglia-Tsang with constants hoisted out of the purchase loop) is
    numpy's algorithm step for step: the same numbers as rng.standard_gamma from the same seed."""
    np.testing.assert_array_equal(_gammas(np.random.default_rng(5), shape, 2_000),
                                  np.random.default_rng(5).standard_gamma(shape, 2_000))


# ----- the negative binomial given K >= 1 -----------------------------------------------------------
@pytest.mark.parametrize("n, pr", [(3.24, 0.43), (11.0, 0.5), (40.0, 0.5), (2000.0, 0.999), (0.2, 0.05)])
def test_negative_binomial_at_least_one_against_rejection_and_pmf(n, pr):
    """Both routes of the kernel (inversion below mean 12 or where P(K = 0) > 1/2, Gamma-Poisson
    rejection above): 100,000 draws against scipy's pmf / (1 - pmf(0)) by a chi-square test on
    the cells with at least 50 expected draws (the tail pooled), p > 1e-3, and the means of the
    kernel and of the plain rejection reference within 5 standard errors."""
    size = 100_000
    k = _negative_binomial_at_least_one(np.random.default_rng(6), np.full(size, n), np.full(size, pr),
                                        np.full(size, n * np.log(pr)))
    assert k.min() >= 1
    dist = stats.nbinom(n, pr)
    support = np.arange(1, int(dist.ppf(1 - 1e-9)) + 2)
    expected = dist.pmf(support) / dist.sf(0) * size
    keep = expected >= 50
    observed = np.bincount(k, minlength=support[-1] + 1)[support]
    obs = np.append(observed[keep], size - observed[keep].sum())
    exp = np.append(expected[keep], size - expected[keep].sum())
    assert stats.chisquare(obs, exp).pvalue > 1e-3
    ref = _reference_nb_at_least_one(np.random.default_rng(7), np.full(size, n), np.full(size, pr))
    assert abs(k.mean() - ref.mean()) <= 5 * np.sqrt(k.var() / size + ref.var() / size)


# ----- the fused BG/NBD future ------------------------------------------------------------------------
@numba.njit
def _dropouts(rng, a, b, k, size):
    n = np.empty(size, dtype=np.int64)
    dropped = np.empty(size, dtype=np.bool_)
    for i in range(size):
        n[i], dropped[i] = timing_kernel._dropout_within(rng, a, b, k)
    return n, dropped


@pytest.mark.parametrize("a, b, k", [(0.79, 2.43, 1), (0.79, 5.4, 4), (0.2, 30.0, 9)])
def test_dropout_without_drawing_p_is_beta_then_geometric(a, b, k):
    """N = min(K, M) and M <= K with p ~ Beta(a, b), M ~ Geometric(p) integrated out (beta-
    geometric inversion) against drawing p and M as the dense simulator does: chi-square
    homogeneity test of the joint (N, dropped) table of 100,000 draws each, p > 1e-3."""
    size = 100_000
    n, dropped = _dropouts(np.random.default_rng(9), a, b, k, size)
    rng = np.random.default_rng(10)
    m = rng.geometric(rng.beta(a, b, size))
    ref_n, ref_dropped = np.minimum(m, k), m <= k
    cells = k * 2
    table = np.array([np.bincount((n - 1) * 2 + dropped, minlength=cells),
                      np.bincount((ref_n - 1) * 2 + ref_dropped, minlength=cells)])
    table = table[:, table.sum(axis=0) > 0]
    assert stats.chi2_contingency(table).pvalue > 1e-3


def _bgnbd_params(n_draws):
    rng = np.random.default_rng(12)
    base = {"r": 0.243, "alpha": 4.41, "a": 0.793, "b": 2.43}
    return [np.exp(np.log(v) + 0.05 * rng.standard_normal((n_draws, 1))) for v in base.values()]


def test_bgnbd_futures_are_deterministic_for_a_seed_and_shape_agnostic():
    """Same seed, same numbers; an (n,) history against scalar parameters gives the (n,) shape;
    dead cells are 0 everywhere and alive ones without purchases are alive the whole horizon."""
    r, alpha, a, b = _bgnbd_params(50)
    x, t_x, T = np.array([0.0, 2, 7, 1]), np.array([0.0, 10, 30, 3]), np.array([30.0, 35, 35, 38])
    kwargs = dict(spend_shape=np.full((50, 1), 6.0), nu_shape=6.0 * x + 4, nu_rate=15 + x * 30)
    one = simulate_bgnbd_futures(np.random.default_rng(1), r, alpha, a, b, x, t_x, T, 52, 0.002, **kwargs)
    two = simulate_bgnbd_futures(np.random.default_rng(1), r, alpha, a, b, x, t_x, T, 52, 0.002, **kwargs)
    for u, v in zip(one, two):
        np.testing.assert_array_equal(u, v)
    dead = one.alive_time == 0
    assert dead.any() and (~dead).any()
    for v in one:
        assert np.all(v[dead] == 0)
    idle = (one.count == 0) & ~dead
    assert np.all(one.alive_time[idle] == 52)
    flat = simulate_bgnbd_futures(np.random.default_rng(1), 0.243, 4.41, 0.793, 2.43, x, t_x, T, 52, 0.0)
    assert flat.count.shape == (4,) and flat.discounted_spend is None
    np.testing.assert_array_equal(flat.discounted_count, flat.count)


@pytest.mark.parametrize("x, t_x, T, rate", [(0.0, 0.0, 30.0, 0.004), (2.0, 20.0, 30.0, 0.004),
                                             (25.0, 29.0, 30.0, 0.004), (25.0, 29.0, 30.0, 0.0)])
def test_bgnbd_futures_match_the_dense_simulation_with_a_dropout_shift(x, t_x, T, rate):
    """Both routes of the fused kernel (spacings with the negative binomial where P(K = 0) > 1/2,
    the one-time buyer; the walked Poisson process otherwise) with the MBG/NBD's alive shift
    (p ~ Beta(a, b + x + 1)) and a fixed P(alive) of 0.7, against the dense simulation from
    drawn traits (alive ~ Bernoulli(0.7), lambda ~ Gamma(r + x, alpha + T), p ~ Beta(a, b + x +
    1), then simulate_discounted_purchases), 100,000 futures each over 52 weeks with b = 0.5 (so
    that dropout is frequent): every output's mean within 5 standard errors of the difference,
    KS of the discounted spend and the time alive p > 1e-3."""
    from clvmodels.formulas.future_simulation import simulate_discounted_purchases

    size, (r, alpha, a, b), p_spend, q, gamma, mbar = 100_000, (0.243, 4.41, 0.793, 0.5), 6.25, 3.74, 15.4, 35.0
    nu_shape, nu_rate = p_spend * x + q, gamma + x * mbar
    hist = [np.array([v]) for v in (x, t_x, T)]
    fixed = (lambda *args: np.full(np.broadcast_shapes(*(np.shape(v) for v in args)), 0.7))
    sparse = simulate_bgnbd_futures(np.random.default_rng(21), np.full((size, 1), r), alpha, a, b, *hist,
                                    52.0, rate, spend_shape=p_spend, nu_shape=nu_shape, nu_rate=nu_rate,
                                    p_alive_fn=fixed, alive_b_shift=1.0)
    rng = np.random.default_rng(22)
    alive = rng.random((size, 1)) < 0.7
    lam = rng.standard_gamma(r + x, (size, 1)) / (alpha + T)
    drop = rng.beta(a, b + x + 1.0, (size, 1))
    nu = rng.standard_gamma(nu_shape, (size, 1)) / nu_rate
    dense = simulate_discounted_purchases(rng, alive, lam, drop, 52.0, rate, spend_shape=p_spend, nu=nu)
    for name in sparse._fields:
        u, v = (np.ravel(getattr(f, name)).astype(float) for f in (sparse, dense))
        assert abs(u.mean() - v.mean()) <= 5 * np.sqrt(u.var() / size + v.var() / size) + 1e-12, name
    for name in ("discounted_spend", "alive_time"):
        u, v = (np.ravel(getattr(f, name)) for f in (sparse, dense))
        assert stats.ks_2samp(u, v).pvalue > 1e-3, name


# ----- 1 and 2 threads -------------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore::clvmodels.errors.ConvergenceWarning")
@pytest.mark.parametrize("family", ["bgnbd", "mbgnbd", "pnbd"])
def test_predictive_value_is_bit_identical_on_one_and_two_threads(family, monkeypatch):
    """customer_value with predictive intervals on CDNOW (2,357 customers in chunks of 300, 60
    draws), for the three families whose futures use these kernels: every column is the same
    with 1 and with 2 threads, and the intervals are not points."""
    from clvmodels import GammaGammaModel, customer_value
    from clvmodels.datasets import load_cdnow_summary
    from clvmodels.models import scoring
    from clvmodels.models.registry import purchase_model_class

    cdnow = load_cdnow_summary()
    model, gg = purchase_model_class(family)().fit(cdnow), GammaGammaModel().fit(cdnow)
    tables = []
    for threads in (1, 2):
        monkeypatch.setattr(scoring, "N_THREADS", threads)
        tables.append(customer_value(model, gg, cdnow, uncertainty="predictive", n_draws=60, seed=2,
                                     chunk_size=300, margin=0.3, horizon=52, discount_rate=0.1))
    pd.testing.assert_frame_equal(tables[0], tables[1], check_exact=True)
    width = tables[0]["net_value_upper"] - tables[0]["net_value_lower"]
    assert (width > 0).mean() > 0.5
