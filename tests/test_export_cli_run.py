"""cmd_run.execute writes scores.csv, scores.parquet, clvmodels.db and winback_targets.csv all or
nothing (the pipeline is replaced by a fixed result, so only the writing is under test)."""

from __future__ import annotations

import sqlite3
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from clvmodels.cli.cmd_run import execute
from clvmodels.cli.config import Config
from clvmodels.cli.progress import NORMAL, Reporter
from clvmodels.errors import ExportError
from clvmodels.export import SCORES_TABLE, new_run, read_table



def fixed_result(n=6):
    ids = pd.Index([f"c{i}" for i in range(n)], name="customer_id")
    summary = pd.DataFrame({"frequency": np.arange(n)}, index=ids)
    summary.attrs["clvmodels"] = {"time_unit": "W", "observation_end": "1997-09-30"}
    frame = pd.DataFrame({"clv": np.linspace(10, 60, n), "value_segment": ["top\rline"] + ["low"] * (n - 1)},
                         index=ids)
    targets = pd.DataFrame({"rank": np.arange(1, n + 1), "expected_value": np.linspace(5, 1, n),
                            "segment": ["a\rb"] * n, "selected": [True, True, False, True, False, False],
                            "why_not": [""] * n}, index=ids)
    return SimpleNamespace(summary=summary, frame=frame, run=new_run(summary=summary, seed=0), targets=targets,
                           purchase_model=None, spend_model=None, values=None)


@pytest.fixture
def fixed_pipeline(monkeypatch):
    result = fixed_result()
    monkeypatch.setattr("clvmodels.pipeline.run_pipeline", lambda *args, **kwargs: result)
    return result


def test_every_output_is_written_and_the_targets_file_quotes_a_bare_return(fixed_pipeline, tmp_path):
    out = tmp_path / "a" / "b"
    execute(None, Config(), out, Reporter(NORMAL))
    assert sorted(p.name for p in out.iterdir()) == ["clvmodels.db", "scores.csv", "scores.parquet",
                                                     "winback_targets.csv"]
    targets = pd.read_csv(out / "winback_targets.csv", dtype={"segment": str})
    assert list(targets["customer_id"]) == ["c0", "c1", "c3"]  # the selected ones, in rank order
    assert list(targets["segment"]) == ["a\rb"] * 3
    assert pd.read_csv(out / "scores.csv")["value_segment"].iloc[0] == "top\rline"
    assert len(read_table(out / "clvmodels.db", SCORES_TABLE)) == 6


def test_a_database_failure_after_the_pipeline_leaves_no_file_and_no_new_directory(fixed_pipeline, tmp_path):
    db = tmp_path / "crm.db"
    with sqlite3.connect(db) as conn:  # an incompatible table: found at the preflight, after the pipeline
        conn.execute(f"CREATE TABLE {SCORES_TABLE} (customer_id TEXT PRIMARY KEY, score REAL)")
    out = tmp_path / "new" / "out"
    with pytest.raises(ExportError, match="lacks columns"):
        execute(None, Config(targets={"sql": str(db)}), out, Reporter(NORMAL))
    assert not (tmp_path / "new").exists()  # the directories this run made are gone again


def test_a_failure_mid_transaction_keeps_every_previous_file(fixed_pipeline, tmp_path):
    out = tmp_path / "out"
    execute(None, Config(), out, Reporter(NORMAL))
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    with sqlite3.connect(out / "clvmodels.db") as conn:
        conn.execute(f"CREATE TRIGGER refuse BEFORE UPDATE ON {SCORES_TABLE} WHEN NEW.customer_id = 'c5' "
                     "BEGIN SELECT RAISE(ABORT, 'refused by the CRM'); END")
    before["clvmodels.db"] = (out / "clvmodels.db").read_bytes()
    fixed_pipeline.frame["clv"] += 1.0  # a new run would change every file
    fixed_pipeline.targets["selected"] = True
    with pytest.raises(ExportError, match="refused by the CRM"):
        execute(None, Config(), out, Reporter(NORMAL))
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # winback_targets.csv included
