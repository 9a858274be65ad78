"""Two first-time exports at once into an empty database (SQLite file, PostgreSQL): the tables are
created once, neither export fails with a raw error, and both runs' rows are there."""

from __future__ import annotations

import multiprocessing
import traceback

import numpy as np
import pandas as pd
import pytest

from clvmodels.export import export_scores, new_run, read_table

ROUNDS = 3
N = 400


def _export(url, rounds, who, barrier, results):
    """Child process: per round, wait for the others, then export ``N`` customers into new tables.

    Writer ``who`` exports ids ``who*N/2 .. who*N/2 + N``, so neighbours share ``N/2`` ids.
    """
    ids = [f"c{i}" for i in range(who * N // 2, who * N // 2 + N)]
    frame = pd.DataFrame({"clv": np.full(N, float(who))}, index=pd.Index(ids, name="customer_id"))
    summary = pd.DataFrame(index=frame.index)
    summary.attrs["clvmodels"] = {"time_unit": "W", "observation_end": "1997-09-30"}
    run = new_run(summary=summary, seed=who, run_id=f"run-{who}")
    for k in rounds:
        try:
            barrier.wait(timeout=120)
            result = export_scores(frame, run, sql=url, scores_table_name=f"scores_{k}", runs_table_name=f"runs_{k}")
            results.put((k, who, "ok", result["sql"].inserted, result["sql"].updated))
        except BaseException as exc:  # noqa: BLE001 - reported to the parent
            results.put((k, who, "error", type(exc).__name__, f"{exc}\n{traceback.format_exc()}"))


def _race(url, rounds, n_writers) -> dict:
    """Run ``n_writers`` processes through ``rounds``; returns {round: [outcome per writer]}."""
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(n_writers), ctx.Queue()
    procs = [ctx.Process(target=_export, args=(url, list(rounds), who, barrier, results)) for who in range(n_writers)]
    for proc in procs:
        proc.start()
    outcomes: dict = {k: [] for k in rounds}
    try:
        for _ in range(len(rounds) * n_writers):
            k, *outcome = results.get(timeout=300)
            outcomes[k].append(tuple(outcome))
    finally:
        for proc in procs:
            proc.join(timeout=60)
            if proc.is_alive():
                proc.kill()
    return outcomes


def test_concurrent_first_exports_create_the_tables_once(sql_url):
    for k, outcomes in _race(sql_url, range(ROUNDS), 2).items():
        assert sorted(o[1] for o in outcomes) == ["ok", "ok"], outcomes
        # 600 distinct ids: the first writer inserts 400, the second inserts 200 and updates 200
        assert sorted((o[2], o[3]) for o in outcomes) == [(200, 200), (400, 0)]
        table = read_table(sql_url, f"scores_{k}")
        assert len(table) == 600 and table["customer_id"].is_unique
        runs = read_table(sql_url, f"runs_{k}")
        assert sorted(runs["run_id"]) == ["run-0", "run-1"]
        last = runs.sort_values("recorded_at")["run_id"].iloc[-1]
        shared = table[table["customer_id"].isin([f"c{i}" for i in range(200, 400)])]
        assert (shared["run_id"] == last).all()  # the later writer's rows won, whole


@pytest.mark.postgres
def test_postgresql_concurrent_exports_into_one_table_serialise(pg_url):
    """Four exports at once into the same new table all succeed (the advisory lock orders them)."""
    n = 4
    outcomes = _race(pg_url, ["many"], n)["many"]
    assert all(o[1] == "ok" for o in outcomes), outcomes
    table = read_table(pg_url, "scores_many")
    assert len(table) == N // 2 * (n + 1) and table["customer_id"].is_unique
    assert sum(o[2] for o in outcomes) == len(table)  # every customer inserted exactly once
