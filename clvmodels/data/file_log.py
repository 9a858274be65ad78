"""A transaction log given as CSV or Parquet files: read, checked and normalised inside DuckDB.

:func:`register_files` creates the view ``clv_transactions`` (the relation of
:mod:`clvmodels.data.transactions`) over the files, after one scan that counts every problem, so a
log larger than memory is never loaded into pandas.
"""

from __future__ import annotations

import glob
import os

from clvmodels.data import sql
from clvmodels.data.transactions import (
    CSV_SUFFIXES,
    N_EXAMPLES,
    PARQUET_SUFFIXES,
    UTC_OFFSET_PATTERN,
    LogSpec,
    Problems,
    Window,
    check_columns,
    kept_rows_sql,
    late_purchase_problem,
    problem_tests_sql,
    resolve_window,
    row_checks,
)
from clvmodels.errors import DataError


def expand_paths(source) -> tuple[list[str], str]:
    """The files a path, glob or list of paths names, and their format ("parquet" or "csv")."""
    items = list(source) if isinstance(source, (list, tuple)) else [source]
    paths: list[str] = []
    for item in items:
        if not isinstance(item, (str, os.PathLike)):
            raise DataError(
                f"transactions must be a pandas DataFrame or a CSV/Parquet path, glob or list of "
                f"paths; got {type(item).__name__}"
            )
        text = os.fspath(item)
        matches = sorted(glob.glob(text)) if glob.has_magic(text) else [text]
        if not matches or not all(os.path.isfile(p) for p in matches):
            raise DataError(f"no transaction file found at {text!r}; check the path or glob")
        paths.extend(matches)
    kinds = {"parquet" if p.lower().endswith(PARQUET_SUFFIXES) else
             "csv" if p.lower().endswith(CSV_SUFFIXES) else "unknown" for p in paths}
    if len(kinds) != 1 or "unknown" in kinds:
        raise DataError(
            f"transaction files must all be Parquet ({', '.join(PARQUET_SUFFIXES)}) or all CSV "
            f"({', '.join(CSV_SUFFIXES)}); got {paths[:5]}"
        )
    return paths, kinds.pop()


def _timestamp_sql(column: str, type_name: str, spec: LogSpec) -> tuple[str, str]:
    """DuckDB expressions (parsed timestamp, is-aware flag) for a timestamp column of this type."""
    q, fmt = sql.quote(column), spec.datetime_format
    t = type_name.upper()
    if t == "DATE" or t.startswith("TIMESTAMP"):
        return q, "FALSE"  # typed: aware columns are TIMESTAMPTZ and the session zone is UTC
    if t == "VARCHAR":
        aware = f"regexp_matches({q}, {sql.literal(UTC_OFFSET_PATTERN)})"
        # naive text cast to TIMESTAMPTZ is read as UTC, so one cast serves both kinds
        parsed = (f"try_strptime({q}, {sql.literal(fmt)})" if fmt
                  else f"TRY_CAST({q} AS TIMESTAMPTZ)")
        return parsed, aware
    if fmt and any(k in t for k in ("INT", "HUGEINT")):
        return f"try_strptime(CAST({q} AS VARCHAR), {sql.literal(fmt)})", "FALSE"
    raise DataError(
        f"timestamps in column {column!r} are of type {type_name}; store them as dates, timestamps or "
        "text, or pass datetime_format= (e.g. '%Y%m%d') for numbers like 19970101"
    )


def _amount_sql(column: str, type_name: str) -> str:
    q = sql.quote(column)
    return f"TRY_CAST({q} AS DOUBLE)" if type_name.upper() == "VARCHAR" else f"CAST({q} AS DOUBLE)"


def register_files(con, source, spec: LogSpec, dates: dict) -> Window:
    """Check CSV/Parquet files in DuckDB and create the view ``clv_transactions`` over them.

    Two scans: one counting every problem (and the first and last purchase day), one in the
    aggregation. Nothing is loaded into pandas.
    """
    paths, kind = expand_paths(source)
    file_list = "[" + ", ".join(sql.literal(p) for p in paths) + "]"
    if kind == "parquet":
        reader = f"read_parquet({file_list}, union_by_name = true)"
    else:
        reader = f"read_csv({file_list}, union_by_name = true, header = true)"
    types = {row[0]: row[1] for row in con.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall()}
    check_columns(types, spec)
    if kind == "csv":  # read timestamps and amounts as text: a bad value must not stop the scan
        text_cols = [spec.datetime_col] + ([spec.monetary_value_col] if spec.monetary_value_col else [])
        overrides = ", ".join(f"{sql.literal(c)}: 'VARCHAR'" for c in text_cols)
        reader = reader[:-1] + f", types = {{{overrides}}})"
        types |= {c: "VARCHAR" for c in text_cols}
    ts, aware = _timestamp_sql(spec.datetime_col, types[spec.datetime_col], spec)
    amount_col = spec.monetary_value_col
    amount = _amount_sql(amount_col, types[amount_col]) if amount_col else "CAST(NULL AS DOUBLE)"
    attrs = "".join(f", {sql.quote(c)} AS attr_{i}" for i, c in enumerate(spec.attribute_cols))
    con.execute(
        f"""CREATE OR REPLACE TEMP VIEW clv_raw AS
        SELECT {sql.quote(spec.customer_id_col)} AS customer_id,
               {sql.quote(spec.datetime_col)} AS ts_raw, {ts} AS ts, {aware} AS ts_aware,
               {sql.quote(amount_col) if amount_col else 'NULL'} AS amount_raw, {amount} AS amount
               {attrs}
        FROM {reader}"""
    )
    day = sql.day_number_sql("ts")
    tests = problem_tests_sql()
    counts_sql = ", ".join(f"count_if({test}) AS {key}" for key, test in tests.items())
    row = con.execute(
        f"SELECT COUNT(*) AS n_rows, MIN({day}) AS first_day, MAX({day}) AS last_day, {counts_sql} "
        "FROM clv_raw"
    ).fetchone()
    counts = dict(zip(["n_rows", "first_day", "last_day", *tests], row))
    if counts["n_rows"] == 0:
        raise DataError(f"the transaction files {paths[:3]} hold no rows; there is nothing to summarise")
    n_aware, n_naive = counts["aware"], counts["naive"]
    if n_aware and n_naive:
        counts["mixed_tz"] = min(n_aware, n_naive)
        tests["mixed_tz"] = tests["aware"] if n_aware <= n_naive else tests["naive"]
    else:
        counts["mixed_tz"] = 0

    def examples(test: str) -> list:
        rows = con.execute(
            f"SELECT DISTINCT customer_id FROM clv_raw WHERE ({test}) AND customer_id IS NOT NULL "
            f"LIMIT {N_EXAMPLES}"
        ).fetchall()
        return sorted((r[0] for r in rows), key=str)

    problems = Problems()
    for key, (what, hint) in row_checks(spec).items():
        if counts[key]:
            problems.add(counts[key], what, [] if key == "null_id" else examples(tests[key]), hint)
    problems.raise_if_any()

    window = resolve_window(counts["first_day"], counts["last_day"], dates, spec.datetime_format)
    late = f"{day} > {window.end_day}"
    if spec.late_purchases == "refuse" and window.end_day < counts["last_day"]:
        (n_late,) = con.execute(f"SELECT count_if({late}) FROM clv_raw").fetchone()
        what, hint = late_purchase_problem(window.end_day)
        problems.add(n_late, what, examples(late), hint)
        problems.raise_if_any()
    keep = kept_rows_sql(spec, day, window.end_day, bool(amount_col))
    micro = sql.micro_sql("amount") if amount_col else "CAST(0 AS BIGINT)"
    attr_cols = "".join(f", attr_{i}" for i in range(len(spec.attribute_cols)))
    con.execute(
        f"""CREATE OR REPLACE TEMP VIEW clv_transactions AS
        SELECT customer_id, {day} AS day, {micro} AS amount_micro{attr_cols}
        FROM clv_raw WHERE {' AND '.join(keep)}"""
    )
    return window
