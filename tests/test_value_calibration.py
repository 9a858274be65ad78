"""Calibration of customer value on simulated data with known parameters and a known future.

8,000 customers are simulated from BG/NBD + Gamma-Gamma at the CDNOW estimates (FHL 2005:
r=0.243, alpha=4.414, a=0.793, b=2.426; Fader & Hardie 2013: p=6.25, q=3.74, gamma=15.44) over a
39-week calibration period and a 39-week holdout. The future value being predicted is the holdout
revenue (margin 1, no discounting, horizon = the holdout). The models are fitted by maximum
likelihood on the calibration period only. The simulator floors purchases to days and merges
same-day purchases, so the model is very slightly misspecified; the tolerances allow for it.
"""

import numpy as np
import pytest

from clvmodels import BetaGeoModel, GammaGammaModel
from clvmodels.datasets import simulate_summary
from clvmodels.value.customer_value import customer_value, value_run
from clvmodels.value.economics import Economics
from clvmodels.value.simulate import simulate_future_margin
from test_value_support import fixed_models

TRUE_BG = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
TRUE_GG = {"p": 6.25, "q": 3.74, "gamma": 15.44}


@pytest.fixture(scope="module")
def world():
    summary = simulate_summary(8000, **TRUE_BG, **TRUE_GG, time_unit="W", calibration_days=273,
                               holdout_days=273, seed=3)
    future = (summary["frequency_holdout"] * summary["monetary_value_holdout"]).to_numpy()
    settings = dict(margin=1.0, horizon=summary.attrs["clvmodels"]["duration_holdout"],
                    discount_rate=0.0)
    fitted = BetaGeoModel().fit(summary), GammaGammaModel().fit(summary)
    return summary, future, settings, fitted


def test_predictive_coverage_equals_that_of_the_true_predictive_distribution(world):
    """The 80% predictive interval of each customer's holdout revenue, from the fitted models,
    covers the realised revenue as often as the interval from the true parameters does, within 2
    points. (Both cover more than 80%: revenue has a point mass at 0, so central intervals of a
    discrete-continuous outcome over-cover.)"""
    summary, future, settings, fitted = world
    coverage = []
    for models in (fitted, fixed_models(TRUE_BG, TRUE_GG, time_unit="W")):
        out = customer_value(*models, summary, uncertainty="predictive", level=0.8, n_draws=200,
                             seed=1, **settings)
        inside = (out["expected_future_margin_lower"] <= future) & (
            future <= out["expected_future_margin_upper"])
        coverage.append(inside.mean())
    assert coverage[0] == pytest.approx(coverage[1], abs=0.02)
    assert 0.8 <= coverage[0] <= 0.95


def test_randomized_pit_of_future_value_is_uniform(world):
    """Randomized PIT of each customer's holdout revenue under the fitted predictive distribution
    (400 Laplace parameter draws, one simulated future each; ties, e.g. no purchase, broken
    uniformly): every decile holds 10% of customers within 1.5 points (~3.5 binomial sd)."""
    summary, future, settings, (bg, gg) = world
    econ = Economics(**settings).resolve("W")
    x, t_x, T = (summary[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    mbar = np.where(x > 0, summary["monetary_value"].to_numpy(float), 0.0)
    draws = bg.parameter_draws(400, seed=1).for_customers(None), gg.parameter_draws(400, seed=2).for_customers(None)
    rng = np.random.default_rng(5)
    sims, _ = simulate_future_margin(rng, econ, *draws, x, t_x, T, mbar)
    below, ties = (sims < future).sum(axis=0), (sims == future).sum(axis=0)
    pit = (below + rng.random(future.size) * (ties + 1)) / (sims.shape[0] + 1)
    deciles = np.histogram(pit, bins=10, range=(0, 1))[0] / future.size
    np.testing.assert_allclose(deciles, 0.1, atol=0.015)


def test_expected_interval_of_the_total_covers_the_true_expected_total(world):
    """The 90% expected-value interval of the total holdout revenue (per-draw sums over the 8,000
    customers) covers the true expected total, i.e. the sum of each customer's conditional
    expectation at the true parameters."""
    summary, future, settings, fitted = world
    total = value_run(*fitted, summary, n_draws=200, seed=1, rollup_by=[None], **settings
                      ).rollup(None).loc["all"]
    truth = customer_value(*fixed_models(TRUE_BG, TRUE_GG, time_unit="W"), summary,
                           uncertainty=None, **settings)["expected_future_margin"].sum()
    assert total["expected_future_margin_lower"] <= truth <= total["expected_future_margin_upper"]
    # the interval is informative: narrower than +-10% of the total
    assert total["expected_future_margin_upper"] - total["expected_future_margin_lower"] < 0.2 * truth
