"""BetaGeoModel: published CDNOW fits, agreement with lifetimes, intervals, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clvmodels import BetaGeoModel, DataError, GammaGammaModel, NotFittedError
from clvmodels.formulas import bgnbd
from clvmodels.inference.mle import fit_mle


@pytest.fixture(scope="module")
def cdnow():
    from clvmodels.datasets import load_cdnow_summary

    return load_cdnow_summary()


@pytest.fixture(scope="module")
def bg(cdnow):
    return BetaGeoModel().fit(cdnow)


def test_cdnow_parameters_match_published(bg):
    """Fader, Hardie & Lee (2005), "Counting your customers the easy way", section 4: on the CDNOW
    1/10 sample (2,357 customers, 39-week calibration) the MLE is r=0.243, alpha=4.414, a=0.793,
    b=2.426 with LL=-9582.4. Tolerance: the published rounding (half a unit of the last digit)."""
    expected = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    for name, value in expected.items():
        assert bg.params_[name] == pytest.approx(value, abs=0.0005 + 1e-4), name
    assert bg.log_likelihood_ == pytest.approx(-9582.4, abs=0.05)
    assert bg.converged_
    assert bg.n_customers_ == 2357


def test_published_customer_expectation(bg):
    """FHL (2005) section 4: a customer with x=2, t_x=30.43, T=38.86 is expected to make 1.226
    purchases in the next 39 weeks (at the published parameters; tolerance 0.0005)."""
    one = pd.DataFrame({"frequency": [2], "recency": [30.43], "T": [38.86]}, index=["c1"])
    one.attrs["clvmodels"] = {"time_unit": "W"}
    assert bg.expected_purchases(one, 39)["expected_purchases"].iloc[0] == pytest.approx(1.226, abs=5e-4)


def test_agrees_with_lifetimes_at_same_parameters(bg, cdnow):
    """Every BG/NBD prediction lifetimes has, at our fitted parameters, on all CDNOW customers."""
    from lifetimes import BetaGeoFitter

    lt = BetaGeoFitter()
    lt.params_ = bg.params_.copy()
    lt.predict = lt.conditional_expected_number_of_purchases_up_to_time
    x, t_x, T = (cdnow[c].to_numpy() for c in ("frequency", "recency", "T"))
    ours = bg.predict(cdnow, 39)
    np.testing.assert_allclose(ours["p_alive"], lt.conditional_probability_alive(x, t_x, T), rtol=1e-9)
    np.testing.assert_allclose(
        ours["expected_purchases"], lt.conditional_expected_number_of_purchases_up_to_time(39, x, t_x, T),
        rtol=1e-8)
    new = bg.expected_purchases_new([1.0, 39.0, 78.0])["expected_purchases"].to_numpy()
    np.testing.assert_allclose(new, lt.expected_number_of_purchases_up_to_time(np.array([1.0, 39.0, 78.0])),
                               rtol=1e-9)


def test_fit_on_distinct_rows_equals_fit_on_all_customers(cdnow):
    """Compression is exact: the weighted likelihood over distinct rows gives the same MLE as the
    plain likelihood over every customer."""
    x, t_x, T = (cdnow[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    ones = np.ones_like(x)
    plain = fit_mle(lambda lp: bgnbd.neg_log_likelihood_and_grad(lp, x, t_x, T, ones),
                    np.zeros(4), names=bgnbd.PARAM_NAMES, n_customers=x.size)
    model = BetaGeoModel().fit(cdnow)
    assert model.n_distinct_rows_ < model.n_customers_
    np.testing.assert_allclose(model.params_.to_numpy(), plain.params, rtol=1e-5)
    assert model.log_likelihood_ == pytest.approx(plain.log_likelihood, abs=1e-6)


def test_summary_table_and_html(bg):
    table = bg.summary()
    assert list(table.index) == ["r", "alpha", "a", "b"]
    assert (table["lower"] < table["estimate"]).all() and (table["estimate"] < table["upper"]).all()
    assert (table["sd"] > 0).all() and (table["level"] == 0.9).all()
    assert list(table.columns) == ["estimate", "sd", "lower", "upper", "level"]
    facts = bg.fit_summary()
    assert len(facts) == 1 and facts["log_likelihood"].iloc[0] == bg.log_likelihood_
    assert table.attrs["clvmodels"]["converged"] == bool(facts["converged"].iloc[0])
    html = bg._repr_html_()
    assert "BetaGeoModel" in html and "alpha" in html and "log_likelihood" in html


def test_expected_interval_brackets_estimate_and_is_seeded(bg, cdnow):
    a = bg.predict(cdnow, 39, uncertainty="expected", seed=3, n_draws=200)
    b = bg.predict(cdnow, 39, uncertainty="expected", seed=3, n_draws=200)
    pd.testing.assert_frame_equal(a, b)
    for q in ("p_alive", "expected_purchases", "prob_no_purchase"):
        assert (a[f"{q}_lower"] <= a[q] + 1e-12).all() and (a[q] <= a[f"{q}_upper"] + 1e-12).all(), q
    assert (a["expected_purchases_upper"] > a["expected_purchases_lower"]).all()


def test_predictive_interval_of_counts(bg, cdnow):
    out = bg.expected_purchases(cdnow, 39, uncertainty="predictive", seed=1, n_draws=300)
    lo, hi = out["expected_purchases_lower"], out["expected_purchases_upper"]
    assert np.all(lo == np.round(lo)) and np.all(hi == np.round(hi)) and (lo >= 0).all()
    assert (hi >= lo).all()
    # a heavy buyer's predictive interval is wide; it contains the expectation
    heavy = cdnow["frequency"].idxmax()
    assert lo[heavy] < out.loc[heavy, "expected_purchases"] < hi[heavy]
    assert out.attrs["interval_kinds"]["expected_purchases"] == "predictive"


def test_probabilities_refuse_predictive(bg, cdnow):
    with pytest.raises(DataError, match="not an outcome"):
        bg.p_alive(cdnow, uncertainty="predictive")
    both = bg.predict(cdnow.head(50), 10, uncertainty="predictive", seed=0)
    assert both.attrs["interval_kinds"]["p_alive"] == "expected"


def test_expected_purchases_increase_with_horizon(bg, cdnow):
    horizons = [1, 5, 20, 52, 200]
    values = np.column_stack([bg.expected_purchases(cdnow, h)["expected_purchases"] for h in horizons])
    assert np.all(np.diff(values, axis=1) >= 0)


def test_churn_probability_grows_with_horizon(bg, cdnow):
    """Churn now (p_dropped_out) is 1 - P(alive); churn_probability at horizon 0 is the same
    number, and churn by the end of a longer horizon is never smaller."""
    now = bg.p_dropped_out(cdnow)["p_dropped_out"]
    later = bg.churn_probability(cdnow, 52)["churn_probability"]
    np.testing.assert_allclose(now, 1 - bg.p_alive(cdnow)["p_alive"], rtol=1e-12)
    np.testing.assert_allclose(bg.churn_probability(cdnow, 0)["churn_probability"], now, rtol=1e-12)
    assert (later >= now - 1e-12).all() and (later > now + 1e-6).mean() > 0.5


def test_purchase_probability_columns_sum_below_one(bg, cdnow):
    probs = bg.purchase_probability(cdnow.head(100), 39, n=range(0, 40))
    total = probs.sum(axis=1)
    assert (total <= 1 + 1e-9).all() and (total > 0.99).all()


def test_errors_are_clear(cdnow):
    with pytest.raises(NotFittedError, match="fit"):
        BetaGeoModel().p_alive(cdnow)
    with pytest.raises(DataError, match=r"method must be one of \['mle', 'bayes'\]; got 'mcmc'"):
        BetaGeoModel(method="mcmc").fit(cdnow)
    broken = cdnow.copy()
    broken.loc[broken.index[:3], "recency"] = broken["T"].iloc[:3] + 1
    with pytest.raises(DataError, match="recency must lie between 0 and T.*3 rows"):
        BetaGeoModel().fit(broken)
    with pytest.raises(DataError, match="horizon"):
        BetaGeoModel().fit(cdnow).expected_purchases(cdnow, -1)


def test_unit_mismatch_is_refused(bg, cdnow):
    daily = cdnow.copy()
    daily.attrs["clvmodels"] = {**cdnow.attrs["clvmodels"], "time_unit": "D"}
    with pytest.raises(DataError, match="time unit"):
        bg.p_alive(daily)


def test_save_load_round_trip(bg, cdnow, tmp_path):
    from clvmodels import load_model

    bg.save(tmp_path / "bg.json")
    again = load_model(tmp_path / "bg.json")
    pd.testing.assert_series_equal(again.params_, bg.params_)
    pd.testing.assert_frame_equal(
        again.predict(cdnow, 39, uncertainty="expected", seed=5, n_draws=100),
        bg.predict(cdnow, 39, uncertainty="expected", seed=5, n_draws=100),
    )
    assert b"pickle" not in (tmp_path / "bg.json").read_bytes()


def test_predict_with_spend_model(bg, cdnow):
    gg = GammaGammaModel().fit(cdnow)
    out = bg.predict(cdnow, 39, spend_model=gg, uncertainty="predictive", seed=2, n_draws=200)
    np.testing.assert_allclose(out["expected_revenue"], out["expected_purchases"] * out["expected_spend"],
                               rtol=1e-12)
    assert (out["expected_revenue_lower"] >= 0).all()
    assert (out["expected_revenue_upper"] >= out["expected_revenue_lower"]).all()
