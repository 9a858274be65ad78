"""Fast approximate posteriors: posterior mode + Laplace (``"map"``), and mean-field ADVI (``"advi"``).

Both return an InferenceData shaped like an MCMC result with one chain, so every downstream step
works unchanged; ``idata.attrs["approximate"] == 1`` says they are approximations.
"""

from __future__ import annotations

import json

import numpy as np

from clvmodels.inference.bayes.spec import ModelSpec, posterior_names

#: ADVI iteration limit; stops earlier once the parameters settle
ADVI_MAX_ITERATIONS = 50_000


def posterior_mode(density) -> tuple[np.ndarray, np.ndarray]:
    """Mode of a pooled log density on log-parameters and the Laplace covariance there.

    Reuses the optimiser of :func:`clvmodels.inference.mle.fit_mle` on the negative log posterior
    (likelihood plus log prior), starting from the prior means.

    Returns
    -------
    mode : ndarray, shape (k,)
    cov : ndarray, shape (k, k)
        Inverse of the negative Hessian of the log posterior at the mode.
    """
    from clvmodels.inference.mle import fit_mle

    def objective(u):
        value, grad = density(u)
        return -value, -grad

    result = fit_mle(objective, density.prior_mu.copy(), names=density.spec.names,
                     n_customers=density.spec.n_customers)
    return result.log_params, result.cov_log


def fit_map(spec: ModelSpec, draws: int, seed: int, progressbar: bool = False):
    """``draws`` draws of exp(N(mode, cov)) on log-parameters (the Laplace approximation).

    The mode is also stored in ``idata.attrs["mode"]`` (natural parameters, as JSON).
    """
    import arviz as az

    from clvmodels.inference.bayes.log_density import make_log_density

    mode, cov = posterior_mode(make_log_density(spec))
    log_draws = np.random.default_rng(seed).multivariate_normal(mode, cov, size=draws, method="eigh")
    posterior = {name: np.exp(log_draws[None, :, j]) for j, name in enumerate(spec.names)}
    idata = az.from_dict(posterior=posterior)
    idata.attrs["mode"] = json.dumps({name: float(np.exp(v)) for name, v in zip(spec.names, mode)})
    return idata


def fit_advi(spec: ModelSpec, draws: int, seed: int, progressbar: bool = False):
    """Mean-field ADVI on the reference PyMC model, then ``draws`` draws from the approximation."""
    import pymc as pm

    from clvmodels.inference.bayes.pytensor_loglik import build_pymc_model

    with build_pymc_model(spec):
        approx = pm.fit(n=ADVI_MAX_ITERATIONS, method="advi", random_seed=seed, progressbar=progressbar,
                        callbacks=[pm.callbacks.CheckParametersConvergence(tolerance=1e-3, diff="relative")])
        idata = approx.sample(draws, random_seed=seed)
    idata.posterior = idata.posterior[posterior_names(spec)]
    return idata
