"""lapsed_customers: window rules in any unit, P(alive) rule, both visible, clear errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clvmodels import DataError, lapsed_customers
from clvmodels.data.meta import set_summary_meta
from clvmodels.reactivation.lapsed import days_since_last_purchase


def _summary(last_purchases, end="2024-12-31", unit="D", first="2022-01-01"):
    """Hand-built summary: one repeat purchase between the first and the last purchase."""
    end, first = pd.Timestamp(end), pd.Timestamp(first)
    last = pd.to_datetime(pd.Series(last_purchases))
    days = 1.0 if unit == "D" else 7.0
    ids = [f"c{i}" for i in range(len(last))]
    frame = pd.DataFrame({
        "frequency": np.ones(len(last), dtype=np.int64),
        "recency": ((last - first).dt.days / days).to_numpy(),
        "T": np.full(len(last), (end - first).days / days),
        "monetary_value": 10.0,
        "first_purchase": first,
        "last_purchase": last.to_numpy(),
    }, index=pd.Index(ids, name="customer_id"))
    return set_summary_meta(frame, time_unit=unit, period="D", observation_end=str(end.date()))


def test_window_in_days_counts_calendar_days():
    # 2024 is a leap year: 2024-01-01 is 365 days before 2024-12-31, 2024-01-02 is 364
    s = _summary(["2024-01-01", "2024-01-02", "2023-06-01", "2024-12-31"])
    out = lapsed_customers(s, window=365, only_lapsed=False)
    assert out["days_since_last_purchase"].tolist() == [365, 364, 579, 0]
    assert out["lapsed_by_window"].tolist() == [True, False, True, False]
    assert out["lapsed"].tolist() == [True, False, True, False]
    assert out.loc["c0", "lapsed_reason"] == "no purchase in 365 days"
    assert out.loc["c1", "lapsed_reason"] == ""
    assert out["p_alive"].isna().all() and out["lapsed_by_p_alive"].isna().all()
    only = lapsed_customers(s, window=365)
    assert list(only.index) == ["c0", "c2"]
    # the summary columns and metadata travel on, so the result can be scored by the models
    assert {"frequency", "recency", "T", "monetary_value"} <= set(only.columns)
    assert only.attrs["clvmodels"]["time_unit"] == "D"
    assert only.attrs["clvmodels"]["lapsed_rule"]["window"] == 365


def test_window_in_months_uses_mean_gregorian_month():
    """12 months = 365.2425 days, so 365 days since the last purchase is not yet 12 months."""
    s = _summary(["2023-12-31", "2024-01-01"])  # 366 and 365 days before 2024-12-31
    out = lapsed_customers(s, window=12, window_unit="M", only_lapsed=False)
    assert out["lapsed_by_window"].tolist() == [True, False]
    assert out.loc["c0", "lapsed_reason"] == "no purchase in 12 months"
    weeks = lapsed_customers(s, window=52, window_unit="W", only_lapsed=False)  # 364 days
    assert weeks["lapsed_by_window"].tolist() == [True, True]


def test_as_of_moves_the_reference_date():
    s = _summary(["2024-06-30"])
    assert lapsed_customers(s, window=365, only_lapsed=False)["lapsed"].tolist() == [False]
    later = lapsed_customers(s, window=365, as_of="2025-07-01", only_lapsed=False)
    assert later["days_since_last_purchase"].tolist() == [366]
    assert later["lapsed"].tolist() == [True]
    assert later.attrs["clvmodels"]["lapsed_rule"]["as_of"] == "2025-07-01"


def test_fallback_from_recency_and_T_matches_last_purchase_in_weeks():
    s = _summary(["2024-01-01", "2023-03-15", "2024-12-30"], unit="W")
    from_dates = days_since_last_purchase(s)
    from_rt = days_since_last_purchase(s.drop(columns=["last_purchase"]))
    assert from_dates.tolist() == [365, 657, 1]
    assert from_rt.tolist() == from_dates.tolist()


def test_p_alive_rule_and_combination_are_visible():
    s = _summary(["2024-01-01", "2024-11-01", "2023-01-01", "2024-12-01"])
    pa = pd.Series([0.5, 0.1, 0.05, 0.9], index=s.index)
    both_any = lapsed_customers(s, window=365, p_alive_below=0.2, p_alive=pa, only_lapsed=False)
    assert both_any["lapsed_by_window"].tolist() == [True, False, True, False]
    assert both_any["lapsed_by_p_alive"].tolist() == [False, True, True, False]
    assert both_any["lapsed"].tolist() == [True, True, True, False]
    assert both_any.loc["c2", "lapsed_reason"] == "no purchase in 365 days; P(alive) 0.05 < 0.2"
    assert both_any.loc["c1", "lapsed_reason"] == "P(alive) 0.10 < 0.2"
    np.testing.assert_allclose(both_any["p_alive"], pa.to_numpy())
    both_all = lapsed_customers(s, window=365, p_alive_below=0.2, p_alive=pa, combine="all")
    assert list(both_all.index) == ["c2"]
    only_p = lapsed_customers(s, p_alive_below=0.2, p_alive=pa, only_lapsed=False)
    assert only_p["lapsed_by_window"].isna().all()
    assert only_p["lapsed"].tolist() == [False, True, True, False]


def test_p_alive_from_a_fitted_model_matches_its_prediction():
    from clvmodels import BetaGeoModel
    from clvmodels.datasets import load_cdnow_summary

    cdnow = load_cdnow_summary()
    bg = BetaGeoModel().fit(cdnow)
    out = lapsed_customers(cdnow, window=26, window_unit="W", p_alive_below=0.5, model=bg,
                           only_lapsed=False)
    expected = bg.p_alive(cdnow)["p_alive"]
    np.testing.assert_allclose(out["p_alive"], expected)
    assert out["lapsed_by_p_alive"].tolist() == (expected < 0.5).tolist()
    # 26 weeks = 182 days; CDNOW's observation end is 1997-09-30
    gap = (pd.Timestamp("1997-09-30") - cdnow["last_purchase"]).dt.days
    assert out["lapsed_by_window"].tolist() == (gap >= 182).tolist()
    assert 0 < out["lapsed_by_p_alive"].sum() < out["lapsed_by_window"].sum() < len(cdnow)


@pytest.mark.parametrize("kwargs, message", [
    ({}, "give a lapse rule"),
    ({"p_alive_below": 0.3}, r"needs P\(alive\)"),
    ({"window": 0}, "window must be a positive number"),
    ({"window": -5}, "window must be a positive number"),
    ({"window": 12, "window_unit": "months"}, "window_unit must be one of"),
    ({"window": 30, "combine": "either"}, "combine must be one of"),
    ({"p_alive_below": 1.5, "p_alive": pd.Series(dtype=float)}, "p_alive_below must be a probability"),
])
def test_bad_rules_are_refused(kwargs, message):
    with pytest.raises(DataError, match=message):
        lapsed_customers(_summary(["2024-01-01"]), **kwargs)


def test_bad_data_is_refused_with_ids():
    s = _summary(["2024-01-01", "2024-03-01"])
    with pytest.raises(DataError, match=r"p_alive has no value for 1 row \(e.g. 'c1'\)"):
        lapsed_customers(s, p_alive_below=0.3, p_alive=pd.Series([0.2], index=["c0"]))
    with pytest.raises(DataError, match=r"probability in \[0, 1\].*'c1'"):
        lapsed_customers(s, p_alive_below=0.3, p_alive=pd.Series([0.2, 1.2], index=s.index))
    with pytest.raises(DataError, match=r"after the reference date 2024-02-01.*'c1'"):
        lapsed_customers(s, window=30, as_of="2024-02-01")
    no_end = s.copy()
    no_end.attrs = {}
    with pytest.raises(DataError, match="no observation end"):
        lapsed_customers(no_end, window=30)
