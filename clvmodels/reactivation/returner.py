"""What a lapsed customer is worth if they buy in the response window, and if they do not.

Notation (all in the summary's time unit; ``d`` the discount rate per unit, ``D_w = (1+d)^-w``):

* ``FM(x, t_x, T; H)``: expected discounted future margin over (T, T+H] given the history, the
  customer-value step's :func:`clvmodels.value.expected.future_margin`;
* ``B``: the event "at least one purchase in the response window (T, T+w]";
* ``P0 = P(not B | history)`` (the purchase family's ``prob_no_purchase``).

A customer who buys nothing in the window has the same history observed up to T+w, so
``E[margin | not B] = D_w FM(x, t_x, T+w; H-w)`` (minus the cost to serve during the window), and
since ``FM = (1-P0) E[margin | B] + P0 E[margin | not B]``, the value of a *returner* is::

    V_return = (FM(x, t_x, T; H) - P0 E[margin | not B]) / (1 - P0).

It is the window's purchases' margin plus everything after, with those purchases in the history
and the latent posteriors updated by them: the conditioning on B does exactly that, in
expectation (spend enters through its posterior mean, which the window's purchases leave
unchanged in expectation, because spend is independent of the purchase process).

Stability. Where P(alive) is tiny both the numerator and ``1 - P0`` are tiny. Every latent-
attrition model factorises as P(alive) x (alive branch), so everything is computed on the alive
branch of the purchase family (:class:`~clvmodels.families.PurchaseFamily`): with
``q = P(not B | alive at T)`` and ``FMa(key; H)`` the alive-branch margin (both independent of the
recency; q from ``prob_no_purchase`` at the family's ``alive_history``, recency = age, where
P(alive) is bounded away from 0)::

    V_return   = (FMa(key; H) - q Vnot_alive) / (1 - q),
    Vnot_alive = D_w P(alive at T+w | alive at T, not B) FMa(key after w silent; H-w)
                 - cost_to_serve * E[int_0^w 1{alive at T+s} (1+d)^-s ds | alive at T, not B],
    baseline   = 1 - P0 = P(alive) (1 - q),
    P(alive and no purchase in the window) = P(alive) q.

``Vnot_alive`` is the value of an *alive* customer who buys nothing in the window. Under BG/NBD
and MBG/NBD, whose customers drop out only right after a purchase, such a customer is alive
throughout the window (the survival factor is 1 and the alive time in the window is its length);
under Pareto/NBD they may die silently. Both factors come from the contract:
``P(alive at T+s, not B in (T, T+s] | alive at T) = P0_ref(s) P(alive | aged ref history) /
P(alive | ref history)`` (``prob_no_purchase`` and ``p_alive`` at the alive history and at it aged
by s), and the alive time in the window integrates it (Gauss-Legendre, 8 nodes; a sum over the
window's opportunities for a discrete-time family). The unconditional value of a non-buyer,
``V_not = P(alive | not B) Vnot_alive``, also averages over customers who are gone; the identity
``(1-P0) V_return + P0 V_not = FM`` holds (tested).

This module is the only place in :mod:`clvmodels.reactivation` that reads a purchase model's
formulas, through its family: P(alive), P(no purchase in a window) and the alive-branch margin.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import numpy as np

from clvmodels.value.economics import ResolvedEconomics


class WinbackValues(NamedTuple):
    """Per draw and customer, each of shape (S, n)."""

    value_if_returned: np.ndarray
    """V_return: expected discounted margin over the horizon given a purchase in the window."""
    value_if_not_alive: np.ndarray
    """Vnot_alive: the same for a customer alive at T who buys nothing in the window."""
    baseline: np.ndarray
    """1 - P0: P(purchase in the window | history, no contact)."""
    alive_non_buyer: np.ndarray
    """P(alive at T and no purchase in the window): whom a contact can still turn into a buyer."""
    p_alive: np.ndarray
    """P(alive at T | history)."""
    future_margin: np.ndarray
    """FM(x, t_x, T; H), the baseline expected discounted future margin."""


def _alive_margin(econ, family, params, gg, key, mbar, spend) -> np.ndarray:
    """FMa(key; horizon of econ): expected discounted future margin given alive at T, (S, n)."""
    from clvmodels.value.expected import family_alive_branch

    with_alive_time = econ.cost_to_serve > 0
    purchases, alive_time = family_alive_branch(econ, family, params, key, with_alive_time)
    margin = purchases * econ.purchase_margin(spend)
    return margin - econ.cost_to_serve * alive_time if with_alive_time else margin


def _no_purchase_if_alive(family, params, key, window):
    """q = P(no purchase in (T, T+window] | alive at T, key) and P(alive | the alive history)."""
    ref = family.alive_history(*key)
    alive = family.p_alive(params, *ref)
    q = (family.prob_no_purchase(params, *ref, window) - (1.0 - alive)) / alive
    return np.clip(q, 0.0, 1.0), alive


def _alive_and_silent(family, params, key, s):
    """P(alive at T+s and no purchase in (T, T+s] | alive at T, key): P0 times P(alive | no
    purchase) at the alive history, over P(alive) there (alive at T+s implies alive at T)."""
    ref = family.alive_history(*key)
    return (family.prob_no_purchase(params, *ref, s) * family.p_alive(params, *family.aged(*ref, s))
            / family.p_alive(params, *ref))


def _silent_key(family, key, s):
    """The alive key after s time units without a purchase."""
    return family.key_of(*family.aged(*family.alive_history(*key), s))


def _window_alive_time(econ, family, params, key, window, q):
    """E[discounted time alive in the window | alive at T, no purchase in it]:
    ``int_0^w (1+d)^-s P(alive at T+s, not B | alive at T) ds / q``, the joint probability being
    P(alive at T+s, silent until T+s) x P(silent after T+s | alive at T+s)."""
    d = econ.discount_rate
    if family.discrete_time:  # the window's opportunities k = 1..w, each one period long
        nodes = np.arange(1.0, np.floor(window) + 1.0)
        weights = (1.0 + d) ** -nodes
    else:
        u, w = np.polynomial.legendre.leggauss(8)
        nodes, weights = window * (u + 1.0) / 2.0, window / 2.0 * w * (1.0 + d) ** -(window * (u + 1.0) / 2.0)
    total = 0.0
    for s, weight in zip(nodes, weights):
        later, _ = _no_purchase_if_alive(family, params, _silent_key(family, key, s), window - s)
        total = total + weight * _alive_and_silent(family, params, key, s) * later
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(q > 0, total / q, 0.0)


def window_discount(econ: ResolvedEconomics, window: float) -> tuple[float, float]:
    """``D_w = (1+d)^-w`` and the discounted length of the window ``integral_0^w (1+d)^-s ds``."""
    d = econ.discount_rate
    factor = (1.0 + d) ** -window
    length = window if d == 0 else -np.expm1(-np.log1p(d) * window) / np.log1p(d)
    return float(factor), float(length)


def winback_values(econ: ResolvedEconomics, bg: dict, gg: dict, x, t_x, T, mbar,
                   window: float, *, family=None) -> WinbackValues:
    """Value of a returner and of an alive non-buyer, baseline response and P(alive), per draw.

    Parameters
    ----------
    econ : ResolvedEconomics
        Margin, horizon H (> window) and discount rate, in the summary's time unit.
    bg, gg : dict of str -> ndarray
        Purchase-family and Gamma-Gamma parameters, paired draw by draw, shape (S, 1) or (S, n).
    x, t_x, T, mbar : ndarray, shape (n,)
        The family's history columns in order (repeat purchases, recency, age in time units or
        opportunities) and the mean repeat spend (0 for x = 0).
    window : float
        Length w of the response window in time units, starting at T.
    family : PurchaseFamily, optional
        The purchase family (default :data:`clvmodels.value.roles.DEFAULT_FAMILY_NAME`'s).

    Returns
    -------
    WinbackValues
        Money in the currency of the log, discounted to T; probabilities in [0, 1].
    """
    from clvmodels.formulas import gammagamma
    from clvmodels.value.roles import family_or_default

    family = family_or_default(family)
    history = tuple(np.asarray(v, float) for v in (x, t_x, T))
    mbar = np.asarray(mbar, float)
    key = family.key_of(*history)
    rest = dataclasses.replace(econ, horizon=econ.horizon - window)
    factor, _ = window_discount(econ, window)
    spend = gammagamma.expected_spend(gg["p"], gg["q"], gg["gamma"], history[0], mbar)
    now = _alive_margin(econ, family, bg, gg, key, mbar, spend)
    later = _alive_margin(rest, family, bg, gg, _silent_key(family, key, window), mbar, spend)
    q, _ = _no_purchase_if_alive(family, bg, key, window)
    with np.errstate(divide="ignore", invalid="ignore"):
        # P(alive at T+w | alive at T, no purchase in the window): 1 where dropout needs a purchase
        survives = np.where(q > 0, np.clip(_alive_and_silent(family, bg, key, window) / q, 0.0, 1.0), 1.0)
    not_alive = factor * survives * later
    if econ.cost_to_serve > 0:
        not_alive = not_alive - econ.cost_to_serve * _window_alive_time(econ, family, bg, key, window, q)
    buys = 1.0 - q
    with np.errstate(divide="ignore", invalid="ignore"):
        returned = np.where(buys > 0, (now - q * not_alive) / buys, np.nan)
    alive = family.p_alive(bg, *history)
    return WinbackValues(returned, np.broadcast_to(not_alive, returned.shape), alive * buys, alive * q,
                         np.broadcast_to(alive, returned.shape), alive * now)


def check_models(purchase_model, spend_model, time_unit: str) -> None:
    """Refuse models in the wrong role (a purchase model whose ``family`` is a PurchaseFamily,
    then a Gamma-Gamma spend model), or models fitted in another time unit than the summary."""
    from clvmodels.errors import DataError
    from clvmodels.value.roles import check_spend_model, purchase_family

    purchase_family(purchase_model)
    check_spend_model(spend_model)
    for model, what in ((purchase_model, "purchase_model"), (spend_model, "spend_model")):
        unit = getattr(model, "time_unit_", None)
        if unit and unit != time_unit:
            raise DataError(f"{what} was fitted in time unit {unit!r} but the summary is in {time_unit!r}; "
                            f"rebuild the summary with time_unit={unit!r}")
