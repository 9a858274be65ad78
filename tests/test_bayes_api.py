"""The Bayesian engine's interface: settings, errors, InferenceData layout, determinism,
diagnostics, the MAP approximation and the posterior predictive histogram. Short chains only."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

from clvmodels.errors import ConvergenceWarning, DataError
from clvmodels.inference.bayes import (
    default_priors,
    diagnose,
    fit_bgnbd_bayes,
    fit_gammagamma_bayes,
    posterior_predictive_histogram,
)

SHORT = {"chains": 2, "draws": 150, "tune": 150}


@pytest.fixture(scope="module")
def cdnow():
    from lifetimes.datasets import load_cdnow_summary_data_with_monetary_value

    return load_cdnow_summary_data_with_monetary_value()


@pytest.fixture(scope="module")
def cdnow_rows(cdnow):
    """Distinct (frequency, recency, T) rows with counts, as the estimators pass them."""
    rows = cdnow.groupby(["frequency", "recency", "T"]).size().reset_index(name="n")
    return rows["frequency"].to_numpy(), rows["recency"].to_numpy(), rows["T"].to_numpy(), rows["n"].to_numpy()


@pytest.fixture(scope="module")
def short_fit(cdnow_rows):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fit_bgnbd_bayes(*cdnow_rows, seed=11, **SHORT)


def test_importing_the_package_loads_no_heavy_library():
    """``import clvmodels`` and ``import clvmodels.inference.bayes`` load neither PyMC, PyTensor,
    nutpie, numba, ArviZ nor matplotlib (fresh interpreter)."""
    code = ("import sys, clvmodels, clvmodels.inference.bayes; "
            "print([m for m in ('pymc', 'pytensor', 'nutpie', 'numba', 'arviz', 'matplotlib') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_default_priors_are_documented_pairs():
    priors = default_priors()
    assert set(priors) == {"r", "alpha", "a", "b", "segment_sd"}
    assert priors["alpha"] == (None, 3.0) and priors["r"] == (0.0, 2.5)
    assert set(default_priors("gammagamma")) == {"p", "q", "gamma", "segment_sd"}
    with pytest.raises(DataError, match="bgnbd"):
        default_priors("pareto")


def test_resolved_priors_are_recorded_and_replaceable(cdnow_rows):
    """The data-centred prior of alpha is log(weighted mean T); a replacement prior is used as
    given and the others keep their default; all of it lands in idata.attrs["priors"]."""
    x, t_x, T, n = cdnow_rows
    idata = fit_bgnbd_bayes(x, t_x, T, n, sampler="map", draws=50, seed=1, priors={"b": (1.0, 0.5)})
    priors = json.loads(idata.attrs["priors"])
    assert priors["alpha"][0] == pytest.approx(np.log(np.average(T, weights=n)))
    assert priors["b"] == [1.0, 0.5] and priors["a"] == [0.0, 2.5]


@pytest.mark.parametrize("priors, message", [
    ({"beta": (0, 1)}, "unknown prior 'beta'"),
    ({"b": 3.0}, "pair \\(mu, sigma\\)"),
    ({"b": (0.0, -1.0)}, "sigma > 0"),
    ({"segment_sd": 0}, "segment_sd must be a positive number"),
])
def test_bad_priors_are_data_errors(cdnow_rows, priors, message):
    with pytest.raises(DataError, match=message):
        fit_bgnbd_bayes(*cdnow_rows, sampler="map", priors=priors)


def test_bad_settings_are_data_errors_listing_the_choices(cdnow_rows):
    with pytest.raises(DataError, match=r"sampler must be one of \['nutpie', 'pymc', 'map', 'advi'\]; got 'mcmc'"):
        fit_bgnbd_bayes(*cdnow_rows, sampler="mcmc")
    with pytest.raises(DataError, match="chains must be an integer >= 1"):
        fit_bgnbd_bayes(*cdnow_rows, chains=0)
    with pytest.raises(DataError, match="sampler='map' cannot fit a model pooled by segment"):
        fit_bgnbd_bayes(*cdnow_rows, sampler="map", segment=np.zeros(cdnow_rows[0].size, int))
    with pytest.raises(DataError, match="segment codes must lie in 0..1"):
        fit_bgnbd_bayes(*cdnow_rows, segment=np.full(cdnow_rows[0].size, 2), n_segments=2)


def test_invalid_rows_are_reported_with_their_positions():
    x = np.array([0.0, 1.0, 2.0, 1.0])
    with pytest.raises(DataError, match=r"T has invalid values in 2 rows \(e.g. 1, 3\)"):
        fit_bgnbd_bayes(x, [0.0, 1.0, 2.0, 1.0], [5.0, np.nan, 6.0, 0.0], np.ones(4), sampler="map")
    with pytest.raises(DataError, match="repeat buyers"):
        fit_gammagamma_bayes(np.zeros(3), np.zeros(3), np.ones(3), sampler="map")


def test_nutpie_fit_layout_and_attrs(short_fit, cdnow_rows):
    idata = short_fit
    assert list(idata.posterior.data_vars) == ["r", "alpha", "a", "b"]
    assert dict(idata.posterior.sizes) == {"chain": 2, "draw": 150}
    assert "diverging" in idata.sample_stats
    attrs = idata.attrs
    assert attrs["sampler"] == "nutpie" and attrs["seed"] == 11 and attrs["approximate"] == 0
    assert attrs["n_rows"] == cdnow_rows[0].size and attrs["n_customers"] == 2357
    assert attrs["wall_time_s"] > 0 and "nutpie" in json.loads(attrs["versions"])
    assert float(idata.posterior["r"].mean()) == pytest.approx(0.243, rel=0.15)


def test_same_seed_same_draws(short_fit, cdnow_rows):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        again = fit_bgnbd_bayes(*cdnow_rows, seed=11, **SHORT)
    np.testing.assert_array_equal(again.posterior["b"].to_numpy(), short_fit.posterior["b"].to_numpy())


def test_segment_fit_layout(cdnow_rows):
    """Pooled by segment: per-segment parameters with a "segment" dim plus population mean and sd."""
    x, t_x, T, n = cdnow_rows
    segment = (np.arange(x.size) % 2).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        idata = fit_bgnbd_bayes(x, t_x, T, n, segment=segment, seed=3, chains=2, draws=60, tune=100)
    post = idata.posterior
    assert post["a"].dims == ("chain", "draw", "segment") and post.sizes["segment"] == 2
    for name in ("r", "alpha", "a", "b"):
        assert post[f"mu_log_{name}"].dims == ("chain", "draw")
        assert float(post[f"sigma_log_{name}"].min()) > 0
    assert idata.attrs["n_segments"] == 2
    assert len(json.loads(idata.attrs["segment_layout"])["centred"]) == 2


def test_gammagamma_fit_ignores_customers_without_repeat_purchases(cdnow):
    x = cdnow["frequency"].to_numpy()
    mbar = cdnow["monetary_value"].to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        idata = fit_gammagamma_bayes(x, mbar, np.ones(x.size), seed=5, **SHORT)
    assert list(idata.posterior.data_vars) == ["p", "q", "gamma"]
    assert idata.attrs["n_rows"] == int((x > 0).sum()) == 946


def test_map_is_the_posterior_mode_with_laplace_draws(cdnow_rows):
    """sampler="map": one chain of Laplace draws around the mode; with weak priors on 2,357
    customers the mode is within 2% of the published MLE (FHL 2005: r=0.243, alpha=4.414,
    a=0.793, b=2.426)."""
    idata = fit_bgnbd_bayes(*cdnow_rows, sampler="map", draws=400, seed=2)
    assert dict(idata.posterior.sizes) == {"chain": 1, "draw": 400}
    mode = json.loads(idata.attrs["mode"])
    for name, published in {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}.items():
        assert mode[name] == pytest.approx(published, rel=0.02)
    report = diagnose(idata)
    assert report["approximate"] and report["ok"] and np.isnan(report["max_rhat"])


def _synthetic(chains_offset=0.0, n_divergent=0, draws=500, seed=0):
    import arviz as az

    rng = np.random.default_rng(seed)
    posterior = {"r": rng.normal(0, 1, (4, draws)) + np.arange(4)[:, None] * chains_offset}
    diverging = np.zeros((4, draws), bool)
    diverging.flat[:n_divergent] = True
    idata = az.from_dict(posterior=posterior, sample_stats={"diverging": diverging})
    idata.attrs.update({"sampler": "nutpie", "approximate": 0})
    return idata


def test_diagnose_passes_well_mixed_chains():
    report = diagnose(_synthetic())
    assert report["ok"] and report["max_rhat"] < 1.01 and report["min_ess_bulk"] > 1000
    assert report["n_divergences"] == 0 and report["problems"] == []


def test_diagnose_warns_on_disagreeing_chains_and_divergences():
    with pytest.warns(ConvergenceWarning, match=r"max R-hat .* > 1.01 .*run longer"):
        report = diagnose(_synthetic(chains_offset=1.0))
    assert not report["ok"] and report["max_rhat"] > 1.01
    with pytest.warns(ConvergenceWarning, match="3 divergent transitions"):
        report = diagnose(_synthetic(n_divergent=3))
    assert report["n_divergences"] == 3
    with pytest.warns(ConvergenceWarning, match="effective sample size .* increase draws"):
        diagnose(_synthetic(draws=40))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not diagnose(_synthetic(n_divergent=1), warn=False)["ok"]


def test_posterior_predictive_histogram_on_cdnow(cdnow, cdnow_rows):
    """Calibration-period histogram (FHL 2005, Figure 3): expected counts sum to the customers,
    observed counts are the data's, the simulated mean agrees with the expectation, and the
    observed bars fall inside the simulated 99% intervals (the BG/NBD fits CDNOW well)."""
    idata = fit_bgnbd_bayes(*cdnow_rows, sampler="map", draws=200, seed=4)
    T = cdnow["T"].to_numpy()
    freq = cdnow["frequency"].to_numpy()
    table = posterior_predictive_histogram(idata, T, observed_frequency=freq, max_frequency=7,
                                           n_draws=100, level=0.99, seed=1)
    assert list(table.index) == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert table["expected"].sum() == pytest.approx(len(T))
    assert table["observed"].tolist() == np.bincount(np.minimum(freq, 7), minlength=8).tolist()
    assert np.all(table["expected_lower"] <= table["expected"]) and np.all(table["expected"] <= table["expected_upper"])
    # Monte Carlo: 100 replicated data sets of 2,357 customers; the mean is within ~4 standard errors
    se = np.sqrt(table["expected"] * (1 - table["expected"] / len(T)) / 100) + 1.0
    assert np.all(np.abs(table["simulated_mean"] - table["expected"]) < 4 * se)
    assert np.all(table["observed"].between(table["simulated_lower"], table["simulated_upper"]))


def test_posterior_predictive_histogram_needs_segments_for_a_segment_fit():
    import arviz as az

    post = {k: np.full((1, 10, 2), v) for k, v in {"r": 0.3, "alpha": 5.0, "a": 0.8, "b": 2.5}.items()}
    idata = az.from_dict(posterior=post, dims={k: ["segment"] for k in post})
    with pytest.raises(DataError, match="pass segment="):
        posterior_predictive_histogram(idata, np.ones(5))
    table = posterior_predictive_histogram(idata, np.full(5, 30.0), segment=np.array([0, 1, 0, 1, 1]))
    assert table["expected"].sum() == pytest.approx(5.0)
    with pytest.raises(DataError, match="lacks \\['r', 'alpha', 'a', 'b'\\]"):
        posterior_predictive_histogram(az.from_dict(posterior={"p": np.ones((1, 5))}), np.ones(3))
    assert isinstance(table, pd.DataFrame)
