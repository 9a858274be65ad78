"""Benchmark: 1e7 transactions -> customer summary, Spark local mode against DuckDB.

Both read the same Parquet file (``benchmarks/_data/spark_<N>.parquet``, git-ignored, made by
:func:`benchmarks.rfm.make_transactions`) and run the same SQL aggregation
(:func:`clvmodels.data.sql.customer_totals_sql`):

- DuckDB: ``clvmodels.rfm_summary(path)`` (checks, aggregation, summary DataFrame);
- Spark ``local[cores]``: ``spark_rfm_summary`` (checks and aggregation in Spark), then
  ``purchase_rows`` (the purchase family's distinct fitting rows, collected to the driver) and ``to_pandas`` (the whole
  summary collected). Session start-up is timed separately and not included.

The results must agree: the Spark summary is compared with DuckDB's, column for column.
``python -m benchmarks.spark --rows 10000000`` prints a table and writes
``benchmarks/results/spark.json``; the harness calls :func:`run`.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
DATA_DIR = HERE / "_data"
DEFAULT_OUT = HERE / "results" / "spark.json"


def write_log(n_rows: int, seed: int = 0) -> Path:
    """The benchmark's Parquet log (made once, reused while it exists)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from benchmarks.rfm import make_transactions

    path = DATA_DIR / f"spark_{n_rows}_{seed}.parquet"
    if not path.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        log = make_transactions(n_rows, seed=seed)
        log["date"] = log["date"].astype("datetime64[us]")  # Spark reads microsecond timestamps
        partial = path.with_suffix(".partial")
        pq.write_table(pa.Table.from_pandas(log, preserve_index=False), partial, row_group_size=1_000_000)
        partial.rename(path)
    return path


def _timed(function):
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def run(n_rows: int = 10_000_000, cores: int = 2, seed: int = 0, out: Path | None = DEFAULT_OUT) -> dict:
    """Time both engines on ``n_rows`` transactions; returns (and writes) the record."""
    import clvmodels
    from clvmodels.families import get_family
    from clvmodels.spark import local_session, purchase_rows, spark_rfm_summary

    path = write_log(n_rows, seed)
    options = {"customer_id_col": "customer_id", "datetime_col": "date", "monetary_value_col": "amount"}
    seconds = {}
    seconds["duckdb_summary"], local = _timed(
        lambda: clvmodels.rfm_summary(str(path), duckdb_config={"threads": cores}, **options))
    seconds["spark_session_start"], spark = _timed(
        lambda: local_session(cores=cores, shuffle_partitions=2 * cores,
                              **{"spark.driver.memory": "3g"}))
    spark.sparkContext.setLogLevel("ERROR")
    frame = spark.read.parquet(str(path))
    seconds["spark_checks"], summary = _timed(lambda: spark_rfm_summary(frame, **options))
    seconds["spark_distinct_rows"], rows = _timed(lambda: purchase_rows(summary, get_family("bgnbd")))
    seconds["spark_summary_to_pandas"], collected = _timed(summary.to_pandas)
    spark.stop()
    try:
        pd.testing.assert_frame_equal(collected, local, check_exact=True)
        agree = True
    except AssertionError:
        agree = False
    record = {
        "benchmark": "spark", "n_rows": n_rows, "n_customers": len(local),
        "n_distinct_bgnbd_rows": len(rows), "cores": cores, "seconds": seconds,
        "spark_total_seconds": seconds["spark_checks"] + seconds["spark_distinct_rows"]
        + seconds["spark_summary_to_pandas"],
        "summaries_identical": agree, "python": platform.python_version(),
        "pyspark": __import__("pyspark").__version__, "duckdb": __import__("duckdb").__version__,
        "machine": platform.machine(),
    }
    if out is not None:
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(record, indent=2) + "\n")
    return record


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    record = run(args.rows, args.cores, args.seed, args.out)
    for name, value in record["seconds"].items():
        print(f"{name:28s} {value:9.2f} s")
    print(f"{'spark total (excl. start)':28s} {record['spark_total_seconds']:9.2f} s")
    print(f"customers {record['n_customers']:,}, distinct BG/NBD rows {record['n_distinct_bgnbd_rows']:,}, "
          f"summaries identical: {record['summaries_identical']}")


if __name__ == "__main__":
    main()
