"""Run benchmark contenders in their own subprocesses, with time limits, and tabulate them.

A contender is a task function returning a dict of measurements: a name in :mod:`benchmarks.tasks`
(``"fit"``) or ``"module:function"`` / ``"path/to/file.py:function"`` for a task defined
elsewhere (the harness tests use this). The harness starts
``python -m benchmarks.harness worker TASK PARAMS_JSON`` per contender, so a hang (time limit: the
process tree is killed) or a crash (status ``"error: <last stderr line>"``) never stops the suite.

Memory is measured from outside the worker. The parent polls the resident memory (RSS) of the
worker and its child processes every ``poll_interval`` seconds and keeps the maximum; the worker
adds its own high-water mark (Linux ``VmHWM``, which no sample can miss). ``peak_rss_mb`` is the
larger of the two. The worker's ``ru_maxrss`` is *not* used: on Linux it carries over the RSS of
the parent at fork/exec, which is why it read the same for every contender.
Around the measured operation (:func:`timed`) the worker records ``baseline_rss_mb`` (RSS just
before it) and ``op_peak_rss_mb`` (its high-water mark from then on, the mark being reset at the
baseline), so ``added_mb = op_peak_rss_mb - baseline_rss_mb`` is what the operation itself added
(without the reset: ``peak_rss_mb - baseline_rss_mb``).

Every record carries a ``compare`` key; rows with the same ``compare`` and ``size`` are compared:
ratio = peer seconds / clvmodels seconds (above 1: clvmodels is faster). Records go to
``results.jsonl`` (one JSON object a line, written as they come) and ``results.md`` (all rows,
then one headline line per compared pair).
"""

from __future__ import annotations

import gc
import importlib
import importlib.util
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

try:
    import psutil
except ImportError as exc:  # pragma: no cover - the bench extra is required
    raise ImportError("the benchmark harness needs psutil: pip install -e '.[bench]'") from exc

REPO = Path(__file__).resolve().parent.parent
OURS = "clvmodels"
RESULT_PREFIX = "BENCH-RESULT "
#: how often the parent re-lists the worker's child processes (their RSS is sampled every poll)
CHILDREN_REFRESH_SECONDS = 0.25
MB = 1024 * 1024


# ----- machine -----------------------------------------------------------------------------------
def _load_1min() -> float:
    return round(os.getloadavg()[0], 2)


def machine_facts() -> dict:
    """Cores, platform, BLAS and versions, recorded once per run (versions from the installed
    distributions, so the parent does not import the heavy libraries)."""
    from importlib.metadata import PackageNotFoundError, version

    import numpy as np

    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]["name"]
    except Exception:  # numpy < 1.26 or unusual builds
        blas = "unknown"
    versions = {}
    for name in ("clvmodels", "numpy", "scipy", "pandas", "lifetimes", "pymc", "nutpie", "numba",
                 "duckdb", "pymc-marketing", "psutil"):
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = None
    return {"record": "machine", "cores": os.cpu_count(), "platform": platform.platform(),
            "python": platform.python_version(), "blas": blas, "versions": versions,
            "memory_total_mb": round(psutil.virtual_memory().total / MB),
            "load_average": [round(v, 2) for v in os.getloadavg()],
            "date": time.strftime("%Y-%m-%d %H:%M:%S")}


# ----- worker side -------------------------------------------------------------------------------
_MEASURE: dict = {}


def _rss_mb() -> float:
    return psutil.Process().memory_info().rss / MB


def _hwm_mb() -> float | None:
    """This process's resident high-water mark (Linux VmHWM), or None where unavailable."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _reset_hwm() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0); False if not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


#: an operation faster than this is run again, up to REPEATS runs in all (and while the runs so
#: far took less than REPEAT_BUDGET seconds), and its ``seconds`` is the fastest run: on a shared
#: 2-core machine a single run of a few tens of milliseconds varies by half its length with what
#: else runs (timeit's rule: the slower runs measure interference, not the code); every tool's
#: short operations are timed the same way, and ``runs_seconds`` keeps them all
REPEAT_BELOW, REPEATS, REPEAT_BUDGET = 1.0, 5, 3.0


def timed(function, warmup=None):
    """Run ``function()`` as the measured operation: returns (seconds, result).

    ``warmup``, if given, runs first and untimed (e.g. the same call on a few customers), so
    one-off costs such as lazy imports and JIT compilation stay out of the timing; its seconds are
    reported as ``warmup_seconds``. On the first call in a worker the RSS just before the
    operation is recorded and the high-water mark reset, so the worker can report what the
    operation itself added. An operation under :data:`REPEAT_BELOW` seconds is repeated (see
    there); ``seconds`` is then the fastest run and ``runs_seconds`` lists every run, the first
    (cold) one first.
    """
    if warmup is not None:
        start = time.perf_counter()
        warmup()
        _MEASURE["warmup_seconds"] = _MEASURE.get("warmup_seconds", 0.0) + time.perf_counter() - start
    if "baseline_rss_mb" not in _MEASURE:
        gc.collect()
        _MEASURE["hwm_before_mb"] = _hwm_mb()
        _MEASURE["hwm_reset"] = _reset_hwm()
        _MEASURE["baseline_rss_mb"] = _rss_mb()
    runs = []
    while True:
        start = time.perf_counter()
        result = function()
        runs.append(time.perf_counter() - start)
        if runs[0] >= REPEAT_BELOW or len(runs) >= REPEATS or sum(runs) >= REPEAT_BUDGET:
            break
        del result  # the next run starts from the same memory as the first
    if _MEASURE["hwm_reset"]:
        _MEASURE["op_peak_rss_mb"] = _hwm_mb()
    if len(runs) > 1:
        _MEASURE["runs_seconds"] = [round(v, 4) for v in runs]
    return min(runs), result


def resolve_task(task: str):
    """The task function: a name in :mod:`benchmarks.tasks`, ``"module:function"`` or
    ``"path/to/file.py:function"``."""
    if ":" not in task:
        from benchmarks import tasks

        return getattr(tasks, task)
    where, name = task.rsplit(":", 1)
    if where.endswith(".py"):
        spec = importlib.util.spec_from_file_location(f"_bench_task_{Path(where).stem}", where)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    else:
        module = importlib.import_module(where)
    return getattr(module, name)


def _worker(task: str, params_json: str) -> None:
    result = resolve_task(task)(**json.loads(params_json))
    hwm = _hwm_mb()
    lifetime_hwm = max(v for v in (hwm, _MEASURE.get("hwm_before_mb"), 0.0) if v is not None)
    result["worker_hwm_mb"] = round(lifetime_hwm, 1) if hwm is not None else None
    for key, digits in (("baseline_rss_mb", 1), ("op_peak_rss_mb", 1), ("warmup_seconds", 4)):
        if _MEASURE.get(key) is not None:
            result[key] = round(_MEASURE[key], digits)
    if "runs_seconds" in _MEASURE:
        result["runs_seconds"] = _MEASURE["runs_seconds"]
    sys.stdout.write(RESULT_PREFIX + json.dumps(result, default=float) + "\n")
    sys.stdout.flush()


# ----- parent side -------------------------------------------------------------------------------
def _tree_rss(proc: psutil.Process, children: list) -> float:
    total = 0
    for p in [proc, *children]:
        try:
            total += p.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            pass
    return total / MB


def _kill_tree(proc: subprocess.Popen, known: list) -> None:
    """SIGKILL the worker, its process group and every descendant we know of or can still find."""
    try:
        known = known + psutil.Process(proc.pid).children(recursive=True)
    except psutil.Error:
        pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the worker leads its own session and group
    except OSError:
        pass
    for p in known:
        try:
            p.kill()
        except psutil.Error:
            pass
    try:
        proc.kill()
    except OSError:
        pass
    proc.wait()
    deadline = time.perf_counter() + 2.0  # descendants are not our children: poll until gone
    while time.perf_counter() < deadline and not all(_gone(p) for p in known):
        time.sleep(0.02)


def _gone(p: psutil.Process) -> bool:
    """Exited (a zombie counts: an orphan's zombie waits for init, not for us)."""
    try:
        return p.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def run_contender(task: str, params: dict, time_limit: float, poll_interval: float = 0.03) -> dict:
    """Run one contender in a subprocess and return its record (status ok, timeout or error).

    The record holds the parameters, the task's measurements, ``peak_rss_mb`` (see the module
    docstring), ``process_seconds`` (the whole child, imports and data generation included) and
    the 1-minute load average before and after (``load_before``, ``load_after``).
    """
    record = {"record": "result", "task": task, **params, "time_limit": time_limit,
              "load_before": _load_1min()}
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.harness", "worker", task, json.dumps(params)],
            stdout=out, stderr=err, cwd=REPO, start_new_session=True,
        )
        watched = psutil.Process(proc.pid)
        children: list = []
        sampled_peak = 0.0
        listed_at = -1.0
        timed_out = False
        while proc.poll() is None:
            now = time.perf_counter()
            if now - listed_at >= CHILDREN_REFRESH_SECONDS:
                try:
                    children = watched.children(recursive=True)
                except psutil.Error:
                    children = []
                listed_at = now
            sampled_peak = max(sampled_peak, _tree_rss(watched, children))
            if now - started > time_limit:
                timed_out = True
                _kill_tree(proc, children)
                break
            time.sleep(poll_interval)
        record["process_seconds"] = round(time.perf_counter() - started, 2)
        record["load_after"] = _load_1min()
        record["sampled_peak_rss_mb"] = round(sampled_peak, 1)
        if timed_out:
            return {**record, "status": "timeout", "peak_rss_mb": round(sampled_peak, 1)}
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
    results = [line[len(RESULT_PREFIX):] for line in stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    if proc.returncode != 0 or not results:
        reason = _last_line(stderr)
        if not reason:
            reason = (f"killed by signal {-proc.returncode}" if proc.returncode < 0
                      else f"exit code {proc.returncode}, no result")
        return {**record, "status": f"error: {reason[:300]}", "peak_rss_mb": round(sampled_peak, 1)}
    result = json.loads(results[-1])
    peak = max(sampled_peak, result.get("worker_hwm_mb") or 0.0)
    record.update(result)
    record["peak_rss_mb"] = round(peak, 1)
    if result.get("baseline_rss_mb") is not None:
        top = result.get("op_peak_rss_mb") or peak
        record["added_mb"] = round(top - result["baseline_rss_mb"], 1)
    record["status"] = "ok"
    return record


# ----- tables ------------------------------------------------------------------------------------
def _ok_results(records: list[dict]) -> list[dict]:
    return [r for r in records if r.get("record") == "result" and r.get("status") == "ok"
            and r.get("compare") is not None and r.get("seconds") is not None]


def _pairs_for(peer: dict, ok: list[dict]) -> list[dict]:
    """The comparisons of one ok peer row with the ok clvmodels rows of its compare key and size."""
    if peer.get("tool") == OURS or not any(peer is r for r in ok):
        return []
    return [{"compare": peer["compare"], "size": peer.get("size"), "peer": peer["tool"],
             "peer_variant": peer.get("variant", ""), "ours_variant": mine.get("variant", ""),
             "peer_seconds": peer["seconds"], "ours_seconds": mine["seconds"],
             "ratio": peer["seconds"] / mine["seconds"]}
            for mine in ok
            if mine.get("tool") == OURS and mine["seconds"] > 0
            and (mine["compare"], mine.get("size")) == (peer["compare"], peer.get("size"))]


def ratios(records: list[dict]) -> list[dict]:
    """Pair every ok peer row with every ok clvmodels row of the same ``compare`` and ``size``.

    Returns dicts with compare, size, peer, peer_variant, ours_variant, peer_seconds,
    ours_seconds and ratio = peer seconds / ours seconds (above 1: clvmodels is faster).
    """
    ok = _ok_results(records)
    return [pair for peer in ok for pair in _pairs_for(peer, ok)]


def _cell(value, digits: int | None = None) -> str:
    if value is None or value == "":
        return ""
    if digits is not None and isinstance(value, (int, float)):
        return f"{value:.{digits}f}"
    return str(value)


def _size(value) -> str:
    return f"{value:,}" if isinstance(value, int) else _cell(value)


def _ratio(value: float) -> str:
    return f"{value:.2f}x" if value < 10 else f"{value:.1f}x"


def ratio_table(records: list[dict]) -> str:
    """Markdown: all rows with their ratio against clvmodels, then the headline ratios."""
    results = [r for r in records if r.get("record") == "result"]
    ok = _ok_results(records)
    pairs = ratios(records)
    rows = ["| group | size | tool | variant | seconds | peak MB | added MB | status | ratio vs clvmodels |",
            "|---|---:|---|---|---:|---:|---:|---|---|"]
    for r in results:
        mine = _pairs_for(r, ok)
        if len(mine) == 1:
            ratio = _ratio(mine[0]["ratio"])
        else:
            ratio = "; ".join(f"{_ratio(p['ratio'])} vs {p['ours_variant']}" for p in mine)
        rows.append(f"| {_cell(r.get('group', r.get('task')))} | {_size(r.get('size'))} | {_cell(r.get('tool'))} | "
                    f"{_cell(r.get('variant'))} | {_cell(r.get('seconds'), 3)} | {_cell(r.get('peak_rss_mb'), 0)} | "
                    f"{_cell(r.get('added_mb'), 0)} | {r.get('status')} | {ratio} |")
    head = ["", "headline ratios (peer seconds / clvmodels seconds; above 1: clvmodels faster)", "",
            "| compare | size | peer | peer variant | clvmodels variant | peer s | clvmodels s | ratio |",
            "|---|---:|---|---|---|---:|---:|---:|"]
    for p in sorted(pairs, key=lambda p: (p["compare"], p["size"] or 0, p["peer_variant"], p["ours_variant"])):
        head.append(f"| {p['compare']} | {_size(p['size'])} | {p['peer']} | {p['peer_variant']} | "
                    f"{p['ours_variant']} | {p['peer_seconds']:.3f} | {p['ours_seconds']:.3f} | "
                    f"{_ratio(p['ratio'])} |")
    if not pairs:
        head.append("| (no pairs with both sides ok) | | | | | | | |")
    return "\n".join(_preamble(records) + rows + head + checksum_table(records))


CHECKSUMS = ("sum_p_alive", "sum_expected_purchases", "sum_expected_spend", "sum_clv")


def checksum_table(records: list[dict]) -> list[str]:
    """Markdown lines: the sums over customers each ok scoring row computed (same compare key and
    size, same sums: the tools computed the same numbers)."""
    rows = [r for r in records if r.get("record") == "result" and r.get("status") == "ok"
            and any(k in r for k in CHECKSUMS)]
    if not rows:
        return []
    out = ["", "checksums (sums over all customers; rows of one compare key and size should agree)", "",
           "| compare | size | tool | variant | " + " | ".join(k[4:] for k in CHECKSUMS) + " |",
           "|---|---:|---|---|" + "---:|" * len(CHECKSUMS)]
    for r in sorted(rows, key=lambda r: (r["compare"], r.get("size") or 0, r.get("tool") != OURS)):
        out.append(f"| {r['compare']} | {_size(r.get('size'))} | {r['tool']} | {r.get('variant', '')} | "
                   + " | ".join(_cell(r.get(k), 4) for k in CHECKSUMS) + " |")
    notes = {}
    for r in rows:
        if r.get("note"):
            notes.setdefault((r["compare"], r["note"]), None)
    out += [""] + [f"note ({compare}): {note}" for compare, note in notes] if notes else []
    return out


def _preamble(records: list[dict]) -> list[str]:
    machine = next((r for r in records if r.get("record") == "machine"), None)
    loads = [r[k] for r in records if r.get("record") == "result"
             for k in ("load_before", "load_after") if r.get(k) is not None]
    if machine is None:
        return []
    line = (f"{machine['cores']} cores, {machine['platform']}, Python {machine['python']}, "
            f"BLAS {machine['blas']}, {machine['date']}")
    if loads:
        line += f"; 1-minute load average around contenders {min(loads):.2f}-{max(loads):.2f}"
    line += (f". Operations under {REPEAT_BELOW:g} s: fastest of up to {REPEATS} runs, every tool "
             "alike (all runs in results.jsonl, runs_seconds)")
    return [line, ""]


# ----- suite -------------------------------------------------------------------------------------
def _progress(record: dict) -> str:
    seconds = record.get("seconds")
    return (f"  {record.get('group', record['task']):<9} {_size(record.get('size')):>10} "
            f"{record.get('tool', '')!s:<10} {record.get('variant', '')!s:<40} {record['status'][:60]:<8} "
            f"{'' if seconds is None else f'{seconds:.3f} s'}  peak {record.get('peak_rss_mb', '?')} MB  "
            f"load {record['load_before']}->{record['load_after']}")


def run_suite(contenders: list[tuple[str, dict, float]], out_dir: Path) -> list[dict]:
    """Run contenders in order; write ``results.jsonl`` (as they finish) and ``results.md``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    records = [machine_facts()]
    jsonl = out_dir / "results.jsonl"
    jsonl.write_text(json.dumps(records[0], default=float) + "\n")
    for task, params, limit in contenders:
        record = run_contender(task, params, limit)
        records.append(record)
        print(_progress(record), flush=True)
        with jsonl.open("a") as f:
            f.write(json.dumps(record, default=float) + "\n")
    (out_dir / "results.md").write_text(ratio_table(records) + "\n")
    return records


if __name__ == "__main__" and len(sys.argv) == 4 and sys.argv[1] == "worker":
    # run through the importable module, so tasks calling benchmarks.harness.timed and the worker
    # share one measurement state (this file also runs as __main__)
    from benchmarks.harness import _worker as _run_worker

    _run_worker(sys.argv[2], sys.argv[3])
