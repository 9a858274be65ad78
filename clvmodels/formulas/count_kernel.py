"""Compiled loop of :func:`clvmodels.formulas.individual.simulate_purchase_counts`.

One pass over the cells, drawing only what the count depends on: nothing for a dead customer,
the potential purchases ``K ~ Poisson(lam t)`` for an alive one, and the dropout purchase
``M ~ Geometric(p)`` only where ``K >= 2`` (``min(K, M) = K`` for ``K <= 1`` since ``M >= 1``).
Draws come from the caller's ``numpy.random.Generator`` (numba draws from the same bit
generator), so a seed fixes every number. Compiled on first use, cached on disk.
"""

from __future__ import annotations

import math

import numba


@numba.njit(cache=True, nogil=True)
def purchase_counts(rng, alive, lam, p, t, max_mean, out):
    """Fill ``out`` (int64, 2-D) with ``min(K, M)`` where alive, else 0; all arrays 2-D, same shape.

    ``M = 1 + floor(ln U / ln(1 - p))`` by inversion (never for p = 0, 1 for p = 1), as
    :func:`clvmodels.formulas.individual.draw_geometric`.
    """
    rows, cols = out.shape
    for s in range(rows):
        for i in range(cols):
            if not alive[s, i]:
                out[s, i] = 0
                continue
            k = rng.poisson(min(lam[s, i] * t[s, i], max_mean))
            if k >= 2:
                pi = p[s, i]
                if pi >= 1.0:
                    k = 1
                elif pi > 0.0:
                    u = rng.random()
                    if u > 0.0:
                        m = 1.0 + math.floor(math.log(u) / math.log1p(-pi))
                        if m < k:
                            k = int(m)
            out[s, i] = k
