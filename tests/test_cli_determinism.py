"""Same command, same seed: byte-identical outputs, whatever the thread count (issue 17, item 8;
design.md "Same seed, same numbers"). Subprocesses of ``clvmodels run`` on a small simulated log."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from test_cli import make_log

OUTPUTS = ("scores.csv", "scores.parquet", "winback_targets.csv")


def run(log, out, threads, *extra):
    env = {**os.environ, "CLVMODELS_THREADS": str(threads)}
    result = subprocess.run([sys.executable, "-m", "clvmodels.cli.main", "run", str(log), "-o", str(out),
                             "--observation-end", "2023-12-31", "--seed", "11", "--quiet", *extra],
                            capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr
    return {name: (out / name).read_bytes() for name in OUTPUTS}


@pytest.mark.parametrize("uncertainty", ["expected", "predictive"])
def test_same_seed_same_bytes_on_one_thread_and_on_two(tmp_path, uncertainty):
    log = tmp_path / "log.csv"
    make_log(60, seed=4).to_csv(log, index=False)
    extra = ("--uncertainty", uncertainty, "--n-draws", "50")
    first = run(log, tmp_path / "one", 1, *extra)
    second = run(log, tmp_path / "two", 2, *extra)
    again = run(log, tmp_path / "one", 1, *extra)  # rerun into the same directory
    for name in OUTPUTS:
        assert first[name] == second[name] == again[name], name
    assert first["scores.csv"].count(b"\n") == 61  # header + one row per customer


def test_another_seed_changes_the_intervals(tmp_path):
    """The check above is not vacuous: the seed does reach the interval draws."""
    log = tmp_path / "log.csv"
    make_log(60, seed=4).to_csv(log, index=False)
    first = run(log, tmp_path / "a", 1, "--n-draws", "50")["scores.csv"]
    env = {**os.environ, "CLVMODELS_THREADS": "1"}
    result = subprocess.run([sys.executable, "-m", "clvmodels.cli.main", "run", str(log), "-o", str(tmp_path / "b"),
                             "--observation-end", "2023-12-31", "--seed", "12", "--quiet", "--n-draws", "50"],
                            capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "b" / "scores.csv").read_bytes() != first
