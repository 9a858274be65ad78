"""The model battery, statistical part: every registered purchase model recovers its parameters
from its own population and its intervals are calibrated against the truth.

Worlds come from each family's population simulator (``family.simulate_histories``: exact
continuous time for BG/NBD, MBG/NBD and Pareto/NBD, so no day-rounding bias; whole opportunities
for BG/BB) at the family's ``example_params``, with the true traits at the end of observation, from
which the true futures are drawn (the oracle). Tolerances are stated in each docstring and were
fixed before looking at the outcome; the seeds are fixed so a run is reproducible, not so that it
passes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from clvmodels.data.meta import set_summary_meta
from test_model_battery import cls, true_params, world  # noqa: F401  (cls is the fixture)


def _history(family, frame):
    return tuple(frame[c].to_numpy(float) for c in family.history_columns)


#: population points relative to the family's example point, by parameter position: the example
#: itself, and (for the four-parameter families) heavier buyers, first and last parameters x 3
POINTS = {"example": (), "heavier": (3.0, 1.0, 1.0, 3.0)}


@pytest.mark.parametrize("point", sorted(POINTS))
def test_parameters_are_recovered_from_continuous_time_data(cls, point):
    """MLE on 30,000 customers simulated in continuous time: each log-parameter within 4 of the
    fit's own standard errors of the truth, and jointly ``z' C^-1 z`` below the chi-square(k)
    0.9999 quantile (C the fit's covariance of the log-parameters); at the family's example point
    and at one with heavier buyers."""
    factors = POINTS[point] if len(POINTS[point]) == len(cls.param_names) else ()
    params = {k: v * (factors[i] if factors else 1.0)
              for i, (k, v) in enumerate(cls.family.example_params.items())}
    summary, _ = world(cls, 30_000, seed=41, params=params)
    model = cls().fit(summary)
    truth = np.log([params[k] for k in cls.param_names])
    error = np.log(model.params_.to_numpy(float)) - truth
    z = error / np.sqrt(np.diag(model.cov_log_))
    assert model.converged_
    assert np.all(np.abs(z) < 4), dict(zip(cls.param_names, z.round(2)))
    joint = float(error @ np.linalg.solve(model.cov_log_, error))
    assert joint < stats.chi2.ppf(0.9999, len(truth)), joint


def _true_cdf(family, params, history, horizon, k_max):
    """P(Y <= k | history) at the true parameters for k = 0..k_max, shape (n, k_max + 1), from the
    family's closed-form conditional PMF, evaluated once per distinct history."""
    rows, inverse = np.unique(np.column_stack(history), axis=0, return_inverse=True)
    columns = tuple(rows.T)
    pmf = np.column_stack([family.purchase_probability(params, *columns, horizon, k)
                           for k in range(k_max + 1)])
    return np.cumsum(pmf, axis=1)[inverse.ravel()]


@pytest.mark.slow
def test_predictive_intervals_are_calibrated_against_the_true_parameter_oracle(cls):
    """90% predictive intervals of purchase counts over the next 39 periods (6,000 customers,
    MLE fit, 300 draws) against the truth.

    Purchase counts are whole numbers, so an interval [lo, hi] stands for the counts
    ceil(lo)..floor(hi), and a calibrated 90% interval of a discrete count covers at least 90%
    (often much more: most customers will buy nothing). What calibration means is that each end is
    the truth's quantile: P(Y < lo) <= 5% <= P(Y <= lo) and P(Y > hi) <= 5% <= P(Y >= hi), with Y
    the count under the true parameters given the history (the family's closed-form PMF). Checked
    on average over customers, with 0.01 allowed for the Monte Carlo of 300 draws and parameter
    uncertainty. Also: (a) the true futures, drawn from the true latents, fall in the intervals as
    often as the truth's PMF says (within 4 standard errors), and (b) the coverage is within 0.02
    of that of the oracle intervals (the truth's own 5% and 95% quantiles).
    """
    family, horizon = cls.family, 39.0
    summary, latents = world(cls, 6000, seed=51)
    model = cls().fit(summary)
    out = model.expected_purchases(summary, horizon, uncertainty="predictive", level=0.9,
                                   n_draws=300, seed=52)
    lo = np.ceil(out["expected_purchases_lower"].to_numpy() - 1e-9).astype(np.int64)
    hi = np.floor(out["expected_purchases_upper"].to_numpy() + 1e-9).astype(np.int64)
    future = family.simulate_purchases(np.random.default_rng(53), latents, horizon)
    k_max = int(max(hi.max(), future.max())) + 1
    cdf = _true_cdf(family, true_params(cls), _history(family, summary), horizon, k_max)
    assert np.all(cdf[:, -1] >= 0.95)  # every customer's true 95% quantile is within 0..k_max
    rows = np.arange(len(summary))

    def below_or_at(k):  # P(Y <= k), 0 for k < 0
        return np.where(k < 0, 0.0, cdf[rows, np.clip(k, 0, k_max)])

    covered = below_or_at(hi) - below_or_at(lo - 1)
    observed = np.mean((future >= lo) & (future <= hi))
    se = np.sqrt(np.sum(covered * (1 - covered))) / len(rows)
    assert abs(observed - covered.mean()) < 4 * se, (observed, covered.mean(), se)
    tails = {"P(Y < lo)": below_or_at(lo - 1).mean(), "P(Y <= lo)": below_or_at(lo).mean(),
             "P(Y > hi)": 1 - below_or_at(hi).mean(), "P(Y >= hi)": 1 - below_or_at(hi - 1).mean()}
    assert tails["P(Y < lo)"] <= 0.06 and tails["P(Y > hi)"] <= 0.06, tails
    assert tails["P(Y <= lo)"] >= 0.04 and tails["P(Y >= hi)"] >= 0.04, tails
    oracle_lo, oracle_hi = np.argmax(cdf >= 0.05, axis=1), np.argmax(cdf >= 0.95, axis=1)
    oracle = below_or_at(oracle_hi) - below_or_at(oracle_lo - 1)
    assert abs(covered.mean() - oracle.mean()) <= 0.02, (covered.mean(), oracle.mean())


def _reference_customers(cls, attrs):
    """Three fixed histories whose quantities are not degenerate in any family (no P(alive) of 1):
    light, medium and heavy repeat buyers."""
    if cls.family.discrete_time:
        frame = pd.DataFrame({"frequency": [1.0, 2.0, 4.0], "recency": [1.0, 3.0, 5.0],
                              "n_periods": [6.0, 6.0, 6.0]})
    else:
        frame = pd.DataFrame({"frequency": [1.0, 2.0, 8.0], "recency": [5.0, 20.0, 36.0],
                              "T": [39.0, 39.0, 39.0]})
    frame.index.name = "customer_id"
    return set_summary_meta(frame, **attrs)


@pytest.mark.slow
def test_expected_intervals_cover_the_truth_at_the_nominal_rate_over_worlds(cls):
    """Over 80 simulated worlds of 2,000 customers, the 90% expected-value intervals (Laplace
    draws of the MLE, 300 draws) of seven quantities cover their value at the true parameters:
    P(alive) and E[purchases in 10 periods] of three fixed customers, and a new customer's
    E[purchases in 10 periods].

    Tolerance: the coverage of each quantity (80 worlds, binomial standard error 0.034) is at
    least 0.77 (4 standard errors below 0.9) and at most 0.99; pooled over the seven (correlated)
    quantities it lies in [0.84, 0.96].
    """
    family, horizon = cls.family, 10.0
    P = true_params(cls)
    rows = _reference_customers(cls, world(cls, 2, seed=0)[0].attrs["clvmodels"])
    history = _history(family, rows)
    truth = np.concatenate([family.p_alive(P, *history), family.expected_purchases(P, *history, horizon),
                            family.expected_purchases_new(P, np.array([horizon]))])
    covered = []
    for k in range(80):
        summary, _ = world(cls, 2000, seed=1000 + k)
        model = cls().fit(summary)
        common = {"uncertainty": "expected", "level": 0.9, "n_draws": 300, "seed": k}
        frames = [model.p_alive(rows, **common), model.expected_purchases(rows, horizon, **common),
                  model.expected_purchases_new([horizon], **common)]
        lower = np.concatenate([f.filter(like="_lower").iloc[:, 0].to_numpy() for f in frames])
        upper = np.concatenate([f.filter(like="_upper").iloc[:, 0].to_numpy() for f in frames])
        covered.append((lower <= truth) & (truth <= upper))
    rate = np.mean(covered, axis=0)
    assert np.all((rate >= 0.77) & (rate <= 0.99)), rate
    assert 0.84 <= rate.mean() <= 0.96, rate
