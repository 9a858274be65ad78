"""Atomic CSV and Parquet writers for the export frame.

Both write to a temporary file in the target's directory and then ``os.replace`` it over the
target, which is atomic on POSIX and Windows within one file system: a reader sees either the
previous file or the complete new one, never a partial one, even if the process is killed. On any
error the temporary file is removed and the previous file is left as it was.

CSV: UTF-8 without BOM, header row, no index, ``\\n`` line ends, ISO dates (YYYY-MM-DD), ``true``/
``false`` booleans, an empty field for null, fields quoted only when needed (commas, quotes, line
breaks). Parquet: the types of :func:`clvmodels.export.schema.arrow_schema` and the run metadata
as JSON under the key ``clvmodels.run`` of the file's key-value metadata.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from clvmodels.errors import DataError
from clvmodels.export import schema
from clvmodels.export.runmeta import PARQUET_KEY, RunInfo


def _default_file_mode() -> int:
    # mkstemp creates 0600 files; give the final file the permissions a plain open() would
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write(path, write: Callable[[str], None]) -> Path:
    """Call ``write(tmp_path)`` on a temporary file beside ``path``, then rename it to ``path``.

    Returns the final path. The directory must exist; on any exception (or interrupt) the
    temporary file is removed and ``path`` is untouched.
    """
    path = Path(path)
    if not path.parent.is_dir():
        raise DataError(f"cannot write {str(path)!r}: the directory {str(path.parent)!r} does not exist; create it first")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb+") as fh:  # the data must be on disk before the rename makes it visible
            os.fsync(fh.fileno())
        os.chmod(tmp, _default_file_mode())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


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
    """
    conformed, mapping = _prepare(frame, run, field_mapping)
    out = csv_frame(conformed)
    if mapping:
        out = out.rename(columns=mapping)

    def write(tmp):
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            out.to_csv(fh, index=False, na_rep="", date_format="%Y-%m-%d", lineterminator="\n")

    return atomic_write(path, write)


def write_parquet(frame: pd.DataFrame, path, run: RunInfo | None = None, *,
                  field_mapping: dict | None = None) -> Path:
    """Write the export as Parquet atomically, with the run metadata in the key-value metadata.

    Parameters as :func:`write_csv`. The file is deterministic: the same frame and run give the
    same bytes.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    conformed, mapping = _prepare(frame, run, field_mapping)
    arrow = schema.arrow_schema()
    arrays = [pa.array(conformed[name], type=arrow.field(name).type, from_pandas=True) for name in arrow.names]
    metadata = {b"clvmodels.schema": b"export-v1"}
    if run is not None:
        metadata[PARQUET_KEY] = run.to_json().encode("utf-8")
    renamed = pa.schema([f.with_name(mapping.get(f.name, f.name)) for f in arrow], metadata=metadata)
    table = pa.Table.from_arrays(arrays, schema=renamed)
    return atomic_write(path, lambda tmp: pq.write_table(table, tmp))


def read_run_info(path) -> RunInfo | None:
    """The run metadata stored in a Parquet export (None if it has none)."""
    import pyarrow.parquet as pq

    try:
        metadata = pq.read_schema(path).metadata or {}
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read the Parquet file {str(path)!r}: {exc}") from None
    text = metadata.get(PARQUET_KEY)
    return None if text is None else RunInfo.from_json(text)
