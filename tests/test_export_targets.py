"""export_scores is all-or-nothing across its targets: every target is checked before anything is
written, the database goes first, files are renamed into place only after it committed, and every
failure is an ExportError naming the target and the cause."""

from __future__ import annotations

import os
import secrets
import sqlite3
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from clvmodels.errors import ClvError, DataError, ExportError
from clvmodels.export import RUNS_TABLE, SCORES_TABLE, export_scores, new_run, read_table
from clvmodels.export.files import csv_writer


def frame_for(ids, seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"frequency": rng.integers(0, 9, len(ids)), "clv": rng.uniform(0, 100, len(ids))},
                        index=pd.Index([str(i) for i in ids], name="customer_id"))


def run_for(frame, seed=0):
    summary = pd.DataFrame(index=frame.index)
    summary.attrs["clvmodels"] = {"time_unit": "W", "observation_end": "1997-09-30"}
    return new_run(summary=summary, seed=seed, horizon=39.0)


def snapshot(directory) -> dict:
    """Every file below ``directory`` (hidden ones included) with its bytes."""
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


@pytest.fixture
def previous(tmp_path):
    """A directory holding the files of an earlier export (CSV, Parquet, SQLite, an extra file)."""
    out = tmp_path / "out"
    out.mkdir()
    frame = frame_for(range(10))
    export_scores(frame, run_for(frame), csv=out / "scores.csv", parquet=out / "scores.parquet",
                  sql=out / "scores.db", files={"extra": (out / "extra.csv", csv_writer(frame))})
    return out


def new_export(out, **overrides):
    frame = frame_for(range(5, 20), seed=1)
    targets = {"csv": out / "scores.csv", "parquet": out / "scores.parquet", "sql": out / "scores.db",
               "files": {"extra": (out / "extra.csv", csv_writer(frame))}}
    return export_scores(frame, run_for(frame, seed=1), **{**targets, **overrides})


def test_a_full_export_writes_every_target_and_reports_each(tmp_path):
    """Hand check: 10 customers (0-9), then 15 (5-19) of which 5 known -> 10 inserted, 5 updated."""
    first = frame_for(range(10))
    export_scores(first, run_for(first), sql=tmp_path / "scores.db")
    written = new_export(tmp_path)
    assert list(written) == ["csv", "parquet", "sql", "extra"]
    assert (written["sql"].inserted, written["sql"].updated) == (10, 5)
    assert len(pd.read_csv(tmp_path / "scores.csv")) == 15 and len(pd.read_parquet(tmp_path / "scores.parquet")) == 15
    assert len(read_table(tmp_path / "scores.db", SCORES_TABLE)) == 20
    assert sorted(p.name for p in tmp_path.iterdir()) == ["extra.csv", "scores.csv", "scores.db", "scores.parquet"]


BAD_SQL = {
    "unsupported dialect": ("mysql://u@localhost/db", "'mysql'", "not supported"),
    "non-numeric port": ("postgresql://u:secret@localhost:abc/db", "localhost:abc", "numeric port"),
    "port out of range": ("postgresql://u@localhost:70000/db", "70000", "outside 1-65535"),
    "not a URL": ("://nothing", "://nothing", "not a database URL"),
    "unreachable server": ("postgresql+psycopg://u:secret@127.0.0.1:1/db", "127.0.0.1:1", "cannot connect"),
    "missing SQLite directory": ("sqlite:////nonexistent-dir-clv/x.db", "nonexistent-dir-clv", "does not exist"),
}


@pytest.mark.parametrize("case", list(BAD_SQL))
def test_bad_database_url_writes_nothing(previous, case):
    url, names, cause = BAD_SQL[case]
    before = snapshot(previous)
    with pytest.raises(ExportError) as info:
        new_export(previous, sql=url)
    message = str(info.value)
    assert names in message and cause in message, message
    assert "secret" not in message  # the password never reaches a message
    assert isinstance(info.value, DataError) and isinstance(info.value, ClvError)
    assert snapshot(previous) == before


def test_driver_errors_are_chained_as_the_cause(previous):
    with pytest.raises(ExportError) as info:
        new_export(previous, sql="postgresql+psycopg://u@127.0.0.1:1/db")
    assert isinstance(info.value.__cause__, sa.exc.OperationalError)
    assert info.value.target == "postgresql+psycopg://u@127.0.0.1:1/db"


def test_a_file_that_is_not_a_database_is_refused_before_the_files(previous):
    (previous / "junk.db").write_text("not a database", encoding="utf-8")
    before = snapshot(previous)
    with pytest.raises(ExportError, match="junk.db.*not a database") as info:
        new_export(previous, sql=previous / "junk.db")
    assert isinstance(info.value.__cause__, sa.exc.DatabaseError)
    assert snapshot(previous) == before


@pytest.mark.parametrize("kwargs, fragment", [
    ({"scores_table_name": ""}, "scores table name must be non-empty"),
    ({"runs_table_name": "a\x00b"}, "NUL character"),
    ({"scores_table_name": "sqlite_scores"}, "reserves table names beginning with 'sqlite_'"),
    ({"scores_table_name": RUNS_TABLE}, "must be different tables"),
    ({"schema_name": "nowhere"}, "schema 'nowhere' does not exist"),
    ({"field_mapping": {"clv": "Score", "p_alive": "score"}}, "differ by more than case"),
])
def test_bad_names_for_sqlite_write_nothing(previous, kwargs, fragment):
    before = snapshot(previous)
    with pytest.raises(ExportError, match=fragment):
        new_export(previous, **kwargs)
    assert snapshot(previous) == before


@pytest.mark.parametrize("which", ["csv", "parquet", "extra"])
def test_bad_file_targets_write_nothing(previous, which):
    before = snapshot(previous)
    bad = {"csv": {"csv": previous / "missing" / "s.csv"},
           "parquet": {"parquet": previous},  # a directory
           "extra": {"files": {"extra": (previous / "missing" / "x.csv", csv_writer(pd.DataFrame()))}}}[which]
    with pytest.raises(ExportError, match="does not exist|is a directory"):
        new_export(previous, **bad)
    assert snapshot(previous) == before


def test_two_targets_naming_one_file_are_refused(previous):
    before = snapshot(previous)
    with pytest.raises(ExportError, match="same file"):
        new_export(previous, parquet=previous / "scores.csv")
    with pytest.raises(ExportError, match="same file"):
        new_export(previous, sql=previous / "scores.csv")
    assert snapshot(previous) == before


def test_read_only_directory_is_refused(previous, monkeypatch):
    """A directory without write permission is refused before anything is written. Root may
    write anywhere, so the permission answer is what the check asks the system (os.access) for:
    it is made to say "no" for this directory whoever runs the test."""
    locked = previous / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    real_access = os.access

    def access(path, mode, *args, **kwargs):
        if os.path.abspath(path) == str(locked) and mode & os.W_OK:
            return False
        return real_access(path, mode, *args, **kwargs)

    monkeypatch.setattr(os, "access", access)
    before = snapshot(previous)
    try:
        with pytest.raises(ExportError, match="not writable"):
            new_export(previous, csv=locked / "s.csv")
        with pytest.raises(ExportError, match="not writable"):
            new_export(previous, sql=locked / "scores.db")
    finally:
        locked.chmod(0o755)
    assert snapshot(previous) == before


def test_a_file_in_place_of_the_directory_is_refused(previous):
    before = snapshot(previous)
    with pytest.raises(ExportError, match="does not exist"):
        new_export(previous, csv=previous / "scores.csv" / "inner.csv")
    assert snapshot(previous) == before


def _poison(db_path, bad_id="poison"):
    """A trigger that makes the database refuse one row mid-transaction (a real database error)."""
    with sqlite3.connect(db_path) as conn:
        conn.execute(f"CREATE TRIGGER refuse BEFORE INSERT ON {SCORES_TABLE} WHEN NEW.customer_id = '{bad_id}' "
                     "BEGIN SELECT RAISE(ABORT, 'poisoned row'); END")


def test_database_failure_mid_transaction_leaves_no_new_or_changed_file(previous):
    _poison(previous / "scores.db", bad_id="19")  # the last row of the new export
    before = snapshot(previous)
    tables_before = read_table(previous / "scores.db", SCORES_TABLE)
    with pytest.raises(ExportError, match="poisoned row") as info:
        new_export(previous)
    assert "scores.db" in str(info.value) and isinstance(info.value.__cause__, sa.exc.DBAPIError)
    assert snapshot(previous) == before  # no file replaced, no temporary file left
    pd.testing.assert_frame_equal(read_table(previous / "scores.db", SCORES_TABLE), tables_before)


def test_exception_during_the_upsert_leaves_every_target(previous):
    before = snapshot(previous)

    def interrupt(done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        new_export(previous, progress=interrupt)
    assert snapshot(previous) == before


def test_failed_first_export_leaves_no_new_sqlite_file(tmp_path):
    frame = frame_for(range(5))

    def fail(done, total):
        raise RuntimeError("injected")

    with pytest.raises(RuntimeError, match="injected"):
        export_scores(frame, run_for(frame), csv=tmp_path / "s.csv", sql=tmp_path / "new.db", progress=fail)
    assert list(tmp_path.iterdir()) == []


def test_bad_frame_writes_nothing(previous):
    before = snapshot(previous)
    frame = frame_for(["a", "a"])
    with pytest.raises(DataError, match="repeat"):
        export_scores(frame, run_for(frame), csv=previous / "scores.csv", sql=previous / "scores.db")
    assert snapshot(previous) == before


# ----- PostgreSQL --------------------------------------------------------------------------------
@pytest.fixture
def pg_previous(pg_url, tmp_path):
    frame = frame_for(range(10))
    export_scores(frame, run_for(frame), csv=tmp_path / "scores.csv", sql=pg_url)
    return tmp_path, pg_url, read_table(pg_url, SCORES_TABLE)


def _pg_unchanged(pg_previous, before_files):
    out, url, table = pg_previous
    assert snapshot(out) == before_files
    pd.testing.assert_frame_equal(read_table(url, SCORES_TABLE), table)
    assert len(read_table(url, RUNS_TABLE)) == 1


@pytest.mark.postgres
@pytest.mark.parametrize("kwargs, fragment", [
    ({"scores_table_name": "t" * 64}, "at most 63 bytes"),
    ({"scores_table_name": "é" * 32}, "at most 63 bytes"),  # 64 bytes in UTF-8
    ({"scores_table_name": " "}, "must be non-empty"),
    ({"schema_name": "missing_schema"}, "schema 'missing_schema' does not exist"),
    ({"field_mapping": {"clv": "x" * 63 + "a", "p_alive": "x" * 63 + "b"}}, "would become the same column"),
    ({"field_mapping": {"clv": "y" * 70}}, "would be renamed"),
])
def test_postgresql_names_are_checked_before_anything_is_written(pg_previous, kwargs, fragment):
    out, url, _ = pg_previous
    before = snapshot(out)
    frame = frame_for(range(5, 20), seed=1)
    with pytest.raises(ExportError, match=fragment):
        export_scores(frame, run_for(frame, seed=1), csv=out / "scores.csv", sql=url, **kwargs)
    _pg_unchanged(pg_previous, before)


@pytest.mark.postgres
@pytest.mark.parametrize("bad_id, column, fragment", [
    ("nul\x00id", "customer_id", "cannot hold a NUL character"),
    (None, "value_segment", "cannot hold a NUL character"),
    (secrets.token_hex(1600), "customer_id", "at most 2,704 bytes"),  # 3,200 incompressible bytes
])
def test_postgresql_values_it_cannot_store_write_nothing(pg_previous, bad_id, column, fragment):
    out, url, _ = pg_previous
    before = snapshot(out)
    frame = frame_for(range(5, 20), seed=1)
    if column == "customer_id":
        frame.index = pd.Index(list(frame.index[:-1]) + [bad_id], name="customer_id")
    else:
        frame[column] = ["top"] * (len(frame) - 1) + ["lo\x00w"]
    calls = []
    with pytest.raises(ExportError, match=fragment) as info:
        export_scores(frame, run_for(frame, seed=1), csv=out / "scores.csv", sql=url,
                      progress=lambda done, total: calls.append(done))
    assert calls == []  # refused by the checks, before the transaction sent a row
    assert "1 row" in str(info.value) or "1 of the customer ids" in str(info.value)
    assert len(str(info.value)) < 600  # a long id is shortened in the message
    _pg_unchanged(pg_previous, before)


@pytest.mark.postgres
def test_postgresql_long_but_compressible_ids_are_stored(pg_url, tmp_path):
    """PostgreSQL compresses index entries: a 10,000-byte repetitive id fits, and round-trips."""
    frame = frame_for(["x" * 10_000, "y"])
    export_scores(frame, run_for(frame), sql=pg_url)
    assert sorted(read_table(pg_url, SCORES_TABLE)["customer_id"]) == sorted(frame.index)


# ----- the command line --------------------------------------------------------------------------
def clv(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "clvmodels.cli.main", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def log_file(tmp_path_factory):
    rng = np.random.default_rng(3)
    rows = [(f"c{i:02d}", (pd.Timestamp("2023-01-01") + pd.Timedelta(days=int(d))).date().isoformat(),
             round(float(rng.uniform(5, 50)), 2))
            for i in range(40) for d in np.sort(rng.choice(360, size=1 + i % 5, replace=False))]
    path = tmp_path_factory.mktemp("log") / "transactions.csv"
    pd.DataFrame(rows, columns=["customer_id", "date", "amount"]).to_csv(path, index=False)
    return path


@pytest.mark.parametrize("url, fragment", [
    ("mysql://u@localhost/db", "not supported"),
    ("postgresql://u@localhost:abc/db", "numeric port"),
    ("postgresql+psycopg://u@127.0.0.1:1/db", "cannot connect"),
])
def test_cli_run_with_a_bad_database_writes_no_file(log_file, tmp_path, url, fragment):
    result = clv("run", log_file, "--out", tmp_path / "out", "--observation-end", "2023-12-31", "--sql", url,
                 "--quiet")
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0] and "Traceback" not in result.stderr, result.stderr
    assert not (tmp_path / "out").exists()  # not even the directory the run would have made


def test_cli_run_into_an_existing_directory_keeps_its_files_on_failure(log_file, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "scores.csv").write_text("previous\n", encoding="utf-8")
    result = clv("run", log_file, "--out", out, "--observation-end", "2023-12-31", "--sql",
                 "postgresql+psycopg://u@127.0.0.1:1/db", "--quiet")
    assert result.returncode == 1, result.stderr
    assert snapshot(out) == {"scores.csv": b"previous\n"}


def test_cli_export_with_a_bad_database_writes_no_file(tmp_path):
    frame = frame_for(range(5))
    export_scores(frame, run_for(frame), parquet=tmp_path / "scores.parquet")
    result = clv("export", tmp_path / "scores.parquet", "--csv", tmp_path / "crm.csv", "--sql",
                 "mysql://u@localhost/db")
    assert result.returncode == 1 and "not supported" in result.stderr, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scores.parquet"]


@pytest.mark.parametrize("table", ['we"ird', "semi;colon -- x", "Mixed Case", "ünï 顧客", "a'b", "%(x)s", "a.b",
                                   "?"])
def test_hostile_table_and_field_names_round_trip(sql_url, table):
    frame = frame_for(range(4))
    mapping = {"customer_id": "%(id)s", "clv": 'C "l" v', "frequency": "n:freq"}
    for seed in (0, 1):  # created, then upserted
        frame["clv"] = float(seed)
        written = export_scores(frame, run_for(frame, seed=seed), sql=sql_url, scores_table_name=table,
                                runs_table_name=f"{table} runs", field_mapping=mapping)
    assert (written["sql"].inserted, written["sql"].updated) == (0, 4)
    back = read_table(sql_url, table).set_index("%(id)s").sort_index()
    assert list(back.index) == sorted(frame.index) and (back['C "l" v'] == 1.0).all()
    assert len(read_table(sql_url, f"{table} runs")) == 2


@pytest.mark.postgres
def test_postgresql_reports_exactly_the_ids_its_index_refuses(pg_url, tmp_path):
    """Of two ids over 2,704 bytes, the repetitive one compresses and fits; only the random one is named."""
    random_id = secrets.token_hex(1600)
    frame = frame_for(["x" * 10_000, random_id, "short"])
    with pytest.raises(ExportError, match="cannot index 1 of the customer ids") as info:
        export_scores(frame, run_for(frame), csv=tmp_path / "s.csv", sql=pg_url)
    assert repr(random_id[:16]) in str(info.value) and "xxxxxxxx" not in str(info.value)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(DataError, match="no table"):
        read_table(pg_url, SCORES_TABLE)  # the probe left nothing behind


def test_sqlite_folds_only_ascii_case_so_accented_capitals_stay_distinct(tmp_path):
    frame = frame_for(range(3))
    export_scores(frame, run_for(frame), sql=tmp_path / "s.db", field_mapping={"clv": "É", "p_alive": "é"})
    assert {"É", "é"} <= set(read_table(tmp_path / "s.db", SCORES_TABLE).columns)
