"""CRM export: one typed row per customer, written atomically to CSV, Parquet and SQL.

>>> run = new_run(summary=summary, models={"purchase": bg, "spend": gg}, seed=0, horizon=52)  # doctest: +SKIP
>>> export_scores(frame, run, csv="scores.csv", parquet="scores.parquet", sql="scores.db")   # doctest: +SKIP

The column table lives in :mod:`clvmodels.export.schema` (:func:`schema_markdown` renders it).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path

from clvmodels.errors import ExportError
from clvmodels.export.files import (
    csv_export_writer,
    csv_writer,
    parquet_export_writer,
    read_run_info,
    write_csv,
    write_parquet,
)
from clvmodels.export.runmeta import RunInfo, new_run
from clvmodels.export.schema import (
    COLUMN_NAMES,
    EXPORT_COLUMNS,
    check_field_mapping,
    conform,
    load_field_mapping,
    schema_markdown,
)
from clvmodels.export.sql import RUNS_TABLE, SCORES_TABLE, SqlExport, SqlWriteResult, read_table, write_sql
from clvmodels.export.sql_checks import parse_target
from clvmodels.export.staging import FileStage, check_file_target


def _check_distinct(paths: dict[str, Path], sql_file: Path | None) -> None:
    seen: dict[str, str] = {}
    named = dict(paths, **({"sql": sql_file} if sql_file is not None else {}))
    for name, path in named.items():
        real = os.path.realpath(path)
        if real in seen:
            raise ExportError(f"the {seen[real]} and {name} targets are the same file {str(path)!r}; give each its own",
                              target=str(path))
        seen[real] = name


def export_scores(frame, run: RunInfo, *, csv=None, parquet=None, sql=None, field_mapping=None,
                  progress: Callable[[int, int], None] | None = None,
                  files: Mapping[str, tuple] | None = None, scores_table_name: str = SCORES_TABLE,
                  runs_table_name: str = RUNS_TABLE, schema_name: str | None = None) -> dict:
    """Write the export to every target given, all or nothing.

    The order makes a failure anywhere leave every target as it was:

    1. check everything before anything is written: the frame and the field mapping; every file
       path (its directory exists and is writable, it is not a directory, no two targets are the same
       file); the database URL (parsed, dialect supported), its table, schema and column names and
       the values for that database, and a connection to it (see
       :class:`clvmodels.export.sql.SqlExport`);
    2. write every file to a temporary name beside its target (:class:`~.staging.FileStage`);
    3. write the database in one transaction;
    4. only then rename the files into place.

    A failure in steps 1-3 leaves no new or changed file and no database change (temporary files
    are removed; stale ones of killed writers are swept by later writes).

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per customer with schema columns (see :func:`clvmodels.export.schema.conform`).
    run : RunInfo
        The run metadata (:func:`new_run`).
    csv, parquet : path-like, optional
        Files to write.
    sql : str, path-like or sqlalchemy.engine.Engine, optional
        Database URL, SQLite file path or engine to upsert into.
    field_mapping : dict, optional
        Schema column -> CRM field name (file headers and table columns).
    progress : callable, optional
        ``progress(rows_done, rows_total)`` during the SQL upsert.
    files : mapping, optional
        More files written in the same all-or-nothing: ``name -> (path, write)`` where ``write(tmp_path)``
        writes the whole file (e.g. :func:`clvmodels.export.files.csv_writer`). Returned under ``name``.
    scores_table_name, runs_table_name, schema_name : str, optional
        Where the SQL export goes (see :func:`write_sql`).

    Returns
    -------
    dict
        ``{"csv": Path, "parquet": Path, "sql": SqlWriteResult, <name>: Path}`` for the targets written.

    Raises
    ------
    DataError
        A bad frame or mapping. Its subclass :class:`~clvmodels.errors.ExportError` names a target that
        cannot be written, or the database's failure. Nothing was written.
    """
    if not isinstance(run, RunInfo):
        raise ExportError("export_scores needs the run metadata (a RunInfo from clvmodels.export.new_run)")
    mapping = check_field_mapping(field_mapping)
    conformed = conform(frame, run.column_values())
    extra = dict(files or {})
    clash = sorted(set(extra) & {"csv", "parquet", "sql"})
    if clash:
        raise ExportError(f"extra files may not be named {clash}; those names are the export's own targets")
    writers: dict[str, tuple] = {}
    if csv is not None:
        writers["csv"] = (csv, lambda: csv_export_writer(conformed, mapping), "CSV export")
    if parquet is not None:
        writers["parquet"] = (parquet, lambda: parquet_export_writer(conformed, mapping, run), "Parquet export")
    for name, (path, write) in extra.items():
        writers[name] = (path, lambda write=write: write, f"{name} file")
    paths = {name: check_file_target(path, what) for name, (path, _, what) in writers.items()}
    _check_distinct(paths, parse_target(sql).sqlite_file if sql is not None else None)
    tables = {"scores_table_name": scores_table_name, "runs_table_name": runs_table_name, "schema_name": schema_name}
    if sql is not None:  # checks the names and values for that database, and connects, writing nothing
        SqlExport(conformed, run, sql, field_mapping=mapping, **tables).close()
    written: dict = {}
    with FileStage() as stage:
        for name, (path, make_writer, what) in writers.items():
            written[name] = stage.add(path, make_writer(), what)
        if sql is not None:
            written["sql"] = write_sql(conformed, run, sql, field_mapping=mapping, progress=progress,
                                       _conformed=True, **tables)
        stage.commit()
    order = ["csv", "parquet", "sql", *extra]
    return {name: written[name] for name in order if name in written}


__all__ = [
    "COLUMN_NAMES", "EXPORT_COLUMNS", "RUNS_TABLE", "SCORES_TABLE", "FileStage", "RunInfo", "SqlExport",
    "SqlWriteResult", "check_field_mapping", "conform", "csv_writer", "export_scores", "load_field_mapping",
    "new_run", "read_run_info", "read_table", "schema_markdown", "write_csv", "write_parquet", "write_sql",
]
