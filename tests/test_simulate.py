"""The simulator (clvmodels.datasets.simulate): contract, one random stream for logs and summaries,
truth consistent with the data, the BG/NBD and Gamma-Gamma processes it claims, validation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import clvmodels
from clvmodels.datasets import simulate as sim
from clvmodels.errors import DataError
from clvmodels.formulas import bgnbd

CDNOW_BG = dict(r=0.243, alpha=4.414, a=0.793, b=2.426)
CDNOW_GG = dict(p=6.25, q=3.74, gamma=15.44)
# rates low enough that two purchases rarely fall on one day (mean 0.05 a week, sd 0.035)
CALM_BG = dict(r=2.0, alpha=40.0, a=0.8, b=2.5)


def _summarise(log: pd.DataFrame) -> pd.DataFrame:
    """rfm_summary / calibration_holdout_summary of a simulated log, with the dates it carries."""
    options = dict(log.attrs["clvmodels"])
    amount = "amount" if "amount" in log else None
    if "calibration_period_end" in options:
        return clvmodels.calibration_holdout_summary(log, monetary_value_col=amount, **options)
    return clvmodels.rfm_summary(log, monetary_value_col=amount, **options)


def test_summary_follows_the_contract():
    summary = sim.simulate_summary(500, **CDNOW_BG, **CDNOW_GG, holdout_days=91, seed=1)
    assert summary.index.name == "customer_id" and summary.index.dtype == np.int64
    assert list(summary.columns) == ["frequency", "recency", "T", "monetary_value", "revenue_to_date",
                                     "first_purchase_value", "first_purchase", "last_purchase",
                                     "frequency_holdout", "monetary_value_holdout"]
    # every calibration purchase counted once: the first plus the repeats
    np.testing.assert_allclose(summary["revenue_to_date"], summary["first_purchase_value"]
                               + summary["frequency"] * summary["monetary_value"], rtol=1e-12, atol=1e-9)
    assert summary["frequency"].dtype == np.int64 and summary["T"].dtype == np.float64
    assert summary["first_purchase"].dtype == "datetime64[us]"
    assert summary.attrs["clvmodels"] == {"time_unit": "W", "period": "D", "observation_end": "2020-09-29",
                                          "holdout_end": "2020-12-29", "duration_holdout": 13.0}
    # first purchases in the first 84 days; T in whole days / 7
    assert summary["T"].between((273 - 84) / 7, 272 / 7).all()
    days = summary["T"].to_numpy() * 7
    np.testing.assert_allclose(days, np.round(days), rtol=0, atol=1e-9)
    assert (summary["recency"] <= summary["T"]).all()
    no_repeat = summary["frequency"] == 0
    assert (summary.loc[no_repeat, ["recency", "monetary_value"]] == 0).all().all()
    assert (summary.loc[~no_repeat, "monetary_value"] >= 0.01).all()
    plain = sim.simulate_summary(50, **CDNOW_BG, seed=1)
    assert "monetary_value" not in plain and "frequency_holdout" not in plain


@pytest.mark.parametrize("settings", [
    dict(**CDNOW_BG, **CDNOW_GG, time_unit="W", holdout_days=200),
    dict(**CDNOW_BG, time_unit="D", calibration_days=400, cohort_days=400),
    dict(**CDNOW_BG, **CDNOW_GG, time_unit="M", calibration_days=730, holdout_days=365),
    # about two purchases a day: many same-day purchases to merge
    dict(r=4.0, alpha=2.0, a=1.0, b=30.0, **CDNOW_GG, time_unit="D", calibration_days=60, cohort_days=30,
         holdout_days=10),
], ids=["weekly-spend-holdout", "daily-no-spend", "monthly-spend-holdout", "same-day-merges"])
def test_rfm_summary_of_the_log_is_the_summary_exactly(settings, monkeypatch):
    """Logs and summaries come from one generator: rfm_summary of the simulated log equals the
    simulated summary bit for bit (several blocks, so the block seeding is exercised too)."""
    monkeypatch.setattr(sim, "BLOCK_CUSTOMERS", 700)
    log = sim.simulate_transactions(2_000, **settings, seed=4)
    summary = sim.simulate_summary(2_000, **settings, seed=4)
    pd.testing.assert_frame_equal(_summarise(log), summary)
    if settings["alpha"] == 2.0:  # merging really happened
        days = summary["frequency"] + 1 + summary["frequency_holdout"]
        assert len(log) > 1.2 * days.sum()


def test_chunks_and_id_offset_give_the_same_customers(monkeypatch):
    monkeypatch.setattr(sim, "BLOCK_CUSTOMERS", 300)
    args = dict(**CDNOW_BG, **CDNOW_GG, holdout_days=50, seed=7)
    log = sim.simulate_transactions(1_000, **args)
    chunks = list(sim.iter_transaction_chunks(1_000, **args))
    assert len(chunks) == 4
    pd.testing.assert_frame_equal(pd.concat(chunks, ignore_index=True), log)
    shifted = sim.simulate_transactions(1_000, **args, id_offset=5_000_000)
    pd.testing.assert_series_equal(shifted["customer_id"], log["customer_id"] + 5_000_000)
    pd.testing.assert_frame_equal(shifted.drop(columns="customer_id"), log.drop(columns="customer_id"))
    summary = sim.simulate_summary(1_000, **args, id_offset=5_000_000)
    assert summary.index[0] == 5_000_000 and summary.index[-1] == 5_000_999


def test_truth_agrees_with_what_customers_did():
    """Dropped-out customers buy nothing later; the dropout comes at or after the last purchase
    (to within the day the purchase is floored to); dead at calibration end means dead later."""
    summary, truth = sim.simulate_summary(20_000, **CDNOW_BG, **CDNOW_GG, holdout_days=273, seed=3,
                                          return_truth=True)
    assert list(truth.columns) == ["lam", "p_dropout", "nu", "dropout_time", "alive_at_end",
                                   "alive_at_holdout_end"]
    pd.testing.assert_index_equal(truth.index, summary.index)
    dead = ~truth["alive_at_end"]
    assert 0.1 < dead.mean() < 0.5
    assert (summary.loc[dead, "frequency_holdout"] == 0).all()
    assert not (truth["alive_at_holdout_end"] & dead).any()
    assert (truth["dropout_time"] >= summary["recency"] - 1 / 7).all()
    # the day-floored T understates the continuous age by less than a day: so a customer alive at
    # the end of the 39-week holdout drops out after T + 39 weeks, one dead by then before T + 39 + 1/7
    late = truth["alive_at_holdout_end"]
    assert (truth.loc[late, "dropout_time"] > summary.loc[late, "T"] + 39).all()
    assert (truth.loc[~late, "dropout_time"] <= summary.loc[~late, "T"] + 39 + 1 / 7).all()
    # traits come from the stated priors: mean Gamma(r, alpha) and Beta(a, b), 4 SEs
    n = len(truth)
    assert abs(truth["lam"].mean() - 0.243 / 4.414) < 4 * truth["lam"].std() / np.sqrt(n)
    assert abs(truth["p_dropout"].mean() - 0.793 / 3.219) < 4 * truth["p_dropout"].std() / np.sqrt(n)


def test_dropout_comes_right_after_the_last_purchase():
    """In the log (times to the second): a customer who drops out within the simulated window does
    so at their last purchase; everyone else drops out after the window, after every purchase."""
    log, truth = sim.simulate_transactions(5_000, **CDNOW_BG, holdout_days=273, seed=6, return_truth=True)
    dates = log.groupby("customer_id")["date"].agg(["min", "max"])
    last_purchase_days = (dates["max"] - dates["min"]).dt.total_seconds().to_numpy() / 86_400
    dropout_days = truth["dropout_time"].to_numpy() * 7
    gone = ~truth["alive_at_holdout_end"].to_numpy()
    assert 0.2 < gone.mean() < 0.6
    # the first purchase's own time is floored to the second too: 2 seconds of slack
    np.testing.assert_allclose(dropout_days[gone], last_purchase_days[gone], rtol=0, atol=2 / 86_400)
    # the others drop out after the window's end (day 546), which is what "alive" means
    first_days = (dates["min"] - pd.Timestamp(str(sim.START_DATE))).dt.total_seconds().to_numpy() / 86_400
    assert (dropout_days[~gone] > 546 - first_days[~gone] + 2 / 86_400).all()


def test_purchase_counts_follow_the_bgnbd_of_a_new_customer():
    """Mean repeat purchases and the share without any equal FHL 2005 eq. 9 and eq. 8 (n = 0) at
    each customer's age. Flooring to the day means the true continuous age lies in (T, T + 1 day],
    so the simulated value must lie between the formula at T and at T + 1 day, give or take
    4 Monte Carlo SEs (100,000 customers; rates low enough that same-day merging is rare)."""
    summary = sim.simulate_summary(100_000, **CALM_BG, seed=9)
    T = summary["T"].to_numpy()
    frequency = summary["frequency"].to_numpy()
    n = frequency.size
    mean_low = bgnbd.expected_purchases_new(*CALM_BG.values(), T).mean()
    mean_high = bgnbd.expected_purchases_new(*CALM_BG.values(), T + 1 / 7).mean()
    se = frequency.std() / np.sqrt(n)
    assert mean_low - 4 * se < frequency.mean() < mean_high + 4 * se
    none_high = bgnbd.purchase_probability_new(*CALM_BG.values(), T, 0).mean()
    none_low = bgnbd.purchase_probability_new(*CALM_BG.values(), T + 1 / 7, 0).mean()
    se = np.sqrt(none_high * (1 - none_high) / n)
    assert none_low - 4 * se < (frequency == 0).mean() < none_high + 4 * se


def test_repeat_purchase_times_are_uniform_order_statistics():
    """Given N purchases in a window and no dropout, their times are N uniform order statistics,
    so E[recency / age] = N / (N + 1). Over the ~43,000 repeat buyers alive at the end (of
    100,000), the mean of recency / (T + half a day) - N / (N + 1) is 0 within 4 Monte Carlo SEs
    (half a day: the mean amount by which the day-floored T understates the age)."""
    summary, truth = sim.simulate_summary(100_000, **CALM_BG, seed=1, return_truth=True)
    keep = ((summary["frequency"] > 0) & truth["alive_at_end"]).to_numpy()
    n = summary["frequency"].to_numpy()[keep]
    ratio = summary["recency"].to_numpy()[keep] / (summary["T"].to_numpy()[keep] + 0.5 / 7)
    residual = ratio - n / (n + 1)
    assert abs(residual.mean()) < 4 * residual.std() / np.sqrt(residual.size)


def test_each_spend_is_gamma_with_the_customers_rate():
    """Every logged amount times the customer's true nu is Gamma(p, 1) (Fader & Hardie 2013):
    Kolmogorov-Smirnov p-value > 0.001 over ~45,000 purchases (cent rounding is far below the
    KS resolution)."""
    log, truth = sim.simulate_transactions(20_000, **CALM_BG, **CDNOW_GG, seed=2, return_truth=True)
    scaled = log["amount"].to_numpy() * truth["nu"].to_numpy()[log["customer_id"].to_numpy()]
    assert len(scaled) > 40_000
    assert stats.kstest(scaled, stats.gamma(CDNOW_GG["p"]).cdf).pvalue > 1e-3


@pytest.mark.parametrize("change, message", [
    (dict(n_customers=0), "n_customers must be an integer >= 1"),
    (dict(n_customers=10.5), "n_customers must be an integer"),
    (dict(alpha=0.0), "alpha must be a positive number"),
    (dict(b=float("inf")), "b must be a positive number"),
    (dict(a="1"), "a must be a positive number"),
    (dict(q=3.0, gamma=2.0), r"spend needs all of p, q, gamma; got \['q', 'gamma'\] without \['p'\]"),
    (dict(time_unit="Q"), "time_unit must be one of"),
    (dict(cohort_days=300), r"cohort_days \(300\) must not exceed calibration_days \(273\)"),
    (dict(holdout_days=-1), "holdout_days must be an integer >= 0"),
    (dict(seed=-3), "seed must be an integer >= 0"),
])
def test_bad_arguments_are_refused_with_what_to_pass(change, message):
    args = dict(n_customers=10, **CDNOW_BG) | change
    for simulate in (sim.simulate_summary, sim.simulate_transactions):
        with pytest.raises(DataError, match=message):
            simulate(**args)


def test_continuous_time_summary_is_the_model_without_day_merging():
    """time_resolution="continuous": exact times, no merging, T to the end of the calibration
    period, and the BG/NBD MLE recovers the true parameters within 4 standard errors (day
    merging biases alpha upwards at heavy-buyer rates; see the simulate_summary docstring)."""
    heavy = dict(r=2.0, alpha=3.0, a=0.8, b=2.4)  # about 0.7 purchases a week while alive
    summary = sim.simulate_summary(60_000, **heavy, **CDNOW_GG, seed=2, time_resolution="continuous")
    days = summary["T"].to_numpy() * 7
    assert not np.allclose(days, np.round(days))  # not whole days
    assert summary["T"].between((273 - 84) / 7, 273 / 7).all()
    assert (summary["recency"] <= summary["T"]).all()
    np.testing.assert_allclose(summary["revenue_to_date"], summary["first_purchase_value"]
                               + summary["frequency"] * summary["monetary_value"], rtol=1e-12, atol=1e-9)
    day = sim.simulate_summary(60_000, **heavy, **CDNOW_GG, seed=2)
    assert summary["frequency"].sum() > day["frequency"].sum()  # same draws, nothing merged
    bg = clvmodels.BetaGeoModel().fit(summary)
    table = bg.summary()
    for name, true in heavy.items():
        estimate, sd = table.loc[name, "estimate"], table.loc[name, "sd"]
        assert abs(estimate - true) < 4 * sd, (name, estimate, true, sd)


def test_spend_decimals_sets_the_amount_resolution():
    """Cents by default; 6 decimals give practically continuous amounts (distinct mean spends),
    and the log still summarises to the same monetary values."""
    cents = sim.simulate_transactions(300, **CDNOW_BG, **CDNOW_GG, seed=3)
    np.testing.assert_allclose(cents["amount"] * 100, np.round(cents["amount"] * 100), atol=1e-6)
    fine = sim.simulate_summary(3_000, **CDNOW_BG, **CDNOW_GG, seed=3, spend_decimals=6)
    repeat = fine.loc[fine["frequency"] > 0, "monetary_value"]
    assert repeat.nunique() > 0.99 * len(repeat)
    log = sim.simulate_transactions(3_000, **CDNOW_BG, **CDNOW_GG, seed=3, spend_decimals=6)
    again = clvmodels.rfm_summary(log, monetary_value_col="amount", **log.attrs["clvmodels"])
    np.testing.assert_allclose(again["monetary_value"], fine["monetary_value"], rtol=1e-12)
    with pytest.raises(clvmodels.DataError, match="spend_decimals"):
        sim.simulate_summary(10, **CDNOW_BG, **CDNOW_GG, spend_decimals=7)
