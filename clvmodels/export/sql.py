"""SQL writer: upsert the export into a table of current scores, and record the run.

Two tables (SQLAlchemy Core; SQLite as the embedded default, PostgreSQL for real):

- ``clv_customer_scores``: the current scores, one row per customer (columns and types from
  :mod:`clvmodels.export.schema`, primary key ``customer_id``). A run inserts new customers and
  updates the rows of customers it scored; customers it did not score keep their previous row, whose
  ``run_id`` says which run wrote it.
- ``clv_model_runs``: one row per run id (time written, package version, model types and methods,
  parameters, diagnostics, seed, data window, configuration).

Everything happens in one transaction: a failure or a kill mid-write leaves both tables exactly as
they were. Upserts use the dialect's ``INSERT .. ON CONFLICT (key) DO UPDATE`` with bound
parameters only (no value is ever formatted into SQL text), so re-running a run id never
duplicates rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from clvmodels.errors import DataError
from clvmodels.export import schema
from clvmodels.export.runmeta import RunInfo

SCORES_TABLE = "clv_customer_scores"
RUNS_TABLE = "clv_model_runs"
DEFAULT_CHUNK_ROWS = 2_000
SUPPORTED_DIALECTS = ("sqlite", "postgresql")


@dataclass(frozen=True)
class SqlWriteResult:
    """What a write did: rows inserted (new customers) and updated (known customers)."""

    run_id: str
    inserted: int
    updated: int

    @property
    def rows(self) -> int:
        return self.inserted + self.updated


# ----- tables ------------------------------------------------------------------------------------
def _sql_type(logical: str):
    import sqlalchemy as sa

    return {"text": sa.Text(), "date": sa.Date(), "integer": sa.BigInteger(), "float": sa.Double(),
            "boolean": sa.Boolean()}[logical]


def scores_table(metadata, field_mapping: dict | None = None, name: str = SCORES_TABLE, schema_name=None):
    """The current-scores table: the export columns (renamed by ``field_mapping``), key first."""
    import sqlalchemy as sa

    mapping = schema.check_field_mapping(field_mapping)
    columns = [
        sa.Column(mapping.get(c.name, c.name), _sql_type(c.type), primary_key=c.name == schema.KEY,
                  nullable=c.name != schema.KEY, comment=c.meaning)
        for c in schema.EXPORT_COLUMNS
    ]
    return sa.Table(name, metadata, *columns, schema=schema_name)


def runs_table(metadata, name: str = RUNS_TABLE, schema_name=None):
    """The run history table, one row per run id."""
    import sqlalchemy as sa

    return sa.Table(
        name, metadata,
        sa.Column("run_id", sa.Text(), primary_key=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False, comment="time of the last write (UTC)"),
        sa.Column("package_version", sa.Text()),
        sa.Column("purchase_model", sa.Text()), sa.Column("purchase_method", sa.Text()),
        sa.Column("spend_model", sa.Text()), sa.Column("spend_method", sa.Text()),
        sa.Column("parameters", sa.JSON()), sa.Column("diagnostics", sa.JSON()),
        sa.Column("seed", sa.BigInteger()),
        sa.Column("first_purchase", sa.Date()), sa.Column("observation_end", sa.Date()),
        sa.Column("n_customers", sa.BigInteger()), sa.Column("n_scores", sa.BigInteger()),
        sa.Column("time_unit", sa.Text()), sa.Column("horizon", sa.Double()),
        sa.Column("interval_level", sa.Double()), sa.Column("currency", sa.Text()),
        sa.Column("configuration", sa.JSON()),
        schema=schema_name,
    )


# ----- engines -----------------------------------------------------------------------------------
def _sqlite_transactions(engine) -> None:
    # pysqlite begins transactions lazily and not before DDL; take control so that CREATE TABLE and
    # every upsert share one BEGIN .. COMMIT (SQLAlchemy docs, "Serializable isolation / Savepoints")
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _no_implicit(dbapi_connection, _record):
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql("BEGIN")


def make_engine(target):
    """An SQLAlchemy engine for a URL, a SQLite file path, or an existing engine (returned as is).

    ``postgresql://`` URLs use psycopg 3 when psycopg2 is not installed.
    """
    import sqlalchemy as sa

    if isinstance(target, sa.engine.Engine):
        return target
    text = str(target)
    if "://" not in text:
        path = Path(text)
        if not path.parent.is_dir():
            raise DataError(f"cannot create the SQLite database {text!r}: directory {str(path.parent)!r} does not exist")
        text = f"sqlite:///{path.resolve()}"
    try:
        url = sa.engine.make_url(text)
    except sa.exc.ArgumentError as exc:
        raise DataError(f"not a database URL: {text!r} ({exc}); e.g. sqlite:///scores.db or "
                        "postgresql+psycopg://user@host:5432/db") from None
    if url.drivername == "postgresql":
        try:
            import psycopg2  # noqa: F401
        except ImportError:
            url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() not in SUPPORTED_DIALECTS:
        raise DataError(f"database {url.get_backend_name()!r} is not supported; use one of {list(SUPPORTED_DIALECTS)}")
    engine = sa.create_engine(url)
    if url.get_backend_name() == "sqlite":
        _sqlite_transactions(engine)
    return engine


def _upsert(conn, table, key: str):
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif conn.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:
        raise DataError(f"database {conn.dialect.name!r} is not supported; use one of {list(SUPPORTED_DIALECTS)}")
    stmt = insert(table)
    return stmt.on_conflict_do_update(
        index_elements=[table.c[key]],
        set_={c.name: stmt.excluded[c.name] for c in table.columns if not c.primary_key},
    )


def _check_existing(conn, table) -> None:
    import sqlalchemy as sa

    existing = {c["name"] for c in sa.inspect(conn).get_columns(table.name, schema=table.schema)}
    missing = [c.name for c in table.columns if c.name not in existing]
    if missing:
        raise DataError(
            f"table {table.name!r} exists but lacks columns {missing} of this export; write to another "
            "table (scores_table=...) or migrate the table (add the columns)"
        )


# ----- rows --------------------------------------------------------------------------------------
def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    return value


def _records(conformed: pd.DataFrame, names: list[str]) -> list[dict]:
    """Rows of a conformed frame as dicts of plain Python values (None for null)."""
    columns = []
    for col in schema.EXPORT_COLUMNS:
        series = conformed[col.name]
        if col.type == "date":
            values = [None if pd.isna(v) else v.date() for v in series]
        else:
            values = [_plain(v) for v in series.to_numpy(dtype=object, na_value=None)]
        columns.append(values)
    return [dict(zip(names, row)) for row in zip(*columns)]


def _run_record(run: RunInfo, n_scores: int) -> dict:
    def date(value):
        return None if value is None else dt.date.fromisoformat(value)

    models = run.models or {}
    return {
        "run_id": run.run_id,
        "recorded_at": dt.datetime.now(dt.timezone.utc),
        "package_version": run.package_version,
        "purchase_model": models.get("purchase", {}).get("type"),
        "purchase_method": models.get("purchase", {}).get("method"),
        "spend_model": models.get("spend", {}).get("type"),
        "spend_method": models.get("spend", {}).get("method"),
        "parameters": run.parameters,
        "diagnostics": run.diagnostics,
        "seed": run.seed,
        "first_purchase": date(run.data_window.get("first_purchase")),
        "observation_end": date(run.data_window.get("observation_end")),
        "n_customers": run.data_window.get("n_customers"),
        "n_scores": n_scores,
        "time_unit": run.time_unit,
        "horizon": run.horizon,
        "interval_level": run.interval_level,
        "currency": run.currency,
        "configuration": {"models": run.models, **run.configuration},
    }


# ----- the writer --------------------------------------------------------------------------------
def write_sql(frame: pd.DataFrame, run: RunInfo, target, *, field_mapping: dict | None = None,
              scores_table_name: str = SCORES_TABLE, runs_table_name: str = RUNS_TABLE,
              schema_name: str | None = None, chunk_rows: int = DEFAULT_CHUNK_ROWS,
              progress: Callable[[int, int], None] | None = None) -> SqlWriteResult:
    """Upsert the export into ``clv_customer_scores`` and record the run, in one transaction.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per customer with schema columns (see :func:`clvmodels.export.schema.conform`).
    run : RunInfo
        The run; its id is written on every row and keys ``clv_model_runs``.
    target : str, path-like or sqlalchemy.engine.Engine
        Database URL (``sqlite:///file.db``, ``postgresql+psycopg://...``), a SQLite file path, or an engine.
    field_mapping : dict, optional
        Schema column -> column name in the scores table.
    scores_table_name, runs_table_name, schema_name : str
        Where to write; tables are created if missing.
    chunk_rows : int
        Rows sent per batch of bound parameters.
    progress : callable, optional
        ``progress(rows_done, rows_total)`` after each batch; an exception it raises rolls back.

    Returns
    -------
    SqlWriteResult
    """
    import sqlalchemy as sa

    if not isinstance(run, RunInfo):
        raise DataError("write_sql needs the run metadata (a RunInfo from clvmodels.export.new_run)")
    mapping = schema.check_field_mapping(field_mapping)
    conformed = schema.conform(frame, run.column_values())
    metadata = sa.MetaData()
    scores = scores_table(metadata, mapping, scores_table_name, schema_name)
    runs = runs_table(metadata, runs_table_name, schema_name)
    key = mapping.get(schema.KEY, schema.KEY)
    names = [c.name for c in scores.columns]
    total, step = len(conformed), max(int(chunk_rows), 1)
    engine = make_engine(target)
    inserted = 0
    try:
        with engine.begin() as conn:
            metadata.create_all(conn, checkfirst=True)
            _check_existing(conn, scores)
            _check_existing(conn, runs)
            conn.execute(_upsert(conn, runs, "run_id"), [_run_record(run, total)])
            upsert = _upsert(conn, scores, key)
            for start in range(0, total, step):
                chunk = _records(conformed.iloc[start:start + step], names)  # Python rows for one chunk only
                ids = [row[key] for row in chunk]
                known = conn.execute(
                    sa.select(sa.func.count()).select_from(scores).where(scores.c[key].in_(ids))
                ).scalar_one()
                conn.execute(upsert, chunk)
                inserted += len(chunk) - known
                if progress is not None:
                    progress(start + len(chunk), total)
    except sa.exc.OperationalError as exc:
        raise DataError(f"cannot write to the database: {str(exc.orig).strip().splitlines()[0]}") from exc
    finally:
        if engine is not target:
            engine.dispose()
    return SqlWriteResult(run.run_id, inserted, total - inserted)


def read_table(target, table: str = SCORES_TABLE, schema_name: str | None = None) -> pd.DataFrame:
    """Read a whole table (e.g. the scores or the runs) into a DataFrame."""
    import sqlalchemy as sa

    engine = make_engine(target)
    try:
        with engine.connect() as conn:
            reflected = sa.Table(table, sa.MetaData(), autoload_with=conn, schema=schema_name)
            result = conn.execute(sa.select(reflected))
            return pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    except sa.exc.NoSuchTableError:
        raise DataError(f"the database has no table {table!r}") from None
    finally:
        if engine is not target:
            engine.dispose()
