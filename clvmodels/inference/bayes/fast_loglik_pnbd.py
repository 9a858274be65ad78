"""Fused numba kernel: the weighted Pareto/NBD log-likelihood AND its analytic gradient in one pass.

The fast path behind ``sampler="nutpie"`` for Pareto/NBD and behind its maximum-likelihood fit. It
computes exactly the likelihood of :mod:`clvmodels.formulas.paretonbd` (Schmittlein, Morrison &
Colombo 1987; Fader & Hardie note 009 eq. 18), by the same route: the death-time integral

``J = int_0^(T-t_x) (1 + w/A)^-(r+x) (1 + w/B)^-(s+1) dw``,  ``A = alpha + t_x``, ``B = beta + t_x``

on a log-time axis ``w = c expm1(v)``, ``c = 1 / ((r+x)/A + (s+1)/B)``, by Gauss-Legendre panels of
one unit of v with 12 nodes, cut after the first panel edge where the log-integrand is below -45
(see :func:`clvmodels.formulas.paretonbd._power_integral`, whose panels, nodes and cut are copied
here, so both agree to rounding: tests/test_paretonbd_fast.py). The same nodes give the four
moments of the gradient. What differs from the numpy version is only the arrangement:

- one pass over the rows, each row's panels and nodes in registers (no temporaries of the size of
  the data, no re-gathering of the rows that still need a panel);
- ``expm1`` of the nodes of full panels (all but a row's last) comes from a table built once;
- rows are sorted by segment, so a model pooled by segment costs one pass too.

Parameters arrive as log-parameters of shape (n_segments, 4) (one row when pooled); the gradient is
returned with respect to them. The kernel holds no Python objects and releases the GIL, so nutpie's
chains run in parallel; it sums serially, so its numbers do not depend on the thread count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

from clvmodels.formulas import paretonbd as _formulas
from clvmodels.inference.bayes.fast_math import JIT, SCALAR_JIT, digamma, exp_nonpositive, log_positive

_PANEL_WIDTH = _formulas._PANEL_WIDTH
_LOG_CUT = _formulas._LOG_CUT
_XI, _OMEGA = np.polynomial.legendre.leggauss(_formulas._QUAD_NODES)
#: nodes and weights on [0, 1], as in formulas.paretonbd._power_integral
_NODES = np.ascontiguousarray((_XI + 1.0) / 2.0)
_WEIGHTS = np.ascontiguousarray(_OMEGA / 2.0)
#: expm1 at the nodes of full panels 0 .. _TABLE_PANELS - 1 (rows needing more compute them)
_TABLE_PANELS = 64
_EXPM1_TABLE = np.ascontiguousarray(
    np.expm1(np.arange(_TABLE_PANELS)[:, None] * _PANEL_WIDTH + _NODES[None, :] * _PANEL_WIDTH))

# the kernel is compiled for fixed rules; a change of the numpy constants must show up here
assert _NODES.size == 12 and _PANEL_WIDTH == 1.0
# global arrays: numba freezes them into the compiled code as constants
_NODES_C, _WEIGHTS_C, _EXPM1_C = _NODES, _WEIGHTS, _EXPM1_TABLE


@dataclass(frozen=True)
class PnbdRows:
    """Distinct Pareto/NBD rows sorted by segment (build with :func:`prepare_pnbd`).

    ``args()`` gives the arrays in the argument order of :func:`pnbd_loglik_grad`.
    """

    segment_start: np.ndarray  # (n_segments + 1,) int: row range of each segment
    x: np.ndarray  # (m,) float: repeat purchases
    t_x: np.ndarray  # (m,) float: recency
    T: np.ndarray  # (m,) float: age
    weight: np.ndarray  # (m,) float: customers per row

    def args(self) -> tuple:
        return (self.segment_start, self.x, self.t_x, self.T, self.weight)


def prepare_pnbd(x, t_x, T, weights, segment=None, n_segments: int = 1) -> PnbdRows:
    """Sort the distinct rows ``(x, t_x, T)`` with weights by segment for :func:`pnbd_loglik_grad`.

    Parameters
    ----------
    x, t_x, T, weights : array_like, shape (m,)
        Frequency, recency, age (time units) and number of customers of each distinct row.
    segment : array_like of int, shape (m,), optional
        Segment code (0 .. n_segments - 1) of each row; None for a pooled model.
    n_segments : int
        Number of segments (1 when pooled).
    """
    x = np.asarray(x, float)
    segment = np.zeros(x.size, np.int64) if segment is None else np.asarray(segment, np.int64)
    order = np.argsort(segment, kind="stable")
    start = np.searchsorted(segment[order], np.arange(int(n_segments) + 1)).astype(np.int64)
    return PnbdRows(start, *(np.ascontiguousarray(np.asarray(v, float)[order])
                             for v in (x, t_x, T, weights)))


@numba.njit(**JIT)
def _panel_sums(lo, width, em, c, inv_A, inv_B, k1, k2, out):
    """Adds one panel's node sums (integral and the four moments, in v) to ``out[0:5]``.

    ``em`` holds expm1 at the panel's nodes. Written branch-free with :mod:`.fast_math`, so
    the loop over the nodes compiles to SIMD code. ``log1p(w/A)`` is taken as ``log(1 + w/A)``:
    its absolute error stays below 1e-15, which is what enters the log-integrand.
    """
    part = 0.0
    p_log_a = 0.0
    p_w_a = 0.0
    p_log_b = 0.0
    p_w_b = 0.0
    for j in range(_NODES_C.size):
        w = c * em[j]
        one_a = 1.0 + w * inv_A
        one_b = 1.0 + w * inv_B
        log_a = log_positive(one_a)
        log_b = log_positive(one_b)
        f = _WEIGHTS_C[j] * exp_nonpositive(lo + _NODES_C[j] * width - k1 * log_a - k2 * log_b)
        part += f
        p_log_a += f * log_a
        p_w_a += f * (1.0 - 1.0 / one_a)
        p_log_b += f * log_b
        p_w_b += f * (1.0 - 1.0 / one_b)
    out[0] += part * width
    out[1] += p_log_a * width
    out[2] += p_w_a * width
    out[3] += p_log_b * width
    out[4] += p_w_b * width


@numba.njit(**JIT)
def _partial_expm1(lo, width, em):
    """expm1 at the nodes of a panel of any width: exp(v) - 1, a Taylor polynomial below 1e-3."""
    for j in range(em.size):
        v = lo + _NODES_C[j] * width
        small = v * (1.0 + v * (0.5 + v * (1.0 / 6.0 + v * (1.0 / 24.0 + v * (1.0 / 120.0)))))
        em[j] = small if v < 1e-3 else exp_nonpositive(v) - 1.0


@numba.njit(**SCALAR_JIT)
def _death_integral(k1, A, k2, B, gap, em, out):
    """Fills ``out[0:5]`` with ``(J, m_log_a, m_w_a, m_log_b, m_w_b)``: the death-time integral and
    its four moments (of ``log1p(w/A)``, ``w/(A+w)``, ``log1p(w/B)``, ``w/(B+w)``); J = 0 when
    gap = 0. Panels, nodes and cut of ``formulas.paretonbd._power_integral`` (the cut decided
    with libm, as there, so both use the same panels).
    """
    c = 1.0 / (k1 / A + k2 / B)
    v_end = math.log1p(gap / c)
    n_panels = int(math.ceil(v_end / _PANEL_WIDTH))
    edge = 1
    while edge < n_panels:  # concave log-integrand: stop after the first edge below -_LOG_CUT
        v = edge * _PANEL_WIDTH
        w = c * math.expm1(v)
        if v - k1 * math.log1p(w / A) - k2 * math.log1p(w / B) < -_LOG_CUT:
            n_panels = edge
            break
        edge += 1
    out[:5] = 0.0
    inv_A = 1.0 / A
    inv_B = 1.0 / B
    for panel in range(n_panels):
        lo = panel * _PANEL_WIDTH
        width = min(v_end - lo, _PANEL_WIDTH)
        if width == _PANEL_WIDTH and panel < _TABLE_PANELS:
            _panel_sums(lo, width, _EXPM1_C[panel], c, inv_A, inv_B, k1, k2, out)
        else:
            _partial_expm1(lo, width, em)
            _panel_sums(lo, width, em, c, inv_A, inv_B, k1, k2, out)
    for k in range(5):
        out[k] *= c


@numba.njit(**JIT)
def _segment_rows(start, stop, r, alpha, s, beta, x, t_x, T, weight, out):
    """Adds one segment's weighted log-likelihood and its gradient in (r, alpha, s, beta) to ``out``
    (length 5: ll, d/dr, d/dalpha, d/ds, d/dbeta); the formulas are in :func:`pnbd_loglik_grad`."""
    log_alpha = math.log(alpha)
    log_beta = math.log(beta)
    lgamma_r = math.lgamma(r)
    psi_r = digamma(r)
    log_s = math.log(s)
    k2 = s + 1.0
    em = np.empty(_NODES_C.size)
    sums = np.empty(5)
    last_x = -1.0
    lgamma_k1 = 0.0
    psi_k1 = 0.0
    ll = 0.0
    d_r = 0.0
    d_alpha = 0.0
    d_s = 0.0
    d_beta = 0.0
    for i in range(start, stop):
        w_i = weight[i]
        xi = x[i]
        k1 = r + xi
        A = alpha + t_x[i]
        B = beta + t_x[i]
        gap = T[i] - t_x[i]
        aT = alpha + T[i]
        bT = beta + T[i]
        log_aT = math.log(aT)
        log_bT = math.log(bT)
        _death_integral(k1, A, k2, B, gap, em, sums)
        J, m_log_a, m_w_a, m_log_b, m_w_b = sums[0], sums[1], sums[2], sums[3], sums[4]
        ratio_a = math.log1p(gap / A)
        ratio_b = math.log1p(gap / B)
        if xi != last_x:  # distinct rows come sorted by frequency: x-only terms once per run
            last_x = xi
            lgamma_k1 = math.lgamma(k1)
            psi_k1 = digamma(k1)
        ll_i = (lgamma_k1 - lgamma_r + r * log_alpha + s * log_beta - k1 * log_aT - s * log_bT)
        g_r = psi_k1 - psi_r + log_alpha - log_aT
        g_alpha = r / alpha - k1 / aT
        g_s = log_beta - log_bT
        g_beta = s / beta - s / bT
        if J > 0.0:
            log_odds = log_s - math.log(B) + math.log(J) + k1 * ratio_a + s * ratio_b
            # logaddexp(0, z) and expit(z) without overflow
            if log_odds > 0.0:
                e = math.exp(-log_odds)
                ll_i += log_odds + math.log1p(e)
                dead = 1.0 / (1.0 + e)
            else:
                e = math.exp(log_odds)
                ll_i += math.log1p(e)
                dead = e / (1.0 + e)
            inv_J = 1.0 / J
            g_r += dead * (ratio_a - m_log_a * inv_J)
            g_alpha += dead * k1 * (1.0 / aT - 1.0 / A + m_w_a * inv_J / A)
            g_s += dead * (1.0 / s + ratio_b - m_log_b * inv_J)
            g_beta += dead * (s / bT - k2 / B + k2 * m_w_b * inv_J / B)
        ll += w_i * ll_i
        d_r += w_i * g_r
        d_alpha += w_i * g_alpha
        d_s += w_i * g_s
        d_beta += w_i * g_beta
    out[0] += ll
    out[1] += d_r
    out[2] += d_alpha
    out[3] += d_s
    out[4] += d_beta


@numba.njit(**JIT)
def pnbd_loglik_grad(log_theta, segment_start, x, t_x, T, weight):
    """Weighted Pareto/NBD log-likelihood and its gradient w.r.t. log-parameters.

    Per customer (note 009 eq. 18 with the death-time integral ``J`` of the module docstring)::

        ll = lgamma(r+x) - lgamma(r) + r log(alpha) + s log(beta) - (r+x) log(alpha+T)
             - s log(beta+T) + log(1 + exp(z)),
        z  = log(s) - log(B) + log(J) + (r+x) log1p((T-t_x)/A) + s log1p((T-t_x)/B)

    (z the log-odds of having died; the term is 0 when t_x = T), and the gradient of
    :func:`clvmodels.formulas.paretonbd.neg_log_likelihood_and_grad` (its docstring has the four
    derivatives), weighted by the counts and summed.

    Parameters
    ----------
    log_theta : ndarray, shape (n_segments, 4)
        log(r), log(alpha), log(s), log(beta) per segment.
    segment_start, x, t_x, T, weight : ndarray
        The arrays of :class:`PnbdRows`, in the order of ``PnbdRows.args()``.

    Returns
    -------
    ll : float
    grad : ndarray, shape (n_segments, 4)
        d ll / d log_theta.
    """
    n_seg = log_theta.shape[0]
    grad = np.zeros((n_seg, 4))
    ll = 0.0
    out = np.zeros(5)
    for g in range(n_seg):
        out[:] = 0.0
        theta = np.exp(log_theta[g])
        _segment_rows(segment_start[g], segment_start[g + 1], theta[0], theta[1], theta[2], theta[3],
                      x, t_x, T, weight, out)
        ll += out[0]
        for k in range(4):  # chain rule: d/d log(theta) = theta * d/d theta
            grad[g, k] = out[k + 1] * theta[k]
    return ll, grad


def neg_log_likelihood_and_grad(log_params, x, t_x, T, weights):
    """Minus the weighted log-likelihood and its gradient in log-parameters, on distinct rows.

    Same arguments, numbers (to rounding) and conventions as
    :func:`clvmodels.formulas.paretonbd.neg_log_likelihood_and_grad`; the maximum-likelihood fit
    calls this one.

    Parameters
    ----------
    log_params : ndarray, shape (4,)
    x, t_x, T : ndarray, shape (n,)
    weights : ndarray, shape (n,), or None

    Returns
    -------
    value : float
    grad : ndarray, shape (4,)
    """
    x = np.ascontiguousarray(x, dtype=np.float64)
    n = x.size
    weights = np.ones(n) if weights is None else np.ascontiguousarray(weights, dtype=np.float64)
    ll, grad = pnbd_loglik_grad(np.asarray(log_params, np.float64).reshape(1, 4), np.array([0, n], np.int64),
                                x, np.ascontiguousarray(t_x, dtype=np.float64),
                                np.ascontiguousarray(T, dtype=np.float64), weights)
    return -float(ll), -grad[0]
