"""BG/NBD (Fader, Hardie & Lee 2005) as a :class:`~clvmodels.families.contract.PurchaseFamily`.

A thin adapter: the mathematics lives in :mod:`clvmodels.formulas.bgnbd` (likelihood, P(alive),
alive-branch expectations), :mod:`clvmodels.formulas.individual` (exact individual posterior and
future simulation) and :mod:`clvmodels.formulas.bgnbd_alive_time` (discounted alive time); this module only
maps the contract's ``params`` dict and positional history onto them.
"""

from __future__ import annotations

import numpy as np

from clvmodels.families.bayes_hooks import BayesHooks
from clvmodels.families.contract import PurchaseFamily, on_params
from clvmodels.families.mixing import beta_probability, gamma_rate
from clvmodels.formulas import bgnbd, future_simulation, individual, population
from clvmodels.formulas.bgnbd_alive_time import discounted_alive_time_if_alive as _alive_time


_NAMES = bgnbd.PARAM_NAMES


def _p(params):
    return params["r"], params["alpha"], params["a"], params["b"]


def _start(x, t_x, T, weights):
    """r = a = b = 1 and alpha at the mean time per repeat purchase (the pooled fit's start)."""
    alpha0 = max(float(np.sum(weights * T) / max(np.sum(weights * x), 1.0)), 1e-3)
    return np.log([1.0, alpha0, 1.0, 1.0])


def _nll(log_params, x, t_x, T, weights):
    # integer frequencies let the likelihood tabulate x-only terms once per distinct value
    return bgnbd.neg_log_likelihood_and_grad(log_params, np.asarray(x).astype(np.int64), t_x, T,
                                             weights)


def _discounted_purchases_if_alive(params, x, T, horizon, discount_rate):
    # E[D | x, t_x = T, T] / P(alive | x, t_x = T, T): the closed-form at recency T, whose P(alive)
    # is bounded away from 0, divided out exactly
    r, alpha, a, b = _p(params)
    return (bgnbd.expected_discounted_purchases(r, alpha, a, b, x, T, T, horizon, discount_rate)
            / bgnbd.p_alive(r, alpha, a, b, x, T, T))


def _sample_latents(rng, params, x, t_x, T):
    alive, lam, p = individual.sample_bgnbd_latents(rng, *_p(params), x, t_x, T)
    return {"alive": alive, "lam": lam, "p": p}


def _simulate(rng, latents, t):
    return individual.simulate_purchase_counts(rng, latents["alive"], latents["lam"], latents["p"], t)


def _simulate_future(rng, params, x, t_x, T, horizon, discount_rate, **spend):
    # the sparse simulator: draws only what each future depends on (same distribution as the
    # latents of _sample_latents followed by timed purchases)
    return future_simulation.simulate_bgnbd_futures(rng, *_p(params), x, t_x, T, horizon,
                                                    discount_rate, **spend)


def _simulate_histories(rng, params, T):
    # customers from the population in continuous time (formulas.population), true traits at T
    x, t_x, alive, lam, p = population.simulate_bgnbd_population(rng, *_p(params), T)
    return (x, t_x, np.asarray(T, float)), {"alive": alive, "lam": lam, "p": p}


def _fast_kernel(x, t_x, T, weights, segment, n_segments):
    # the fused numba log-likelihood and gradient (numba loads here, not at import)
    from clvmodels.inference.bayes import fast_loglik

    rows = fast_loglik.prepare_bgnbd(x, t_x, T, weights, segment, n_segments)
    return fast_loglik.bgnbd_loglik_grad, rows.args()


def _pytensor_loglik(params, x, t_x, T):
    from clvmodels.inference.bayes.pytensor_loglik import bgnbd_loglik

    return bgnbd_loglik(*_p(params), x, t_x, T)


#: shape parameters Normal(0, 2.5) on the log scale, alpha (a time) centred on the mean age T;
#: the reasons are in clvmodels.inference.bayes.priors
_BAYES = BayesHooks(
    default_priors={"r": (0.0, 2.5), "alpha": (None, 3.0), "a": (0.0, 2.5), "b": (0.0, 2.5)},
    prior_scale=lambda x, t_x, T, weights: float(np.average(T, weights=weights)),
    positive_columns=("T",),
    fast_kernel=_fast_kernel,
    pytensor_log_likelihood=_pytensor_loglik,
)


BGNBD = PurchaseFamily(
    name="bgnbd",
    label="BG/NBD",
    param_names=bgnbd.PARAM_NAMES,
    history_columns=("frequency", "recency", "T"),
    alive_key=("frequency", "T"),
    reference="Fader, Hardie & Lee (2005), Marketing Science 24(2)",
    example_params={"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},  # CDNOW, FHL 2005
    neg_log_likelihood_and_grad=_nll,
    start=_start,
    p_alive=on_params(bgnbd.p_alive, _NAMES),
    survival_if_alive=on_params(bgnbd.survival_if_alive, _NAMES),
    expected_purchases_if_alive=on_params(bgnbd.expected_purchases_if_alive, _NAMES),
    expected_discounted_purchases_if_alive=_discounted_purchases_if_alive,
    discounted_alive_time_if_alive=lambda params, x, T, horizon, d: _alive_time(
        *_p(params), x, T, horizon, d),
    prob_no_purchase=on_params(bgnbd.prob_no_purchase, _NAMES),
    purchase_probability=on_params(bgnbd.purchase_probability, _NAMES),
    expected_purchases_new=on_params(bgnbd.expected_purchases_new, _NAMES),
    sample_latents=_sample_latents,
    simulate_purchases=_simulate,
    simulate_future=_simulate_future,
    simulate_histories=_simulate_histories,
    bayes=_BAYES,
    # FHL 2005 sec. 3: lambda ~ Gamma(r, alpha) (eq. 2), p ~ Beta(a, b) (eq. 4)
    heterogeneity=(
        gamma_rate("Transaction rate while alive (lambda)", "Purchases per {unit} (lambda)", "r", "alpha",
                   latent="lam"),
        beta_probability("Dropout probability after each purchase (p)",
                         "Probability of dropping out after a purchase (p)", "a", "b", latent="p"),
    ),
)
