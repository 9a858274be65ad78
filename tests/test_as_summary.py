"""clvmodels.as_summary: summaries built elsewhere, checked and given their metadata (issue 17,
item 2 of "What to build"; issue 14 item 1 for the revenue columns)."""

from __future__ import annotations

import datetime as dt
import io

import numpy as np
import pandas as pd
import pytest

import clvmodels
from clvmodels import BetaGeoModel, DataError, GammaGammaModel, as_summary, summary_meta
from clvmodels.data.meta import META_KEYS, iso_date, observation_end_of
from clvmodels.datasets import load_cdnow_summary

CDNOW_META = {"time_unit": "W", "observation_end": "1997-09-30"}


@pytest.fixture(scope="module")
def cdnow():
    from clvmodels import rfm_summary
    from clvmodels.datasets.cdnow import CALIBRATION_END, load_cdnow_transactions

    return rfm_summary(load_cdnow_transactions(), monetary_value_col="amount",
                       observation_period_end=CALIBRATION_END, time_unit="W",
                       late_purchases="drop", zero_amounts="keep")


def _csv_round_trip(summary: pd.DataFrame, **read) -> pd.DataFrame:
    buffer = io.StringIO()
    summary.to_csv(buffer)
    buffer.seek(0)
    return pd.read_csv(buffer, **read)


def _hand_frame() -> pd.DataFrame:
    """Three customers as a warehouse might deliver them (weeks, observation end 2020-03-01)."""
    return pd.DataFrame({
        "customer_id": ["a", "b", "c"],
        "frequency": [2, 0, 1],
        "recency": [3.0, 0.0, 1.0],
        "T": [8.0, 2.0, 5.0],
        "monetary_value": [25.0, 0.0, 4.5],
        "revenue_to_date": [65.0, 7.0, 14.5],
        "first_purchase_value": [15.0, 7.0, 10.0],
    })


def test_csv_round_trip_fits_and_predicts_identically(cdnow):
    """CDNOW (2,357 customers) through CSV loses its metadata; as_summary restores the frame
    (values, dtypes, attrs) and the fits and predictions are identical to the original's."""
    read = _csv_round_trip(cdnow)
    assert read.attrs == {}
    restored = as_summary(read, customer_id_col="customer_id", time_unit="W",
                          observation_end="1997-09-30")
    pd.testing.assert_frame_equal(restored, cdnow, check_exact=True)
    assert restored.attrs == cdnow.attrs
    bg, bg_restored = BetaGeoModel().fit(cdnow), BetaGeoModel().fit(restored)
    np.testing.assert_array_equal(bg.params_.to_numpy(), bg_restored.params_.to_numpy())
    gg, gg_restored = GammaGammaModel().fit(cdnow), GammaGammaModel().fit(restored)
    np.testing.assert_array_equal(gg.params_.to_numpy(), gg_restored.params_.to_numpy())
    settings = dict(horizon=39, uncertainty="expected", n_draws=50, seed=3)
    pd.testing.assert_frame_equal(bg.predict(cdnow, spend_model=gg, **settings),
                                  bg_restored.predict(restored, spend_model=gg_restored, **settings),
                                  check_exact=True)


def test_input_is_not_modified(cdnow):
    read = _csv_round_trip(cdnow)
    before = read.copy()
    as_summary(read, customer_id_col="customer_id", **CDNOW_META)
    pd.testing.assert_frame_equal(read, before, check_exact=True)
    assert read.attrs == {}


def test_metadata_set_exactly_as_rfm_summary(cdnow):
    restored = as_summary(cdnow.reset_index(), customer_id_col="customer_id",
                          time_unit="W", observation_end=pd.Timestamp("1997-09-30"))
    assert summary_meta(restored) == summary_meta(cdnow) == {
        "time_unit": "W", "period": "D", "observation_end": "1997-09-30"}
    assert set(summary_meta(restored)) <= set(META_KEYS)
    assert observation_end_of(restored) == pd.Timestamp("1997-09-30")


def test_holdout_summary_round_trip():
    """A calibration/holdout summary keeps holdout_end and duration_holdout (39 weeks)."""
    original = load_cdnow_summary()
    read = _csv_round_trip(original, index_col="customer_id")
    restored = as_summary(read, time_unit="W", observation_end="1997-09-30", holdout_end="1998-06-30")
    assert restored.attrs == original.attrs
    pd.testing.assert_frame_equal(restored, original, check_exact=True)
    with pytest.raises(DataError, match="no holdout_end was given"):
        as_summary(read, time_unit="W", observation_end="1997-09-30")


def test_hand_frame_index_as_ids_and_types():
    frame = _hand_frame().set_index("customer_id")
    frame["frequency"] = frame["frequency"].astype(float)  # a warehouse may deliver floats
    summary = as_summary(frame, time_unit="W", observation_end=dt.date(2020, 3, 1))
    assert summary["frequency"].dtype == np.int64 and summary["frequency"].tolist() == [2, 0, 1]
    assert summary["T"].dtype == np.float64
    assert summary_meta(summary)["observation_end"] == "2020-03-01"
    assert summary is not frame


def test_rename_and_decimal_amounts():
    """Column names mapped with rename=; SQL DECIMAL amounts (objects) read as floats."""
    from decimal import Decimal

    frame = _hand_frame().rename(columns={"frequency": "n_repeat", "T": "age_weeks"})
    frame["monetary_value"] = [Decimal("25.00"), Decimal("0"), Decimal("4.50")]
    summary = as_summary(frame, customer_id_col="customer_id", time_unit="W",
                         observation_end="2020-03-01", rename={"n_repeat": "frequency", "age_weeks": "T"})
    assert summary["monetary_value"].tolist() == [25.0, 0.0, 4.5]
    assert summary["monetary_value"].dtype == np.float64


@pytest.mark.parametrize("end", ["2020-03-01", dt.datetime(2020, 3, 1, 12), pd.Period("2020-03-01", "D"),
                                 np.datetime64("2020-03-01"), pd.Timestamp("2020-03-01T23:00", tz="UTC")])
def test_observation_end_accepts_date_like(end):
    assert iso_date(end, "observation_end") == "2020-03-01"


@pytest.mark.parametrize("end", ["03/01/2020", "1 March 2020", 20200301, None])
def test_observation_end_refuses_ambiguous_or_non_dates(end):
    with pytest.raises(DataError, match="observation_end"):
        as_summary(_hand_frame(), customer_id_col="customer_id", time_unit="W", observation_end=end)


def test_bad_time_unit_lists_the_choices():
    with pytest.raises(DataError, match=r"time_unit must be one of \['D', 'W', 'M', 'Y'\]"):
        as_summary(_hand_frame(), customer_id_col="customer_id", time_unit="weeks",
                   observation_end="2020-03-01")


def _problems(frame, **kw) -> str:
    settings = dict(customer_id_col="customer_id", time_unit="W", observation_end="2020-03-01")
    with pytest.raises(DataError) as err:
        as_summary(frame, **{**settings, **kw})
    return str(err.value)


def test_rows_breaking_rules_are_listed_together():
    frame = _hand_frame().astype({"frequency": float}).drop(columns=["revenue_to_date"])
    frame.loc[0, "frequency"] = 1.5
    frame.loc[1, "recency"] = 3.0  # beyond T = 2 and nonzero for a one-time buyer
    frame.loc[2, "monetary_value"] = 0.0  # repeat buyer without spend
    message = _problems(frame)
    assert "frequency must be a whole number >= 0" in message and "1 row (e.g. 'a')" in message
    assert "recency must lie between 0 and T: 1 row (e.g. 'b')" in message
    assert "frequency 0 must have recency 0: 1 row (e.g. 'b')" in message
    assert "monetary_value must be a positive mean spend where frequency > 0: 1 row (e.g. 'c')" in message
    assert message.count("\n- ") == 4


def test_missing_columns_and_types():
    message = _problems(_hand_frame().drop(columns=["T"]))
    assert "missing column(s) ['T']" in message and "rename=" in message
    frame = _hand_frame()
    frame["recency"] = ["3", "zero", "1"]
    assert "recency is not a number: 1 row (e.g. 'b')" in _problems(frame)
    frame = _hand_frame()
    frame["frequency"] = [True, False, True]
    assert "column 'frequency' is of type bool" in _problems(frame)
    frame = _hand_frame()
    frame.loc[1, "T"] = np.nan
    assert "T is missing or infinite: 1 row (e.g. 'b')" in _problems(frame)


def test_mean_spend_including_the_first_purchase_is_refused():
    """A one-time buyer with a nonzero monetary_value means the mean includes the first purchase."""
    frame = _hand_frame()
    frame.loc[1, "monetary_value"] = 7.0
    assert "must be 0 where frequency is 0" in _problems(frame)


def test_revenue_identity_within_tolerance():
    frame = _hand_frame()
    frame.loc[0, "revenue_to_date"] = 50.0  # first purchase left out: 15 + 2 x 25 = 65
    message = _problems(frame)
    assert "revenue_to_date differs from first_purchase_value + frequency * monetary_value" in message
    assert "1 row (e.g. 'a')" in message
    frame.loc[0, "revenue_to_date"] = 65.004  # rounding in the warehouse: allowed when stated
    as_summary(frame, customer_id_col="customer_id", time_unit="W", observation_end="2020-03-01",
               revenue_rtol=1e-3)
    frame.loc[1, "first_purchase_value"] = -1.0
    assert "first_purchase_value must be >= 0: 1 row (e.g. 'b')" in _problems(frame, revenue_rtol=1e-3)


def test_duplicate_and_missing_ids():
    frame = pd.concat([_hand_frame(), _hand_frame().iloc[[0]]], ignore_index=True)
    assert "duplicate customer ids: 1 id(s)" in _problems(frame)
    frame = _hand_frame()
    frame.loc[1, "customer_id"] = None
    assert "1 rows have no customer id" in _problems(frame)


def test_csv_read_without_index_col_is_not_taken_as_ids(cdnow):
    """Row numbers are not customer ids: refused with the fix."""
    with pytest.raises(DataError, match="customer_id_col='customer_id'"):
        as_summary(_csv_round_trip(cdnow), **CDNOW_META)


def test_wrong_time_unit_caught_by_the_dates(cdnow):
    """A weekly table stated as days: T disagrees with observation_end - first_purchase."""
    read = _csv_round_trip(cdnow, index_col="customer_id")
    message = _problems(read.reset_index(), time_unit="D", observation_end="1997-09-30")
    assert "T does not match observation_end - first_purchase in this time unit (1 days)" in message
    assert "2357 rows" in message


def test_conflicting_carried_metadata_is_refused(cdnow):
    with pytest.raises(DataError, match=r"time_unit: carries 'W', stated 'D'"):
        as_summary(cdnow, time_unit="D", observation_end="1997-09-30")


def test_not_a_frame():
    with pytest.raises(DataError, match="needs a pandas DataFrame"):
        as_summary([1, 2], time_unit="W", observation_end="2020-03-01")


def test_public_names():
    assert clvmodels.as_summary is as_summary
    assert "as_summary" in clvmodels.__all__ and "summary_meta" in clvmodels.__all__


def test_parquet_round_trip_with_an_attribute(tmp_path):
    """A random log with a channel attribute: rfm_summary -> Parquet -> as_summary is the original
    frame (Parquet may keep attrs; when it does they must agree with what is stated)."""
    from clvmodels import rfm_summary

    rng = np.random.default_rng(5)
    n = 2_000
    log = pd.DataFrame({"customer_id": rng.integers(0, 300, n),
                        "date": pd.Timestamp("2022-01-01") + pd.to_timedelta(rng.integers(0, 500, n), "D"),
                        "amount": np.round(rng.lognormal(3, 1, n), 2) + 0.01})
    log["channel"] = np.where(log["customer_id"] % 2 == 0, "search", "social")
    original = rfm_summary(log, monetary_value_col="amount", attribute_cols="channel", time_unit="M",
                           observation_period_end="2023-06-30")
    path = tmp_path / "summary.parquet"
    original.to_parquet(path)
    restored = as_summary(pd.read_parquet(path), time_unit="M", observation_end="2023-06-30")
    pd.testing.assert_frame_equal(restored, original, check_exact=True)
    assert restored.attrs == original.attrs
