"""CSV and Parquet writers for the export frame, written atomically through :mod:`.staging`.

Each file is written to a temporary name in the target's directory and then renamed over the
target (see :class:`clvmodels.export.staging.FileStage`): a reader sees either the previous file or
the complete new one, never a partial one, even if the process is killed; on any error the
temporary file is removed and the previous file is left as it was; temporary files of killed
writers are swept on the next write to the same target.

CSV: UTF-8 without BOM, header row, no index, ``\\n`` line ends, ISO dates (YYYY-MM-DD), ``true``/
``false`` booleans, an empty field for null, and a field is quoted exactly when it holds the
delimiter, a quote, ``\\n`` or ``\\r`` (a bare carriage return included, so no reader splits a row
on it). Parquet: the types of :func:`clvmodels.export.schema.arrow_schema` and the run metadata as
JSON under the key ``clvmodels.run`` of the file's key-value metadata.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from clvmodels.errors import DataError
from clvmodels.export import schema
from clvmodels.export.runmeta import PARQUET_KEY, RunInfo
from clvmodels.export.staging import atomic_write  # also used by the CLI for its own files


class _RowEnds:
    """A text file whose rows end in ``\\n`` although the csv writer ends them in ``\\r\\n``.

    Python's csv module quotes a field when it holds a character of the line terminator; with
    ``\\n`` alone a bare ``\\r`` stays unquoted and splits the row for most readers. Writing with
    ``\\r\\n`` makes it quote both, and this wrapper turns each row's terminator (the csv writer
    writes one row per call) back into ``\\n``; ``\\r\\n`` inside quoted fields is left alone.
    """

    def __init__(self, fh):
        self._fh = fh

    def write(self, text: str) -> int:
        if text.endswith("\r\n"):
            text = text[:-2] + "\n"
        return self._fh.write(text)


def csv_writer(frame: pd.DataFrame, **to_csv) -> Callable[[str], None]:
    """A ``write(path)`` that writes ``frame.to_csv(**to_csv)`` with the quoting rule of this module.

    Parameters
    ----------
    frame : pandas.DataFrame
        What to write.
    **to_csv
        :meth:`pandas.DataFrame.to_csv` options (``index``, ``index_label``, ``na_rep``,
        ``date_format``); the line terminator (CRLF) and the quoting are fixed here.

    Returns
    -------
    callable
        ``write(path)``, for :func:`clvmodels.export.staging.atomic_write`.
    """
    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            frame.to_csv(_RowEnds(fh), lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL, **to_csv)

    return write


def _prepare(frame: pd.DataFrame, run: RunInfo | None, field_mapping) -> tuple[pd.DataFrame, dict]:
    mapping = schema.check_field_mapping(field_mapping)  # validate before anything is written
    conformed = schema.conform(frame, run.column_values() if run is not None else None)
    return conformed, mapping


def csv_frame(conformed: pd.DataFrame) -> pd.DataFrame:
    """A conformed frame with booleans as ``true``/``false`` text, ready for ``to_csv``."""
    out = conformed.copy()
    for col in schema.EXPORT_COLUMNS:
        if col.type == "boolean":
            out[col.name] = out[col.name].map({True: "true", False: "false"}, na_action="ignore").astype(object)
    return out


def csv_export_writer(conformed: pd.DataFrame, mapping: dict) -> Callable[[str], None]:
    """``write(path)`` for the CSV export of a conformed frame (headers renamed by ``mapping``)."""
    out = csv_frame(conformed)
    if mapping:
        out = out.rename(columns=mapping)
    return csv_writer(out, index=False, na_rep="", date_format="%Y-%m-%d")


def parquet_export_writer(conformed: pd.DataFrame, mapping: dict, run: RunInfo | None) -> Callable[[str], None]:
    """``write(path)`` for the Parquet export of a conformed frame, with the run metadata."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrow = schema.arrow_schema()
    arrays = [pa.array(conformed[name], type=arrow.field(name).type, from_pandas=True) for name in arrow.names]
    metadata = {b"clvmodels.schema": b"export-v1"}
    if run is not None:
        metadata[PARQUET_KEY] = run.to_json().encode("utf-8")
    renamed = pa.schema([f.with_name(mapping.get(f.name, f.name)) for f in arrow], metadata=metadata)
    table = pa.Table.from_arrays(arrays, schema=renamed)
    return lambda tmp: pq.write_table(table, tmp)


def write_csv(frame: pd.DataFrame, path, run: RunInfo | None = None, *, field_mapping: dict | None = None) -> Path:
    """Write the export as CSV atomically; returns the path.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per customer with schema columns (see :func:`clvmodels.export.schema.conform`).
    path : path-like
        Target file; its directory must exist.
    run : RunInfo, optional
        Fills the run-level columns (run id, snapshot date, ...).
    field_mapping : dict, optional
        Schema column -> CRM field name for the header.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    DataError
        If the frame does not fit the schema or the mapping is invalid (nothing is written).
    """
    conformed, mapping = _prepare(frame, run, field_mapping)
    return atomic_write(path, csv_export_writer(conformed, mapping))


def write_parquet(frame: pd.DataFrame, path, run: RunInfo | None = None, *,
                  field_mapping: dict | None = None) -> Path:
    """Write the export as Parquet atomically, with the run metadata in the key-value metadata.

    The file is deterministic: the same frame and run give the same bytes.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per customer with schema columns (see :func:`clvmodels.export.schema.conform`).
    path : path-like
        Target file; its directory must exist.
    run : RunInfo, optional
        Fills the run-level columns and is stored in the file (:func:`read_run_info`).
    field_mapping : dict, optional
        Schema column -> CRM field name.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    DataError
        If the frame does not fit the schema or the mapping is invalid (nothing is written).
    """
    conformed, mapping = _prepare(frame, run, field_mapping)
    return atomic_write(path, parquet_export_writer(conformed, mapping, run))


def read_run_info(path) -> RunInfo | None:
    """The run metadata stored in a Parquet export.

    Parameters
    ----------
    path : path-like
        A Parquet file written by :func:`write_parquet`.

    Returns
    -------
    RunInfo or None
        The run metadata, or None if the file has none.

    Raises
    ------
    DataError
        If the file cannot be read as Parquet.
    """
    import pyarrow.parquet as pq

    try:
        metadata = pq.read_schema(path).metadata or {}
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read the Parquet file {str(path)!r}: {exc}") from None
    text = metadata.get(PARQUET_KEY)
    return None if text is None else RunInfo.from_json(text)
