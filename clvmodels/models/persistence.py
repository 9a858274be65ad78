"""Saving and loading fitted models as JSON (+ netCDF posterior): data only, never pickled code."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from clvmodels.errors import DataError

FORMAT = "clvmodels.model"
FORMAT_VERSION = 1
SETTINGS = ("method", "penalizer", "priors", "sampler", "chains", "draws", "tune", "pool_by", "shrinkage",
            "seed", "progressbar")
#: settings added after FORMAT_VERSION 1 files were first written, with the value they had then
LATER_SETTINGS = {"shrinkage": "empirical_bayes"}


def _model_classes() -> dict:
    from clvmodels.models.registry import model_classes

    return model_classes()


def _jsonable(value):
    try:
        json.dumps(value)
        return value
    except TypeError:
        raise DataError(
            f"the setting {value!r} cannot be saved as JSON; save models whose priors are given as "
            "numbers (e.g. {'r': (mu, sigma)})"
        ) from None


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def save_model(model, path) -> None:
    """Write a fitted model to ``path`` (JSON). A Bayesian model's posterior goes to
    ``<path>.posterior.nc`` beside it (netCDF via ArviZ)."""
    model._check_fitted()
    from clvmodels import __version__

    path = Path(path)
    state = {
        "n_customers": model.n_customers_,
        "n_distinct_rows": model.n_distinct_rows_,
        "time_unit": model.time_unit_,
        "log_likelihood": model.log_likelihood_,
        "converged": bool(model.converged_),
        "fit_seconds": model.fit_seconds_,
    }
    doc = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "package_version": __version__,
        "class": type(model).__name__,
        "param_names": list(model.param_names),
        "settings": {k: _jsonable(getattr(model, k)) for k in SETTINGS},
        "state": state,
    }
    if model.method == "mle" and model.pool_by is not None:
        state["segments"] = list(model.segments_)
        state["segment_fits"] = model.segment_fits_.to_state()
    elif model.method == "mle":
        state.update({
            "log_params": model.mle_.log_params.tolist(),
            "cov_log": model.cov_log_.tolist(),
            "max_abs_grad": model.mle_.max_abs_grad,
            "attempts": model.mle_.attempts,
        })
    else:
        posterior = path.with_name(path.name + ".posterior.nc")
        tmp = posterior.with_name(f".{posterior.name}.tmp-{os.getpid()}")
        model.idata_.to_netcdf(str(tmp))
        os.replace(tmp, posterior)
        doc["posterior_file"] = posterior.name
        state["segments"] = getattr(model, "segments_", None)
    _atomic_write_text(path, json.dumps(doc, indent=2, default=float))


def load_model(path):
    """Load a model written by ``model.save(path)``.

    Parameters
    ----------
    path : str or path-like
        The JSON file ``save`` wrote (a Bayesian fit's posterior is read from the netCDF file
        next to it, ``<path>.posterior.nc``).

    Returns
    -------
    PurchaseModel or GammaGammaModel
        The fitted model, of the class recorded in the file (BetaGeoModel, ParetoNBDModel, ...;
        see :mod:`clvmodels.models.registry`), with the same settings, estimates and predictions
        as when saved.

    Raises
    ------
    DataError
        If the file cannot be read, is not a saved clvmodels model, or names an unknown class.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from clvmodels import BetaGeoModel, load_model
    >>> from clvmodels.datasets import load_cdnow_summary
    >>> bg = BetaGeoModel().fit(load_cdnow_summary())
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "bg.json"
    >>> bg.save(path)
    >>> load_model(path).params_.equals(bg.params_)
    True
    """
    from clvmodels.inference.mle import MleResult

    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DataError(f"cannot read a saved model from {str(path)!r}: {exc}") from None
    if doc.get("format") != FORMAT:
        raise DataError(f"{str(path)!r} is not a saved clvmodels model (format {doc.get('format')!r})")
    classes = _model_classes()
    if doc["class"] not in classes:
        raise DataError(f"unknown model class {doc['class']!r}; known: {sorted(classes)}")
    model = classes[doc["class"]](**{**LATER_SETTINGS, **doc["settings"]})
    state = doc["state"]
    model.n_customers_ = state["n_customers"]
    model.n_distinct_rows_ = state["n_distinct_rows"]
    model.time_unit_ = state["time_unit"]
    model.log_likelihood_ = state["log_likelihood"]
    model.converged_ = state["converged"]
    model.fit_seconds_ = state["fit_seconds"]
    names = tuple(doc["param_names"])
    if model.method == "mle" and model.pool_by is not None:
        from clvmodels.models.segments import SegmentFits

        model.segments_ = list(state["segments"])
        model._set_segment_fits(SegmentFits.from_state(state["segment_fits"], names))
    elif model.method == "mle":
        log_params = np.asarray(state["log_params"], float)
        model.mle_ = MleResult(
            names=names, log_params=log_params, cov_log=np.asarray(state["cov_log"], float),
            log_likelihood=state["log_likelihood"], converged=state["converged"],
            max_abs_grad=state["max_abs_grad"], n_customers=state["n_customers"],
            attempts=list(state["attempts"]),
        )
        model.cov_log_ = model.mle_.cov_log
        model.params_ = pd.Series(np.exp(log_params), index=list(names), name="estimate")
    else:
        import arviz as az

        model.idata_ = az.from_netcdf(str(path.with_name(doc["posterior_file"])))
        if state.get("segments") is not None:
            model.segments_ = state["segments"]
        model._posterior_means_from_idata()
        model._check_bayes_diagnostics()
    return model
