"""rfm_summary and calibration_holdout_summary: definitions, engines, files, lifetimes parity."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clvmodels import calibration_holdout_summary, rfm_summary
from clvmodels.data.meta import summary_meta

SUMMARY_DTYPES = {
    "frequency": "int64", "recency": "float64", "T": "float64", "monetary_value": "float64",
    "revenue_to_date": "float64", "first_purchase_value": "float64", "first_purchase": "datetime64[us]", "last_purchase": "datetime64[us]",
}


def random_log(seed: int, n_customers: int = 300, n_rows: int = 2_000, str_ids: bool = False,
               days: int = 400) -> pd.DataFrame:
    """A log with times of day, same-day repeats and amounts in cents; no zero or negative amounts."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, n_customers, n_rows)
    seconds = rng.integers(0, days * 86_400, n_rows)
    log = pd.DataFrame({
        "customer_id": [f"c{i:04d}" for i in ids] if str_ids else ids,
        "date": np.datetime64("2021-01-01T00:00:00", "s") + seconds.astype("timedelta64[s]"),
        "amount": np.round(rng.lognormal(3.0, 1.0, n_rows), 2) + 0.01,
    })
    # force some same-day repeats
    repeats = log.sample(n=n_rows // 10, random_state=seed).copy()
    repeats["amount"] = np.round(repeats["amount"] / 3, 2) + 0.01
    return pd.concat([log, repeats], ignore_index=True)


def test_hand_worked_example():
    """Same-day purchases merge (amounts summed); monetary_value is the mean of the repeat days,
    the first day excluded; recency and T are whole days from the first purchase."""
    log = pd.DataFrame({
        "customer_id": ["a", "a", "a", "a", "b", "c"],
        "date": ["2020-01-01 09:00", "2020-01-01 18:00", "2020-01-04", "2020-01-11 23:59",
                 "2020-01-03", "2020-01-05"],
        "amount": [10.0, 5.0, 20.0, 30.0, 7.0, 3.0],
    })
    summary = rfm_summary(log, monetary_value_col="amount", observation_period_end="2020-01-15")
    assert list(summary.index) == ["a", "b", "c"]
    assert summary.index.name == "customer_id"
    assert summary["frequency"].tolist() == [2, 0, 0]
    assert summary["recency"].tolist() == [10.0, 0.0, 0.0]
    assert summary["T"].tolist() == [14.0, 12.0, 10.0]
    assert summary["monetary_value"].tolist() == [25.0, 0.0, 0.0]  # (20 + 30) / 2
    assert summary["revenue_to_date"].tolist() == [65.0, 7.0, 3.0]  # 10 + 5 + 20 + 30
    assert summary["first_purchase_value"].tolist() == [15.0, 7.0, 3.0]  # 10 + 5 (same day)
    assert summary.loc["a", "first_purchase"] == pd.Timestamp("2020-01-01")
    assert summary.loc["a", "last_purchase"] == pd.Timestamp("2020-01-11")
    assert summary.dtypes.astype(str).to_dict() == SUMMARY_DTYPES
    assert summary_meta(summary) == {"time_unit": "D", "period": "D", "observation_end": "2020-01-15"}


@pytest.mark.parametrize("unit, days", [("D", 1.0), ("W", 7.0), ("M", 365.2425 / 12), ("Y", 365.2425)])
def test_time_units_divide_whole_days(unit, days):
    log = random_log(1, n_rows=500)
    daily = rfm_summary(log)
    scaled = rfm_summary(log, time_unit=unit)
    assert np.array_equal(scaled["recency"].to_numpy(), daily["recency"].to_numpy() / days)
    assert np.array_equal(scaled["T"].to_numpy(), daily["T"].to_numpy() / days)
    assert (daily["recency"] == daily["recency"].round()).all()
    assert summary_meta(scaled)["time_unit"] == unit


def test_equal_histories_give_identical_rows():
    """Same purchase days and amounts, different times of day and row order: bit-identical rows.
    Amounts 0.1, 0.2, 0.3 sum differently as floats in different orders; micro-units do not."""
    days = ["2020-01-01", "2020-02-01", "2020-02-01", "2020-02-01", "2020-03-15", "2020-03-15"]
    amounts = [5.0, 0.1, 0.2, 0.3, 0.7, 0.1]
    first = pd.DataFrame({"customer_id": "x", "date": pd.to_datetime(days), "amount": amounts})
    second = first.iloc[::-1].assign(customer_id="y")
    second["date"] = second["date"] + pd.to_timedelta(np.arange(6) * 3_000, unit="s")
    summary = rfm_summary(pd.concat([first, second]), monetary_value_col="amount")
    columns = ["frequency", "recency", "T", "monetary_value"]
    assert summary.loc["x", columns].tolist() == summary.loc["y", columns].tolist()
    assert summary.loc["x", "monetary_value"] == (0.6 + 0.8) / 2


@pytest.mark.parametrize("str_ids", [False, True])
@pytest.mark.parametrize(
    "options",
    [
        {},
        {"monetary_value_col": "amount", "time_unit": "W"},
        {"monetary_value_col": "amount", "calibration_period_end": "2021-10-01"},
        {"monetary_value_col": "amount", "returns": "net", "attribute_cols": ["channel"]},
        {"monetary_value_col": "amount", "zero_amounts": "keep", "returns": "drop",
         "observation_period_end": "2021-12-01", "late_purchases": "drop"},
    ],
)
def test_pandas_and_duckdb_engines_are_identical(str_ids, options):
    log = random_log(7, str_ids=str_ids)
    rng = np.random.default_rng(3)
    channel_of = {c: ch for c, ch in zip(log["customer_id"].unique(),
                                         rng.choice(["web", "shop", None], log["customer_id"].nunique()))}
    log["channel"] = log["customer_id"].map(channel_of)
    log.loc[rng.random(len(log)) < 0.2, "channel"] = None  # missing values are ignored
    if options.get("returns") == "net":
        log.loc[rng.random(len(log)) < 0.1, "amount"] *= -1
    if options.get("zero_amounts") == "keep":
        log.loc[rng.random(len(log)) < 0.05, "amount"] = 0.0
        log.loc[rng.random(len(log)) < 0.05, "amount"] *= -1
    build = calibration_holdout_summary if "calibration_period_end" in options else rfm_summary
    by_numpy = build(log, engine="pandas", **options)
    by_duckdb = build(log, engine="duckdb", **options)
    pd.testing.assert_frame_equal(by_numpy, by_duckdb, check_exact=True)
    assert by_numpy.attrs == by_duckdb.attrs
    assert by_numpy.index.is_monotonic_increasing


@pytest.mark.parametrize("kind", ["parquet", "csv", "csv-glob", "list"])
def test_files_match_the_dataframe(tmp_path, kind):
    log = random_log(11, str_ids=True)
    log["channel"] = log["customer_id"].str[-1].map(lambda d: "web" if d in "0123" else "shop")
    options = {"monetary_value_col": "amount", "attribute_cols": ["channel"], "time_unit": "W",
                   "calibration_period_end": "2021-09-30"}
    expected = calibration_holdout_summary(log, **options)
    parts = [log.iloc[i::3] for i in range(3)]
    if kind == "parquet":
        source = tmp_path / "log.parquet"
        log.to_parquet(source)
    elif kind == "csv":
        source = tmp_path / "log.csv"
        log.to_csv(source, index=False)
    else:
        paths = [tmp_path / f"part{i}.csv" for i in range(3)]
        for part, path in zip(parts, paths):
            part.to_csv(path, index=False)
        source = str(tmp_path / "part*.csv") if kind == "csv-glob" else paths
    from_files = calibration_holdout_summary(source, **options)
    pd.testing.assert_frame_equal(from_files, expected, check_exact=True)
    assert from_files.attrs == expected.attrs


def _compare_with_lifetimes(ours: pd.DataFrame, theirs: pd.DataFrame, suffix: str = "") -> None:
    theirs = theirs.loc[ours.index]
    assert np.array_equal(ours["frequency"].to_numpy(float), theirs["frequency" + suffix].to_numpy())
    assert np.array_equal(ours["recency"].to_numpy(), theirs["recency" + suffix].to_numpy())
    assert np.array_equal(ours["T"].to_numpy(), theirs["T" + suffix].to_numpy())
    # lifetimes sums floats row by row; we sum exact micro-units: equal to rounding error
    np.testing.assert_allclose(ours["monetary_value"], theirs["monetary_value" + suffix],
                               rtol=1e-12, atol=0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_lifetimes_summary(seed):
    from lifetimes.utils import summary_data_from_transaction_data

    log = random_log(seed, str_ids=bool(seed % 2))
    ours = rfm_summary(log, monetary_value_col="amount", observation_period_end="2022-03-01")
    theirs = summary_data_from_transaction_data(
        log, "customer_id", "date", "amount", observation_period_end="2022-03-01", freq="D")
    assert len(ours) == len(theirs)
    _compare_with_lifetimes(ours, theirs)


def test_calibration_holdout_matches_lifetimes():
    """Two differences are removed from the log first. lifetimes compares times with the
    calibration end as a timestamp (midnight), so it would drop purchases later that day; ours
    counts the whole day: times are floored to dates here. lifetimes' holdout spend is the mean per
    record, ours per purchase day: the log keeps one purchase per customer and day."""
    from lifetimes.utils import calibration_and_holdout_data

    log = random_log(5).assign(date=lambda d: d["date"].dt.floor("D"))
    log = log.drop_duplicates(["customer_id", "date"])
    ours = calibration_holdout_summary(log, monetary_value_col="amount",
                                       calibration_period_end="2021-09-30",
                                       observation_period_end="2022-01-31", late_purchases="drop")
    theirs = calibration_and_holdout_data(
        log, "customer_id", "date", calibration_period_end="2021-09-30",
        observation_period_end="2022-01-31", freq="D", monetary_value_col="amount")
    _compare_with_lifetimes(ours, theirs, suffix="_cal")
    theirs = theirs.loc[ours.index]
    assert np.array_equal(ours["frequency_holdout"].to_numpy(float), theirs["frequency_holdout"].to_numpy())
    np.testing.assert_allclose(ours["monetary_value_holdout"], theirs["monetary_value_holdout"],
                               rtol=1e-12, atol=0)
    meta = summary_meta(ours)
    assert meta["duration_holdout"] == theirs["duration_holdout"].iloc[0] == 123.0
    assert (meta["observation_end"], meta["holdout_end"]) == ("2021-09-30", "2022-01-31")


def test_holdout_counts_only_calibration_customers():
    log = pd.DataFrame({
        "customer_id": [1, 1, 1, 1, 2, 3],
        "date": pd.to_datetime(["2020-01-01", "2020-01-05", "2020-01-12", "2020-01-12",
                                "2020-01-08", "2020-01-20"]),
        "amount": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
    })
    summary = calibration_holdout_summary(log, calibration_period_end="2020-01-10",
                                          monetary_value_col="amount", time_unit="W")
    assert list(summary.index) == [1, 2]  # customer 3 first bought in the holdout
    assert summary["frequency_holdout"].tolist() == [1, 0]  # two records, one day
    assert summary["monetary_value_holdout"].tolist() == [7.0, 0.0]
    assert summary["T"].tolist() == [9 / 7, 2 / 7]
    assert summary_meta(summary)["duration_holdout"] == 10 / 7
    assert summary.columns[-2:].tolist() == ["frequency_holdout", "monetary_value_holdout"]


def test_time_zone_aware_times_are_dated_in_utc(tmp_path):
    """23:30 at UTC-5 is 04:30 the next day in UTC."""
    stamps = ["2020-01-01T23:30:00-05:00", "2020-01-03T08:00:00+01:00", "2020-01-03T00:30:00+02:00"]
    text = pd.DataFrame({"customer_id": [1, 1, 1], "date": stamps})
    typed = text.assign(date=pd.to_datetime(text["date"], utc=True).dt.tz_convert("America/New_York"))
    text.to_csv(tmp_path / "log.csv", index=False)
    for source in (text, typed, tmp_path / "log.csv"):
        summary = rfm_summary(source)
        # UTC: 01-02 04:30, 01-03 07:00, 01-02 22:30 (local dates would be 01-01, 01-03, 01-03)
        assert summary.loc[1, "first_purchase"] == pd.Timestamp("2020-01-02")
        assert summary.loc[1, ["frequency", "recency"]].tolist() == [1, 1.0]


def test_attributes_carry_one_value_per_customer():
    log = pd.DataFrame({
        "customer_id": ["a", "a", "b", "b", "c"],
        "date": pd.to_datetime(["2020-01-01", "2020-01-02", "2020-01-01", "2020-01-03", "2020-01-01"]),
        "channel": pd.Categorical(["web", None, None, "shop", None]),
        "acquisition_cost": [12.5, 12.5, 3.0, np.nan, np.nan],
    })
    for engine in ("pandas", "duckdb"):
        summary = rfm_summary(log, attribute_cols=["channel", "acquisition_cost"], engine=engine)
        assert summary["channel"].dtype == log["channel"].dtype
        assert summary["channel"].tolist()[:2] == ["web", "shop"]
        assert pd.isna(summary.loc["c", "channel"])
        assert summary["acquisition_cost"].tolist()[:2] == [12.5, 3.0]
        assert np.isnan(summary.loc["c", "acquisition_cost"])
        assert summary.columns.tolist()[-2:] == ["channel", "acquisition_cost"]


def test_return_and_zero_amount_policies():
    log = pd.DataFrame({
        "customer_id": ["a"] * 5 + ["b"] * 3,
        "date": pd.to_datetime(["2020-01-01", "2020-01-02", "2020-01-02", "2020-01-03",
                                "2020-01-04", "2020-01-01", "2020-01-02", "2020-01-02"]),
        "amount": [10.0, 8.0, -3.0, -4.0, 0.0, 5.0, 4.0, -4.0],
    })
    for engine in ("pandas", "duckdb"):
        options = {"monetary_value_col": "amount", "engine": engine}
        net = rfm_summary(log, returns="net", zero_amounts="drop", **options)
        # a: days 01 (10), 02 (8 - 3 = 5); 03 nets below zero; 04 dropped (zero)
        assert net.loc["a", ["frequency", "recency", "monetary_value"]].tolist() == [1, 1.0, 5.0]
        assert net.loc["b", "frequency"] == 0  # 02 nets to zero: no purchase
        kept = rfm_summary(log, returns="net", zero_amounts="keep", **options)
        assert kept.loc["a", ["frequency", "monetary_value"]].tolist() == [2, 2.5]  # 02 and 04
        assert kept.loc["b", ["frequency", "monetary_value"]].tolist() == [1, 0.0]
        dropped = rfm_summary(log, returns="drop", zero_amounts="drop", **options)
        assert dropped.loc["a", ["frequency", "monetary_value"]].tolist() == [1, 8.0]
        assert dropped.loc["b", ["frequency", "monetary_value"]].tolist() == [1, 4.0]


def test_late_purchases_can_be_dropped_and_observation_end_defaults_to_last_purchase():
    log = random_log(2, n_rows=300)
    full = rfm_summary(log)
    last_day = log["date"].max().normalize()
    assert summary_meta(full)["observation_end"] == str(last_day.date())
    assert full["T"].min() == 0.0
    cut = rfm_summary(log, observation_period_end="2021-06-30", late_purchases="drop")
    early = rfm_summary(log[log["date"] < "2021-07-01"], observation_period_end="2021-06-30")
    pd.testing.assert_frame_equal(cut, early, check_exact=True)


def test_datetime_format_for_text_and_numbers(tmp_path):
    numeric = pd.DataFrame({"customer_id": [1, 1, 2], "date": [19970101, 19970118, 19970102]})
    text = numeric.assign(date=["01/01/1997", "18/01/1997", "02/01/1997"])
    a = rfm_summary(numeric, datetime_format="%Y%m%d")
    b = rfm_summary(text, datetime_format="%d/%m/%Y")
    numeric.to_csv(tmp_path / "log.csv", index=False)
    c = rfm_summary(tmp_path / "log.csv", datetime_format="%Y%m%d")
    assert a["recency"].tolist() == [17.0, 0.0]
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    pd.testing.assert_frame_equal(a, c, check_exact=True)


def test_ids_of_mixed_types_are_summarised():
    """Python cannot sort 2 and "a"; pandas' factorize puts numbers before strings."""
    log = pd.DataFrame({"customer_id": pd.Series(["b", 2, "a", 2], dtype=object),
                        "date": pd.to_datetime(["2020-01-01", "2020-01-02", "2020-01-03", "2020-01-04"])})
    for engine in ("pandas", "duckdb"):
        summary = rfm_summary(log, engine=engine)
        assert summary.index.tolist() == [2, "a", "b"]
        assert summary["frequency"].tolist() == [1, 0, 0]


def test_duckdb_settings_are_passed_through(tmp_path):
    log = random_log(4, n_rows=500)
    log.to_parquet(tmp_path / "log.parquet")
    limited = rfm_summary(tmp_path / "log.parquet",
                          duckdb_config={"memory_limit": "100MB", "threads": 1})
    pd.testing.assert_frame_equal(limited, rfm_summary(log), check_exact=True)
    with pytest.raises(Exception, match="many"):
        rfm_summary(tmp_path / "log.parquet", duckdb_config={"threads": "many"})


def test_core_aggregation_uses_only_portable_sql():
    """The aggregation must run unchanged on Spark SQL later: only functions both engines have."""
    import re

    from clvmodels.data import sql

    text = sql.customer_totals_sql("clv_transactions", 18_000, n_attributes=2, net_returns=True,
                                   keep_zero_days=True)
    called = set(re.findall(r"\b([A-Za-z_]+)\s*\(", text))
    assert called <= {"MIN", "MAX", "COUNT", "SUM", "CAST", "MIN_BY", "AS"}, called
    assert "::" not in text and "GROUP BY ALL" not in text.upper()  # DuckDB-only syntax
