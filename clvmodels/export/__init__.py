"""CRM export: one typed row per customer, written atomically to CSV, Parquet and SQL.

>>> run = new_run(summary=summary, models={"purchase": bg, "spend": gg}, seed=0, horizon=52)  # doctest: +SKIP
>>> export_scores(frame, run, csv="scores.csv", parquet="scores.parquet", sql="scores.db")   # doctest: +SKIP

The column table lives in :mod:`clvmodels.export.schema` (:func:`schema_markdown` renders it).
"""

from __future__ import annotations

from clvmodels.export.files import read_run_info, write_csv, write_parquet
from clvmodels.export.runmeta import RunInfo, new_run
from clvmodels.export.schema import (
    COLUMN_NAMES,
    EXPORT_COLUMNS,
    check_field_mapping,
    conform,
    load_field_mapping,
    schema_markdown,
)
from clvmodels.export.sql import RUNS_TABLE, SCORES_TABLE, SqlWriteResult, read_table, write_sql


def export_scores(frame, run: RunInfo, *, csv=None, parquet=None, sql=None, field_mapping=None,
                  progress=None) -> dict:
    """Write the export to every target given (CSV path, Parquet path, database URL or path).

    The frame and the mapping are checked once before anything is written, so bad input writes
    nothing. Returns {"csv": path, "parquet": path, "sql": SqlWriteResult} for the targets written.
    """
    mapping = check_field_mapping(field_mapping)
    conformed = conform(frame, run.column_values())
    written = {}
    if csv is not None:
        written["csv"] = write_csv(conformed, csv, run, field_mapping=mapping)
    if parquet is not None:
        written["parquet"] = write_parquet(conformed, parquet, run, field_mapping=mapping)
    if sql is not None:
        written["sql"] = write_sql(conformed, run, sql, field_mapping=mapping, progress=progress)
    return written


__all__ = [
    "COLUMN_NAMES", "EXPORT_COLUMNS", "RUNS_TABLE", "SCORES_TABLE", "RunInfo", "SqlWriteResult",
    "check_field_mapping", "conform", "export_scores", "load_field_mapping", "new_run", "read_run_info",
    "read_table", "schema_markdown", "write_csv", "write_parquet", "write_sql",
]
