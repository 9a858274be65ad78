"""compare_models and its tables on CDNOW and on tiny frames: published numbers, every column
recomputed from its definition, and the refusals.

CDNOW here is the 1/10 sample of Fader, Hardie & Lee (2005): 2,357 customers, 39-week calibration
to 1997-09-30 and 39-week holdout to 1998-06-30, weeks = days / 7.
"""

from __future__ import annotations

import doctest
import math

import numpy as np
import pandas as pd
import pytest

from clvmodels import BetaGeoModel, as_summary
from clvmodels.datasets import load_cdnow_summary, load_cdnow_transactions
from clvmodels.errors import DataError
from clvmodels.families import get_family
from clvmodels.models import comparison, comparison_inputs
from clvmodels.models import comparison_metrics as metrics
from clvmodels.models.comparison import (
    compare_models,
    holdout_by_frequency,
    period_transactions_table,
    tracking_table,
)
from clvmodels.models.comparison_inputs import fit_purchase_models


@pytest.fixture(scope="module")
def cdnow():
    return load_cdnow_summary()


@pytest.fixture(scope="module")
def log():
    return load_cdnow_transactions()


class AtParams:
    """A purchase model held at given parameters: only the contract's ``family`` and the shared
    model API the comparison reads (``params_``, ``time_unit_``, ``customer_params``,
    ``expected_purchases``). That the comparison works with it shows it asks nothing else."""

    def __init__(self, family, params: dict, time_unit: str = "W"):
        self.family = family
        self.params_ = pd.Series(params)[list(family.param_names)]
        self.time_unit_ = time_unit

    def customer_params(self, summary, draws=None):
        return {k: np.array([[float(v)]]) for k, v in self.params_.items()}

    def expected_purchases(self, summary, horizon):
        history = [summary[c].to_numpy(float) for c in self.family.history_columns]
        value = self.family.expected_purchases(self.customer_params(summary), *history, horizon)
        return pd.DataFrame({"expected_purchases": np.ravel(value)}, index=summary.index)


def at_published(name: str) -> AtParams:
    family = get_family(name)
    return AtParams(family, dict(family.example_params))


# ----- published numbers ---------------------------------------------------------------------------
def test_bgnbd_log_likelihood_at_the_published_parameters(cdnow):
    """Fader, Hardie & Lee (2005), section 5: r = 0.243, alpha = 4.414, a = 0.793, b = 2.426 give
    LL = -9582.4 on CDNOW (to 0.05: the published parameters are rounded to three decimals)."""
    table = compare_models(cdnow, models={"FHL 2005": at_published("bgnbd")})
    assert table.loc["FHL 2005", "log_likelihood"] == pytest.approx(-9582.4, abs=0.05)
    assert not table.loc["FHL 2005", "fitted_here"]


def test_paretonbd_log_likelihood_at_the_published_parameters(cdnow):
    """BTYD vignette (cdnowSummary, pnbd.EstimateParameters): r = 0.5534, alpha = 10.580,
    s = 0.6061, beta = 11.656, LL = -9594.976 (to 0.001)."""
    table = compare_models(cdnow, models={"BTYD": at_published("pnbd")})
    assert table.loc["BTYD", "log_likelihood"] == pytest.approx(-9594.976, abs=1e-3)


def test_histogram_zero_bin_is_the_btyd_probability():
    """BTYD documentation (bgnbd.pmf): at the FHL 2005 parameters P(X(39) = 0) = 0.5737864 for a
    new customer; 1,000 customers all observed 39 weeks expect 573.7864 with no repeat purchase."""
    one = as_summary(pd.DataFrame({"frequency": np.zeros(1000, int), "recency": 0.0, "T": 39.0}),
                     time_unit="W", observation_end="1997-09-30")
    table = period_transactions_table(one, {"m": at_published("bgnbd")}, max_frequency=3)
    assert table.loc["0", "m"] == pytest.approx(573.7864, abs=1e-4)
    assert table["m"].sum() == pytest.approx(1000.0)


def test_fitted_bgnbd_reproduces_the_published_fit_and_histogram(cdnow):
    """The fitted BG/NBD's LL is FHL 2005's -9582.4; the observed histogram is FHL 2005 Figure 3's
    (1411, 439, 214, 100, 62, 38, 29 and 64 with 7+ repeat purchases)."""
    table = compare_models(cdnow, models=[BetaGeoModel()])
    assert table.loc["BG/NBD", "log_likelihood"] == pytest.approx(-9582.4, abs=0.05)
    hist = period_transactions_table(cdnow, [BetaGeoModel()])
    assert hist["observed"].tolist() == [1411, 439, 214, 100, 62, 38, 29, 64]


def test_holdout_expectations_agree_with_lifetimes(cdnow):
    """lifetimes' BetaGeoFitter at the FHL 2005 parameters is the oracle for each customer's
    expected purchases in the 39-week holdout; the MAE, RMSE and totals follow from them."""
    lifetimes = pytest.importorskip("lifetimes")
    oracle = lifetimes.BetaGeoFitter()
    oracle.params_ = pd.Series(dict(get_family("bgnbd").example_params))
    expected = oracle.conditional_expected_number_of_purchases_up_to_time(
        39, cdnow["frequency"], cdnow["recency"], cdnow["T"]).to_numpy()
    actual = cdnow["frequency_holdout"].to_numpy(float)
    row = compare_models(cdnow, models={"m": at_published("bgnbd")}).loc["m"]
    assert row["holdout_expected"] == pytest.approx(expected.sum(), rel=1e-8)
    assert row["holdout_actual"] == actual.sum() == 1882  # FHL 2005: 1,882 holdout purchases
    assert row["holdout_mae"] == pytest.approx(np.abs(expected - actual).mean(), rel=1e-8)
    assert row["holdout_rmse"] == pytest.approx(np.sqrt(((expected - actual) ** 2).mean()), rel=1e-8)
    assert row["holdout_error_pct"] == pytest.approx(100 * (expected.sum() - 1882) / 1882, rel=1e-8)


# ----- every column from its definition ------------------------------------------------------------
def test_every_default_model_is_fitted_and_scored_consistently(cdnow):
    """Default candidates: the registry's continuous-time families. For each: LL equals the fit's
    own log_likelihood_, AIC/BIC follow from LL, k and n, and the chi-square is recomputed from the
    histogram table on the bins the table's attrs state."""
    from clvmodels.models.registry import purchase_model_class, purchase_model_names

    continuous = [purchase_model_class(n).family.label for n in purchase_model_names()
                  if not purchase_model_class(n).family.discrete_time]
    fitted = fit_purchase_models(cdnow)
    assert sorted(m.family.label for m in fitted.values()) == sorted(continuous)
    table = compare_models(cdnow, models=fitted)
    assert list(table.index) == list(fitted)  # the given order: nothing picked
    assert "rank" not in table.columns
    hist = period_transactions_table(cdnow, fitted)
    bins = table.attrs["clvmodels"]["chi2_bins"]
    k_tail = len(bins) - 1
    for label, model in fitted.items():
        row = table.loc[label]
        k, n = row["n_params"], row["n_customers"]
        assert k == len(model.family.param_names) and n == len(cdnow)
        assert row["log_likelihood"] == pytest.approx(model.log_likelihood_, abs=1e-8)
        assert row["aic"] == pytest.approx(2 * k - 2 * row["log_likelihood"])
        assert row["bic"] == pytest.approx(k * math.log(n) - 2 * row["log_likelihood"])
        observed = metrics.pool_tail(hist["observed"].to_numpy(), k_tail)
        expected = metrics.pool_tail(hist[label].to_numpy(), k_tail)
        assert row["chi2"] == pytest.approx(((observed - expected) ** 2 / expected).sum())
        assert row["chi2_df"] == len(bins) - 1 - k
        assert row["chi2_min_expected"] == pytest.approx(expected.min())
        assert not row["fitted_here"]  # passed fitted: scored as given


def test_histogram_mean_is_the_expected_number_of_repeat_purchases(cdnow):
    """For every family: sum over bins of n x (expected customers with n) equals
    sum_i E[X(T_i)] (the family's expected_purchases_new), once the tail holds (nearly) nobody."""
    for label, model in fit_purchase_models(cdnow).items():
        hist = period_transactions_table(cdnow, {label: model}, max_frequency=80)[label].to_numpy()
        params = model.customer_params(cdnow)
        mean = float(np.sum(model.family.expected_purchases_new(params, cdnow["T"].to_numpy(float))))
        assert hist[-1] < 1e-3, label
        assert float(np.arange(81) @ hist) == pytest.approx(mean, rel=2e-4), label
        assert hist.sum() == pytest.approx(len(cdnow))


def test_tracking_counts_and_curves(cdnow, log):
    """Actual cumulative repeat purchases: 2,457 by the calibration end (the summary's frequencies,
    FHL 2005) and 2,457 + 1,882 by the holdout end. Expected: sum_i E[X(t_i)] by brute force over
    customers at three dates. The MAPE columns are those of the curve."""
    model = BetaGeoModel().fit(cdnow)
    track = tracking_table(cdnow, log, {"m": model})
    at = track.set_index("period")
    assert at.loc[0, "actual"] == cdnow["frequency"].sum() == 2457
    assert at.loc[39, "actual"] == 2457 + 1882
    assert track.index[track["period"] == 39][0] == pd.Timestamp("1998-06-30")
    first = cdnow["first_purchase"].to_numpy("datetime64[D]").astype(np.int64)
    params = {k: float(v) for k, v in model.params_.items()}
    for date in track.index[[3, 38, -1]]:
        t = (np.datetime64(date.date(), "D").astype(np.int64) - first) / 7.0
        brute = sum(float(model.family.expected_purchases_new(params, ti)) for ti in t if ti > 0)
        assert track.loc[date, "m"] == pytest.approx(brute, rel=1e-10)
    row = compare_models(cdnow, models={"m": model}, transactions=log).loc["m"]
    hold = track["period"] > 0
    assert row["tracking_mape_holdout"] == pytest.approx(metrics.mape(track["m"][hold], track["actual"][hold]))
    assert row["tracking_mape_calibration"] == pytest.approx(
        metrics.mape(track["m"][~hold], track["actual"][~hold]))


def test_holdout_by_frequency_matches_the_per_customer_expectations(cdnow):
    model = BetaGeoModel().fit(cdnow)
    table = holdout_by_frequency(cdnow, {"m": model})
    expected = model.expected_purchases(cdnow, 39)["expected_purchases"]
    two = cdnow["frequency"] == 2
    assert table.loc["2", "customers"] == two.sum() == 214
    assert table.loc["2", "m"] == pytest.approx(expected[two].mean())
    assert table.loc["7+", "observed"] == pytest.approx(cdnow["frequency_holdout"][cdnow["frequency"] >= 7].mean())


def test_rank_by_orders_only_when_asked(cdnow):
    """rank_by sorts best first and adds rank; lower is better for AIC, higher for LL."""
    models = {"plain": BetaGeoModel().fit(cdnow), "penalised": BetaGeoModel(penalizer=0.5).fit(cdnow)}
    plain = compare_models(cdnow, models=dict(reversed(list(models.items()))))
    assert list(plain.index) == ["penalised", "plain"] and "rank" not in plain.columns
    by_aic = compare_models(cdnow, models=models, rank_by="aic")
    assert list(by_aic.index) == ["plain", "penalised"] and by_aic["rank"].tolist() == [1, 2]
    by_ll = compare_models(cdnow, models=models, rank_by="log_likelihood")
    assert by_ll["log_likelihood"].is_monotonic_decreasing
    assert by_ll.attrs["clvmodels"]["rank_by"] == "log_likelihood"
    with pytest.raises(DataError, match=r"rank_by must be one of \['aic'"):
        compare_models(cdnow, models=models, rank_by="best")


def test_labels_settings_and_copies(cdnow):
    """Unfitted instances are fitted on copies (the caller's stays unfitted); labels name the
    settings that differ from the defaults, and equal labels are numbered."""
    given = BetaGeoModel(penalizer=0.1)
    fitted = fit_purchase_models(cdnow, [given, BetaGeoModel(), BetaGeoModel()])
    assert list(fitted) == ["BG/NBD (penalizer=0.1)", "BG/NBD", "BG/NBD #2"]
    assert not hasattr(given, "params_")
    assert fitted["BG/NBD (penalizer=0.1)"].penalizer == 0.1
    table = compare_models(cdnow, models=[BetaGeoModel, fitted["BG/NBD"]])
    assert table["fitted_here"].tolist() == [True, False]


def test_model_pooled_by_segment_counts_every_segments_parameters(cdnow):
    frame = cdnow.copy()
    frame["channel"] = np.where(frame.index % 2 == 0, "even", "odd")
    model = BetaGeoModel(pool_by="channel", shrinkage=None).fit(frame)
    row = compare_models(frame, models={"m": model}).loc["m"]
    assert row["n_params"] == 8
    assert row["log_likelihood"] == pytest.approx(model.log_likelihood_, abs=1e-8)


def test_same_numbers_every_time(cdnow, log):
    first = compare_models(cdnow, models=[BetaGeoModel()], transactions=log)
    again = compare_models(cdnow, models=[BetaGeoModel()], transactions=log)
    pd.testing.assert_frame_equal(first, again)


# ----- refusals ------------------------------------------------------------------------------------
def test_a_summary_without_holdout_is_refused(cdnow):
    calibration_only = load_cdnow_summary(holdout=False)
    with pytest.raises(DataError, match="no 'frequency_holdout' column"):
        compare_models(calibration_only, models=[BetaGeoModel()])


def test_a_separate_holdout_must_cover_exactly_the_customers(cdnow):
    holdout = cdnow["frequency_holdout"]
    same = compare_models(cdnow.drop(columns="frequency_holdout"), holdout, models=[BetaGeoModel()],
                          horizon=39)
    assert same.loc["BG/NBD", "holdout_actual"] == 1882
    with pytest.raises(DataError, match=r"missing 3 rows .*fill_value=0"):
        compare_models(cdnow, holdout.iloc[3:], models=[BetaGeoModel()])
    extra = pd.concat([holdout, pd.Series([1], index=[99999])])
    with pytest.raises(DataError, match=r"1 row \(e.g. 99999\) not in the summary"):
        compare_models(cdnow, extra, models=[BetaGeoModel()])
    bad = holdout.astype(float).copy()
    bad.iloc[0] = 0.5
    with pytest.raises(DataError, match="whole numbers >= 0"):
        compare_models(cdnow, bad, models=[BetaGeoModel()])


def test_a_horizon_contradicting_the_summary_is_refused(cdnow):
    with pytest.raises(DataError, match="holdout lasts 39.0"):
        compare_models(cdnow, models=[BetaGeoModel()], horizon=52)


def test_other_candidates_are_refused(cdnow):
    from clvmodels.models.registry import purchase_model_class, purchase_model_names

    with pytest.raises(DataError, match="not a purchase model"):
        compare_models(cdnow, models=[object()])
    discrete = [purchase_model_class(n) for n in purchase_model_names()
                if purchase_model_class(n).family.discrete_time]
    for cls in discrete:
        with pytest.raises(DataError, match="discrete purchase opportunities"):
            compare_models(cdnow, models=[cls()])
    with pytest.raises(DataError, match="models is empty"):
        compare_models(cdnow, models=[])


def test_a_model_fitted_in_another_unit_is_refused(cdnow):
    days = load_cdnow_summary(time_unit="D")
    with pytest.raises(DataError, match="fitted in time unit 'D'"):
        compare_models(cdnow, models=[BetaGeoModel().fit(days)])


def test_a_log_that_is_not_the_summarys_is_refused(cdnow, log):
    short = log[log["customer_id"] != 5]
    with pytest.raises(DataError, match=r"no purchase of 1 row \(e.g. 5\)"):
        compare_models(cdnow, models=[BetaGeoModel()], transactions=short)
    with pytest.raises(DataError, match="lacks the columns"):
        compare_models(cdnow, models=[BetaGeoModel()], transactions=log.rename(columns={"date": "day"}))


@pytest.mark.parametrize("module", [comparison, comparison_inputs])
def test_examples_run(module):
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_summaries_and_settings_that_cannot_be_read_are_refused(cdnow):
    fitted = {"m": BetaGeoModel().fit(cdnow)}
    with pytest.raises(DataError, match=r"lacks \['recency'\]"):
        compare_models(cdnow.drop(columns="recency"), models=fitted)
    with pytest.raises(DataError, match="duplicate customer ids"):
        compare_models(pd.concat([cdnow, cdnow.iloc[:2]]), models=fitted)
    with pytest.raises(DataError, match="max_frequency must be a whole number >= 1"):
        compare_models(cdnow, models=fitted, max_frequency=0)
    with pytest.raises(DataError, match="min_expected must be a number >= 0"):
        compare_models(cdnow, models=fitted, min_expected=-1)


def test_public_functions_document_every_parameter():
    """numpydoc's validator finds no undocumented or unknown parameter (PR01, PR02)."""
    validate = pytest.importorskip("numpydoc.validate").validate
    from clvmodels.plotting import comparison as plots

    names = ["clvmodels.models.comparison." + n for n in
             ("compare_models", "period_transactions_table", "holdout_by_frequency", "tracking_table")]
    names += ["clvmodels.models.comparison_inputs.fit_purchase_models"]
    names += [f"clvmodels.plotting.comparison.{n}" for n in dir(plots) if n.startswith("plot_")]
    for name in names:
        errors = [code for code, _ in validate(name)["errors"] if code in ("PR01", "PR02")]
        assert not errors, (name, errors)


def test_tracking_end_is_read_one_way(cdnow, log):
    model = {"m": BetaGeoModel().fit(cdnow)}
    short = tracking_table(cdnow, log, model, end="1997-12-31")
    assert short["period"].max() == 13 and short.index[-1] == pd.Timestamp("1997-12-30")
    with pytest.raises(DataError, match="not an ISO 8601 date"):
        tracking_table(cdnow, log, model, end="12/31/1997")


def test_small_samples_pool_the_tail_for_every_model_alike(cdnow):
    """200 CDNOW customers: bins 0..6, 7+ would expect fewer than 5 customers in the tail bins, so
    the tail is widened until every model expects >= 5 in every bin; all models share the bins,
    and df = bins - 1 - k follows."""
    small = cdnow.iloc[:200].copy()
    small.attrs = cdnow.attrs
    table = compare_models(small)
    bins = table.attrs["clvmodels"]["chi2_bins"]
    assert 2 <= len(bins) < 8 and bins[-1].endswith("+")
    assert (table["chi2_min_expected"] >= 5).all()
    assert (table["chi2_df"] == len(bins) - 1 - table["n_params"]).all()
    hist = period_transactions_table(small, fit_purchase_models(small), max_frequency=len(bins))
    wider = metrics.pool_tail(hist.drop(columns="observed").to_numpy().T, len(bins))
    assert wider.min() < 5  # one bin more would break the rule for some model
