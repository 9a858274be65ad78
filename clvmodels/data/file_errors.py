"""Transaction files that cannot be read: refused in one line naming the file, the problem and what
to do, never with DuckDB's raw text (that stays available as the error's ``__cause__``).

:func:`check_files` looks at each file's size and first and last bytes before DuckDB opens it
(empty files, binary data or Parquet named ``.csv``, UTF-16 text, Parquet without its footer);
:func:`translating_read_errors` turns what DuckDB finds later (text that is not UTF-8 deep in a
file, a corrupt Parquet page, a CSV whose dialect cannot be detected) into the same kind of line.
"""

from __future__ import annotations

import contextlib
import os
import re

from clvmodels.errors import DataError

PARQUET_MAGIC = b"PAR1"
#: Bytes looked at for the signs of a binary file; the rest is left to DuckDB.
HEAD_BYTES = 65536
_COMPRESSED = (".gz", ".zst")


def _save_utf8(encoding: str = "latin-1") -> str:
    return (f"re-save it as UTF-8 (e.g. pandas.read_csv(path, encoding={encoding!r})"
            ".to_csv(new_path, index=False))")


def _name(path: str) -> str:
    return repr(os.fspath(path))


def check_files(paths: list[str], kind: str) -> None:
    """Refuse a file that is empty, or plainly not CSV text / not a complete Parquet file."""
    for path in paths:
        size = os.path.getsize(path)
        if size == 0:
            raise DataError(f"transaction file {_name(path)} is empty (0 bytes); check that the "
                            "export finished, or leave the file out")
        with open(path, "rb") as handle:
            head = handle.read(HEAD_BYTES)
            if kind == "parquet":
                handle.seek(max(size - len(PARQUET_MAGIC), 0))
                tail = handle.read()
        if kind == "parquet":
            _check_parquet(path, size, head, tail)
        elif not path.lower().endswith(_COMPRESSED):
            _check_text(path, head)


def _check_parquet(path: str, size: int, head: bytes, tail: bytes) -> None:
    if not head.startswith(PARQUET_MAGIC):
        raise DataError(f"transaction file {_name(path)} is not a Parquet file (it does not start "
                        "with the Parquet signature 'PAR1'); re-export it as Parquet, or name a "
                        "CSV file .csv")
    if size < 2 * len(PARQUET_MAGIC) + 4 or tail != PARQUET_MAGIC:
        raise DataError(f"transaction file {_name(path)} is a truncated Parquet file (its footer "
                        f"is missing; {size:,} bytes); re-export or re-copy it")


def _check_text(path: str, head: bytes) -> None:
    if head.startswith(PARQUET_MAGIC):
        raise DataError(f"transaction file {_name(path)} is a Parquet file with a CSV name; "
                        "rename it to .parquet")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DataError(f"transaction file {_name(path)} is UTF-16 text; {_save_utf8('utf-16')}")
    if b"\0" in head:
        raise DataError(f"transaction file {_name(path)} is binary data, not CSV text; pass the "
                        "CSV export itself (or a Parquet file named .parquet)")


@contextlib.contextmanager
def translating_read_errors(paths: list[str], kind: str):
    """Turn DuckDB's complaint about the content of ``paths`` into a one-line :class:`DataError`.

    Errors of the SQL itself (binding, parsing: faults of the package) and running out of memory
    are not about the files and are left as they are.
    """
    import duckdb

    not_the_files = (duckdb.BinderException, duckdb.CatalogException, duckdb.ParserException,
                     duckdb.SyntaxException, duckdb.OutOfMemoryException)
    try:
        yield
    except not_the_files:
        raise
    except duckdb.Error as err:
        raise DataError(_explain(str(err), paths, kind)) from err


def _explain(text: str, paths: list[str], kind: str) -> str:
    named = [p for p in paths if p in text or os.path.basename(p) in text]
    where = (f"transaction file {_name(named[0])}" if named else
             f"transaction file {_name(paths[0])}" if len(paths) == 1 else
             f"one of the transaction files {[os.fspath(p) for p in paths[:3]]}"
             + (" ..." if len(paths) > 3 else ""))
    line = re.search(r"Line: (\d+)", text)
    at = f" (line {int(line.group(1)):,})" if line else ""
    if "Invalid unicode" in text or "not utf-8" in text.lower():
        return f"{where} is not UTF-8 text{at}; {_save_utf8()}"
    if "sniffing" in text or "parsing dialect" in text:
        return (f"{where} cannot be read as CSV (no consistent delimiter and quoting); check that "
                "it is comma-, semicolon-, tab- or pipe-separated text with a header row")
    if "Expected Number of Columns" in text or "too many columns" in text.lower():
        return (f"{where} has rows with a different number of fields than its header{at}; check "
                "the delimiter and the quoting of values holding it")
    convert = re.search(r'converting column "([^"]*)"\. Could not convert string "([^"]*)" to '
                        r"'([^']*)'", text)
    if convert:
        column, value, type_name = convert.groups()
        return (f"{where}: column {column!r} holds {value!r}{at}, but its first rows make it "
                f"{type_name}; make the column's values consistent (e.g. all numbers or all text)")
    if kind == "parquet":
        return (f"{where} is a corrupt Parquet file ({_first_line(text)}); re-export or re-copy it")
    return f"{where} cannot be read ({_first_line(text)}); check that it is a complete {kind} file"


def _first_line(text: str, limit: int = 160) -> str:
    first = text.strip().splitlines()[0] if text.strip() else "unknown error"
    first = re.sub(r"^[A-Za-z ]+Error: ", "", first)
    return first if len(first) <= limit else first[: limit - 3] + "..."


def no_rows_message(paths: list[str], kind: str) -> str:
    """The refusal of files that hold no rows (a CSV with a header only, an empty Parquet)."""
    what = "a header but no rows" if kind == "csv" else "no rows"
    if len(paths) == 1:
        return (f"transaction file {_name(paths[0])} has {what}; there is nothing to summarise")
    shown = [os.fspath(p) for p in paths[:3]] + (["..."] if len(paths) > 3 else [])
    return f"the transaction files {shown} hold no rows; there is nothing to summarise"
