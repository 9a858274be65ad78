"""The generic log-likelihood kernel: any family's numpy ``neg_log_likelihood_and_grad``.

A family with no fused numba kernel (:class:`~clvmodels.families.bayes_hooks.BayesHooks`
``fast_kernel``) is sampled through this one, so a new family samples with nutpie on the day it is
registered. It has the calling convention of the fast kernels (log-parameters of shape
(n_segments, k) in, weighted total log-likelihood and its gradient of the same shape out), so the
priors, the hierarchical layout and the samplers of :mod:`.log_density` work unchanged.

Pooling by segment works too: each segment's rows are evaluated at that segment's parameters (one
call of the family's likelihood per segment), because a weighted log-likelihood of distinct rows is
a sum over rows.

Cost: one numpy evaluation per segment per gradient, in Python, holding the GIL for the Python
parts, so nutpie's chains share one core for those. A family's likelihood sums rows with
``weights @ terms`` (a BLAS dot product); OpenBLAS splits dot products of more than about 10,000
elements over threads, which on a busy machine made one BG/NBD evaluation on 30,000 rows 82 ms
instead of 0.74 ms, and makes the sum's rounding depend on the thread count. Sampling through the
fallback therefore runs with BLAS limited to one thread (:func:`single_threaded_blas`): faster,
and the same numbers whatever the thread count.

Measured on BG/NBD (its fused kernel removed) against the fused kernel, simulated CDNOW-like data,
a shared 2-core machine under load, 4 chains x 1000 draws + 1000 tuning, nutpie:

==========  =============  ====================  ==========================
customers   distinct rows  logp+grad fused/fb    4 x 1000 wall fused / fb
==========  =============  ====================  ==========================
10,000      3,961          69 us / 199 us        10.1 s / 10.5-15.3 s
100,000     30,041         382 us / 904 us       20.0 s / 50.1 s
==========  =============  ====================  ==========================

(the fused wall times include numba compilation; R-hat <= 1.003 and posterior means equal to
3 digits in every run). The numpy likelihood alone per evaluation at 30,041 rows: BG/NBD 0.51 ms,
MBG/NBD 0.84 ms, Pareto/NBD 8.9 ms (its 2F1), so a Pareto/NBD posterior at 100k customers through
the fallback costs minutes, not seconds: a fused kernel is what makes a family fast (BG/NBD, MBG/NBD
and Pareto/NBD now have theirs: Pareto/NBD 4 x 1000 draws at 100k customers in about 26 s,
benchmarks/results/paretonbd/).
"""

from __future__ import annotations

import numpy as np


def single_threaded_blas():
    """Context manager limiting BLAS to one thread (process-wide, restored on exit).

    threadpoolctl is a dependency of PyMC, hence always installed with clvmodels.
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


class NumpyKernel:
    """Weighted log-likelihood and gradient of a family on rows grouped by segment.

    Parameters
    ----------
    family : PurchaseFamily or SpendFamily
    history : tuple of ndarray, shape (m,) each
        Rows in the order of ``family.history_columns``.
    weights : ndarray, shape (m,)
    segment : ndarray of int, shape (m,), or None
    n_segments : int
    """

    def __init__(self, family, history, weights, segment, n_segments: int):
        self._nll = family.neg_log_likelihood_and_grad
        codes = np.zeros(weights.size, np.int64) if segment is None else segment
        self._rows = []
        for g in range(n_segments):
            keep = codes == g
            # a segment without rows contributes nothing (its parameters follow the prior)
            self._rows.append(None if not keep.any() else
                              (tuple(np.ascontiguousarray(h[keep]) for h in history), weights[keep]))

    def __call__(self, log_theta: np.ndarray) -> tuple[float, np.ndarray]:
        """Weighted total log-likelihood at ``log_theta`` (n_segments, k) and its gradient."""
        total = 0.0
        grad = np.zeros(log_theta.shape)
        for g, rows in enumerate(self._rows):
            if rows is None:
                continue
            value, gradient = self._nll(np.ascontiguousarray(log_theta[g]), *rows[0], rows[1])
            total -= float(value)
            grad[g] = -np.asarray(gradient, float)
        return total, grad
