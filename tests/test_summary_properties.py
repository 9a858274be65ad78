"""Properties of rfm_summary on random transaction logs (hypothesis)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clvmodels import calibration_holdout_summary, rfm_summary

START = np.datetime64("2020-01-01T00:00:00", "s")

purchases = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c", "d", "e", "f"]),  # customer
        st.integers(0, 120 * 86_400 - 1),  # seconds after the start: about 4 months
        st.one_of(st.decimals("0.01", "500", places=2).map(float),
                  st.floats(1e-3, 1e6, allow_nan=False, allow_infinity=False)),
    ),
    min_size=1,
    max_size=60,
)


def as_log(rows) -> pd.DataFrame:
    ids, seconds, amounts = zip(*rows)
    return pd.DataFrame({
        "customer_id": list(ids),
        "date": START + np.array(seconds, dtype="timedelta64[s]"),
        "amount": list(amounts),
    })


fast = settings(max_examples=45, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@fast
@given(rows=purchases, extra_days=st.integers(0, 30), unit=st.sampled_from(["D", "W", "M"]),
       permutation_seed=st.integers(0, 2**32 - 1))
def test_invariants_and_engine_equality(rows, extra_days, unit, permutation_seed):
    log = as_log(rows)
    end = (log["date"].max().normalize() + pd.Timedelta(days=extra_days)).date()
    options = {"monetary_value_col": "amount", "observation_period_end": str(end), "time_unit": unit}
    summary = rfm_summary(log, engine="pandas", **options)

    assert summary["frequency"].dtype == np.int64
    assert (summary["frequency"] >= 0).all()
    assert (summary["recency"] >= 0).all() and (summary["recency"] <= summary["T"]).all()
    assert (summary.loc[summary["frequency"] == 0, "recency"] == 0).all()
    assert (summary.loc[summary["frequency"] == 0, "monetary_value"] == 0).all()
    assert (summary.loc[summary["frequency"] > 0, "monetary_value"] > 0).all()
    distinct_days = log.assign(day=log["date"].dt.floor("D")).groupby("customer_id")["day"].nunique()
    assert (summary["frequency"] == distinct_days.loc[summary.index] - 1).all()

    pd.testing.assert_frame_equal(summary, rfm_summary(log, engine="duckdb", **options),
                                  check_exact=True)
    shuffled = log.sample(frac=1.0, random_state=np.random.RandomState(permutation_seed % 2**32))
    pd.testing.assert_frame_equal(summary, rfm_summary(shuffled, engine="pandas", **options),
                                  check_exact=True)


@fast
@given(rows=purchases, split_day=st.integers(1, 119))
def test_calibration_holdout_splits_the_purchase_days(rows, split_day):
    log = as_log(rows)
    calibration_end = str((pd.Timestamp(START) + pd.Timedelta(days=split_day - 1)).date())
    if log["date"].min() >= pd.Timestamp(calibration_end) + pd.Timedelta(days=1):
        return  # nobody has bought by the calibration end: an error case, tested elsewhere
    last = max(log["date"].max().normalize(), pd.Timestamp(calibration_end))
    end = str((last + pd.Timedelta(days=1)).date())
    options = {"calibration_period_end": calibration_end, "observation_period_end": end,
                   "monetary_value_col": "amount"}
    split = calibration_holdout_summary(log, engine="pandas", **options)
    pd.testing.assert_frame_equal(split, calibration_holdout_summary(log, engine="duckdb", **options),
                                  check_exact=True)
    whole = rfm_summary(log, observation_period_end=end, engine="pandas").loc[split.index]
    # every purchase day after the first falls in one period or the other
    assert (split["frequency"] + split["frequency_holdout"] == whole["frequency"]).all()
    assert (split["frequency_holdout"] >= 0).all()
    assert ((split["frequency_holdout"] == 0) == (split["monetary_value_holdout"] == 0)).all()
