"""customer_value end to end on CDNOW: columns, identities, intervals, determinism, bad input."""

import numpy as np
import pandas as pd
import pytest

from clvmodels import BetaGeoModel, GammaGammaModel
from test_value_support import cdnow_summary as load_cdnow_summary
from clvmodels.errors import DataError, NotFittedError
from clvmodels.value.customer_value import customer_value

SETTINGS = dict(margin=0.3, horizon=52, discount_rate=0.1)


@pytest.fixture(scope="module")
def cdnow():
    summary = load_cdnow_summary()
    rng = np.random.default_rng(0)
    summary["channel"] = rng.choice(["search", "tv", "partner"], len(summary))
    return summary


@pytest.fixture(scope="module")
def models(cdnow):
    return BetaGeoModel().fit(cdnow), GammaGammaModel().fit(cdnow)


@pytest.fixture(scope="module")
def expected(cdnow, models):
    costs = pd.DataFrame({"channel": ["search", "tv", "partner"],
                          "acquisition_cost": [8.0, 15.0, 4.0]})
    return customer_value(*models, cdnow, acquisition=costs, n_draws=100, seed=1, **SETTINGS)


def test_columns_identities_and_recorded_settings(cdnow, expected):
    out = expected
    assert list(out.index) == list(cdnow.index)
    for col in ("realised_margin", "expected_future_margin", "acquisition_cost", "clv",
                "net_value", "referral_credit", "credited_to_referrer", "attributed_net_value",
                "future_referral_value", "future_value", "expected_future_margin_lower",
                "net_value_upper", "future_value_lower"):
        assert col in out.columns and np.isfinite(out[col]).all()
    np.testing.assert_allclose(out["clv"], out["realised_margin"] + out["expected_future_margin"])
    np.testing.assert_allclose(out["net_value"], out["clv"] - out["acquisition_cost"])
    # without referrals: nothing attributed, no future referrals, future value is future margin
    np.testing.assert_array_equal(out["attributed_net_value"], out["net_value"])
    assert (out[["referral_credit", "credited_to_referrer", "future_referral_value"]] == 0).all().all()
    np.testing.assert_array_equal(out["future_value"], out["expected_future_margin"])
    np.testing.assert_array_equal(out["future_value_upper"], out["expected_future_margin_upper"])
    np.testing.assert_array_equal(out["acquisition_cost"],
                                  cdnow["channel"].map({"search": 8.0, "tv": 15.0, "partner": 4.0}))
    # the interval shifts with the constant parts of the value
    np.testing.assert_allclose(out["net_value_lower"] - out["expected_future_margin_lower"],
                               out["realised_margin"] - out["acquisition_cost"], atol=1e-9)
    attrs = out.attrs["clvmodels"]
    assert attrs["time_unit"] == "W" and attrs["horizon"] == 52 and attrs["margin"] == 0.3
    assert attrs["discount_rate_per_unit"] == pytest.approx(1.1 ** (7 / 365.2425) - 1)
    assert attrs["seed"] == 1 and attrs["n_draws"] == 100 and attrs["uncertainty"] == "expected"
    assert attrs["realised_margin_from"] == "every purchase (revenue_to_date)"
    assert attrs["first_purchase"] == "included"


def test_point_value_is_the_mle_plug_in_and_lies_in_its_interval(cdnow, models, expected):
    point = customer_value(*models, cdnow, uncertainty=None, **SETTINGS)
    np.testing.assert_allclose(point["expected_future_margin"], expected["expected_future_margin"],
                               rtol=1e-10)
    inside = ((expected["expected_future_margin_lower"] <= expected["expected_future_margin"])
              & (expected["expected_future_margin"] <= expected["expected_future_margin_upper"]))
    assert inside.mean() > 0.99
    assert "expected_future_margin_lower" not in point.columns


def test_value_grows_with_the_horizon_and_shrinks_with_discounting(cdnow, models):
    def total(**kw):
        return customer_value(*models, cdnow, uncertainty=None, **{**SETTINGS, **kw})[
            "expected_future_margin"].sum()

    year, undiscounted, lifetime = total(), total(discount_rate=0.0), total(horizon="lifetime")
    assert year < undiscounted
    assert year < lifetime < total(horizon="lifetime", discount_rate=0.05)


def test_same_seed_same_numbers_and_chunking_does_not_change_expected_values(cdnow, models, expected):
    costs = pd.DataFrame({"channel": ["search", "tv", "partner"], "acquisition_cost": [8.0, 15.0, 4.0]})
    again = customer_value(*models, cdnow, acquisition=costs, n_draws=100, seed=1, chunk_size=300,
                           **SETTINGS)
    pd.testing.assert_frame_equal(again, expected, rtol=1e-12)
    other = customer_value(*models, cdnow, acquisition=costs, n_draws=100, seed=2, **SETTINGS)
    assert not np.allclose(other["expected_future_margin_upper"], expected["expected_future_margin_upper"])


def test_predictive_interval_contains_the_expected_one(cdnow, models, expected):
    kw = dict(n_draws=200, seed=3, **SETTINGS)
    predictive = customer_value(*models, cdnow, uncertainty="predictive", **kw)
    again = customer_value(*models, cdnow, uncertainty="predictive", **kw)
    pd.testing.assert_frame_equal(predictive, again)
    width_p = predictive["expected_future_margin_upper"] - predictive["expected_future_margin_lower"]
    width_e = expected["expected_future_margin_upper"] - expected["expected_future_margin_lower"]
    assert (width_p >= width_e).mean() > 0.95
    # a customer who buys nothing more is a possible outcome: lower bounds are 0 for most customers
    assert (predictive["expected_future_margin_lower"] == 0).mean() > 0.5
    assert predictive.attrs["clvmodels"]["uncertainty"] == "predictive"


@pytest.mark.filterwarnings("ignore::clvmodels.errors.ConvergenceWarning")  # short chains, for speed
def test_bayesian_fits_work_unchanged(cdnow):
    """The same call with posterior draws instead of Laplace draws; the value is the posterior
    mean, close to the MLE plug-in on CDNOW (within 5% in total)."""
    bg = BetaGeoModel(method="bayes", chains=2, draws=200, tune=300, seed=1).fit(cdnow)
    gg = GammaGammaModel(method="bayes", chains=2, draws=200, tune=300, seed=1).fit(cdnow)
    out = customer_value(bg, gg, cdnow, n_draws=100, seed=0, **SETTINGS)
    mle = customer_value(BetaGeoModel().fit(cdnow), GammaGammaModel().fit(cdnow), cdnow,
                         uncertainty=None, **SETTINGS)
    assert out.attrs["clvmodels"]["methods"] == ["bayes", "bayes"]
    assert out["expected_future_margin"].sum() == pytest.approx(
        mle["expected_future_margin"].sum(), rel=0.05)
    assert (out["expected_future_margin_lower"] <= out["expected_future_margin_upper"]).all()


def test_bad_calls_are_refused_with_what_to_do(cdnow, models):
    bg, gg = models
    with pytest.raises(DataError, match="purchase_model .* was expected"):
        customer_value(gg, bg, cdnow, **SETTINGS)
    with pytest.raises(NotFittedError):
        customer_value(BetaGeoModel(), gg, cdnow, **SETTINGS)
    daily = cdnow.copy()
    daily.attrs = {"clvmodels": {**cdnow.attrs["clvmodels"], "time_unit": "D"}}
    with pytest.raises(DataError, match="fitted in time unit 'W'"):
        customer_value(bg, gg, daily, **SETTINGS)
    twice = pd.concat([cdnow.iloc[:3], cdnow.iloc[:1]])
    # the summary check of the data layer may catch repeated ids first; either way they are refused
    with pytest.raises(DataError, match="customer ids must be unique|duplicate customer ids"):
        customer_value(bg, gg, twice, **SETTINGS)
    with pytest.raises(DataError, match=r"\(2357 customers\) has no 'revenue_to_date' column"):
        customer_value(bg, gg, cdnow.drop(columns="revenue_to_date"), **SETTINGS)
    with pytest.raises(DataError, match="margin must be a gross-margin rate"):
        customer_value(bg, gg, cdnow, **{**SETTINGS, "margin": 30})
    with pytest.raises(DataError, match="level must lie strictly between 0 and 1"):
        customer_value(bg, gg, cdnow, level=90, **SETTINGS)
    with pytest.raises(DataError, match="uncertainty must be one of"):
        customer_value(bg, gg, cdnow, uncertainty="credible", **SETTINGS)
    with pytest.raises(DataError, match="no acquisition cost for 1 channel value"):
        customer_value(bg, gg, cdnow, acquisition=pd.DataFrame(
            {"channel": ["search", "tv"], "acquisition_cost": [1.0, 2.0]}), **SETTINGS)


def test_cdnow_margin_to_date_counts_every_purchase_once(cdnow, models):
    """Issue 14, Why 1: through the normal path (rfm_summary -> models -> value) the realised
    margin of CDNOW at 30% is 0.3 x every calibration purchase's amount, summed here from the
    transaction log (to 1e-9); with first_purchase="excluded" it is lower by exactly the first
    purchases' margin (45% of CDNOW's margin to date: most customers bought once)."""
    from clvmodels.datasets import load_cdnow_transactions

    log = load_cdnow_transactions()
    revenue = log.loc[log["date"] <= pd.Timestamp("1997-09-30"), "amount"].sum()
    every = customer_value(*models, cdnow, uncertainty=None, **SETTINGS)
    repeat = customer_value(*models, cdnow, uncertainty=None, first_purchase="excluded", **SETTINGS)
    assert every["realised_margin"].sum() == pytest.approx(0.3 * revenue, rel=1e-9)
    first = cdnow["revenue_to_date"] - cdnow["frequency"] * cdnow["monetary_value"]
    np.testing.assert_allclose(every["realised_margin"] - repeat["realised_margin"], 0.3 * first,
                               atol=1e-6)
    assert (first > 0).sum() > 0.99 * len(cdnow)  # nearly every first purchase has an amount
    np.testing.assert_allclose(every["expected_future_margin"], repeat["expected_future_margin"])
