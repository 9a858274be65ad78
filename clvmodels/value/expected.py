"""Expected discounted value of customers for given parameters (one draw or many at once).

Arguments broadcast like the formulas: parameter arrays of shape (S, 1) or (S, n) with customer
arrays of shape (n,) give (S, n). Nothing here validates input (see :mod:`economics`).

Expected future margin of a customer with history (x, t_x, T) over the horizon H, with the
discount factor ``(1 + d) ** -s`` for a cash flow s time units after the observation end::

    margin_rate * E[D] * E[spend] - cost_per_transaction * E[D] - cost_to_serve * E[A]

``D`` is the discounted number of future purchases (its expectation from
:func:`clvmodels.formulas.bgnbd.expected_discounted_purchases`), ``E[spend]`` the Gamma-Gamma
conditional mean spend per purchase (the population mean for x = 0); the product of expectations
is exact because the Gamma-Gamma model takes spend independent of the purchase process. ``A``
is the discounted time alive, ``integral_0^H 1{alive at T+s} (1+d)^-s ds``, on which the cost to
serve is charged.

Assumptions: BG/NBD is non-contractual (dropout is latent, never observed; subscriptions need a
contractual model) and lets a customer drop out only right after a purchase, so a customer
without repeat purchases is alive with probability 1; their expected purchases stay small because
the rate posterior reads their silence as a low rate. Spend is independent of frequency
(Gamma-Gamma; check with :func:`clvmodels.value.spend_frequency_check`). Discounting is
continuous in time at ``ln(1 + d)`` per time unit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from clvmodels.formulas import bgnbd, gammagamma
from clvmodels.formulas.bgnbd_alive_time import discounted_alive_time_if_alive
from clvmodels.value.economics import ResolvedEconomics


def discounted_alive_time(r, alpha, a, b, x, t_x, T, horizon, discount_rate):
    """Expected discounted time alive in (T, T + horizon] given the history:
    ``E[A] = int_0^H P(alive at T+s) (1+d)^-s ds``, i.e. P(alive at T) times
    :func:`discounted_alive_time_if_alive`. Shapes as there, plus ``t_x``.
    """
    return bgnbd.p_alive(r, alpha, a, b, x, t_x, T) * discounted_alive_time_if_alive(
        r, alpha, a, b, x, T, horizon, discount_rate)


def distinct_rows(*columns) -> tuple[np.ndarray, np.ndarray]:
    """The first index of each distinct row of the columns (rows in lexicographic order) and,
    per row, the index of its distinct row: what ``np.unique(np.column_stack(columns), axis=0,
    return_index=True, return_inverse=True)`` gives, but by sorting one int64 code per row (the
    columns' value codes combined) rather than rows of bytes, which is several times faster.

    Parameters
    ----------
    *columns : ndarray, shape (n,)

    Returns
    -------
    first, inverse : ndarray of int, shapes (m,) and (n,)
    """
    code = np.zeros(np.shape(columns[0]), dtype=np.int64)
    span = 1
    for column in columns:
        values, codes = np.unique(column, return_inverse=True)
        span *= max(values.size, 1)
        if span >= 2**62:  # the combined code would overflow: sort rows
            _, first, inverse = np.unique(np.column_stack(columns), axis=0, return_index=True,
                                          return_inverse=True)
            return first, inverse.ravel()
        code = code * values.size + codes.ravel()
    _, first, inverse = np.unique(code, return_index=True, return_inverse=True)
    return first, inverse.ravel()


def _distinct_histories(x, T, bg: dict):
    """Distinct (x, T, parameters) among the customers: the alive-branch integrals depend on
    nothing else, and identical rows are common (same ages, same frequencies, same segment).

    Returns the distinct x and T (shape (m,)), the parameters at the distinct rows and, per
    customer, the index of its distinct row.
    """
    per_customer = [v for v in bg.values() if np.shape(v)[-1] > 1]
    first, inverse = distinct_rows(x, T, *(np.broadcast_to(v[0], np.shape(x)) for v in per_customer))
    params = {k: (v[:, first] if np.shape(v)[-1] > 1 else v) for k, v in bg.items()}
    return x[first], T[first], params, inverse


def _discounted_purchases(r, alpha, a, b, x, T, horizon, discount_rate):
    """E[discounted purchases in (T, T+horizon] | x, t_x = T, T]; without discounting the closed
    form of FHL 2005 eq. 10 (bgnbd.expected_purchases), much cheaper than the quadrature."""
    if discount_rate == 0:
        return bgnbd.expected_purchases(r, alpha, a, b, x, T, T, horizon)
    return bgnbd.expected_discounted_purchases(r, alpha, a, b, x, T, T, horizon, discount_rate)


def alive_branch(econ: ResolvedEconomics, bg: dict, x, T,
                 with_alive_time: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """The alive-branch integrals: expected discounted purchases and alive time over the horizon
    for customers alive at T, computed once per distinct (x, T, parameters).

    Returns
    -------
    purchases, alive_time : ndarray, shape (S, n)
        ``alive_time`` is None unless ``with_alive_time``.
    """
    H, d = econ.horizon, econ.discount_rate
    xd, Td, P, inverse = _distinct_histories(np.asarray(x, float), np.asarray(T, float), bg)
    r, alpha, a, b = P["r"], P["alpha"], P["a"], P["b"]
    # E[D | alive at T] = E[D | x, t_x = T, T] / P(alive | x, t_x = T, T): the public formula at
    # recency T, whose P(alive) is bounded away from 0, divided out exactly.
    purchases = (_discounted_purchases(r, alpha, a, b, xd, Td, H, d)
                 / bgnbd.p_alive(r, alpha, a, b, xd, Td, Td))[:, inverse]
    alive_time = None
    if with_alive_time:
        alive_time = discounted_alive_time_if_alive(r, alpha, a, b, xd, Td, H, d)[:, inverse]
    return purchases, alive_time


@dataclass(frozen=True)
class FutureFlows:
    """Expected discounted future quantities of customers, each of shape (S, n).

    Attributes
    ----------
    purchases : ndarray
        Expected discounted number of future purchases over the horizon, ``E[D]``.
    margin : ndarray
        Expected discounted future margin (currency), cost to serve deducted.
    alive_time : ndarray or None
        Expected discounted time alive (time units), when asked for.
    """

    purchases: np.ndarray
    margin: np.ndarray
    alive_time: np.ndarray | None


def future_flows(econ: ResolvedEconomics, bg: dict, gg: dict, x, t_x, T, mbar,
                 with_alive_time: bool, branch=None, alive=None, spend=None) -> FutureFlows:
    """Expected discounted future purchases, margin and (optionally) alive time.

    ``P(alive at T)`` times the alive-branch values of :func:`alive_branch`; arguments as for
    :func:`future_margin`. ``alive`` (P(alive | x, t_x, T)) and ``spend`` (the Gamma-Gamma
    conditional mean spend) may be passed when the caller has them already.
    """
    purchases, alive_time = branch if branch is not None else alive_branch(
        econ, bg, x, T, with_alive_time)
    if alive is None:
        alive = bgnbd.p_alive(bg["r"], bg["alpha"], bg["a"], bg["b"], x, t_x, T)
    if spend is None:
        spend = gammagamma.expected_spend(gg["p"], gg["q"], gg["gamma"], x, mbar)
    purchases = alive * purchases
    margin = purchases * econ.purchase_margin(spend)
    if with_alive_time:
        alive_time = alive * alive_time
        margin = margin - econ.cost_to_serve * alive_time
    return FutureFlows(purchases, margin, alive_time)


def future_margin(econ: ResolvedEconomics, bg: dict, gg: dict, x, t_x, T, mbar,
                  with_alive_time: bool, branch=None) -> tuple[np.ndarray, np.ndarray | None]:
    """Expected discounted future margin over the horizon, and the discounted alive time.

    ``P(alive at T)`` times the alive-branch values of :func:`alive_branch`.

    Parameters
    ----------
    econ : ResolvedEconomics
    bg, gg : dict of str -> ndarray
        BG/NBD (r, alpha, a, b) and Gamma-Gamma (p, q, gamma) parameters, paired draw by draw,
        each of shape (S, 1) or (S, n).
    x, t_x, T, mbar : ndarray, shape (n,)
    with_alive_time : bool
        Compute the discounted alive time (needed for a cost to serve).
    branch : tuple, optional
        The output of :func:`alive_branch` for these customers and parameters, if already known.

    Returns
    -------
    margin : ndarray, shape (S, n)
        Currency, discounted to the observation end.
    alive_time : ndarray, shape (S, n), or None
        Time units, discounted.
    """
    flows = future_flows(econ, bg, gg, x, t_x, T, mbar, with_alive_time, branch)
    return flows.margin, flows.alive_time


def new_customer_value(econ: ResolvedEconomics, bg: dict, gg: dict,
                       horizon: float | np.ndarray | None = None) -> np.ndarray:
    """Expected discounted margin of a customer acquired now, over ``horizon`` (default: econ's).

    The first purchase (at time 0, undiscounted) is worth the margin on the Gamma-Gamma population
    mean spend ``p gamma / (q - 1)``; the repeat purchases and the cost to serve follow as for a
    customer with history x = t_x = T = 0 (FHL 2005 eq. 9 with discounting). This is the most one
    can pay to acquire such a customer and break even in expectation. Under
    ``econ.first_purchase == "excluded"`` (an acquisition cost already net of the first order)
    the first purchase is left out, as it is from margin to date: one accounting.

    Parameters
    ----------
    bg, gg : dict of str -> ndarray
        Parameters of shape (S, 1) or (S, n) (per customer for models pooled by segment).
    horizon : float or ndarray, optional
        A horizon, or horizons of shape (K, 1) with parameters of shape (1, n): the result is then
        (K, n), one row per horizon (used for payback periods).

    Returns
    -------
    ndarray
        Shape of the broadcast parameters (and horizons), e.g. (S, 1) or (S, n).
    """
    horizon = econ.horizon if horizon is None else horizon
    spend = gammagamma.population_mean_spend(gg["p"], gg["q"], gg["gamma"])
    n = max(np.shape(v)[-1] for v in bg.values())
    _, _, P, inverse = _distinct_histories(np.zeros(n), np.zeros(n), bg)
    r, alpha, a, b = P["r"], P["alpha"], P["a"], P["b"]
    per_unit = _discounted_purchases(r, alpha, a, b, 0.0, 0.0, horizon, econ.discount_rate)
    first = 1.0 if econ.first_purchase_included else 0.0
    value = econ.purchase_margin(spend) * (first + per_unit[..., inverse])
    if econ.cost_to_serve > 0:
        value = value - econ.cost_to_serve * discounted_alive_time_if_alive(
            r, alpha, a, b, 0.0, 0.0, horizon, econ.discount_rate)[..., inverse]
    return value
