"""Fused numba kernels: weighted log-likelihood AND its analytic gradient in one pass.

This is the fast path behind ``sampler="nutpie"``. It computes the likelihood of
:mod:`clvmodels.formulas.bgnbd` / :mod:`clvmodels.formulas.gammagamma` (and of the PyTensor
reference model in :mod:`.pytensor_loglik`; tests check they agree), arranged so that the work per
distinct customer row is minimal:

- terms that depend on the frequency ``x`` only (log-gamma, digamma) are evaluated once per
  distinct (segment, x) and multiplied by the group's total weight;
- ``log(alpha + T)`` and ``1 / (alpha + T)`` are evaluated once per distinct (segment, T), the same
  for ``t_x``, and gathered by index; customers without repeat purchases need nothing else, so
  their rows are folded into the (segment, T) table entirely;
- each repeat-buyer row then costs one exp and one log1p (BG/NBD) or one log and one division
  (Gamma-Gamma), written with :mod:`.fast_math` so the row loop runs as SIMD code, with scalar
  accumulators per segment (rows are sorted by segment).

Parameters arrive as log-parameters of shape (n_segments, k) (one row when pooled); the gradient is
returned with respect to them. The kernels release the GIL, so nutpie's chains run in parallel.

References
----------
Fader, Hardie & Lee (2005), "Counting your customers the easy way", Marketing Science 24(2), eq. 6;
Hardie's note 027 (log-space form of the BG/NBD likelihood);
Fader & Hardie (2013), "The Gamma-Gamma model of monetary value", eq. 4.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

from clvmodels.inference.bayes.fast_math import JIT, digamma, exp_nonpositive, log1p_unit, log_positive


def _distinct_pairs(segment: np.ndarray, value: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (segment, value) pairs: their segment, their value, and each row's pair index."""
    pairs, inverse = np.unique(np.column_stack([segment.astype(float), value]), axis=0, return_inverse=True)
    return pairs[:, 0].astype(np.int64), np.ascontiguousarray(pairs[:, 1]), inverse.ravel().astype(np.int64)


def _segment_starts(segment_sorted: np.ndarray, n_segments: int) -> np.ndarray:
    """Offsets of each segment's rows in rows sorted by segment, shape (n_segments + 1,)."""
    return np.searchsorted(segment_sorted, np.arange(n_segments + 1)).astype(np.int64)


@dataclass(frozen=True)
class BgnbdRows:
    """Distinct BG/NBD rows laid out for :func:`bgnbd_loglik_grad` (build with :func:`prepare_bgnbd`).

    ``args()`` gives the arrays in the kernel's argument order.
    """

    group_segment: np.ndarray  # (G,) int: segment of each distinct (segment, x) group
    group_x: np.ndarray  # (G,) float: frequency of the group
    group_weight: np.ndarray  # (G,) float: customers in the group
    T_segment: np.ndarray  # (U,) int
    T_value: np.ndarray  # (U,) float: distinct T per segment
    T_zero_weight: np.ndarray  # (U,) float: customers with x == 0 and this (segment, T)
    tx_segment: np.ndarray  # (V,) int
    tx_value: np.ndarray  # (V,) float: distinct t_x per segment among repeat buyers
    segment_start: np.ndarray  # (n_segments + 1,) int: row range of each segment
    row_group: np.ndarray  # (m,) int, repeat-buyer rows only, sorted by segment
    row_T: np.ndarray  # (m,) int
    row_tx: np.ndarray  # (m,) int
    row_weight: np.ndarray  # (m,) float

    def args(self) -> tuple:
        return (self.group_segment, self.group_x, self.group_weight, self.T_segment, self.T_value,
                self.T_zero_weight, self.tx_segment, self.tx_value, self.segment_start, self.row_group,
                self.row_T, self.row_tx, self.row_weight)


def prepare_bgnbd(x, t_x, T, weights, segment=None, n_segments: int = 1) -> BgnbdRows:
    """Index the distinct rows ``(x, t_x, T)`` with weights for the BG/NBD kernel.

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
    repeat = x > 0
    T_zero_weight = np.bincount(row_T[~repeat], weights=weights[~repeat], minlength=T_value.size)
    tx_segment, tx_value, row_tx = _distinct_pairs(segment[repeat], np.asarray(t_x, float)[repeat])
    order = np.argsort(segment[repeat], kind="stable")
    return BgnbdRows(
        group_segment, group_x, group_weight, T_segment, T_value, T_zero_weight, tx_segment, tx_value,
        _segment_starts(segment[repeat][order], int(n_segments)), np.ascontiguousarray(row_group[repeat][order]),
        np.ascontiguousarray(row_T[repeat][order]), np.ascontiguousarray(row_tx[order]),
        np.ascontiguousarray(weights[repeat][order]),
    )


@numba.njit(**JIT)
def _bgnbd_repeat_rows(start, stop, row_group, row_T, row_tx, row_weight, r_plus_x, log_a_over_bx1,
                       inv_bx1, log_aT, inv_aT, log_atx, inv_atx):
    """Sums over repeat-buyer rows of one segment of ``log(exp(A3) + exp(A4))`` and its derivatives.

    With ``p4 = exp(A4) / (exp(A3) + exp(A4))`` the returned sums (weighted) are: the log term,
    ``-(p3 log(alpha+T) + p4 log(alpha+t_x))`` (d/dr), ``-(r+x)(p3/(alpha+T) + p4/(alpha+t_x))``
    (d/dalpha), ``p4`` (times 1/a: d/da) and ``-p4/(b+x-1)`` (d/db).
    """
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
        A4 = log_a_over_bx1[g] - rx * log_atx[j]
        diff = A4 - A3
        e = exp_nonpositive(-abs(diff))
        share_big = 1.0 / (1.0 + e)  # share of the larger of the two terms
        p4 = share_big if diff > 0.0 else e * share_big
        p3 = 1.0 - p4
        ll += w * (max(A3, A4) + log1p_unit(e))
        d_r -= w * (p3 * log_aT[kT] + p4 * log_atx[j])
        d_alpha -= w * rx * (p3 * inv_aT[kT] + p4 * inv_atx[j])
        sum_p4 += w * p4
        d_b -= w * p4 * inv_bx1[g]
    return ll, d_r, d_alpha, sum_p4, d_b


@numba.njit(**JIT)
def bgnbd_loglik_grad(log_theta, group_segment, group_x, group_weight, T_segment, T_value, T_zero_weight,
                      tx_segment, tx_value, segment_start, row_group, row_T, row_tx, row_weight):
    """Weighted BG/NBD log-likelihood and its gradient w.r.t. log-parameters.

    Per customer (Fader, Hardie & Lee 2005 eq. 6 in the log-space form of note 027)::

        ll = A1 + A2 + log(exp(A3) + [x > 0] exp(A4))
        A1 = lgamma(r + x) - lgamma(r) + r log(alpha)
        A2 = lgamma(a + b) + lgamma(b + x) - lgamma(b) - lgamma(a + b + x)
        A3 = -(r + x) log(alpha + T)
        A4 = log(a) - log(b + x - 1) - (r + x) log(alpha + t_x)

    Parameters
    ----------
    log_theta : ndarray, shape (n_segments, 4)
        log(r), log(alpha), log(a), log(b) per segment.
    (the rest) : the arrays of :class:`BgnbdRows`, in the order of ``BgnbdRows.args()``.

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

    # (segment, T) table; customers without repeat purchases contribute A3 = -r log(alpha + T) only
    log_aT = np.empty(T_value.size)
    inv_aT = np.empty(T_value.size)
    for k in range(T_value.size):
        s = T_segment[k]
        v = theta[s, 1] + T_value[k]
        log_aT[k] = math.log(v)
        inv_aT[k] = 1.0 / v
        w0 = T_zero_weight[k]
        ll -= w0 * theta[s, 0] * log_aT[k]
        grad[s, 0] -= w0 * log_aT[k]
        grad[s, 1] -= w0 * theta[s, 0] * inv_aT[k]
    log_atx = np.empty(tx_value.size)
    inv_atx = np.empty(tx_value.size)
    for k in range(tx_value.size):
        v = theta[tx_segment[k], 1] + tx_value[k]
        log_atx[k] = math.log(v)
        inv_atx[k] = 1.0 / v

    # terms of x only (A1, A2), once per (segment, x) group; and what the rows need of each group
    r_plus_x = np.empty(group_x.size)
    log_a_over_bx1 = np.zeros(group_x.size)
    inv_bx1 = np.zeros(group_x.size)
    for g in range(group_x.size):
        s = group_segment[g]
        x = group_x[g]
        w = group_weight[g]
        r, alpha, a, b = theta[s, 0], theta[s, 1], theta[s, 2], theta[s, 3]
        ll += w * (math.lgamma(r + x) - math.lgamma(r) + r * math.log(alpha)
                   + math.lgamma(a + b) + math.lgamma(b + x) - math.lgamma(b) - math.lgamma(a + b + x))
        psi_ab = digamma(a + b)
        psi_abx = digamma(a + b + x)
        grad[s, 0] += w * (digamma(r + x) - digamma(r) + math.log(alpha))
        grad[s, 1] += w * r / alpha
        grad[s, 2] += w * (psi_ab - psi_abx)
        grad[s, 3] += w * (psi_ab + digamma(b + x) - digamma(b) - psi_abx)
        r_plus_x[g] = r + x
        if x > 0:
            log_a_over_bx1[g] = math.log(a) - math.log(b + x - 1.0)
            inv_bx1[g] = 1.0 / (b + x - 1.0)

    for s in range(n_seg):
        ll_s, d_r, d_alpha, sum_p4, d_b = _bgnbd_repeat_rows(
            segment_start[s], segment_start[s + 1], row_group, row_T, row_tx, row_weight, r_plus_x,
            log_a_over_bx1, inv_bx1, log_aT, inv_aT, log_atx, inv_atx)
        ll += ll_s
        grad[s, 0] += d_r
        grad[s, 1] += d_alpha
        grad[s, 2] += sum_p4 / theta[s, 2]
        grad[s, 3] += d_b
        for k in range(4):  # chain rule: d/d log(theta) = theta * d/d theta
            grad[s, k] *= theta[s, k]
    return ll, grad


@dataclass(frozen=True)
class GammaGammaRows:
    """Distinct Gamma-Gamma rows laid out for :func:`gammagamma_loglik_grad`."""

    group_segment: np.ndarray  # (G,) int
    group_x: np.ndarray  # (G,) float
    group_weight: np.ndarray  # (G,) float
    group_weighted_log_mbar: np.ndarray  # (G,) float: sum of weight * log(mbar) in the group
    segment_start: np.ndarray  # (n_segments + 1,) int
    row_group: np.ndarray  # (m,) int, sorted by segment
    row_x_mbar: np.ndarray  # (m,) float: x * mbar
    row_weight: np.ndarray  # (m,) float

    def args(self) -> tuple:
        return (self.group_segment, self.group_x, self.group_weight, self.group_weighted_log_mbar,
                self.segment_start, self.row_group, self.row_x_mbar, self.row_weight)


def prepare_gammagamma(x, mbar, weights, segment=None, n_segments: int = 1) -> GammaGammaRows:
    """Index the distinct rows ``(x, mbar)`` for the Gamma-Gamma kernel.

    Rows with ``x == 0`` are dropped: the Gamma-Gamma likelihood is conditional on at least one
    repeat purchase (a customer without one has no observed mean spend).
    """
    x = np.asarray(x, float)
    keep = x > 0
    segment = np.zeros(x.size, np.int64) if segment is None else np.asarray(segment, np.int64)
    order = np.argsort(segment[keep], kind="stable")
    x = x[keep][order]
    mbar = np.asarray(mbar, float)[keep][order]
    weights = np.asarray(weights, float)[keep][order]
    segment = segment[keep][order]
    group_segment, group_x, row_group = _distinct_pairs(segment, x)
    group_weight = np.bincount(row_group, weights=weights, minlength=group_x.size)
    weighted_log_mbar = np.bincount(row_group, weights=weights * np.log(mbar), minlength=group_x.size)
    return GammaGammaRows(group_segment, group_x, group_weight, weighted_log_mbar,
                          _segment_starts(segment, int(n_segments)), row_group,
                          np.ascontiguousarray(x * mbar), np.ascontiguousarray(weights))


@numba.njit(**JIT)
def _gammagamma_rows(start, stop, theta_gamma, row_group, row_x_mbar, row_weight, group_x, shape_sum):
    """Sums over one segment's rows: ll part, and d/dp, d/dq, d/dgamma of it (see the kernel)."""
    ll = 0.0
    d_p = 0.0
    d_q = 0.0
    d_gamma = 0.0
    for i in range(start, stop):
        g = row_group[i]
        w = row_weight[i]
        v = theta_gamma + row_x_mbar[i]
        w_log = w * log_positive(v)
        ll -= shape_sum[g] * w_log
        d_p -= group_x[g] * w_log
        d_q -= w_log
        d_gamma -= w * shape_sum[g] / v
    return ll, d_p, d_q, d_gamma


@numba.njit(**JIT)
def gammagamma_loglik_grad(log_theta, group_segment, group_x, group_weight, group_weighted_log_mbar,
                           segment_start, row_group, row_x_mbar, row_weight):
    """Weighted Gamma-Gamma log-likelihood of mean spends and its gradient w.r.t. log-parameters.

    Per repeat buyer (Fader & Hardie 2013 Gamma-Gamma note, eq. 4)::

        ll = lgamma(p x + q) - lgamma(p x) - lgamma(q) + q log(gamma) + (p x - 1) log(mbar)
             + p x log(x) - (p x + q) log(gamma + x mbar)

    Parameters
    ----------
    log_theta : ndarray, shape (n_segments, 3)
        log(p), log(q), log(gamma) per segment.
    (the rest) : the arrays of :class:`GammaGammaRows`, in the order of ``GammaGammaRows.args()``.

    Returns
    -------
    ll : float
    grad : ndarray, shape (n_segments, 3)
    """
    n_seg = log_theta.shape[0]
    theta = np.exp(log_theta)
    grad = np.zeros((n_seg, 3))
    ll = 0.0
    shape_sum = np.empty(group_x.size)  # p x + q
    for g in range(group_x.size):
        s = group_segment[g]
        x = group_x[g]
        w = group_weight[g]
        w_log_m = group_weighted_log_mbar[g]
        p, q, gam = theta[s, 0], theta[s, 1], theta[s, 2]
        px = p * x
        psi_pxq = digamma(px + q)
        ll += w * (math.lgamma(px + q) - math.lgamma(px) - math.lgamma(q) + q * math.log(gam)
                   + px * math.log(x)) + (px - 1.0) * w_log_m
        grad[s, 0] += w * x * (psi_pxq - digamma(px) + math.log(x)) + x * w_log_m
        grad[s, 1] += w * (psi_pxq - digamma(q) + math.log(gam))
        grad[s, 2] += w * q / gam
        shape_sum[g] = px + q
    for s in range(n_seg):
        ll_s, d_p, d_q, d_gamma = _gammagamma_rows(segment_start[s], segment_start[s + 1], theta[s, 2],
                                                   row_group, row_x_mbar, row_weight, group_x, shape_sum)
        ll += ll_s
        grad[s, 0] += d_p
        grad[s, 1] += d_q
        grad[s, 2] += d_gamma
        for k in range(3):
            grad[s, k] *= theta[s, k]
    return ll, grad
