"""Revenue to date and the first purchase's value in the summary (issue 14, item 1 of "What to build").

Assumption under test: ``revenue_to_date`` is the sum of every purchase day's total in the
(calibration) window, the first purchase included, after the returns and zero-amount policies;
``first_purchase_value`` is the first purchase day's total. Hence
``revenue_to_date == first_purchase_value + frequency * monetary_value``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clvmodels import calibration_holdout_summary, rfm_summary
from clvmodels.datasets.cdnow import CALIBRATION_END, load_cdnow_transactions

REVENUE = ["revenue_to_date", "first_purchase_value"]


def _hand_log() -> pd.DataFrame:
    """Three customers, each line checkable by hand (observation end 2020-01-15).

    a: 01-01 10 + 5 (one purchase day, 15); 01-04 20 and a -8 return (12 net); 01-20 30 (late).
    b: 01-03 a free item (0.00); 01-06 4.50.
    c: 01-05 7.25 only.
    """
    return pd.DataFrame({
        "customer_id": ["a", "a", "a", "a", "a", "b", "b", "c"],
        "date": pd.to_datetime(["2020-01-01 09:00", "2020-01-01 18:00", "2020-01-04",
                                "2020-01-04 12:00", "2020-01-20", "2020-01-03", "2020-01-06",
                                "2020-01-05"], format="ISO8601"),
        "amount": [10.0, 5.0, 20.0, -8.0, 30.0, 0.0, 4.5, 7.25],
    })


def _identity_gap(summary: pd.DataFrame) -> np.ndarray:
    """Relative gap of revenue_to_date against first_purchase_value + frequency * monetary_value."""
    rebuilt = summary["first_purchase_value"] + summary["frequency"] * summary["monetary_value"]
    scale = np.maximum(summary["revenue_to_date"].abs().to_numpy(), 1.0)
    return np.abs(summary["revenue_to_date"].to_numpy() - rebuilt.to_numpy()) / scale


@pytest.mark.parametrize("engine", ["pandas", "duckdb"])
def test_hand_log_net_returns_keep_zeros(engine):
    """returns="net": a's 01-04 day is 20 - 8 = 12, so a has 15 + 12 = 27 to date (the late 30
    is dropped); b's free first item counts as a purchase worth 0; c is a one-time buyer."""
    summary = rfm_summary(_hand_log(), monetary_value_col="amount",
                          observation_period_end="2020-01-15", returns="net",
                          zero_amounts="keep", late_purchases="drop", engine=engine)
    assert summary["frequency"].tolist() == [1, 1, 0]
    assert summary["monetary_value"].tolist() == [12.0, 4.5, 0.0]
    assert summary["revenue_to_date"].tolist() == [27.0, 4.5, 7.25]
    assert summary["first_purchase_value"].tolist() == [15.0, 0.0, 7.25]
    assert summary[REVENUE].dtypes.astype(str).tolist() == ["float64", "float64"]


def test_hand_log_drop_returns_drop_zeros():
    """returns="drop": a's 01-04 day is 20, so 15 + 20 = 35; zero_amounts="drop": b's first
    purchase is the 4.50 day, so b becomes a one-time buyer with 4.50 to date."""
    summary = rfm_summary(_hand_log(), monetary_value_col="amount",
                          observation_period_end="2020-01-15", returns="drop",
                          zero_amounts="drop", late_purchases="drop")
    assert summary["frequency"].tolist() == [1, 0, 0]
    assert summary["revenue_to_date"].tolist() == [35.0, 4.5, 7.25]
    assert summary["first_purchase_value"].tolist() == [15.0, 4.5, 7.25]


def test_return_on_a_day_without_purchases_is_no_purchase_day():
    """Policy pinned: under returns="net" a day netting below zero is not a purchase day, so a
    return on its own day neither counts as a purchase nor lowers revenue_to_date (15 here)."""
    log = pd.DataFrame({"customer_id": ["a", "a"],
                        "date": pd.to_datetime(["2020-01-01", "2020-01-03"]),
                        "amount": [15.0, -5.0]})
    summary = rfm_summary(log, monetary_value_col="amount", returns="net")
    assert summary.loc["a", ["frequency", "revenue_to_date", "first_purchase_value"]].tolist() == \
        [0, 15.0, 15.0]


@pytest.mark.parametrize("engine", ["pandas", "duckdb"])
def test_calibration_holdout_revenue_covers_the_calibration_period(engine):
    """Calibration to 01-10: a has 15 + 12 = 27 to date; the 01-20 purchase (30) is holdout."""
    summary = calibration_holdout_summary(
        _hand_log(), monetary_value_col="amount", calibration_period_end="2020-01-10",
        observation_period_end="2020-01-31", returns="net", zero_amounts="keep", engine=engine)
    assert summary["revenue_to_date"].tolist() == [27.0, 4.5, 7.25]
    assert summary["first_purchase_value"].tolist() == [15.0, 0.0, 7.25]
    assert summary.loc["a", "frequency_holdout"] == 1
    assert summary.loc["a", "monetary_value_holdout"] == 30.0


def test_no_amount_column_no_revenue_columns():
    summary = rfm_summary(_hand_log().query("amount > 0"))
    assert not set(REVENUE) & set(summary.columns)


def _random_log(seed: int) -> pd.DataFrame:
    """Repeat purchases, same-day returns, free items and amounts in cents."""
    rng = np.random.default_rng(seed)
    n = 3_000
    log = pd.DataFrame({
        "customer_id": rng.integers(0, 400, n),
        "date": np.datetime64("2021-01-01", "s")
        + rng.integers(0, 300 * 86_400, n).astype("timedelta64[s]"),
        "amount": np.round(rng.lognormal(3.0, 1.0, n), 2),
    })
    log.loc[rng.random(n) < 0.03, "amount"] = 0.0
    returns = log.sample(n=150, random_state=seed).copy()
    returns["amount"] = -np.round(returns["amount"] * rng.uniform(0.1, 1.2, len(returns)), 2)
    return pd.concat([log, returns], ignore_index=True)


def test_engines_and_files_give_identical_revenue(tmp_path):
    """numpy, DuckDB on the DataFrame, and DuckDB on CSV and Parquet files: bit-identical."""
    log = _random_log(3)
    options = {"monetary_value_col": "amount", "returns": "net", "zero_amounts": "keep",
               "calibration_period_end": "2021-08-01"}
    expected = calibration_holdout_summary(log, engine="pandas", **options)
    csv, parquet = tmp_path / "log.csv", tmp_path / "log.parquet"
    log.to_csv(csv, index=False)
    log.to_parquet(parquet)
    for source, engine in ((log, "duckdb"), (csv, "auto"), (parquet, "auto")):
        got = calibration_holdout_summary(source, engine=engine, **options)
        pd.testing.assert_frame_equal(got[REVENUE], expected[REVENUE], check_exact=True)


def test_revenue_does_not_depend_on_duckdb_threads(tmp_path):
    """Integer sums: 1 and 2 DuckDB threads give bit-identical revenue on a Parquet file."""
    path = tmp_path / "log.parquet"
    _random_log(4).to_parquet(path)
    options = {"monetary_value_col": "amount", "returns": "net", "zero_amounts": "keep"}
    one, two = (rfm_summary(path, duckdb_config={"threads": k}, **options)[REVENUE] for k in (1, 2))
    pd.testing.assert_frame_equal(one, two, check_exact=True)
    assert one["revenue_to_date"].sum() > 0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_revenue_identity_on_random_logs(seed):
    """revenue_to_date == first_purchase_value + frequency * monetary_value, to 1e-9 relative."""
    summary = rfm_summary(_random_log(seed), monetary_value_col="amount", returns="net",
                          zero_amounts="keep")
    assert (summary["frequency"] > 0).sum() > 100  # the identity is exercised on repeat buyers
    assert _identity_gap(summary).max() <= 1e-9


@pytest.fixture(scope="module")
def cdnow():
    tx = load_cdnow_transactions()
    summary = rfm_summary(tx, monetary_value_col="amount", observation_period_end=CALIBRATION_END,
                          time_unit="W", late_purchases="drop", zero_amounts="keep")
    return tx, summary


def test_cdnow_revenue_to_date_is_every_purchase_in_the_window(cdnow):
    """CDNOW 1/10 sample, calibration to 1997-09-30 (Fader, Hardie & Lee 2005): 2,357 customers;
    the base's revenue to date equals the sum of the purchase amounts in the window, and each
    customer's equals their own sum (recomputed here with pandas)."""
    tx, summary = cdnow
    assert len(summary) == 2357
    window = tx[tx["date"] <= pd.Timestamp(CALIBRATION_END)]
    assert window["amount"].sum() > 0
    assert summary["revenue_to_date"].sum() == pytest.approx(window["amount"].sum(), rel=1e-12)
    own = window.groupby("customer_id")["amount"].sum().reindex(summary.index)
    np.testing.assert_allclose(summary["revenue_to_date"], own, rtol=1e-12, atol=1e-9)
    first_day = window.groupby("customer_id")["date"].transform("min")
    first = window[window["date"] == first_day].groupby("customer_id")["amount"].sum()
    np.testing.assert_allclose(summary["first_purchase_value"], first.reindex(summary.index),
                               rtol=1e-12, atol=1e-9)


def test_cdnow_revenue_identity(cdnow):
    _, summary = cdnow
    assert _identity_gap(summary).max() <= 1e-9
