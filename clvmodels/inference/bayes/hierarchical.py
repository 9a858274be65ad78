"""Models pooled by segment: every segment its own parameters, partially pooled.

The model, for each parameter j (``r, alpha, a, b`` or ``p, q, gamma``) and segment g::

    log(theta[g, j]) ~ Normal(m[j], s[j])
    m[j] ~ Normal(mu_j, sd_j)            (the pooled model's prior, see priors.py)
    s[j] ~ HalfNormal(segment_sd)        (between-segment sd; sampled as log s, with Jacobian)

Segments with few customers have little likelihood and shrink towards ``m``; large segments keep
their own estimates.

Parametrisation (only the geometry NUTS sees changes, not the model). Unconstrained vector::

    u = [zeta (k), log_s (k), v (n_segments, k) row-major]
    log(theta[g, j]) = s[j] ** lam[g, j] * v[g, j] + lam[g, j] * m[j]
    m[j] = sum_g omega[g, j] v[g, j] + s[j] / sqrt(W[j]) * zeta[j],   W[j] = sum_g (1 - lam[g, j])

``lam = 1`` is the non-centred form (``v ~ Normal(0, 1)``), good for segments with weak data;
``lam = 0`` is the centred form (``v = log theta``), good for segments whose data pin their
parameter down; in between is the partially non-centred form (Papaspiliopoulos, Roberts & Sköld
2007; Gorinova, Moore & Hoffman 2020, "Automatic reparameterisation of probabilistic programs").
When segments are (mostly) centred, the population mean is itself well determined by them:
given ``s`` it sits within about ``s / sqrt(W)`` of their weighted mean
(``omega = (1 - lam) / W``), a funnel in (m, log s) when ``s`` is poorly identified (few
segments). Sampling ``zeta`` instead of ``m`` removes that funnel. With ``W < 0.5`` (no segment
really centred) ``m = zeta``. The map is triangular, so its log-Jacobian is
``log(s / sqrt(W)) + sum_g lam[g] log(s)``.

:func:`choose_centring` sets ``lam = kappa**2 / (kappa**2 + sigma**2)`` per segment and parameter,
the value that decorrelates a Gaussian segment effect from ``(m, s)``: ``kappa`` is the posterior
sd of the log-parameter when the segment is fitted alone (Laplace, pooled priors) and ``sigma``
the spread (sd) of those lone-fit estimates across segments (``segment_sd`` with fewer than two
fits). A segment whose lone fit fails gets ``lam = 1``.

Measured on simulated segments of 60,000, 30,000, 2,000 (and 150) customers, 4 chains x 1000
draws, nutpie: all non-centred, 139 leapfrog steps per draw and 309 divergences (the data fix
``m + s v`` and leave a curved ridge); all centred without recentring, 8 steps and 100
divergences (the funnel at small ``s``); with four segments, all centred and recentred 99
divergences, this scheme 36 (ESS 3,000), and 18 with ``target_accept=0.9``, which the sampler
uses for models pooled by segment. With so few segments ``s`` is barely identified and a few
divergences can remain; :func:`clvmodels.inference.bayes.diagnose` reports them.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import replace

import numba
import numpy as np

from clvmodels.errors import ClvError
from clvmodels.inference.bayes.fast_math import SCALAR_JIT
from clvmodels.inference.bayes.spec import ModelSpec

#: floor of the estimated between-segment spread of a log-parameter
MIN_SPREAD = 0.05
#: recentre the population mean on the segments when their centred weight W is at least this
MIN_CENTRED_WEIGHT = 0.5

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_LOG_2 = math.log(2.0)


def segment_subspec(spec: ModelSpec, g: int) -> ModelSpec:
    """The pooled model on segment ``g``'s rows only."""
    keep = spec.segment == g
    return replace(spec, data={k: v[keep] for k, v in spec.data.items()}, weights=spec.weights[keep],
                   segment=None, n_segments=1, centring=None)


def choose_centring(spec: ModelSpec) -> tuple[ModelSpec, np.ndarray]:
    """Set the non-centring weights ``lam`` per segment and parameter (module docstring).

    Returns
    -------
    spec : ModelSpec
        ``spec`` with ``centring`` (``lam``) set, shape (n_segments, k), values in [0, 1].
    segment_modes : ndarray, shape (n_segments, k)
        Log-parameters of each segment's lone fit (NaN where it failed); used to start chains.
    """
    from clvmodels.inference.bayes.approximate import posterior_mode
    from clvmodels.inference.bayes.log_density import make_log_density

    k = len(spec.names)
    modes = np.full((spec.n_segments, k), np.nan)
    data_sd = np.full((spec.n_segments, k), np.inf)
    for g in range(spec.n_segments):
        sub = segment_subspec(spec, g)
        if sub.weights.size == 0:
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                mode, cov = posterior_mode(make_log_density(sub))
        except (ClvError, np.linalg.LinAlgError, ValueError):
            continue
        modes[g] = mode
        data_sd[g] = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    fitted = np.isfinite(modes[:, 0])
    spread = np.full(k, spec.priors["segment_sd"])
    if fitted.sum() >= 2:
        spread = np.maximum(modes[fitted].std(axis=0, ddof=1), MIN_SPREAD)
    with np.errstate(invalid="ignore"):
        lam = np.where(np.isfinite(data_sd), data_sd**2 / (data_sd**2 + spread**2), 1.0)
    return replace(spec, centring=lam), modes


def _recentring(lam_j):
    """Weights omega (n_seg,) and W of the population-mean recentring for one parameter."""
    total = float(np.sum(1.0 - lam_j))
    if total < MIN_CENTRED_WEIGHT:
        return np.zeros_like(lam_j), 0.0
    return (1.0 - lam_j) / total, total


def start_point(k: int, pooled_mode: np.ndarray, segment_modes: np.ndarray, lam: np.ndarray,
                rng: np.random.Generator) -> np.ndarray:
    """A chain start: population mean near the pooled mode, between-segment sd about 0.3, segment
    parameters near their lone-fit modes (the pooled mode where the lone fit failed)."""
    n_seg = lam.shape[0]
    m = pooled_mode + rng.normal(0.0, 0.05, k)
    log_s = np.log(0.3) + rng.normal(0.0, 0.1, k)
    own = np.where(np.isfinite(segment_modes), segment_modes, m) + rng.normal(0.0, 0.05, (n_seg, k))
    v = (own - lam * m) / np.exp(lam * log_s)  # invert log theta = s**lam v + lam m
    zeta = m.copy()
    for j in range(k):
        omega, total = _recentring(lam[:, j])
        if total > 0:  # invert m = omega . v + s / sqrt(W) zeta
            zeta[j] = (m[j] - omega @ v[:, j]) * math.sqrt(total) / math.exp(log_s[j])
    return np.concatenate([zeta, log_s, v.ravel()])


@numba.njit(**SCALAR_JIT)
def unpack(u, k, n_seg, lam):
    """Population means m (k,), sds s (k,) and log-parameters per segment (n_seg, k) at ``u``."""
    m = np.empty(k)
    s = np.empty(k)
    log_theta = np.empty((n_seg, k))
    for j in range(k):
        s[j] = math.exp(u[k + j])
        total = 0.0
        for g in range(n_seg):
            total += 1.0 - lam[g, j]
        m[j] = u[j]
        if total >= MIN_CENTRED_WEIGHT:
            m[j] = s[j] / math.sqrt(total) * u[j]
            for g in range(n_seg):
                m[j] += (1.0 - lam[g, j]) / total * u[2 * k + g * k + j]
        for g in range(n_seg):
            log_theta[g, j] = math.exp(lam[g, j] * u[k + j]) * u[2 * k + g * k + j] + lam[g, j] * m[j]
    return m, s, log_theta


@numba.njit(**SCALAR_JIT)
def hierarchical_prior_and_chain_rule(u, grad_log_theta, k, n_seg, lam, prior_mu, prior_sd, segment_sd):
    """Log prior (with Jacobians) and d log posterior / d u, given d loglik / d log_theta.

    With ``t = log theta``, ``dev = (t - m) / s``, ``A = d loglik / d t - dev / s`` and the total
    derivative along m ``M = -(m - mu) / sd**2 + sum_g dev / s + sum_g lam A``::

        d/dv[g]   = s**lam A + omega M
        d/dzeta   = M s / sqrt(W)          (M when m = zeta)
        d/dlog s  = sum_g (dev**2 - 1 + lam + lam s**lam v A) + 1 - (s / segment_sd)**2
                    + [recentred] (1 + M s / sqrt(W) zeta)
    """
    m, s, log_theta = unpack(u, k, n_seg, lam)
    grad = np.empty(u.size)
    lp = 0.0
    for j in range(k):
        log_s = u[k + j]
        total = 0.0
        for g in range(n_seg):
            total += 1.0 - lam[g, j]
        recentred = total >= MIN_CENTRED_WEIGHT
        dev_m = (m[j] - prior_mu[j]) / prior_sd[j]
        ratio = s[j] / segment_sd
        lp += -0.5 * dev_m * dev_m - math.log(prior_sd[j]) - _LOG_SQRT_2PI
        lp += _LOG_2 - _LOG_SQRT_2PI - math.log(segment_sd) - 0.5 * ratio * ratio + log_s
        along_m = -dev_m / prior_sd[j]
        grad_log_s = 1.0 - ratio * ratio
        for g in range(n_seg):
            dev = (log_theta[g, j] - m[j]) / s[j]
            lp += -0.5 * dev * dev - log_s - _LOG_SQRT_2PI + lam[g, j] * log_s
            inner = grad_log_theta[g, j] - dev / s[j]
            along_m += dev / s[j] + lam[g, j] * inner
            grad_log_s += dev * dev - 1.0 + lam[g, j]
            grad_log_s += lam[g, j] * math.exp(lam[g, j] * log_s) * u[2 * k + g * k + j] * inner
        scale = s[j] / math.sqrt(total) if recentred else 1.0
        if recentred:
            lp += log_s - 0.5 * math.log(total)
            grad_log_s += 1.0 + along_m * scale * u[j]
        for g in range(n_seg):
            dev = (log_theta[g, j] - m[j]) / s[j]
            inner = grad_log_theta[g, j] - dev / s[j]
            omega = (1.0 - lam[g, j]) / total if recentred else 0.0
            grad[2 * k + g * k + j] = math.exp(lam[g, j] * log_s) * inner + omega * along_m
        grad[j] = along_m * scale
        grad[k + j] = grad_log_s
    return lp, grad
