"""Fused numba kernel: the weighted MBG/NBD log-likelihood AND its analytic gradient in one pass.

The fast path behind ``sampler="nutpie"`` for MBG/NBD (Batislam, Denizel & Filiztekin 2007). The
likelihood of :mod:`clvmodels.formulas.mbgnbd` has the shape of BG/NBD's (note 027 log form), with
dropout possible at time zero, so every customer, one-time buyers included, has the dropout term::

    ll = lgamma(r+x) - lgamma(r) + r log(alpha) + betaln(a, b+x+1) - betaln(a, b)
         + logaddexp(A3, A4),
    A3 = -(r+x) log(alpha+T),   A4 = log(a) - log(b+x) - (r+x) log(alpha+t_x)

The work is arranged as in :mod:`.fast_loglik` (BG/NBD): terms of x alone once per distinct
(segment, x), ``log(alpha + T)`` once per distinct (segment, T) and ``log(alpha + t_x)`` once per
distinct (segment, t_x), gathered by index; each row then costs one exp and one log1p, written with
:mod:`.fast_math` so the row loop runs as SIMD code, with scalar accumulators per segment.

Parameters arrive as log-parameters of shape (n_segments, 4) (one row when pooled); the gradient is
returned with respect to them. The kernel releases the GIL and sums serially (the same numbers
whatever the thread count).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

from clvmodels.inference.bayes.fast_loglik import _distinct_pairs, _segment_starts
from clvmodels.inference.bayes.fast_math import JIT, digamma, exp_nonpositive, log1p_unit


@dataclass(frozen=True)
class MbgnbdRows:
    """Distinct MBG/NBD rows laid out for :func:`mbgnbd_loglik_grad` (build with :func:`prepare_mbgnbd`)."""

    group_segment: np.ndarray  # (G,) int: segment of each distinct (segment, x)
    group_x: np.ndarray  # (G,) float
    group_weight: np.ndarray  # (G,) float: customers in the group
    T_segment: np.ndarray  # (U,) int
    T_value: np.ndarray  # (U,) float: distinct T per segment
    tx_segment: np.ndarray  # (V,) int
    tx_value: np.ndarray  # (V,) float: distinct t_x per segment
    segment_start: np.ndarray  # (n_segments + 1,) int: row range of each segment
    row_group: np.ndarray  # (m,) int, rows sorted by segment
    row_T: np.ndarray  # (m,) int
    row_tx: np.ndarray  # (m,) int
    row_weight: np.ndarray  # (m,) float

    def args(self) -> tuple:
        return (self.group_segment, self.group_x, self.group_weight, self.T_segment, self.T_value,
                self.tx_segment, self.tx_value, self.segment_start, self.row_group, self.row_T, self.row_tx,
                self.row_weight)


def prepare_mbgnbd(x, t_x, T, weights, segment=None, n_segments: int = 1) -> MbgnbdRows:
    """Index the distinct rows ``(x, t_x, T)`` with weights for the MBG/NBD kernel.

    Parameters
    ----------
    x, t_x, T, weights : array_like, shape (m,)
        Frequency, recency, age and number of customers of each distinct row.
    segment : array_like of int, shape (m,), optional
        Segment code (0 .. n_segments - 1) of each row; None for a pooled model.
    n_segments : int
        Number of segments (1 when pooled).
    """
    x = np.asarray(x, float)
    weights = np.asarray(weights, float)
    segment = np.zeros(x.size, np.int64) if segment is None else np.asarray(segment, np.int64)
    group_segment, group_x, row_group = _distinct_pairs(segment, x)
    group_weight = np.bincount(row_group, weights=weights, minlength=group_x.size)
    T_segment, T_value, row_T = _distinct_pairs(segment, np.asarray(T, float))
    tx_segment, tx_value, row_tx = _distinct_pairs(segment, np.asarray(t_x, float))
    order = np.argsort(segment, kind="stable")
    return MbgnbdRows(group_segment, group_x, group_weight, T_segment, T_value, tx_segment, tx_value,
                      _segment_starts(segment[order], int(n_segments)),
                      *(np.ascontiguousarray(v[order]) for v in (row_group, row_T, row_tx, weights)))


@numba.njit(**JIT)
def _rows(start, stop, row_group, row_T, row_tx, row_weight, r_plus_x, log_a_over_bx, inv_bx, log_aT,
          inv_aT, log_atx, inv_atx):
    """Sums over one segment's rows of ``logaddexp(A3, A4)`` and its derivatives: the log term,
    d/dr, d/dalpha, the dropout share ``p4`` (times 1/a: d/da) and d/db."""
    ll = 0.0
    d_r = 0.0
    d_alpha = 0.0
    sum_p4 = 0.0
    d_b = 0.0
    for i in range(start, stop):
        g = row_group[i]
        kT = row_T[i]
        j = row_tx[i]
        w = row_weight[i]
        rx = r_plus_x[g]
        A3 = -rx * log_aT[kT]
        A4 = log_a_over_bx[g] - rx * log_atx[j]
        diff = A4 - A3
        e = exp_nonpositive(-abs(diff))
        share_big = 1.0 / (1.0 + e)
        p4 = share_big if diff > 0.0 else e * share_big
        p3 = 1.0 - p4
        ll += w * (max(A3, A4) + log1p_unit(e))
        d_r -= w * (p3 * log_aT[kT] + p4 * log_atx[j])
        d_alpha -= w * rx * (p3 * inv_aT[kT] + p4 * inv_atx[j])
        sum_p4 += w * p4
        d_b -= w * p4 * inv_bx[g]
    return ll, d_r, d_alpha, sum_p4, d_b


@numba.njit(**JIT)
def mbgnbd_loglik_grad(log_theta, group_segment, group_x, group_weight, T_segment, T_value, tx_segment,
                       tx_value, segment_start, row_group, row_T, row_tx, row_weight):
    """Weighted MBG/NBD log-likelihood (module docstring) and its gradient w.r.t. log-parameters.

    Parameters
    ----------
    log_theta : ndarray, shape (n_segments, 4)
        log(r), log(alpha), log(a), log(b) per segment.
    (the rest) : the arrays of :class:`MbgnbdRows`, in the order of ``MbgnbdRows.args()``.

    Returns
    -------
    ll : float
    grad : ndarray, shape (n_segments, 4)
        d ll / d log_theta.
    """
    n_seg = log_theta.shape[0]
    theta = np.exp(log_theta)
    grad = np.zeros((n_seg, 4))
    ll = 0.0
    log_aT = np.empty(T_value.size)
    inv_aT = np.empty(T_value.size)
    for k in range(T_value.size):
        v = theta[T_segment[k], 1] + T_value[k]
        log_aT[k] = math.log(v)
        inv_aT[k] = 1.0 / v
    log_atx = np.empty(tx_value.size)
    inv_atx = np.empty(tx_value.size)
    for k in range(tx_value.size):
        v = theta[tx_segment[k], 1] + tx_value[k]
        log_atx[k] = math.log(v)
        inv_atx[k] = 1.0 / v
    # terms of x only, once per (segment, x) group
    r_plus_x = np.empty(group_x.size)
    log_a_over_bx = np.empty(group_x.size)
    inv_bx = np.empty(group_x.size)
    for g in range(group_x.size):
        s = group_segment[g]
        x = group_x[g]
        w = group_weight[g]
        r, alpha, a, b = theta[s, 0], theta[s, 1], theta[s, 2], theta[s, 3]
        # betaln(a, b+x+1) - betaln(a, b) = lgamma(b+x+1) - lgamma(a+b+x+1) - lgamma(b) + lgamma(a+b)
        ll += w * (math.lgamma(r + x) - math.lgamma(r) + r * math.log(alpha) + math.lgamma(b + x + 1.0)
                   - math.lgamma(a + b + x + 1.0) - math.lgamma(b) + math.lgamma(a + b))
        psi_ab = digamma(a + b)
        psi_abx = digamma(a + b + x + 1.0)
        grad[s, 0] += w * (digamma(r + x) - digamma(r) + math.log(alpha))
        grad[s, 1] += w * r / alpha
        grad[s, 2] += w * (psi_ab - psi_abx)
        grad[s, 3] += w * (digamma(b + x + 1.0) - psi_abx - digamma(b) + psi_ab)
        r_plus_x[g] = r + x
        log_a_over_bx[g] = math.log(a) - math.log(b + x)
        inv_bx[g] = 1.0 / (b + x)
    for s in range(n_seg):
        ll_s, d_r, d_alpha, sum_p4, d_b = _rows(segment_start[s], segment_start[s + 1], row_group, row_T,
                                                row_tx, row_weight, r_plus_x, log_a_over_bx, inv_bx, log_aT,
                                                inv_aT, log_atx, inv_atx)
        ll += ll_s
        grad[s, 0] += d_r
        grad[s, 1] += d_alpha
        grad[s, 2] += sum_p4 / theta[s, 2]
        grad[s, 3] += d_b
        for k in range(4):  # chain rule: d/d log(theta) = theta * d/d theta
            grad[s, k] *= theta[s, k]
    return ll, grad
