"""The benchmark harness itself (benchmarks/harness.py): crashes, time limits, peak memory measured
from outside the worker, and the pairing of rows by compare key. Fast: the contenders are the tiny
tasks below, which the worker loads from this file ("path/to/file.py:function")."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest

psutil = pytest.importorskip("psutil")  # the bench extra

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # benchmarks/ is not an installed package
    sys.path.insert(0, str(REPO))

from benchmarks.harness import ratio_table, ratios, resolve_task, run_contender, run_suite  # noqa: E402

HERE = str(Path(__file__).resolve())


# ----- tiny contenders, run in the worker --------------------------------------------------------
def crash(message: str) -> dict:
    raise RuntimeError(message)


def silent_exit(code: int) -> dict:
    os._exit(code)


def hang(pid_file: str) -> dict:
    """Start a grandchild, note both process ids, then never finish."""
    import subprocess

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    Path(pid_file).write_text(json.dumps([os.getpid(), child.pid]))
    time.sleep(60)
    return {}


def allocate(mb: int, hold: float) -> dict:
    """Allocate and touch ``mb`` MB inside the measured operation and hold it ``hold`` seconds."""
    from benchmarks.harness import timed

    def work():
        block = b"\x01" * (mb << 20)  # bytes filled with 1: every page touched
        time.sleep(hold)
        return len(block)

    seconds, n = timed(work)
    return {"group": "test", "tool": "clvmodels", "compare": "alloc", "size": mb, "seconds": seconds,
            "bytes": n}


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


# ----- process handling --------------------------------------------------------------------------
def test_crash_gives_error_status_with_the_message():
    record = run_contender(f"{HERE}:crash", {"message": "boom from the contender"}, time_limit=30)
    assert record["status"].startswith("error: ")
    assert "RuntimeError: boom from the contender" in record["status"]
    assert record["load_before"] >= 0 and record["load_after"] >= 0


def test_exit_without_output_is_an_error_with_the_exit_code():
    record = run_contender(f"{HERE}:silent_exit", {"code": 3}, time_limit=30)
    assert record["status"] == "error: exit code 3, no result"


def test_time_limit_kills_the_worker_and_its_children(tmp_path):
    pid_file = tmp_path / "pids.json"
    started = time.perf_counter()
    record = run_contender(f"{HERE}:hang", {"pid_file": str(pid_file)}, time_limit=2.0)
    elapsed = time.perf_counter() - started
    assert record["status"] == "timeout"
    assert 2.0 <= record["process_seconds"] < 4.5 and elapsed < 6.0
    assert pid_file.exists(), "the worker did not start within the 2 s limit"
    worker, grandchild = json.loads(pid_file.read_text())
    deadline = time.time() + 3
    while not (_gone(worker) and _gone(grandchild)) and time.time() < deadline:
        time.sleep(0.05)
    assert _gone(worker) and _gone(grandchild)


def test_peak_memory_is_measured_per_worker_and_around_the_operation():
    small = run_contender(f"{HERE}:allocate", {"mb": 0, "hold": 0.4}, time_limit=30, poll_interval=0.02)
    large = run_contender(f"{HERE}:allocate", {"mb": 200, "hold": 0.4}, time_limit=30, poll_interval=0.02)
    assert small["status"] == large["status"] == "ok"
    assert large["bytes"] == 200 << 20
    assert large["peak_rss_mb"] - small["peak_rss_mb"] >= 150
    # the parent's samples alone see it too (the block is held for 0.4 s, sampled every 0.02 s)
    assert large["sampled_peak_rss_mb"] - small["sampled_peak_rss_mb"] >= 150
    # what the operation added, net of the interpreter and imports before it
    assert large["added_mb"] >= 150
    assert small["added_mb"] < 30
    assert 0 < small["baseline_rss_mb"] < small["peak_rss_mb"] + 1


def test_resolve_task_by_name_module_and_file():
    from benchmarks import tasks

    assert resolve_task("fit") is tasks.fit
    assert resolve_task("benchmarks.tasks:score") is tasks.score
    assert resolve_task(f"{HERE}:crash").__name__ == "crash"


def test_run_suite_writes_jsonl_and_markdown(tmp_path):
    records = run_suite([(f"{HERE}:allocate", {"mb": 1, "hold": 0.0}, 30),
                         (f"{HERE}:crash", {"message": "nope"}, 30)], tmp_path)
    lines = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert [r["record"] for r in lines] == ["machine", "result", "result"]
    assert lines[1]["status"] == "ok" and lines[2]["status"].startswith("error: RuntimeError: nope")
    assert lines == json.loads(json.dumps(records))
    md = (tmp_path / "results.md").read_text()
    assert "| group | size | tool | variant | seconds | peak MB | added MB | status | ratio vs clvmodels |" in md


# ----- pairing -----------------------------------------------------------------------------------
def _row(tool, variant, seconds, compare, size=1000, status="ok", group="g"):
    return {"record": "result", "group": group, "tool": tool, "variant": variant, "seconds": seconds,
            "compare": compare, "size": size, "status": status, "peak_rss_mb": 100.0, "added_mb": 5.0}


def test_ratios_pair_by_compare_key_and_size_not_by_variant():
    records = [
        {"record": "machine", "cores": 2, "platform": "x", "python": "3.11", "blas": "b", "date": "d"},
        _row("clvmodels", "distinct rows", 2.0, "fit", group="fit"),
        _row("lifetimes", "all rows", 6.0, "fit", group="fit"),
        _row("lifetimes", "weights=", 3.0, "fit", group="fit"),
        _row("lifetimes", "all rows", 9.0, "fit", size=5000, group="fit"),  # no clvmodels at 5000
        _row("clvmodels", "point-3", 1.0, "score-point-3"),
        _row("clvmodels", "full predict", 4.0, "score-point-3"),
        _row("lifetimes", "point-3", 2.0, "score-point-3"),
        _row("clvmodels", "expected", 1.0, "score-expected", status="timeout"),
        _row("lifetimes", "clv", 2.0, "score-clv"),
        _row("clvmodels", "clv", 1.0, "score-clv", status="error: x"),
    ]
    got = {(p["compare"], p["size"], p["peer_variant"], p["ours_variant"]): p["ratio"] for p in ratios(records)}
    assert got == {
        ("fit", 1000, "all rows", "distinct rows"): 3.0,
        ("fit", 1000, "weights=", "distinct rows"): 1.5,
        ("score-point-3", 1000, "point-3", "point-3"): 2.0,
        ("score-point-3", 1000, "point-3", "full predict"): 0.5,
    }
    md = ratio_table(records)
    lines = md.splitlines()
    assert "| fit | 1,000 | lifetimes | all rows | 6.000 | 100 | 5 | ok | 3.00x |" in lines
    assert "| fit | 5,000 | lifetimes | all rows | 9.000 | 100 | 5 | ok |  |" in lines
    assert any(line.startswith("| g | 1,000 | lifetimes | point-3 |") and "2.00x vs point-3; 0.50x vs full predict"
               in line for line in lines)
    assert "| fit | 1,000 | lifetimes | weights= | distinct rows | 3.000 | 2.000 | 1.50x |" in lines
    assert "| score-point-3 | 1,000 | lifetimes | point-3 | full predict | 2.000 | 4.000 | 0.50x |" in lines
    assert not any(line.startswith("| score-clv |") for line in lines)  # our side failed: no ratio


def test_bayes_suite_lists_the_planned_contenders_without_fitting():
    from benchmarks.suites import SUITES

    got = [(task, p["tool"], p["size"], limit) for task, p, limit in SUITES["bayes"]()]
    assert {task for task, *_ in got} == {"benchmarks.bayes:bayes_fit"}
    assert resolve_task("benchmarks.bayes:bayes_fit").__name__ == "bayes_fit"
    peers = ["clvmodels", "pymc-marketing", "pymc-marketing-nutpie"]
    assert sorted((tool, size) for _, tool, size, _ in got) == sorted(
        [(t, s) for s in (10_000, 100_000) for t in peers] + [("clvmodels-pymc", 10_000), ("clvmodels", 1_000_000)])
    assert {limit for *_, limit in got} == {2_400}


# ----- repeats of short operations ---------------------------------------------------------------
def test_short_operations_are_timed_as_the_fastest_of_several_runs(monkeypatch):
    """Under REPEAT_BELOW seconds an operation runs up to REPEATS times; seconds is the fastest
    run and runs_seconds lists them all, the first first. A longer one runs once."""
    from benchmarks import harness

    monkeypatch.setattr(harness, "_MEASURE", {})
    monkeypatch.setattr(harness, "REPEAT_BELOW", 0.05)
    pauses = iter([0.03, 0.01, 0.02, 0.01, 0.02, 0.5])

    def op():
        time.sleep(next(pauses))
        return "done"

    seconds, result = harness.timed(op)
    runs = harness._MEASURE["runs_seconds"]
    assert result == "done" and len(runs) == harness.REPEATS
    assert runs[0] >= 0.03 and seconds == pytest.approx(min(runs), abs=1e-4) and seconds < runs[0]
    monkeypatch.setattr(harness, "_MEASURE", {})
    seconds, _ = harness.timed(op)  # 0.5 s: above the threshold, one run
    assert seconds >= 0.5 and "runs_seconds" not in harness._MEASURE
