"""The fused Pareto/NBD kernel (clvmodels.inference.bayes.fast_loglik_pnbd) against the numpy
likelihood of clvmodels.formulas.paretonbd, and its gradient against finite differences.

The numpy likelihood is itself checked against mpmath and the BTYD vignette in
tests/test_formulas_paretonbd.py; here the fast kernel must give the same numbers (1e-10 relative:
the numbers of the MLE may not change) on rows that exercise both hypergeometric branches
(alpha above and below beta), heavy buyers (x up to 10,000), ten years of days (T = 3,650) and
customers observed at their last purchase (t_x = T).
"""

from __future__ import annotations

import numpy as np
import pytest

from clvmodels.formulas import paretonbd
from clvmodels.inference.bayes import fast_loglik_pnbd as fast


def _rows(rng, n=400, T_max=3650.0):
    T = rng.uniform(1.0, T_max, n)
    x = rng.choice([0, 1, 2, 5, 30, 400, 10_000], n).astype(float)
    t_x = np.where(x > 0, T * rng.uniform(0.0, 1.0, n), 0.0)
    t_x[::17] = T[::17]  # observed at the last purchase: the death term vanishes
    x[::17] = np.maximum(x[::17], 1.0)
    order = np.lexsort((T, t_x, x))  # distinct rows come sorted by frequency first
    weights = rng.integers(1, 50, n).astype(float)
    return x[order], t_x[order], T[order], weights[order]


# (r, alpha, s, beta): CDNOW (BTYD vignette), alpha far below beta, alpha far above beta, large shapes
PARAMS = [(0.5534, 10.580, 0.6061, 11.656), (0.3, 0.5, 0.8, 400.0), (2.0, 300.0, 0.2, 0.7),
          (25.0, 40.0, 12.0, 3.0)]


@pytest.mark.parametrize("params", PARAMS)
def test_fast_kernel_equals_numpy_likelihood_and_gradient(params):
    rng = np.random.default_rng(7)
    x, t_x, T, w = _rows(rng)
    log_params = np.log(params)
    value, grad = paretonbd.neg_log_likelihood_and_grad(log_params, x.astype(np.int64), t_x, T, w)
    value_fast, grad_fast = fast.neg_log_likelihood_and_grad(log_params, x, t_x, T, w)
    assert value_fast == pytest.approx(value, rel=1e-10)
    np.testing.assert_allclose(grad_fast, grad, rtol=1e-8, atol=1e-8 * np.abs(grad).max())


@pytest.mark.parametrize("params", PARAMS)
def test_fast_gradient_matches_finite_differences(params):
    rng = np.random.default_rng(11)
    x, t_x, T, w = _rows(rng, n=200)
    log_params = np.log(params)
    _, grad = fast.neg_log_likelihood_and_grad(log_params, x, t_x, T, w)
    h = 1e-6
    for k in range(4):
        step = np.zeros(4)
        step[k] = h
        up = fast.neg_log_likelihood_and_grad(log_params + step, x, t_x, T, w)[0]
        down = fast.neg_log_likelihood_and_grad(log_params - step, x, t_x, T, w)[0]
        assert grad[k] == pytest.approx((up - down) / (2 * h), rel=1e-5, abs=1e-4)


def test_weights_equal_repeated_rows_and_segments_add_up():
    """Counts are repeated rows; a model pooled by segment is the sum of per-segment kernels."""
    rng = np.random.default_rng(3)
    x, t_x, T, w = _rows(rng, n=60, T_max=300.0)
    w = rng.integers(1, 4, x.size).astype(float)
    log_params = np.log(PARAMS[0])
    repeated = np.repeat(np.arange(x.size), w.astype(int))
    a = fast.neg_log_likelihood_and_grad(log_params, x, t_x, T, w)
    b = fast.neg_log_likelihood_and_grad(log_params, x[repeated], t_x[repeated], T[repeated], None)
    assert a[0] == pytest.approx(b[0], rel=1e-12)
    np.testing.assert_allclose(a[1], b[1], rtol=1e-10)

    segment = rng.integers(0, 3, x.size)
    log_theta = np.log(np.array(PARAMS[:3]))
    rows = fast.prepare_pnbd(x, t_x, T, w, segment, 3)
    ll, grad = fast.pnbd_loglik_grad(log_theta, *rows.args())
    total = 0.0
    for g in range(3):
        keep = segment == g
        value, gradient = fast.neg_log_likelihood_and_grad(log_theta[g], x[keep], t_x[keep], T[keep], w[keep])
        total -= value
        np.testing.assert_allclose(grad[g], -gradient, rtol=1e-10, atol=1e-9)
    assert ll == pytest.approx(total, rel=1e-12)


def test_single_customer_at_published_parameters():
    """BTYD vignette (Pareto/NBD on CDNOW, 39 weeks): r = 0.5534, alpha = 10.580, s = 0.6061,
    beta = 11.656, LL = -9594.976 over the 2,357 customers; here one customer, numpy = kernel."""
    x, t_x, T = np.array([26.0]), np.array([30.85714]), np.array([31.0])  # customer 1516
    log_params = np.log(PARAMS[0])
    expected = -paretonbd.log_likelihood(*PARAMS[0], x, t_x, T).sum()
    assert fast.neg_log_likelihood_and_grad(log_params, x, t_x, T, None)[0] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("k1, P, k2, Q", [(1.55, 12.0, 1.61, 14.0), (30.0, 50.0, 0.7, 20.0),
                                          (0.6, 3.0, 1.2, 7.0), (3.0, 40.0, 5.0, 25.0)])
def test_tail_series_equals_quadrature(k1, P, k2, Q):
    """The two routes of fast_pnbd_tail.tail (hypergeometric series, log-time quadrature) give the
    same log T and derivatives where both apply (alpha and beta within a factor of ~3)."""
    from clvmodels.inference.bayes import fast_pnbd_tail as tail

    em, scratch, series = np.empty(12), np.empty(5), np.empty(5)
    tail.tail(k1, P, k2, Q, em, scratch, series)
    tail.power_integral(k1, P, k2, Q, np.inf, em, scratch)
    J = scratch[0]
    quad = [np.log(J) - k1 * np.log(P) - k2 * np.log(Q), -np.log(P) - scratch[1] / J,
            -np.log(Q) - scratch[3] / J, -k1 / P * (1 - scratch[2] / J), -k2 / Q * (1 - scratch[4] / J)]
    np.testing.assert_allclose(series, quad, rtol=1e-11, atol=1e-13)
    # and log T against mpmath's 2F1 at 30 digits: T = H^-a 2F1(a, b; a + 1; 1 - L/H) / a with
    # H, L the larger and smaller of P, Q, b the exponent of L and a = k1 + k2 - 1
    import mpmath

    with mpmath.workdps(30):
        (H, _), (L, b) = sorted([(P, k1), (Q, k2)], reverse=True)
        a = k1 + k2 - 1
        exact = mpmath.mpf(H) ** -a * mpmath.hyp2f1(a, b, a + 1, 1 - mpmath.mpf(L) / H) / a
        assert series[0] == pytest.approx(float(mpmath.log(exact)), rel=1e-13)
