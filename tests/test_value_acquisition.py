"""Acquisition costs: from a column, from a cost table per channel (and period), missing costs."""

import warnings

import numpy as np
import pandas as pd
import pytest

from clvmodels.errors import DataError
from clvmodels.value.acquisition import AcquisitionCosts, resolve_acquisition


@pytest.fixture
def summary():
    return pd.DataFrame(
        {
            "frequency": [1, 0, 3, 2, 0],
            "channel": ["search", "tv", "search", "affiliate", "tv"],
            "first_purchase": pd.to_datetime(
                ["2024-01-05", "2024-01-20", "2024-02-03", "2024-02-10", "2024-03-01"]),
            "acquisition_cost": [10.0, np.nan, 14.0, 95.0, 30.0],
        },
        index=pd.Index(["c1", "c2", "c3", "c4", "c5"], name="customer_id"),
    )


def test_cost_table_per_channel_is_joined_on_the_channel(summary):
    table = pd.DataFrame({"channel": ["search", "tv", "affiliate"],
                          "acquisition_cost": [12.0, 40.0, 95.0]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every listed channel has customers: no warning
        costs, note = resolve_acquisition(summary, table)
    np.testing.assert_array_equal(costs, [12.0, 40.0, 12.0, 95.0, 40.0])
    assert "channel" in note


def test_cost_table_channels_no_customer_has_are_listed_in_a_warning(summary):
    """Documented choice: a warning (a finance table may cover more channels than this window of
    customers), listing the unused channels and the summary's own, so a typo is seen; the costs
    of the listed channels that do occur are still joined."""
    table = pd.DataFrame({"channel": ["search", "tv", "affiliate", "radio", "Search"],
                          "acquisition_cost": [12.0, 40.0, 95.0, 7.0, 1.0]})
    with pytest.warns(UserWarning, match=r"2 channel value\(s\) that no customer of the summary "
                                         r"has: \['Search', 'radio'\]") as record:
        costs, _ = resolve_acquisition(summary, table)
    assert "['affiliate', 'search', 'tv']" in str(record[0].message)
    np.testing.assert_array_equal(costs, [12.0, 40.0, 12.0, 95.0, 40.0])


def test_cost_table_per_channel_and_month(summary):
    table = pd.DataFrame({"channel": ["search", "search", "tv", "tv", "affiliate"],
                          "period": ["2024-01", "2024-02", "2024-01", "2024-03", "2024-02"],
                          "acquisition_cost": [10.0, 20.0, 50.0, 70.0, 95.0]})
    costs, _ = resolve_acquisition(summary, AcquisitionCosts(table=table, period="M"))
    np.testing.assert_array_equal(costs, [10.0, 50.0, 20.0, 95.0, 70.0])


def test_unknown_channels_are_an_error_listing_them(summary):
    table = pd.DataFrame({"channel": ["search"], "acquisition_cost": [12.0]})
    with pytest.raises(DataError) as err:
        resolve_acquisition(summary, table)
    message = str(err.value)
    assert "['affiliate', 'tv']" in message and "3 rows" in message and "'c2'" in message
    assert "missing='zero'" in message


def test_missing_period_costs_list_channel_and_period(summary):
    table = pd.DataFrame({"channel": ["search", "search", "tv", "affiliate"],
                          "period": ["2024-01", "2024-02", "2024-01", "2024-02"],
                          "acquisition_cost": [10.0, 20.0, 50.0, 95.0]})
    with pytest.raises(DataError, match=r"channel x period.*\['tv / 2024-03'\]"):
        resolve_acquisition(summary, AcquisitionCosts(table=table, period="M"))


def test_missing_zero_and_channel_mean_policies(summary):
    zero, note = resolve_acquisition(summary, AcquisitionCosts(column="acquisition_cost",
                                                               missing="zero"))
    np.testing.assert_array_equal(zero, [10.0, 0.0, 14.0, 95.0, 30.0])
    assert "1 missing set to 0" in note
    mean, _ = resolve_acquisition(summary, AcquisitionCosts(column="acquisition_cost",
                                                            missing="channel_mean"))
    np.testing.assert_array_equal(mean, [10.0, 30.0, 14.0, 95.0, 30.0])  # tv's known cost is 30


def test_missing_cost_in_a_column_is_an_error_by_default(summary):
    with pytest.raises(DataError, match=r"\['tv'\].*'c2'"):
        resolve_acquisition(summary, "acquisition_cost")


def test_channel_mean_without_any_known_cost_in_the_channel_is_an_error(summary):
    summary.loc[["c2", "c5"], "acquisition_cost"] = np.nan
    with pytest.raises(DataError, match="no known cost at all"):
        resolve_acquisition(summary, AcquisitionCosts(column="acquisition_cost",
                                                      missing="channel_mean"))


def test_default_uses_the_acquisition_cost_column_or_none(summary):
    summary.loc["c2", "acquisition_cost"] = 5.0
    costs, note = resolve_acquisition(summary, None)
    np.testing.assert_array_equal(costs, [10.0, 5.0, 14.0, 95.0, 30.0])
    costs, note = resolve_acquisition(summary.drop(columns="acquisition_cost"), None)
    np.testing.assert_array_equal(costs, np.zeros(5))
    assert note == "none given (0)"


@pytest.mark.parametrize(
    "table, match",
    [
        (pd.DataFrame({"channel": ["search", "search"], "acquisition_cost": [1.0, 2.0]}),
         "more than once"),
        (pd.DataFrame({"channel": ["search"], "acquisition_cost": [-1.0]}), "negative"),
        (pd.DataFrame({"channel": ["search"], "cost": [1.0]}), r"lacks column\(s\) \['acquisition_cost'\]"),
    ],
)
def test_bad_cost_tables_are_refused(summary, table, match):
    with pytest.raises(DataError, match=match):
        resolve_acquisition(summary, table)


def test_negative_cost_column_and_bad_sources_are_refused(summary):
    summary.loc["c1", "acquisition_cost"] = -3.0
    with pytest.raises(DataError, match=r"finite amounts >= 0.*'c1'"):
        resolve_acquisition(summary, "acquisition_cost")
    with pytest.raises(DataError, match="no acquisition cost column 'cac'"):
        resolve_acquisition(summary, "cac")
    with pytest.raises(DataError, match="must be one of"):
        AcquisitionCosts(column="acquisition_cost", missing="mean")
    with pytest.raises(DataError, match="exactly one of the two"):
        AcquisitionCosts()
