"""Helpers for the customer-value tests (no tests here).

``fixed_models`` builds real, fitted BetaGeoModel / GammaGammaModel objects with parameters we
choose, through the public save/load format: a maximum-likelihood model whose estimate is the
given parameters and whose Laplace covariance on log-parameters is ``cov_log`` (zero by default,
so that every parameter draw equals the estimate).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np

from clvmodels.models.persistence import FORMAT, FORMAT_VERSION, load_model

BG_NAMES = ("r", "alpha", "a", "b")
GG_NAMES = ("p", "q", "gamma")


def _model(cls: str, names, params: dict, time_unit: str, cov_log) -> object:
    log_params = np.log([params[k] for k in names])
    cov = np.zeros((len(names), len(names))) if cov_log is None else np.asarray(cov_log, float)
    doc = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "package_version": "test",
        "class": cls, "param_names": list(names),
        "settings": {"method": "mle", "penalizer": 0.0, "priors": None, "sampler": "nutpie",
                     "chains": 4, "draws": 1000, "tune": 1000, "pool_by": None, "seed": None,
                     "progressbar": False},
        "state": {"n_customers": 1000, "n_distinct_rows": 1000, "time_unit": time_unit,
                  "log_likelihood": 0.0, "converged": True, "fit_seconds": 0.0,
                  "log_params": log_params.tolist(), "cov_log": cov.tolist(),
                  "max_abs_grad": 0.0, "attempts": []},
    }
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.json"
        path.write_text(json.dumps(doc))
        return load_model(path)


def fixed_models(bg: dict, gg: dict, time_unit: str = "W", bg_cov_log=None, gg_cov_log=None):
    """(BetaGeoModel, GammaGammaModel) with the given parameters (and Laplace covariances)."""
    return (_model("BetaGeoModel", BG_NAMES, bg, time_unit, bg_cov_log),
            _model("GammaGammaModel", GG_NAMES, gg, time_unit, gg_cov_log))


def _pooled_model(cls: str, names, by_segment: dict, pool_by: str, time_unit: str, tmp: Path,
                  sd_log: float, seed: int):
    """A Bayesian model pooled by ``pool_by`` whose posterior draws (2 chains x 200) are the given
    per-segment parameters times exp(N(0, sd_log)); the default 1e-9 keeps them to 1e-9 and
    the diagnostics defined."""
    import arviz as az

    segments = sorted(by_segment)
    rng = np.random.default_rng(seed)
    posterior = {
        name: np.array([[by_segment[s][name] for s in segments]] * 400).reshape(2, 200, -1)
        * np.exp(sd_log * rng.standard_normal((2, 200, len(segments))))
        for name in names
    }
    idata = az.from_dict(posterior=posterior, dims={n: ["segment"] for n in names},
                         coords={"segment": segments})
    (tmp / f"{cls}.json.posterior.nc").unlink(missing_ok=True)
    idata.to_netcdf(str(tmp / f"{cls}.json.posterior.nc"))
    doc = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "package_version": "test",
        "class": cls, "param_names": list(names), "posterior_file": f"{cls}.json.posterior.nc",
        "settings": {"method": "bayes", "penalizer": 0.0, "priors": None, "sampler": "nutpie",
                     "chains": 2, "draws": 200, "tune": 200, "pool_by": pool_by, "seed": None,
                     "progressbar": False},
        "state": {"n_customers": 1000, "n_distinct_rows": 1000, "time_unit": time_unit,
                  "log_likelihood": float("nan"), "converged": True, "fit_seconds": 0.0,
                  "segments": segments},
    }
    path = tmp / f"{cls}.json"
    path.write_text(json.dumps(doc))
    return load_model(path)


def pooled_models(bg_by_segment: dict, gg_by_segment: dict, pool_by: str, tmp: Path,
                  time_unit: str = "W", sd_log: float = 1e-9):
    """(BetaGeoModel, GammaGammaModel) pooled by segment with the given parameters per segment."""
    return (_pooled_model("BetaGeoModel", BG_NAMES, bg_by_segment, pool_by, time_unit, tmp, sd_log, 1),
            _pooled_model("GammaGammaModel", GG_NAMES, gg_by_segment, pool_by, time_unit, tmp, sd_log, 2))


def cdnow_summary(**kwargs):
    """The CDNOW sample summary with ``revenue_to_date`` (every calibration purchase once, the
    first included). ``rfm_summary`` carries the column; should a summary lack it, it is summed
    here from the transaction log so that the value tests do not depend on that."""
    import pandas as pd

    from clvmodels.datasets import load_cdnow_summary, load_cdnow_transactions

    summary = load_cdnow_summary(**kwargs)
    if "revenue_to_date" not in summary.columns:
        log = load_cdnow_transactions()
        end = pd.Timestamp(summary.attrs["clvmodels"]["observation_end"])
        revenue = log[log["date"] <= end].groupby("customer_id")["amount"].sum()
        summary["revenue_to_date"] = revenue.reindex(summary.index).to_numpy()
    return summary
