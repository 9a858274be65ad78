"""Economic settings of customer value: validation, unit conversion, realised margin."""

import numpy as np
import pandas as pd
import pytest

from clvmodels.data.timeunits import per_period_discount_rate
from clvmodels.errors import DataError
from clvmodels.value.economics import LIFETIME_YEARS, Economics, as_economics, realised_margin


@pytest.mark.parametrize("margin", [-0.1, 1.5, np.nan, "0.3", True])
def test_margin_rate_outside_unit_interval_is_refused(margin):
    with pytest.raises(DataError, match="margin must be a gross-margin rate between 0 and 1"):
        Economics(margin=margin)


@pytest.mark.parametrize("rate", [-0.05, 1.0, 2.0, np.inf, np.nan])
def test_discount_rate_outside_zero_one_is_refused(rate):
    with pytest.raises(DataError, match="discount_rate is an annual rate and must lie in"):
        Economics(margin=0.3, horizon=52, discount_rate=rate)


def test_lifetime_horizon_needs_discounting():
    with pytest.raises(DataError, match="needs a discount rate in"):
        Economics(margin=0.3, horizon="lifetime", discount_rate=0.0)
    # a finite horizon may be undiscounted
    assert Economics(margin=0.3, horizon=52, discount_rate=0.0).resolve("W").discount_rate == 0.0


@pytest.mark.parametrize("horizon", [0, -3, np.inf, np.nan, "forever", None])
def test_non_positive_or_unknown_horizon_is_refused(horizon):
    with pytest.raises(DataError, match="horizon must be a positive"):
        Economics(margin=0.3, horizon=horizon)


@pytest.mark.parametrize("field", ["cost_per_transaction", "cost_to_serve"])
def test_negative_costs_are_refused(field):
    with pytest.raises(DataError, match=f"{field} must be a finite number >= 0"):
        Economics(margin=0.3, **{field: -1.0})


def test_annual_rate_is_converted_once_per_unit_and_recorded():
    econ = Economics(margin=0.3, horizon="lifetime", discount_rate=0.10)
    weekly = econ.resolve("W")
    assert weekly.discount_rate == pytest.approx(per_period_discount_rate(0.10, "W"))
    # a year of weekly discounting equals one year at the annual rate
    assert weekly.discount_factor(365.2425 / 7) == pytest.approx(1 / 1.10, rel=1e-12)
    assert weekly.horizon == pytest.approx(LIFETIME_YEARS * 365.2425 / 7)
    attrs = weekly.as_attrs()
    assert attrs["horizon"] == "lifetime" and attrs["discount_rate_per_unit"] == weekly.discount_rate
    assert econ.resolve("D").horizon == pytest.approx(LIFETIME_YEARS * 365.2425)


def test_settings_from_keywords_or_object_but_not_both():
    assert as_economics(None, {"margin": 0.4, "horizon": 10}).horizon == 10
    with pytest.raises(DataError, match="gross margin is required"):
        as_economics(None, {"horizon": 10})
    with pytest.raises(DataError, match="not both"):
        as_economics(Economics(margin=0.3), {"horizon": 10})
    with pytest.raises(DataError, match="the economic settings are"):
        as_economics(None, {"margin": 0.3, "horizn": 10})


def _summary(**cols):
    base = {"frequency": [0, 2, 5], "recency": [0.0, 3.0, 9.0], "T": [10.0, 10.0, 10.0],
            "monetary_value": [0.0, 20.0, 8.0]}
    base.update(cols)
    return pd.DataFrame(base, index=pd.Index(["a", "b", "c"], name="customer_id"))


def test_a_summary_without_revenue_to_date_is_refused_not_read_as_repeat_only():
    """The first purchase is not in monetary_value (the mean of repeat purchases): without
    revenue_to_date the margin to date is unknown, and the error says the three ways out."""
    econ = Economics(margin=0.5, horizon=10).resolve("W")
    with pytest.raises(DataError, match=r"\(3 customers\) has no 'revenue_to_date'") as err:
        realised_margin(_summary(), econ)
    for way_out in ("rfm_summary", "add the column", "first_purchase='excluded'"):
        assert way_out in str(err.value)


def test_first_purchase_excluded_counts_the_repeat_purchases_only():
    """Economics(first_purchase="excluded"): x * (0.5 * mean repeat spend - 1), by hand:
    a: 0; b: 2 * (10 - 1) = 18; c: 5 * (4 - 1) = 15. revenue_to_date, if present, is not used."""
    econ = Economics(margin=0.5, horizon=10, cost_per_transaction=1.0,
                     first_purchase="excluded").resolve("W")
    for summary in (_summary(), _summary(revenue_to_date=[30.0, 70.0, 52.0])):
        margin, source = realised_margin(summary, econ)
        np.testing.assert_allclose(margin, [0.0, 18.0, 15.0])
        assert "first purchase excluded" in source
    assert econ.as_attrs()["first_purchase"] == "excluded"
    with pytest.raises(DataError, match=r"first_purchase must be one of \['included', 'excluded'\]"):
        Economics(margin=0.5, first_purchase="repeat")


def test_realised_margin_with_revenue_to_date_counts_every_purchase():
    econ = Economics(margin=0.5, horizon=10, cost_per_transaction=1.0).resolve("W")
    margin, source = realised_margin(_summary(revenue_to_date=[30.0, 70.0, 52.0]), econ)
    # all x + 1 purchases: 0.5 * revenue - 1 per purchase
    np.testing.assert_allclose(margin, [15 - 1, 35 - 3, 26 - 6])
    assert source == "every purchase (revenue_to_date)"


def test_bad_revenue_to_date_names_the_customers():
    econ = Economics(margin=0.5, horizon=10).resolve("W")
    with pytest.raises(DataError, match=r"revenue_to_date must be a finite amount >= 0.*'b'"):
        realised_margin(_summary(revenue_to_date=[1.0, -2.0, np.nan]), econ)
