"""ShiftedBetaGeoModel: Fader & Hardie (2007) fits on cohort and tenure tables, hand-checked
predictions, interval calibration on simulated cohorts, Bayes, save/load, refusals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clvmodels.errors import DataError
from clvmodels.formulas import sbg
from clvmodels.models import persistence
from clvmodels.models.shifted_beta_geo import ShiftedBetaGeoModel

# Fader & Hardie (2007), "How to project customer retention", J. Interactive Marketing 21(1),
# Table 1: customers (of 1,000) surviving at the start of years 0-7 (fit) and 8-12 (holdout).
REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241]
HIGH_END = [1000, 869, 743, 653, 593, 551, 517, 491]


def cohort_table(rows, labels, unit="Y"):
    table = pd.DataFrame(rows, index=pd.Index(labels, name="segment"))
    table.attrs["clvmodels"] = {"time_unit": unit, "period": unit}
    return table


def exact_model(alpha, beta, n=10**9, periods=60):
    """A model fitted on a cohort whose counts are n x S(t) rounded: its estimate is (alpha, beta)
    to about 1e-6, so predictions can be checked against hand computations at those values."""
    survivors = np.round(n * sbg.survival(alpha, beta, np.arange(periods + 1)))
    model = ShiftedBetaGeoModel().fit(cohort_table([survivors], ["all"]))
    np.testing.assert_allclose(model.params_.to_numpy(), [alpha, beta], rtol=1e-5)
    return model


def tenures(renewals, churned, unit="Y", **columns):
    frame = pd.DataFrame({"renewals": renewals, "churned": churned, **columns},
                         index=pd.Index([f"c{i}" for i in range(len(renewals))], name="customer_id"))
    frame.attrs["clvmodels"] = {"time_unit": unit, "period": unit}
    return frame


def simulate(rng, alpha, beta, n, observed):
    """n subscribers starting together, theta ~ Beta(alpha, beta), observed for ``observed``
    renewal decisions: their tenure table and every subscriber's true total renewals."""
    theta = rng.beta(alpha, beta, n)
    total = rng.geometric(theta) - 1  # renewals before leaving
    table = tenures(np.minimum(total, observed), total < observed)
    return table, total


def test_fader_hardie_2007_per_segment_on_cohort_tables():
    """FH 2007 Table 2: regular alpha = 0.704, beta = 1.182; high end 0.668, 3.806 (3 decimals);
    r_8 (high end) ~ 0.942; year-12 survival about 17.0% (regular) and 37.8% (high end)."""
    model = ShiftedBetaGeoModel(pool_by="segment", shrinkage=None).fit(
        cohort_table([REGULAR, HIGH_END], ["regular", "high end"]))
    np.testing.assert_allclose(model.params_.loc["regular"], [0.704, 1.182], atol=5e-4)
    np.testing.assert_allclose(model.params_.loc["high end"], [0.668, 3.806], atol=5e-4)
    assert model.retention([8]).loc[("high end", 8.0), "retention"] == pytest.approx(0.942, abs=5e-4)
    year12 = model.survival([12])["survival"]
    assert 100 * year12.loc[("regular", 12.0)] == pytest.approx(17.0, abs=0.05)
    assert 100 * year12.loc[("high end", 12.0)] == pytest.approx(37.8, abs=0.05)
    assert model.n_customers_ == 2000 and model.time_unit_ == "Y"


def test_individual_tenures_give_the_cohort_fit():
    """A cohort table and the same customers as one row each (exact censoring) are one likelihood."""
    survivors = np.array(REGULAR)
    drop = -np.diff(survivors)
    renewals = np.concatenate([np.repeat(np.arange(7), drop), np.full(survivors[-1], 7)])
    churned = np.arange(renewals.size) < drop.sum()
    by_customer = ShiftedBetaGeoModel().fit(tenures(renewals, churned))
    by_cohort = ShiftedBetaGeoModel().fit(cohort_table([REGULAR], ["regular"]))
    np.testing.assert_allclose(by_customer.params_, by_cohort.params_, rtol=1e-7)
    assert by_customer.log_likelihood_ == pytest.approx(by_cohort.log_likelihood_, rel=1e-10)
    assert by_customer.n_distinct_rows_ == 8


def test_predictions_by_hand():
    """sBG(2, 4), a subscriber after n = 3 renewals: theta | n ~ Beta(2, 7), so
    P(next renewal) = 7/9; P(two more) = 7/9 x 8/10 = 0.6222...; expected renewals in 2 periods
    = 7/9 + 28/45 = 1.4; undiscounted expected residual renewals (beta + n)/(alpha - 1) = 7;
    DERL at d = 10% = 1.1 x sum_k S(3+k)/S(3) 1.1^-k. A subscriber who has left: all 0.
    New customer: DEL(0) = (alpha + beta - 1)/(alpha - 1) = 5; S(1) = 4/6; r_2 = 5/7."""
    model = exact_model(2.0, 4.0)
    table = tenures([3, 3], [False, True])
    p = model.p_still_subscribed(table)["p_still_subscribed"].to_numpy()
    np.testing.assert_allclose(p, [7 / 9, 0.0], rtol=1e-5)
    assert model.p_still_subscribed(table, 2)["p_still_subscribed"].iloc[0] == pytest.approx(56 / 90, rel=1e-5)
    np.testing.assert_allclose(model.expected_renewals(table, 2)["expected_renewals"], [1.4, 0.0], rtol=1e-5)
    assert model.expected_renewals(table)["expected_renewals"].iloc[0] == pytest.approx(7.0, rel=1e-4)
    k = np.arange(1, 20_000)
    # S(3 + k)/S(3) = prod_{j<=k} (beta + 3 + j - 1)/(alpha + beta + 3 + j - 1)
    brute = 1.1 * np.sum(np.exp(np.cumsum(np.log((4 + 3 + k - 1) / (2 + 4 + 3 + k - 1))) - k * np.log(1.1)))
    assert model.derl(table, 0.1)["derl"].iloc[0] == pytest.approx(brute, rel=1e-5)
    assert model.derl(table, 0.1)["derl"].iloc[1] == 0.0
    assert float(model.discounted_expected_lifetime()["del"].iloc[0]) == pytest.approx(5.0, rel=1e-4)
    assert model.survival([1])["survival"].iloc[0] == pytest.approx(4 / 6, rel=1e-5)
    assert model.retention([2])["retention"].iloc[0] == pytest.approx(5 / 7, rel=1e-5)


def test_intervals_contain_the_estimate_and_are_reproducible():
    model = ShiftedBetaGeoModel().fit(cohort_table([REGULAR], ["regular"]))
    table = tenures([0, 2, 7], [False, False, True])
    for method, kwargs in ((model.p_still_subscribed, {}), (model.expected_renewals, {"horizon": 5}),
                           (model.derl, {"discount_rate": 0.1})):
        out = method(table, uncertainty="expected", seed=3, **kwargs)
        col = out.columns[0]
        active = ~table["churned"].to_numpy()
        assert (out[f"{col}_lower"][active] < out[col][active]).all()
        assert (out[col][active] < out[f"{col}_upper"][active]).all()
        pd.testing.assert_frame_equal(out, method(table, uncertainty="expected", seed=3, **kwargs))
    pred = model.expected_renewals(table, 5, uncertainty="predictive", seed=4)
    assert set(np.unique(pred[["expected_renewals_lower", "expected_renewals_upper"]])) <= set(range(6))
    assert pred.attrs["interval_kinds"]["expected_renewals"] == "predictive"
    # a probability keeps its expected-value interval when a predictive one is asked for
    prob = model.p_still_subscribed(table, uncertainty="predictive", seed=4)
    assert prob.attrs["interval_kinds"]["p_still_subscribed"] == "expected"


def test_predictive_interval_calibration_on_simulated_cohorts():
    """20,000 simulated subscribers (alpha = 0.8, beta = 2.5) observed for 2-8 renewal decisions
    (staggered starts); fit, then predict each active subscriber's renewals in the next 6 periods
    and compare with what the same simulated subscribers then did. Counts are discrete, so the
    check is the one a discrete quantile must pass: for bounds L, U of a central interval with
    tails q = (1 - level)/2, P(future < L) <= q <= P(future <= L) and likewise above U (up to
    sampling noise of 0.015)."""
    rng = np.random.default_rng(2024)
    n = 20_000
    observed = rng.integers(2, 9, n)
    total = rng.geometric(rng.beta(0.8, 2.5, n)) - 1
    table = tenures(np.minimum(total, observed), total < observed)
    model = ShiftedBetaGeoModel().fit(table)
    active = ~table["churned"].to_numpy()
    future = np.minimum(total[active] - observed[active], 6)
    for level in (0.5, 0.8):
        out = model.expected_renewals(table[active], 6, uncertainty="predictive", level=level, seed=5)
        low, high = out["expected_renewals_lower"].to_numpy(), out["expected_renewals_upper"].to_numpy()
        tail = (1 - level) / 2
        assert np.mean(future < low) <= tail + 0.015 and np.mean(future <= low) >= tail - 0.015
        assert np.mean(future > high) <= tail + 0.015 and np.mean(future >= high) >= tail - 0.015
    # and the expected renewals are right on average
    assert out["expected_renewals"].mean() == pytest.approx(future.mean(), rel=0.03)


def test_expected_interval_calibration_of_the_parameters():
    """Over 40 simulated cohorts of 2,000, the 90% expected interval of S(6) covers the true
    S(6) of sBG(0.8, 2.5) in about 90% of them (Laplace draws of the MLE)."""
    rng = np.random.default_rng(7)
    true = float(sbg.survival(0.8, 2.5, 6))
    hits = 0
    for _ in range(40):
        table, _total = simulate(rng, 0.8, 2.5, 2_000, observed=4)
        out = ShiftedBetaGeoModel().fit(table).survival([6], uncertainty="expected", n_draws=400, seed=1)
        hits += bool(out["survival_lower"].iloc[0] <= true <= out["survival_upper"].iloc[0])
    assert 31 <= hits <= 40  # binomial(40, 0.9): 31..40 holds with probability > 0.99


def test_pool_by_cohort_periods_from_a_log():
    """Per-cohort fits on a tenure table from subscription_tenures (cohort: pandas.Period labels),
    scored on the same table: every customer gets its cohort's parameters."""
    from clvmodels.data.subscriptions import subscription_tenures

    rng = np.random.default_rng(3)
    starts = np.array(["2012-01-15", "2013-03-01"]).repeat(400)
    years = rng.geometric(rng.beta(1.0, np.where(np.arange(800) < 400, 2.0, 4.0)))
    start = pd.to_datetime(starts)
    end = [s + pd.DateOffset(years=int(y)) for s, y in zip(start, years)]
    log = pd.DataFrame({"customer_id": np.arange(800), "start": start,
                        "end": [e if e <= pd.Timestamp("2024-12-31") else pd.NaT for e in end]})
    table = subscription_tenures(log, observation_end="2024-12-31", period="Y")
    model = ShiftedBetaGeoModel(pool_by="cohort", shrinkage=None).fit(table)
    assert model.segments_ == ["2012", "2013"]
    p = model.p_still_subscribed(table)
    active = ~table["churned"]
    for label, period in zip(model.segments_, sorted(table["cohort"].unique())):
        mask = active & (table["cohort"] == period)
        alpha, beta = model.params_.loc[label]
        expected = (beta + table["renewals"][mask]) / (alpha + beta + table["renewals"][mask])
        np.testing.assert_allclose(p["p_still_subscribed"][mask], expected, rtol=1e-9)


def test_bayes_with_nutpie_agrees_with_mle():
    """Posterior means within 2 posterior sd of the MLE on FH 2007's regular cohort (flat-ish
    Normal(0, 2.5) priors on the logs); the numpy and PyTensor likelihoods agree to 1e-9."""
    table = cohort_table([REGULAR], ["regular"])
    mle = ShiftedBetaGeoModel().fit(table)
    bayes = ShiftedBetaGeoModel(method="bayes", chains=2, draws=400, tune=400, seed=11).fit(table)
    post = bayes.summary()
    assert bayes.converged_
    assert (np.abs(post["estimate"] - mle.params_) < 2 * post["sd"]).all()
    assert bayes.parameter_draws(50).values.shape == (50, 2)
    from clvmodels.families.subscription import SBG

    renewals = np.array([0.0, 3.0, 7.0, 7.0])
    churned = np.array([1.0, 0.0, 0.0, 1.0])
    theano = SBG.bayes.pytensor_log_likelihood({"alpha": 0.7, "beta": 1.3}, renewals, churned).eval()
    np.testing.assert_allclose(theano, sbg.log_likelihood(0.7, 1.3, renewals, churned), rtol=1e-9)


def test_save_and_load(tmp_path):
    """JSON round trip through the model registry (clvmodels.models.registry)."""
    for model in (ShiftedBetaGeoModel().fit(cohort_table([REGULAR], ["regular"])),
                  ShiftedBetaGeoModel(pool_by="segment").fit(cohort_table([REGULAR, HIGH_END], ["r", "h"]))):
        model.save(tmp_path / "sbg.json")
        loaded = persistence.load_model(tmp_path / "sbg.json")
        pd.testing.assert_frame_equal(loaded.survival([1, 5], uncertainty="expected", seed=1),
                                      model.survival([1, 5], uncertainty="expected", seed=1))


def test_refusals():
    model = ShiftedBetaGeoModel().fit(cohort_table([REGULAR], ["regular"]))
    with pytest.raises(DataError, match="whole numbers >= 0.*c1"):
        ShiftedBetaGeoModel().fit(tenures([1, 2.5], [True, False]))
    with pytest.raises(DataError, match="churned must be True/False.*c0"):
        ShiftedBetaGeoModel().fit(tenures([1, 2], ["yes", False]))
    with pytest.raises(DataError, match="lacks column"):
        ShiftedBetaGeoModel().fit(tenures([1, 2], [True, False]).drop(columns="churned"))
    with pytest.raises(DataError, match="time unit"):
        ShiftedBetaGeoModel().fit(pd.DataFrame({"renewals": [1, 2], "churned": [True, False]}))
    with pytest.raises(DataError, match="weights= is for tenure tables"):
        ShiftedBetaGeoModel().fit(cohort_table([REGULAR], ["regular"]), weights=[1])
    with pytest.raises(DataError, match="time unit 'Y'"):
        model.p_still_subscribed(tenures([1], [False], unit="M"))
    with pytest.raises(DataError, match="retention is defined from period 1"):
        model.retention([0, 1])
    segmented = ShiftedBetaGeoModel(pool_by="segment").fit(cohort_table([REGULAR, HIGH_END], ["r", "h"]))
    with pytest.raises(DataError, match="not fitted on"):
        segmented.p_still_subscribed(tenures([1], [False], segment=["x"]))
