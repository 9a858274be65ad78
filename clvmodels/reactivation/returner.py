"""What a lapsed customer is worth if they buy in the response window, and if they do not.

Notation (all in the summary's time unit; ``d`` the discount rate per unit, ``D_w = (1+d)^-w``):

* ``FM(x, t_x, T; H)``: expected discounted future margin over (T, T+H] given the history, the
  customer-value step's :func:`clvmodels.value.expected.future_margin`;
* ``B``: the event "at least one purchase in the response window (T, T+w]";
* ``P0 = P(not B | history)`` (:func:`clvmodels.formulas.bgnbd.prob_no_purchase`).

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
branch: with ``q = P(not B | alive at T)`` and ``FMa(x, T; H) = FM / P(alive)`` (both independent
of the recency, evaluated at ``t_x = T`` where P(alive) is bounded away from 0)::

    V_return = (FMa(x, T; H) - q Vnot_alive) / (1 - q),
    Vnot_alive = D_w FMa(x, T+w; H-w) - cost_to_serve * integral_0^w (1+d)^-s ds,
    baseline   = 1 - P0 = P(alive) (1 - q),
    P(alive and no purchase in the window) = P(alive) q.

``Vnot_alive`` is the value of an *alive* customer who buys nothing in the window: a BG/NBD
customer drops out only right after a purchase, so one who buys nothing in the window is alive
throughout it exactly when alive at T (this is the one BG/NBD-specific step: the cost to serve
during the window). The unconditional value of a non-buyer, ``V_not = P(alive | not B)
Vnot_alive``, also averages over customers who are gone; the identity
``(1-P0) V_return + P0 V_not = FM`` holds (tested).

This module is the only place in :mod:`clvmodels.reactivation` that reads a purchase model's
formulas; it asks for P(alive), P(no purchase in a window) and the future margin only.
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


def _bg(bg: dict) -> tuple:
    return bg["r"], bg["alpha"], bg["a"], bg["b"]


def _alive_margin(econ, bg, gg, x, T, mbar, alive=None, spend=None) -> np.ndarray:
    """FMa(x, T; horizon of econ): expected discounted future margin given alive at T, (S, n).

    ``alive`` is P(alive | x, t_x = T, T) and ``spend`` the conditional mean spend, if the
    caller has them (the same numbers either way)."""
    from clvmodels.formulas import bgnbd
    from clvmodels.value.expected import future_flows

    if alive is None:
        alive = bgnbd.p_alive(*_bg(bg), x, T, T)
    flows = future_flows(econ, bg, gg, x, T, T, mbar, with_alive_time=econ.cost_to_serve > 0,
                         alive=alive, spend=spend)
    return flows.margin / alive


def window_discount(econ: ResolvedEconomics, window: float) -> tuple[float, float]:
    """``D_w = (1+d)^-w`` and the discounted length of the window ``integral_0^w (1+d)^-s ds``."""
    d = econ.discount_rate
    factor = (1.0 + d) ** -window
    length = window if d == 0 else -np.expm1(-np.log1p(d) * window) / np.log1p(d)
    return float(factor), float(length)


def winback_values(econ: ResolvedEconomics, bg: dict, gg: dict, x, t_x, T, mbar,
                   window: float) -> WinbackValues:
    """Value of a returner and of an alive non-buyer, baseline response and P(alive), per draw.

    Parameters
    ----------
    econ : ResolvedEconomics
        Margin, horizon H (> window) and discount rate, in the summary's time unit.
    bg, gg : dict of str -> ndarray
        Purchase and spend model parameters, paired draw by draw, shape (S, 1) or (S, n).
    x, t_x, T, mbar : ndarray, shape (n,)
        Repeat purchases, recency, age (time units) and mean repeat spend (0 for x = 0).
    window : float
        Length w of the response window in time units, starting at T.

    Returns
    -------
    WinbackValues
        Money in the currency of the log, discounted to T; probabilities in [0, 1].
    """
    from clvmodels.formulas import bgnbd, gammagamma

    x, t_x, T, mbar = (np.asarray(v, float) for v in (x, t_x, T, mbar))
    rest = dataclasses.replace(econ, horizon=econ.horizon - window)
    factor, length = window_discount(econ, window)
    # P(alive | x, T, T) and the mean spend enter several terms: computed once
    p_alive_T = bgnbd.p_alive(*_bg(bg), x, T, T)
    spend = gammagamma.expected_spend(gg["p"], gg["q"], gg["gamma"], x, mbar)
    now = _alive_margin(econ, bg, gg, x, T, mbar, alive=p_alive_T, spend=spend)
    later = _alive_margin(rest, bg, gg, x, T + window, mbar, spend=spend)
    not_alive = factor * later - econ.cost_to_serve * length
    # q = P(no purchase in the window | alive at T), from the model's P(no purchase) at t_x = T,
    # where P(alive) is bounded away from 0 ((b+x-1)/(a+b+x-1) for BG/NBD), so the division is exact
    q = (bgnbd.prob_no_purchase(*_bg(bg), x, T, T, window) - (1.0 - p_alive_T)) / p_alive_T
    q = np.clip(q, 0.0, 1.0)
    buys = 1.0 - q
    with np.errstate(divide="ignore", invalid="ignore"):
        returned = np.where(buys > 0, (now - q * not_alive) / buys, np.nan)
    alive = bgnbd.p_alive(*_bg(bg), x, t_x, T)
    return WinbackValues(returned, np.broadcast_to(not_alive, returned.shape), alive * buys, alive * q,
                         np.broadcast_to(alive, returned.shape), alive * now)


def check_models(purchase_model, spend_model, time_unit: str) -> None:
    """Refuse models this module cannot value with (parameters its formulas do not take), or
    models fitted in another time unit than the summary."""
    from clvmodels.errors import DataError
    from clvmodels.formulas import bgnbd, gammagamma

    for model, names, what in ((purchase_model, bgnbd.PARAM_NAMES, "purchase_model"),
                               (spend_model, gammagamma.PARAM_NAMES, "spend_model")):
        if tuple(getattr(model, "param_names", ())) != tuple(names):
            raise DataError(f"{what} must be a fitted model with parameters {list(names)}; "
                            f"got {type(model).__name__}")
        unit = getattr(model, "time_unit_", None)
        if unit and unit != time_unit:
            raise DataError(f"{what} was fitted in time unit {unit!r} but the summary is in {time_unit!r}; "
                            f"rebuild the summary with time_unit={unit!r}")
