"""Exact individual-level posterior sampling, for predictive intervals.

The *predictive* interval of a quantity says what this customer will actually do, not what they
do on average: draw the customer's own latent traits (purchase rate ``lam``, dropout probability
``p``, spend rate ``nu``) from their exact posterior given their history, then simulate the future
from those traits. Pushing population-parameter draws of shape (S, 1) through these functions
with customer arrays of shape (n,) gives (S, n) draws that carry both parameter and individual
uncertainty. Futures with their timing (discounted purchases, spend) are in
:mod:`clvmodels.formulas.future_simulation`.

Pure numpy: the generator ``rng`` (``numpy.random.Generator``) is passed in, so a seed fixes
every number; nothing validates its input. Every argument broadcasts like the formulas in
:mod:`clvmodels.formulas.bgnbd`.

References: Fader, Hardie & Lee (2005), "Counting your customers the easy way", Marketing Science
24(2) (FHL 2005); Fader & Hardie (2013), "The Gamma-Gamma model of monetary value" (note).
"""

from __future__ import annotations

import numpy as np

from clvmodels.formulas.bgnbd import p_alive

# rng.poisson refuses means above ~9e18; a mean this large only arises for absurd inputs and then
# the count is limited by the dropout draw (M < 1e15 unless p < 1e-15) anyway.
_MAX_POISSON_MEAN = 1e15


def sample_bgnbd_latents(rng, r, alpha, a, b, x, t_x, T):
    """Draw (alive at T, lambda, p) of each customer from their exact BG/NBD posterior.

    The individual likelihood (FHL 2005 eq. 3) is a sum of two terms,

    ``L(lambda, p | x, t_x, T) = (1-p)^x lambda^x e^(-lambda T)
    + 1{x>0} p (1-p)^(x-1) lambda^x e^(-lambda t_x)``,

    the first for "still alive at T" (no dropout after any of the x purchases, no purchase in
    (t_x, T]), the second for "dropped out right after the x-th purchase". Times the priors
    ``lambda ~ Gamma(r, alpha)`` (rate) and ``p ~ Beta(a, b)`` each term is the kernel of a
    product of conjugate distributions, so the posterior is a two-component mixture:

    * alive: ``lambda ~ Gamma(r+x, rate alpha+T)``, ``p ~ Beta(a, b+x)``;
    * dead (x > 0 only): ``lambda ~ Gamma(r+x, rate alpha+t_x)``, ``p ~ Beta(a+1, b+x-1)``;

    The components' weights are the two terms integrated over the priors: the odds of dead to
    alive are ``B(a+1, b+x-1) / B(a, b+x) * ((alpha+T)/(alpha+t_x))^(r+x) = a/(b+x-1) *
    ((alpha+T)/(alpha+t_x))^(r+x)``, so the alive weight is P(alive | x, t_x, T) of FHL 2005
    eq. 11, taken from :func:`clvmodels.formulas.bgnbd.p_alive` (log-odds form, stable for x in
    the thousands). The component and its draws are taken in one compiled pass
    (:mod:`clvmodels.formulas.latent_kernel`).

    Parameters
    ----------
    rng : numpy.random.Generator
    r, alpha, a, b : array_like
        BG/NBD parameters, e.g. shape (S, 1).
    x, t_x, T : array_like
        Repeat purchases, recency and age of each customer, e.g. shape (n,).

    Returns
    -------
    alive : ndarray of bool
        Whether the customer is alive at T, broadcast shape (e.g. (S, n)).
    lam : ndarray of float
        Purchase rate per time unit.
    p : ndarray of float
        Dropout probability after each purchase.
    """
    from clvmodels.formulas.latent_kernel import bgnbd_latents  # compiled on first use

    args = [np.asarray(v, dtype=float) for v in (r, alpha, a, b, x, t_x, T)]
    shape = np.broadcast_shapes(*(v.shape for v in args))
    # P(alive) on the arguments as given (per draw and distinct x tables apply); 1 where x == 0
    alive_prob = p_alive(*args)
    alive, lam, p = np.empty(shape, bool), np.empty(shape), np.empty(shape)
    if alive.size:
        two_d = (1, alive.size) if len(shape) < 2 else (-1, shape[-1])
        bgnbd_latents(rng, *(np.broadcast_to(v, shape).reshape(two_d) for v in (alive_prob, *args)),
                      *(v.reshape(two_d) for v in (alive, lam, p)))
    return alive, lam, p


def draw_geometric(rng, p, size):
    """Draw the purchase after which a customer drops out: Geometric(p) on {1, 2, ...}.

    By inversion, ``1 + floor(ln U / ln(1 - p))``, returned as float so that p == 0 gives inf
    (never drops out); ``rng.geometric`` refuses p == 0, which a Beta draw with a tiny first
    parameter can produce.

    Parameters
    ----------
    rng : numpy.random.Generator
    p : array_like
        Dropout probability after each purchase, broadcastable to ``size``.
    size : tuple of int
        Shape of the result.

    Returns
    -------
    ndarray of float
        Values in {1, 2, ...} or inf.
    """
    u = rng.random(size)
    with np.errstate(divide="ignore", invalid="ignore"):
        m = 1.0 + np.floor(np.log(u) / np.log1p(-p))
    return np.where(np.isnan(m), 1.0, m)  # u == 0 with p == 1


def simulate_purchase_counts(rng, alive, lam, p, t):
    """Number of purchases in the next ``t`` time units of customers with known traits.

    An alive customer makes potential purchases at the times of a Poisson process with rate
    ``lam`` and drops out right after the M-th purchase, ``M ~ Geometric(p)`` on {1, 2, ...}; so
    the count is ``min(K, M)`` with ``K ~ Poisson(lam t)``. A dead customer buys nothing. Only
    what the count depends on is drawn (:mod:`clvmodels.formulas.count_kernel`): nothing for a
    dead customer, and M only where K >= 2.

    Parameters
    ----------
    rng : numpy.random.Generator
    alive, lam, p : array_like
        Traits, e.g. from :func:`sample_bgnbd_latents`, shape (S, n).
    t : array_like
        Horizon in time units, broadcast with the traits.

    Returns
    -------
    ndarray of int64
        Purchase counts, broadcast shape of the arguments.
    """
    from clvmodels.formulas.count_kernel import purchase_counts  # compiled on first use

    arrays = [np.asarray(alive, dtype=bool), *(np.asarray(v, dtype=float) for v in (lam, p, t))]
    shape = np.broadcast_shapes(*(v.shape for v in arrays))
    alive, lam, p, t = (np.broadcast_to(v, shape) for v in arrays)  # read-only views
    if alive.size == 0:
        return np.zeros(shape, np.int64)
    two_d = (1, alive.size) if alive.ndim < 2 else (-1, shape[-1])
    arrays = [v.reshape(two_d) for v in (alive, lam, p, t)]
    counts = np.empty(arrays[0].shape, np.int64)
    purchase_counts(rng, *arrays, _MAX_POISSON_MEAN, counts)
    return counts.reshape(shape)


def sample_gg_nu(rng, p, q, gamma, x, mbar):
    """Draw each customer's spend rate ``nu`` from its Gamma-Gamma posterior.

    Each transaction's value is ``Gamma(shape p, rate nu)`` and ``nu ~ Gamma(q, rate gamma)``; the
    x repeat transactions with mean ``mbar`` enter only through their sum ``x mbar``, so by
    conjugacy ``nu | data ~ Gamma(shape p x + q, rate gamma + x mbar)`` (Fader & Hardie 2013
    note, eq. for the posterior of nu). ``x == 0`` gives the prior.

    Parameters
    ----------
    rng : numpy.random.Generator
    p, q, gamma : array_like
        Gamma-Gamma parameters, e.g. shape (S, 1).
    x, mbar : array_like
        Repeat transactions and their mean value, e.g. shape (n,).

    Returns
    -------
    ndarray
        Spend rates, broadcast shape (e.g. (S, n)).
    """
    p, q, gamma, x, mbar = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (p, q, gamma, x, mbar)))
    return rng.standard_gamma(p * x + q) / (gamma + x * mbar)


def simulate_spend_totals(rng, n, p, nu):
    """Total value of ``n`` transactions of customers with spend rate ``nu``.

    A sum of n independent ``Gamma(p, rate nu)`` values is ``Gamma(p n, rate nu)``; 0 for n = 0.

    Parameters
    ----------
    rng : numpy.random.Generator
    n : array_like of int
        Number of transactions, e.g. from :func:`simulate_purchase_counts`, shape (S, n).
    p : array_like
        Gamma-Gamma shape parameter (per-transaction shape), e.g. shape (S, 1).
    nu : array_like
        Spend rates, e.g. from :func:`sample_gg_nu`.

    Returns
    -------
    ndarray
        Spend totals, broadcast shape.
    """
    n, p, nu = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (n, p, nu)))
    return np.where(n > 0, rng.standard_gamma(p * n) / nu, 0.0)


def simulate_spend_given_history(rng, counts, p, q, gamma, x, mbar):
    """Total value of each customer's next ``counts`` transactions given their spend history.

    With ``nu | history ~ Gamma(A, rate R)``, ``A = p x + q``, ``R = gamma + x mbar`` (see
    :func:`sample_gg_nu`) and the sum of N transactions ``Gamma(p N, rate nu)`` (see
    :func:`simulate_spend_totals`), the total is ``R G_pN / G_A`` with independent standard Gamma
    variates ``G_pN ~ Gamma(p N)`` and ``G_A ~ Gamma(A)`` (a scaled beta-prime variate): the same
    distribution as ``simulate_spend_totals(rng, N, p, sample_gg_nu(...))``, without the nu array.

    ``G_A`` depends on the customer only through x, so where the Gamma-Gamma parameters are the
    same for every customer (shape (S, 1)) it is drawn once per parameter draw and distinct x
    (a few hundred values) and shared by the customers with that x: each customer's draws are
    still exact and independent across parameter draws, so every customer's predictive
    distribution (all that per-customer intervals use) is unchanged; only customers with the same
    x have correlated Monte Carlo errors. ``G_pN`` is drawn per cell, and only where N > 0 (most
    simulated customers buy nothing in a horizon).

    Parameters
    ----------
    rng : numpy.random.Generator
    counts : array_like of int, shape (S, n), or None
        Number of transactions; None means one transaction for every cell (the value of the next
        purchase), shape (S, n) from the parameters and customers.
    p, q, gamma : array_like, shape (S, 1) or (S, n)
        Gamma-Gamma parameters per draw (per customer for models pooled by segment).
    x, mbar : array_like, shape (n,)
        Repeat transactions and their mean value.

    Returns
    -------
    ndarray of float, shape (S, n)
        Spend totals (0 where N = 0), in the currency of ``mbar``.
    """
    from clvmodels.formulas.spend_kernel import spend_totals  # compiled on first use

    p, q, gamma = (np.atleast_2d(np.asarray(v, dtype=float)) for v in (p, q, gamma))
    x = np.ascontiguousarray(x, dtype=float)
    mbar = np.ascontiguousarray(mbar, dtype=float)
    if counts is None:
        shape = np.broadcast_shapes(p.shape, q.shape, gamma.shape, x.shape)
        counts_arg = np.zeros((1, 1), np.int64)
    else:
        counts_arg = np.ascontiguousarray(counts, dtype=np.int64)
        shape = counts_arg.shape
    p, q, gamma = (np.broadcast_to(v, (shape[0], v.shape[1])) for v in (p, q, gamma))
    if p.shape[1] == 1 and q.shape[1] == 1:  # one G_A per (draw, distinct x)
        values, code = np.unique(x, return_inverse=True)
        table = rng.standard_gamma(p * values + q)  # (S, K)
    else:
        code, table = np.zeros(0, np.int64), np.zeros((0, 0))
    out = np.empty(shape)
    spend_totals(rng, counts_arg, counts is None, p, q, gamma, x, mbar,
                 code.astype(np.int64, copy=False), table, out)
    return out
