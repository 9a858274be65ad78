"""Parameter tables and notebook HTML for fitted models (statsmodels-style rich results)."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
from scipy import stats


def parameter_table(model, level: float = 0.95) -> pd.DataFrame:
    """One row per parameter: estimate, standard error, interval and fit statistics.

    MLE: ``se`` by the delta method from the log-parameter covariance, interval
    ``exp(log estimate +- z se_log)``; columns ``log_likelihood``, ``converged``, ``max_abs_grad``.
    An MLE fit pooled by segment gives one such block per segment, indexed by (segment,
    parameter), each with its segment's log-likelihood (shrinkage prior excluded); the shrinkage
    itself is in the model's ``shrinkage_`` table.
    Bayes: ArviZ's summary (mean, sd, HDI at ``level``, ESS, R-hat) with ``estimate`` = posterior mean.
    """
    if model.method == "mle" and model.pool_by is not None:
        fits = model.segment_fits_
        blocks = [_mle_block(model.param_names, fit, level) for fit in fits.fits]
        table = pd.concat(blocks, keys=fits.labels, names=[model.pool_by])
    elif model.method == "mle":
        table = _mle_block(model.param_names, model.mle_, level)
    else:
        import arviz as az

        table = az.summary(model.idata_, var_names=list(model.param_names), hdi_prob=level)
        table.insert(0, "estimate", table["mean"])
        table["log_likelihood"] = model.log_likelihood_
        table["converged"] = model.converged_
    table.attrs["clvmodels"] = fit_facts(model)
    return table


def _mle_block(names, result, level: float) -> pd.DataFrame:
    """The MLE table of one fit (one block per segment for a fit pooled by segment)."""
    log_se = np.sqrt(np.clip(np.diag(result.cov_log), 0, None))
    est = np.exp(result.log_params)
    z = stats.norm.ppf(0.5 + level / 2)
    table = pd.DataFrame(
        {
            "estimate": est,
            "se": est * log_se,
            "lower": est * np.exp(-z * log_se),
            "upper": est * np.exp(z * log_se),
        },
        index=pd.Index(names, name="parameter"),
    )
    table["log_likelihood"] = result.log_likelihood
    table["converged"] = result.converged
    table["max_abs_grad"] = result.max_abs_grad
    return table


def fit_facts(model) -> dict:
    """Facts about a fit for headers and run metadata."""
    facts = {
        "model": type(model).__name__,
        "method": model.method,
        "customers": getattr(model, "n_customers_", None),
        "distinct_rows": getattr(model, "n_distinct_rows_", None),
        "time_unit": getattr(model, "time_unit_", None),
        "log_likelihood": getattr(model, "log_likelihood_", None),
        "converged": getattr(model, "converged_", None),
        "fit_seconds": round(getattr(model, "fit_seconds_", float("nan")), 3),
    }
    if model.method == "mle" and model.pool_by is not None:
        facts.update({"pool_by": model.pool_by, "segments": len(model.segments_),
                      "shrinkage": model.shrinkage})
    if model.method == "bayes":
        facts.update({"sampler": model.sampler, "chains": model.chains, "draws": model.draws,
                      "pool_by": model.pool_by})
        facts.update(getattr(model, "diagnostics_", {}) or {})
    return facts


def model_html(model) -> str:
    """HTML for Jupyter: a header of fit facts and the parameter table."""
    name = html.escape(type(model).__name__)
    if not hasattr(model, "params_"):
        return f"<p><b>{name}</b> (method={html.escape(repr(model.method))}): not fitted</p>"
    table = parameter_table(model)
    facts = table.attrs["clvmodels"]
    header = " · ".join(f"{html.escape(str(k))}: {html.escape(str(v))}"
                        for k, v in facts.items() if v is not None and k != "model")
    return f"<p><b>{name}</b><br><small>{header}</small></p>" + table.to_html(float_format="{:.4g}".format)
