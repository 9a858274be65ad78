"""Bad files at the command line (issue 17, item 8): every one exits 1 with one line naming the file
and the problem; details only under ``--verbose``; nothing is written. Real files, real subprocesses
(``python -m clvmodels.cli.main`` and the ``clvmodels`` entry point)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROWS = [("Müller", "2023-01-05", 10.5), ("Müller", "2023-02-07", 12.0), ("Ørsted", "2023-01-20", 8.0)]


def clv(*args, entry_point=False):
    if entry_point:
        exe = shutil.which("clvmodels", path=os.path.dirname(sys.executable))
        command = [exe, *map(str, args)]
    else:
        command = [sys.executable, "-m", "clvmodels.cli.main", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def frame() -> pd.DataFrame:
    return pd.DataFrame(ROWS, columns=["customer_id", "date", "amount"])


def latin1_csv(path: Path) -> Path:
    frame().to_csv(path, index=False, encoding="latin-1")
    return path


def garbage_csv(path: Path) -> Path:
    path.write_bytes(np.random.default_rng(0).bytes(4096))
    return path


def truncated_parquet(path: Path) -> Path:
    frame().to_parquet(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def empty_file(path: Path) -> Path:
    path.write_bytes(b"")
    return path


#: case -> (file name, how to make it, words of which the message must hold one: the data layer's
#: own checks and the CLI's safety net word the same problem differently)
BAD_FILES = {
    "latin-1 CSV": ("log.csv", latin1_csv, ["UTF-8"]),
    "binary garbage named .csv": ("log.csv", garbage_csv, ["not CSV", "not a readable CSV"]),
    "truncated Parquet": ("log.parquet", truncated_parquet, ["truncated"]),
    "0-byte CSV": ("log.csv", empty_file, ["empty"]),
    "0-byte Parquet": ("log.parquet", empty_file, ["empty"]),
    "missing file": ("log.csv", None, ["no transaction file found"]),
}


def assert_one_line(result, *fragments):
    assert result.returncode == 1, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and len(lines[0]) < 300, result.stderr
    assert lines[0].startswith("clvmodels: error: ") and "Traceback" not in result.stderr
    assert "internal error" not in lines[0] and "DuckDB" not in lines[0]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.mark.parametrize("case", list(BAD_FILES))
@pytest.mark.parametrize("command", ["summarise", "run"])
def test_a_bad_file_exits_1_in_one_line_naming_it_and_writes_nothing(tmp_path, case, command):
    name, make, problem = BAD_FILES[case]
    path = tmp_path / name
    if make is not None:
        make(path)
    out = tmp_path / ("summary.parquet" if command == "summarise" else "out")
    result = clv(command, path, "-o", out)
    assert_one_line(result, name)
    assert any(word in result.stderr for word in problem), result.stderr
    assert not out.exists()


def test_the_entry_point_refuses_a_bad_file_the_same_way(tmp_path):
    path = latin1_csv(tmp_path / "export.csv")
    assert_one_line(clv("summarise", path, "-o", tmp_path / "s.parquet", entry_point=True), "export.csv", "UTF-8")


def test_verbose_shows_the_traceback_above_the_one_line(tmp_path):
    path = truncated_parquet(tmp_path / "log.parquet")
    result = clv("summarise", path, "-o", tmp_path / "s.parquet", "--verbose")
    assert result.returncode == 1 and "Traceback" in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("clvmodels: error: ") and "log.parquet" in last


def duckdb_read_error():
    import duckdb

    try:
        duckdb.connect().execute("select * from read_parquet('no-such-dir/none.parquet')")
    except duckdb.Error as exc:
        return exc
    raise AssertionError("DuckDB read a file that does not exist")


def run_main(argv, capsys):
    from clvmodels.cli.main import main

    code = main([str(a) for a in argv])
    return code, capsys.readouterr().err


def test_a_reader_error_escaping_the_data_layer_names_the_file_and_exits_1(tmp_path, monkeypatch, capsys):
    """pipeline.summarise turns a DuckDB read error it meets into a DataError naming the file; the
    reader's own message is only under --verbose (as the chained cause)."""
    import clvmodels.data.summary

    error = duckdb_read_error()

    def unreadable(*args, **kwargs):
        raise error

    monkeypatch.setattr(clvmodels.data.summary, "rfm_summary", unreadable)
    path = tmp_path / "log.csv"
    path.write_text("customer_id,date,amount\n", encoding="utf-8")
    code, err = run_main(["summarise", path, "-o", tmp_path / "s.parquet"], capsys)
    assert code == 1 and len(err.strip().splitlines()) == 1, err
    assert err.startswith(f"clvmodels: error: cannot read the transaction file {str(path)!r}")
    assert "Traceback" not in err
    code, err = run_main(["summarise", path, "-o", tmp_path / "s.parquet", "--verbose"], capsys)
    assert code == 1 and "Traceback" in err and str(error).splitlines()[0] in err
    assert "direct cause" in err  # the chained DuckDB error is shown with the details


def test_main_maps_a_raw_reader_error_to_exit_1_and_a_bug_to_exit_3(tmp_path, monkeypatch, capsys):
    import clvmodels.pipeline

    error = duckdb_read_error()

    def unreadable(*args, **kwargs):
        raise error

    def bug(*args, **kwargs):
        raise KeyError("frequency")

    path = tmp_path / "log.csv"
    path.write_text("customer_id,date,amount\n", encoding="utf-8")
    monkeypatch.setattr(clvmodels.pipeline, "summarise", unreadable)
    code, err = run_main(["summarise", path, "-o", tmp_path / "s.parquet"], capsys)
    assert code == 1 and err.startswith("clvmodels: error: cannot read ") and len(err.splitlines()) == 1, err
    monkeypatch.setattr(clvmodels.pipeline, "summarise", bug)
    code, err = run_main(["summarise", path, "-o", tmp_path / "s.parquet"], capsys)
    assert code == 3 and "internal error: KeyError" in err, err


@pytest.mark.parametrize("make", [truncated_parquet, empty_file, latin1_csv])
def test_commands_reading_a_summary_or_scores_refuse_a_bad_parquet_in_one_line(tmp_path, make):
    path = make(tmp_path / "input.parquet")
    score = clv("score", path, "-m", tmp_path / "models", "-o", tmp_path / "scores.parquet")
    assert_one_line(score, "cannot read the summary", "input.parquet")
    export = clv("export", path, "--csv", tmp_path / "crm.csv")
    assert_one_line(export, "cannot read the scores file", "input.parquet")
    assert not (tmp_path / "scores.parquet").exists() and not (tmp_path / "crm.csv").exists()


def test_read_errors_are_recognised_by_type_and_shortened():
    """The safety net behind main.py: a DuckDB read error anywhere in a chain is bad input."""
    import duckdb

    from clvmodels._read_errors import file_named_in, find_read_error, read_problem

    con = duckdb.connect()
    error = duckdb_read_error()
    wrapped = RuntimeError("outer")
    wrapped.__cause__ = error
    assert find_read_error(wrapped) is error
    assert find_read_error(RuntimeError("a bug")) is None
    assert find_read_error(UnicodeDecodeError("utf-8", b"\xfc", 0, 1, "invalid start byte")) is not None
    with pytest.raises(duckdb.Error) as binder:  # a query bug is not a read error: still exit 3
        con.execute("select no_such_column from range(3)")
    assert find_read_error(binder.value) is None
    assert read_problem(ValueError("x" * 500)) == "x" * 157 + "..."
    assert file_named_in(ValueError("No magic bytes found at end of file 'a/b.parquet'")) == "a/b.parquet"


@pytest.mark.parametrize("command", ["fit", "score", "targets"])
def test_a_missing_summary_or_a_directory_is_bad_input_not_wrong_usage(tmp_path, command):
    """Exit 1 (bad input) naming the file, like every other unreadable file; not click's exit 2."""
    extra = {"fit": ["-o", tmp_path / "m"], "score": ["-m", tmp_path / "m", "-o", tmp_path / "s.parquet"],
             "targets": ["-m", tmp_path / "m", "-o", tmp_path / "t.csv"]}[command]
    assert_one_line(clv(command, tmp_path / "nope.parquet", *extra), "nope.parquet", "no such file")
    (tmp_path / "folder").mkdir()
    assert_one_line(clv(command, tmp_path / "folder", *extra), "folder", "directory")
