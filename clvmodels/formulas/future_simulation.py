"""Individual futures with their timing: discounted purchases, alive time and spend, simulated.

The *predictive* interval of a discounted value needs each simulated customer's purchases with
their times (a purchase s units ahead counts ``(1 + d) ** -s``), not only their count. Two routes,
the same distribution:

* :func:`simulate_discounted_purchases` from known traits (``alive``, ``lam``, ``p``, e.g. from
  :func:`clvmodels.formulas.individual.sample_bgnbd_latents`);
* :func:`simulate_bgnbd_futures` straight from a BG/NBD history, drawing only what a customer's
  future needs (nothing for customers dead at T; whether they buy at all by one uniform; times,
  dropout and spend only for buyers): the fast path of :mod:`clvmodels.value.simulate`.

The generator passed in draws every number: numpy for the dense route's traits, compiled loops
(:mod:`clvmodels.formulas.timing_kernel`) for the purchase times and the sparse route; nothing
validates its input. Every argument broadcasts like the formulas in :mod:`clvmodels.formulas.bgnbd`.

References: Fader, Hardie & Lee (2005), "Counting your customers the easy way", Marketing Science
24(2); Fader & Hardie (2013), "The Gamma-Gamma model of monetary value" (note).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from clvmodels.formulas import timing_kernel
from clvmodels.formulas.bgnbd import p_alive
from clvmodels.formulas.individual import _MAX_POISSON_MEAN, draw_geometric
from clvmodels.formulas.purchase_timing import _discounted_sums


class FuturePurchases(NamedTuple):
    """What :func:`simulate_discounted_purchases` returns, each of the broadcast shape (S, n)."""

    count: np.ndarray
    """Purchases in (0, horizon] (int64); distributed as :func:`simulate_purchase_counts`."""
    discounted_count: np.ndarray
    """Sum over those purchases of ``(1 + discount_rate) ** -s`` (s: time of the purchase)."""
    alive_time: np.ndarray
    """Time alive within the horizon: until the dropout (right after the last purchase) or the
    whole horizon; 0 for customers dead at the start."""
    discounted_alive_time: np.ndarray
    """Integral of ``(1 + discount_rate) ** -s`` over the time alive (equals alive_time at rate 0)."""
    discounted_spend: np.ndarray | None
    """Sum over the purchases of spend x discount factor; None when no spend rate was given."""


def simulate_discounted_purchases(
    rng, alive, lam, p, horizon, discount_rate, *, spend_shape=None, nu=None, batch_purchases=2**22
):
    """Simulate each customer's purchases in (0, horizon] with their times, and discount them.

    An alive customer has ``K ~ Poisson(lam * horizon)`` potential purchases and drops out right
    after purchase ``M ~ Geometric(p)`` on {1, 2, ...}, so makes ``N = min(K, M)`` of them (the
    count of :func:`simulate_purchase_counts`). Given K, the potential purchase times are K
    uniform order statistics on [0, horizon]; only the first N matter. They are drawn without
    generating the other K - N: with ``E_1, E_2, ...`` iid Exp(1), ``S_i = E_1 + ... + E_i`` and
    ``G ~ Gamma(K + 1 - N)`` standing for the remaining spacings, ``s_i = horizon * S_i /
    (S_N + G)`` (the normalised-spacings representation of uniform order statistics). The work is
    proportional to the purchases made, never to ``lam * horizon``: one compiled pass over the
    customers (:func:`clvmodels.formulas.timing_kernel.discounted_sums`), nothing stored per
    purchase.

    If ``N = M`` the customer drops out at ``s_N``; otherwise they are alive at the horizon.
    The horizon must be finite (for a "lifetime", use a long one such as 100 years: with
    ``horizon = inf`` every customer would make all M purchases, millions where p is tiny).
    With ``spend_shape`` (the Gamma-Gamma ``p``) and ``nu`` each purchase
    also gets a value ``Gamma(spend_shape, rate nu)`` (Fader & Hardie 2013 note).

    Parameters
    ----------
    rng : numpy.random.Generator
    alive, lam, p : array_like
        Traits, e.g. from :func:`sample_bgnbd_latents`, shape (S, n); ``p`` is the dropout
        probability.
    horizon : array_like
        Horizon in time units (finite).
    discount_rate : array_like
        Discount rate per time unit; a purchase s units ahead counts ``(1 + discount_rate)**-s``.
    spend_shape, nu : array_like, optional
        Gamma-Gamma shape ``p`` (e.g. (S, 1)) and spend rates (e.g. from :func:`sample_gg_nu`).
    batch_purchases : int
        Accepted for compatibility and unused (the compiled pass needs no batches).

    Returns
    -------
    FuturePurchases
        ``count``, ``discounted_count``, ``alive_time``, ``discounted_alive_time`` and
        ``discounted_spend`` (None without spend), each of the broadcast shape.
    """
    with_spend = nu is not None
    arrays = [np.asarray(alive, dtype=bool)] + [
        np.asarray(v, dtype=float) for v in (lam, p, horizon, discount_rate)
    ]
    if with_spend:
        arrays += [np.asarray(spend_shape, dtype=float), np.asarray(nu, dtype=float)]
    arrays = np.broadcast_arrays(*arrays)
    shape = arrays[0].shape
    alive, lam, p, horizon, rate = (v.ravel() for v in arrays[:5])
    spend_shape, nu = (arrays[5].ravel(), arrays[6].ravel()) if with_spend else (None, None)
    log_discount = np.log1p(rate)

    potential = rng.poisson(np.minimum(lam * horizon, _MAX_POISSON_MEAN))
    last = draw_geometric(rng, p, alive.shape)
    count = np.where(alive, np.minimum(potential, last), 0).astype(np.int64)
    # the spacings after the N-th purchase, summed: Gamma(K + 1 - N) (K - N + 1 >= 1 always)
    rest = rng.standard_gamma(potential + 1.0 - count)

    discounted, spend, last_time = _discounted_sums(rng, count, rest, horizon, log_discount,
                                                    spend_shape, nu, batch_purchases)
    dropped = alive & (count >= last)  # dropped out right after the last purchase
    alive_time = np.where(dropped, last_time, np.where(alive, horizon, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        discounted_alive = np.where(
            log_discount > 0, -np.expm1(-log_discount * alive_time) / log_discount, alive_time
        )
    return FuturePurchases(
        count.reshape(shape),
        discounted.reshape(shape),
        alive_time.reshape(shape),
        discounted_alive.reshape(shape),
        None if spend is None else spend.reshape(shape),
    )


def _at_pairs(v, shape, s, c):
    """Values of ``v`` (broadcastable to ``shape`` = (S, n)) at the (draw, customer) pairs (s, c),
    without materialising the broadcast for per-draw (S, 1) and per-customer (n,) arrays."""
    v = np.asarray(v, dtype=float)
    if v.ndim == 0:
        return np.full(s.shape, float(v))
    if v.ndim == 1 and v.shape[0] == shape[1]:
        return v[c]
    if v.ndim == 2 and v.shape[1] == 1 and v.shape[0] == shape[0]:
        return v[:, 0][s]
    return np.broadcast_to(v, shape)[s, c]


def _spread(v, shape):
    """``v`` broadcast to ``shape``: the array itself when it has that shape already (a
    broadcast view is read-only, and the kernel would need a copy of it)."""
    v = np.asarray(v)
    return v if v.shape == tuple(shape) else np.broadcast_to(v, shape)


def _p_alive_on_runs(r, alpha, a, b, x, t_x, T, shape, p_alive_fn=p_alive):
    """P(alive | x, t_x, T) by ``p_alive_fn(r, alpha, a, b, x, t_x, T)``, shape (S, n),
    evaluated once per run of identical adjacent histories (customers sorted by history repeat
    them) when the parameters are per draw; element by element, so the values are those of one
    call on all customers."""
    pooled = all(np.ndim(v) < 2 or np.shape(v)[-1] == 1 for v in (r, alpha, a, b))
    if not pooled or np.ndim(x) != 1 or np.ndim(t_x) != 1 or np.ndim(T) != 1 or x.size < 2:
        return _spread(p_alive_fn(r, alpha, a, b, x, t_x, T), shape)
    new = np.ones(x.size, dtype=bool)
    new[1:] = (x[1:] != x[:-1]) | (t_x[1:] != t_x[:-1]) | (T[1:] != T[:-1])
    first = np.flatnonzero(new)
    if first.size > 0.8 * x.size:
        return _spread(p_alive_fn(r, alpha, a, b, x, t_x, T), shape)
    values = np.broadcast_to(p_alive_fn(r, alpha, a, b, x[first], t_x[first], T[first]),
                             (shape[0], first.size))
    return values[:, np.cumsum(new) - 1]


def _negative_binomial_at_least_one(rng, n, pr, log_p0):
    """Draws of K ~ NB(n, pr) (P(K = k) = C(n+k-1, k) pr^n (1-pr)^k) given K >= 1, flat arrays.

    Where P(K = 0) = pr^n = exp(log_p0) is above 1/2 or the mean n (1-pr)/pr small (at most
    ``timing_kernel._INVERSION_MEAN``), by inversion: a uniform share of the mass 1 - P(K = 0),
    matched by the running sum of P(K = 1), P(K = 2), ... (the ratio recursion P(k) = P(k-1)
    (n+k-1)/k (1-pr)); the few whose target the rounded series never reaches (a rounding gap of
    ~1e-16) are drawn by rejection too. Otherwise by rejection: Gamma-Poisson draws of K until
    K >= 1 (each accepted with probability >= 1/2). One compiled pass, element by element
    (:func:`clvmodels.formulas.timing_kernel.negative_binomial_at_least_one`).
    """
    n, pr, log_p0 = (np.require(np.ravel(np.asarray(v, dtype=float)), np.float64, ("C", "W"))
                     for v in np.broadcast_arrays(n, pr, log_p0))
    out = np.empty(n.size, dtype=np.int64)
    timing_kernel.negative_binomial_at_least_one(rng, n, pr, log_p0, _MAX_POISSON_MEAN, out)
    return out


def _grid(v, shape):
    """``v`` (broadcastable to the 2-D ``shape``) as a 2-D C-ordered writable float64 array whose
    broadcast axes have length 1 (what :func:`clvmodels.formulas.timing_kernel.bgnbd_futures`
    reads): per-draw (S, 1) and per-customer (n,) arrays are never spread to (S, n)."""
    v = np.asarray(v, dtype=float)
    v = v.reshape((1,) * (2 - v.ndim) + v.shape)
    for axis in (0, 1):  # a broadcast view (stride 0) is read through one slice
        if v.shape[axis] > 1 and v.strides[axis] == 0:
            v = v[:1] if axis == 0 else v[:, :1]
    return np.require(v, np.float64, ("C", "W"))


def simulate_bgnbd_futures(rng, r, alpha, a, b, x, t_x, T, horizon, discount_rate, *,
                           spend_shape=None, nu_shape=None, nu_rate=None, batch_purchases=2**22,
                           p_alive_fn=p_alive, alive_b_shift=0.0):
    """One simulated future per element, drawing only what the outcome depends on.

    The same distribution as :func:`sample_bgnbd_latents`, then ``nu ~ Gamma(nu_shape, rate
    nu_rate)`` (e.g. :func:`sample_gg_nu`'s posterior), then :func:`simulate_discounted_purchases`,
    but in a sparser order, so far fewer random numbers per customer:

    1. alive at T with probability P(alive | x, t_x, T) (FHL 2005 eq. 11); a customer dead at T
       buys nothing and is alive for no time, whatever their lambda and p: nothing else is drawn;
    2. for the alive, ``K ~ Poisson(lambda horizon)`` potential purchases with
       ``lambda ~ Gamma(r+x, rate alpha+T)``, i.e. K ~ NB(r+x, (alpha+T)/(alpha+T+horizon))
       (lambda is not needed once K is known: given K the times are uniform order statistics):
       K = 0 or not by one uniform; with K = 0 the customer makes no purchase and, dropping out
       only right after a purchase, is alive over the whole horizon: nothing else is drawn;
       for K >= 1, K from the negative binomial given K >= 1;
    3. for K > 0, ``p ~ Beta(a, b+x)``, ``M ~ Geometric(p)``, ``N = min(K, M) >= 1``, the
       spacings, the spend rate and the purchases' spends; p is not needed once M is known, so
       ``(N, M <= K)`` is drawn from the beta-geometric law of M (p integrated out) by one
       uniform.

    One compiled pass over the (draw, customer) cells after the vectorised P(alive)
    (:func:`clvmodels.formulas.timing_kernel.bgnbd_futures`, whose docstring gives the order of
    the draws in a cell); per-draw (S, 1) and per-customer (n,) arguments are read in place,
    never spread to (S, n).

    Each draw comes from the same conditional distribution as in the dense functions (the alive
    component of the posterior mixture, see :func:`sample_bgnbd_latents`), and the draws skipped
    are of variables the outcome does not depend on in that case, so the joint distribution of
    the outputs is the same; only the random stream differs. Without discounting
    (``discount_rate == 0`` everywhere) the spend total of N purchases is one
    ``Gamma(N spend_shape, rate nu)`` draw (a sum of N iid Gamma(spend_shape, nu) is exactly
    that); with discounting each purchase has its own discount factor and its own spend draw
    (the weighted sum of Gammas with unequal weights has no one-draw form: a Gamma(N p) total
    split by Dirichlet weights would still need N draws).

    Parameters
    ----------
    rng : numpy.random.Generator
    r, alpha, a, b : array_like
        BG/NBD parameters, e.g. shape (S, 1).
    x, t_x, T : array_like
        Histories, e.g. shape (n,).
    horizon, discount_rate : float
        Horizon (finite, time units) and discount rate per time unit.
    spend_shape, nu_shape, nu_rate : array_like, optional
        Gamma-Gamma per-purchase shape ``p`` and the Gamma posterior of each customer's spend
        rate (shape ``p x + q``, rate ``gamma + x mbar``), broadcast with the rest.
    batch_purchases : int
        Accepted for compatibility and unused.
    p_alive_fn, alive_b_shift : callable, float
        P(alive | x, t_x, T) as a function of ``(r, alpha, a, b, x, t_x, T)`` and the shift of the
        alive customers' dropout posterior ``p ~ Beta(a, b + x + alive_b_shift)``: the BG/NBD's by
        default; the MBG/NBD, whose alive branch is the BG/NBD's at ``b + 1`` (Batislam, Denizel &
        Filiztekin 2007), passes its own P(alive) and 1.

    Returns
    -------
    FuturePurchases
        As :func:`simulate_discounted_purchases`, each of the broadcast shape (e.g. (S, n)).
    """
    with_spend = nu_shape is not None
    args = [np.asarray(v, dtype=float) for v in (r, alpha, a, b, x, t_x, T)]
    if with_spend:
        args += [np.asarray(v, dtype=float) for v in (spend_shape, nu_shape, nu_rate)]
    shape = np.broadcast_shapes(*(v.shape for v in args))
    horizon, rate = float(horizon), float(discount_rate)
    if len(shape) != 2:  # the (draw, customer) bookkeeping below works on (S, n)
        shape2 = (1, int(np.prod(shape))) if len(shape) < 2 else (int(np.prod(shape[:-1])), shape[-1])
        flat = [np.broadcast_to(v, shape).reshape(shape2) for v in args]
        out = simulate_bgnbd_futures(rng, *flat[:7], horizon, discount_rate,
                                     **(dict(zip(("spend_shape", "nu_shape", "nu_rate"), flat[7:]))
                                        if with_spend else {}), batch_purchases=batch_purchases,
                                     p_alive_fn=p_alive_fn, alive_b_shift=alive_b_shift)
        return FuturePurchases(*(None if v is None else v.reshape(shape) for v in out))
    r, alpha, a, b, x, t_x, T = args[:7]
    alive_prob = _p_alive_on_runs(r, alpha, a, b, x, t_x, T, shape, p_alive_fn)
    grids = [_grid(v, shape) for v in (alive_prob, r, alpha, a, b, x, T)]
    spend_grids = ([_grid(v, shape) for v in args[7:]] if with_spend else [np.ones((1, 1))] * 3)
    count = np.empty(shape, dtype=np.int64)
    discounted, alive_time, discounted_alive = np.empty(shape), np.empty(shape), np.empty(shape)
    spend = np.empty(shape) if with_spend else np.empty((0, 0))
    timing_kernel.bgnbd_futures(rng, *grids, *spend_grids, with_spend, horizon, float(np.log1p(rate)),
                                float(alive_b_shift), _MAX_POISSON_MEAN,
                                count, discounted, alive_time, discounted_alive, spend)
    return FuturePurchases(count, discounted, alive_time, discounted_alive,
                           spend if with_spend else None)
