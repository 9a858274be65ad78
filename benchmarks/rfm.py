"""Benchmark: transaction log -> customer summary, clvmodels.rfm_summary against lifetimes.

Two measurements (``python -m benchmarks.rfm --help``):

1. In memory: a DataFrame of N transactions (default 1,000,000; int64 customer ids, second-resolution
   datetime64 timestamps, amounts in cents) summarised by ``clvmodels.rfm_summary`` (engines
   "pandas" and "duckdb", best of several runs) and by lifetimes'
   ``summary_data_from_transaction_data`` (freq="D"), with a check that the results agree.
2. Out of core: a Parquet file of M rows (default 100,000,000) written chunk by chunk to
   ``benchmarks/_data/`` (git-ignored), aggregated by ``rfm_summary(path)`` in a fresh
   subprocess with DuckDB's ``memory_limit`` and ``threads`` set; the child reports its own peak
   resident memory (``resource.getrusage(RUSAGE_SELF).ru_maxrss``).

Results go to ``benchmarks/results/rfm.json`` (or ``--out``) and are printed as a table. The
benchmark harness calls :func:`run`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
DATA_DIR = HERE / "_data"
DEFAULT_OUT = HERE / "results" / "rfm.json"
START = np.datetime64("2019-01-01T00:00:00", "s")
HISTORY_DAYS = 3 * 365


def make_transactions(n_rows: int, n_customers: int | None = None, seed: int = 0,
                      string_ids: bool = False) -> pd.DataFrame:
    """A synthetic log: customers uniform over ids, times uniform over three years, lognormal
    amounts rounded to cents. ``n_customers`` defaults to one per five transactions; ids are
    int64, or strings like ``"C0001234"`` with ``string_ids``."""
    rng = np.random.default_rng(seed)
    n_customers = n_customers or max(n_rows // 5, 1)
    ids = rng.integers(0, n_customers, n_rows)
    if string_ids:
        ids = pd.Series(np.char.add("C", np.char.zfill(ids.astype(str), 7)), dtype="str")
    seconds = rng.integers(0, HISTORY_DAYS * 86_400, n_rows)
    return pd.DataFrame({
        "customer_id": ids,
        "date": START + seconds.astype("timedelta64[s]"),
        "amount": np.round(rng.lognormal(3.0, 1.0, n_rows), 2) + 0.01,
    })


def _best_time(function, repeats: int) -> tuple[float, float, object]:
    """Best wall-clock and best process-CPU seconds over ``repeats`` calls, and the last result.

    CPU time is reported too because on a shared machine wall time includes waiting for a core.
    """
    best_wall, best_cpu, result = float("inf"), float("inf"), None
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        result = function()
        best_wall = min(best_wall, time.perf_counter() - wall)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    return best_wall, best_cpu, result


def time_in_memory(n_rows: int, repeats: int = 5, lifetimes_repeats: int = 3, seed: int = 0,
                   string_ids: bool = False) -> dict:
    """Time rfm_summary (both engines) and lifetimes on the same DataFrame; check they agree."""
    from lifetimes.utils import summary_data_from_transaction_data

    import clvmodels

    log = make_transactions(n_rows, seed=seed, string_ids=string_ids)
    options = {"customer_id_col": "customer_id", "datetime_col": "date", "monetary_value_col": "amount"}
    clvmodels.rfm_summary(log.head(1000), **options)  # warm imports outside the timings
    seconds, cpu = {}, {}
    for engine in ("pandas", "duckdb"):
        seconds[engine], cpu[engine], ours = _best_time(
            lambda engine=engine: clvmodels.rfm_summary(log, engine=engine, **options), repeats)
    seconds["lifetimes"], cpu["lifetimes"], theirs = _best_time(
        lambda: summary_data_from_transaction_data(log, "customer_id", "date", "amount", freq="D"),
        lifetimes_repeats)
    theirs = theirs.loc[ours.index]
    agree = bool(
        np.array_equal(ours["frequency"].to_numpy(float), theirs["frequency"].to_numpy())
        and np.array_equal(ours["recency"].to_numpy(), theirs["recency"].to_numpy())
        and np.array_equal(ours["T"].to_numpy(), theirs["T"].to_numpy())
        and np.allclose(ours["monetary_value"], theirs["monetary_value"], rtol=1e-12, atol=0)
    )
    fastest = min(seconds["pandas"], seconds["duckdb"])
    return {
        "benchmark": "rfm_in_memory", "n_rows": n_rows, "n_customers": len(ours),
        "customer_ids": "str" if string_ids else "int64",
        "seconds_pandas_engine": seconds["pandas"], "seconds_duckdb_engine": seconds["duckdb"],
        "seconds_lifetimes": seconds["lifetimes"], "speedup": seconds["lifetimes"] / fastest,
        "speedup_auto_engine": seconds["lifetimes"] / seconds["pandas"],
        "cpu_seconds_pandas_engine": cpu["pandas"], "cpu_seconds_duckdb_engine": cpu["duckdb"],
        "cpu_seconds_lifetimes": cpu["lifetimes"],
        "cpu_speedup_auto_engine": cpu["lifetimes"] / cpu["pandas"],
        "load_average_1min": os.getloadavg()[0],
        "agrees_with_lifetimes": agree, "repeats": repeats, "lifetimes_repeats": lifetimes_repeats,
    }


def write_parquet(path: Path, n_rows: int, n_customers: int, chunk_rows: int = 5_000_000,
                  seed: int = 0) -> Path:
    """Write a synthetic log of ``n_rows`` to one Parquet file, ``chunk_rows`` at a time."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    writer = None
    try:
        for i, start in enumerate(range(0, n_rows, chunk_rows)):
            chunk = make_transactions(min(chunk_rows, n_rows - start), n_customers, seed=seed + i)
            table = pa.Table.from_pandas(chunk, preserve_index=False)
            writer = writer or pq.ParquetWriter(partial, table.schema, compression="zstd")
            writer.write_table(table, row_group_size=1_000_000)
    finally:
        if writer is not None:
            writer.close()
    partial.rename(path)  # a half-written file never takes the final name
    return path


def aggregate_in_child(path: Path, memory_limit: str, threads: int) -> dict:
    """Run rfm_summary(path) in a fresh interpreter and return its own timing and peak memory."""
    command = [sys.executable, "-m", "benchmarks.rfm", "--child", str(path),
               "--memory-limit", memory_limit, "--threads", str(threads)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=HERE.parent, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the aggregation subprocess failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _child(path: str, memory_limit: str, threads: int) -> None:
    import clvmodels

    start = time.perf_counter()
    summary = clvmodels.rfm_summary(path, monetary_value_col="amount",
                                    duckdb_config={"memory_limit": memory_limit, "threads": threads})
    seconds = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(json.dumps({"seconds": seconds, "peak_rss_mb": peak_kib / 1024,
                      "n_customers": len(summary), "repeat_days": int(summary["frequency"].sum())}))


def time_out_of_core(n_rows: int, n_customers: int, memory_limit: str = "1GB",
                     threads: int = 2, keep_file: bool = True) -> dict:
    """Aggregate an ``n_rows`` Parquet file (written once, then reused) in a subprocess."""
    path = DATA_DIR / f"transactions_{n_rows}_{n_customers}.parquet"
    write_seconds = 0.0
    if not path.exists():
        start = time.perf_counter()
        write_parquet(path, n_rows, n_customers)
        write_seconds = time.perf_counter() - start
    child = aggregate_in_child(path, memory_limit, threads)
    record = {
        "benchmark": "rfm_parquet_out_of_core", "n_rows": n_rows, "n_customers": child["n_customers"],
        "file_mb": path.stat().st_size / 2**20, "seconds": child["seconds"],
        "peak_rss_mb": child["peak_rss_mb"], "duckdb_memory_limit": memory_limit,
        "duckdb_threads": threads, "seconds_to_write_file": write_seconds,
        "under_2gb": child["peak_rss_mb"] < 2048,
    }
    if not keep_file:
        path.unlink()
    return record


def run(sizes=(1_000_000,), out: Path | str | None = DEFAULT_OUT, parquet_rows: int | None = None,
        parquet_customers: int = 2_000_000, memory_limit: str = "1GB", threads: int = 2,
        repeats: int = 5) -> list[dict]:
    """Run the benchmarks, write JSON to ``out`` (None: do not write) and return the records."""
    records = [time_in_memory(n, repeats=repeats, string_ids=string_ids)
               for n in sizes for string_ids in (False, True)]
    if parquet_rows:
        records.append(time_out_of_core(parquet_rows, parquet_customers, memory_limit, threads))
    machine = {"python": platform.python_version(), "cpus": os.cpu_count(),
               "machine": platform.machine(), "numpy": np.__version__, "pandas": pd.__version__}
    for record in records:
        record["machine"] = machine
    if out is not None:
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(records, indent=2) + "\n")
    return records


def print_table(records: list[dict]) -> None:
    for r in records:
        if r["benchmark"] == "rfm_in_memory":
            print(f"in memory, {r['n_rows']:,} rows, {r['n_customers']:,} customers "
                  f"({r['customer_ids']} ids): "
                  f"clvmodels pandas {r['seconds_pandas_engine']:.3f} s, "
                  f"duckdb {r['seconds_duckdb_engine']:.3f} s, lifetimes {r['seconds_lifetimes']:.3f} s "
                  f"-> {r['speedup']:.1f}x faster (CPU time: {r['cpu_speedup_auto_engine']:.1f}x; "
                  f"load {r['load_average_1min']:.1f}); agrees with lifetimes: "
                  f"{r['agrees_with_lifetimes']}")
        else:
            print(f"Parquet, {r['n_rows']:,} rows ({r['file_mb']:.0f} MB), {r['n_customers']:,} "
                  f"customers: {r['seconds']:.1f} s, peak RSS {r['peak_rss_mb']:.0f} MB "
                  f"(DuckDB memory_limit {r['duckdb_memory_limit']}, {r['duckdb_threads']} threads)")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.rfm", description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[1_000_000],
                        help="transactions per in-memory run (default: 1000000)")
    parser.add_argument("--repeats", type=int, default=5, help="runs per clvmodels timing (best kept)")
    parser.add_argument("--parquet-rows", type=int, default=0,
                        help="rows of the out-of-core Parquet run, e.g. 100000000 (default: skip)")
    parser.add_argument("--parquet-customers", type=int, default=2_000_000)
    parser.add_argument("--memory-limit", default="1GB", help="DuckDB memory_limit (default 1GB)")
    parser.add_argument("--threads", type=int, default=2, help="DuckDB threads (default 2)")
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="JSON output file")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child, args.memory_limit, args.threads)
        return
    records = run(args.sizes, args.out, args.parquet_rows, args.parquet_customers,
                  args.memory_limit, args.threads, args.repeats)
    print_table(records)
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
