"""Models pooled by segment: every segment its own parameters, partially pooled.

The model, for each parameter j of the family (``r, alpha, a, b``; ``p, q, gamma``; any family's
``param_names``) and segment g::

    log(theta[g, j]) ~ Normal(m[j], s[j])
    m[j] ~ Normal(mu_j, sd_j)            (the pooled model's prior, see priors.py)
    s[j] ~ Gamma(2, scale=segment_sd/2)  (between-segment sd, mean segment_sd; sampled as log s)

It works the same whatever the likelihood kernel (the family's fused kernel or the generic
fallback of :mod:`.fallback`): both take log-parameters per segment and return the gradient per
segment. Segments with few customers have little likelihood and shrink towards ``m``; large segments keep
their own estimates. The Gamma(2) prior on ``s`` is boundary-avoiding (its density vanishes at 0;
Chung, Rabe-Hesketh, Dorie, Gelman & Liu 2013, Psychometrika 78(4)): with a handful of segments the
data cannot tell ``s = 0`` from ``s = 0.1``, and a HalfNormal prior leaves posterior mass in the
funnel neck near 0 where NUTS diverges.

Parametrisation (only the geometry NUTS sees changes, not the model). Unconstrained vector::

    u = [zeta (k), log_s (k), v (n_segments, k) row-major]

Each segment is sampled one of two ways, chosen by
:func:`clvmodels.inference.bayes.layout_choice.choose_layout`:

- *centred and whitened*, for a segment whose own data pin its parameters down:
  ``log(theta[g]) = mode[g] + L[g] @ v[g]``, where ``mode[g]`` and ``L[g] L[g]' `` are the
  posterior mode and Laplace covariance of the segment fitted alone. BG/NBD's ``a`` and ``b`` are
  correlated at about 0.95 within a segment, each segment in its own direction, which no single
  mass matrix can undo; this fixed affine map does, so ``v[g]`` is close to standard normal.
- *non-centred*, for a segment with weak data: ``log(theta[g]) = m + s * v[g]``,
  ``v[g] ~ Normal(0, 1)`` (Betancourt & Girolami 2015, "Hamiltonian Monte Carlo for hierarchical
  models").

Given ``s``, the population mean sits within about ``s / sqrt(C)`` of the mean of the ``C``
centred segments, a funnel in (m, log s) when ``s`` is poorly identified (few segments), so ``m``
is sampled through ``zeta``: ``m = mean_centred(log theta) + s / sqrt(C) * zeta`` (``m = zeta``
when no segment is centred). All maps are triangular; the log-Jacobian is
``sum_centred log|det L[g]| + log(s / sqrt(C)) + n_noncentred * log(s)`` per parameter.

:func:`~clvmodels.inference.bayes.layout_choice.choose_layout` centres a segment when its lone fit succeeds and, for every parameter, the
lone-fit sd is at most ``NON_CENTRED_ABOVE`` times the spread of the lone-fit estimates across
segments (``segment_sd`` with fewer than two fits).

Measured (4 chains x 1000 draws, nutpie, target_accept 0.9) on simulated segments of 60,000,
30,000 and 2,000 customers: all non-centred, 139 leapfrog steps per draw and 309 divergences;
all centred with a HalfNormal(1) prior, 100 divergences; this layout with the Gamma(2) prior, 0
divergences, 7 steps per draw, bulk ESS 3,700. Adding a segment of 150 customers: 7 divergences.
On 20,000 / 8,000 / 400 customers (tests/test_bayes_recovery.py): 38 and 49 divergences (about
1%) for two seeds, R-hat 1.003, bulk ESS about 2,000; the 400-customer segment's ``a`` and ``b``
are weakly identified and ``s`` for ``a`` reaches down to 0.1. :func:`diagnose` reports such
divergences; merging very small segments removes them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

from clvmodels.inference.bayes.fast_math import SCALAR_JIT

#: floor of the estimated between-segment spread of a log-parameter
MIN_SPREAD = 0.05
#: sample a segment non-centred when a lone-fit sd exceeds this multiple of the spread
NON_CENTRED_ABOVE = 2.0

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


@dataclass(frozen=True)
class SegmentLayout:
    """How each segment's log-parameters are sampled (module docstring).

    Attributes
    ----------
    centred : ndarray of bool, shape (n_segments,)
    shift : ndarray, shape (n_segments, k)
        Lone-fit mode of centred segments (0 for the others).
    chol : ndarray, shape (n_segments, k, k)
        Lower Cholesky factor of the lone-fit covariance of centred segments (identity otherwise).
    """

    centred: np.ndarray
    shift: np.ndarray
    chol: np.ndarray

    @property
    def log_det(self) -> float:
        """Sum over centred segments of log|det L[g]| (a constant of the density)."""
        diag = np.diagonal(self.chol, axis1=1, axis2=2)[self.centred]
        return float(np.log(diag).sum())

    def summary(self) -> dict:
        """For ``idata.attrs``: which segments are centred."""
        return {"centred": self.centred.astype(int).tolist()}


def start_point(k: int, pooled_mode: np.ndarray, segment_modes: np.ndarray, layout: SegmentLayout,
                rng: np.random.Generator) -> np.ndarray:
    """A chain start: population mean near the pooled mode, between-segment sd about 0.3,
    centred segments at their lone-fit modes plus a draw from their Laplace approximation,
    non-centred segments near the population mean."""
    n_seg = layout.centred.size
    m = pooled_mode + rng.normal(0.0, 0.05, k)
    log_s = np.log(0.3) + rng.normal(0.0, 0.1, k)
    v = np.where(layout.centred[:, None], rng.normal(0.0, 1.0, (n_seg, k)), rng.normal(0.0, 0.3, (n_seg, k)))
    n_centred = int(layout.centred.sum())
    zeta = m.copy()
    if n_centred:  # invert m = mean_centred(shift + L v) + s / sqrt(C) zeta
        t_centred = layout.shift[layout.centred] + np.einsum("gij,gj->gi", layout.chol[layout.centred],
                                                            v[layout.centred])
        zeta = (m - t_centred.mean(axis=0)) * math.sqrt(n_centred) / np.exp(log_s)
    return np.concatenate([zeta, log_s, v.ravel()])


@numba.njit(**SCALAR_JIT)
def unpack(u, k, n_seg, centred, shift, chol):
    """Population means m (k,), sds s (k,) and log-parameters per segment (n_seg, k) at ``u``."""
    s = np.exp(u[k:2 * k])
    log_theta = np.empty((n_seg, k))
    n_centred = 0
    centred_sum = np.zeros(k)
    for g in range(n_seg):
        if centred[g]:
            n_centred += 1
            for i in range(k):
                value = shift[g, i]
                for j in range(i + 1):
                    value += chol[g, i, j] * u[2 * k + g * k + j]
                log_theta[g, i] = value
                centred_sum[i] += value
    m = u[:k].copy()
    if n_centred > 0:
        for j in range(k):
            m[j] = centred_sum[j] / n_centred + s[j] / math.sqrt(n_centred) * u[j]
    for g in range(n_seg):
        if not centred[g]:
            for j in range(k):
                log_theta[g, j] = m[j] + s[j] * u[2 * k + g * k + j]
    return m, s, log_theta


@numba.njit(**SCALAR_JIT)
def hierarchical_prior_and_chain_rule(u, grad_log_theta, k, n_seg, centred, shift, chol, log_det,
                                      prior_mu, prior_sd, segment_sd):
    """Log prior (with Jacobians) and d log posterior / d u, given d loglik / d log_theta.

    With ``t = log theta``, ``dev = (t - m) / s``, ``A = d loglik / d t - dev / s``, the total
    derivative along m ``M = -(m - mu) / sd**2 + sum_g dev / s + sum_noncentred A`` and
    ``h = s / sqrt(C)``::

        d/dv[g] (centred)     = L[g]' (A[g] + M / C)
        d/dv[g] (non-centred) = s A[g]
        d/dzeta               = M h                (M when no segment is centred)
        d/dlog s              = sum_g (dev**2 - 1) + 2 - 2 s / segment_sd
                                + [C > 0] (1 + M h zeta) + sum_noncentred (1 + s v A)
    """
    m, s, log_theta = unpack(u, k, n_seg, centred, shift, chol)
    n_centred = 0
    for g in range(n_seg):
        if centred[g]:
            n_centred += 1
    grad = np.zeros(u.size)
    lp = log_det
    along_t = np.empty((n_seg, k))  # A, then A + M / C for centred segments
    for j in range(k):
        log_s = u[k + j]
        dev_m = (m[j] - prior_mu[j]) / prior_sd[j]
        lp += -0.5 * dev_m * dev_m - math.log(prior_sd[j]) - _LOG_SQRT_2PI
        # s ~ Gamma(2, scale=segment_sd / 2) (mean segment_sd), on log s with Jacobian s:
        # log p = log s - 2 log(scale) - s / scale + log s
        scale = 0.5 * segment_sd
        lp += 2.0 * log_s - 2.0 * math.log(scale) - s[j] / scale
        along_m = -dev_m / prior_sd[j]
        grad_log_s = 2.0 - s[j] / scale
        for g in range(n_seg):
            dev = (log_theta[g, j] - m[j]) / s[j]
            lp += -0.5 * dev * dev - log_s - _LOG_SQRT_2PI
            inner = grad_log_theta[g, j] - dev / s[j]
            along_t[g, j] = inner
            along_m += dev / s[j]
            grad_log_s += dev * dev - 1.0
            if not centred[g]:
                v = u[2 * k + g * k + j]
                lp += log_s
                along_m += inner
                grad_log_s += 1.0 + s[j] * v * inner
                grad[2 * k + g * k + j] = s[j] * inner
        if n_centred > 0:
            h = s[j] / math.sqrt(n_centred)
            lp += log_s - 0.5 * math.log(n_centred)
            grad_log_s += 1.0 + along_m * h * u[j]
            grad[j] = along_m * h
            for g in range(n_seg):
                if centred[g]:
                    along_t[g, j] += along_m / n_centred
        else:
            grad[j] = along_m
        grad[k + j] = grad_log_s
    for g in range(n_seg):  # centred segments: back through t = shift + L v
        if centred[g]:
            for j in range(k):
                total = 0.0
                for i in range(j, k):
                    total += chol[g, i, j] * along_t[g, i]
                grad[2 * k + g * k + j] = total
    return lp, grad
