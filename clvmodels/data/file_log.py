"""A transaction log given as CSV or Parquet files: read, checked and normalised inside DuckDB.

:func:`register_files` creates the view ``clv_transactions`` (the relation of
:mod:`clvmodels.data.transactions`) over the files, after one scan that counts every problem, so a
log larger than memory is never loaded into pandas. Text timestamps are read by the one-format
rule of :mod:`clvmodels.data.timestamps` (the same sample and candidates as a DataFrame, counted
in SQL), so a CSV and the same data as a DataFrame give identical summaries or refusals; a file
that cannot be read is refused in one line (:mod:`clvmodels.data.file_errors`).
"""

from __future__ import annotations

import glob
import os

from clvmodels.data import sql, timestamps
from clvmodels.data.file_errors import check_files, no_rows_message, translating_read_errors
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


def _timestamp_readings(con, reader: str, column: str, type_name: str, spec: LogSpec
                        ) -> tuple[dict[str, str], set[str], str, str]:
    """The candidate readings of a timestamp column (label -> DuckDB expression, best first; see
    :mod:`clvmodels.data.timestamps`), those that read every value of the leading sample (only
    they can read every value), the text they read and the is-aware flag."""
    q, fmt = sql.quote(column), spec.datetime_format
    t = type_name.upper()
    if t == "DATE" or t.startswith("TIMESTAMP"):  # aware columns are TIMESTAMPTZ, the session UTC
        return {"typed": "ts_raw"}, {"typed"}, "NULL", "FALSE"
    if t == "VARCHAR":  # blank text is a missing timestamp, as a CSV's empty field is
        text = f"NULLIF(trim({q}), '')"
        aware = f"regexp_matches({text}, {sql.literal(UTC_OFFSET_PATTERN)})"
    elif fmt and _is_integer(t):
        text, aware = f"CAST({q} AS VARCHAR)", "FALSE"
    else:
        raise DataError(
            f"timestamps in column {column!r} are of type {type_name}; store them as dates, "
            "timestamps or text, or pass datetime_format= (e.g. '%Y%m%d') for numbers like 19970101"
        )
    if fmt:
        readings = {fmt: _reading_sql("ts_text", fmt)}
        return readings, set(readings), text, aware
    # the sample is the first values in row order, as the DataFrame path takes them
    (order,) = con.execute("SELECT current_setting('preserve_insertion_order')").fetchone()
    con.execute("SET preserve_insertion_order = true")
    try:
        sample = [r[0] for r in con.execute(
            f"SELECT {text} AS ts_text FROM {reader} WHERE ts_text IS NOT NULL "
            f"LIMIT {timestamps.SAMPLE_SIZE}").fetchall()]
    finally:
        con.execute(f"SET preserve_insertion_order = {str(order).lower()}")
    readings = {c: _reading_sql("ts_text", c) for c in timestamps.candidate_formats(sample)}
    if not sample:
        return readings, set(readings), text, aware
    fits = con.execute(
        "SELECT " + ", ".join(f"bool_and(({e}) IS NOT NULL)" for e in readings.values())
        + " FROM (SELECT unnest($1::VARCHAR[]) AS ts_text)", [sample]).fetchone()
    return readings, {c for c, ok in zip(readings, fits) if ok}, text, aware


def _reading_stats(con, readings: dict[str, str], labels: list[str], extra: str = "") -> tuple:
    """One scan of ``clv_text``: per reading in ``labels`` the values it reads and its first and
    last day (a dict of triples), then the ``extra`` aggregates."""
    parts = [f"count_if(({readings[c]}) IS NOT NULL), MIN({sql.day_number_sql(readings[c])}), "
             f"MAX({sql.day_number_sql(readings[c])})" for c in labels]
    row = con.execute(f"SELECT {', '.join(parts + [extra] if extra else parts)} "
                      "FROM clv_text").fetchone()
    stats = {c: tuple(row[3 * i:3 * i + 3]) for i, c in enumerate(labels)}
    return stats, row[3 * len(labels):]


def _is_integer(type_name: str) -> bool:
    return "INT" in type_name.upper()


def _reading_sql(text: str, fmt: str) -> str:
    """DuckDB expression reading ``text`` with one format (NULL where it cannot); ISO 8601 is
    read only where it matches :data:`timestamps.ISO_PATTERN`, as in the DataFrame path.
    Naive text cast to TIMESTAMPTZ is read as UTC, the session's zone."""
    if fmt == timestamps.ISO:
        return (f"CASE WHEN regexp_full_match({text}, {sql.literal(timestamps.ISO_PATTERN)}) "
                f"THEN TRY_CAST({text} AS TIMESTAMPTZ) END")
    return f"try_strptime({text}, {sql.literal(fmt)})"


def _amount_sql(column: str, type_name: str) -> str:
    q = sql.quote(column)
    return f"TRY_CAST({q} AS DOUBLE)" if type_name.upper() == "VARCHAR" else f"CAST({q} AS DOUBLE)"


def register_files(con, source, spec: LogSpec, dates: dict) -> Window:
    """Check CSV/Parquet files in DuckDB and create the view ``clv_transactions`` over them.

    Two scans: one counting every problem, what each candidate timestamp reading reads and the
    first and last purchase day, one in the aggregation (a third only to show an ambiguous
    column's example). Nothing is loaded into pandas. Unreadable files are refused in one line
    (:mod:`clvmodels.data.file_errors`).
    """
    paths, kind = expand_paths(source)
    timestamps.check_format(spec.datetime_format)
    check_files(paths, kind)
    with translating_read_errors(paths, kind):
        return _register(con, paths, kind, spec, dates)


def _register(con, paths: list[str], kind: str, spec: LogSpec, dates: dict) -> Window:
    file_list = "[" + ", ".join(sql.literal(p) for p in paths) + "]"
    if kind == "parquet":
        reader = f"read_parquet({file_list}, union_by_name = true)"
    else:
        reader = f"read_csv({file_list}, union_by_name = true, header = true)"
    types = {row[0]: row[1] for row in con.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall()}
    check_columns(types, spec)
    if _is_integer(types[spec.datetime_col]) and not spec.datetime_format:
        raise timestamps.numbers_refused(spec.datetime_col)  # as a DataFrame of numbers is
    if kind == "csv":  # read timestamps and amounts as text: a bad value must not stop the scan
        text_cols = [spec.datetime_col] + ([spec.monetary_value_col] if spec.monetary_value_col else [])
        overrides = ", ".join(f"{sql.literal(c)}: 'VARCHAR'" for c in text_cols)
        reader = reader[:-1] + f", types = {{{overrides}}})"
        types |= {c: "VARCHAR" for c in text_cols}
    readings, fits_sample, text, aware = _timestamp_readings(con, reader, spec.datetime_col,
                                                             types[spec.datetime_col], spec)
    raw = text if types[spec.datetime_col].upper() == "VARCHAR" else sql.quote(spec.datetime_col)
    amount_col = spec.monetary_value_col
    amount = _amount_sql(amount_col, types[amount_col]) if amount_col else "CAST(NULL AS DOUBLE)"
    attrs = "".join(f", {sql.quote(c)} AS attr_{i}" for i, c in enumerate(spec.attribute_cols))
    con.execute(
        f"""CREATE OR REPLACE TEMP VIEW clv_text AS
        SELECT {sql.quote(spec.customer_id_col)} AS customer_id,
               {raw} AS ts_raw, {text} AS ts_text, {aware} AS ts_aware,
               {sql.quote(amount_col) if amount_col else 'NULL'} AS amount_raw, {amount} AS amount
               {attrs}
        FROM {reader}"""
    )
    tests = problem_tests_sql()
    counted = {k: v for k, v in tests.items() if k != "bad_time"}  # bad_time: from the readings
    # candidates that fail on the sample cannot read every value; they are counted (a second
    # scan) only when no other does, to name the closest
    labels = list(readings)
    first = [c for c in labels if c in fits_sample] or labels
    counts_sql = ", ".join(f"count_if({test})" for test in counted.values())
    # the attributes are counted only so that this scan, not the aggregation, meets bad bytes in them
    attr_counts = "".join(f", COUNT(attr_{i})" for i in range(len(spec.attribute_cols)))
    stats, row = _reading_stats(con, readings, first, f"COUNT(*), {counts_sql}{attr_counts}")
    n_rows, counts = row[0], dict(zip(counted, row[1:]))  # zip stops before the attributes
    if n_rows == 0:
        raise DataError(no_rows_message(paths, kind))
    n_values = n_rows - counts["null_time"]
    rest = [c for c in labels if c not in stats]
    if rest and all(stats[c][0] < n_values for c in first):
        stats |= _reading_stats(con, readings, rest)[0]
    n_read = {c: stats[c][0] if c in stats else -1 for c in labels}
    choice = timestamps.choose(labels, n_values, n_read)
    first_day, last_day = stats[choice.fmt][1:]
    con.execute(f"CREATE OR REPLACE TEMP VIEW clv_raw AS SELECT *, {readings[choice.fmt]} AS ts "
                "FROM clv_text")
    n_aware, n_naive = counts["aware"], counts["naive"]
    counts["bad_time"] = n_values - choice.n_read
    counts["mixed_tz"] = 0
    if n_aware and n_naive:  # as the DataFrame path: only the mixing is reported
        counts["mixed_tz"], counts["bad_time"] = min(n_aware, n_naive), 0
        tests["mixed_tz"] = tests["aware"] if n_aware <= n_naive else tests["naive"]

    def examples(test: str) -> list:
        rows = con.execute(
            f"SELECT DISTINCT customer_id FROM clv_raw WHERE ({test}) AND customer_id IS NOT NULL "
            f"ORDER BY customer_id LIMIT {N_EXAMPLES}"
        ).fetchall()
        return [r[0] for r in rows]

    hint = timestamps.unreadable_hint(spec.datetime_format, choice) if readings.keys() != {"typed"} \
        else None
    checks = row_checks(spec, hint)
    if not counts["mixed_tz"]:
        ambiguity = _ambiguity(con, readings, choice, spec.datetime_col)
        if ambiguity:
            test, counts["ambiguous_time"], checks["ambiguous_time"] = ambiguity
            tests["ambiguous_time"] = test
    problems = Problems()
    for key, (what, hint) in checks.items():
        if counts[key]:
            problems.add(counts[key], what, [] if key == "null_id" else examples(tests[key]), hint)
    problems.raise_if_any()

    window = resolve_window(first_day, last_day, dates)
    day = sql.day_number_sql("ts")
    late = f"{day} > {window.end_day}"
    if spec.late_purchases == "refuse" and window.end_day < last_day:
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


def _ambiguity(con, readings: dict, choice, column: str):
    """(test, rows, (what, hint)) when another reading reads every value but some differently."""
    chosen = readings[choice.fmt]
    for other in choice.also_full:
        test = f"({chosen}) <> ({readings[other]})"
        n_differ, value = con.execute(
            f"SELECT count_if({test}), MIN(ts_text) FILTER (WHERE {test}) FROM clv_text").fetchone()
        if n_differ:
            a, b = con.execute(f"SELECT {_reading_sql('$1', choice.fmt)}, "
                               f"{_reading_sql('$1', other)}", [value]).fetchone()
            return test, n_differ, timestamps.ambiguity_problem(column, choice.fmt, other, value, a, b)
    return None
