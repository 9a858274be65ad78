"""Compiled loop of :func:`clvmodels.formulas.individual.sample_bgnbd_latents`.

Given each cell's P(alive) (computed by the vectorised formula in
:func:`clvmodels.formulas.bgnbd.p_alive`), one pass draws the alive flag, the purchase rate and
the dropout probability of the cell's mixture component, without the (S, n) temporaries of
selecting parameters with ``np.where``. Draws come from the caller's ``numpy.random.Generator``
(numba draws from the same bit generator), so a seed fixes every number. Compiled on first use,
cached on disk.
"""

from __future__ import annotations

import numba


@numba.njit(cache=True, nogil=True)
def bgnbd_latents(rng, alive_prob, r, alpha, a, b, x, t_x, T, alive, lam, p):
    """Fill ``alive``, ``lam``, ``p`` (2-D, same shape as every input).

    alive: ``lam ~ Gamma(r + x, rate alpha + T)``, ``p ~ Beta(a, b + x)``; dead (x > 0 only):
    ``lam ~ Gamma(r + x, rate alpha + t_x)``, ``p ~ Beta(a + 1, b + x - 1)``.
    """
    rows, cols = alive.shape
    for s in range(rows):
        for i in range(cols):
            is_alive = rng.random() < alive_prob[s, i]
            alive[s, i] = is_alive
            xi = x[s, i]
            if is_alive:
                lam[s, i] = rng.standard_gamma(r[s, i] + xi) / (alpha[s, i] + T[s, i])
                p[s, i] = rng.beta(a[s, i], b[s, i] + xi)
            else:
                lam[s, i] = rng.standard_gamma(r[s, i] + xi) / (alpha[s, i] + t_x[s, i])
                p[s, i] = rng.beta(a[s, i] + 1.0, b[s, i] + xi - 1.0)
