"""SQL writer: upsert the export into a table of current scores, and record the run.

Two tables (SQLAlchemy Core; SQLite as the embedded default, PostgreSQL for real):

- ``clv_customer_scores``: the current scores, one row per customer (columns and types from
  :mod:`clvmodels.export.schema`, primary key ``customer_id``). A run inserts new customers and
  updates the rows of customers it scored; customers it did not score keep their previous row, whose
  ``run_id`` says which run wrote it.
- ``clv_model_runs``: one row per run id (time written, package version, model types and methods,
  parameters, diagnostics, seed, data window, configuration).

Before anything is written, :class:`SqlExport` checks the target (URL, dialect, names, values for that
database; :mod:`clvmodels.export.sql_checks`) and connects. Everything then happens in one
transaction: a failure or a kill mid-write leaves both tables exactly as they were, and every
driver error reaches the caller as an :class:`~clvmodels.errors.ExportError` naming the target.
Concurrent first-time exports create the tables once: SQLite writers begin with ``BEGIN IMMEDIATE``
(the second waits for the first), PostgreSQL writers take a transaction-scoped advisory lock per
table; a remaining creation race is retried. Upserts use the dialect's
``INSERT .. ON CONFLICT (key) DO UPDATE`` with bound parameters only (no value is ever formatted
into SQL text), so re-running a run id never duplicates rows.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from clvmodels.errors import DataError, ExportError
from clvmodels.export import schema
from clvmodels.export.runmeta import RunInfo
from clvmodels.export.sql_checks import (
    PG_MAX_KEY_BYTES,
    SUPPORTED_DIALECTS,
    SqlTarget,
    check_identifiers,
    check_values,
    database_error,
    long_keys,
    parse_target,
    unindexable_keys,
)
from clvmodels.export.staging import sweep_stale, temp_name
from clvmodels.export.sql_tables import (  # noqa: F401 - the tables stay importable from here
    RUNS_TABLE,
    SCORES_TABLE,
    records,
    run_record,
    runs_table,
    scores_table,
)

DEFAULT_CHUNK_ROWS = 2_000


@dataclass(frozen=True)
class SqlWriteResult:
    """What a write did: rows inserted (new customers) and updated (known customers).

    Parameters
    ----------
    run_id : str
        The run written.
    inserted : int
        Rows of customers new to the scores table.
    updated : int
        Rows of customers already there (upserted on the customer id).
    """

    run_id: str
    inserted: int
    updated: int

    @property
    def rows(self) -> int:
        return self.inserted + self.updated


# ----- engines -----------------------------------------------------------------------------------
#: execution option of a connection that writes: SQLite begins it with BEGIN IMMEDIATE
WRITE_OPTION = "clvmodels_write"


def _sqlite_transactions(engine) -> None:
    # pysqlite begins transactions lazily and not before DDL; take control so that CREATE TABLE and
    # every upsert share one BEGIN .. COMMIT (SQLAlchemy docs, "Serializable isolation / Savepoints")
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _no_implicit(dbapi_connection, _record):
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(conn):
        # a writer takes the write lock at BEGIN: two first-time exports cannot both find no table and
        # then both create it; the second waits (busy timeout) and finds the first one's tables
        immediate = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _engine_for(target: SqlTarget):
    engine = target.create_engine()
    if target.engine is None and target.dialect == "sqlite":
        _sqlite_transactions(engine)
    return engine


def make_engine(target):
    """An SQLAlchemy engine for a URL, a SQLite file path, or an existing engine (returned as is).

    ``postgresql://`` URLs use psycopg 3 when psycopg2 is not installed. A malformed URL, an
    unsupported dialect or a missing directory raises :class:`~clvmodels.errors.ExportError`.
    """
    return _engine_for(parse_target(target))


def check_database(target) -> None:
    """Parse ``target`` and connect to it once (not to a SQLite file that does not exist yet, which
    connecting would create); raises :class:`~clvmodels.errors.ExportError`. Writes nothing.

    For callers that want to fail fast before a long computation; :func:`write_sql` checks again.
    """
    import sqlalchemy as sa

    parsed = parse_target(target)
    if parsed.sqlite_file is not None and not parsed.sqlite_file.exists():
        return
    engine = _engine_for(parsed)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
            sa.inspect(conn).has_table(SCORES_TABLE)  # a file that is not a database fails here
    except sa.exc.SQLAlchemyError as exc:
        raise database_error(exc, parsed, "connect to") from exc
    finally:
        if parsed.engine is None:
            engine.dispose()


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


def _check_existing(conn, table, label: str = "the database") -> None:
    import sqlalchemy as sa

    existing = {c["name"] for c in sa.inspect(conn).get_columns(table.name, schema=table.schema)}
    missing = [c.name for c in table.columns if c.name not in existing]
    if missing:
        raise ExportError(
            f"table {table.name!r} exists but lacks columns {missing} of this export (in {label}); write to "
            "another table (scores_table_name=...) or migrate the table (add the columns)", target=label)


def _lock_key(schema_name, table: str) -> int:
    # a stable signed 64-bit key per table, the same in every process (Python's hash() is salted)
    digest = hashlib.sha256(f"clvmodels:{schema_name}:{table}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _is_create_race(exc) -> bool:
    """A concurrent CREATE TABLE (or lock wait) that a retry of the whole transaction resolves."""
    orig = getattr(exc, "orig", None)
    sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    text = str(orig or exc).lower()
    return sqlstate in ("23505", "42P07", "42710", "40P01") or "already exists" in text or "database is locked" in text


# ----- the writer --------------------------------------------------------------------------------
class SqlExport:
    """A SQL write checked before anything is written: :meth:`write` then does it in one transaction.

    Creating one parses the target, checks the table, schema and column names and the values for
    the target's database (:mod:`clvmodels.export.sql_checks`), connects (except to a SQLite file
    that does not exist yet) and checks that the schema exists and that existing tables have the
    export's columns. Every failure is an :class:`~clvmodels.errors.ExportError` naming the target.

    Parameters
    ----------
    conformed : pandas.DataFrame
        A frame from :func:`clvmodels.export.schema.conform`.
    run : RunInfo
        The run; its id is written on every row and keys the runs table.
    target : str, path-like or sqlalchemy.engine.Engine
        Database URL, SQLite file path or engine (as :func:`write_sql`).
    field_mapping : dict, optional
        Schema column -> column name in the scores table.
    scores_table_name : str, default "clv_customer_scores"
        Table of the scores.
    runs_table_name : str, default "clv_model_runs"
        Table of the runs.
    schema_name : str, optional
        Database schema of both tables (must exist).
    chunk_rows : int
        Rows sent per batch of bound parameters.
    """

    def __init__(self, conformed: pd.DataFrame, run: RunInfo, target, *, field_mapping: dict | None = None,
                 scores_table_name: str = SCORES_TABLE, runs_table_name: str = RUNS_TABLE,
                 schema_name: str | None = None, chunk_rows: int = DEFAULT_CHUNK_ROWS):
        import sqlalchemy as sa

        self.conformed, self.run = conformed, run
        self.target = parse_target(target)
        mapping = schema.check_field_mapping(field_mapping)
        tables = {"scores table": scores_table_name, "runs table": runs_table_name}
        check_identifiers(self.target, tables, schema_name,
                          [mapping.get(c.name, c.name) for c in schema.EXPORT_COLUMNS])
        check_values(self.target, conformed, schema.KEY)
        self.metadata = sa.MetaData()
        self.scores = scores_table(self.metadata, mapping, scores_table_name, schema_name)
        self.runs = runs_table(self.metadata, runs_table_name, schema_name)
        self.key = mapping.get(schema.KEY, schema.KEY)
        self.chunk_rows = max(int(chunk_rows), 1)
        file = self.target.sqlite_file
        # a SQLite file this write would create: removed again if the write fails (our engine only)
        new = file is not None and not file.exists() and self.target.engine is None
        self._new_sqlite_file = file if new else None
        self.engine = _engine_for(self.target)
        try:
            self._preflight()
        except BaseException:
            self.close()
            raise

    def _preflight(self) -> None:
        import sqlalchemy as sa

        if self._new_sqlite_file is not None:
            return  # nothing to connect to yet, and connecting would create the file
        try:
            with self.engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
                inspector = sa.inspect(conn)
                if self.scores.schema is not None and not inspector.has_schema(self.scores.schema):
                    raise ExportError(f"schema {self.scores.schema!r} does not exist in {self.target.label}; create it "
                                      "first (CREATE SCHEMA) or leave the schema out", target=self.target.label)
                for table in (self.scores, self.runs):
                    if inspector.has_table(table.name, schema=table.schema):
                        _check_existing(conn, table, self.target.label)
                conn.rollback()
                too_long = unindexable_keys(conn, self.conformed, schema.KEY)
        except sa.exc.SQLAlchemyError as exc:
            raise database_error(exc, self.target, "connect to") from exc
        if too_long:
            examples = ", ".join(f"{k[:16]!r}... ({len(k.encode('utf-8')):,} bytes)" for k in too_long[:3])
            raise ExportError(
                f"PostgreSQL cannot index {len(too_long):,} of the customer ids (e.g. {examples}): an index entry "
                f"holds at most {PG_MAX_KEY_BYTES:,} bytes after compression; shorten or hash those ids before "
                f"exporting to {self.target.label}", target=self.target.label)

    def _lock(self, conn) -> None:
        import sqlalchemy as sa

        if conn.dialect.name == "postgresql":
            # concurrent first-time exports: CREATE TABLE IF NOT EXISTS still races in the catalog
            # (a unique violation for the loser); the lock makes the second wait for the first's commit
            for key in sorted({_lock_key(t.schema, t.name) for t in (self.scores, self.runs)}):
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})

    def _transaction(self, engine, progress) -> int:
        """The whole write in one transaction on ``engine``; returns the number of new customers."""
        import sqlalchemy as sa

        total, step, key, scores = len(self.conformed), self.chunk_rows, self.key, self.scores
        names = [c.name for c in scores.columns]
        inserted = 0
        with engine.connect() as conn:
            conn.execution_options(**{WRITE_OPTION: True})
            with conn.begin():
                self._lock(conn)
                self.metadata.create_all(conn, checkfirst=True)
                _check_existing(conn, scores, self.target.label)
                _check_existing(conn, self.runs, self.target.label)
                conn.execute(_upsert(conn, self.runs, "run_id"), [run_record(self.run, total)])
                upsert = _upsert(conn, scores, key)
                for start in range(0, total, step):
                    chunk = records(self.conformed.iloc[start:start + step], names)  # Python rows for one chunk
                    ids = [row[key] for row in chunk]
                    known = conn.execute(
                        sa.select(sa.func.count()).select_from(scores).where(scores.c[key].in_(ids))
                    ).scalar_one()
                    conn.execute(upsert, chunk)
                    inserted += len(chunk) - known
                    if progress is not None:
                        progress(start + len(chunk), total)
        return inserted

    def _result(self, inserted: int) -> SqlWriteResult:
        return SqlWriteResult(self.run.run_id, inserted, len(self.conformed) - inserted)

    def _failure(self, exc) -> ExportError:
        long_ids = long_keys(self.conformed, schema.KEY) if self.target.dialect == "postgresql" else None
        return database_error(exc, self.target, f"write the table {self.scores.name!r} to", long_ids)

    def write(self, progress: Callable[[int, int], None] | None = None, attempts: int = 3) -> SqlWriteResult:
        """Upsert the scores and record the run in one transaction; returns what it did.

        Parameters
        ----------
        progress : callable, optional
            ``progress(rows_done, rows_total)`` after each batch.
        attempts : int, default 3
            Tries when another first-time export creates the tables at the same moment.

        Returns
        -------
        SqlWriteResult
            Rows inserted and updated.

        A concurrent table creation (another first-time export) is retried up to ``attempts`` times;
        any other database error is an :class:`ExportError` and the transaction is rolled back. An
        exception raised by ``progress`` rolls back and propagates as it is. A SQLite file that does
        not exist yet is built under a temporary name and moved into place when complete
        (:meth:`_write_new_sqlite_file`), so a failed or killed first export leaves no database file.
        """
        import sqlalchemy as sa

        if self._new_sqlite_file is not None:
            result = self._write_new_sqlite_file(progress)
            if result is not None:
                return result  # else another writer created the file meanwhile: write into it
        for attempt in range(attempts):
            try:
                return self._result(self._transaction(self.engine, progress))
            except sa.exc.SQLAlchemyError as exc:
                if attempt + 1 < attempts and _is_create_race(exc):
                    time.sleep(0.05 * (attempt + 1))
                    continue
                raise self._failure(exc) from exc
        raise AssertionError("unreachable")

    def _write_new_sqlite_file(self, progress) -> SqlWriteResult | None:
        """Build a new SQLite database beside its target, then hard-link it into place.

        The link fails if the target appeared meanwhile (a concurrent first export): then nothing of
        ours is in place and ``None`` says to write into the existing file instead. The temporary
        file (named as in :mod:`clvmodels.export.staging`, so a killed writer's one is swept) is
        always removed.
        """
        import sqlalchemy as sa

        target = self._new_sqlite_file
        sweep_stale(target)
        tmp = temp_name(target)
        parsed = SqlTarget(self.target.url.set(database=str(tmp)), None, "sqlite", self.target.label, tmp)
        engine = _engine_for(parsed)
        try:
            inserted = self._transaction(engine, progress)
            engine.dispose()
            with open(tmp, "rb+") as fh:  # on disk before it becomes visible
                os.fsync(fh.fileno())
            try:
                os.link(tmp, target)  # never replaces a file that appeared meanwhile
            except FileExistsError:
                return None
            except OSError:  # a file system without hard links
                if target.exists():
                    return None
                os.replace(tmp, target)
            return self._result(inserted)
        except sa.exc.SQLAlchemyError as exc:
            raise self._failure(exc) from exc
        finally:
            engine.dispose()
            for suffix in ("", "-journal", "-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(f"{tmp}{suffix}")

    def close(self) -> None:
        """Release the connections (the caller's engine is left open)."""
        if self.target.engine is None:
            self.engine.dispose()


def write_sql(frame: pd.DataFrame, run: RunInfo, target, *, field_mapping: dict | None = None,
              scores_table_name: str = SCORES_TABLE, runs_table_name: str = RUNS_TABLE,
              schema_name: str | None = None, chunk_rows: int = DEFAULT_CHUNK_ROWS,
              progress: Callable[[int, int], None] | None = None, _conformed: bool = False) -> SqlWriteResult:
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
        Where to write; tables are created if missing (the schema must exist).
    chunk_rows : int
        Rows sent per batch of bound parameters.
    progress : callable, optional
        ``progress(rows_done, rows_total)`` after each batch; an exception it raises rolls back.
    _conformed : bool, default False
        Internal: the frame is already conformed (by :func:`clvmodels.export.export_scores`).

    Returns
    -------
    SqlWriteResult

    Raises
    ------
    ExportError
        A bad target (URL, names, values the database cannot store) before anything is written, or a
        database failure (rolled back; the driver's error is the ``__cause__``).
    """
    if not isinstance(run, RunInfo):
        raise DataError("write_sql needs the run metadata (a RunInfo from clvmodels.export.new_run)")
    conformed = frame if _conformed else schema.conform(frame, run.column_values())  # export_scores conformed it
    export = SqlExport(conformed, run, target, field_mapping=field_mapping, scores_table_name=scores_table_name,
                       runs_table_name=runs_table_name, schema_name=schema_name, chunk_rows=chunk_rows)
    try:
        return export.write(progress)
    finally:
        export.close()


def read_table(target, table: str = SCORES_TABLE, schema_name: str | None = None) -> pd.DataFrame:
    """Read a whole table (e.g. the scores or the runs) into a DataFrame.

    Parameters
    ----------
    target : str, path-like or sqlalchemy.engine.Engine
        Database URL, SQLite file path or engine.
    table : str, default "clv_customer_scores"
        Table to read.
    schema_name : str, optional
        Database schema of the table.

    Returns
    -------
    pandas.DataFrame
        Every row and column of the table.

    Raises
    ------
    ExportError
        If the target cannot be parsed, does not exist or cannot be read.
    DataError
        If the database has no such table.
    """
    import sqlalchemy as sa

    parsed = parse_target(target)
    if parsed.sqlite_file is not None and not parsed.sqlite_file.exists():  # connecting would create it
        raise ExportError(f"there is no database {parsed.label}", target=parsed.label)
    engine = _engine_for(parsed)
    try:
        with engine.connect() as conn:
            reflected = sa.Table(table, sa.MetaData(), autoload_with=conn, schema=schema_name)
            result = conn.execute(sa.select(reflected))
            return pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    except sa.exc.NoSuchTableError:
        raise DataError(f"the database has no table {table!r}") from None
    except sa.exc.SQLAlchemyError as exc:
        raise database_error(exc, parsed, f"read the table {table!r} from", writing=False) from exc
    finally:
        if engine is not target:
            engine.dispose()
