"""The BG/NBD objective's per-value tables: equal to the per-customer log-likelihood summed, and
never stale when the rows change (also in place) between calls."""

import numpy as np

from clvmodels.formulas import bgnbd


def _rows(seed, n=400):
    rng = np.random.default_rng(seed)
    T = rng.integers(20, 40, n) / 7.0 * 7  # few distinct ages, as whole days give
    x = rng.poisson(1.5, n)
    t_x = np.where(x > 0, np.round(rng.uniform(0, 1, n) * T, 2), 0.0)
    w = rng.integers(1, 5, n).astype(float)
    return x, t_x, T.astype(float), w


def _direct(log_params, x, t_x, T, w):
    r, alpha, a, b = np.exp(log_params)
    return -float(w @ bgnbd.log_likelihood(r, alpha, a, b, x, t_x, T))


def test_value_equals_summed_log_likelihood_and_gradient_its_derivative():
    x, t_x, T, w = _rows(0)
    lp = np.log([0.243, 4.414, 0.793, 2.426])  # FHL 2005 CDNOW estimates, any point would do
    value, grad = bgnbd.neg_log_likelihood_and_grad(lp, x, t_x, T, w)
    np.testing.assert_allclose(value, _direct(lp, x, t_x, T, w), rtol=1e-13)
    step = 1e-6
    numeric = [(_direct(lp + step * e, x, t_x, T, w) - _direct(lp - step * e, x, t_x, T, w)) / (2 * step)
               for e in np.eye(4)]
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-6)


def test_changed_rows_rebuild_the_tables():
    lp = np.log([0.5, 3.0, 1.2, 2.0])
    x, t_x, T, w = _rows(1)
    first = bgnbd.neg_log_likelihood_and_grad(lp, x, t_x, T, w)
    T[:50] += 1.0  # in place: the same array objects, other contents
    w[-3:] = 7.0
    again = bgnbd.neg_log_likelihood_and_grad(lp, x, t_x, T, w)
    np.testing.assert_allclose(again[0], _direct(lp, x, t_x, T, w), rtol=1e-13)
    assert again[0] != first[0]
    other = _rows(2)
    np.testing.assert_allclose(bgnbd.neg_log_likelihood_and_grad(lp, *other)[0], _direct(lp, *other), rtol=1e-13)


def test_float_and_integer_frequencies_and_no_weights_agree():
    lp = np.log([0.3, 5.0, 0.8, 2.5])
    x, t_x, T, _ = _rows(3)
    as_int = bgnbd.neg_log_likelihood_and_grad(lp, x, t_x, T, None)
    as_float = bgnbd.neg_log_likelihood_and_grad(lp, x.astype(float), t_x, T, np.ones(x.size))
    np.testing.assert_allclose(as_int[0], as_float[0], rtol=1e-14)
    np.testing.assert_allclose(as_int[1], as_float[1], rtol=1e-12)
