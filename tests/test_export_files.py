"""Export schema, run metadata and the atomic CSV / Parquet writers."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from clvmodels.errors import DataError
from clvmodels.export import (
    COLUMN_NAMES,
    EXPORT_COLUMNS,
    conform,
    load_field_mapping,
    new_run,
    read_run_info,
    schema_markdown,
    write_csv,
    write_parquet,
)
from clvmodels.export.schema import PANDAS_DTYPES

AWKWARD_IDS = ['plain', 'with "quotes"', "comma, separated", "line\nbreak", "ünïcødé 顧客 🚀", "x" * 10_000]


def scores_frame(ids=AWKWARD_IDS) -> pd.DataFrame:
    n = len(ids)
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({
        "frequency": np.arange(n),
        "recency": rng.uniform(0, 30, n),
        "tenure": np.full(n, 38.86),
        "monetary_value": rng.uniform(0, 100, n),
        "last_purchase_date": pd.date_range("1997-01-01", periods=n, freq="7D"),
        "p_alive": rng.uniform(size=n),
        "clv": rng.uniform(0, 500, n),
        "clv_lower": np.zeros(n),
        "clv_upper": np.full(n, 1e3),
        "value_segment": ["top", None] * (n // 2) + ["low"] * (n % 2),
        "reactivation_target": [True, False] * (n // 2) + [True] * (n % 2),
        "reactivation_rank": [1, None] * (n // 2) + [2] * (n % 2),
    }, index=pd.Index(ids, name="cust"))
    if n > 1:
        frame.loc[frame.index[1], "p_alive"] = np.nan
    return frame


def summary_for(frame: pd.DataFrame) -> pd.DataFrame:
    summary = pd.DataFrame({"first_purchase": pd.to_datetime(["1997-01-01"] * len(frame))}, index=frame.index)
    summary.attrs["clvmodels"] = {"time_unit": "W", "observation_end": "1997-09-30"}
    return summary


@pytest.fixture
def run():
    return new_run(summary=summary_for(scores_frame()), seed=7, horizon=39, interval_level=0.9,
                   currency="USD", configuration={"note": "test"})


# ----- schema ------------------------------------------------------------------------------------
def test_markdown_table_lists_every_column_once_with_type_and_meaning():
    table = schema_markdown().splitlines()
    rows = table[2:]
    assert table[0] == "| column | type | meaning |"
    assert len(rows) == len(EXPORT_COLUMNS)
    for row, col in zip(rows, EXPORT_COLUMNS):
        assert row.startswith(f"| `{col.name}` | {col.type} | ")
    mapped = schema_markdown({"customer_id": "External_Id__c"})
    assert "| `customer_id` | text |" in mapped and "`External_Id__c` |" in mapped


def test_column_names_are_lower_snake_case_and_unique():
    assert len(set(COLUMN_NAMES)) == len(COLUMN_NAMES)
    for name in COLUMN_NAMES:
        assert name == name.lower() and name.replace("_", "").isalnum(), name


def test_conform_types_orders_and_fills_every_column(run):
    out = conform(scores_frame(), run.column_values())
    assert list(out.columns) == list(COLUMN_NAMES)
    for col in EXPORT_COLUMNS:
        assert str(out[col.name].dtype) == str(pd.Series(dtype=PANDAS_DTYPES[col.type]).dtype), col.name
    assert list(out["customer_id"]) == AWKWARD_IDS  # the id came from the index
    assert out["run_id"].unique().tolist() == [run.run_id]
    assert out["snapshot_date"].unique().tolist() == [pd.Timestamp("1997-09-30")]
    assert out["net_value"].isna().all()  # not computed -> null, but present
    assert out["reactivation_rank"].isna().tolist() == [False, True] * 3
    pd.testing.assert_frame_equal(conform(out), out)  # idempotent


@pytest.mark.parametrize("ids, fragment", [
    (["a", "b", "a", "c", "c"], "customer ids repeat: 2 rows (e.g. 'a', 'c')"),
    (["a", None, "  "], "missing or empty in 2 rows (e.g. 1, 2)"),
])
def test_bad_keys_are_refused_with_count_and_examples(ids, fragment):
    frame = pd.DataFrame({"frequency": range(len(ids))}, index=pd.Index(ids, dtype=object))
    with pytest.raises(DataError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        conform(frame)


def test_unknown_and_badly_typed_columns_are_refused():
    frame = scores_frame()
    with pytest.raises(DataError, match=r"\['churn'\] are not part of the export schema"):
        conform(frame.assign(churn=1.0))
    with pytest.raises(DataError, match="'p_alive' must hold float values"):
        conform(frame.assign(p_alive="high"))
    with pytest.raises(DataError, match="'frequency' must hold integer values"):
        conform(frame.assign(frequency=0.5))


def test_field_mapping_from_toml_and_its_errors(tmp_path):
    path = tmp_path / "crm.toml"
    path.write_text('[fields]\ncustomer_id = "Contact_Id__c"\np_alive = "P_Alive__c"\n', encoding="utf-8")
    mapping = load_field_mapping(path)
    assert mapping["customer_id"] == "Contact_Id__c" and mapping["clv"] == "clv"
    path.write_text('[fields]\np_alive = "x"\nclv = "x"\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"same name: \['x'\]"):
        load_field_mapping(path)
    path.write_text('[fields]\npalive = "x"\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"unknown columns \['palive'\]"):
        load_field_mapping(path)


# ----- run metadata ------------------------------------------------------------------------------
def test_run_id_is_derived_from_content_and_explicit_ids_win():
    summary = summary_for(scores_frame())
    a = new_run(summary=summary, seed=1, horizon=39)
    assert a.run_id == new_run(summary=summary, seed=1, horizon=39).run_id
    assert a.run_id != new_run(summary=summary, seed=2, horizon=39).run_id
    assert new_run(summary=summary, seed=1, run_id="nightly-2024-01-02").run_id == "nightly-2024-01-02"
    assert a.data_window == {"first_purchase": "1997-01-01", "observation_end": "1997-09-30", "n_customers": 6}


# ----- CSV -----------------------------------------------------------------------------------------
def test_csv_round_trips_awkward_values(tmp_path, run):
    path = write_csv(scores_frame(), tmp_path / "scores.csv", run)
    raw = path.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf") and b"\r\n" not in raw.replace(b"line\r\nbreak", b"")
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["customer_id"] for r in rows] == AWKWARD_IDS
    assert list(rows[0]) == list(COLUMN_NAMES)  # header, no index column
    first, second = rows[0], rows[1]
    assert first["snapshot_date"] == "1997-09-30" and first["last_purchase_date"] == "1997-01-01"
    assert second["p_alive"] == "" and second["net_value"] == "" and second["value_segment"] == ""
    assert first["reactivation_target"] == "true" and second["reactivation_target"] == "false"
    assert first["run_id"] == run.run_id and first["currency"] == "USD"
    assert float(first["recency"]) == scores_frame()["recency"].iloc[0]  # shortest repr round-trips


def test_csv_header_uses_the_crm_field_names(tmp_path, run):
    path = write_csv(scores_frame(), tmp_path / "s.csv", run, field_mapping={"customer_id": "Id", "clv": "CLV__c"})
    header = path.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header[0] == "Id" and "CLV__c" in header and "clv" not in header


# ----- Parquet -------------------------------------------------------------------------------------
def test_parquet_carries_types_and_run_metadata(tmp_path, run):
    path = write_parquet(scores_frame(), tmp_path / "scores.parquet", run)
    table = pq.read_table(path)
    types = {f.name: str(f.type) for f in table.schema}
    assert types["customer_id"] == "string" and types["snapshot_date"] == "date32[day]"
    assert types["frequency"] == "int64" and types["reactivation_target"] == "bool"
    assert read_run_info(path) == run
    back = table.to_pandas()
    assert list(back["customer_id"]) == AWKWARD_IDS
    assert back["p_alive"].isna().tolist() == [False, True, False, False, False, False]


def test_same_input_gives_identical_bytes(tmp_path, run):
    for writer, name in [(write_csv, "a.csv"), (write_parquet, "a.parquet")]:
        first = writer(scores_frame(), tmp_path / name, run).read_bytes()
        second = writer(scores_frame(), tmp_path / name, run).read_bytes()
        assert first == second, name


# ----- atomicity -------------------------------------------------------------------------------------
def test_bad_input_writes_nothing(tmp_path, run):
    frame = scores_frame(["a", "a"])
    for writer in (write_csv, write_parquet):
        with pytest.raises(DataError):
            writer(frame, tmp_path / "out", run)
    assert list(tmp_path.iterdir()) == []


def test_failure_mid_write_keeps_the_previous_file(tmp_path, run, monkeypatch):
    path = write_csv(scores_frame(), tmp_path / "scores.csv", run)
    before = path.read_bytes()

    def half_then_fail(self, fh, **kwargs):
        fh.write("customer_id,snapshot_date\npartial,")
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_csv", half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        write_csv(scores_frame(["new"]), path, run)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["scores.csv"]  # the temporary file is gone


def test_kill_mid_write_keeps_the_previous_file(tmp_path):
    """A SIGKILL while the temporary file is half written leaves the target as it was."""
    target = tmp_path / "scores.csv"
    target.write_text("previous\n", encoding="utf-8")
    script = textwrap.dedent(f"""
        import sys, time
        from clvmodels.export.files import atomic_write
        def write(tmp):
            with open(tmp, "w") as fh:
                fh.write("half of the new file")
                fh.flush()
            print("writing", flush=True)
            time.sleep(60)
        atomic_write({str(target)!r}, write)
    """)
    with subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout.readline().strip() == "writing"
        finally:
            os.kill(proc.pid, signal.SIGKILL)  # no cleanup handler runs
            proc.wait(timeout=10)
    assert target.read_text(encoding="utf-8") == "previous\n"
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "scores.csv"]
    assert len(leftovers) == 1 and leftovers[0].startswith(".scores.csv.")  # only the dead temp file


def test_missing_directory_is_a_clear_error(tmp_path, run):
    with pytest.raises(DataError, match="does not exist; create it first"):
        write_csv(scores_frame(), tmp_path / "nope" / "scores.csv", run)
