"""The heterogeneity each family declares (``family.heterogeneity``) is the one its own latent
sampler draws from, and :class:`clvmodels.families.mixing.Mixing` computes its means right.

At an empty history (no purchase, zero age) a customer's posterior is the population
distribution, so ``sample_latents`` there must draw each declared trait from the declared
distribution: a Kolmogorov-Smirnov test at the family's example parameters (20,000 draws, fixed
seed) catches a wrong kind, swapped arguments or a rate read as a scale.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from clvmodels.families import family_names, get_family
from clvmodels.families.mixing import Mixing, beta_probability, gamma_rate
from clvmodels.families.spend import GAMMAGAMMA

N = 20_000


def _scipy(mix: Mixing, params):
    first, second = (float(v) for v in mix.args(params))
    return {"gamma": lambda: stats.gamma(first, scale=1.0 / second),
            "beta": lambda: stats.beta(first, second),
            "inverse_gamma": lambda: stats.invgamma(first, scale=second)}[mix.kind]()


@pytest.mark.parametrize("name", family_names())
def test_declared_mixings_are_what_the_family_samples_at_an_empty_history(name):
    family = get_family(name)
    assert family.heterogeneity, f"{family.label} declares no heterogeneity"
    params = {k: np.full(N, v) for k, v in family.example_params.items()}
    empty = [np.zeros(N) for _ in family.history_columns]
    latents = family.sample_latents(np.random.default_rng(5), params, *empty)
    for mix in family.heterogeneity:
        assert set(mix.parameters) <= set(family.param_names)
        assert mix.latent in latents, f"{mix.label}: no latent {mix.latent!r} in {sorted(latents)}"
        sample = np.asarray(latents[mix.latent], float).ravel()
        assert stats.kstest(sample, _scipy(mix, family.example_params).cdf).pvalue > 1e-3, mix.label
        mean = float(mix.mean(family.example_params))
        assert abs(sample.mean() - mean) < 5 * sample.std() / np.sqrt(N), mix.label


def test_gamma_gamma_mean_spend_is_inverse_gamma():
    """FH 2013 eq. 1-2: nu ~ Gamma(q, rate gamma) and the mean spend p / nu: simulated here from
    the paper's definition, not from the declaration."""
    (mix,) = GAMMAGAMMA.heterogeneity
    P = GAMMAGAMMA.example_params
    nu = np.random.default_rng(2).gamma(P["q"], 1.0 / P["gamma"], N)
    assert stats.kstest(P["p"] / nu, _scipy(mix, P).cdf).pvalue > 1e-3
    assert float(mix.mean(P)) == pytest.approx(P["p"] * P["gamma"] / (P["q"] - 1), rel=1e-12)


def test_mixing_means_by_hand_and_refusals():
    rate = gamma_rate("rate", "per {unit}", "r", "alpha")
    prob = beta_probability("p", "p", "a", "b")
    assert float(rate.mean({"r": 0.5, "alpha": 2.0})) == 0.25
    assert float(prob.mean({"a": 1.0, "b": 3.0})) == 0.25
    spend = Mixing("m", "{money}m", "inverse_gamma", ("q", "s"))
    assert float(spend.mean({"q": 3.0, "s": 10.0})) == 5.0
    assert np.isinf(spend.mean({"q": 0.8, "s": 10.0}))  # no mean for shape <= 1
    with pytest.raises(ValueError, match="kind"):
        Mixing("x", "x", "lognormal", ("a", "b"))
    with pytest.raises(ValueError, match="two parameters"):
        Mixing("x", "x", "gamma", ("a", "b", "c"))
