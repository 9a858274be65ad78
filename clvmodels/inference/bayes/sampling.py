"""Bayesian fits of any model family: the entry points the estimators call.

:func:`fit_family_bayes` takes a family object (or its name) and never asks which one it holds;
:func:`fit_bgnbd_bayes` and :func:`fit_gammagamma_bayes` are thin wrappers over it.

``sampler`` chooses how the posterior is explored:

- ``"nutpie"`` (default, fastest): nutpie's NUTS on the log density of :mod:`.log_density`: the
  family's fused numba kernel (log-likelihood and analytic gradient in one pass over distinct
  rows; BG/NBD, Gamma-Gamma), or for a family without one the generic fallback on its numpy
  likelihood and gradient (:mod:`.fallback`), passed to nutpie as a Python function.
- ``"pymc"``: PyMC's own NUTS on the plain PyTensor reference model of :mod:`.pytensor_loglik`.
- ``"map"`` (fast approximation, seconds at any size): the posterior mode on log-parameters and
  ``draws`` draws from the Gaussian (Laplace) approximation around it, in one chain. Pooled models
  only. Good for a quick look; it ignores skewness of the posterior.
- ``"advi"`` (approximation): PyMC's mean-field ADVI on the reference model, ``draws`` draws from
  the fitted approximation in one chain. Slower than ``"map"``; underestimates correlations.

Both MCMC samplers sample the same density on the same unconstrained coordinates (log-parameters;
for models pooled by segment the non-centred layout of :mod:`.log_density`).
"""

from __future__ import annotations

import json
import os
import time

import numpy as np

from clvmodels.errors import DataError, check_choice
from clvmodels.inference.bayes.named import bgnbd_spec, gammagamma_spec, model_named
from clvmodels.inference.bayes.spec import ModelSpec, family_spec, posterior_names

SAMPLERS = ("nutpie", "pymc", "map", "advi")
MCMC_SAMPLERS = ("nutpie", "pymc")


def fit_family_bayes(family, history, weights, *, priors=None, sampler="nutpie", chains=4, draws=1000,
                     tune=1000, seed=None, progressbar=False, segment=None, n_segments=None):
    """Posterior of any model family's parameters from distinct rows with counts.

    Written against the family contract only: the priors are the family's
    (:class:`~clvmodels.families.bayes_hooks.BayesHooks` ``default_priors``, or normals centred on
    its start point), the log density its fused kernel when it has one, else the generic fallback
    on its numpy ``neg_log_likelihood_and_grad`` (:mod:`.fallback`), sampled the same way.

    Parameters
    ----------
    family : PurchaseFamily, SpendFamily or str
        The family, or its registered name (:func:`clvmodels.families.family_names`,
        ``"gammagamma"``).
    history : sequence of array_like, shape (m,) each
        The distinct rows, one array per name of ``family.history_columns`` in that order (e.g.
        frequency, recency and T in the summary's time unit).
    weights : array_like, shape (m,)
        Number of customers sharing each row.
    priors : dict, optional
        Replacement priors ``{name: (mu, sigma)}`` of normals on ``log(name)``, and/or
        ``{"segment_sd": s}``; see :func:`clvmodels.inference.bayes.default_priors`.
    sampler : {"nutpie", "pymc", "map", "advi"}
        See the module docstring; ``"pymc"`` and ``"advi"`` need the family's PyTensor
        log-likelihood.
    chains, draws, tune : int
        Chains, kept draws per chain and tuning steps per chain (MCMC). ``map`` and ``advi``
        return one chain of ``draws`` draws.
    seed : int, optional
        Seed; the same seed gives the same draws. When None a seed is drawn and recorded in
        ``idata.attrs["seed"]``.
    progressbar : bool
    segment : array_like of int, shape (m,), optional
        Segment code of each row: fit the hierarchical model, every segment with its own
        parameters, partially pooled (see :mod:`.hierarchical`); the fallback kernel pools too.
    n_segments : int, optional
        Number of segments (default: ``segment.max() + 1``).

    Returns
    -------
    arviz.InferenceData
        ``posterior`` with the family's parameters of dims (chain, draw), or (chain, draw, segment)
        plus ``mu_log_<name>`` and ``sigma_log_<name>`` when pooled by segment; ``sample_stats``
        (``diverging`` etc., MCMC only); ``attrs`` with the model's name, the sampler, the kernel
        (``"fused"`` or ``"fallback"``), seed, wall time, priors and library versions. Check it
        with :func:`clvmodels.inference.bayes.diagnose`.
    """
    if isinstance(family, str):

        family = model_named(family)
    spec = family_spec(family, tuple(history), weights, priors, segment, n_segments)
    return _fit(spec, sampler, chains, draws, tune, seed, progressbar)


def fit_bgnbd_bayes(x, t_x, T, weights, *, priors=None, sampler="nutpie", chains=4, draws=1000,
                    tune=1000, seed=None, progressbar=False, segment=None, n_segments=None):
    """Posterior of the BG/NBD parameters (Fader, Hardie & Lee 2005) from distinct rows.

    :func:`fit_family_bayes` on the BG/NBD family (its fused numba kernel).

    Parameters
    ----------
    x, t_x, T : array_like, shape (m,)
        Frequency (repeat purchases), recency and age of each distinct customer row.
    weights : array_like, shape (m,)
        Number of customers sharing each row.
    (the rest) : as :func:`fit_family_bayes`.

    Returns
    -------
    arviz.InferenceData
        ``posterior`` with ``r, alpha, a, b`` (see :func:`fit_family_bayes`).
    """
    spec = bgnbd_spec(x, t_x, T, weights, priors, segment, n_segments)
    return _fit(spec, sampler, chains, draws, tune, seed, progressbar)


def fit_gammagamma_bayes(x, mbar, weights, *, priors=None, sampler="nutpie", chains=4, draws=1000,
                         tune=1000, seed=None, progressbar=False, segment=None, n_segments=None):
    """Posterior of the Gamma-Gamma spend parameters (Fader & Hardie 2013) from distinct rows.

    :func:`fit_family_bayes` on :data:`clvmodels.families.spend.GAMMAGAMMA`.

    Parameters
    ----------
    x, mbar : array_like, shape (m,)
        Frequency and mean spend of the repeat purchases of each distinct row. Rows with ``x == 0``
        are ignored: the model is conditional on at least one repeat purchase.
    weights : array_like, shape (m,)
    (the rest) : as :func:`fit_family_bayes`.

    Returns
    -------
    arviz.InferenceData
        ``posterior`` with ``p, q, gamma`` (and per segment, as for BG/NBD).
    """
    spec = gammagamma_spec(x, mbar, weights, priors, segment, n_segments)
    return _fit(spec, sampler, chains, draws, tune, seed, progressbar)


def _check_settings(sampler, chains, draws, tune, spec: ModelSpec) -> None:
    check_choice("sampler", sampler, SAMPLERS)
    for name, value, minimum in (("chains", chains, 1), ("draws", draws, 1), ("tune", tune, 0)):
        if not isinstance(value, (int, np.integer)) or value < minimum:
            raise DataError(f"{name} must be an integer >= {minimum}; got {value!r}")
    if sampler == "map" and spec.hierarchical:
        raise DataError("sampler='map' cannot fit a model pooled by segment (a Gaussian around the "
                        "mode misrepresents the skewed posterior of the between-segment spread); "
                        "use sampler='nutpie'")
    if sampler in ("pymc", "advi") and spec.family.bayes.pytensor_log_likelihood is None:
        raise DataError(f"sampler={sampler!r} needs a PyTensor log-likelihood, which the {spec.family.label} "
                        "family does not provide; use sampler='nutpie' (or 'map')")


def _fit(spec: ModelSpec, sampler, chains, draws, tune, seed, progressbar):
    _check_settings(sampler, chains, draws, tune, spec)
    if seed is None:
        seed = int(np.random.SeedSequence().entropy % 2**32)
    if spec.family.bayes.fast_kernel is not None:
        return _fit_checked(spec, sampler, chains, draws, tune, seed, progressbar)
    from clvmodels.inference.bayes.fallback import single_threaded_blas

    with single_threaded_blas():  # numpy likelihoods: see fallback.py for why
        return _fit_checked(spec, sampler, chains, draws, tune, seed, progressbar)


def _fit_checked(spec: ModelSpec, sampler, chains, draws, tune, seed, progressbar):
    started = time.perf_counter()
    segment_modes = None
    if spec.hierarchical:
        from clvmodels.inference.bayes.layout_choice import choose_layout

        spec, segment_modes = choose_layout(spec)
    if sampler == "nutpie":
        idata = _sample_nutpie(spec, chains, draws, tune, seed, progressbar, segment_modes)
    elif sampler == "pymc":
        idata = _sample_pymc(spec, chains, draws, tune, seed, progressbar)
    else:
        from clvmodels.inference.bayes import approximate

        run = approximate.fit_map if sampler == "map" else approximate.fit_advi
        idata = run(spec, draws, seed, progressbar)
    idata.attrs.update(_run_attrs(spec, sampler, chains, draws, tune, seed, time.perf_counter() - started))
    return idata


def _cores(chains: int) -> int:
    return max(1, min(chains, os.cpu_count() or 1))


def initial_point_function(spec: ModelSpec, density, segment_modes=None):
    """Chain starts: the posterior mode of the pooled model plus a draw from its Laplace
    approximation (so chains start over-dispersed on the posterior's own scale); for a model
    pooled by segment, :func:`clvmodels.inference.bayes.hierarchical.start_point`."""
    from clvmodels.inference.bayes.approximate import posterior_mode
    from clvmodels.inference.bayes.hierarchical import start_point
    from clvmodels.inference.bayes.log_density import make_log_density, pooled_spec

    pooled = make_log_density(pooled_spec(spec)) if spec.hierarchical else density
    mode, cov = posterior_mode(pooled)

    def initial_point(seed) -> np.ndarray:
        rng = np.random.default_rng(seed)
        if spec.hierarchical:
            return start_point(density.k, mode, segment_modes, spec.layout, rng)
        return rng.multivariate_normal(mode, cov, method="eigh")

    return initial_point


def _sample_nutpie(spec: ModelSpec, chains, draws, tune, seed, progressbar, segment_modes=None):
    import nutpie
    from nutpie.compiled_pyfunc import from_pyfunc

    from clvmodels.inference.bayes.log_density import make_log_density

    density = make_log_density(spec)
    shapes = density.expanded_shapes()

    def make_logp_fn():
        def logp(u, **_shared):
            try:
                return density(u)
            except (ArithmeticError, ValueError):  # an exception here would abort every chain;
                return float("nan"), np.full(u.size, np.nan)  # nan is rejected as a divergence

        return logp

    def make_expand_fn(*_seeds_and_chain):
        def expand(u, **_shared):
            return density.expand(u)

        return expand

    compiled = from_pyfunc(
        density.n_dim, make_logp_fn, make_expand_fn,
        [np.dtype("float64")] * len(shapes), list(shapes.values()), list(shapes),
        coords={"segment": np.arange(spec.n_segments)} if spec.hierarchical else None,
        dims={name: ("segment",) for name, shape in shapes.items() if shape},
        make_initial_point_fn=initial_point_function(spec, density, segment_modes),
    )
    # the low-rank mass matrix adapts to the strong posterior correlations (r with alpha, a with b;
    # q with gamma): about 3 leapfrog steps per draw instead of 10, and a higher ESS per draw
    return nutpie.sample(compiled, draws=draws, tune=tune, chains=chains, cores=_cores(chains),
                         seed=seed, save_warmup=False, progress_bar=progressbar,
                         low_rank_modified_mass_matrix=True, target_accept=_target_accept(spec))


def _target_accept(spec: ModelSpec) -> float:
    """0.8 (the NUTS default) when pooled; 0.9 by segment, where the between-segment sd is poorly
    identified with few segments and smaller steps avoid most divergences (hierarchical.py)."""
    return 0.9 if spec.hierarchical else 0.8


def _sample_pymc(spec: ModelSpec, chains, draws, tune, seed, progressbar):
    import pymc as pm

    from clvmodels.inference.bayes.pytensor_loglik import build_pymc_model

    with build_pymc_model(spec):
        idata = pm.sample(draws=draws, tune=tune, chains=chains, cores=_cores(chains), random_seed=seed,
                          progressbar=progressbar, nuts_sampler="pymc", compute_convergence_checks=False,
                          target_accept=_target_accept(spec))
    keep = posterior_names(spec)
    idata.posterior = idata.posterior[keep]
    return idata


def _versions(sampler: str) -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    packages = ["clvmodels", "numpy", "arviz"] + {
        "nutpie": ["nutpie", "numba"], "map": ["numba", "scipy"],
        "pymc": ["pymc", "pytensor"], "advi": ["pymc", "pytensor"],
    }[sampler]
    out = {}
    for package in packages:
        try:
            out[package] = version(package)
        except PackageNotFoundError:
            out[package] = "unknown"
    return out


def _run_attrs(spec: ModelSpec, sampler, chains, draws, tune, seed, wall) -> dict:
    """Run metadata (netCDF-safe: strings and numbers only)."""
    approximate = sampler not in MCMC_SAMPLERS
    return {
        "model": spec.model,
        "sampler": sampler,
        "kernel": "fallback" if spec.family.bayes.fast_kernel is None else "fused",
        "approximate": int(approximate),
        "chains": 1 if approximate else int(chains),
        "draws": int(draws),
        "tune": 0 if approximate else int(tune),
        "seed": int(seed),
        "wall_time_s": float(wall),
        "n_rows": int(spec.weights.size),
        "n_customers": float(spec.n_customers),
        "n_segments": int(spec.n_segments) if spec.hierarchical else 0,
        "priors": json.dumps(spec.priors),
        "segment_layout": json.dumps(spec.layout.summary()) if spec.hierarchical else "{}",
        "versions": json.dumps(_versions(sampler)),
    }
