"""Bayesian MBG/NBD: the fused numba kernel (clvmodels.inference.bayes.fast_loglik_mbgnbd), the
PyTensor reference (pytensor_loglik.mbgnbd_loglik) and the numpy likelihood of
clvmodels.formulas.mbgnbd are one likelihood, with gradients against finite differences; heavy
buyers (x up to 10,000) and ten years of days (T = 3,650) included."""

from __future__ import annotations

import numpy as np
import pytest

from clvmodels.formulas import mbgnbd
from clvmodels.inference.bayes import fast_loglik_mbgnbd as fast

# (r, alpha, a, b): the CDNOW estimates (lifetimes and BTYDplus agree: r = 0.525, alpha = 6.183,
# a = 0.891, b = 1.614), and two far from them
PARAMS = [(0.525, 6.183, 0.891, 1.614), (0.05, 900.0, 4.0, 0.2), (12.0, 0.3, 0.05, 30.0)]


def _rows(seed=0, n=300):
    rng = np.random.default_rng(seed)
    T = rng.uniform(1.0, 3650.0, n)
    x = rng.choice([0, 1, 2, 7, 300, 10_000], n).astype(float)
    t_x = np.where(x > 0, T * rng.uniform(0.0, 1.0, n), 0.0)
    t_x[::9] = T[::9]
    return x, t_x, T, rng.integers(1, 30, n).astype(float)


def _kernel(log_theta, rows):
    return fast.mbgnbd_loglik_grad(np.atleast_2d(log_theta), *rows.args())


@pytest.mark.parametrize("params", PARAMS)
def test_kernel_equals_numpy_and_pytensor(params):
    import pytensor
    import pytensor.tensor as pt

    from clvmodels.inference.bayes.pytensor_loglik import mbgnbd_loglik

    x, t_x, T, w = _rows()
    log_theta = np.log(params)
    value, grad = mbgnbd.neg_log_likelihood_and_grad(log_theta, x.astype(np.int64), t_x, T, w)
    ll, g = _kernel(log_theta, fast.prepare_mbgnbd(x, t_x, T, w))
    assert ll == pytest.approx(-value, rel=1e-11)
    np.testing.assert_allclose(g[0], -grad, rtol=1e-9, atol=1e-9 * np.abs(grad).max())
    lt = pt.dvector("lt")
    th = pt.exp(lt)
    total = (w * mbgnbd_loglik(th[0], th[1], th[2], th[3], x, t_x, T)).sum()
    ll_pt, g_pt = pytensor.function([lt], [total, pt.grad(total, lt)])(log_theta)
    assert float(ll_pt) == pytest.approx(-value, rel=1e-11)
    np.testing.assert_allclose(g_pt, -grad, rtol=1e-9, atol=1e-9 * np.abs(grad).max())


@pytest.mark.parametrize("params", PARAMS)
def test_kernel_gradient_matches_finite_differences(params):
    x, t_x, T, w = _rows(seed=1, n=100)
    rows = fast.prepare_mbgnbd(x, t_x, T, w)
    log_theta = np.log(params)
    _, grad = _kernel(log_theta, rows)
    h = 1e-5
    for k in range(4):
        step = np.zeros(4)
        step[k] = h
        numeric = (_kernel(log_theta + step, rows)[0] - _kernel(log_theta - step, rows)[0]) / (2 * h)
        assert grad[0, k] == pytest.approx(numeric, rel=1e-6, abs=1e-3)


def test_segments_add_up_and_counts_are_repeated_rows():
    x, t_x, T, w = _rows(seed=2, n=80)
    segment = np.random.default_rng(2).integers(0, 3, x.size)
    log_theta = np.log(np.array(PARAMS))
    ll, grad = fast.mbgnbd_loglik_grad(log_theta, *fast.prepare_mbgnbd(x, t_x, T, w, segment, 3).args())
    total = 0.0
    for g in range(3):
        keep = segment == g
        part, gradient = _kernel(log_theta[g], fast.prepare_mbgnbd(x[keep], t_x[keep], T[keep], w[keep]))
        total += part
        np.testing.assert_allclose(grad[g], gradient[0], rtol=1e-11)
    assert ll == pytest.approx(total, rel=1e-12)
    repeated = np.repeat(np.arange(x.size), w.astype(int))
    once = _kernel(log_theta[0], fast.prepare_mbgnbd(x[repeated], t_x[repeated], T[repeated], np.ones(repeated.size)))
    assert once[0] == pytest.approx(_kernel(log_theta[0], fast.prepare_mbgnbd(x, t_x, T, w))[0], rel=1e-12)
