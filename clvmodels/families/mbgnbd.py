"""MBG/NBD (Batislam, Denizel & Filiztekin 2007) as a :class:`~clvmodels.families.contract.PurchaseFamily`.

A thin adapter: the mathematics lives in :mod:`clvmodels.formulas.mbgnbd` (likelihood and
gradient, P(alive), alive-branch expectations, conditional PMF),
:mod:`clvmodels.formulas.individual_mbgnbd` (exact individual posterior) and, because the
MBG/NBD alive branch is the BG/NBD's with ``b + 1``,
:func:`clvmodels.formulas.individual.simulate_purchase_counts` and
:func:`clvmodels.formulas.bgnbd_alive_time.discounted_alive_time_if_alive` at ``b + 1``.
"""

from __future__ import annotations

import numpy as np

from clvmodels.families.bayes_hooks import BayesHooks
from clvmodels.families.bgnbd import BGNBD
from clvmodels.families.contract import PurchaseFamily, on_params
from clvmodels.families.mixing import beta_probability, gamma_rate
from clvmodels.formulas import future_simulation, individual, individual_mbgnbd, mbgnbd, population
from clvmodels.formulas.bgnbd_alive_time import discounted_alive_time_if_alive as _bgnbd_alive_time


_NAMES = mbgnbd.PARAM_NAMES


def _p(params):
    return params["r"], params["alpha"], params["a"], params["b"]


def _nll(log_params, x, t_x, T, weights):
    # integer frequencies let the likelihood tabulate x-only terms once per distinct value
    return mbgnbd.neg_log_likelihood_and_grad(log_params, np.asarray(x).astype(np.int64), t_x, T, weights)


def _alive_time(params, x, T, horizon, discount_rate):
    # given alive, the MBG/NBD is the BG/NBD with p ~ Beta(a, b + x + 1): BG/NBD's integral at b + 1
    r, alpha, a, b = _p(params)
    return _bgnbd_alive_time(r, alpha, a, np.asarray(b, float) + 1.0, x, T, horizon, discount_rate)


def _sample_latents(rng, params, x, t_x, T):
    alive, lam, p = individual_mbgnbd.sample_mbgnbd_latents(rng, *_p(params), x, t_x, T)
    return {"alive": alive, "lam": lam, "p": p}


def _simulate(rng, latents, t):
    return individual.simulate_purchase_counts(rng, latents["alive"], latents["lam"], latents["p"], t)


def _simulate_future(rng, params, x, t_x, T, horizon, discount_rate, **spend):
    # alive at T, the MBG/NBD future is the BG/NBD's with p ~ Beta(a, b + x + 1) (see
    # individual_mbgnbd): the BG/NBD sparse simulator with this family's P(alive) and b + 1
    return future_simulation.simulate_bgnbd_futures(
        rng, *_p(params), x, t_x, T, horizon, discount_rate, **spend, p_alive_fn=mbgnbd.p_alive,
        alive_b_shift=1.0)


def _simulate_histories(rng, params, T):
    # BG/NBD's population with the dropout chance at time 0 too (formulas.population)
    x, t_x, alive, lam, p = population.simulate_bgnbd_population(rng, *_p(params), T,
                                                                  dropout_at_zero=True)
    return (x, t_x, np.asarray(T, float)), {"alive": alive, "lam": lam, "p": p}


def _fast_kernel(x, t_x, T, weights, segment, n_segments):
    # the fused numba log-likelihood and gradient (numba loads here, not at import)
    from clvmodels.inference.bayes import fast_loglik_mbgnbd

    rows = fast_loglik_mbgnbd.prepare_mbgnbd(x, t_x, T, weights, segment, n_segments)
    return fast_loglik_mbgnbd.mbgnbd_loglik_grad, rows.args()


def _pytensor_loglik(params, x, t_x, T):
    from clvmodels.inference.bayes.pytensor_loglik import mbgnbd_loglik

    return mbgnbd_loglik(*_p(params), x, t_x, T)


#: BG/NBD's priors (same parameters, same roles): shapes Normal(0, 2.5) on the log scale, alpha (a
#: time) centred on the mean age T; the reasons are in clvmodels.inference.bayes.priors
_BAYES = BayesHooks(
    default_priors=BGNBD.bayes.default_priors,
    prior_scale=BGNBD.bayes.prior_scale,
    positive_columns=BGNBD.bayes.positive_columns,
    fast_kernel=_fast_kernel,
    pytensor_log_likelihood=_pytensor_loglik,
)


MBGNBD = PurchaseFamily(
    name="mbgnbd",
    label="MBG/NBD",
    param_names=mbgnbd.PARAM_NAMES,
    history_columns=("frequency", "recency", "T"),
    alive_key=("frequency", "T"),
    reference="Batislam, Denizel & Filiztekin (2007), International Journal of Research in Marketing 24(3)",
    # CDNOW 1/10 sample, 39 weeks (lifetimes ModifiedBetaGeoFitter, BTYDplus)
    example_params={"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614},
    neg_log_likelihood_and_grad=_nll,
    start=mbgnbd.start_point,
    bayes=_BAYES,
    p_alive=on_params(mbgnbd.p_alive, _NAMES),
    survival_if_alive=on_params(mbgnbd.survival_if_alive, _NAMES),
    expected_purchases_if_alive=on_params(mbgnbd.expected_purchases_if_alive, _NAMES),
    expected_discounted_purchases_if_alive=on_params(mbgnbd.expected_discounted_purchases_if_alive, _NAMES),
    discounted_alive_time_if_alive=_alive_time,
    prob_no_purchase=on_params(mbgnbd.prob_no_purchase, _NAMES),
    purchase_probability=on_params(mbgnbd.purchase_probability, _NAMES),
    expected_purchases_new=on_params(mbgnbd.expected_purchases_new, _NAMES),
    sample_latents=_sample_latents,
    simulate_purchases=_simulate,
    simulate_future=_simulate_future,
    simulate_histories=_simulate_histories,
    # BDF 2007: lambda ~ Gamma(r, alpha) and p ~ Beta(a, b) as in BG/NBD, p also applying at time 0
    heterogeneity=(
        gamma_rate("Transaction rate while alive (lambda)", "Purchases per {unit} (lambda)", "r", "alpha",
                   latent="lam"),
        beta_probability("Dropout probability at the first and each later purchase (p)",
                         "Probability of dropping out at a purchase (p)", "a", "b", latent="p"),
    ),
)
