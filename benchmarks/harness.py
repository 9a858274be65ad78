"""Run benchmark contenders in their own subprocesses, with time limits, and tabulate them.

Each contender is a function in :mod:`benchmarks.tasks` returning a dict of measurements. The
harness starts ``python -m benchmarks.harness worker TASK PARAMS_JSON`` per contender, so a hang
(time limit) or a crash (error status) never stops the suite; the child reports its own peak
resident memory. Records go to a JSON-lines file and a markdown table with speed ratios against
each peer (peer seconds / clvmodels seconds: above 1 means clvmodels is faster).
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path


def machine_facts() -> dict:
    """Cores, platform, BLAS and versions, recorded once per run."""
    import numpy as np

    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]["name"]
    except Exception:  # numpy < 1.26 or unusual builds
        blas = "unknown"
    versions = {}
    for name in ("clvmodels", "numpy", "scipy", "pandas", "lifetimes", "pymc", "nutpie", "duckdb",
                 "pymc_marketing"):
        try:
            versions[name] = __import__(name).__version__
        except Exception:
            versions[name] = None
    return {"record": "machine", "cores": os.cpu_count(), "platform": platform.platform(),
            "python": platform.python_version(), "blas": blas, "versions": versions,
            "load_average": os.getloadavg(), "date": time.strftime("%Y-%m-%d %H:%M:%S")}


def run_contender(task: str, params: dict, time_limit: float) -> dict:
    """Run one contender in a subprocess and return its record (status ok, timeout or error)."""
    record = {"record": "result", "task": task, **params}
    started = time.perf_counter()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks.harness", "worker", task, json.dumps(params)],
            capture_output=True, text=True, timeout=time_limit,
        )
    except subprocess.TimeoutExpired:
        return {**record, "status": "timeout", "process_seconds": round(time.perf_counter() - started, 2),
                "time_limit": time_limit}
    record["process_seconds"] = round(time.perf_counter() - started, 2)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {**record, "status": f"error: {tail[:300]}"}
    return {**record, **json.loads(lines[-1]), "status": "ok"}


def _worker(task: str, params_json: str) -> None:
    from benchmarks import tasks

    result = getattr(tasks, task)(**json.loads(params_json))
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(result, default=float))


def ratio_table(records: list[dict]) -> str:
    """Markdown table: one row per (task group, size, variant), clvmodels vs each peer."""
    rows = ["| group | size | tool | method | seconds | peak MB | status | peer s / ours s |",
            "|---|---|---|---|---|---|---|---|"]
    results = [r for r in records if r.get("record") == "result"]
    ours = {(r.get("group"), r.get("size"), r.get("variant")): r for r in results
            if r.get("tool") == "clvmodels" and r.get("status") == "ok"}
    for r in results:
        mine = ours.get((r.get("group"), r.get("size"), r.get("variant")))
        ratio = ""
        if mine and r.get("tool") != "clvmodels" and r.get("status") == "ok" and mine.get("seconds"):
            ratio = f"{r['seconds'] / mine['seconds']:.1f}x"
        rows.append(f"| {r.get('group')} | {r.get('size')} | {r.get('tool')} | {r.get('method', '')} | "
                    f"{r.get('seconds', '')} | {r.get('peak_rss_mb', '')} | {r.get('status')} | {ratio} |")
    return "\n".join(rows)


def run_suite(contenders: list[tuple[str, dict, float]], out_dir: Path) -> list[dict]:
    """Run contenders in order; write ``results.jsonl`` and ``results.md`` into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    records = [machine_facts()]
    for task, params, limit in contenders:
        record = run_contender(task, params, limit)
        records.append(record)
        print(f"  {record['task']:<22} size={record.get('size')!s:<9} {record.get('variant', '')!s:<12} "
              f"{record['status']:<8} {record.get('seconds', '')} s", flush=True)
    (out_dir / "results.jsonl").write_text("".join(json.dumps(r, default=float) + "\n" for r in records))
    (out_dir / "results.md").write_text(ratio_table(records) + "\n")
    return records


if __name__ == "__main__" and len(sys.argv) == 4 and sys.argv[1] == "worker":
    _worker(sys.argv[2], sys.argv[3])
