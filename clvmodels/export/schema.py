"""The CRM export schema: one row per customer, stable typed columns, kept in this one place.

:data:`EXPORT_COLUMNS` is the column table (name, type, meaning). Everything else derives from it:
the README table (:func:`schema_markdown`), the pandas typing of an export frame
(:func:`conform`), the Parquet schema (:func:`arrow_schema`) and the SQL table
(:mod:`clvmodels.export.sql`). Names are lower snake case; :func:`check_field_mapping` renames
them to a CRM's own field names (a dict, or a TOML table read by :func:`load_field_mapping`).

Every column is always present, in this order, so a sync tool sees the same table on every run;
a quantity that was not computed (e.g. no spend model) is null.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from clvmodels.errors import DataError, describe_rows

#: logical column types -> pandas dtype of a conformed export frame
PANDAS_DTYPES = {
    "text": "string",
    "date": "datetime64[s]",
    "integer": "Int64",
    "float": "float64",
    "boolean": "boolean",
}

KEY = "customer_id"


@dataclass(frozen=True)
class ExportColumn:
    """One column of the export: its name, logical type and what it means."""

    name: str
    type: str  # one of PANDAS_DTYPES
    meaning: str
    run_level: bool = False  # the same for every row; filled from the run metadata


def _interval(name: str, type_: str, meaning: str) -> list[ExportColumn]:
    return [
        ExportColumn(name, type_, meaning),
        ExportColumn(f"{name}_lower", type_, f"lower bound of the interval of `{name}` (see `interval_level`)"),
        ExportColumn(f"{name}_upper", type_, f"upper bound of the interval of `{name}`"),
    ]


EXPORT_COLUMNS: tuple[ExportColumn, ...] = (
    ExportColumn(KEY, "text", "customer id, the key: unique and never empty"),
    ExportColumn("snapshot_date", "date", "observation end of the data the scores describe", True),
    ExportColumn("run_id", "text", "model run that last wrote this row (see table `clv_model_runs`)", True),
    ExportColumn("time_unit", "text", "unit of `recency`, `tenure` and `horizon`: D, W, M or Y", True),
    ExportColumn("horizon", "float", "prediction horizon, in `time_unit`s after `snapshot_date`", True),
    ExportColumn("interval_level", "float", "coverage of every `_lower`/`_upper` pair (e.g. 0.9)", True),
    ExportColumn("currency", "text", "currency of every money column (e.g. USD)", True),
    ExportColumn("frequency", "integer", "repeat purchases so far (purchase days after the first)"),
    ExportColumn("recency", "float", "time from first to last purchase"),
    ExportColumn("tenure", "float", "time from first purchase to `snapshot_date` (the models' T)"),
    ExportColumn("monetary_value", "float", "mean value of the repeat purchases (0 without repeats)"),
    ExportColumn("revenue_to_date", "float", "revenue of every purchase so far, the first included"),
    ExportColumn("last_purchase_date", "date", "date of the last purchase"),
    ExportColumn("p_alive", "float", "probability that the customer is still active at `snapshot_date`"),
    ExportColumn("churn_probability", "float", "probability that the customer has dropped out by the end of the horizon "
                 "(as `churn_probability` of the predictions; churn by `snapshot_date` is 1 - `p_alive`)"),
    *_interval("expected_purchases", "float", "expected number of purchases within the horizon"),
    ExportColumn("expected_spend", "float", "expected value of one future purchase"),
    *_interval("future_margin", "float", "expected discounted margin within the horizon (cost to serve deducted)"),
    ExportColumn("realised_margin", "float", "margin of the purchases so far (every purchase, the first included, "
                 "unless the run's economics exclude it)"),
    *_interval("clv", "float", "`realised_margin` + `future_margin`"),
    ExportColumn("acquisition_cost", "float", "what acquiring the customer cost"),
    *_interval("net_value", "float", "the customer's own value: `clv` - `acquisition_cost` (summed over customers, "
               "every margin counts once)"),
    ExportColumn("referral_credit", "float", "referral attribution: the share of the `clv` of the customers this one "
                 "referred (moved from them, not added: see `attributed_net_value`)"),
    ExportColumn("attributed_net_value", "float", "`net_value` + `referral_credit` - the share of this customer's "
                 "`clv` credited to their referrer; sums to the same total as `net_value`"),
    ExportColumn("future_referral_value", "float", "expected discounted value of the customers this one will refer "
                 "within the horizon (not yet customers, so in no `net_value`)"),
    *_interval("future_value", "float", "what is still to come: `future_margin` + `future_referral_value`"),
    ExportColumn("value_decile", "integer", "decile of `future_value`, 1 = the top 10% (rank on what is still to "
                 "come, not on past spend)"),
    ExportColumn("value_segment", "text", "value band: top (decile 1), high (2-3), medium (4-7), low (8-10)"),
    ExportColumn("reactivation_target", "boolean", "true if the customer is on the win-back list"),
    ExportColumn("reactivation_rank", "integer", "rank on the win-back list, 1 = contact first; empty if not a target"),
    ExportColumn("reactivation_expected_value", "float", "expected incremental value of a win-back contact: uplift x "
                 "(value if the customer buys in the response window - value if not) - contact cost"),
    # contractual (subscription) runs, `clvmodels subscriptions` (docs/contractual_value.md); null otherwise.
    # They share realised_margin, future_margin, clv, acquisition_cost and net_value above, with
    # payment at the start of each billing period and future_margin over the whole remaining lifetime.
    ExportColumn("renewals", "integer", "subscriptions: renewals made so far (periods paid - 1)"),
    ExportColumn("subscribed", "boolean", "subscriptions: still subscribed at `snapshot_date`"),
    ExportColumn("p_still_subscribed", "float", "subscriptions: probability of making the next renewal (0 once left)"),
    ExportColumn("expected_renewals", "float", "subscriptions: expected future renewals, each discounted by its "
                 "periods ahead"),
    ExportColumn("margin_per_period", "float", "subscriptions: price x margin of one payment"),
    ExportColumn("ltv_cac", "float", "subscriptions: `clv` / `acquisition_cost` (empty when the cost is 0)"),
    ExportColumn("payback_periods", "float", "subscriptions: payments whose margin first covers `acquisition_cost`"),
    ExportColumn("paid_back", "boolean", "subscriptions: `realised_margin` already covers `acquisition_cost`"),
)

COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in EXPORT_COLUMNS)
_BY_NAME = {c.name: c for c in EXPORT_COLUMNS}
RUN_LEVEL_COLUMNS: tuple[str, ...] = tuple(c.name for c in EXPORT_COLUMNS if c.run_level)


def column(name: str) -> ExportColumn:
    """The schema entry of a column (a :class:`DataError` lists the valid names)."""
    if name not in _BY_NAME:
        raise DataError(f"{name!r} is not an export column; columns are {list(COLUMN_NAMES)}")
    return _BY_NAME[name]


def schema_markdown(field_mapping: dict | None = None) -> str:
    """The column table as Markdown (for the README), with a CRM field column when mapped.

    Parameters
    ----------
    field_mapping : dict of str to str, optional
        Schema column -> CRM field name (see :func:`check_field_mapping`).

    Returns
    -------
    str
        One Markdown table row per export column: name, type, meaning (and CRM field).
    """
    mapping = check_field_mapping(field_mapping)
    head = ["column", "type", "meaning"] + (["CRM field"] if mapping else [])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for c in EXPORT_COLUMNS:
        cells = [f"`{c.name}`", c.type, c.meaning.replace("|", "\\|")]
        if mapping:
            cells.append(f"`{mapping[c.name]}`")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


# ----- CRM field names ---------------------------------------------------------------------------
def check_field_mapping(mapping: dict | None) -> dict[str, str]:
    """Complete a {schema column: CRM field name} mapping (unmapped columns keep their name).

    Parameters
    ----------
    mapping : dict of str to str or None
        Schema column -> CRM field name, for the columns to rename.

    Returns
    -------
    dict of str to str
        Every schema column -> its field name; empty when there is no mapping.

    Raises
    ------
    DataError
        For unknown columns, empty names or two columns mapped to one field.
    """
    if not mapping:
        return {}
    if not isinstance(mapping, dict):
        raise DataError(f"a field mapping must be a table of column = 'CRM field' pairs; got {type(mapping).__name__}")
    unknown = [k for k in mapping if k not in _BY_NAME]
    if unknown:
        raise DataError(f"the field mapping names unknown columns {unknown}; export columns are {list(COLUMN_NAMES)}")
    bad = [k for k, v in mapping.items() if not isinstance(v, str) or not v.strip()]
    if bad:
        raise DataError(f"the field mapping gives no usable (non-empty text) name for {bad}")
    full = {name: mapping.get(name, name) for name in COLUMN_NAMES}
    targets = pd.Series(list(full.values()))
    clashes = sorted(set(targets[targets.duplicated()]))
    if clashes:
        raise DataError(f"the field mapping gives several columns the same name: {clashes}; names must be unique")
    return full


def load_field_mapping(path, section: str | None = "fields") -> dict[str, str]:
    """Read a field mapping from a TOML file: the ``[fields]`` table (or the top level if absent).

    Parameters
    ----------
    path : path-like
        The TOML file.
    section : str or None, default "fields"
        Table holding the mapping; None for the top level.

    Returns
    -------
    dict of str to str
        As :func:`check_field_mapping` returns it.

    Example file::

        [fields]
        customer_id = "Contact_External_Id__c"
        p_alive = "CLV_P_Alive__c"
    """
    try:
        doc = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DataError(f"cannot read the field mapping {str(path)!r}: {exc}") from None
    table = doc.get(section, doc) if section else doc
    return check_field_mapping(table)


def rename_fields(frame: pd.DataFrame, field_mapping: dict | None) -> pd.DataFrame:
    """Rename a conformed frame's columns to the CRM's field names."""
    mapping = check_field_mapping(field_mapping)
    return frame.rename(columns=mapping) if mapping else frame


# ----- conforming a frame to the schema ----------------------------------------------------------
def _key_column(frame: pd.DataFrame) -> pd.Series:
    ids = frame[KEY] if KEY in frame.columns else pd.Series(frame.index, index=frame.index)
    ids = ids.reset_index(drop=True)
    text = ids.astype("string")
    missing = text.isna() | (text.str.strip() == "")
    if missing.any():
        raise DataError(
            f"the customer id is missing or empty in {describe_rows(np.flatnonzero(missing))} (row numbers); "
            "every exported row needs a unique customer id: drop or fill those rows"
        )
    duplicated = text.duplicated(keep=False)
    if duplicated.any():
        raise DataError(
            f"customer ids repeat: {describe_rows(pd.unique(text[duplicated]))}; the export has one row per "
            "customer, so aggregate to one row per id first (e.g. with clvmodels.rfm_summary)"
        )
    return text


def _typed(values: pd.Series, col: ExportColumn) -> pd.Series:
    dtype = PANDAS_DTYPES[col.type]
    try:
        if col.type == "date":
            parsed = pd.to_datetime(values, errors="raise")
            if getattr(parsed.dt, "tz", None) is not None:
                parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
            return parsed.dt.normalize().astype(dtype)
        if col.type == "integer":
            numbers = pd.to_numeric(values, errors="raise")
            fractional = numbers.notna() & (numbers != np.round(numbers))
            if fractional.any():
                raise ValueError(f"{int(fractional.sum())} values are not whole numbers")
            return numbers.astype(dtype)
        if col.type == "float":
            return pd.to_numeric(values, errors="raise").astype(dtype)
        return values.astype(dtype)
    except (ValueError, TypeError) as exc:
        raise DataError(
            f"export column {col.name!r} must hold {col.type} values but cannot be read as such ({exc}); "
            f"fix the values (e.g. {list(values.dropna().head(3))})"
        ) from None


def conform(frame: pd.DataFrame, run_values: dict | None = None) -> pd.DataFrame:
    """Return the export frame: every schema column in order, typed, with a valid key.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per customer; the id is the ``customer_id`` column or else the index. Other columns
        must be schema columns (missing ones become null).
    run_values : dict, optional
        Values of run-level columns (``snapshot_date``, ``run_id``, ...) used where the frame has none,
        e.g. :meth:`clvmodels.export.runmeta.RunInfo.column_values`.

    Returns
    -------
    pandas.DataFrame
        A new frame with a default RangeIndex; conforming it again returns an equal frame.
    """
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"the export needs a pandas DataFrame; got {type(frame).__name__}")
    unknown = [c for c in frame.columns if c not in _BY_NAME]
    if unknown:
        raise DataError(
            f"columns {unknown} are not part of the export schema; rename them to schema columns or "
            f"drop them (schema: {list(COLUMN_NAMES)})"
        )
    run_values = dict(run_values or {})
    unknown_run = [k for k in run_values if k not in RUN_LEVEL_COLUMNS]
    if unknown_run:
        raise DataError(f"{unknown_run} are not run-level export columns ({list(RUN_LEVEL_COLUMNS)})")
    n = len(frame)
    out = {KEY: _key_column(frame)}
    source = frame.reset_index(drop=True)
    for col in EXPORT_COLUMNS[1:]:
        if col.name in source.columns:
            values = source[col.name]
        else:
            values = pd.Series([run_values.get(col.name)] * n, dtype=object)
        if col.type == "date" or values.notna().any():
            out[col.name] = _typed(values, col)
        else:  # all null: no value to parse, just the right type
            out[col.name] = pd.Series([None] * n, dtype=object).astype(PANDAS_DTYPES[col.type])
    return pd.DataFrame(out, columns=list(COLUMN_NAMES))


def arrow_schema():
    """The Parquet (Arrow) schema of the export, from the column table."""
    import pyarrow as pa

    types = {"text": pa.string(), "date": pa.date32(), "integer": pa.int64(), "float": pa.float64(),
             "boolean": pa.bool_()}
    return pa.schema([pa.field(c.name, types[c.type], nullable=c.name != KEY) for c in EXPORT_COLUMNS])
