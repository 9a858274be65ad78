"""Bayesian inference engine for BG/NBD and Gamma-Gamma (PyMC reference model, fast nutpie path).

Public functions:

- :func:`fit_bgnbd_bayes`, :func:`fit_gammagamma_bayes`: posterior from distinct rows with counts;
- :func:`default_priors`: the priors and how to replace them;
- :func:`diagnose`: R-hat, effective sample sizes, divergences, with a ConvergenceWarning;
- :func:`posterior_predictive_histogram`: expected vs simulated repeat-purchase histogram (PPC).

Importing this package is cheap: numba, nutpie and PyMC load when a fit runs.
"""

from clvmodels.inference.bayes.diagnostics import diagnose
from clvmodels.inference.bayes.ppc import posterior_predictive_histogram
from clvmodels.inference.bayes.priors import default_priors
from clvmodels.inference.bayes.sampling import SAMPLERS, fit_bgnbd_bayes, fit_gammagamma_bayes

__all__ = [
    "SAMPLERS",
    "default_priors",
    "diagnose",
    "fit_bgnbd_bayes",
    "fit_gammagamma_bayes",
    "posterior_predictive_histogram",
]
