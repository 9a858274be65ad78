"""Staged file writes: recognisable temporary names, the sweep of killed writers' leftovers, kill -9
mid-write, and CSV quoting of line breaks (a bare carriage return included)."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pandas as pd
import pytest

from clvmodels.export import export_scores, new_run, read_table, write_csv
from clvmodels.export.files import csv_writer
from clvmodels.export.staging import STALE_AFTER_SECONDS, FileStage, sweep_stale, temp_name


def frame_for(ids, seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"clv": rng.uniform(0, 100, len(ids)), "value_segment": ["top"] * len(ids)},
                        index=pd.Index([str(i) for i in ids], name="customer_id"))


def run_for(frame, seed=0):
    summary = pd.DataFrame(index=frame.index)
    summary.attrs["clvmodels"] = {"time_unit": "W", "observation_end": "1997-09-30"}
    return new_run(summary=summary, seed=seed)


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


# ----- names and the sweep -------------------------------------------------------------------------
def test_temporary_names_are_hidden_and_carry_the_pid(tmp_path):
    name = temp_name(tmp_path / "scores.csv").name
    assert name.startswith(f".scores.csv.clvtmp-{os.getpid()}-")
    assert temp_name(tmp_path / "scores.csv") != temp_name(tmp_path / "scores.csv")


def test_sweep_removes_dead_writers_files_and_keeps_live_ones(tmp_path):
    target = tmp_path / "scores.csv"
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        dead = tmp_path / f".scores.csv.clvtmp-{dead_pid()}-abc123"
        alive = tmp_path / f".scores.csv.clvtmp-{live.pid}-abc123"
        mine = tmp_path / f".scores.csv.clvtmp-{os.getpid()}-abc123"  # maybe a write in progress here
        unrelated = [tmp_path / ".scores.csv.backup", tmp_path / f".other.csv.clvtmp-{dead_pid()}-ab",
                     tmp_path / "scores.csv", tmp_path / f".scores.csv.clvtmp-{dead_pid()}-XYZ"]
        for path in [dead, alive, mine, *unrelated]:
            path.write_text("x", encoding="utf-8")
        assert sweep_stale(target) == [dead]
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in [alive, mine, *unrelated])

        old = time.time() - STALE_AFTER_SECONDS - 60  # a live pid may be a reused one: age decides
        os.utime(alive, (old, old))
        legacy = tmp_path / ".scores.csv.ab_cd123.tmp"  # mkstemp name of earlier versions
        legacy.write_text("x", encoding="utf-8")
        os.utime(legacy, (old, old))
        assert sorted(sweep_stale(target)) == sorted([alive, legacy])
    finally:
        live.kill()
        live.wait()


def test_sweep_treats_a_killed_unreaped_writer_as_dead(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    os.kill(proc.pid, signal.SIGKILL)
    time.sleep(0.3)  # a zombie until waited for
    leftover = tmp_path / f".scores.csv.clvtmp-{proc.pid}-00ff"
    leftover.write_text("x", encoding="utf-8")
    try:
        if sys.platform.startswith("linux"):
            assert sweep_stale(tmp_path / "scores.csv") == [leftover]
    finally:
        proc.wait()
    sweep_stale(tmp_path / "scores.csv")
    assert not leftover.exists()


def test_stage_failure_removes_every_temporary_file_and_touches_no_target(tmp_path):
    (tmp_path / "a.txt").write_text("old a", encoding="utf-8")

    def write_b(tmp):
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        with FileStage() as stage:
            stage.add(tmp_path / "a.txt", lambda tmp: open(tmp, "w").write("new a"))
            stage.add(tmp_path / "b.txt", write_b)
            stage.commit()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]
    assert (tmp_path / "a.txt").read_text(encoding="utf-8") == "old a"


def test_stage_without_commit_writes_nothing(tmp_path):
    with FileStage() as stage:
        stage.add(tmp_path / "a.txt", lambda tmp: open(tmp, "w").write("new"))
    assert list(tmp_path.iterdir()) == []


# ----- kill -9 -----------------------------------------------------------------------------------------
KILL_SCRIPT = textwrap.dedent("""
    import sys, time
    import numpy as np, pandas as pd
    from clvmodels.export import export_scores, new_run
    from clvmodels.export import staging

    def pause(*args):  # every file is written in full, nothing renamed yet: kill here
        print("staged", flush=True)
        time.sleep(60)

    out, with_sql = sys.argv[1], sys.argv[2] == "sql"
    frame = pd.DataFrame({"clv": np.arange(300.0)}, index=pd.Index([f"new{i}" for i in range(300)], name="customer_id"))
    summary = pd.DataFrame(index=frame.index)
    summary.attrs["clvmodels"] = {"time_unit": "W", "observation_end": "1998-01-01"}
    targets = {"csv": f"{out}/scores.csv", "parquet": f"{out}/scores.parquet"}
    if with_sql:
        targets["sql"] = f"{out}/scores.db"
        export_scores(frame, new_run(summary=summary, seed=1), progress=pause, **targets)
    else:
        staging.FileStage.commit = lambda self: pause()
        export_scores(frame, new_run(summary=summary, seed=1), **targets)
""")


@pytest.mark.parametrize("mode", ["files", "sql"])
def test_kill_mid_write_leaves_old_files_and_the_next_write_sweeps_the_temporaries(tmp_path, mode):
    frame = frame_for(range(20))
    targets = {"csv": tmp_path / "scores.csv", "parquet": tmp_path / "scores.parquet"}
    if mode == "sql":
        targets["sql"] = tmp_path / "scores.db"
    export_scores(frame, run_for(frame), **targets)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.name != "scores.db"}
    for _ in range(3):
        with subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(tmp_path), mode], stdout=subprocess.PIPE,
                              text=True) as proc:
            try:
                assert proc.stdout.readline().strip() == "staged"
            finally:
                os.kill(proc.pid, signal.SIGKILL)  # no cleanup handler runs
                proc.wait(timeout=10)
        assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if not p.name.startswith((".", "scores.db"))} \
            == before
        if mode == "sql":
            assert sorted(read_table(tmp_path / "scores.db")["customer_id"]) == sorted(frame.index)
        # the killed run's two temporaries; each later writer swept the previous killed run's
        leftovers = [p.name for p in tmp_path.iterdir() if ".clvtmp-" in p.name]
        assert sorted(n.split(".clvtmp-")[0] for n in leftovers) == [".scores.csv", ".scores.parquet"]
        assert len({n.split("-")[1] for n in leftovers}) == 1  # of one (the last) pid
    export_scores(frame, run_for(frame), **targets)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["scores.csv", "scores.parquet"]
                                                                + (["scores.db"] if mode == "sql" else []))


# ----- CSV quoting ---------------------------------------------------------------------------------------
HOSTILE = ["bare\rreturn", "line\nfeed", "both\r\nends", 'a "quote"', "comma, here", "trailing\r", "\rleading",
           "plain"]


def test_csv_quotes_every_value_with_a_line_break_quote_or_delimiter(tmp_path):
    frame = frame_for(HOSTILE)
    frame["value_segment"] = list(reversed(HOSTILE))
    path = write_csv(frame, tmp_path / "scores.csv", run_for(frame))
    raw = path.read_bytes()
    back = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert list(back["customer_id"]) == HOSTILE and list(back["value_segment"]) == list(reversed(HOSTILE))
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert len(rows) == len(HOSTILE) + 1
    assert [r[0] for r in rows[1:]] == HOSTILE
    assert b'"bare\rreturn"' in raw and b"plain," in raw  # quoted only where needed


def test_winback_style_csv_writer_quotes_the_same_way(tmp_path):
    frame = pd.DataFrame({"segment": ["a\rb", "c"], "rank": [1, 2]}, index=pd.Index(["x\ry", "z"], name="id"))
    path = tmp_path / "t.csv"
    csv_writer(frame, index_label="customer_id")(str(path))
    back = pd.read_csv(path, dtype={"customer_id": str, "segment": str})
    assert list(back["customer_id"]) == ["x\ry", "z"] and list(back["segment"]) == ["a\rb", "c"]
    with open(path, encoding="utf-8", newline="") as fh:
        assert list(csv.reader(fh)) == [["customer_id", "segment", "rank"], ["x\ry", "a\rb", "1"], ["z", "c", "2"]]


def test_a_write_error_names_the_file_and_is_an_export_error_and_an_oserror(tmp_path, monkeypatch):
    from clvmodels.errors import ExportError, ExportFileError

    frame = frame_for(range(3))
    write_csv(frame, tmp_path / "scores.csv", run_for(frame))
    before = (tmp_path / "scores.csv").read_bytes()

    def full(self, *args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_csv", full)
    with pytest.raises(ExportFileError, match="CSV export .*scores.csv.*No space left") as info:
        export_scores(frame, run_for(frame), csv=tmp_path / "scores.csv", parquet=tmp_path / "scores.parquet")
    assert isinstance(info.value, ExportError) and isinstance(info.value, OSError)
    assert isinstance(info.value.__cause__, OSError) and info.value.target == str(tmp_path / "scores.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scores.csv"]  # no parquet, no temporary file
    assert (tmp_path / "scores.csv").read_bytes() == before


def test_reading_a_missing_sqlite_database_does_not_create_it(tmp_path):
    from clvmodels.errors import ExportError

    with pytest.raises(ExportError, match="no database"):
        read_table(tmp_path / "missing.db")
    assert list(tmp_path.iterdir()) == []


def test_kill_during_a_first_export_to_a_new_sqlite_file_leaves_no_file(tmp_path):
    """The new database is built under a temporary name: a killed first export leaves only that,
    and the next export sweeps it (with its journal)."""
    for _ in range(2):
        with subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(tmp_path), "sql"], stdout=subprocess.PIPE,
                              text=True) as proc:
            try:
                assert proc.stdout.readline().strip() == "staged"
            finally:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        assert [p.name for p in tmp_path.iterdir() if not p.name.startswith(".")] == []
        assert any(p.name.startswith(".scores.db.clvtmp-") for p in tmp_path.iterdir())
    frame = frame_for(range(20))
    written = export_scores(frame, run_for(frame), csv=tmp_path / "scores.csv", parquet=tmp_path / "scores.parquet",
                            sql=tmp_path / "scores.db")
    assert (written["sql"].inserted, written["sql"].updated) == (20, 0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scores.csv", "scores.db", "scores.parquet"]
