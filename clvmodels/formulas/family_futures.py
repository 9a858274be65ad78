"""Simulated futures with purchase timing for the Pareto/NBD and the BG/BB.

What :func:`clvmodels.formulas.future_simulation.simulate_bgnbd_futures` is for the BG/NBD: one
future per parameter draw and customer, with its purchase count, the discounted count, the time
alive within the horizon, its discounted length and (with a Gamma-Gamma spend posterior) the
discounted spend, all as :class:`~clvmodels.formulas.future_simulation.FuturePurchases`. Both start
from the customer's latent traits drawn from their exact posterior.

* Pareto/NBD (Schmittlein, Morrison & Colombo 1987): an alive customer lives a further
  ``Exp(mu)`` (memoryless) and buys at Poisson rate lambda until ``L = min(life, horizon)``; given
  the count N the purchase times are N uniform order statistics on [0, L], drawn by normalised
  spacings (``s_i = L S_i / S_{N+1}``, S the partial sums of N + 1 Exp(1)).
* BG/BB (Fader, Hardie & Shang 2010), discrete opportunities: an alive customer survives each
  coming opportunity with probability ``1 - theta`` (J = min(Geometric(theta) - 1, H)
  opportunities alive) and transacts at each with probability p; the transactions sit at the
  successes of a Bernoulli(p) sequence over 1..J, found by geometric gaps. A transaction at
  opportunity k counts ``(1 + d)^-k``; the discounted alive time is ``sum_{k=1}^{J} (1 + d)^-k``
  (the contract's discrete-time reading, see :mod:`clvmodels.families.bgbb`).

Spend: each purchase is worth ``Gamma(spend_shape, rate nu)`` with the customer's
``nu ~ Gamma(nu_shape, rate nu_rate)`` (the Gamma-Gamma posterior, Fader & Hardie 2013), drawn for
buyers only. Pure numpy, the generator passed in; arguments broadcast to (S, n); nothing validates.
"""

from __future__ import annotations

import numpy as np

from clvmodels.formulas.future_simulation import FuturePurchases
from clvmodels.formulas.individual import _MAX_POISSON_MEAN, draw_geometric
from clvmodels.formulas.purchase_timing import _discounted_sums


def _spend_rates(rng, shape, buyers, spend_shape, nu_shape, nu_rate):
    """Per-purchase Gamma shape and the spend rate nu of the buyers (flat, in ``buyers`` order)."""
    if nu_shape is None:
        return None, None
    pick = [np.broadcast_to(np.asarray(v, float), shape).ravel()[buyers]
            for v in (spend_shape, nu_shape, nu_rate)]
    return pick[0], rng.standard_gamma(pick[1]) / pick[2]


def _discounted_length(length, log_discount):
    """``int_0^L exp(-c s) ds`` (L itself at c = 0)."""
    if log_discount == 0:
        return np.asarray(length, float).copy()
    return -np.expm1(-log_discount * length) / log_discount


def simulate_paretonbd_futures(rng, alive, lam, mu, horizon, discount_rate, *, spend_shape=None,
                               nu_shape=None, nu_rate=None, batch_purchases=2**22):
    """One Pareto/NBD future per element from known traits (see the module docstring).

    Parameters
    ----------
    rng : numpy.random.Generator
    alive, lam, mu : ndarray, shape (S, n)
        Traits from :func:`clvmodels.formulas.individual_paretonbd.sample_paretonbd_latents`.
    horizon : float
        Finite horizon in time units.
    discount_rate : float
        Per time unit: a purchase s units ahead counts ``(1 + discount_rate) ** -s``.
    spend_shape, nu_shape, nu_rate : array_like, optional
        Gamma-Gamma ``p`` and each customer's spend-rate posterior (shape ``p x + q``, rate
        ``gamma + x mbar``), broadcast to (S, n).
    batch_purchases : int
        Accepted for compatibility and unused (the purchases are timed by one compiled pass,
        :func:`clvmodels.formulas.timing_kernel.discounted_sums`).

    Returns
    -------
    FuturePurchases
        Each of shape (S, n); ``discounted_spend`` None without a spend posterior.
    """
    alive, lam, mu = np.broadcast_arrays(np.asarray(alive, bool), np.asarray(lam, float),
                                         np.asarray(mu, float))
    shape, horizon, log_discount = alive.shape, float(horizon), float(np.log1p(discount_rate))
    with np.errstate(divide="ignore"):
        life = rng.standard_exponential(shape) / mu
    length = np.where(alive, np.minimum(life, horizon), 0.0)
    count = rng.poisson(np.minimum(lam * length, _MAX_POISSON_MEAN)).astype(np.int64)
    buyers = np.flatnonzero(count.ravel() > 0)
    n_buy = count.ravel()[buyers]
    rest = rng.standard_exponential(buyers.size)  # S_{N+1} - S_N: no purchase after the N-th
    shape_k, nu = _spend_rates(rng, shape, buyers, spend_shape, nu_shape, nu_rate)
    discounted, spend, _ = _discounted_sums(rng, n_buy, rest, length.ravel()[buyers], log_discount,
                                            shape_k, nu, batch_purchases)
    out_discounted = np.zeros(alive.size)
    out_discounted[buyers] = discounted
    out_spend = None
    if nu is not None:
        out_spend = np.zeros(alive.size)
        out_spend[buyers] = spend
        out_spend = out_spend.reshape(shape)
    return FuturePurchases(count, out_discounted.reshape(shape), length,
                           _discounted_length(length, log_discount), out_spend)


def simulate_bgbb_futures(rng, alive, p, theta, horizon, discount_rate, *, spend_shape=None,
                          nu_shape=None, nu_rate=None):
    """One BG/BB future per element over the next ``floor(horizon)`` opportunities.

    Parameters
    ----------
    rng : numpy.random.Generator
    alive, p, theta : ndarray, shape (S, n)
        Traits from :func:`clvmodels.formulas.bgbb.sample_latents`: alive through the observed
        opportunities, transaction and dropout probabilities per opportunity.
    horizon : float
        Future opportunities (its whole part counts).
    discount_rate : float
        Per opportunity: a transaction k opportunities ahead counts ``(1 + d) ** -k``.
    spend_shape, nu_shape, nu_rate : array_like, optional
        As :func:`simulate_paretonbd_futures`.

    Returns
    -------
    FuturePurchases
        ``alive_time`` counts the coming opportunities alive (J), ``discounted_alive_time`` is
        ``sum_{k=1}^{J} (1 + d)^-k``; each of shape (S, n).
    """
    alive, p, theta = np.broadcast_arrays(np.asarray(alive, bool), np.asarray(p, float),
                                          np.asarray(theta, float))
    shape, H, log_discount = alive.shape, float(np.floor(horizon)), float(np.log1p(discount_rate))
    lived = np.where(alive, np.minimum(draw_geometric(rng, theta, shape) - 1.0, H), 0.0)
    flat_lived, flat_p = lived.ravel(), p.ravel()
    active = np.flatnonzero(flat_lived > 0)
    shape_k, nu = _spend_rates(rng, shape, active, spend_shape, nu_shape, nu_rate)
    count = np.zeros(alive.size, dtype=np.int64)
    discounted = np.zeros(alive.size)
    spend = None if nu is None else np.zeros(alive.size)
    position = np.zeros(active.size)
    todo = np.arange(active.size)  # positions in ``active`` still inside their lifetime
    while todo.size:  # next success of each Bernoulli(p) sequence: a Geometric(p) gap further on
        position[todo] += draw_geometric(rng, flat_p[active[todo]], todo.shape)
        todo = todo[position[todo] <= flat_lived[active[todo]]]
        rows = active[todo]
        weight = np.exp(-log_discount * position[todo])
        count[rows] += 1
        discounted[rows] += weight
        if nu is not None:
            spend[rows] += weight * rng.standard_gamma(shape_k[todo]) / nu[todo]
    with np.errstate(divide="ignore", invalid="ignore"):  # sum_{k=1}^{J} v^k, v = (1 + d)^-1
        alive_discounted = (lived if log_discount == 0
                            else -np.expm1(-log_discount * lived) / np.expm1(log_discount))
    return FuturePurchases(count.reshape(shape), discounted.reshape(shape), lived, alive_discounted,
                           None if spend is None else spend.reshape(shape))


def simulate_paretonbd_history_futures(rng, r, alpha, s, beta, x, t_x, T, horizon, discount_rate, *,
                                       spend_shape=None, nu_shape=None, nu_rate=None,
                                       batch_purchases=2**22):
    """One Pareto/NBD future per (draw, customer) straight from the history, drawing only what the
    future depends on (the sparse route, as :func:`~clvmodels.formulas.future_simulation.
    simulate_bgnbd_futures` for the BG/NBD).

    The exact posterior of :func:`~clvmodels.formulas.individual_paretonbd.sample_paretonbd_latents`
    is a mixture of "alive at T" and "dead at some tau in (t_x, T]"; a customer dead at T buys
    nothing and is alive for no time whatever their lambda, mu and tau, so only the alive
    component is drawn: alive with probability P(alive | x, t_x, T) (SMC 1987), then
    ``lambda ~ Gamma(r+x, rate alpha+T)``, ``mu ~ Gamma(s, rate beta+T)`` and the future of
    :func:`simulate_paretonbd_futures`. Same distribution of the outputs, far fewer random
    numbers (no death times). Arguments broadcast to (S, n) (parameters e.g. (S, 1), histories
    (n,)); the rest as :func:`simulate_paretonbd_futures`.

    Returns
    -------
    FuturePurchases
        Each of the broadcast shape.
    """
    from clvmodels.formulas.future_simulation import _at_pairs, _p_alive_on_runs
    from clvmodels.formulas.paretonbd import p_alive

    args = [np.asarray(v, float) for v in (r, alpha, s, beta, x, t_x, T)]
    spend = [None if v is None else np.asarray(v, float) for v in (spend_shape, nu_shape, nu_rate)]
    shape = np.broadcast_shapes(*(v.shape for v in args), *(v.shape for v in spend if v is not None))
    if len(shape) != 2:  # the (draw, customer) bookkeeping works on (S, n)
        shape2 = (1, int(np.prod(shape))) if len(shape) < 2 else (int(np.prod(shape[:-1])), shape[-1])
        flat = [None if v is None else np.broadcast_to(v, shape).reshape(shape2) for v in (*args, *spend)]
        out = simulate_paretonbd_history_futures(
            rng, *flat[:7], horizon, discount_rate, spend_shape=flat[7], nu_shape=flat[8],
            nu_rate=flat[9], batch_purchases=batch_purchases)
        return FuturePurchases(*(None if v is None else v.reshape(shape) for v in out))
    r, alpha, s, beta, x, t_x, T = args
    alive = rng.random(shape) < _p_alive_on_runs(r, alpha, s, beta, x, t_x, T, shape, p_alive)
    s_i, c_i = np.nonzero(alive)

    def at(v):
        return None if v is None else _at_pairs(v, shape, s_i, c_i)

    lam = rng.standard_gamma(at(r) + at(x)) / (at(alpha) + at(T))
    mu = rng.standard_gamma(at(s)) / (at(beta) + at(T))
    part = simulate_paretonbd_futures(rng, np.ones(s_i.size, bool), lam, mu, horizon, discount_rate,
                                      spend_shape=at(spend[0]), nu_shape=at(spend[1]),
                                      nu_rate=at(spend[2]), batch_purchases=batch_purchases)
    out = []
    for v, dtype in zip(part, (np.int64, float, float, float, float)):
        if v is None:
            out.append(None)
            continue
        full = np.zeros(shape, dtype=dtype)
        full[s_i, c_i] = v
        out.append(full)
    return FuturePurchases(*out)
