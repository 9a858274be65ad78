"""Bayesian inference engine for every model family (fast nutpie path, PyMC reference model).

Public functions:

- :func:`fit_family_bayes`: posterior of any purchase family or spend model from distinct rows
  with counts (the family's fused kernel, or the generic fallback on its numpy likelihood);
- :func:`fit_bgnbd_bayes`, :func:`fit_gammagamma_bayes`: the same for BG/NBD and Gamma-Gamma;
- :func:`default_priors`: the priors and how to replace them;
- :func:`diagnose`: R-hat, effective sample sizes, divergences, with a ConvergenceWarning;
- :func:`posterior_predictive_histogram`: expected vs simulated repeat-purchase histogram (PPC).

Importing this package is cheap: numba, nutpie and PyMC load when a fit runs.
"""

from clvmodels.inference.bayes.diagnostics import diagnose
from clvmodels.inference.bayes.ppc import posterior_predictive_histogram
from clvmodels.inference.bayes.named import default_priors
from clvmodels.inference.bayes.sampling import (
    SAMPLERS,
    fit_bgnbd_bayes,
    fit_family_bayes,
    fit_gammagamma_bayes,
)

__all__ = [
    "SAMPLERS",
    "default_priors",
    "diagnose",
    "fit_bgnbd_bayes",
    "fit_family_bayes",
    "fit_gammagamma_bayes",
    "posterior_predictive_histogram",
]
