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
