"""Exact individual-level posterior sampling for the MBG/NBD (Batislam, Denizel & Filiztekin 2007).

The individual likelihood is ``(1-p)^(x+1) lambda^x e^(-lambda T)`` (alive at T) plus
``p (1-p)^x lambda^x e^(-lambda t_x)`` (dropped out right after the x-th repeat purchase, or
right after the first purchase when x = 0). Times the priors ``lambda ~ Gamma(r, alpha)``,
``p ~ Beta(a, b)`` each term is a product of conjugate kernels, so the posterior is the mixture

* alive: ``lambda ~ Gamma(r+x, rate alpha+T)``, ``p ~ Beta(a, b+x+1)``;
* dead: ``lambda ~ Gamma(r+x, rate alpha+t_x)``, ``p ~ Beta(a+1, b+x)``;

with the alive weight :func:`clvmodels.formulas.mbgnbd.p_alive`. The future of an alive customer
is the BG/NBD's (dropout after each purchase), so
:func:`clvmodels.formulas.individual.simulate_purchase_counts` simulates it unchanged.
Pure numpy; a seed fixes every number; nothing validates.
"""

from __future__ import annotations

import numpy as np

from clvmodels.formulas.mbgnbd import p_alive


def sample_mbgnbd_latents(rng, r, alpha, a, b, x, t_x, T):
    """Draw (alive at T, lambda, p) of each customer from their exact MBG/NBD posterior.

    Parameters
    ----------
    rng : numpy.random.Generator
    r, alpha, a, b : array_like
        MBG/NBD parameters, e.g. shape (S, 1).
    x, t_x, T : array_like
        Repeat purchases, recency and age, e.g. shape (n,).

    Returns
    -------
    alive : ndarray of bool
    lam : ndarray
        Purchase rate per time unit.
    p : ndarray
        Dropout probability after each purchase.
        All of the broadcast shape (e.g. (S, n)).
    """
    r, alpha, a, b, x, t_x, T = np.broadcast_arrays(
        *(np.asarray(v, dtype=float) for v in (r, alpha, a, b, x, t_x, T)))
    alive = rng.random(x.shape) < p_alive(r, alpha, a, b, x, t_x, T)
    lam = rng.standard_gamma(r + x) / np.where(alive, alpha + T, alpha + t_x)
    p = rng.beta(np.where(alive, a, a + 1.0), np.where(alive, b + x + 1.0, b + x))
    return alive, lam, p
