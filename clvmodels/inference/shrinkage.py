"""Empirical-Bayes scale of segment differences, for maximum likelihood fits pooled by segment.

Model (on log-parameters, one parameter k at a time): each segment's parameter is drawn around the
pooled fit, ``theta_gk ~ N(c_k, tau_k**2)``, and the segment's own maximum likelihood estimate is
approximately ``N(theta_gk, v_gk)`` with ``v_gk`` its Laplace variance. Marginally, the deviation
``d_gk = theta_hat_gk - c_k`` is ``N(0, tau_k**2 + v_gk)``, so ``tau_k`` is estimated by maximising
that normal likelihood over the segments (the known-centre random-effects estimator; Morris 1983,
"Parametric empirical Bayes inference", JASA 78, 47-55). The segment fits are then redone with the
prior ``N(c, diag(tau**2))`` added to their likelihood (:func:`clvmodels.inference.mle.fit_mle`),
so a small segment, whose ``v_gk`` is large, is pulled toward the pooled fit and a large one keeps
essentially its own estimate.

The centre ``c`` and the scale ``tau`` are plugged in (their own estimation error is not carried
into the segments' standard errors), the usual empirical-Bayes simplification.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize

#: smallest prior standard deviation on a log-parameter: segments then agree with the pooled fit
#: to about 0.1% (an exact zero would make the prior's precision infinite)
TAU_FLOOR = 1e-3
#: largest prior standard deviation considered: a factor e**5 either way is "no shrinkage"
TAU_CEILING = 5.0


def _neg_marginal_loglik(log_tau: float, d: np.ndarray, v: np.ndarray) -> float:
    total = np.exp(2.0 * log_tau) + v
    return 0.5 * float(np.sum(np.log(total) + d * d / total))


def between_segment_scale(deviations: np.ndarray, variances: np.ndarray) -> np.ndarray:
    """Maximum-likelihood prior standard deviation of each log-parameter across segments.

    Parameters
    ----------
    deviations : ndarray, shape (G, k)
        Each segment's unshrunk log-parameter estimate minus the pooled fit's.
    variances : ndarray, shape (G, k)
        The Laplace variances of those estimates (diagonal of each segment's covariance).

    Returns
    -------
    ndarray, shape (k,)
        ``tau``, in log-units, within ``[TAU_FLOOR, TAU_CEILING]``.
    """
    d, v = np.asarray(deviations, float), np.asarray(variances, float)
    bounds = (np.log(TAU_FLOOR), np.log(TAU_CEILING))
    scales = np.empty(d.shape[1])
    for k in range(d.shape[1]):
        best = optimize.minimize_scalar(_neg_marginal_loglik, bounds=bounds, method="bounded",
                                        args=(d[:, k], v[:, k]), options={"xatol": 1e-6})
        # the bounded search never evaluates the bounds themselves; the floor is the common optimum
        # when segments agree, so compare with it explicitly
        at_floor = _neg_marginal_loglik(bounds[0], d[:, k], v[:, k])
        scales[k] = TAU_FLOOR if at_floor <= best.fun else float(np.exp(best.x))
    return scales


def shrinkage_weight(unshrunk: np.ndarray, shrunk: np.ndarray, centre: np.ndarray) -> np.ndarray:
    """Share of the distance from the unshrunk estimate to the centre that shrinkage moved, per
    log-parameter: 0 = not moved, 1 = moved all the way to the pooled fit. Shapes broadcast."""
    gap = np.asarray(unshrunk, float) - centre
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(np.abs(gap) > 1e-12, (np.asarray(unshrunk, float) - shrunk) / gap, 0.0)
