"""Choosing how each segment of a model pooled by segment is sampled (centred or not).

Kept apart from :mod:`.hierarchical` (the layout's maths, which the log density uses) because the
choice fits every segment alone first, through the log density and the posterior mode: putting it
there would make the two modules import each other.
"""

from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np

from clvmodels.errors import ClvError
from clvmodels.inference.bayes.approximate import posterior_mode
from clvmodels.inference.bayes.hierarchical import MIN_SPREAD, NON_CENTRED_ABOVE, SegmentLayout
from clvmodels.inference.bayes.log_density import make_log_density
from clvmodels.inference.bayes.spec import ModelSpec


def segment_subspec(spec: ModelSpec, g: int) -> ModelSpec:
    """The pooled model on segment ``g``'s rows only."""
    keep = spec.segment == g
    return replace(spec, data={k: v[keep] for k, v in spec.data.items()}, weights=spec.weights[keep],
                   segment=None, n_segments=1, layout=None)


def _lone_fits(spec: ModelSpec):
    """Posterior mode and Laplace covariance of each segment fitted alone (NaN where it fails)."""
    k = len(spec.names)
    modes = np.full((spec.n_segments, k), np.nan)
    covs = np.full((spec.n_segments, k, k), np.nan)
    for g in range(spec.n_segments):
        sub = segment_subspec(spec, g)
        if sub.weights.size == 0:
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                modes[g], covs[g] = posterior_mode(make_log_density(sub))
        except (ClvError, np.linalg.LinAlgError, ValueError):
            continue
    return modes, covs


def choose_layout(spec: ModelSpec) -> tuple[ModelSpec, np.ndarray]:
    """Choose centred (whitened) or non-centred sampling per segment (module docstring).

    Returns
    -------
    spec : ModelSpec
        ``spec`` with ``layout`` set.
    segment_modes : ndarray, shape (n_segments, k)
        Lone-fit log-parameters (NaN where the fit failed); used to start chains.
    """
    k = len(spec.names)
    modes, covs = _lone_fits(spec)
    fitted = np.isfinite(modes).all(axis=1)
    spread = np.full(k, spec.priors["segment_sd"])
    if fitted.sum() >= 2:
        spread = np.maximum(modes[fitted].std(axis=0, ddof=1), MIN_SPREAD)
    centred = np.zeros(spec.n_segments, bool)
    shift = np.zeros((spec.n_segments, k))
    chol = np.tile(np.eye(k), (spec.n_segments, 1, 1))
    for g in np.flatnonzero(fitted):
        sd = np.sqrt(np.diag(covs[g]))
        if not np.all(sd <= NON_CENTRED_ABOVE * spread):
            continue
        try:
            chol[g] = np.linalg.cholesky(covs[g])
        except np.linalg.LinAlgError:
            continue
        centred[g] = True
        shift[g] = modes[g]
    return replace(spec, layout=SegmentLayout(centred, shift, chol)), modes
