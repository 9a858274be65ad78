"""Compiled loop of :func:`clvmodels.formulas.individual.simulate_spend_given_history`.

One pass over the (draw, customer) cells: a cell without purchases is 0 and costs nothing, a
buying cell takes one standard Gamma draw from the caller's ``numpy.random.Generator`` (numba
draws from the same bit generator, so a seed still fixes every number). Numba compiles it on
first use and caches the machine code on disk.
"""

from __future__ import annotations

import numba


@numba.njit(cache=True, nogil=True)
def spend_totals(rng, counts, one_each, p, q, gamma, x, mbar, code, table, out):
    """Fill ``out`` (S, n) with ``R G_pN / G_A`` (see the caller for the distribution).

    Parameters
    ----------
    rng : numpy.random.Generator
    counts : ndarray of int64, (S, n)
        Transactions per cell; ignored (pass any 2-D int64 array) when ``one_each``.
    one_each : bool
        One transaction in every cell.
    p, q, gamma : ndarray of float, (S, 1) or (S, n)
        Gamma-Gamma parameters (a second dimension of 1 is shared by the customers).
    x, mbar : ndarray of float, (n,)
    code, table : ndarray of int64 (n,) and float (S, K), or empty
        ``G_A`` per draw and distinct x and each customer's x code; with ``table.size == 0``
        ``G_A ~ Gamma(p x + q)`` is drawn per cell.
    out : ndarray of float, (S, n)
    """
    n_draws, n = out.shape
    per_p, per_q, per_gamma = p.shape[1] > 1, q.shape[1] > 1, gamma.shape[1] > 1
    tabled = table.size > 0
    for s in range(n_draws):
        for i in range(n):
            c = 1 if one_each else counts[s, i]
            if c <= 0:
                out[s, i] = 0.0
                continue
            ps = p[s, i] if per_p else p[s, 0]
            if tabled:
                ga = table[s, code[i]]
            else:
                ga = rng.standard_gamma(ps * x[i] + (q[s, i] if per_q else q[s, 0]))
            rate = (gamma[s, i] if per_gamma else gamma[s, 0]) + x[i] * mbar[i]
            out[s, i] = rate * rng.standard_gamma(ps * c) / ga
