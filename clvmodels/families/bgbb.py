"""BG/BB (Fader, Hardie & Shang 2010) as a :class:`~clvmodels.families.contract.PurchaseFamily`.

A thin adapter over :mod:`clvmodels.formulas.bgbb`. The history is the discrete-opportunity
summary of :func:`clvmodels.data.opportunities.opportunity_summary`: ``frequency`` (repeat
opportunities with a transaction, x), ``recency`` (the last such opportunity, t_x) and
``n_periods`` (opportunities observed after the first transaction, n); the alive key is
``(frequency, n_periods)``.

How the continuous-time contract is read in discrete time:

* the summary's time unit *is* the opportunity (e.g. "Y" for a yearly drive), so horizons ``t``
  count future opportunities; a fractional horizon counts only the whole opportunities in it
  (survival and expectations are step functions of t);
* "alive at T" is alive through the n observed opportunities; ``p_alive_at(..., 1)`` is FHS
  2010's P(alive in period n + 1);
* discounting is per opportunity: a transaction k opportunities ahead is worth ``(1 + d)^-k``;
* the discounted alive time is ``sum_{k=1}^{H} P(alive at n + k | alive at n) (1 + d)^-k``:
  the coming opportunities the customer is alive for (each one period long), the basis on which
  a cost to serve per period is charged; the current opportunity is not part of it.
"""

from __future__ import annotations

import numpy as np

from clvmodels.families.contract import PurchaseFamily, on_params
from clvmodels.families.mixing import beta_probability
from clvmodels.formulas import bgbb, family_futures, population
from clvmodels.formulas.betageometric import beta_survival_sum


_NAMES = bgbb.PARAM_NAMES


def _p(params):
    return params["alpha"], params["beta"], params["gamma"], params["delta"]


def _start(x, t_x, n, weights):
    """Transaction probability at its pooled share (prior strength 2); gamma = delta = 1."""
    w = np.ones(np.shape(x)) if weights is None else np.asarray(weights, float)
    share = float(np.sum(w * x) / max(np.sum(w * n), 1.0))
    share = min(max(share, 0.05), 0.95)
    return np.log([2.0 * share, 2.0 * (1.0 - share), 1.0, 1.0])


def _alive_time(params, x, n, horizon, discount_rate):
    # depends on the history through n only (x is part of the key for the other functions)
    _, _, gamma, delta = _p(params)
    return beta_survival_sum(gamma, delta + np.asarray(n, float), horizon, discount_rate)


def _sample_latents(rng, params, x, t_x, n):
    alive, p, theta = bgbb.sample_latents(rng, *_p(params), x, t_x, n)
    return {"alive": alive, "p": p, "theta": theta}


def _simulate(rng, latents, t):
    return bgbb.simulate_transactions(rng, latents["alive"], latents["p"], latents["theta"], t)


def _simulate_future(rng, params, x, t_x, n, horizon, discount_rate, **spend):
    # transactions at whole opportunities, discounted per opportunity (module docstring)
    latents = _sample_latents(rng, params, x, t_x, n)
    return family_futures.simulate_bgbb_futures(rng, latents["alive"], latents["p"],
                                                latents["theta"], horizon, discount_rate, **spend)


def _simulate_histories(rng, params, n):
    # customers from the population, opportunity by opportunity (formulas.population)
    x, t_x, alive, p, theta = population.simulate_bgbb_population(rng, *_p(params), n)
    return (x, t_x, np.asarray(n, float)), {"alive": alive, "p": p, "theta": theta}


BGBB = PurchaseFamily(
    name="bgbb",
    label="BG/BB",
    discrete_time=True,
    param_names=bgbb.PARAM_NAMES,
    history_columns=("frequency", "recency", "n_periods"),
    alive_key=("frequency", "n_periods"),
    reference="Fader, Hardie & Shang (2010), Marketing Science 29(6)",
    example_params={"alpha": 1.204, "beta": 0.750, "gamma": 0.657, "delta": 2.783},  # donations
    neg_log_likelihood_and_grad=bgbb.neg_log_likelihood_and_grad,
    start=_start,
    p_alive=on_params(bgbb.p_alive, _NAMES),
    survival_if_alive=on_params(bgbb.survival_if_alive, _NAMES),
    expected_purchases_if_alive=on_params(bgbb.expected_discounted_if_alive, _NAMES),
    expected_discounted_purchases_if_alive=on_params(bgbb.expected_discounted_if_alive, _NAMES),
    discounted_alive_time_if_alive=_alive_time,
    prob_no_purchase=lambda params, x, t_x, n, t: bgbb.purchase_probability(
        *_p(params), x, t_x, n, t, 0),
    purchase_probability=on_params(bgbb.purchase_probability, _NAMES),
    expected_purchases_new=on_params(bgbb.expected_transactions_new, _NAMES),
    sample_latents=_sample_latents,
    simulate_purchases=_simulate,
    simulate_future=_simulate_future,
    simulate_histories=_simulate_histories,
    # FHS 2010 sec. 2: p ~ Beta(alpha, beta) per opportunity while alive, theta ~ Beta(gamma, delta)
    heterogeneity=(
        beta_probability("Transaction probability per opportunity while alive (p)",
                         "Probability of a transaction in an opportunity (p)", "alpha", "beta",
                         latent="p"),
        beta_probability("Dropout probability per opportunity (theta)",
                         "Probability of dropping out before an opportunity (theta)", "gamma", "delta",
                         latent="theta"),
    ),
)
