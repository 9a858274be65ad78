"""Bad transaction logs get a DataError naming the problem, the row count, example ids and a hint,
from a DataFrame and from files alike; nothing is written on failure."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

from clvmodels import DataError, calibration_holdout_summary, rfm_summary


def good_log(n: int = 8) -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": [f"c{i}" for i in range(n)],
        "date": [f"2020-01-{i + 1:02d}" for i in range(n)],
        "amount": [10.0 + i for i in range(n)],
    })


@pytest.fixture(params=["frame", "csv", "parquet"])
def source_of(request, tmp_path):
    """Turn a DataFrame log into the source kind under test (the frame, or a file holding it)."""

    def make(log: pd.DataFrame):
        if request.param == "frame":
            return log
        path = tmp_path / f"log.{request.param}"
        log.to_csv(path, index=False) if request.param == "csv" else log.to_parquet(path)
        return path

    make.kind = request.param
    return make


def expect_error(source, *patterns, **options):
    with pytest.raises(DataError) as caught:
        rfm_summary(source, **options)
    message = str(caught.value)
    for pattern in patterns:
        assert pattern in message, f"{pattern!r} not in:\n{message}"
    return message


def test_missing_columns_are_named_with_what_exists(source_of):
    expect_error(source_of(good_log()), "lacks column(s) ['spend']", "'customer_id', 'date', 'amount'",
                 "monetary_value_col=", monetary_value_col="spend")


def test_a_column_in_the_index_gets_a_reset_index_hint():
    expect_error(good_log().set_index("customer_id"), "['customer_id']", ".reset_index()")


def test_empty_log(source_of):
    expect_error(source_of(good_log().iloc[:0]), "empty" if source_of.kind == "frame" else "no rows")


def test_missing_ids_and_timestamps(source_of):
    log = good_log()
    log.loc[[2, 5], "customer_id"] = None
    log.loc[3, "date"] = None
    message = expect_error(source_of(log), "missing customer id (column 'customer_id') in 2 rows",
                           "missing timestamp (column 'date') in 1 row (e.g. 'c3')")
    if source_of.kind == "frame":
        assert "(e.g. row 2, row 5)" in message


def test_unreadable_timestamps_name_the_rows_and_the_format_option(source_of):
    log = good_log()
    log.loc[[1, 4], "date"] = ["2020-13-45", "yesterday"]
    expect_error(source_of(log), "timestamp that cannot be read (column 'date') in 2 rows",
                 "'c1', 'c4'", "datetime_format=")


def test_timestamps_not_matching_the_given_format(source_of):
    expect_error(source_of(good_log()), "do not match datetime_format='%d/%m/%Y'",
                 datetime_format="%d/%m/%Y")


def test_numeric_timestamps_need_a_format(source_of):
    log = good_log().assign(date=np.arange(20200101, 20200109))
    expect_error(source_of(log), "datetime_format=", "%Y%m%d")


def test_mixed_aware_and_naive_timestamps(source_of):
    log = good_log()
    log.loc[[0, 6], "date"] = ["2020-01-01T10:00:00+02:00", "2020-01-07T10:00:00Z"]
    expect_error(source_of(log), "time-zone-aware and naive timestamps mixed",
                 "in 2 rows (e.g. 'c0', 'c6')", "UTC offset")


@pytest.mark.parametrize(
    "values, rows, problem, hint",
    [
        (["ten", "x"], [1, 2], "non-numeric amount (column 'amount') in 2 rows", "Fix or drop"),
        ([np.nan], [3], "missing amount (column 'amount') in 1 row (e.g. 'c3')", "Fill in"),
        ([np.inf, -np.inf], [0, 7], "infinite amount (column 'amount') in 2 rows", "Fix or drop"),
        ([0.0], [4], "zero amount", "zero_amounts='keep'"),
        ([-5.0, -1.0], [2, 6], "negative amount, i.e. a return (column 'amount') in 2 rows",
         "returns='net'"),
        ([2e12], [5], "amount of 1e+12 or more", "Rescale"),
    ],
)
def test_bad_amounts(source_of, values, rows, problem, hint):
    log = good_log().astype({"amount": object})
    log.loc[rows, "amount"] = values
    if source_of.kind == "parquet":  # typed columns: text amounts make a text column
        text = any(isinstance(v, str) for v in values)
        log["amount"] = log["amount"].astype(str if text else float)
    message = expect_error(source_of(log), problem, hint, monetary_value_col="amount")
    assert f"'c{rows[0]}'" in message


def test_every_problem_is_reported_at_once():
    log = good_log()
    log.loc[0, "customer_id"] = None
    log.loc[1, "date"] = "junk"
    log.loc[2, "amount"] = -3.0
    message = expect_error(log, "missing customer id", "cannot be read", "negative amount",
                           monetary_value_col="amount")
    assert message.count("\n- ") == 3


def test_examples_are_limited_to_five():
    log = good_log(12).assign(amount=-1.0)
    message = expect_error(log, "in 12 rows (e.g. 'c0', 'c1', 'c2', 'c3', 'c4', ...)",
                           monetary_value_col="amount")
    assert "'c5'" not in message


def test_late_purchases_are_refused_with_the_drop_option(source_of):
    expect_error(source_of(good_log()), "purchase after the observation end 2020-01-05 in 3 rows",
                 "'c5', 'c6', 'c7'", "late_purchases='drop'", observation_period_end="2020-01-05")


def test_observation_end_before_every_purchase(source_of):
    expect_error(source_of(good_log()), "2019-12-31 is before every purchase",
                 "the first is on 2020-01-01", observation_period_end="2019-12-31")


def test_unparseable_observation_end():
    expect_error(good_log(), "observation_period_end='soon' is not a date",
                 observation_period_end="soon")


@pytest.mark.parametrize(
    "calibration_end, observation_end, pattern",
    [
        ("2020-01-08", "2020-01-08", "must be before observation_period_end"),
        ("2019-06-01", None, "calibration_period_end 2019-06-01 is before every purchase"),
    ],
)
def test_bad_calibration_windows(calibration_end, observation_end, pattern):
    with pytest.raises(DataError, match=pattern):
        calibration_holdout_summary(good_log(), calibration_period_end=calibration_end,
                                    observation_period_end=observation_end)


@pytest.mark.parametrize(
    "options, pattern",
    [
        ({"time_unit": "Q"}, "time_unit must be one of ['D', 'W', 'M', 'Y']; got 'Q'"),
        ({"returns": "keep"}, "returns must be one of ['refuse', 'net', 'drop']"),
        ({"zero_amounts": "yes"}, "zero_amounts must be one of ['refuse', 'keep', 'drop']"),
        ({"late_purchases": "ignore"}, "late_purchases must be one of ['refuse', 'drop']"),
        ({"engine": "spark"}, "engine must be one of ['auto', 'duckdb', 'pandas']"),
        ({"attribute_cols": ["frequency"]}, "clash with summary column names"),
        ({"attribute_cols": ["date"]}, "name the id, timestamp or amount column"),
    ],
)
def test_bad_settings_list_the_valid_choices(options, pattern):
    with pytest.raises(DataError) as caught:
        rfm_summary(good_log(), **options)
    assert pattern in str(caught.value)


def test_conflicting_attribute_values(source_of):
    log = good_log().assign(customer_id=["a", "a", "b", "b", "c", "c", "d", "d"],
                            channel=["web", "web", "web", "shop", "shop", None, "web", "shop"])
    expect_error(source_of(log), "conflicting values of 'channel' in 2 customers",
                 "'b', 'd'", "attribute_cols", attribute_cols=["channel"])


def test_files_that_do_not_exist_or_are_not_csv_or_parquet(tmp_path):
    expect_error({"customer_id": [1]}, "must be a pandas DataFrame or a CSV/Parquet path", "dict")
    expect_error(str(tmp_path / "nothing*.csv"), "no transaction file found")
    expect_error(tmp_path / "missing.parquet", "no transaction file found")
    (tmp_path / "log.json").write_text("{}")
    expect_error(tmp_path / "log.json", "must all be Parquet", "or all CSV")
    good_log().to_csv(tmp_path / "log.csv", index=False)
    expect_error(tmp_path / "log.csv", "engine='pandas' needs a DataFrame", engine="pandas")


def test_nothing_is_written_on_failure(tmp_path, monkeypatch):
    """A failing run leaves the working folder as it was (DuckDB's spill folder included)."""
    log = good_log()
    log.loc[3, "amount"] = -1.0
    log.to_parquet(tmp_path / "log.parquet")
    monkeypatch.chdir(tmp_path)
    before = sorted(os.listdir(tmp_path))
    for source in (log, tmp_path / "log.parquet"):
        with pytest.raises(DataError):
            rfm_summary(source, monetary_value_col="amount", engine="duckdb" if source is log else "auto")
    assert sorted(os.listdir(tmp_path)) == before


def test_sums_beyond_exact_64_bit_integers_are_refused(source_of):
    """Amounts are summed as int64 millionths; a customer's total must stay below ~4.6e12."""
    log = pd.DataFrame({"customer_id": ["big"] * 11 + ["small"],
                        "date": pd.date_range("2020-01-01", periods=12).astype(str),
                        "amount": [9e11] * 11 + [1.0]})
    expect_error(source_of(log), "beyond exact 64-bit sums", "rescale the amounts",
                 monetary_value_col="amount")
