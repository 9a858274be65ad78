"""Priors of the Bayesian BG/NBD and Gamma-Gamma fits: normal distributions on log-parameters.

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
"""

from __future__ import annotations

import math

import numpy as np

from clvmodels.errors import DataError

BGNBD_PARAMS = ("r", "alpha", "a", "b")
GAMMAGAMMA_PARAMS = ("p", "q", "gamma")

#: sd of the default prior on a log shape parameter
SHAPE_SD = 2.5
#: sd of the default prior on a log scale parameter (around the data's scale)
SCALE_SD = 3.0
#: prior mean of the between-segment sd of each log-parameter (Gamma(2) prior)
SEGMENT_SD = 1.0


def default_priors(model: str = "bgnbd") -> dict:
    """The default priors, as ``{name: (mu, sigma)}`` of a normal on ``log(name)``.

    A ``mu`` of ``None`` means "centred on the data's scale" (``alpha``: log of the weighted mean
    ``T``; ``gamma``: log of the weighted mean spend of repeat buyers); it is resolved when fitting.
    ``"segment_sd"`` is the prior mean of the between-segment sd of each log-parameter (models
    pooled by segment; a Gamma(2) prior).

    Parameters
    ----------
    model : {"bgnbd", "gammagamma"}

    Examples
    --------
    >>> default_priors("bgnbd")
    {'r': (0.0, 2.5), 'alpha': (None, 3.0), 'a': (0.0, 2.5), 'b': (0.0, 2.5), 'segment_sd': 1.0}

    Replace some of them when fitting: ``priors={"b": (1.0, 1.0)}``; the others keep their default.
    """
    if model == "bgnbd":
        return {"r": (0.0, SHAPE_SD), "alpha": (None, SCALE_SD), "a": (0.0, SHAPE_SD),
                "b": (0.0, SHAPE_SD), "segment_sd": SEGMENT_SD}
    if model == "gammagamma":
        return {"p": (0.0, SHAPE_SD), "q": (0.0, SHAPE_SD), "gamma": (None, SCALE_SD),
                "segment_sd": SEGMENT_SD}
    raise DataError(f"model must be one of ['bgnbd', 'gammagamma']; got {model!r}")


def resolve_priors(model: str, priors: dict | None, data_scale: float) -> dict:
    """Merge user priors into the defaults and fill in the data-centred means.

    Parameters
    ----------
    model : {"bgnbd", "gammagamma"}
    priors : dict or None
        Replacements, ``{name: (mu, sigma)}`` and/or ``{"segment_sd": float}``.
    data_scale : float
        Scale the scale parameter's prior is centred on (mean T, or mean spend).

    Returns
    -------
    dict
        ``{name: (mu, sigma)}`` with floats only, plus ``"segment_sd"``.
    """
    resolved = default_priors(model)
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
    for name in names:
        mu, sigma = resolved[name]
        resolved[name] = (float(math.log(data_scale)) if mu is None else float(mu), sigma)
    resolved["segment_sd"] = float(resolved["segment_sd"])
    return resolved


def prior_arrays(resolved: dict, names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Prior means and sds of the log-parameters in the order of ``names``, shape (k,) each."""
    return (np.array([resolved[n][0] for n in names], float),
            np.array([resolved[n][1] for n in names], float))
