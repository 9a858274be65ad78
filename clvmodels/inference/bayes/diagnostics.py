"""Convergence diagnostics of a Bayesian fit, with a warning that says what to do.

Thresholds follow Vehtari, Gelman, Simpson, Carpenter & Bürkner (2021), "Rank-normalization,
folding, and localization: an improved R-hat", Bayesian Analysis 16(2): rank-normalised split R-hat
at most 1.01, and bulk and tail effective sample sizes of at least 100 per chain.
"""

from __future__ import annotations

import warnings

import numpy as np

from clvmodels.errors import ConvergenceWarning

MAX_RHAT = 1.01
MIN_ESS_PER_CHAIN = 100


def diagnose(idata, warn: bool = True) -> dict:
    """Summarise the convergence of a fit from :func:`fit_bgnbd_bayes` / :func:`fit_gammagamma_bayes`.

    Parameters
    ----------
    idata : arviz.InferenceData
    warn : bool
        Emit a :class:`~clvmodels.errors.ConvergenceWarning` when a check fails.

    Returns
    -------
    dict
        ``max_rhat``, ``min_ess_bulk``, ``min_ess_tail`` (over every posterior variable and
        segment), ``n_divergences``, ``n_chains``, ``n_draws`` (per chain), ``sampler``,
        ``approximate`` (True for "map"/"advi": no MCMC diagnostics apply, the numbers are NaN),
        ``ok`` (all checks passed) and ``problems`` (what failed and what to do).
    """
    import arviz as az

    post = idata.posterior
    n_chains, n_draws = int(post.sizes["chain"]), int(post.sizes["draw"])
    sampler = idata.attrs.get("sampler", "unknown")
    approximate = bool(idata.attrs.get("approximate", 0))
    report = {"sampler": sampler, "approximate": approximate, "n_chains": n_chains, "n_draws": n_draws,
              "max_rhat": float("nan"), "min_ess_bulk": float("nan"), "min_ess_tail": float("nan"),
              "n_divergences": 0, "ok": True, "problems": []}
    if approximate:
        return report
    report["max_rhat"] = _extreme(az.rhat(post), np.max)
    report["min_ess_bulk"] = _extreme(az.ess(post, method="bulk"), np.min)
    report["min_ess_tail"] = _extreme(az.ess(post, method="tail"), np.min)
    stats = getattr(idata, "sample_stats", None)
    if stats is not None and "diverging" in stats:
        report["n_divergences"] = int(stats["diverging"].sum())
    problems = _problems(report, MIN_ESS_PER_CHAIN * n_chains)
    report["problems"] = problems
    report["ok"] = not problems
    if problems and warn:
        warnings.warn("the Bayesian fit may not have converged: " + "; ".join(problems),
                      ConvergenceWarning, stacklevel=2)
    return report


def _extreme(dataset, reduce) -> float:
    values = np.concatenate([np.ravel(dataset[name].to_numpy()) for name in dataset.data_vars])
    return float(reduce(values))


def _problems(report: dict, min_ess: float) -> list[str]:
    problems = []
    if report["n_chains"] > 1 and not report["max_rhat"] <= MAX_RHAT:
        problems.append(f"max R-hat {report['max_rhat']:.3f} > {MAX_RHAT} (chains disagree): run longer, "
                        "e.g. tune=2000, draws=2000, and check the posterior for several modes")
    elif report["n_chains"] == 1:
        problems.append("only one chain, so R-hat cannot be computed: use chains=4")
    low_ess = min(report["min_ess_bulk"], report["min_ess_tail"])
    if not low_ess >= min_ess:
        problems.append(f"effective sample size {low_ess:.0f} < {min_ess:.0f} "
                        f"({MIN_ESS_PER_CHAIN} per chain): increase draws")
    if report["n_divergences"]:
        problems.append(f"{report['n_divergences']} divergent transitions (biased posterior): increase "
                        "tune, or for a model pooled by segment merge very small segments, or give "
                        "tighter priors (priors={'segment_sd': 0.5})")
    return problems
