"""Parameter tables, fit facts and notebook HTML for fitted models (statsmodels-style rich results).

One layout for every method: a parameter table with the columns ``estimate, sd, lower, upper,
level`` (one row per parameter; a fit pooled by segment adds a ``segment`` index level), and the
facts about the fit as a whole (method, log-likelihood, convergence, sizes, seconds, sampler
diagnostics) once, in ``table.attrs["clvmodels"]`` and in :func:`fit_summary`, never per row.
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
from scipy import stats

#: the interval level of every table, prediction, value and targeting call unless one is given
DEFAULT_LEVEL = 0.9

COLUMNS = ("estimate", "sd", "lower", "upper", "level")


def check_level(level) -> float:
    """``level`` as float if it lies strictly between 0 and 1, else a DataError."""
    from clvmodels.errors import DataError

    if isinstance(level, bool) or not isinstance(level, (int, float, np.floating)) \
            or not 0 < float(level) < 1:
        raise DataError(f"level must be a number strictly between 0 and 1 (e.g. 0.9); got {level!r}")
    return float(level)


def parameter_table(model, level: float = DEFAULT_LEVEL) -> pd.DataFrame:
    """One row per parameter: ``estimate, sd, lower, upper, level``.

    Parameters
    ----------
    model : fitted model
        A fitted :class:`~clvmodels.BetaGeoModel` or :class:`~clvmodels.GammaGammaModel`.
    level : float, default 0.9
        Probability of the interval.

    Returns
    -------
    DataFrame
        Indexed by ``parameter`` (or by ``segment, parameter`` for a fit pooled by segment).
        MLE: ``estimate`` the maximum likelihood estimate, ``sd`` its standard error by the delta
        method from the Laplace covariance of the log-parameters, ``lower``/``upper`` the
        interval ``exp(log estimate +- z sd_log)``. Bayes: ``estimate`` the posterior mean,
        ``sd`` the posterior standard deviation, ``lower``/``upper`` the highest-density interval
        of the draws. ``attrs["clvmodels"]`` holds :func:`fit_facts`.
    """
    level = check_level(level)
    if model.method == "mle" and model.pool_by is not None:
        fits = model.segment_fits_
        blocks = [_mle_block(model.param_names, fit, level) for fit in fits.fits]
        table = pd.concat(blocks, keys=fits.labels, names=["segment"])
    elif model.method == "mle":
        table = _mle_block(model.param_names, model.mle_, level)
    else:
        table = _posterior_block(model, level)
    table.attrs["clvmodels"] = fit_facts(model)
    return table


def _mle_block(names, result, level: float) -> pd.DataFrame:
    """The MLE table of one fit (one block per segment for a fit pooled by segment)."""
    log_se = np.sqrt(np.clip(np.diag(result.cov_log), 0, None))
    est = np.exp(result.log_params)
    z = stats.norm.ppf(0.5 + level / 2)
    return pd.DataFrame(
        {"estimate": est, "sd": est * log_se, "lower": est * np.exp(-z * log_se),
         "upper": est * np.exp(z * log_se), "level": level},
        index=pd.Index(list(names), name="parameter"),
    )


def _posterior_block(model, level: float) -> pd.DataFrame:
    """The Bayesian table: posterior mean, sd and HDI per parameter (and segment)."""
    import arviz as az

    stack = model._posterior_stack()  # (S, k) or (S, G, k)
    names = list(model.param_names)

    def rows(draws):  # draws (S, k)
        hdi = np.array([az.hdi(draws[:, j], hdi_prob=level) for j in range(draws.shape[1])])
        return pd.DataFrame({"estimate": draws.mean(axis=0), "sd": draws.std(axis=0, ddof=1),
                             "lower": hdi[:, 0], "upper": hdi[:, 1], "level": level},
                            index=pd.Index(names, name="parameter"))

    if stack.ndim == 2:
        return rows(stack)
    return pd.concat([rows(stack[:, g, :]) for g in range(stack.shape[1])],
                     keys=list(model.segments_), names=["segment"])


def fit_facts(model) -> dict:
    """Facts about a fit as a whole, for table headers, :func:`fit_summary` and run metadata.

    Returns
    -------
    dict
        ``model, method, customers, distinct_rows, time_unit, log_likelihood, converged,
        fit_seconds``; MLE: ``max_abs_grad`` (largest gradient at the optimum); MLE pooled by
        segment: ``pool_by, segments, shrinkage`` and ``segment_log_likelihood`` (segment ->
        its log-likelihood, prior excluded); Bayes: ``sampler, chains, draws, pool_by``
        and the sampler diagnostics (``max_rhat, min_ess_bulk, min_ess_tail, n_divergences,
        ok, problems``).
    """
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
    if model.method == "mle" and model.pool_by is None and hasattr(model, "mle_"):
        facts["max_abs_grad"] = model.mle_.max_abs_grad
    if model.method == "mle" and model.pool_by is not None:
        facts.update({"pool_by": model.pool_by, "segments": len(model.segments_),
                      "shrinkage": model.shrinkage,
                      "max_abs_grad": max(f.max_abs_grad for f in model.segment_fits_.fits),
                      # each segment's own log-likelihood (shrinkage prior excluded); they sum
                      # to ``log_likelihood``
                      "segment_log_likelihood": {label: f.log_likelihood for label, f in
                                                 zip(model.segment_fits_.labels, model.segment_fits_.fits)}})
    if model.method == "bayes":
        facts.update({"sampler": model.sampler, "chains": model.chains, "draws": model.draws,
                      "pool_by": model.pool_by})
        facts.update(getattr(model, "diagnostics_", {}) or {})
    return facts


def fit_summary(model) -> pd.DataFrame:
    """The fit facts as a one-row DataFrame (index: the model's class name).

    ``problems`` (Bayes) is joined into one text so the row stays flat; per-segment facts
    (``segment_log_likelihood``) stay in ``summary().attrs["clvmodels"]``.
    """
    facts = {k: v for k, v in fit_facts(model).items() if not isinstance(v, dict)}
    if isinstance(facts.get("problems"), list):
        facts["problems"] = "; ".join(facts["problems"])
    name = facts.pop("model")
    return pd.DataFrame([facts], index=pd.Index([name], name="model"))


def model_html(model) -> str:
    """HTML for Jupyter: the fit facts (once) above the parameter table."""
    name = html.escape(type(model).__name__)
    if not hasattr(model, "params_"):
        return f"<p><b>{name}</b> (method={html.escape(repr(model.method))}): not fitted</p>"
    table = parameter_table(model)
    facts = fit_summary(model)
    return (f"<p><b>{name}</b>: fit</p>" + facts.to_html(float_format="{:.4g}".format, index=False)
            + "<p>Parameters</p>" + table.to_html(float_format="{:.4g}".format))
