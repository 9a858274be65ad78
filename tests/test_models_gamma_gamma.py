"""GammaGammaModel: published CDNOW fit, agreement with lifetimes, intervals."""

from __future__ import annotations

import numpy as np
import pytest

from clvmodels import DataError, GammaGammaModel


@pytest.fixture(scope="module")
def cdnow():
    from clvmodels.datasets import load_cdnow_summary

    return load_cdnow_summary()


@pytest.fixture(scope="module")
def gg(cdnow):
    return GammaGammaModel().fit(cdnow)


def test_cdnow_parameters_match_published(gg):
    """Fader & Hardie (2013), "The Gamma-Gamma model of monetary value", on the 946 CDNOW repeat
    buyers of the 39-week calibration: p=6.25, q=3.74, gamma=15.44 (tolerance: 1% relative, as the
    note reports two decimals)."""
    assert gg.n_customers_ == 946
    for name, value in {"p": 6.25, "q": 3.74, "gamma": 15.44}.items():
        assert gg.params_[name] == pytest.approx(value, rel=0.01), name


def test_agrees_with_lifetimes(gg, cdnow):
    from lifetimes import GammaGammaFitter

    lt = GammaGammaFitter()
    lt.params_ = gg.params_.rename({"gamma": "v"})
    ours = gg.expected_spend(cdnow)["expected_spend"].to_numpy()
    theirs = lt.conditional_expected_average_profit(cdnow["frequency"], cdnow["monetary_value"]).to_numpy()
    repeat = cdnow["frequency"].to_numpy() > 0
    np.testing.assert_allclose(ours[repeat], theirs[repeat], rtol=1e-10)
    assert ours[~repeat] == pytest.approx(gg.population_mean_spend())


def test_intervals(gg, cdnow):
    exp = gg.expected_spend(cdnow, uncertainty="expected", seed=0, n_draws=200)
    assert (exp["expected_spend_lower"] <= exp["expected_spend"]).all()
    assert (exp["expected_spend"] <= exp["expected_spend_upper"]).all()
    pred = gg.expected_spend(cdnow, uncertainty="predictive", seed=0, n_draws=400)
    # one purchase varies more than its expectation
    width_pred = pred["expected_spend_upper"] - pred["expected_spend_lower"]
    width_exp = exp["expected_spend_upper"] - exp["expected_spend_lower"]
    assert (width_pred > width_exp).mean() > 0.99


def test_needs_repeat_buyers(cdnow):
    with pytest.raises(DataError, match="repeat purchase"):
        GammaGammaModel().fit(cdnow[cdnow["frequency"] == 0])
    with pytest.raises(DataError, match="monetary_value"):
        GammaGammaModel().fit(cdnow.drop(columns="monetary_value"))
