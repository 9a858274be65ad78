"""One likelihood, three implementations: numpy formulas, PyTensor reference, fused numba kernel.

All fast: no sampling. The data are the CDNOW sample as published with lifetimes (2,357 customers,
weeks), plus extreme customers.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from scipy.special import digamma as scipy_digamma

from clvmodels.formulas import bgnbd, gammagamma
from clvmodels.inference.bayes import fast_loglik, fast_math
from clvmodels.inference.bayes.log_density import make_log_density
from clvmodels.inference.bayes.named import bgnbd_spec, gammagamma_spec


@pytest.fixture(scope="module")
def cdnow():
    from lifetimes.datasets import load_cdnow_summary_data_with_monetary_value

    d = load_cdnow_summary_data_with_monetary_value()
    return {"x": d["frequency"].to_numpy(float), "t_x": d["recency"].to_numpy(float),
            "T": d["T"].to_numpy(float), "mbar": d["monetary_value"].to_numpy(float)}


def _random_params(rng, n=5):
    """Log-uniform parameter sets over a wide range (shape and scale from 0.05 to 20)."""
    return np.exp(rng.uniform(np.log(0.05), np.log(20.0), size=(n, 4)))


def _pytensor_elementwise(fn, n_params):
    import pytensor
    import pytensor.tensor as pt

    params = [pt.dscalar() for _ in range(n_params)]
    data = [pt.dvector() for _ in range(3 if n_params == 4 else 2)]
    return pytensor.function(params + data, fn(*params, *data))


def test_pytensor_and_numpy_loglik_agree_at_random_parameters(cdnow):
    """The PyTensor BG/NBD and Gamma-Gamma log-likelihoods equal the numpy formulas per customer
    to 1e-9 at random parameters (design principle "one likelihood, two backends")."""
    from clvmodels.inference.bayes.pytensor_loglik import bgnbd_loglik, gammagamma_loglik

    rng = np.random.default_rng(1)
    bg = _pytensor_elementwise(bgnbd_loglik, 4)
    gg = _pytensor_elementwise(gammagamma_loglik, 3)
    rep = cdnow["x"] > 0
    for r, alpha, a, b in _random_params(rng):
        got = bg(r, alpha, a, b, cdnow["x"], cdnow["t_x"], cdnow["T"])
        want = bgnbd.log_likelihood(r, alpha, a, b, cdnow["x"], cdnow["t_x"], cdnow["T"])
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)
    for p, q, gamma, _ in _random_params(rng):
        got = gg(p, q, gamma, cdnow["x"][rep], cdnow["mbar"][rep])
        want = gammagamma.log_likelihood(p, q, gamma, cdnow["x"][rep], cdnow["mbar"][rep])
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)


def test_fast_kernel_matches_published_cdnow_log_likelihood(cdnow):
    """Fader, Hardie & Lee (2005), section 5: at r=0.243, alpha=4.414, a=0.793, b=2.426 the
    CDNOW calibration log-likelihood is -9582.4 (rounded parameters; tolerance 0.1)."""
    rows = fast_loglik.prepare_bgnbd(cdnow["x"], cdnow["t_x"], cdnow["T"], np.ones(cdnow["x"].size))
    ll, _ = fast_loglik.bgnbd_loglik_grad(np.log([[0.243, 4.414, 0.793, 2.426]]), *rows.args())
    assert ll == pytest.approx(-9582.4, abs=0.1)


def _compressed(cdnow, columns):
    import pandas as pd

    frame = pd.DataFrame({c: cdnow[c] for c in columns})
    grouped = frame.groupby(columns).size().reset_index(name="n")
    return {c: grouped[c].to_numpy(float) for c in columns}, grouped["n"].to_numpy(float)


def test_fast_kernels_equal_numpy_sums_and_gradients(cdnow):
    """The fused kernels on distinct rows with counts give the numpy total log-likelihood (1e-9
    relative) and the gradient of the numpy formulas' ``neg_log_likelihood_and_grad``."""
    rng = np.random.default_rng(2)
    rows_data, counts = _compressed(cdnow, ["x", "t_x", "T"])
    rows = fast_loglik.prepare_bgnbd(rows_data["x"], rows_data["t_x"], rows_data["T"], counts)
    for theta in _random_params(rng):
        ll, grad = fast_loglik.bgnbd_loglik_grad(np.log(theta)[None], *rows.args())
        want = bgnbd.log_likelihood(*theta, cdnow["x"], cdnow["t_x"], cdnow["T"]).sum()
        assert ll == pytest.approx(want, rel=1e-9)
        neg, neg_grad = bgnbd.neg_log_likelihood_and_grad(np.log(theta), cdnow["x"], cdnow["t_x"], cdnow["T"],
                                                          np.ones(cdnow["x"].size))
        assert -neg == pytest.approx(ll, rel=1e-9)
        np.testing.assert_allclose(grad[0], -np.asarray(neg_grad), rtol=1e-7, atol=1e-7 * abs(ll))

    rep = cdnow["x"] > 0
    rows = fast_loglik.prepare_gammagamma(cdnow["x"], cdnow["mbar"], np.ones(cdnow["x"].size))
    for theta in _random_params(rng)[:, :3]:
        ll, grad = fast_loglik.gammagamma_loglik_grad(np.log(theta)[None], *rows.args())
        want = gammagamma.log_likelihood(*theta, cdnow["x"][rep], cdnow["mbar"][rep]).sum()
        assert ll == pytest.approx(want, rel=1e-9)
        _, neg_grad = gammagamma.neg_log_likelihood_and_grad(np.log(theta), cdnow["x"][rep], cdnow["mbar"][rep],
                                                             np.ones(rep.sum()))
        np.testing.assert_allclose(grad[0], -np.asarray(neg_grad), rtol=1e-7, atol=1e-7 * abs(ll))


def test_segmented_kernel_is_the_sum_of_per_segment_kernels(cdnow):
    """With segments, each segment's parameters see only its rows: the total equals the sum of
    pooled kernels on each segment's rows, and each gradient row equals that segment's gradient."""
    rng = np.random.default_rng(3)
    seg = rng.integers(0, 3, cdnow["x"].size)
    w = np.ones(seg.size)
    log_theta = np.log(_random_params(rng, 3))
    rows = fast_loglik.prepare_bgnbd(cdnow["x"], cdnow["t_x"], cdnow["T"], w, seg, 3)
    ll, grad = fast_loglik.bgnbd_loglik_grad(log_theta, *rows.args())
    total = 0.0
    for g in range(3):
        keep = seg == g
        sub = fast_loglik.prepare_bgnbd(cdnow["x"][keep], cdnow["t_x"][keep], cdnow["T"][keep], w[keep])
        ll_g, grad_g = fast_loglik.bgnbd_loglik_grad(log_theta[[g]], *sub.args())
        total += ll_g
        np.testing.assert_allclose(grad[g], grad_g[0], rtol=1e-10, atol=1e-8)
    assert ll == pytest.approx(total, rel=1e-12)

    rows = fast_loglik.prepare_gammagamma(cdnow["x"], cdnow["mbar"], w, seg, 3)
    ll, grad = fast_loglik.gammagamma_loglik_grad(log_theta[:, :3], *rows.args())
    total = 0.0
    for g in range(3):
        keep = seg == g
        sub = fast_loglik.prepare_gammagamma(cdnow["x"][keep], cdnow["mbar"][keep], w[keep])
        ll_g, grad_g = fast_loglik.gammagamma_loglik_grad(log_theta[[g], :3], *sub.args())
        total += ll_g
        np.testing.assert_allclose(grad[g], grad_g[0], rtol=1e-10, atol=1e-8)
    assert ll == pytest.approx(total, rel=1e-12)


def test_fast_kernel_is_finite_and_exact_for_extreme_customers():
    """A customer with 5,000 purchases over ten years of days, and one whose last purchase was
    at the very start: the kernel stays finite and equals the numpy formula."""
    x = np.array([5000.0, 5000.0, 1.0, 0.0, 3.0])
    t_x = np.array([3650.0, 1.0, 0.001, 0.0, 3649.0])
    T = np.array([3650.0, 3650.0, 3650.0, 3650.0, 3650.0])
    rows = fast_loglik.prepare_bgnbd(x, t_x, T, np.ones(5))
    for theta in ([0.243, 4.414, 0.793, 2.426], [5.0, 0.1, 0.01, 50.0]):
        ll, grad = fast_loglik.bgnbd_loglik_grad(np.log([theta]), *rows.args())
        assert np.isfinite(ll) and np.all(np.isfinite(grad))
        assert ll == pytest.approx(bgnbd.log_likelihood(*theta, x, t_x, T).sum(), rel=1e-10)


def test_log_density_equals_pymc_model_logp_and_gradient(cdnow):
    """The fast log posterior (likelihood + priors + hierarchical Jacobians) and its gradient equal
    what PyMC compiles for the reference model, pooled and by segment (random layouts: centred
    whitened segments with random shifts and Cholesky factors, and non-centred segments)."""
    from clvmodels.inference.bayes.hierarchical import SegmentLayout

    from clvmodels.inference.bayes.pytensor_loglik import build_pymc_model

    rng = np.random.default_rng(4)
    seg = rng.integers(0, 3, cdnow["x"].size)
    w = np.ones(seg.size)
    specs = [bgnbd_spec(cdnow["x"], cdnow["t_x"], cdnow["T"], w),
             gammagamma_spec(cdnow["x"], cdnow["mbar"], w)]
    for base in (bgnbd_spec(cdnow["x"], cdnow["t_x"], cdnow["T"], w, segment=seg),
                 gammagamma_spec(cdnow["x"], cdnow["mbar"], w, segment=seg)):
        k = len(base.names)
        for centred in (np.array([True, False, True]), np.zeros(3, bool)):
            chol = np.tril(rng.normal(0.0, 0.3, (3, k, k)))
            chol[:, range(k), range(k)] = np.abs(chol[:, range(k), range(k)]) + 0.2
            chol[~centred] = np.eye(k)
            shift = np.where(centred[:, None], rng.normal(0.0, 0.5, (3, k)), 0.0)
            specs.append(replace(base, layout=SegmentLayout(centred, shift, chol)))
    for spec in specs:
        density = make_log_density(spec)
        model = build_pymc_model(spec)
        k = density.k
        u = rng.normal(0.3, 0.4, density.n_dim)
        point = {}
        for j, name in enumerate(spec.names):
            if spec.hierarchical:
                point[f"zeta_{name}"] = u[j]
                point[f"sigma_log_{name}_log__"] = u[k + j]
                point[f"v_{name}"] = u[2 * k:].reshape(-1, k)[:, j]
            else:
                point[f"log_{name}"] = u[j]
        logp, grad = density(u)
        assert logp == pytest.approx(float(model.compile_logp()(point)), rel=1e-12, abs=1e-9)
        by_name = dict(zip([v.name for v in model.value_vars], np.split(
            model.compile_dlogp()(point), np.cumsum([point[v.name].size for v in model.value_vars])[:-1])))
        mine = {}
        for j, name in enumerate(spec.names):
            if spec.hierarchical:
                mine[f"zeta_{name}"] = [grad[j]]
                mine[f"sigma_log_{name}_log__"] = [grad[k + j]]
                mine[f"v_{name}"] = grad[2 * k:].reshape(-1, k)[:, j]
            else:
                mine[f"log_{name}"] = [grad[j]]
        for name, value in by_name.items():
            np.testing.assert_allclose(mine[name], value, rtol=1e-8, atol=1e-8)


@pytest.mark.parametrize("kind", ["exp", "log1p", "log"])
def test_vectorisable_math_matches_libm(kind):
    """fast_math's polynomial exp / log1p / log against numpy, compiled with the kernels' fast-math
    flags: log1p within 1e-15 relative, log within 1e-15 of max(|log y|, 1); exp within
    2e-16 (|t| + 4) relative (reassociation may merge the two halves of ln 2 in the range
    reduction, an error proportional to |t|; log1p(exp(t)) is then still exact to ~1e-16)."""
    rng = np.random.default_rng(5)
    if kind == "exp":
        t = np.concatenate([-np.abs(rng.normal(0, 200, 100_000)), np.linspace(-708, 0, 10_001), [0.0, -1e-300]])
        t = t[t >= -708]
        rel = np.abs(_vector(fast_math.exp_nonpositive, t) / np.exp(t) - 1.0)
        assert np.all(rel <= 2e-16 * (np.abs(t) + 4.0))
    elif kind == "log1p":
        e = np.concatenate([rng.uniform(0, 1, 100_000), np.logspace(-300, 0, 1001), [0.0, 0.41421356237309503]])
        np.testing.assert_allclose(_vector(fast_math.log1p_unit, e), np.log1p(e), rtol=1e-15, atol=0)
    else:
        y = np.concatenate([np.exp(rng.uniform(-700, 700, 100_000)), [1.0, 2.0, np.sqrt(2.0), 1e-300, 1e300]])
        err = np.abs(_vector(fast_math.log_positive, y) - np.log(y))
        assert np.all(err <= 1e-15 * np.maximum(np.abs(np.log(y)), 1.0))


def _vector(fn, values):
    import numba

    @numba.njit(error_model="numpy", fastmath=fast_math.FASTMATH)
    def apply(v):
        out = np.empty(v.size)
        for i in range(v.size):
            out[i] = fn(v[i])
        return out

    return apply(values)


def test_digamma_matches_scipy():
    x = np.concatenate([np.logspace(-4, 6, 2001), [8.0, 7.999999, 0.243]])
    got = np.array([fast_math.digamma(v) for v in x])
    np.testing.assert_allclose(got, scipy_digamma(x), rtol=1e-13, atol=1e-12)
