"""Bayesian Pareto/NBD: the fused numba kernel, the PyTensor reference and the numpy likelihood are
one likelihood; the fast log posterior equals PyMC's; nutpie's posterior sits on the MLE.

Extremes: alpha above and below beta by orders of magnitude, x up to 10,000, T of ten years of days
(3,650), customers observed at their last purchase (t_x = T).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from clvmodels.families.paretonbd import PARETONBD
from clvmodels.formulas import paretonbd
from clvmodels.inference.bayes import fast_loglik_pnbd as fast


def _extreme_rows(seed=0, n=300):
    rng = np.random.default_rng(seed)
    T = rng.uniform(1.0, 3650.0, n)
    x = rng.choice([0, 1, 3, 40, 10_000], n).astype(float)
    t_x = np.where(x > 0, T * rng.uniform(0.0, 1.0, n), 0.0)
    t_x[::10] = T[::10]
    x[::10] = np.maximum(x[::10], 1.0)
    return x, t_x, T, rng.integers(1, 9, n).astype(float)


PARAMS = [(0.5534, 10.580, 0.6061, 11.656), (0.3, 0.5, 0.8, 400.0), (2.0, 300.0, 0.2, 0.7),
          (25.0, 40.0, 12.0, 3.0), (0.05, 2000.0, 3.0, 2000.0)]


def _pytensor_function(x, t_x, T, w):
    import pytensor
    import pytensor.tensor as pt

    from clvmodels.inference.bayes.pytensor_loglik import paretonbd_loglik

    log_theta = pt.dvector("log_theta")
    theta = pt.exp(log_theta)
    total = (w * paretonbd_loglik(theta[0], theta[1], theta[2], theta[3], x, t_x, T)).sum()
    return pytensor.function([log_theta], [total, pt.grad(total, log_theta)])


def test_fast_kernel_pytensor_and_numpy_are_one_likelihood():
    """Weighted log-likelihood and its gradient in log-parameters: numpy (formulas.paretonbd),
    the fused kernel and the PyTensor graph agree to 1e-10 (value) and 1e-7 (gradient)."""
    x, t_x, T, w = _extreme_rows()
    reference = _pytensor_function(x, t_x, T, w)
    rows = fast.prepare_pnbd(x, t_x, T, w)
    for params in PARAMS:
        log_theta = np.log(params)
        value, grad = paretonbd.neg_log_likelihood_and_grad(log_theta, x.astype(np.int64), t_x, T, w)
        ll_fast, grad_fast = fast.pnbd_loglik_grad(log_theta.reshape(1, 4), *rows.args())
        ll_pt, grad_pt = reference(log_theta)
        scale = np.abs(grad).max()
        assert ll_fast == pytest.approx(-value, rel=1e-10)
        assert float(ll_pt) == pytest.approx(-value, rel=1e-10)
        np.testing.assert_allclose(grad_fast[0], -grad, rtol=1e-7, atol=1e-9 * scale)
        np.testing.assert_allclose(grad_pt, -grad, rtol=1e-7, atol=1e-9 * scale)


def test_pytensor_gradient_matches_finite_differences():
    x, t_x, T, w = _extreme_rows(seed=2, n=80)
    reference = _pytensor_function(x, t_x, T, w)
    for params in PARAMS[:3]:
        log_theta = np.log(params)
        _, grad = reference(log_theta)
        h = 1e-4  # the totals are ~1e6 (x = 10,000): smaller steps drown in rounding
        for k in range(4):
            step = np.zeros(4)
            step[k] = h
            numeric = (float(reference(log_theta + step)[0]) - float(reference(log_theta - step)[0])) / (2 * h)
            assert grad[k] == pytest.approx(numeric, rel=1e-7, abs=2e-4)


@pytest.mark.slow  # PyTensor compiles the 24-panel quadrature graph: 30-140 s on a shared machine
def test_log_density_equals_pymc_model_logp_pooled_and_by_segment():
    """The fast log posterior (likelihood + the family's default priors) and its gradient equal the
    logp PyMC compiles for the reference model, pooled and pooled by segment."""
    from dataclasses import replace

    from clvmodels.inference.bayes.hierarchical import SegmentLayout
    from clvmodels.inference.bayes.log_density import make_log_density
    from clvmodels.inference.bayes.pytensor_loglik import build_pymc_model
    from clvmodels.inference.bayes.spec import family_spec

    x, t_x, T, w = _extreme_rows(seed=3, n=120)
    t_x, T = t_x / 20.0, T / 20.0  # half a year of weeks
    seg = np.random.default_rng(3).integers(0, 3, x.size)
    pooled = family_spec(PARETONBD, (x, t_x, T), w)
    by_segment = replace(family_spec(PARETONBD, (x, t_x, T), w, segment=seg),
                         layout=SegmentLayout(np.zeros(3, bool), np.zeros((3, 4)), np.tile(np.eye(4), (3, 1, 1))))
    rng = np.random.default_rng(9)
    for spec in (pooled, by_segment):
        density = make_log_density(spec)
        model = build_pymc_model(spec)
        k = density.k
        u = rng.normal(0.5, 0.3, density.n_dim)
        point = {}
        for j, name in enumerate(spec.names):
            if spec.hierarchical:
                point[f"zeta_{name}"] = u[j]
                point[f"sigma_log_{name}_log__"] = u[k + j]
                point[f"v_{name}"] = u[2 * k:].reshape(-1, k)[:, j]
            else:
                point[f"log_{name}"] = u[j]
        logp, grad = density(u)
        assert logp == pytest.approx(float(model.compile_logp()(point)), rel=1e-10)
        pymc_grad = model.compile_dlogp()(point)
        sizes = [np.size(point[v.name]) for v in model.value_vars]
        by_name = dict(zip([v.name for v in model.value_vars], np.split(pymc_grad, np.cumsum(sizes)[:-1])))
        for j, name in enumerate(spec.names):
            if spec.hierarchical:
                np.testing.assert_allclose(grad[2 * k:].reshape(-1, k)[:, j], by_name[f"v_{name}"], rtol=1e-7, atol=1e-7)
                assert grad[j] == pytest.approx(by_name[f"zeta_{name}"][0], rel=1e-7, abs=1e-7)
            else:
                assert grad[j] == pytest.approx(by_name[f"log_{name}"][0], rel=1e-7, abs=1e-7)


@pytest.mark.slow  # 7-30 s of sampling on a shared 2-core machine
def test_nutpie_posterior_on_cdnow_sits_on_the_mle():
    """nutpie with the fused kernel on the CDNOW 1/10 sample (2,357 customers, 39 weeks; 4 chains x 600
    draws, a few seconds): R-hat
    <= 1.01 and each posterior mean of a log-parameter within one posterior sd of the MLE (BTYD
    vignette MLE: r = 0.5534, alpha = 10.580, s = 0.6061, beta = 11.656; LL = -9594.976)."""
    from clvmodels.datasets import load_cdnow_summary
    from clvmodels.inference.bayes import diagnose, fit_family_bayes
    from clvmodels.inference.compress import compress_rows
    from clvmodels.inference.mle import fit_mle

    summary = load_cdnow_summary()
    rows = compress_rows(*(summary[c].to_numpy(float) for c in PARETONBD.history_columns))
    history, weights = rows.columns, rows.counts.astype(float)
    mle = fit_mle(lambda lp: PARETONBD.neg_log_likelihood_and_grad(lp, *history, weights),
                  PARETONBD.start(*history, weights), names=PARETONBD.param_names,
                  n_customers=float(weights.sum()))
    assert mle.log_likelihood == pytest.approx(-9594.976, abs=2e-3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        idata = fit_family_bayes(PARETONBD, history, weights, chains=4, draws=600, tune=600, seed=4)
    assert idata.attrs["kernel"] != "fallback"
    assert float(diagnose(idata)["max_rhat"]) <= 1.01
    for j, name in enumerate(PARETONBD.param_names):
        log_draws = np.log(idata.posterior[name].to_numpy().ravel())
        assert abs(log_draws.mean() - mle.log_params[j]) < log_draws.std(), name
