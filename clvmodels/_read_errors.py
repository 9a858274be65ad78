"""Short words for the errors DuckDB and pyarrow raise on a file they cannot read.

A latin-1 CSV, binary garbage named ``.csv`` or a truncated Parquet file makes DuckDB raise up to
2,000 characters of parser diagnostics. The data layer turns the ones it knows into a
:class:`~clvmodels.errors.DataError` naming the file; this module is the safety net for the
rest (used by :func:`clvmodels.pipeline.summarise` and the command line): it recognises a
*reading* failure by its exception type and says in one clause what is wrong with the file.

Errors that are not about reading input (a DuckDB binder error, say: a bug) are not recognised,
so they still surface as internal errors. Only the standard library is imported.
"""

from __future__ import annotations

import re

#: exception class names (DuckDB's and pyarrow's) that mean "this input cannot be read"
READ_ERROR_TYPES = {
    "_duckdb": {"InvalidInputException", "IOException", "ConversionException", "HTTPException"},
    "duckdb": {"InvalidInputException", "IOException", "ConversionException", "HTTPException"},
    "pyarrow": {"ArrowInvalid", "ArrowIOError", "ArrowTypeError", "ArrowNotImplementedError"},
}

#: (pattern in the library's message, what it means for the user); first match wins
PROBLEMS = (
    (r"not utf-8 encoded|invalid unicode|can't decode byte|codec can't decode",
     "it is not UTF-8 text; save it as UTF-8 (e.g. iconv -f latin1 -t utf-8 FILE)"),
    (r"sniffing file|detect the csv parsing dialect",
     "it is not a readable CSV file (no consistent delimiter and columns); is it CSV text?"),
    (r"magic bytes|too small to be a parquet file|parquet file size is 0|invalid parquet|"
     r"couldn't deserialize thrift|corrupt",
     "it is not a complete Parquet file (truncated, empty or not Parquet)"),
    (r"maximum line size|unterminated quote|quote should be followed",
     "it is not well-formed CSV (an unterminated quote or an over-long line)"),
    (r"expected \d+ values per row|too many columns|not enough columns",
     "its rows do not all have the same number of columns"),
)


def is_read_error(exc: BaseException) -> bool:
    """True for a DuckDB/pyarrow exception that means the input cannot be read, or a
    UnicodeDecodeError."""
    if isinstance(exc, UnicodeDecodeError):
        return True
    package = type(exc).__module__.split(".")[0]
    return type(exc).__name__ in READ_ERROR_TYPES.get(package, ())


def find_read_error(exc: BaseException | None) -> BaseException | None:
    """The first read error in ``exc`` and its chain of causes (``__cause__``, ``__context__``)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if is_read_error(exc):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None


def read_problem(exc: BaseException, limit: int = 160) -> str:
    """One clause saying what is wrong with the input, from a read error's message."""
    message = str(exc)
    for pattern, meaning in PROBLEMS:
        if re.search(pattern, message, flags=re.IGNORECASE):
            return meaning
    first = next((line.strip() for line in message.splitlines() if line.strip()), type(exc).__name__)
    first = re.sub(r"^(Invalid Input Error|IO Error|Conversion Error|Invalid Error):\s*", "", first)
    return first if len(first) <= limit else first[: limit - 3] + "..."


def file_named_in(exc: BaseException) -> str | None:
    """The file a DuckDB/pyarrow message names (``file 'x'``, ``source 'x'``), if any."""
    match = re.search(r"(?:file|source)\s+['\"]([^'\"]+)['\"]", str(exc), flags=re.IGNORECASE)
    return match.group(1) if match else None
