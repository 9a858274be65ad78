"""The Bayesian engine against the family contract: every family's kernels agree, the generic
fallback equals the fused kernel, any family samples, priors come from the family, and the
posterior predictive check is generic.

Families: every registered one (:func:`clvmodels.families.family_names`) plus the family modules
that exist but may not be registered yet, and the Gamma-Gamma spend model. Short chains only;
the full-length comparison of fallback and fused kernel is in tests/test_bayes_fallback_recovery.py.
"""

from __future__ import annotations

import importlib
import json
import warnings
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from clvmodels.errors import DataError
from clvmodels.families import family_names, get_family
from clvmodels.families.bayes_hooks import NO_HOOKS
from clvmodels.families.spend import GAMMAGAMMA
from clvmodels.inference.bayes import default_priors, fit_family_bayes, posterior_predictive_histogram
from clvmodels.inference.bayes.fallback import NumpyKernel
from clvmodels.inference.bayes.log_density import log_likelihood_kernel, make_log_density
from clvmodels.inference.bayes.spec import family_spec


def _purchase_families():
    """Registered families, plus the adapters already written but perhaps not registered yet."""
    found = {name: get_family(name) for name in family_names()}
    for module, attribute in (("clvmodels.families.paretonbd", "PARETONBD"),
                              ("clvmodels.families.mbgnbd", "MBGNBD"), ("clvmodels.families.bgbb", "BGBB")):
        try:
            family = getattr(importlib.import_module(module), attribute)
        except (ImportError, AttributeError):
            continue
        found.setdefault(family.name, family)
    return list(found.values())


PURCHASE = _purchase_families()
ALL_MODELS = PURCHASE + [GAMMAGAMMA]
WITH_FAST = [m for m in ALL_MODELS if m.bayes.fast_kernel is not None]
WITH_PYTENSOR = [m for m in ALL_MODELS if m.bayes.pytensor_log_likelihood is not None]


def _ids(model):
    return model.name


def _without_fast_kernel(family):
    """The same family as a new one would arrive: no fused kernel, so the fallback samples it."""
    return replace(family, bayes=replace(family.bayes, fast_kernel=None))


def _simulate_bgbb_rows(n_customers=3000, n_periods=6, seed=0):
    """BG/BB histories (Fader, Hardie & Shang 2010, section 2): p ~ Beta(1.2, 0.75) per customer,
    death before each opportunity after the first with theta ~ Beta(0.66, 2.8); transactions
    Bernoulli(p) while alive. Returns (frequency, recency, n_periods) distinct rows and counts."""
    rng = np.random.default_rng(seed)
    p = rng.beta(1.204, 0.750, n_customers)
    theta = rng.beta(0.657, 2.783, n_customers)
    alive = np.ones(n_customers, bool)
    x = np.zeros(n_customers)
    t_x = np.zeros(n_customers)
    for t in range(1, n_periods + 1):
        if t > 1:
            alive &= rng.random(n_customers) >= theta
        buy = alive & (rng.random(n_customers) < p)
        x += buy
        t_x = np.where(buy, t, t_x)
    return _distinct({"frequency": x, "recency": t_x, "n_periods": np.full(n_customers, float(n_periods))})


def _distinct(columns: dict):
    frame = pd.DataFrame(columns)
    rows = frame.groupby(list(columns)).size().reset_index(name="n")
    return {c: rows[c].to_numpy(float) for c in columns}, rows["n"].to_numpy(float)


@pytest.fixture(scope="module")
def datasets():
    """Distinct rows with counts for each set of history columns the families read."""
    from lifetimes.datasets import load_cdnow_summary_data_with_monetary_value

    d = load_cdnow_summary_data_with_monetary_value()
    return {
        ("frequency", "recency", "T"): _distinct({c: d[c].to_numpy(float) for c in ("frequency", "recency", "T")}),
        ("frequency", "monetary_value"): _distinct({c: d[c].to_numpy(float)
                                                    for c in ("frequency", "monetary_value")}),
        ("frequency", "recency", "n_periods"): _simulate_bgbb_rows(),
    }


def _rows(model, datasets):
    """The model's history arrays (in its column order, only the rows it fits) and weights."""
    columns = tuple(model.history_columns)
    assert columns in datasets, f"no test data for history columns {columns}: add a data set above"
    data, weights = datasets[columns]
    history = tuple(data[c] for c in columns)
    if model.bayes.fit_rows is not None:
        keep = model.bayes.fit_rows(*history)
        history, weights = tuple(h[keep] for h in history), weights[keep]
    return history, weights


def _random_log_params(rng, k, n=5):
    """Log-uniform parameter sets from 0.05 to 20."""
    return rng.uniform(np.log(0.05), np.log(20.0), size=(n, k))


@pytest.mark.parametrize("model", WITH_FAST, ids=_ids)
def test_fast_kernel_equals_numpy_likelihood_and_gradient(model, datasets):
    """The fused kernel's weighted log-likelihood equals minus the family's numpy
    ``neg_log_likelihood_and_grad`` to 1e-9 relative at random parameters; gradients to 1e-7."""
    history, weights = _rows(model, datasets)
    kernel, args = model.bayes.fast_kernel(*history, weights, None, 1)
    for log_params in _random_log_params(np.random.default_rng(1), len(model.param_names)):
        ll, grad = kernel(log_params[None], *args)
        nll, nll_grad = model.neg_log_likelihood_and_grad(log_params, *history, weights)
        assert ll == pytest.approx(-nll, rel=1e-9)
        np.testing.assert_allclose(grad[0], -np.asarray(nll_grad), rtol=1e-7, atol=1e-7 * abs(ll))


@pytest.mark.parametrize("model", WITH_PYTENSOR, ids=_ids)
def test_pytensor_likelihood_equals_numpy_likelihood_and_gradient(model, datasets):
    """The PyTensor elementwise log-likelihood, weighted and summed, equals minus the numpy total
    to 1e-9 relative at random parameters, and PyTensor's autodiff gradient with respect to the
    log-parameters equals the numpy analytic one to 1e-7."""
    import pytensor
    import pytensor.tensor as pt

    history, weights = _rows(model, datasets)
    log_params = pt.dvector("log_params")
    theta = {name: pt.exp(log_params[j]) for j, name in enumerate(model.param_names)}
    total = (weights * model.bayes.pytensor_log_likelihood(theta, *history)).sum()
    compiled = pytensor.function([log_params], [total, pytensor.grad(total, log_params)])
    for point in _random_log_params(np.random.default_rng(2), len(model.param_names)):
        ll, grad = compiled(point)
        nll, nll_grad = model.neg_log_likelihood_and_grad(point, *history, weights)
        assert float(ll) == pytest.approx(-nll, rel=1e-9)
        np.testing.assert_allclose(grad, -np.asarray(nll_grad), rtol=1e-7, atol=1e-7 * abs(nll))


@pytest.mark.parametrize("model", WITH_FAST, ids=_ids)
def test_fallback_kernel_equals_fused_kernel_pooled_and_by_segment(model, datasets):
    """The generic kernel on the numpy likelihood gives the fused kernel's value (1e-9) and
    gradient (1e-7), pooled and with three segments each at its own parameters."""
    history, weights = _rows(model, datasets)
    rng = np.random.default_rng(3)
    segment = rng.integers(0, 3, weights.size)
    k = len(model.param_names)
    for seg, n_seg in ((None, 1), (segment, 3)):
        fused, args = model.bayes.fast_kernel(*history, weights, seg, n_seg)
        fallback = NumpyKernel(model, history, weights, seg, n_seg)
        for _ in range(3):
            log_theta = _random_log_params(rng, k, n_seg)
            ll_fused, grad_fused = fused(log_theta, *args)
            ll_fallback, grad_fallback = fallback(log_theta)
            assert ll_fallback == pytest.approx(ll_fused, rel=1e-9)
            np.testing.assert_allclose(grad_fallback, grad_fused, rtol=1e-7, atol=1e-7 * abs(ll_fused))


def test_fallback_log_density_equals_fused_log_density_with_segments(datasets):
    """Through the engine (priors, hierarchical layout and Jacobians), a family stripped of its
    fused kernel has the same log posterior and gradient as with it."""
    from clvmodels.inference.bayes.layout_choice import choose_layout

    family = get_family("bgnbd")
    history, weights = _rows(family, datasets)
    segment = np.random.default_rng(4).integers(0, 2, weights.size)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fused_spec, _ = choose_layout(family_spec(family, history, weights, segment=segment))
    fallback_spec = replace(fused_spec, family=_without_fast_kernel(family))
    fused, fallback = make_log_density(fused_spec), make_log_density(fallback_spec)
    assert isinstance(log_likelihood_kernel(fallback_spec)[0], NumpyKernel)
    for u in np.random.default_rng(5).normal(0.0, 0.3, (3, fused.n_dim)):
        (lp_a, g_a), (lp_b, g_b) = fused(u), fallback(u)
        assert lp_b == pytest.approx(lp_a, rel=1e-9)
        np.testing.assert_allclose(g_b, g_a, rtol=1e-7, atol=1e-6)


@pytest.mark.parametrize("family", PURCHASE, ids=_ids)
def test_fallback_samples_every_family(family, datasets):
    """nutpie samples any family through the generic fallback (its fused kernel, if any, removed):
    2 chains x 200 draws, the family's parameters in the posterior, and each posterior mean of a
    log-parameter within 3 posterior sds of the maximum-likelihood estimate on the same rows
    (weak priors on thousands of customers barely move the posterior)."""
    from clvmodels.inference.mle import fit_mle

    history, weights = _rows(family, datasets)
    bare = _without_fast_kernel(family)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        idata = fit_family_bayes(bare, history, weights, chains=2, draws=200, tune=200, seed=1)
        mle = fit_mle(lambda lp: family.neg_log_likelihood_and_grad(lp, *history, weights),
                      family.start(*history, weights), names=family.param_names,
                      n_customers=float(weights.sum()))
    assert list(idata.posterior.data_vars) == list(family.param_names)
    assert idata.attrs["kernel"] == "fallback" and idata.attrs["model"] == family.name
    for j, name in enumerate(family.param_names):
        log_draws = np.log(idata.posterior[name].to_numpy().ravel())
        assert np.all(np.isfinite(log_draws))
        assert abs(log_draws.mean() - mle.log_params[j]) < 3 * log_draws.std(), (name, log_draws.mean(),
                                                                                  mle.log_params[j])


def test_fallback_pools_by_segment(datasets):
    """A family without a fused kernel is pooled by segment through the same layout: per-segment
    parameters with a "segment" dim and the population mean and sd of each log-parameter."""
    family = _without_fast_kernel(get_family("bgnbd"))
    history, weights = _rows(family, datasets)
    segment = (np.arange(weights.size) % 2).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        idata = fit_family_bayes(family, history, weights, segment=segment, chains=2, draws=60, tune=100,
                                 seed=3)
    post = idata.posterior
    assert post["a"].dims == ("chain", "draw", "segment") and post.sizes["segment"] == 2
    assert all(f"sigma_log_{n}" in post for n in family.param_names)
    assert idata.attrs["kernel"] == "fallback"


def test_map_through_the_fallback_finds_the_fused_mode(datasets):
    """sampler="map" on a family without a fused kernel: the same posterior mode (1e-5 relative)
    as with it, since the two kernels are the same function."""
    family = get_family("bgnbd")
    history, weights = _rows(family, datasets)
    modes = [json.loads(fit_family_bayes(f, history, weights, sampler="map", draws=10, seed=1).attrs["mode"])
             for f in (family, _without_fast_kernel(family))]
    for name in family.param_names:
        assert modes[1][name] == pytest.approx(modes[0][name], rel=1e-5)


def test_fit_family_bayes_by_name_is_the_bgnbd_wrapper(datasets):
    """The generic entry point with the name "bgnbd" gives the draws of fit_bgnbd_bayes (same
    kernel, priors and seed)."""
    from clvmodels.inference.bayes import fit_bgnbd_bayes

    history, weights = _rows(get_family("bgnbd"), datasets)
    generic = fit_family_bayes("bgnbd", history, weights, sampler="map", draws=30, seed=2)
    wrapper = fit_bgnbd_bayes(*history, weights, sampler="map", draws=30, seed=2)
    np.testing.assert_array_equal(generic.posterior["b"].to_numpy(), wrapper.posterior["b"].to_numpy())
    assert generic.attrs["kernel"] == "fused"


def test_a_family_without_priors_gets_normals_centred_on_its_start(datasets):
    """No default_priors: every log-parameter gets Normal(start_j, 3), start being the family's
    data-dependent starting point (so a time-scale parameter is centred on the data's units)."""
    family = replace(get_family("bgnbd"), name="bare", bayes=NO_HOOKS)
    history, weights = _rows(family, datasets)
    assert default_priors(family) == {**{n: (None, 3.0) for n in family.param_names}, "segment_sd": 1.0}
    spec = family_spec(family, history, weights)
    start = family.start(*history, weights)
    for j, name in enumerate(family.param_names):
        assert spec.priors[name] == (pytest.approx(start[j]), 3.0)
    assert spec.priors["alpha"][0] == pytest.approx(np.log(np.sum(weights * history[2])
                                                           / np.sum(weights * history[0])))


def test_priors_by_name_and_their_errors():
    assert default_priors("gammagamma") == {"p": (0.0, 2.5), "q": (0.0, 2.5), "gamma": (None, 3.0),
                                            "segment_sd": 1.0}
    with pytest.raises(DataError, match=r"model must be one of \[.*'bgnbd'.*'gammagamma'\]; got 'pareto'"):
        default_priors("pareto")


def test_bad_calls_are_data_errors(datasets):
    family = get_family("bgnbd")
    history, weights = _rows(family, datasets)
    with pytest.raises(DataError, match=r"reads 3 history columns \['frequency', 'recency', 'T'\]; got 2"):
        fit_family_bayes(family, history[:2], weights, sampler="map")
    with pytest.raises(DataError, match="sampler='pymc' needs a PyTensor log-likelihood"):
        fit_family_bayes(replace(family, bayes=NO_HOOKS), history, weights, sampler="pymc")
    with pytest.raises(DataError, match="Gamma-Gamma model is fitted on repeat buyers"):
        fit_family_bayes(GAMMAGAMMA, (np.zeros(3), np.ones(3)), np.ones(3), sampler="map")


def _point_idata(family, n_draws=20, spread=0.05, seed=0):
    """A posterior of ``n_draws`` draws scattered around the family's example point."""
    import arviz as az

    rng = np.random.default_rng(seed)
    post = {k: (v * np.exp(spread * rng.standard_normal(n_draws)))[None] for k, v in family.example_params.items()}
    idata = az.from_dict(posterior=post)
    idata.attrs["model"] = family.name
    return idata


@pytest.mark.parametrize("family", PURCHASE, ids=_ids)
def test_posterior_predictive_histogram_for_every_family(family):
    """For any family: the expected counts sum to the customers, and the mean of 200 replicated
    data sets (the family's own latent sampling and simulation) agrees with the expectation within
    4 standard errors per bar (plus one customer)."""
    T = np.tile([6.0, 12.0, 39.0, 52.0], 500)
    table = posterior_predictive_histogram(_point_idata(family), T, family=family, n_draws=200, seed=3,
                                           max_frequency=5)
    assert table["expected"].sum() == pytest.approx(T.size)
    se = np.sqrt(table["expected"] * (1 - table["expected"] / T.size) / 20) + 1.0
    assert np.all(np.abs(table["simulated_mean"] - table["expected"]) < 4 * se)


def test_posterior_predictive_expected_bars_are_fhl_equation_8():
    """BG/NBD, one draw at the published CDNOW fit (FHL 2005: r=0.243, alpha=4.414, a=0.793,
    b=2.426): the expected bar n is sum_i P(X(T_i) = n), FHL 2005 eq. 8, evaluated here directly
    by clvmodels.formulas.bgnbd.purchase_probability_new; the family is read from attrs["model"]."""
    import arviz as az

    from clvmodels.formulas.bgnbd import purchase_probability_new

    published = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    idata = az.from_dict(posterior={k: np.full((1, 1), v) for k, v in published.items()})
    idata.attrs["model"] = "bgnbd"
    T = np.array([39.0, 39.0, 30.0, 12.5])
    table = posterior_predictive_histogram(idata, T, n_draws=1, max_frequency=3)
    for n in range(3):
        want = purchase_probability_new(*published.values(), T, n).sum()
        assert table["expected"].iloc[n] == pytest.approx(want, rel=1e-10)
    assert json.dumps(list(table.index)) == '["0", "1", "2", "3+"]'
