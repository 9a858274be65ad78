"""The CDNOW data: loaders, the published facts of the papers, and parity with lifetimes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clvmodels import calibration_holdout_summary, rfm_summary
from clvmodels.data.meta import summary_meta
from clvmodels.datasets import load_cdnow_summary, load_cdnow_transactions


@pytest.fixture(scope="module")
def transactions():
    return load_cdnow_transactions()


@pytest.fixture(scope="module")
def summary():
    return load_cdnow_summary()


def test_sample_transactions(transactions):
    assert transactions.columns.tolist() == ["customer_id", "date", "n_cds", "amount"]
    assert transactions.dtypes.astype(str).tolist() == ["int64", "datetime64[us]", "int64", "float64"]
    assert len(transactions) == 6_919
    assert transactions["customer_id"].nunique() == 2_357
    assert transactions["customer_id"].min() == 1 and transactions["customer_id"].max() == 2_357
    assert transactions["date"].min() == pd.Timestamp("1997-01-01")
    assert transactions["date"].max() == pd.Timestamp("1998-06-30")
    first = transactions.iloc[0]
    assert (first["customer_id"], first["date"], first["n_cds"], first["amount"]) == (
        1, pd.Timestamp("1997-01-01"), 2, 29.33)


def test_full_file():
    """The full CDNOW file: 23,570 customers, 69,659 purchase records (design.md)."""
    full = load_cdnow_transactions(sample=False)
    assert len(full) == 69_659
    assert full["customer_id"].nunique() == 23_570
    assert full.dtypes.astype(str).tolist() == ["int64", "datetime64[us]", "int64", "float64"]
    # every customer's first purchase falls in the first quarter of 1997 (the cohort)
    assert full.groupby("customer_id")["date"].min().max() < pd.Timestamp("1997-04-01")
    assert len(rfm_summary(full, monetary_value_col="amount", zero_amounts="keep")) == 23_570


def test_published_facts(summary):
    """CDNOW 1/10 sample, 39-week calibration to 1997-09-30, same-day purchases merged.

    Sources: Fader, Hardie & Lee (2005), "Counting your customers the easy way", Marketing Science
    24(2), section 4 (2,357 customers; 1,411 make no repeat purchase in the calibration period;
    2,457 repeat transactions in weeks 1-39 and 1,882 in the holdout, weeks 40-78); Fader & Hardie
    (2013), "The Gamma-Gamma model of monetary value" (946 repeat buyers, mean repeat-transaction
    value $35.08). Counts are exact; the mean to the cent.
    """
    assert len(summary) == 2_357
    assert (summary["frequency"] == 0).sum() == 1_411
    assert summary["frequency"].sum() == 2_457
    assert summary["frequency_holdout"].sum() == 1_882
    repeaters = summary[summary["frequency"] > 0]
    assert len(repeaters) == 946
    assert abs(repeaters["monetary_value"].mean() - 35.08) < 0.005
    assert summary_meta(summary) == {
        "time_unit": "W", "period": "D", "observation_end": "1997-09-30",
        "holdout_end": "1998-06-30", "duration_holdout": 39.0,
    }
    assert summary["T"].max() <= 39.0 and summary["T"].min() > 39.0 - 13  # first quarter cohort


def test_equals_lifetimes_calibration_and_holdout(transactions, summary):
    """lifetimes with freq="D" counts days exactly; our weeks are those days divided by 7
    (lifetimes' freq="W" groups into calendar weeks instead, a different definition).
    Spend means agree to rounding error: lifetimes sums floats row by row, we sum exact
    micro-units. lifetimes' holdout spend is a mean per record (not per purchase day), so it is
    checked against an independent pandas computation instead."""
    from lifetimes.utils import calibration_and_holdout_data

    theirs = calibration_and_holdout_data(
        transactions, "customer_id", "date", calibration_period_end="1997-09-30",
        observation_period_end="1998-06-30", freq="D", monetary_value_col="amount",
    ).loc[summary.index]
    assert np.array_equal(summary["frequency"].to_numpy(float), theirs["frequency_cal"].to_numpy())
    assert np.array_equal(summary["recency"].to_numpy(), theirs["recency_cal"].to_numpy() / 7)
    assert np.array_equal(summary["T"].to_numpy(), theirs["T_cal"].to_numpy() / 7)
    np.testing.assert_allclose(summary["monetary_value"], theirs["monetary_value_cal"], rtol=1e-12)
    assert np.array_equal(summary["frequency_holdout"].to_numpy(float),
                          theirs["frequency_holdout"].to_numpy())
    assert theirs["duration_holdout"].iloc[0] / 7 == summary_meta(summary)["duration_holdout"]

    holdout = transactions[transactions["date"] > "1997-09-30"]
    day_totals = holdout.groupby(["customer_id", "date"])["amount"].sum()
    expected = day_totals.groupby("customer_id").mean().reindex(summary.index, fill_value=0.0)
    np.testing.assert_allclose(summary["monetary_value_holdout"], expected, rtol=1e-12, atol=0)


def test_equals_lifetimes_summary(transactions):
    from lifetimes.utils import summary_data_from_transaction_data

    ours = rfm_summary(transactions, monetary_value_col="amount", zero_amounts="keep")
    theirs = summary_data_from_transaction_data(transactions, "customer_id", "date", "amount", freq="D")
    theirs = theirs.loc[ours.index]
    for column in ("frequency", "recency", "T"):
        assert np.array_equal(ours[column].to_numpy(float), theirs[column].to_numpy())
    np.testing.assert_allclose(ours["monetary_value"], theirs["monetary_value"], rtol=1e-12)


def test_calibration_only_summary_matches_the_split(summary):
    calibration = load_cdnow_summary(holdout=False)
    pd.testing.assert_frame_equal(calibration, summary[calibration.columns], check_exact=True)
    assert summary_meta(calibration) == {"time_unit": "W", "period": "D",
                                         "observation_end": "1997-09-30"}


def test_zero_dollar_records_need_a_policy(transactions):
    """Eight sample records are $0.00; by default an amount column with zeros is refused."""
    assert (transactions["amount"] == 0).sum() == 8
    with pytest.raises(ValueError, match="zero amount.* in 8 rows"):
        calibration_holdout_summary(transactions, calibration_period_end="1997-09-30",
                                    monetary_value_col="amount")
