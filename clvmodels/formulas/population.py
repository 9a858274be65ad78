"""Customers drawn from a family's population, with their true traits: the oracle of the tests.

Each function draws ``n`` new customers from the population at given parameters: the latent
traits from the mixing distributions, then the purchase history up to each customer's observation
length, in the model's own time (continuous for BG/NBD, MBG/NBD and Pareto/NBD: exact purchase
times, no rounding to days and no merging of close purchases; whole opportunities for BG/BB). It
returns the history a summary would hold and the traits *at the end of observation* in the form
the families' ``simulate_purchases`` take them (``alive`` at T and the rates or probabilities),
so the true future of each customer can be simulated from the truth, not from a fit.

A history is simulated without a purchase log. Given the Poisson count ``K`` of (potential)
purchases in an exposure ``E``, their times are ``K`` uniform order statistics on ``(0, E)``;
the ``x``-th of them is ``E * Beta(x, K - x + 1)`` (the last purchase when ``x == K``).

Pure numpy: the generator ``rng`` is passed in and consumed in a fixed order, so a seed fixes
every number; parameters are scalars (one population point); nothing validates its input.

References: Fader, Hardie & Lee (2005), Marketing Science 24(2), sec. 3 (BG/NBD); Batislam,
Denizel & Filiztekin (2007), IJRM 24(3) (MBG/NBD: a dropout chance at time 0 too); Schmittlein,
Morrison & Colombo (1987), Management Science 33(1) (Pareto/NBD); Fader, Hardie & Shang (2010),
Marketing Science 29(6), sec. 2 (BG/BB).
"""

from __future__ import annotations

import numpy as np

from clvmodels.formulas.individual import draw_geometric

_MAX_POISSON_MEAN = 1e15  # rng.poisson refuses means above ~9e18


def _last_of_first(rng, x, k, exposure):
    """Time of the x-th of k uniform points on (0, exposure): ``exposure * Beta(x, k - x + 1)``
    where x >= 1, 0 where x == 0."""
    some = x > 0
    draw = rng.beta(np.where(some, x, 1.0), np.where(some, k - x + 1.0, 1.0))
    return np.where(some, exposure * draw, 0.0)


def simulate_bgnbd_population(rng, r, alpha, a, b, T, *, dropout_at_zero=False):
    """Draw customers from the BG/NBD (or, with ``dropout_at_zero``, MBG/NBD) population.

    Each customer has ``lam ~ Gamma(r, rate alpha)`` and ``p ~ Beta(a, b)``, makes repeat
    purchases at the times of a Poisson process with rate ``lam`` from time 0 (the first
    purchase) and drops out right after repeat purchase ``D``: ``D ~ Geometric(p)`` on {1, 2, ...}
    (FHL 2005), on {0, 1, ...} with ``dropout_at_zero`` (MBG/NBD: D = 0 drops out at the first
    purchase itself). With ``K ~ Poisson(lam T)`` potential purchases by T, ``x = min(K, D)`` and
    the customer is alive at T exactly when ``K < D``.

    Parameters
    ----------
    rng : numpy.random.Generator
    r, alpha, a, b : float
        Population parameters, per time unit.
    T : ndarray of float, shape (n,)
        Each customer's observation length after their first purchase (time units, > 0).
    dropout_at_zero : bool
        MBG/NBD's dropout chance at time 0.

    Returns
    -------
    x : ndarray of float, shape (n,)
        Repeat purchases in (0, T] (whole numbers).
    t_x : ndarray of float, shape (n,)
        Time of the last repeat purchase (0 without one), exact.
    alive : ndarray of bool, shape (n,)
        Alive at T.
    lam, p : ndarray of float, shape (n,)
        The customer's purchase rate and dropout probability.
    """
    T = np.asarray(T, float)
    n = T.shape
    lam = rng.standard_gamma(r, n) / alpha
    p = rng.beta(a, b, n)
    dropout = draw_geometric(rng, p, n) - (1.0 if dropout_at_zero else 0.0)
    potential = rng.poisson(np.minimum(lam * T, _MAX_POISSON_MEAN)).astype(float)
    x = np.minimum(potential, dropout)
    return x, _last_of_first(rng, x, potential, T), potential < dropout, lam, p


def simulate_paretonbd_population(rng, r, alpha, s, beta, T):
    """Draw customers from the Pareto/NBD population.

    Each customer has ``lam ~ Gamma(r, rate alpha)`` and a lifetime ``tau ~ Exponential(mu)``
    with ``mu ~ Gamma(s, rate beta)`` (SMC 1987), and buys at Poisson rate ``lam`` while alive:
    with exposure ``E = min(tau, T)``, ``x ~ Poisson(lam E)`` and the last purchase is the
    largest of x uniform points on (0, E). Alive at T exactly when ``tau > T``.

    Parameters
    ----------
    rng : numpy.random.Generator
    r, alpha, s, beta : float
        Population parameters, per time unit.
    T : ndarray of float, shape (n,)
        Observation lengths after the first purchase (time units, > 0).

    Returns
    -------
    x, t_x : ndarray of float, shape (n,)
        Repeat purchases in (0, T] and the time of the last one (0 without one), exact.
    alive : ndarray of bool, shape (n,)
    lam, mu : ndarray of float, shape (n,)
        Purchase rate and dropout rate.
    """
    T = np.asarray(T, float)
    n = T.shape
    lam = rng.standard_gamma(r, n) / alpha
    mu = rng.standard_gamma(s, n) / beta
    with np.errstate(divide="ignore"):
        lifetime = rng.standard_exponential(n) / mu
    exposure = np.minimum(lifetime, T)
    x = rng.poisson(np.minimum(lam * exposure, _MAX_POISSON_MEAN)).astype(float)
    return x, _last_of_first(rng, x, x, exposure), lifetime > T, lam, mu


def simulate_bgbb_population(rng, alpha, beta, gamma, delta, n_periods):
    """Draw customers from the BG/BB population, one opportunity at a time.

    Each customer has a transaction probability ``p ~ Beta(alpha, beta)`` and a dropout
    probability ``theta ~ Beta(gamma, delta)``; alive at an opportunity, they transact with
    probability p, and die at the start of each later opportunity with probability theta (FHS
    2010 sec. 2). So the opportunities lived are ``L = M - 1`` with ``M ~ Geometric(theta)`` on
    {1, 2, ...}, as in :func:`clvmodels.formulas.bgbb.simulate_transactions`.

    Parameters
    ----------
    rng : numpy.random.Generator
    alpha, beta, gamma, delta : float
        Population parameters.
    n_periods : ndarray of int, shape (n,)
        Opportunities observed after the first transaction (>= 1).

    Returns
    -------
    x : ndarray of float, shape (n,)
        Opportunities with a transaction among 1..n.
    t_x : ndarray of float, shape (n,)
        The last such opportunity (0 without one).
    alive : ndarray of bool, shape (n,)
        Alive at opportunity n.
    p, theta : ndarray of float, shape (n,)
    """
    n = np.asarray(n_periods).astype(np.int64)
    shape = n.shape
    p = rng.beta(alpha, beta, shape)
    theta = rng.beta(gamma, delta, shape)
    lived = draw_geometric(rng, theta, shape) - 1.0
    x = np.zeros(shape)
    t_x = np.zeros(shape)
    for k in range(1, int(n.max(initial=0)) + 1):
        bought = (k <= np.minimum(lived, n)) & (rng.random(shape) < p)
        x += bought
        t_x[bought] = k
    return x, t_x, lived >= n, p, theta
