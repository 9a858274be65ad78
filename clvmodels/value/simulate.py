"""Predictive draws of customer value: what each customer will actually bring.

For parameter draw s and customer i, the customer's own traits are drawn from their exact
posterior and one future is simulated over the horizon with purchase times, spends and dropout
(the purchase family's ``simulate_future``, e.g. for BG/NBD the sparse
:func:`clvmodels.formulas.future_simulation.simulate_bgnbd_futures`; the spend rate from its
Gamma-Gamma posterior, ``sample_gg_nu``'s). Its margin is::

    margin_rate * sum_k z_k (1+d)^-s_k - cost_per_transaction * sum_k (1+d)^-s_k
        - cost_to_serve * integral over the time alive of (1+d)^-s ds

Future referrals are simulated at the purchases of that same future (referrals per purchase
occasion, see :mod:`clvmodels.value.referrals`): a rate per purchase from the customer's Gamma
posterior, a Poisson(rate x purchases) number of referrals, each worth the expected value of a
new customer (for that parameter draw) discounted at the mean discount factor of the simulated
purchases (``discounted_count / count``; exact in expectation, it slightly understates the spread
of discount factors between purchases). The referred customers' own futures are not simulated:
their value enters at its expectation, so the predictive interval of future referral value
reflects how many referrals the customer makes and when, not how much each referred customer
turns out to spend.
"""

from __future__ import annotations

import numpy as np

from clvmodels.formulas import future_simulation
from clvmodels.value.economics import ResolvedEconomics
from clvmodels.value.referrals import ReferralRates, purchase_occasions
from clvmodels.value.roles import family_or_default


def simulate_future_margin(rng: np.random.Generator, econ: ResolvedEconomics, bg: dict, gg: dict,
                           x, t_x, T, mbar, *, family=None) -> tuple[np.ndarray, np.ndarray]:
    """One simulated future per parameter draw and customer.

    Parameters
    ----------
    rng : numpy.random.Generator
    econ : ResolvedEconomics
    bg, gg : dict of str -> ndarray
        Purchase-family and Gamma-Gamma parameters, shape (S, 1) or (S, n), paired by draw.
    x, t_x, T, mbar : ndarray, shape (n,)
        The family's history columns in order (frequency first), and the mean repeat spend.
    family : PurchaseFamily, optional
        The purchase family (default :data:`clvmodels.value.roles.DEFAULT_FAMILY_NAME`'s).

    Returns
    -------
    margin : ndarray, shape (S, n)
        Discounted future margin of each simulated future.
    future : FuturePurchases
        The simulated futures (purchase counts, discounted counts, time alive), each (S, n).
    """
    family = family_or_default(family)
    x, mbar = np.asarray(x, float), np.asarray(mbar, float)
    # spend rate nu ~ Gamma(p x + q, rate gamma + x mbar), the Gamma-Gamma posterior
    future = family.simulate_future(
        rng, bg, x, t_x, T, econ.horizon, econ.discount_rate,
        spend_shape=gg["p"], nu_shape=gg["p"] * x + gg["q"], nu_rate=gg["gamma"] + x * mbar)
    margin = (econ.margin * future.discounted_spend
              - econ.cost_per_transaction * future.discounted_count
              - econ.cost_to_serve * future.discounted_alive_time)
    return margin, future


def simulate_discounted_referrals(rng: np.random.Generator, rate: np.ndarray,
                                  future: future_simulation.FuturePurchases) -> np.ndarray:
    """Discounted number of referrals made at the simulated future purchases.

    ``Poisson(rate x count)`` referrals, each discounted by the mean discount factor of the
    customer's simulated purchases.

    Parameters
    ----------
    rate : ndarray, shape (S, n)
        Referrals per purchase occasion.
    future : FuturePurchases
        Simulated futures of shape (S, n).

    Returns
    -------
    ndarray, shape (S, n)
    """
    count = future.count
    referrals = rng.poisson(rate * count)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_discount = np.where(count > 0, future.discounted_count / count, 0.0)
    return referrals * mean_discount


def simulate_chunk(rng: np.random.Generator, econ: ResolvedEconomics, bg: dict, gg: dict,
                   x, t_x, T, mbar, *, rates: ReferralRates | None, referral_counts,
                   vnew, family=None) -> tuple[np.ndarray, np.ndarray | float]:
    """Predictive draws of future margin and future referral value for a chunk, each (S, n).

    ``rates`` None means no future referrals (0.0 is returned for them); ``referral_counts`` are
    the referrals each customer made so far (their exposure is their purchases so far, x + 1);
    ``vnew`` is the expected value of a new customer per draw, shape (S, 1) or (S, n); ``family``
    the purchase family (as :func:`simulate_future_margin`).
    """
    margin, future = simulate_future_margin(rng, econ, bg, gg, x, t_x, T, mbar, family=family)
    if rates is None:
        return margin, 0.0
    n_draws = margin.shape[0]
    rate = rates.sample(rng, referral_counts, purchase_occasions(x), n_draws)
    referrals = simulate_discounted_referrals(rng, rate, future)
    return margin, referrals * vnew
