"""The sBG predictions as quantities and simulators of :mod:`clvmodels.models.scoring`.

A quantity is ``fn(params, data) -> (S, n)`` with ``params`` alpha, beta of shape (S, 1) or
(S, n) and ``data`` the customers' ``renewals`` (renewals made so far) and ``churned`` (1.0 for a
subscriber who has left, 0.0 for one still subscribed at the observation end); a simulator
``sim(rng, params, data) -> (S, n)`` draws what each customer will actually do, one simulation
per parameter draw. A customer who has left has nothing to come: 0 for every quantity.

Timing (Fader & Hardie 2010): a subscriber who has made ``renewals`` renewals is in their period
``renewals + 1``, already paid. Future renewals count from the next one, the k-th discounted by
``(1 + d)^-k`` (:func:`clvmodels.formulas.sbg.expected_renewals`); DERL counts the same payments
valued one period later, just before the next renewal decision (the next payment undiscounted),
as the paper defines it. ``d`` is per period of the model.
"""

from __future__ import annotations

import numpy as np

from clvmodels.formulas import sbg


def _ab(P):
    return P["alpha"], P["beta"]


def _alive(D):
    return D["churned"] < 0.5


def _only_alive(D, values):
    return np.where(_alive(D), values, 0.0)


def still_subscribed(periods: float):
    """P(still subscribed after ``periods`` more renewal decisions | renewals so far)."""

    def fn(P, D):
        return _only_alive(D, sbg.survival_if_alive(*_ab(P), D["renewals"], periods))

    return fn


def _simulated_renewals(rng, P, D, horizon):
    """Future renewals of each customer: theta from its exact posterior given survival to its
    tenure, ``Beta(alpha, beta + renewals)``, then geometric renewals; 0 for a customer who left."""
    theta = sbg.sample_theta(rng, *_ab(P), D["renewals"])
    return np.where(_alive(D), sbg.simulate_renewals(rng, theta, horizon), 0)


def renewals(horizon: float, discount_rate: float):
    """(quantity, simulator) of the (discounted) renewals within ``horizon`` periods."""

    def fn(P, D):
        return _only_alive(D, sbg.expected_renewals(*_ab(P), D["renewals"], horizon, discount_rate))

    def sim(rng, P, D):
        counts = _simulated_renewals(rng, P, D, horizon)
        return sbg.discounted_count(counts, discount_rate) if discount_rate else counts.astype(float)

    return fn, sim


def derl(discount_rate: float):
    """(quantity, simulator) of FH 2010's DERL: discounted future payments, valued at the next
    renewal decision (the next payment, if made, undiscounted)."""

    def fn(P, D):
        return _only_alive(D, sbg.derl(*_ab(P), D["renewals"], discount_rate))

    def sim(rng, P, D):
        counts = _simulated_renewals(rng, P, D, np.inf)
        return (1.0 + discount_rate) * sbg.discounted_count(counts, discount_rate)

    return fn, sim


def new_customer_lifetime(discount_rate: float):
    """(quantity, simulator) of a new customer's DEL: the first payment now, the t-th renewal t
    periods on (FH 2010); the simulator draws theta ~ Beta(alpha, beta) and the renewals."""

    def fn(P, D):
        return np.broadcast_to(sbg.discounted_expected_lifetime(*_ab(P), discount_rate),
                               np.broadcast_shapes(np.shape(P["alpha"]), D["renewals"].shape))

    def sim(rng, P, D):
        theta = sbg.sample_theta(rng, *_ab(P), np.zeros_like(D["renewals"]))
        return 1.0 + sbg.discounted_count(sbg.simulate_renewals(rng, theta, np.inf), discount_rate)

    return fn, sim


def survival_curve(P, D):
    """Population survival ``S(t)`` at ``D["t"]`` (FH 2007 eq. 5)."""
    return sbg.survival(*_ab(P), D["t"])


def retention_curve(P, D):
    """Population retention rate ``r_t`` at ``D["t"]`` (FH 2007 eq. 7), t >= 1."""
    return sbg.retention_rate(*_ab(P), D["t"])
