"""Checks of a SQL export target made before anything is written, and database errors in plain words.

- :func:`parse_target`: a database URL, a SQLite file path or an engine -> :class:`SqlTarget`
  (dialect, a label without the password, the SQLite file). Malformed URLs, unsupported dialects
  (only ``sqlite`` and ``postgresql``) and missing directories are refused here.
- :func:`check_identifiers`: table, schema and column names the database would refuse or change
  (empty names, NUL characters, PostgreSQL's 63-byte limit, at which it silently truncates, so two
  long names could become one; SQLite's case-insensitive column names; SQLite's reserved
  ``sqlite_`` prefix).
- :func:`check_values`: values the database cannot store (PostgreSQL text cannot hold a NUL byte);
  :func:`unindexable_keys`: ids too long for PostgreSQL's primary-key index (tried on the server, in a
  transaction that is rolled back, since whether a long id fits depends on how well it compresses).
- :func:`database_error`: any driver error as an :class:`~clvmodels.errors.ExportError` naming the
  target and the cause, the raw error chained as ``__cause__``.

Every failure is an :class:`~clvmodels.errors.ExportError` (a :class:`~clvmodels.errors.DataError`).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from clvmodels.errors import ExportError, describe_rows

SUPPORTED_DIALECTS = ("sqlite", "postgresql")
#: PostgreSQL's NAMEDATALEN - 1: longer identifiers are truncated without error
PG_MAX_IDENTIFIER_BYTES = 63
#: PostgreSQL's btree limit for one index entry (8 kB pages), after the value's compression
PG_MAX_KEY_BYTES = 2704
#: seconds a connection attempt may take (PostgreSQL) / a writer waits for another's lock (SQLite)
CONNECT_TIMEOUT = 10
SQLITE_LOCK_TIMEOUT = 60


@dataclass
class SqlTarget:
    """A parsed database target: the URL (or the engine given), its dialect and a printable label."""

    url: object  # sqlalchemy URL, or None when an engine was given
    engine: object  # the engine given by the caller, else None
    dialect: str
    label: str  # URL without the password
    sqlite_file: Path | None = None  # the database file of a SQLite target (None: in memory)

    def create_engine(self):
        """An engine for this target (the caller's engine as is)."""
        import sqlalchemy as sa

        if self.engine is not None:
            return self.engine
        connect_args = {}
        if self.dialect == "postgresql" and "connect_timeout" not in self.url.query:
            connect_args["connect_timeout"] = CONNECT_TIMEOUT
        if self.dialect == "sqlite" and "timeout" not in self.url.query:
            connect_args["timeout"] = SQLITE_LOCK_TIMEOUT
        return sa.create_engine(self.url, connect_args=connect_args)


def _redact(text: str) -> str:
    return re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", text)


def _sqlite_file(database: str | None, label: str) -> Path | None:
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    path = Path(database)
    if path.is_dir():
        raise ExportError(f"cannot use {label!r} as a SQLite database: {str(path)!r} is a directory", target=label)
    if not path.parent.is_dir():
        raise ExportError(f"cannot create the SQLite database {label!r}: directory {str(path.parent)!r} does not "
                          "exist; create it first", target=label)
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise ExportError(f"cannot write the SQLite database {label!r}: directory {str(path.parent)!r} is not "
                          "writable", target=label)
    return path


def parse_target(target) -> SqlTarget:
    """Parse a database URL, SQLite file path or engine; raises :class:`ExportError` when unusable.

    ``postgresql://`` URLs use psycopg 3 when psycopg2 is not installed. Nothing is connected to.
    """
    import sqlalchemy as sa

    if isinstance(target, sa.engine.Engine):
        label = target.url.render_as_string(hide_password=True)
        if target.dialect.name not in SUPPORTED_DIALECTS:
            raise ExportError(f"database {target.dialect.name!r} is not supported; use one of "
                              f"{list(SUPPORTED_DIALECTS)}", target=label)
        database = target.url.database if target.dialect.name == "sqlite" else None
        return SqlTarget(None, target, target.dialect.name, label,
                         Path(database) if database and database != ":memory:" else None)
    if not isinstance(target, (str, os.PathLike)) or not str(target).strip():
        raise ExportError(f"the SQL target must be a database URL or a SQLite file path; got {target!r}",
                          target=repr(target))
    text = os.fspath(target) if isinstance(target, os.PathLike) else target
    if "://" not in text:
        path = Path(text)
        if not path.parent.is_dir():
            raise ExportError(f"cannot create the SQLite database {text!r}: directory {str(path.parent)!r} does "
                              "not exist; create it first", target=text)
        text = f"sqlite:///{path.resolve()}"
    label = _redact(text)
    try:
        url = sa.engine.make_url(text)
    except sa.exc.ArgumentError as exc:
        raise ExportError(f"not a database URL: {label!r} ({exc}); e.g. sqlite:///scores.db or "
                          "postgresql+psycopg://user@host:5432/db", target=label) from None
    except ValueError as exc:  # e.g. a port that is not a number
        raise ExportError(f"malformed database URL {label!r}: {exc}; the form is "
                          "dialect+driver://user:password@host:port/database with a numeric port",
                          target=label) from exc
    if url.port is not None and not 0 < url.port < 65536:
        raise ExportError(f"malformed database URL {label!r}: port {url.port} is outside 1-65535", target=label)
    backend = url.get_backend_name()
    if backend not in SUPPORTED_DIALECTS:
        raise ExportError(f"database {backend!r} of {label!r} is not supported; use one of {list(SUPPORTED_DIALECTS)}",
                          target=label)
    if url.drivername == "postgresql":
        try:
            import psycopg2  # noqa: F401
        except ImportError:
            url = url.set(drivername="postgresql+psycopg")
    label = url.render_as_string(hide_password=True)
    sqlite_file = _sqlite_file(url.database, label) if backend == "sqlite" else None
    return SqlTarget(url, None, backend, label, sqlite_file)


# ----- names -------------------------------------------------------------------------------------
def _check_name(name, what: str, label: str) -> None:
    if not isinstance(name, str) or not name.strip():
        raise ExportError(f"the {what} name must be non-empty text; got {name!r} (target {label})", target=label)
    if "\x00" in name:
        raise ExportError(f"the {what} name {name!r} holds a NUL character, which no database accepts in a name",
                          target=label)


def _pg_truncate(name: str) -> str:
    # what PostgreSQL does: cut to 63 bytes at a character boundary
    return name.encode("utf-8")[:PG_MAX_IDENTIFIER_BYTES].decode("utf-8", errors="ignore")


def check_identifiers(target: SqlTarget, tables: dict[str, str], schema_name, columns) -> None:
    """Refuse table, schema and column names that ``target``'s database would reject or change.

    Parameters
    ----------
    target : SqlTarget
    tables : dict
        Role (e.g. ``"scores table"``) -> table name.
    schema_name : str or None
    columns : sequence of str
        Column names of the scores table (after the field mapping).
    """
    label = target.label
    for what, name in tables.items():
        _check_name(name, what, label)
    if schema_name is not None:
        _check_name(schema_name, "schema", label)
    for name in columns:
        _check_name(name, "column", label)
    names = dict(tables, **({"schema": schema_name} if schema_name is not None else {}))
    if target.dialect == "postgresql":
        long = {what: n for what, n in names.items() if len(n.encode("utf-8")) > PG_MAX_IDENTIFIER_BYTES}
        if long:
            detail = ", ".join(f"{what} {n!r} ({len(n.encode('utf-8'))} bytes)" for what, n in long.items())
            raise ExportError(f"PostgreSQL names are at most {PG_MAX_IDENTIFIER_BYTES} bytes and it would truncate "
                              f"longer ones: {detail}; choose shorter names", target=label)
        long_cols = [c for c in columns if len(c.encode("utf-8")) > PG_MAX_IDENTIFIER_BYTES]
        if long_cols:
            cut = pd.Series([_pg_truncate(c) for c in columns], index=list(columns))
            clashes = sorted({c for c in columns if (cut == cut[c]).sum() > 1})
            what = (f"{clashes} would become the same column" if clashes
                    else f"{long_cols} would be renamed")
            raise ExportError(f"PostgreSQL truncates column names to {PG_MAX_IDENTIFIER_BYTES} bytes, so the field "
                              f"mapping's {what}; map them to shorter names", target=label)
        fold = str  # quoted PostgreSQL names are case-sensitive
    else:
        reserved = [n for n in tables.values() if n[:7].lower() == "sqlite_"]
        if reserved:
            raise ExportError(f"SQLite reserves table names beginning with 'sqlite_': {reserved}; choose other names",
                              target=label)
        ascii_lower = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")

        def fold(name: str) -> str:  # SQLite compares names case-insensitively, for ASCII letters only
            return name.translate(ascii_lower)
    folded = pd.Series([fold(c) for c in columns])
    clashes = sorted({c for c, f in zip(columns, folded) if (folded == f).sum() > 1})
    if clashes:
        raise ExportError(f"the columns {clashes} are the same name to {target.dialect} (it ignores case); map them "
                          "to names that differ by more than case", target=label)
    if fold(tables.get("scores table", "")) == fold(tables.get("runs table", "?")):
        raise ExportError(f"the scores and runs tables must be different tables; both are {tables['scores table']!r}",
                          target=label)


# ----- values ------------------------------------------------------------------------------------
def check_values(target: SqlTarget, conformed: pd.DataFrame, key: str = "customer_id") -> None:
    """Refuse values the database cannot store: on PostgreSQL, text holding a NUL byte."""
    if target.dialect != "postgresql":
        return
    for name in conformed.columns:
        values = conformed[name]
        if not (pd.api.types.is_string_dtype(values) or values.dtype == object):
            continue
        bad = values.astype("string").str.contains("\x00", regex=False).fillna(False).to_numpy(bool)
        if bad.any():
            raise ExportError(
                f"PostgreSQL text cannot hold a NUL character (\\x00); column {name!r} has one in "
                f"{describe_rows(conformed[key][bad])} (customer ids); remove or replace it before exporting "
                f"to {target.label}", target=target.label)


def long_keys(conformed: pd.DataFrame, key: str = "customer_id") -> pd.Series:
    """The ids longer than PostgreSQL's btree entry limit (before its compression)."""
    ids = conformed[key].astype(str)
    return ids[ids.map(lambda s: len(s.encode("utf-8"))) > PG_MAX_KEY_BYTES]


def unindexable_keys(conn, conformed: pd.DataFrame, key: str = "customer_id") -> list[str]:
    """The ids PostgreSQL's primary-key index would refuse, found before anything is written.

    Only ids longer than the btree limit *before* compression (:func:`long_keys`, usually none) can
    fail, so only those are tried, one savepoint each, in a temporary table of a transaction that is
    rolled back. Returns ``[]`` for other databases.
    """
    import sqlalchemy as sa

    if conn.dialect.name != "postgresql":
        return []
    candidates = list(long_keys(conformed, key))
    if not candidates:
        return []
    refused = []
    with conn.begin() as transaction:
        conn.execute(sa.text("CREATE TEMPORARY TABLE clvmodels_key_probe (k text PRIMARY KEY) ON COMMIT DROP"))
        for value in candidates:
            savepoint = conn.begin_nested()
            try:
                conn.execute(sa.text("INSERT INTO clvmodels_key_probe (k) VALUES (:k)"), {"k": value})
                savepoint.rollback()  # keep the probe table empty: duplicates are not the question here
            except sa.exc.DBAPIError as exc:
                savepoint.rollback()
                if getattr(exc.orig, "sqlstate", None) != "54000":  # program_limit_exceeded
                    raise
                refused.append(value)
        transaction.rollback()
    return refused


# ----- errors ------------------------------------------------------------------------------------
def _cause(exc) -> str:
    orig = getattr(exc, "orig", None) or exc
    lines = [line for line in str(orig).strip().splitlines() if line.strip()]
    return lines[0] if lines else type(orig).__name__


def database_error(exc, target: SqlTarget, doing: str, long_ids=None, writing: bool = True) -> ExportError:
    """An :class:`ExportError` for a driver error while ``doing`` something (raise it ``from exc``)."""
    cause = _cause(exc)
    orig = getattr(exc, "orig", None)
    sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    hint = ""
    if sqlstate == "54000" and long_ids is not None and len(long_ids):
        examples = ", ".join(f"{i[:16]!r}... ({len(i.encode('utf-8')):,} bytes)" for i in list(long_ids)[:3])
        hint = (f"; PostgreSQL indexes a customer id in at most {PG_MAX_KEY_BYTES:,} bytes (after its compression) "
                f"and {len(long_ids):,} {'id is' if len(long_ids) == 1 else 'ids are'} longer (e.g. {examples}): "
                "shorten or hash those ids")
    elif "database is locked" in cause:
        hint = "; another process is writing to this SQLite database: retry when it has finished"
    elif (sqlstate or "").startswith("08") or "connect" in cause.lower():
        hint = "; check that the server runs, and the host, port, user and password of the URL"
    tail = "; nothing was written" if writing else ""
    return ExportError(f"cannot {doing} {target.label}: {cause}{hint}{tail}", target=target.label)
