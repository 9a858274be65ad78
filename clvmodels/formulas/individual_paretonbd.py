"""Exact individual-level posterior sampling and future simulation for the Pareto/NBD.

Given population parameters (r, alpha, s, beta) and a history (x, t_x, T), a customer's latent
state is exactly a two-component mixture (Fader & Hardie 2005, note 009, eq. 11 before its
integral over the death time is solved; Abe 2009, Marketing Science 28(3), uses the same
augmentation inside MCMC):

* alive at T (probability :func:`clvmodels.formulas.paretonbd.p_alive`):
  ``lambda ~ Gamma(r+x, rate alpha+T)``, ``mu ~ Gamma(s, rate beta+T)``;
* dead at a time tau in (t_x, T], with density proportional to
  ``(alpha+tau)^-(r+x) (beta+tau)^-(s+1)``; given tau,
  ``lambda ~ Gamma(r+x, rate alpha+tau)``, ``mu ~ Gamma(s+1, rate beta+tau)``.

tau is drawn exactly by rejection: the steeper of the two power factors (the larger initial
decay rate ``k/C``) is sampled by inversion of its truncated CDF and the draw is accepted with
the other factor (<= 1). No MCMC, no importance weights; a seed fixes every number.

Pure numpy; arguments broadcast like :mod:`clvmodels.formulas.paretonbd`; nothing validates.
"""

from __future__ import annotations

import numpy as np

from clvmodels.formulas.paretonbd import p_alive

_MAX_POISSON_MEAN = 1e15  # rng.poisson refuses means above ~9e18


def _truncated_power(rng, k, C, delta):
    """Draw w in [0, delta] with density proportional to (1 + w/C)^-k (k > 0), by inversion.

    The CDF is ``G(ln(1+w/C)) / G(ln(1+delta/C))`` with ``G(L) = -expm1((1-k) L)/(k-1)``, so
    ``ln(1+w/C) = log1p(U expm1((1-k) L_delta)) / (1-k)`` (``U L_delta`` at k = 1); in this
    form a k of 10,000 neither overflows nor loses the draw.
    """
    u = rng.random(np.shape(k))
    L_delta = np.log1p(delta / C)
    with np.errstate(divide="ignore", invalid="ignore"):
        L = np.log1p(u * np.expm1((1.0 - k) * L_delta)) / (1.0 - k)
    L = np.where(k == 1.0, u * L_delta, L)
    return C * np.expm1(np.clip(L, 0.0, L_delta))


def sample_death_time(rng, k1, A, k2, B, delta):
    """Draw w in [0, delta] with density proportional to (1 + w/A)^-k1 (1 + w/B)^-k2, exactly.

    Rejection from the steeper factor (acceptance probability the other factor, >= about
    one half in the usual case where one factor dominates the decay); vectorised, repeated on
    the rejected entries only. All arguments are arrays of one shape.
    """
    first = k1 / A >= k2 / B
    kp, Cp = np.where(first, k1, k2), np.where(first, A, B)
    kq, Cq = np.where(first, k2, k1), np.where(first, B, A)
    out = np.zeros(np.shape(k1))
    todo = np.flatnonzero(np.ravel(delta) > 0)
    flat = [np.ravel(v) for v in (kp, Cp, kq, Cq, delta)]
    result = out.ravel()
    while todo.size:
        kp_, Cp_, kq_, Cq_, d_ = (v[todo] for v in flat)
        w = _truncated_power(rng, kp_, Cp_, d_)
        accept = rng.random(todo.size) < np.exp(-kq_ * np.log1p(w / Cq_))
        result[todo[accept]] = w[accept]
        todo = todo[~accept]
    return result.reshape(np.shape(k1))


def sample_paretonbd_latents(rng, r, alpha, s, beta, x, t_x, T):
    """Draw (alive at T, lambda, mu) of each customer from their exact Pareto/NBD posterior.

    See the module docstring for the mixture. Returns arrays of the broadcast shape
    (e.g. (S, n) for (S, 1) parameters and (n,) customers).

    Returns
    -------
    alive : ndarray of bool
        Whether the customer is alive at T.
    lam : ndarray
        Purchase rate per time unit.
    mu : ndarray
        Death rate per time unit.
    """
    r, alpha, s, beta, x, t_x, T = np.broadcast_arrays(
        *(np.asarray(v, dtype=float) for v in (r, alpha, s, beta, x, t_x, T)))
    alive = rng.random(x.shape) < p_alive(r, alpha, s, beta, x, t_x, T)
    gap = np.where(alive, 0.0, T - t_x)  # only the dead need a death time
    tau = t_x + sample_death_time(rng, r + x, alpha + t_x, s + 1.0, beta + t_x, gap)
    lam = rng.standard_gamma(r + x) / np.where(alive, alpha + T, alpha + tau)
    mu = rng.standard_gamma(np.where(alive, s, s + 1.0)) / np.where(alive, beta + T, beta + tau)
    return alive, lam, mu


def simulate_paretonbd_purchases(rng, alive, lam, mu, t):
    """Purchases in the next ``t`` time units of customers with known (alive, lambda, mu).

    An alive customer lives a further ``Exp(mu)`` (memoryless) and buys at Poisson rate lambda
    until then, so the count is ``Poisson(lambda min(t, life))``; a dead one buys nothing.

    Returns
    -------
    ndarray of int64
        Purchase counts, broadcast shape of the arguments.
    """
    alive, lam, mu, t = np.broadcast_arrays(
        np.asarray(alive, dtype=bool), *(np.asarray(v, dtype=float) for v in (lam, mu, t)))
    with np.errstate(divide="ignore"):
        life = rng.standard_exponential(alive.shape) / mu
    exposure = np.where(alive, np.minimum(t, life), 0.0)
    return rng.poisson(np.minimum(lam * exposure, _MAX_POISSON_MEAN)).astype(np.int64)
