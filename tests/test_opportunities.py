"""Transaction log -> discrete-opportunity summary: hand-checked cases, the donations matrix
rebuilt from a log, and the refusals (same standard as rfm_summary)."""

from __future__ import annotations

import os

import lifetimes
import numpy as np
import pandas as pd
import pytest

from clvmodels.data.opportunities import opportunity_summary, period_index, period_last_day
from clvmodels.errors import DataError

LOG = pd.DataFrame({
    "customer_id": ["a", "a", "a", "a", "b", "b", "c"],
    "date": ["1995-03-01", "1996-05-01", "1996-07-01", "1998-01-05", "1995-12-31", "1999-01-01",
             "2001-02-02"],
    "amount": [10.0, 20.0, 5.0, 15.0, 7.0, 8.0, 9.0],
})


def test_yearly_summary_by_hand():
    """a: first year 1995, repeats in 1996 (two donations, one opportunity: 25) and 1998, so
    x = 2, t_x = 3, n = 6 (1996..2001); b: 1995 then 1999: x = 1, t_x = 4, n = 6; c: first in
    2001: x = t_x = n = 0. Amounts: monetary_value = mean of the repeat periods' totals."""
    s = opportunity_summary(LOG, period="Y", monetary_value_col="amount", observation_period_end="2001-12-31")
    assert list(s.index) == ["a", "b", "c"]
    assert s["frequency"].tolist() == [2, 1, 0]
    assert s["recency"].tolist() == [3, 4, 0]
    assert s["n_periods"].tolist() == [6, 6, 0]
    assert s["monetary_value"].tolist() == [20.0, 8.0, 0.0]  # (25 + 15) / 2, 8 / 1
    assert s["first_purchase_value"].tolist() == [10.0, 7.0, 9.0]
    np.testing.assert_allclose(s["revenue_to_date"], s["first_purchase_value"] + s["frequency"] * s["monetary_value"])
    assert s["revenue_to_date"].sum() == LOG["amount"].sum()  # every transaction counted once
    assert str(s.loc["a", "last_purchase"].date()) == "1998-01-05"
    assert s.attrs["clvmodels"] == {"time_unit": "Y", "period": "Y", "observation_end": "2001-12-31"}
    assert s["frequency"].dtype == np.int64 and s["n_periods"].dtype == np.int64


def test_default_end_is_the_last_transactions_period():
    s = opportunity_summary(LOG, period="Y")
    assert s.attrs["clvmodels"]["observation_end"] == "2001-12-31"
    assert s["n_periods"].tolist() == [6, 6, 0]


def test_calibration_holdout_split():
    """Calibration 1995-1999 (n = 4 for a and b), holdout 2000-2001: c (first in 2001) is not a
    calibration customer; a transacts in no holdout year; b neither."""
    log = pd.concat([LOG, pd.DataFrame({"customer_id": ["a", "a", "b"], "date": ["2000-03-03", "2001-04-04", "2001-05-05"],
                                        "amount": [1.0, 1.0, 1.0]})])
    s = opportunity_summary(log, period="Y", calibration_period_end="1999-12-31", observation_period_end="2001-12-31")
    assert list(s.index) == ["a", "b"]
    assert s["n_periods"].tolist() == [4, 4]
    assert s["frequency_holdout"].tolist() == [2, 1]
    meta = s.attrs["clvmodels"]
    assert (meta["observation_end"], meta["holdout_end"], meta["duration_holdout"]) == ("1999-12-31", "2001-12-31", 2.0)


def test_monthly_and_weekly_periods():
    """Months: 1 Jan and 31 Jan are one opportunity, 1 Feb the next. Weeks run Monday-Sunday:
    Sunday 2023-01-01 and Monday 2023-01-02 are different weeks."""
    log = pd.DataFrame({"customer_id": [1, 1, 1, 2, 2], "date": ["2023-01-01", "2023-01-31", "2023-02-01",
                                                             "2023-01-01", "2023-01-02"]})
    months = opportunity_summary(log, period="M", observation_period_end="2023-03-31")
    assert months.loc[1, ["frequency", "recency", "n_periods"]].tolist() == [1, 1, 2]
    assert months.loc[2, ["frequency", "recency", "n_periods"]].tolist() == [0, 0, 2]
    weeks = opportunity_summary(log, period="W", observation_period_end="2023-02-05")
    assert weeks.loc[2, ["frequency", "recency", "n_periods"]].tolist() == [1, 1, 5]


@pytest.mark.parametrize("period", ["D", "W", "M", "Y"])
def test_period_arithmetic(period):
    days = np.arange(-3000, 3000)
    index = period_index(days, period)
    last = period_last_day(index, period)
    assert np.all(last >= days)
    np.testing.assert_array_equal(period_index(last, period), index)
    np.testing.assert_array_equal(period_index(last + 1, period), index + 1)


def test_donations_matrix_rebuilt_from_a_log():
    """A log with one donation in 1995 per donor and repeats laid out to match each cell of the
    FHS 2010 recency/frequency matrix (lifetimes' donations.csv) gives back the matrix exactly."""
    path = os.path.join(os.path.dirname(lifetimes.__file__), "datasets", "donations.csv")
    cells = pd.read_csv(path)
    rows, donor = [], 0
    for x, t_x, _n, weight in cells.itertuples(index=False):
        years = [1995] + list(range(1995 + t_x - x + 1, 1995 + t_x + 1))  # the x repeats end at t_x
        for _ in range(weight):
            rows += [(donor, f"{y}-06-15") for y in years]
            donor += 1
    log = pd.DataFrame(rows, columns=["customer_id", "date"])
    s = opportunity_summary(log, period="Y", observation_period_end="2001-12-31")
    got = s.groupby(["frequency", "recency", "n_periods"]).size().rename("weights").reset_index()
    expected = cells.rename(columns={"periods": "n_periods"}).sort_values(["frequency", "recency"])
    np.testing.assert_array_equal(got.to_numpy(), expected[got.columns].to_numpy())


def test_refusals_name_the_problem_counts_and_examples():
    with pytest.raises(DataError, match=r"not the last day of a 'Y' period.*2000-12-31"):
        opportunity_summary(LOG, period="Y", observation_period_end="2001-06-30")
    with pytest.raises(DataError, match="calibration_period_end 1999-06-30 is not the last day"):
        opportunity_summary(LOG, period="Y", calibration_period_end="1999-06-30")
    with pytest.raises(DataError, match=r"after the observation end 2000-12-31 in 1 row \(e.g. 'c'\).*late_purchases='drop'"):
        opportunity_summary(LOG, period="Y", observation_period_end="2000-12-31")
    dropped = opportunity_summary(LOG, period="Y", observation_period_end="2000-12-31", late_purchases="drop")
    assert list(dropped.index) == ["a", "b"]
    bad = LOG.assign(customer_id=[None, "a", "a", "a", "b", "b", "c"], amount=[10.0, -2.0, 5.0, 15.0, 7.0, 8.0, 9.0])
    with pytest.raises(DataError) as err:
        opportunity_summary(bad, period="Y", monetary_value_col="amount")
    assert "missing customer id" in str(err.value) and "negative amount" in str(err.value)
    with pytest.raises(DataError, match="period must be one of"):
        opportunity_summary(LOG, period="Q")
    with pytest.raises(DataError, match="needs a pandas DataFrame"):
        opportunity_summary("log.csv", period="Y")
    with pytest.raises(DataError, match="clash with summary column names"):
        opportunity_summary(LOG.assign(n_periods=1), period="Y", attribute_cols="n_periods")


def test_net_returns_merge_per_period_and_attributes_carry():
    """returns='net': b's 1999 purchase of 8 and a return of 8 in the same year net to zero, so
    1999 is no opportunity taken and b has no repeat; a channel attribute is carried."""
    log = pd.concat([LOG, pd.DataFrame({"customer_id": ["b"], "date": ["1999-11-11"], "amount": [-8.0]})])
    log["channel"] = log["customer_id"].map({"a": "web", "b": "mail", "c": "web"})
    s = opportunity_summary(log, period="Y", monetary_value_col="amount", returns="net", attribute_cols="channel")
    assert s.loc["b", ["frequency", "recency", "n_periods"]].tolist() == [0, 0, 6]
    assert s["channel"].tolist() == ["web", "mail", "web"]
    conflicting = log.assign(channel=["web", "mail"] + ["web"] * 6)
    with pytest.raises(DataError, match="conflicting values of 'channel'"):
        opportunity_summary(conflicting, period="Y", monetary_value_col="amount", returns="net", attribute_cols="channel")
