"""Priors of the Bayesian fits of every model family: normal distributions on log-parameters.

Every parameter is positive, and the samplers work on its logarithm, so a prior is a pair
``(mu, sigma)``: ``log(theta) ~ Normal(mu, sigma)`` (a log-normal prior on ``theta``). This one
form serves both the fast numba path and the PyMC reference model, and it is easy to read.

Defaults are weakly informative and chosen not to drag the estimates:

- shape parameters (``r``, ``a``, ``b``; ``p``, ``q``) get ``Normal(0, 2.5)``: the median is 1 and
  the central 95% spans about 0.007 to 130. Their job is to keep the posterior proper along the
  ridges where the likelihood is flat (``r, alpha -> inf`` with ``r / alpha`` fixed: no
  heterogeneity in purchase rates; ``a, b -> inf``: no heterogeneity in dropout; the same for
  ``p``, ``q``), which a flat prior would not.
- scale parameters carry the data's units, so their prior is centred on the data's own scale and
  wider, ``Normal(log(scale), 3)``: ``alpha`` (a time) on the mean customer age ``T`` (with ``r``
  near 1 that is about one purchase per observation window), ``gamma`` (money) on the mean spend
  per transaction. The prior is then the same whatever the time unit or currency. The resolved
  numbers are stored in ``idata.attrs["priors"]``.

For a model pooled by segment (:mod:`.hierarchical`) the prior above applies to the population
mean of each log-parameter, and each between-segment standard deviation of a log-parameter gets
a ``Gamma(2, scale=segment_sd / 2)`` prior, mean ``segment_sd`` (default 1.0: segments typically
within a factor e of one another), boundary-avoiding (see :mod:`.hierarchical` for why).

On CDNOW the defaults move the posterior means of BG/NBD and Gamma-Gamma by a small fraction of a
posterior sd from the published MLE (tests/test_bayes_cdnow.py), whereas the default priors of
pymc-marketing move ``a`` and ``b`` by about 15%.

Where they come from: each family's :class:`~clvmodels.families.bayes_hooks.BayesHooks`
``default_priors`` (BG/NBD and Gamma-Gamma carry the ones above). A family that gives none gets
``Normal(start_j, 3)`` on each log-parameter, ``start`` being the family's own data-dependent
starting point, so that its scale parameters too are centred on the data's units; the engine never
needs to know which parameter is which.
"""

from __future__ import annotations

import math

import numpy as np

from clvmodels.errors import DataError

#: sd of the default prior on a log shape parameter
SHAPE_SD = 2.5
#: sd of the default prior on a log scale parameter (around the data's scale)
SCALE_SD = 3.0
#: prior mean of the between-segment sd of each log-parameter (Gamma(2) prior)
SEGMENT_SD = 1.0


def family_defaults(family) -> dict:
    """``{name: (mu, sigma)}`` of the family (mu None: resolved when fitting)."""
    given = family.bayes.default_priors
    if given is None:  # no priors of its own: centred on its start point (module docstring)
        return {name: (None, SCALE_SD) for name in family.param_names}
    return {name: tuple(given[name]) for name in family.param_names}


def resolve_priors(family, priors: dict | None, history: tuple, weights: np.ndarray) -> dict:
    """Merge user priors into the family's defaults and fill in the data-centred means.

    Parameters
    ----------
    family : PurchaseFamily or SpendFamily
    priors : dict or None
        Replacements, ``{name: (mu, sigma)}`` and/or ``{"segment_sd": float}``.
    history : tuple of ndarray, shape (m,) each
        The rows fitted, in the order of ``family.history_columns``.
    weights : ndarray, shape (m,)

    Returns
    -------
    dict
        ``{name: (mu, sigma)}`` with floats only, plus ``"segment_sd"``.
    """
    resolved = {**family_defaults(family), "segment_sd": SEGMENT_SD}
    names = [k for k in resolved if k != "segment_sd"]
    for key, value in (priors or {}).items():
        if key not in resolved:
            raise DataError(f"unknown prior {key!r}; priors can be set for {list(resolved)}")
        if key == "segment_sd":
            if not (np.isfinite(value) and value > 0):
                raise DataError(f"segment_sd must be a positive number; got {value!r}")
            resolved[key] = float(value)
            continue
        try:
            mu, sigma = value
        except (TypeError, ValueError):
            raise DataError(
                f"prior of {key!r} must be a pair (mu, sigma) of a normal on log({key}); got {value!r}"
            ) from None
        if not (mu is None or np.isfinite(mu)) or not (np.isfinite(sigma) and sigma > 0):
            raise DataError(f"prior of {key!r} needs a finite mu and sigma > 0; got {value!r}")
        resolved[key] = (mu, float(sigma))
    centre = _data_centres(family, names, history, weights)
    for name in names:
        mu, sigma = resolved[name]
        resolved[name] = (centre[name] if mu is None else float(mu), sigma)
    resolved["segment_sd"] = float(resolved["segment_sd"])
    return resolved


def _data_centres(family, names, history, weights) -> dict[str, float]:
    """What a mean of None resolves to: log of the family's data scale when it has one, else the
    family's start point for that parameter."""
    hooks = family.bayes
    if hooks.default_priors is not None and hooks.prior_scale is not None:
        return dict.fromkeys(names, float(math.log(hooks.prior_scale(*history, weights))))
    start = np.asarray(family.start(*history, weights), float)
    return {name: float(start[j]) for j, name in enumerate(names)}


def prior_arrays(resolved: dict, names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Prior means and sds of the log-parameters in the order of ``names``, shape (k,) each."""
    return (np.array([resolved[n][0] for n in names], float),
            np.array([resolved[n][1] for n in names], float))
