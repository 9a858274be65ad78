"""Transaction files that cannot be read are refused with one line naming the file, the problem
and what to do; DuckDB's own text stays available as ``__cause__`` (issue 17, item 8)."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from clvmodels import DataError, rfm_summary


def good_log(n: int = 6) -> pd.DataFrame:
    return pd.DataFrame({"customer_id": [f"c{i}" for i in range(n)],
                         "date": [f"2020-01-{i + 1:02d}" for i in range(n)],
                         "amount": [10.0 + i for i in range(n)]})


def refusal(path, **options) -> DataError:
    with pytest.raises(DataError) as caught:
        rfm_summary(path, monetary_value_col="amount", **options)
    message = str(caught.value)
    assert "\n" not in message, message  # one line
    assert path.name in message, message  # names the file
    assert "Error:" not in message, message  # not DuckDB's raw text
    return caught.value


def test_latin1_csv(tmp_path):
    path = tmp_path / "latin.csv"
    good_log().assign(customer_id=["José", "b", "c", "d", "e", "f"]).to_csv(
        path, index=False, encoding="latin-1")
    err = refusal(path)
    assert "is not UTF-8 text" in str(err) and "re-save it as UTF-8" in str(err)
    assert isinstance(err.__cause__, duckdb.Error)  # for --verbose


def test_latin1_byte_deep_in_a_large_csv_names_the_line(tmp_path):
    """Beyond DuckDB's sniffing sample the bad byte is met in the counting scan, line 20,001
    (the header is line 1), even in an attribute column the checks do not otherwise read."""
    log = pd.DataFrame({"customer_id": np.arange(30_000), "date": "2020-01-01", "amount": 1.0,
                        "channel": "web"})
    log.loc[19_999, "channel"] = "café"
    path = tmp_path / "big.csv"
    log.to_csv(path, index=False, encoding="latin-1")
    err = refusal(path, attribute_cols="channel")
    assert "is not UTF-8 text (line 20,001)" in str(err)


def test_binary_garbage_named_csv(tmp_path):
    path = tmp_path / "garbage.csv"
    path.write_bytes(np.random.default_rng(0).bytes(4000))
    assert "is binary data, not CSV text" in str(refusal(path))


def test_binary_without_zero_bytes_is_not_a_csv_dialect(tmp_path):
    path = tmp_path / "noise.csv"
    rng = np.random.default_rng(1)
    path.write_bytes(bytes(rng.integers(1, 256, 4000, dtype=np.uint8)))
    message = str(refusal(path))
    assert "is not UTF-8 text" in message or "cannot be read as CSV" in message


def test_parquet_named_csv(tmp_path):
    path = tmp_path / "log.csv"
    good_log().to_parquet(path)
    assert "is a Parquet file with a CSV name; rename it to .parquet" in str(refusal(path))


def test_csv_named_parquet(tmp_path):
    path = tmp_path / "log.parquet"
    good_log().to_csv(path, index=False)
    assert "is not a Parquet file" in str(refusal(path))


def test_truncated_parquet(tmp_path):
    whole = tmp_path / "whole.parquet"
    good_log().to_parquet(whole)
    data = whole.read_bytes()
    path = tmp_path / "cut.parquet"
    path.write_bytes(data[: len(data) // 2])
    message = str(refusal(path))
    assert "is a truncated Parquet file" in message and f"{len(data) // 2:,} bytes" in message


def test_corrupt_parquet_pages(tmp_path):
    """Header and footer intact, data pages overwritten: DuckDB finds it; the cause is kept."""
    whole = tmp_path / "whole.parquet"
    good_log(200).to_parquet(whole, compression="snappy")
    data = bytearray(whole.read_bytes())
    data[8:200] = bytes(192)
    path = tmp_path / "corrupt.parquet"
    path.write_bytes(bytes(data))
    err = refusal(path)
    assert "is a corrupt Parquet file" in str(err) and "re-export" in str(err)
    assert isinstance(err.__cause__, duckdb.Error)


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_zero_byte_file(tmp_path, suffix):
    path = tmp_path / f"empty.{suffix}"
    path.write_bytes(b"")
    message = str(refusal(path))
    assert "is empty (0 bytes)" in message and "lacks column" not in message


def test_a_zero_byte_file_among_good_ones_is_named(tmp_path):
    good_log().to_csv(tmp_path / "a.csv", index=False)
    (tmp_path / "b.csv").write_bytes(b"")
    with pytest.raises(DataError, match=r"'[^']*b\.csv' is empty \(0 bytes\)"):
        rfm_summary(tmp_path / "*.csv")


def test_csv_with_a_header_only(tmp_path):
    path = tmp_path / "header.csv"
    path.write_text("customer_id,date,amount\n")
    assert "has a header but no rows" in str(refusal(path))


def test_utf16_csv(tmp_path):
    path = tmp_path / "utf16.csv"
    good_log().to_csv(path, index=False, encoding="utf-16")
    message = str(refusal(path))
    assert "is UTF-16 text" in message and "encoding='utf-16'" in message


def test_ragged_rows_deep_in_a_csv(tmp_path):
    """A row with an extra field past the sniffing sample: refused with its line, one line."""
    log = pd.DataFrame({"customer_id": np.arange(30_000), "date": "2020-01-01", "amount": 1.0})
    path = tmp_path / "ragged.csv"
    log.to_csv(path, index=False)
    with open(path, "a") as handle:
        handle.write("7,2020-01-02,1.0,extra\n")
    message = str(refusal(path))
    assert "different number of fields" in message or "cannot be read" in message


def test_good_files_still_read(tmp_path):
    log = good_log()
    log.to_csv(tmp_path / "log.csv", index=False)
    log.to_parquet(tmp_path / "log.parquet")
    a = rfm_summary(tmp_path / "log.csv", monetary_value_col="amount")
    b = rfm_summary(tmp_path / "log.parquet", monetary_value_col="amount")
    c = rfm_summary(log, monetary_value_col="amount")
    pd.testing.assert_frame_equal(a, c, check_exact=True)
    pd.testing.assert_frame_equal(b, c, check_exact=True)


def test_a_value_that_breaks_the_sniffed_type_is_named(tmp_path):
    """Ids are numbers in DuckDB's sniffing sample and text on line 30,002."""
    log = pd.DataFrame({"customer_id": np.arange(30_000), "date": "2020-01-01", "amount": 1.0})
    path = tmp_path / "ids.csv"
    log.to_csv(path, index=False)
    with open(path, "a") as handle:
        handle.write("abc,2020-01-02,1.0\n")
    message = str(refusal(path))
    assert "column 'customer_id' holds 'abc' (line 30,002), but its first rows make it BIGINT" \
        in message
