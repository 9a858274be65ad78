"""Fused numba kernel: the weighted Pareto/NBD log-likelihood AND its analytic gradient in one pass.

The fast path behind ``sampler="nutpie"`` for Pareto/NBD and behind its maximum-likelihood fit
(``families.paretonbd``). It computes the likelihood of :mod:`clvmodels.formulas.paretonbd`
(Schmittlein, Morrison & Colombo 1987; Fader & Hardie note 009 eq. 18), to about 1e-12 relative
(tests/test_paretonbd_fast.py), in the form

``ll = lgamma(r+x) - lgamma(r) + r log(alpha) + s log(beta) + log[s I(t_x) + (r+x) K(T)]``

with the tail integrals I and K of :mod:`.fast_pnbd_tail`: I depends on (x, t_x) only and K on
(x, T) only. So the work is arranged in three tables:

- per distinct (segment, x, t_x): ``log I`` and its four derivatives, and the x-only terms
  (log-gamma, digamma), each by a short hypergeometric series (or quadrature where the series
  would be slow);
- per distinct (segment, x, T): ``log K`` and its derivatives;
- per distinct row: one ``logaddexp`` of the two and the weighted sums of the gradient.

A million CDNOW-like customers have about 10^5 distinct rows but only a few thousand distinct
pairs, so a log-likelihood with gradient costs about one exp and one log per distinct row.

Parameters arrive as log-parameters of shape (n_segments, 4) (one row when pooled); the gradient is
returned with respect to them. The kernel holds no Python objects and releases the GIL, so nutpie's
chains run in parallel; it sums serially, so its numbers do not depend on the thread count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

from clvmodels.inference.bayes.fast_math import JIT, digamma, exp_nonpositive, log1p_unit
from clvmodels.inference.bayes.fast_pnbd_tail import tail


@dataclass(frozen=True)
class PnbdRows:
    """Distinct Pareto/NBD rows and their (x, t_x) and (x, T) tables (build with :func:`prepare_pnbd`).

    ``args()`` gives the arrays in the argument order of :func:`pnbd_loglik_grad`.
    """

    i_segment: np.ndarray  # (G,) int: segment of each distinct (segment, x, t_x)
    i_x: np.ndarray  # (G,) float
    i_t: np.ndarray  # (G,) float: t_x
    k_segment: np.ndarray  # (H,) int: segment of each distinct (segment, x, T)
    k_x: np.ndarray  # (H,) float
    k_t: np.ndarray  # (H,) float: T
    segment_start: np.ndarray  # (n_segments + 1,) int: row range of each segment (rows sorted by segment)
    row_i: np.ndarray  # (m,) int: each row's (x, t_x) entry
    row_k: np.ndarray  # (m,) int: each row's (x, T) entry
    row_weight: np.ndarray  # (m,) float: customers per row

    def args(self) -> tuple:
        return (self.i_segment, self.i_x, self.i_t, self.k_segment, self.k_x, self.k_t, self.segment_start,
                self.row_i, self.row_k, self.row_weight)


def _distinct_triples(segment, x, t):
    """Distinct (segment, x, t): their columns and each row's index."""
    table, inverse = np.unique(np.column_stack([segment.astype(float), x, t]), axis=0, return_inverse=True)
    return (table[:, 0].astype(np.int64), np.ascontiguousarray(table[:, 1]),
            np.ascontiguousarray(table[:, 2]), inverse.ravel().astype(np.int64))


def prepare_pnbd(x, t_x, T, weights, segment=None, n_segments: int = 1) -> PnbdRows:
    """Index the distinct rows ``(x, t_x, T)`` with weights for :func:`pnbd_loglik_grad`.

    Parameters
    ----------
    x, t_x, T, weights : array_like, shape (m,)
        Frequency, recency, age (time units) and number of customers of each distinct row.
    segment : array_like of int, shape (m,), optional
        Segment code (0 .. n_segments - 1) of each row; None for a pooled model.
    n_segments : int
        Number of segments (1 when pooled); only the codes present matter.
    """
    x = np.asarray(x, float)
    segment = np.zeros(x.size, np.int64) if segment is None else np.asarray(segment, np.int64)
    i_seg, i_x, i_t, row_i = _distinct_triples(segment, x, np.asarray(t_x, float))
    k_seg, k_x, k_t, row_k = _distinct_triples(segment, x, np.asarray(T, float))
    order = np.argsort(segment, kind="stable")
    start = np.searchsorted(segment[order], np.arange(int(n_segments) + 1)).astype(np.int64)
    return PnbdRows(i_seg, i_x, i_t, k_seg, k_x, k_t, start, np.ascontiguousarray(row_i[order]),
                    np.ascontiguousarray(row_k[order]), np.ascontiguousarray(np.asarray(weights, float)[order]))


@numba.njit(**JIT)
def _i_table(theta, i_segment, i_x, i_t):
    """(G, 7): log s + log I, its derivatives in r, alpha, s, beta, lgamma(r+x) and digamma(r+x)."""
    out = np.empty((i_x.size, 7))
    em = np.empty(12)
    scratch = np.empty(5)
    d = np.empty(5)
    last_seg = -1
    last_x = -1.0
    lgamma_k1 = 0.0
    psi_k1 = 0.0
    for g in range(i_x.size):
        seg = i_segment[g]
        r, alpha, s, beta = theta[seg, 0], theta[seg, 1], theta[seg, 2], theta[seg, 3]
        k1 = r + i_x[g]
        if seg != last_seg or i_x[g] != last_x:  # entries are sorted by (segment, x): once per run
            last_seg, last_x = seg, i_x[g]
            lgamma_k1 = math.lgamma(k1)
            psi_k1 = digamma(k1)
        tail(k1, alpha + i_t[g], s + 1.0, beta + i_t[g], em, scratch, d)
        out[g, 0] = math.log(s) + d[0]
        out[g, 1] = d[1]
        out[g, 2] = d[3]
        out[g, 3] = 1.0 / s + d[2]
        out[g, 4] = d[4]
        out[g, 5] = lgamma_k1
        out[g, 6] = psi_k1
    return out


@numba.njit(**JIT)
def _k_table(theta, k_segment, k_x, k_t):
    """(H, 5): log(r+x) + log K and its derivatives in r, alpha, s, beta."""
    out = np.empty((k_x.size, 5))
    em = np.empty(12)
    scratch = np.empty(5)
    d = np.empty(5)
    for h in range(k_x.size):
        r, alpha, s, beta = theta[k_segment[h], 0], theta[k_segment[h], 1], theta[k_segment[h], 2], theta[k_segment[h], 3]
        k1 = r + k_x[h]
        tail(k1 + 1.0, alpha + k_t[h], s, beta + k_t[h], em, scratch, d)
        out[h, 0] = math.log(k1) + d[0]
        out[h, 1] = 1.0 / k1 + d[1]
        out[h, 2] = d[3]
        out[h, 3] = d[2]
        out[h, 4] = d[4]
    return out


@numba.njit(**JIT)
def _segment_rows(start, stop, it, kt, row_i, row_k, row_weight):
    """Weighted sums over one segment's rows: ll (without the terms of the parameters alone), its
    derivatives in r, alpha, s, beta, and the total weight. Scalar accumulators and the
    branch-free exp/log1p of :mod:`.fast_math`, so the loop runs as SIMD code."""
    ll = 0.0
    d_r = 0.0
    d_alpha = 0.0
    d_s = 0.0
    d_beta = 0.0
    n = 0.0
    for i in range(start, stop):
        g = row_i[i]
        h = row_k[i]
        w = row_weight[i]
        a1 = it[g, 0]
        a2 = kt[h, 0]
        diff = a1 - a2
        e = exp_nonpositive(-abs(diff))
        share_big = 1.0 / (1.0 + e)
        p1 = share_big if diff > 0.0 else e * share_big  # share of s I(t_x) in the bracket
        p2 = 1.0 - p1
        ll += w * (max(a1, a2) + log1p_unit(e) + it[g, 5])
        d_r += w * (it[g, 6] + p1 * it[g, 1] + p2 * kt[h, 1])
        d_alpha += w * (p1 * it[g, 2] + p2 * kt[h, 2])
        d_s += w * (p1 * it[g, 3] + p2 * kt[h, 3])
        d_beta += w * (p1 * it[g, 4] + p2 * kt[h, 4])
        n += w
    return ll, d_r, d_alpha, d_s, d_beta, n


@numba.njit(**JIT)
def pnbd_loglik_grad(log_theta, i_segment, i_x, i_t, k_segment, k_x, k_t, segment_start, row_i, row_k,
                     row_weight):
    """Weighted Pareto/NBD log-likelihood and its gradient w.r.t. log-parameters.

    Per customer (note 009 eq. 18; the tail integrals I, K of :mod:`.fast_pnbd_tail`)::

        ll = lgamma(r+x) - lgamma(r) + r log(alpha) + s log(beta)
             + logaddexp(log s + log I(x, t_x), log(r+x) + log K(x, T))

    Parameters
    ----------
    log_theta : ndarray, shape (n_segments, 4)
        log(r), log(alpha), log(s), log(beta) per segment.
    (the rest) : the arrays of :class:`PnbdRows`, in the order of ``PnbdRows.args()``.

    Returns
    -------
    ll : float
    grad : ndarray, shape (n_segments, 4)
        d ll / d log_theta.
    """
    n_seg = log_theta.shape[0]
    theta = np.exp(log_theta)
    it = _i_table(theta, i_segment, i_x, i_t)
    kt = _k_table(theta, k_segment, k_x, k_t)
    grad = np.zeros((n_seg, 4))
    seg_weight = np.zeros(n_seg)  # terms of the parameters alone are added once per segment below
    ll = 0.0
    for seg in range(n_seg):
        ll_s, d_r, d_alpha, d_s, d_beta, n = _segment_rows(segment_start[seg], segment_start[seg + 1], it,
                                                            kt, row_i, row_k, row_weight)
        ll += ll_s
        grad[seg, 0] = d_r
        grad[seg, 1] = d_alpha
        grad[seg, 2] = d_s
        grad[seg, 3] = d_beta
        seg_weight[seg] = n
    for seg in range(n_seg):
        r, alpha, s, beta = theta[seg, 0], theta[seg, 1], theta[seg, 2], theta[seg, 3]
        n = seg_weight[seg]
        ll += n * (-math.lgamma(r) + r * math.log(alpha) + s * math.log(beta))
        grad[seg, 0] += n * (math.log(alpha) - digamma(r))
        grad[seg, 1] += n * r / alpha
        grad[seg, 2] += n * math.log(beta)
        grad[seg, 3] += n * s / beta
        for k in range(4):  # chain rule: d/d log(theta) = theta * d/d theta
            grad[seg, k] *= theta[seg, k]
    return ll, grad


class _PreparedCache:
    """The last :class:`PnbdRows` built by :func:`neg_log_likelihood_and_grad`, with copies of the
    arrays it was built from.

    An optimiser calls the objective dozens of times with the same rows; indexing them costs more
    than one evaluation, so it is done once. A call whose four arrays equal the copies (one cheap
    comparison each) reuses the tables; any other call rebuilds them.
    """

    def __init__(self):
        self._entry = None  # (arrays, rows), replaced in one assignment (threads may share the cache)

    def rows(self, x, t_x, T, weights) -> PnbdRows:
        arrays = (x, t_x, T, weights)
        entry = self._entry
        if entry is not None and all(np.array_equal(a, b) for a, b in zip(arrays, entry[0])):
            return entry[1]
        rows = prepare_pnbd(x, t_x, T, weights)
        self._entry = (tuple(a.copy() for a in arrays), rows)
        return rows


_CACHE = _PreparedCache()


def neg_log_likelihood_and_grad(log_params, x, t_x, T, weights):
    """Minus the weighted log-likelihood and its gradient in log-parameters, on distinct rows.

    The arguments and conventions of :func:`clvmodels.formulas.paretonbd.neg_log_likelihood_and_grad`
    and its numbers to about 1e-12 relative; the maximum-likelihood fit calls this one.

    Parameters
    ----------
    log_params : ndarray, shape (4,)
        ``log(r), log(alpha), log(s), log(beta)``.
    x, t_x, T : ndarray, shape (n,)
        Frequency, recency and age of each distinct row.
    weights : ndarray, shape (n,), or None
        Customers per row (None: one each).

    Returns
    -------
    value : float
    grad : ndarray, shape (4,)
    """
    x = np.ascontiguousarray(x, dtype=np.float64)
    t_x = np.ascontiguousarray(t_x, dtype=np.float64)
    T = np.ascontiguousarray(T, dtype=np.float64)
    weights = np.ones(x.size) if weights is None else np.ascontiguousarray(weights, dtype=np.float64)
    rows = _CACHE.rows(x, t_x, T, weights)
    ll, grad = pnbd_loglik_grad(np.asarray(log_params, np.float64).reshape(1, 4), *rows.args())
    return -float(ll), -grad[0]
