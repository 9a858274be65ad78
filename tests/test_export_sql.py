"""SQL export against real databases: SQLite (file) and PostgreSQL (CLVMODELS_PG_URL, see conftest)."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from clvmodels.errors import DataError
from clvmodels.export import RUNS_TABLE, SCORES_TABLE, new_run, read_table, write_sql
from clvmodels.export.sql import make_engine

AWKWARD_IDS = ["plain", "it's", 'say "hi"', "a,b;c", "line\nbreak", "ünïcødé 顧客 🚀",
               "'); DROP TABLE clv_customer_scores; --", "x" * 10_000]


def frame_for(ids, seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = len(ids)
    return pd.DataFrame({
        "frequency": rng.integers(0, 20, n),
        "recency": rng.uniform(0, 30, n),
        "tenure": np.full(n, 38.86),
        "last_purchase_date": pd.Timestamp("1997-06-01") + pd.to_timedelta(rng.integers(0, 100, n), unit="D"),
        "p_alive": rng.uniform(size=n),
        "clv": rng.uniform(0, 500, n),
        "value_segment": rng.choice(["top", "high", "low"], n),
        "reactivation_target": rng.uniform(size=n) < 0.5,
    }, index=pd.Index([str(i) for i in ids], name="customer_id"))


def run_for(frame, seed=0, run_id=None):
    summary = pd.DataFrame(index=frame.index)
    summary.attrs["clvmodels"] = {"time_unit": "W", "observation_end": "1997-09-30"}
    return new_run(summary=summary, seed=seed, horizon=39.0, currency="EUR", run_id=run_id,
                   configuration={"quote": "it's \"fine\""})


def scores(url) -> pd.DataFrame:
    return read_table(url, SCORES_TABLE).set_index("customer_id").sort_index()


def test_upsert_updates_changed_inserts_new_and_keeps_run_history(sql_url):
    first = frame_for(range(100))
    run1 = run_for(first, seed=1)
    result = write_sql(first, run1, sql_url)
    assert (result.inserted, result.updated) == (100, 0)

    second = frame_for(range(50, 130), seed=2)  # 50 known customers change, 30 are new
    run2 = run_for(second, seed=2)
    result = write_sql(second, run2, sql_url)
    assert (result.inserted, result.updated) == (30, 50)

    table = scores(sql_url)
    assert len(table) == 130 and table.index.is_unique
    assert (table.loc[[str(i) for i in range(50)], "run_id"] == run1.run_id).all()  # untouched
    assert (table.loc[[str(i) for i in range(50, 130)], "run_id"] == run2.run_id).all()
    np.testing.assert_allclose(table.loc[second.index, "clv"], second["clv"], rtol=0, atol=0)
    assert table.loc["60", "last_purchase_date"] == second.loc["60", "last_purchase_date"].date()
    assert bool(table.loc["60", "reactivation_target"]) == bool(second.loc["60", "reactivation_target"])

    runs = read_table(sql_url, RUNS_TABLE).set_index("run_id")
    assert sorted(runs.index) == sorted([run1.run_id, run2.run_id])
    assert runs.loc[run2.run_id, "seed"] == 2 and runs.loc[run2.run_id, "n_scores"] == 80
    assert runs.loc[run2.run_id, "observation_end"] == dt.date(1997, 9, 30)
    assert runs.loc[run2.run_id, "configuration"]["quote"] == "it's \"fine\""


def test_rerunning_the_same_run_id_never_duplicates(sql_url):
    frame = frame_for(range(40))
    run = run_for(frame)
    write_sql(frame, run, sql_url)
    before = scores(sql_url)
    result = write_sql(frame, run, sql_url)
    assert (result.inserted, result.updated) == (0, 40)
    pd.testing.assert_frame_equal(scores(sql_url), before)
    assert len(read_table(sql_url, RUNS_TABLE)) == 1


def test_exception_after_half_the_rows_leaves_the_previous_tables(sql_url):
    old = frame_for(range(100))
    write_sql(old, run_for(old), sql_url)
    before, runs_before = scores(sql_url), read_table(sql_url, RUNS_TABLE)

    new = frame_for(range(50, 150), seed=3)
    calls = []

    def fail_after_first_half(done, total):
        calls.append(done)
        if done >= total // 2:
            raise RuntimeError("injected failure")

    with pytest.raises(RuntimeError, match="injected failure"):
        write_sql(new, run_for(new, seed=3), sql_url, chunk_rows=50, progress=fail_after_first_half)
    assert calls == [50]  # half of the rows had been sent when it failed
    pd.testing.assert_frame_equal(scores(sql_url), before)
    pd.testing.assert_frame_equal(read_table(sql_url, RUNS_TABLE), runs_before)


def test_kill_mid_write_leaves_the_previous_tables(sql_url):
    old = frame_for(range(100))
    write_sql(old, run_for(old), sql_url)
    before = scores(sql_url)
    script = textwrap.dedent(f"""
        import time
        import numpy as np, pandas as pd
        from clvmodels.export import new_run, write_sql
        frame = pd.DataFrame({{"clv": np.arange(200.0)}}, index=pd.Index([str(i) for i in range(200)]))
        summary = pd.DataFrame(index=frame.index)
        summary.attrs["clvmodels"] = {{"time_unit": "W", "observation_end": "1998-01-01"}}
        def pause(done, total):
            print("half", flush=True)
            time.sleep(60)
        write_sql(frame, new_run(summary=summary, seed=9), {sql_url!r}, chunk_rows=100, progress=pause)
    """)
    with subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout.readline().strip() == "half"
        finally:
            os.kill(proc.pid, signal.SIGKILL)  # no cleanup handler runs
            proc.wait(timeout=10)
    pd.testing.assert_frame_equal(scores(sql_url), before)
    assert len(read_table(sql_url, RUNS_TABLE)) == 1


def test_awkward_values_round_trip(sql_url):
    frame = frame_for(AWKWARD_IDS)
    frame["value_segment"] = ["it's", 'a "b"', "c,d", "é", None, "x\ny", "🚀", "z" * 5000]
    write_sql(frame, run_for(frame), sql_url)
    table = scores(sql_url)
    assert sorted(table.index) == sorted(AWKWARD_IDS)
    for cid in AWKWARD_IDS:
        got, want = table.loc[cid], frame.loc[cid]
        if pd.isna(want["value_segment"]):
            assert pd.isna(got["value_segment"])
        else:
            assert got["value_segment"] == want["value_segment"]
        assert got["recency"] == want["recency"] and got["frequency"] == want["frequency"]
    assert table["net_value"].isna().all() and table["currency"].eq("EUR").all()


def test_sql_uses_bound_parameters_only(sql_url):
    frame = frame_for(AWKWARD_IDS)
    statements, parameters = [], []
    engine = make_engine(sql_url)

    @sa.event.listens_for(engine, "before_cursor_execute")
    def record(conn, cursor, statement, params, context, executemany):
        statements.append(statement)
        parameters.append(repr(params))

    try:
        write_sql(frame, run_for(frame), engine)
    finally:
        engine.dispose()
    text = "\n".join(statements)
    assert "ON CONFLICT" in text
    for cid in ["it's", "a,b;c", "DROP TABLE", "ünïcødé", "x" * 100]:
        assert cid not in text, cid  # never formatted into SQL text ...
        assert any(cid.replace("\n", "\\n") in p or repr(cid)[1:-1] in p for p in parameters), cid  # ... only bound
    assert scores(sql_url).shape[0] == len(AWKWARD_IDS)


def test_field_mapping_renames_the_table_columns(sql_url):
    frame = frame_for(range(5))
    write_sql(frame, run_for(frame), sql_url, field_mapping={"customer_id": "Contact_Id", "clv": "CLV_c"})
    table = read_table(sql_url, SCORES_TABLE)
    assert "Contact_Id" in table.columns and "CLV_c" in table.columns and "clv" not in table.columns
    write_sql(frame, run_for(frame), sql_url, field_mapping={"customer_id": "Contact_Id", "clv": "CLV_c"})
    assert len(read_table(sql_url, SCORES_TABLE)) == 5


def test_incompatible_existing_table_is_refused_and_untouched(sql_url):
    engine = make_engine(sql_url)
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE TABLE {SCORES_TABLE} (customer_id TEXT PRIMARY KEY, score FLOAT)"))
        conn.execute(sa.text(f"INSERT INTO {SCORES_TABLE} VALUES (:c, :s)"), {"c": "a", "s": 1.0})
    engine.dispose()
    frame = frame_for(range(3))
    with pytest.raises(DataError, match=f"table '{SCORES_TABLE}' exists but lacks columns"):
        write_sql(frame, run_for(frame), sql_url)
    assert read_table(sql_url, SCORES_TABLE).to_dict("records") == [{"customer_id": "a", "score": 1.0}]
    with pytest.raises(DataError, match="no table"):
        read_table(sql_url, RUNS_TABLE)  # the run was not recorded either


def test_unsupported_database_is_a_clear_error():
    with pytest.raises(DataError, match="not supported"):
        make_engine("mysql://u@localhost/db")
