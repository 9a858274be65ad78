"""Predictive draws of customer value: what each customer will actually bring.

For parameter draw s and customer i, the customer's own traits are drawn from their exact
posterior (:func:`clvmodels.formulas.individual.sample_bgnbd_latents`, ``sample_gg_nu``), then
one future is simulated over the horizon with purchase times, spends and dropout
(:func:`clvmodels.formulas.individual.simulate_discounted_purchases`). Its margin is::

    margin_rate * sum_k z_k (1+d)^-s_k - cost_per_transaction * sum_k (1+d)^-s_k
        - cost_to_serve * integral over the time alive of (1+d)^-s ds

Future referrals are simulated while the customer is alive in that same future: a referral rate
from the customer's Gamma posterior, a Poisson number of referrals over the time alive at
uniform times, each worth the expected value of a new customer (for that parameter draw)
discounted to now. The referred customers' own futures are not simulated: their value enters at
its expectation, so the predictive interval of referral value reflects how many referrals the
customer makes and when, not how much each referred customer turns out to spend.
"""

from __future__ import annotations

import numpy as np

from clvmodels.formulas import individual
from clvmodels.value.economics import ResolvedEconomics
from clvmodels.value.referrals import ReferralRates


def simulate_future_margin(rng: np.random.Generator, econ: ResolvedEconomics, bg: dict, gg: dict,
                           x, t_x, T, mbar) -> tuple[np.ndarray, np.ndarray]:
    """One simulated future per parameter draw and customer.

    Parameters
    ----------
    rng : numpy.random.Generator
    econ : ResolvedEconomics
    bg, gg : dict of str -> ndarray
        BG/NBD and Gamma-Gamma parameters, shape (S, 1) or (S, n), paired by draw.
    x, t_x, T, mbar : ndarray, shape (n,)

    Returns
    -------
    margin : ndarray, shape (S, n)
        Discounted future margin of each simulated future.
    alive_time : ndarray, shape (S, n)
        Time alive within the horizon in that future (undiscounted).
    """
    alive, lam, p = individual.sample_bgnbd_latents(rng, bg["r"], bg["alpha"], bg["a"], bg["b"],
                                                    x, t_x, T)
    nu = individual.sample_gg_nu(rng, gg["p"], gg["q"], gg["gamma"], x, mbar)
    future = individual.simulate_discounted_purchases(
        rng, alive, lam, p, econ.horizon, econ.discount_rate, spend_shape=gg["p"], nu=nu)
    margin = (econ.margin * future.discounted_spend
              - econ.cost_per_transaction * future.discounted_count
              - econ.cost_to_serve * future.discounted_alive_time)
    return margin, future.alive_time


def simulate_discounted_referrals(rng: np.random.Generator, rate: np.ndarray,
                                  alive_time: np.ndarray, discount_rate: float) -> np.ndarray:
    """Discounted number of referrals made while alive: a Poisson process with rate ``rate`` over
    ``[0, alive_time]``, each referral at time u counting ``(1 + discount_rate) ** -u``.

    Parameters
    ----------
    rate, alive_time : ndarray, shape (S, n)

    Returns
    -------
    ndarray, shape (S, n)
    """
    counts = rng.poisson(rate * alive_time)
    flat_counts = counts.ravel()
    owner = np.repeat(np.arange(flat_counts.size), flat_counts)
    times = rng.random(owner.size) * alive_time.ravel()[owner]  # given the count, uniform times
    weights = (1.0 + discount_rate) ** -times
    return np.bincount(owner, weights, minlength=flat_counts.size).reshape(counts.shape)


def simulate_chunk(rng: np.random.Generator, econ: ResolvedEconomics, bg: dict, gg: dict,
                   x, t_x, T, mbar, *, rates: ReferralRates | None, referral_counts,
                   vnew) -> tuple[np.ndarray, np.ndarray | float]:
    """Predictive draws of future margin and future referral value for a chunk, each (S, n).

    ``rates`` None means no future referrals (0.0 is returned for them); ``referral_counts`` are
    the referrals each customer made so far (their exposure is T); ``vnew`` is the expected value
    of a new customer per draw, shape (S, 1) or (S, n).
    """
    margin, alive_time = simulate_future_margin(rng, econ, bg, gg, x, t_x, T, mbar)
    if rates is None:
        return margin, 0.0
    n_draws = margin.shape[0]
    rate = rates.sample(rng, referral_counts, T, n_draws)
    referrals = simulate_discounted_referrals(rng, rate, alive_time, econ.discount_rate)
    return margin, referrals * vnew
