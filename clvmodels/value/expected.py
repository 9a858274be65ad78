"""Expected discounted value of customers for given parameters (one draw or many at once).

Written once against the purchase-model contract (:class:`~clvmodels.families.PurchaseFamily`):
every function takes the purchase model's ``family`` and its parameter dict and never asks which
family it holds. Arguments broadcast like the formulas: parameter arrays of shape (S, 1) or (S, n)
with customer arrays of shape (n,) give (S, n). Nothing here validates input (see
:mod:`economics`).

Expected future margin of a customer with history h over the horizon H, with the discount factor
``(1 + d) ** -s`` for a cash flow s time units after the observation end::

    margin_rate * E[D] * E[spend] - cost_per_transaction * E[D] - cost_to_serve * E[A]

Every latent-attrition model factorises ``E[D] = P(alive | h) x E[D | alive, key]`` (the
family's ``p_alive`` and ``expected_discounted_purchases_if_alive``; the key is a short part of
the history, e.g. (frequency, T)), and the same for the discounted time alive ``A``,
``integral_0^H 1{alive at T+s} (1+d)^-s ds``, on which the cost to serve is charged (for a
discrete-opportunity family, ``discrete_time``, purchases fall on whole opportunities, discounted
per opportunity, and A counts the coming opportunities alive). ``E[spend]`` is the Gamma-Gamma
conditional mean spend per purchase (the population mean for x = 0); the product of expectations
is exact because the Gamma-Gamma model takes spend independent of the purchase process.

The array-level functions take the history positionally in the family's ``history_columns``
order (``x, t_x, T`` below: frequency, recency and age, or the number of opportunities for a
discrete-time family) and the family as ``family=``; without it they read the parameters as the
default family's (:data:`clvmodels.value.roles.DEFAULT_FAMILY_NAME`, for callers that predate the
contract).

Assumptions: the purchase model is non-contractual (dropout is latent, never observed;
subscriptions need a contractual model). Spend is independent of frequency (Gamma-Gamma; check
with :func:`clvmodels.value.spend_frequency_check`). Discounting is continuous in time at
``ln(1 + d)`` per time unit for continuous-time families.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from clvmodels.formulas import gammagamma
from clvmodels.value.economics import ResolvedEconomics
from clvmodels.value.roles import family_or_default


def _split_positional(family, args):
    """Parameters (the family's ``param_names``, positionally first) as a dict, and the rest."""
    k = len(family.param_names)
    return dict(zip(family.param_names, args[:k])), args[k:]


def discounted_alive_time_if_alive(*params_key_horizon_rate, family=None):
    """Expected discounted time alive in (T, T + horizon] for a customer alive at T: the family's
    ``discounted_alive_time_if_alive`` with the parameters given positionally
    (``(*params, *key, horizon, discount_rate)``, e.g. ``r, alpha, a, b, x, T, H, d``)."""
    family = family_or_default(family)
    params, rest = _split_positional(family, params_key_horizon_rate)
    return family.discounted_alive_time_if_alive(params, *rest)


def discounted_alive_time(*params_history_horizon_rate, family=None):
    """Expected discounted time alive in (T, T + horizon] given the history:
    ``E[A] = int_0^H P(alive at T+s) (1+d)^-s ds``, i.e. P(alive at T) times
    :func:`discounted_alive_time_if_alive`. Arguments ``(*params, *history, horizon,
    discount_rate)``, e.g. ``r, alpha, a, b, x, t_x, T, H, d``; shapes broadcast.
    """
    family = family_or_default(family)
    params, rest = _split_positional(family, params_history_horizon_rate)
    *history, horizon, rate = rest
    return family.p_alive(params, *history) * family.discounted_alive_time_if_alive(
        params, *family.key_of(*history), horizon, rate)


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


def _distinct_keys(key: tuple, params: dict):
    """Distinct (key, parameters) rows among the customers: the alive-branch integrals depend on
    nothing else, and identical rows are common (same ages, same frequencies, same segment).

    Returns the distinct key arrays (each shape (m,)), the parameters at the distinct rows and,
    per customer, the index of its distinct row.
    """
    shape = np.shape(key[0])
    per_customer = [v for v in params.values() if np.shape(v)[-1] > 1]
    first, inverse = distinct_rows(*key, *(np.broadcast_to(v[0], shape) for v in per_customer))
    picked = {k: (v[:, first] if np.shape(v)[-1] > 1 else v) for k, v in params.items()}
    return tuple(k[first] for k in key), picked, inverse


def discounted_purchases_if_alive(family, params: dict, key: tuple, horizon, discount_rate):
    """E[discounted purchases in (T, T+horizon] | alive at T, key]; without discounting the
    family's undiscounted closed form (``expected_purchases_if_alive``), much cheaper than the
    quadrature the discounted one may need."""
    if np.all(np.asarray(discount_rate) == 0):
        return family.expected_purchases_if_alive(params, *key, horizon)
    return family.expected_discounted_purchases_if_alive(params, *key, horizon, discount_rate)


def family_alive_branch(econ: ResolvedEconomics, family, params: dict, key: tuple,
                        with_alive_time: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """The alive-branch integrals: expected discounted purchases and alive time over the horizon
    for customers alive at T, computed once per distinct (key, parameters).

    Parameters
    ----------
    econ : ResolvedEconomics
    family : PurchaseFamily
    params : dict of str -> ndarray
        The family's parameters, each (S, 1) or (S, n).
    key : tuple of ndarray, each shape (n,)
        The customers' alive keys (``family.alive_key`` order).
    with_alive_time : bool

    Returns
    -------
    purchases, alive_time : ndarray, shape (S, n)
        ``alive_time`` is None unless ``with_alive_time``.
    """
    H, d = econ.horizon, econ.discount_rate
    keyd, P, inverse = _distinct_keys(tuple(np.asarray(k, float) for k in key), params)
    purchases = discounted_purchases_if_alive(family, P, keyd, H, d)[:, inverse]
    alive_time = None
    if with_alive_time:
        alive_time = family.discounted_alive_time_if_alive(P, *keyd, H, d)[:, inverse]
    return purchases, alive_time


def alive_branch(econ: ResolvedEconomics, bg: dict, x, T, with_alive_time: bool, *,
                 family=None) -> tuple[np.ndarray, np.ndarray | None]:
    """:func:`family_alive_branch` with the key arrays positionally (``x, T``: the family's
    ``alive_key`` order)."""
    return family_alive_branch(econ, family_or_default(family), bg, (x, T), with_alive_time)


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


def family_flows(econ: ResolvedEconomics, family, params: dict, gg: dict, history: tuple, mbar,
                 with_alive_time: bool, branch=None, alive=None, spend=None) -> FutureFlows:
    """Expected discounted future purchases, margin and (optionally) alive time.

    ``P(alive at T)`` times the alive-branch values of :func:`family_alive_branch`.

    Parameters
    ----------
    econ : ResolvedEconomics
    family : PurchaseFamily
    params, gg : dict of str -> ndarray
        The purchase family's and the Gamma-Gamma (p, q, gamma) parameters, paired draw by
        draw, each of shape (S, 1) or (S, n).
    history : tuple of ndarray, each shape (n,)
        The family's ``history_columns``, in order; the first is the frequency (repeat
        purchases), which the spend posterior reads too.
    mbar : ndarray, shape (n,)
        Mean repeat spend (0 for x = 0).
    with_alive_time : bool
        Compute the discounted alive time (needed for a cost to serve).
    branch : tuple, optional
        The output of :func:`family_alive_branch` for these customers and parameters.
    alive, spend : ndarray, optional
        P(alive | history) and the Gamma-Gamma conditional mean spend, if the caller has them.

    Returns
    -------
    FutureFlows
    """
    if branch is None:
        branch = family_alive_branch(econ, family, params, family.key_of(*history), with_alive_time)
    purchases, alive_time = branch
    if alive is None:
        alive = family.p_alive(params, *history)
    if spend is None:
        spend = gammagamma.expected_spend(gg["p"], gg["q"], gg["gamma"], history[0], mbar)
    purchases = alive * purchases
    margin = purchases * econ.purchase_margin(spend)
    if with_alive_time:
        alive_time = alive * alive_time
        margin = margin - econ.cost_to_serve * alive_time
    return FutureFlows(purchases, margin, alive_time)


def future_flows(econ: ResolvedEconomics, bg: dict, gg: dict, x, t_x, T, mbar,
                 with_alive_time: bool, branch=None, alive=None, spend=None, *,
                 family=None) -> FutureFlows:
    """:func:`family_flows` with the history positionally (``x, t_x, T``: the family's
    ``history_columns`` order)."""
    return family_flows(econ, family_or_default(family), bg, gg, (x, t_x, T), mbar,
                        with_alive_time, branch, alive, spend)


def future_margin(econ: ResolvedEconomics, bg: dict, gg: dict, x, t_x, T, mbar,
                  with_alive_time: bool, branch=None, *,
                  family=None) -> tuple[np.ndarray, np.ndarray | None]:
    """Expected discounted future margin over the horizon, and the discounted alive time.

    ``P(alive at T)`` times the alive-branch values of :func:`family_alive_branch`.

    Parameters
    ----------
    econ : ResolvedEconomics
    bg, gg : dict of str -> ndarray
        Purchase-family and Gamma-Gamma (p, q, gamma) parameters, paired draw by draw, each of
        shape (S, 1) or (S, n).
    x, t_x, T, mbar : ndarray, shape (n,)
        The family's history columns in order, and the mean repeat spend.
    with_alive_time : bool
        Compute the discounted alive time (needed for a cost to serve).
    branch : tuple, optional
        The output of :func:`alive_branch` for these customers and parameters, if already known.
    family : PurchaseFamily, optional
        The purchase family (default :data:`clvmodels.value.roles.DEFAULT_FAMILY_NAME`'s).

    Returns
    -------
    margin : ndarray, shape (S, n)
        Currency, discounted to the observation end.
    alive_time : ndarray, shape (S, n), or None
        Time units, discounted.
    """
    flows = future_flows(econ, bg, gg, x, t_x, T, mbar, with_alive_time, branch, family=family)
    return flows.margin, flows.alive_time


def new_customer_value(econ: ResolvedEconomics, bg: dict, gg: dict,
                       horizon: float | np.ndarray | None = None, *, family=None) -> np.ndarray:
    """Expected discounted margin of a customer acquired now, over ``horizon`` (default: econ's).

    The first purchase (at time 0, undiscounted) is worth the margin on the Gamma-Gamma population
    mean spend ``p gamma / (q - 1)``; the repeat purchases and the cost to serve follow from the
    family's alive branch at the key of zeros (a new customer has no repeat purchase and no age,
    and is alive: e.g. FHL 2005 eq. 9 with discounting for BG/NBD). This is the most one can pay
    to acquire such a customer and break even in expectation. Under
    ``econ.first_purchase == "excluded"`` (an acquisition cost already net of the first order)
    the first purchase is left out, as it is from margin to date: one accounting.

    Parameters
    ----------
    bg, gg : dict of str -> ndarray
        Purchase-family and Gamma-Gamma parameters of shape (S, 1) or (S, n) (per customer for
        models pooled by segment).
    horizon : float or ndarray, optional
        A horizon, or horizons of shape (K, 1) with parameters of shape (1, n): the result is then
        (K, n), one row per horizon (used for payback periods).
    family : PurchaseFamily, optional
        The purchase family (default :data:`clvmodels.value.roles.DEFAULT_FAMILY_NAME`'s).

    Returns
    -------
    ndarray
        Shape of the broadcast parameters (and horizons), e.g. (S, 1) or (S, n).
    """
    family = family_or_default(family)
    horizon = econ.horizon if horizon is None else horizon
    spend = gammagamma.population_mean_spend(gg["p"], gg["q"], gg["gamma"])
    n = max(np.shape(v)[-1] for v in bg.values())
    _, P, inverse = _distinct_keys(tuple(np.zeros(n) for _ in family.alive_key), bg)
    zeros = tuple(0.0 for _ in family.alive_key)
    per_unit = discounted_purchases_if_alive(family, P, zeros, horizon, econ.discount_rate)
    first = 1.0 if econ.first_purchase_included else 0.0
    value = econ.purchase_margin(spend) * (first + per_unit[..., inverse])
    if econ.cost_to_serve > 0:
        value = value - econ.cost_to_serve * family.discounted_alive_time_if_alive(
            P, *zeros, horizon, econ.discount_rate)[..., inverse]
    return value
