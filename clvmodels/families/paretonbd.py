"""Pareto/NBD (Schmittlein, Morrison & Colombo 1987) as a :class:`~clvmodels.families.contract.PurchaseFamily`.

A thin adapter: the mathematics lives in :mod:`clvmodels.formulas.paretonbd` (likelihood and
gradient, P(alive), alive-branch expectations, discounted alive time, conditional PMF) and
:mod:`clvmodels.formulas.individual_paretonbd` (exact individual posterior, future simulation);
this module only maps the contract's ``params`` dict and positional history onto them.
"""

from __future__ import annotations

import numpy as np

from clvmodels.families.bayes_hooks import BayesHooks
from clvmodels.families.contract import PurchaseFamily, on_params
from clvmodels.families.mixing import gamma_rate
from clvmodels.formulas import family_futures, individual_paretonbd, paretonbd, population


_NAMES = paretonbd.PARAM_NAMES


def _p(params):
    return params["r"], params["alpha"], params["s"], params["beta"]


def _nll(log_params, x, t_x, T, weights):
    # the fused numba kernel: the numbers of formulas.paretonbd.neg_log_likelihood_and_grad to
    # rounding (tests/test_paretonbd_fast.py), 3-10x faster (numba loads here, not at import)
    from clvmodels.inference.bayes import fast_loglik_pnbd

    return fast_loglik_pnbd.neg_log_likelihood_and_grad(log_params, x, t_x, T, weights)


def _fast_kernel(x, t_x, T, weights, segment, n_segments):
    # the fused numba log-likelihood and gradient on (x, t_x) and (x, T) tables (numba loads here)
    from clvmodels.inference.bayes import fast_loglik_pnbd

    rows = fast_loglik_pnbd.prepare_pnbd(x, t_x, T, weights, segment, n_segments)
    return fast_loglik_pnbd.pnbd_loglik_grad, rows.args()


def _pytensor_loglik(params, x, t_x, T):
    from clvmodels.inference.bayes.pytensor_loglik import paretonbd_loglik

    return paretonbd_loglik(*_p(params), x, t_x, T)


#: shape parameters r, s Normal(0, 2.5) on the log scale; the time scales alpha, beta Normal(., 3)
#: centred on the mean age T (as BG/NBD's alpha; the reasons are in clvmodels.inference.bayes.priors)
_BAYES = BayesHooks(
    default_priors={"r": (0.0, 2.5), "alpha": (None, 3.0), "s": (0.0, 2.5), "beta": (None, 3.0)},
    prior_scale=lambda x, t_x, T, weights: float(np.average(T, weights=weights)),
    positive_columns=("T",),
    fast_kernel=_fast_kernel,
    pytensor_log_likelihood=_pytensor_loglik,
)


def _sample_latents(rng, params, x, t_x, T):
    alive, lam, mu = individual_paretonbd.sample_paretonbd_latents(rng, *_p(params), x, t_x, T)
    return {"alive": alive, "lam": lam, "mu": mu}


def _simulate(rng, latents, t):
    return individual_paretonbd.simulate_paretonbd_purchases(
        rng, latents["alive"], latents["lam"], latents["mu"], t)


def _simulate_future(rng, params, x, t_x, T, horizon, discount_rate, **spend):
    # the sparse route: only the alive component of the exact posterior is drawn (the dead buy
    # nothing whatever their traits), the same distribution as _sample_latents then futures
    return family_futures.simulate_paretonbd_history_futures(rng, *_p(params), x, t_x, T, horizon,
                                                             discount_rate, **spend)


def _simulate_histories(rng, params, T):
    # customers from the population in continuous time (formulas.population), true traits at T
    x, t_x, alive, lam, mu = population.simulate_paretonbd_population(rng, *_p(params), T)
    return (x, t_x, np.asarray(T, float)), {"alive": alive, "lam": lam, "mu": mu}


PARETONBD = PurchaseFamily(
    name="pnbd",
    label="Pareto/NBD",
    param_names=paretonbd.PARAM_NAMES,
    history_columns=("frequency", "recency", "T"),
    alive_key=("frequency", "T"),
    reference="Schmittlein, Morrison & Colombo (1987), Management Science 33(1); Fader & Hardie (2005) note 009",
    # CDNOW 1/10 sample, 39 weeks (BTYD vignette)
    example_params={"r": 0.5534, "alpha": 10.580, "s": 0.6061, "beta": 11.656},
    neg_log_likelihood_and_grad=_nll,
    start=paretonbd.start_point,
    bayes=_BAYES,
    p_alive=on_params(paretonbd.p_alive, _NAMES),
    survival_if_alive=on_params(paretonbd.survival_if_alive, _NAMES),
    expected_purchases_if_alive=on_params(paretonbd.expected_purchases_if_alive, _NAMES),
    expected_discounted_purchases_if_alive=on_params(paretonbd.expected_discounted_purchases_if_alive, _NAMES),
    discounted_alive_time_if_alive=on_params(paretonbd.discounted_alive_time_if_alive, _NAMES),
    prob_no_purchase=on_params(paretonbd.prob_no_purchase, _NAMES),
    purchase_probability=on_params(paretonbd.purchase_probability, _NAMES),
    expected_purchases_new=on_params(paretonbd.expected_purchases_new, _NAMES),
    sample_latents=_sample_latents,
    simulate_purchases=_simulate,
    simulate_future=_simulate_future,
    simulate_histories=_simulate_histories,
    # SMC 1987: lambda ~ Gamma(r, alpha); the lifetime is exponential with rate mu ~ Gamma(s, beta)
    heterogeneity=(
        gamma_rate("Transaction rate while alive (lambda)", "Purchases per {unit} (lambda)", "r", "alpha",
                   latent="lam"),
        gamma_rate("Dropout rate (mu)", "Dropouts per {unit} while alive (mu)", "s", "beta",
                   latent="mu"),
    ),
)
