"""Reading and validating a transaction log: the boundary of the data step.

A transaction log has one row per purchase: a customer id, a timestamp, optionally an amount and
customer attributes. It is a pandas DataFrame, or a path, glob or list of paths to CSV or Parquet
files. This module checks it and turns it into the relation the aggregation
(:mod:`clvmodels.data.sql`) reads::

    customer_id | day (days since 1970-01-01, UTC date) | amount_micro (amount in millionths) | attr_0 ...

DataFrames are checked and normalised in pandas (:func:`normalise_frame`); files are read, checked
and normalised inside DuckDB (:func:`register_files`), so they are never loaded whole into memory.

Why whole days and integer micro-units: equal histories then give bit-identical summary rows, and
every sum is exact and independent of row order (float sums are not), so the pandas and DuckDB
engines agree to the last bit. Amounts are therefore rounded to 1e-6 before summing.

Every problem found is collected and reported in one :class:`~clvmodels.errors.DataError` naming
the problem, how many rows, a few example customer ids and what to do.
"""

from __future__ import annotations

import glob
import os
import re
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from clvmodels.data import sql
from clvmodels.errors import DataError, check_choice

RETURNS_POLICIES = ("refuse", "net", "drop")
ZERO_AMOUNT_POLICIES = ("refuse", "keep", "drop")
#: An amount this small rounds to zero micro-units: it counts as a zero amount.
ZERO_AMOUNT_BELOW = 0.5 / sql.AMOUNT_SCALE
LATE_PURCHASE_POLICIES = ("refuse", "drop")
#: Amounts at or above this are refused: their sums in micro-units could overflow int64.
MAX_AMOUNT = 1e12
N_EXAMPLES = 5
AMOUNT_CHECKS = ("bad_amount", "missing_amount", "inf_amount", "zero_amount", "huge_amount",
                 "negative_amount")
#: A timestamp string that ends in a UTC offset or zone after a clock time is time-zone aware.
UTC_OFFSET_PATTERN = r"\d:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:[Zz]|UTC|GMT|[+-]\d{2}(?::?\d{2})?)$"
PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")
CSV_SUFFIXES = (".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz", ".txt.gz", ".csv.zst")


@dataclass(frozen=True)
class LogSpec:
    """How to read a transaction log: column names, timestamp format and policies."""

    customer_id_col: str = "customer_id"
    datetime_col: str = "date"
    monetary_value_col: str | None = None
    datetime_format: str | None = None
    attribute_cols: tuple[str, ...] = ()
    returns: str = "refuse"
    late_purchases: str = "refuse"
    zero_amounts: str = "refuse"

    def __post_init__(self):
        check_choice("returns", self.returns, RETURNS_POLICIES)
        check_choice("zero_amounts", self.zero_amounts, ZERO_AMOUNT_POLICIES)
        check_choice("late_purchases", self.late_purchases, LATE_PURCHASE_POLICIES)
        named = [self.customer_id_col, self.datetime_col, self.monetary_value_col]
        reused = [c for c in self.attribute_cols if c in named]
        if reused or len(set(self.attribute_cols)) < len(self.attribute_cols):
            raise DataError(
                f"attribute_cols {list(self.attribute_cols)} repeat a column or name the id, "
                f"timestamp or amount column ({reused}); list each customer attribute once"
            )
        if self.customer_id_col == self.datetime_col:
            raise DataError("customer_id_col and datetime_col name the same column")

    @property
    def columns(self) -> list[str]:
        """Every column the log must have."""
        amount = [self.monetary_value_col] if self.monetary_value_col else []
        return [self.customer_id_col, self.datetime_col, *amount, *self.attribute_cols]


@dataclass(frozen=True)
class Window:
    """The resolved observation window, in days since 1970-01-01."""

    first_day: int  # first purchase in the log
    end_day: int  # observation end (holdout end for a calibration/holdout split)
    calibration_day: int  # calibration end; equals end_day without a holdout


@dataclass
class CustomerKeys:
    """Customer ids as int64 keys >= 0 that sort like the ids.

    Integer ids are keyed as ``id - min(id)`` when the keys stay small (no hashing needed);
    other ids are numbered in sorted order by ``pandas.factorize`` (first-appearance order when
    the ids do not sort, e.g. mixed types).
    """

    keys: np.ndarray  # one per row
    uniques: pd.Index | None  # factorized ids, indexed by key; None for offset integer keys
    offset: int = 0
    dtype: object = None

    @classmethod
    def of(cls, ids: pd.Series, n_days: int) -> CustomerKeys:
        integer = pd.api.types.is_integer_dtype(ids.dtype)
        numpy_dtype = np.dtype(getattr(ids.dtype, "numpy_dtype", ids.dtype)) if integer else None
        if integer and (numpy_dtype.kind == "i" or numpy_dtype.itemsize < 8) and len(ids):
            values = ids.to_numpy(np.int64)
            low, high = int(values.min()), int(values.max())
            if (high - low + 1) * n_days < 2**62:  # the aggregation's packed key cannot overflow
                return cls(values - low, None, low, ids.dtype)
        try:
            codes, uniques = pd.factorize(ids, sort=True)
        except TypeError:  # ids of mixed types do not sort
            codes, uniques = pd.factorize(ids)
        return cls(codes.astype(np.int64), pd.Index(uniques))

    def ids(self, keys: np.ndarray) -> pd.Index:
        """The customer ids of ``keys``."""
        if self.uniques is not None:
            return self.uniques.take(keys)
        return pd.Index(np.asarray(keys, np.int64) + self.offset).astype(self.dtype)


@dataclass
class NormalisedLog:
    """A checked DataFrame log as arrays, one entry per kept row; ids and attributes as codes."""

    customers: CustomerKeys
    day: np.ndarray  # int64 days since 1970-01-01
    amount_micro: np.ndarray  # int64 millionths of the amount (zeros without an amount column)
    attributes: list[np.ndarray]  # int64 codes, -1 where missing
    attribute_values: list[pd.Index]  # attribute_values[i][code] is the value of attribute i
    window: Window

    def to_frame(self) -> pd.DataFrame:
        """The relation :func:`clvmodels.data.sql.customer_totals_sql` reads (missing -> NULL)."""
        columns = {"customer_id": self.customers.keys, "day": self.day,
                   "amount_micro": self.amount_micro}
        for i, codes in enumerate(self.attributes):
            columns[f"attr_{i}"] = pd.arrays.IntegerArray(codes, codes < 0)
        return pd.DataFrame(columns, copy=False)


class RowLabel:
    """A row shown by its index label, for rows that have no customer id."""

    def __init__(self, label):
        self.label = label

    def __str__(self) -> str:
        return f"row {self.label!r}"


def count_rows(count: int, examples, noun: str = "row") -> str:
    """``"3 rows (e.g. 'a', 'b')"``: the offending row count with a few example ids."""
    noun = noun if count == 1 else noun + "s"
    shown = [repr(e) if isinstance(e, str) else str(e) for e in list(examples)[:N_EXAMPLES]]
    if not shown:
        return f"{count} {noun}"
    more = ", ..." if count > len(shown) else ""
    return f"{count} {noun} (e.g. {', '.join(shown)}{more})"


class Problems:
    """Collects everything wrong with a log so that one error lists it all."""

    def __init__(self):
        self.lines: list[str] = []

    def add(self, count: int, what: str, examples, hint: str, noun: str = "row") -> None:
        if count:
            self.lines.append(f"{what} in {count_rows(count, examples, noun)}. {hint}")

    def raise_if_any(self) -> None:
        if self.lines:
            raise DataError(
                "the transaction log cannot be summarised (nothing was computed):\n- "
                + "\n- ".join(self.lines)
            )


def row_checks(spec: LogSpec) -> dict[str, tuple[str, str]]:
    """Row-level problems: key -> (what is wrong, what to do). Engines supply one test per key."""
    ident, when, amount = spec.customer_id_col, spec.datetime_col, spec.monetary_value_col
    fmt_hint = (
        f"they do not match datetime_format={spec.datetime_format!r}; fix the format or the values"
        if spec.datetime_format
        else "pass datetime_format= with strftime codes (e.g. '%Y-%m-%d %H:%M', or '%Y%m%d' for "
        "19970101) or fix the values"
    )
    checks = {
        "null_id": (f"missing customer id (column {ident!r})", "Drop these rows or fill in the id."),
        "null_time": (f"missing timestamp (column {when!r})", "Drop these rows or fill in the time."),
        "bad_time": (f"timestamp that cannot be read (column {when!r})",
                     fmt_hint[0].upper() + fmt_hint[1:] + "."),
        "mixed_tz": (
            f"time-zone-aware and naive timestamps mixed (column {when!r}); the rarer kind is",
            "Give every timestamp a UTC offset (they are converted to UTC) or none.",
        ),
    }
    if amount:
        checks |= {
            "bad_amount": (f"non-numeric amount (column {amount!r})", "Fix or drop these rows."),
            "missing_amount": (f"missing amount (column {amount!r})", "Fill in or drop these rows."),
            "inf_amount": (f"infinite amount (column {amount!r})", "Fix or drop these rows."),
            "huge_amount": (
                f"amount of {MAX_AMOUNT:.0e} or more (column {amount!r})",
                "Rescale the amounts (e.g. to thousands).",
            ),
        }
        if spec.zero_amounts == "refuse":
            checks["zero_amount"] = (
                f"zero amount, or below one millionth (column {amount!r})",
                ("Pass zero_amounts='keep' to count them as purchases worth 0 (free items), or "
                 "zero_amounts='drop' to ignore them."),
            )
        if spec.returns == "refuse":
            checks["negative_amount"] = (
                f"negative amount, i.e. a return (column {amount!r})",
                ("Pass returns='net' to subtract returns from the same customer's purchases on "
                 "the same day (a day netting below zero, or to zero unless zero_amounts='keep', "
                 "is no purchase), or returns='drop' to ignore them."),
            )
    return checks


def late_purchase_problem(end_day: int) -> tuple[str, str]:
    return (
        f"purchase after the observation end {day_to_iso(end_day)}",
        "Pass late_purchases='drop' to ignore them, or a later observation_period_end.",
    )


def check_columns(available, spec: LogSpec, index_names=()) -> None:
    """Raise if a column the spec names is missing, saying which exist."""
    missing = [c for c in spec.columns if c not in list(available)]
    if not missing:
        return
    in_index = [c for c in missing if c in list(index_names)]
    hint = f" ({in_index} are in the index: call .reset_index() first)" if in_index else ""
    raise DataError(
        f"the transaction log lacks column(s) {missing}{hint}; it has {list(available)[:20]}. "
        "Pass customer_id_col=, datetime_col=, monetary_value_col= or attribute_cols= to name yours"
    )


# -- dates ------------------------------------------------------------------------------------

def day_to_iso(day: int) -> str:
    return str(np.datetime64(int(day), "D"))


def day_of(value, name: str, datetime_format: str | None = None) -> int:
    """A user-given date (string, date, datetime, Timestamp) as days since 1970-01-01 (UTC date)."""
    try:
        if isinstance(value, str) and datetime_format:
            stamp = pd.to_datetime(value, format=datetime_format)
        else:
            stamp = pd.Timestamp(value)
    except (ValueError, TypeError) as err:
        raise DataError(f"{name}={value!r} is not a date ({err}); pass e.g. '1997-09-30'") from None
    if pd.isna(stamp):
        raise DataError(f"{name} is missing; pass a date such as '1997-09-30'")
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return int(np.datetime64(stamp.date(), "D").astype(np.int64))


def resolve_window(first_day: int, last_day: int, spec_dates: dict, datetime_format) -> Window:
    """Check the user's observation (and calibration) end against the purchases.

    ``spec_dates`` holds ``observation_period_end`` (None: the last purchase day) and, for a
    calibration/holdout split, ``calibration_period_end``.
    """
    end = spec_dates.get("observation_period_end")
    end_day = last_day if end is None else day_of(end, "observation_period_end", datetime_format)
    if end_day < first_day:
        raise DataError(
            f"observation_period_end {day_to_iso(end_day)} is before every purchase (the first is on "
            f"{day_to_iso(first_day)}); pass a later date or leave it out to use the last purchase"
        )
    if "calibration_period_end" not in spec_dates:
        return Window(first_day, end_day, end_day)
    cal_day = day_of(spec_dates["calibration_period_end"], "calibration_period_end", datetime_format)
    if cal_day < first_day:
        raise DataError(
            f"calibration_period_end {day_to_iso(cal_day)} is before every purchase (the first is on "
            f"{day_to_iso(first_day)}); pass a later date"
        )
    if cal_day >= end_day:
        raise DataError(
            f"calibration_period_end {day_to_iso(cal_day)} must be before observation_period_end "
            f"{day_to_iso(end_day)} so that the holdout period is not empty"
        )
    return Window(first_day, end_day, cal_day)


# -- DataFrame logs ------------------------------------------------------------------------------

def _examples(ids: pd.Series, mask: np.ndarray) -> list:
    return list(pd.unique(ids[mask].dropna())[:N_EXAMPLES])


def _offset_flags(values: pd.Series) -> np.ndarray:
    """True where a (non-null) timestamp value carries a time zone or UTC offset."""
    if pd.api.types.infer_dtype(values, skipna=True) == "string":
        return values.astype(str).str.contains(UTC_OFFSET_PATTERN, regex=True).to_numpy(bool)
    regex = re.compile(UTC_OFFSET_PATTERN)
    return np.fromiter(
        (bool(regex.search(v)) if isinstance(v, str) else getattr(v, "tzinfo", None) is not None
         for v in values),
        dtype=bool, count=len(values),
    )


def _parse_text(values: pd.Series, fmt: str | None, utc: bool) -> pd.Series:
    """Parse non-null timestamp values; unreadable ones become NaT."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas warns when it cannot infer one format
        try:
            parsed = pd.to_datetime(values, format=fmt, errors="coerce", utc=utc)
        except (ValueError, TypeError):
            parsed = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us]")
        failed = parsed.isna().to_numpy()
        if failed.any() and fmt is None:
            # pandas infers one format from the first value; retry the rest value by value
            parsed[failed] = pd.to_datetime(values[failed], format="mixed", errors="coerce", utc=utc)
    return parsed.dt.tz_localize(None) if utc else parsed


def _timestamp_days(column: pd.Series, fmt: str | None) -> tuple[np.ndarray, dict]:
    """Days since 1970-01-01 (UTC date) per row, and masks of null, unreadable and mixed-zone rows."""
    n = len(column)
    null = column.isna().to_numpy()
    masks = {"null_time": null, "bad_time": np.zeros(n, bool), "mixed_tz": np.zeros(n, bool)}
    dtype = column.dtype
    if isinstance(dtype, pd.DatetimeTZDtype):
        parsed = column.dt.tz_convert("UTC").dt.tz_localize(None)
    elif pd.api.types.is_datetime64_dtype(dtype):
        parsed = column
    else:
        if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
            if fmt is None:
                raise DataError(
                    f"timestamps in column {column.name!r} are numbers; pass datetime_format= "
                    "(e.g. '%Y%m%d' for 19970101) or convert the column with pd.to_datetime first"
                )
            column = column.astype("Int64").astype("string")
        values = column[~null]
        aware = _offset_flags(values)
        n_aware = int(aware.sum())
        if 0 < n_aware < len(values):
            minority = aware if n_aware <= len(values) / 2 else ~aware
            masks["mixed_tz"][np.flatnonzero(~null)[minority]] = True
            return np.zeros(n, np.int64), masks
        parsed = pd.Series(pd.NaT, index=column.index, dtype="datetime64[us]")
        parsed[~null] = _parse_text(values, fmt, utc=n_aware > 0)
        masks["bad_time"] = parsed.isna().to_numpy() & ~null
    days = parsed.to_numpy().astype("datetime64[D]").view(np.int64)
    unreadable = masks["null_time"] | masks["bad_time"]
    if unreadable.any():
        days = np.where(unreadable, 0, days)  # NaT: left out once the problem is reported
    return days, masks


def _amount_checks(column: pd.Series, spec: LogSpec) -> tuple[np.ndarray, dict]:
    """Amounts as float64, and masks of each amount problem."""
    numbers = pd.to_numeric(column, errors="coerce")
    amount = numbers.to_numpy(dtype=np.float64, na_value=np.nan)
    size = np.abs(amount)
    if ((size >= ZERO_AMOUNT_BELOW) & (size < MAX_AMOUNT)).all() and (amount > 0).all():
        return amount, {key: np.zeros(len(amount), bool) for key in AMOUNT_CHECKS}  # all fine
    missing = column.isna().to_numpy()
    with np.errstate(invalid="ignore"):
        masks = {
            "bad_amount": np.isnan(amount) & ~missing,
            "missing_amount": missing,
            "inf_amount": np.isinf(amount),
            "zero_amount": size < ZERO_AMOUNT_BELOW,
            "huge_amount": np.isfinite(amount) & (size >= MAX_AMOUNT),
            "negative_amount": amount <= -ZERO_AMOUNT_BELOW,
        }
    return amount, masks


def normalise_frame(df: pd.DataFrame, spec: LogSpec, dates: dict) -> NormalisedLog:
    """Check a DataFrame log and return it in the aggregation's shape (see module docstring).

    ``dates`` holds the user's ``observation_period_end`` and, for a split,
    ``calibration_period_end``. Raises :class:`DataError` listing every problem.
    """
    check_columns(df.columns, spec, index_names=df.index.names)
    if len(df) == 0:
        raise DataError("the transaction log is empty; there is nothing to summarise")
    ids = df[spec.customer_id_col]
    checks = row_checks(spec)
    days, masks = _timestamp_days(df[spec.datetime_col], spec.datetime_format)
    masks["null_id"] = ids.isna().to_numpy()
    amount = None
    if spec.monetary_value_col:
        amount, amount_masks = _amount_checks(df[spec.monetary_value_col], spec)
        masks |= amount_masks
    problems = Problems()
    for key, (what, hint) in checks.items():
        count = int(masks[key].sum())
        if count and key == "null_id":
            problems.add(count, what, [RowLabel(i) for i in df.index[masks[key]][:N_EXAMPLES]], hint)
        elif count:
            problems.add(count, what, _examples(ids, masks[key]), hint)
    problems.raise_if_any()

    window = resolve_window(int(days.min()), int(days.max()), dates, spec.datetime_format)
    drop = days > window.end_day
    if spec.late_purchases == "refuse" and drop.any():
        what, hint = late_purchase_problem(window.end_day)
        problems.add(int(drop.sum()), what, _examples(ids, drop), hint)
        problems.raise_if_any()
    if amount is not None:
        zero = np.abs(amount) < ZERO_AMOUNT_BELOW
        drop |= zero & (spec.zero_amounts == "drop")
        drop |= (amount < 0) & ~zero & (spec.returns == "drop")
    keep = None if not drop.any() else ~drop  # skip copying when every row is kept

    def kept(values):
        return values if keep is None else values[keep]

    day = kept(days)
    customers = CustomerKeys.of(kept(ids), int(day.max() - day.min()) + 1)
    micro = sql.to_micro(kept(amount)) if amount is not None else np.zeros(len(day), np.int64)
    _check_total_fits(micro, customers)
    attributes, attribute_values = [], []
    for name in spec.attribute_cols:
        codes, values = pd.factorize(kept(df[name]))
        attributes.append(codes.astype(np.int64))
        attribute_values.append(values)
    return NormalisedLog(customers, day, micro, attributes, attribute_values, window)


def _check_total_fits(micro: np.ndarray, customers: CustomerKeys) -> None:
    """Refuse customers whose amounts could overflow the int64 sums (9.2e12 currency units)."""
    limit = 2.0**62
    if np.abs(micro).sum(dtype=np.float64) < limit:
        return  # no sum of any subset can overflow
    keys, owner = np.unique(customers.keys, return_inverse=True)
    per_customer = np.bincount(owner, weights=np.abs(micro).astype(np.float64))
    big = keys[per_customer >= limit]
    if len(big):
        examples = list(customers.ids(big[:N_EXAMPLES]))
        raise DataError(
            f"amounts summing to {limit / sql.AMOUNT_SCALE:.1e} or more (beyond exact 64-bit sums "
            f"of millionths) in {count_rows(len(big), examples, 'customer')}; rescale the amounts"
        )


# -- file logs (read, checked and normalised inside DuckDB) -----------------------------------

def expand_paths(source) -> tuple[list[str], str]:
    """The files a path, glob or list of paths names, and their format ("parquet" or "csv")."""
    items = list(source) if isinstance(source, (list, tuple)) else [source]
    paths: list[str] = []
    for item in items:
        if not isinstance(item, (str, os.PathLike)):
            raise DataError(
                f"transactions must be a pandas DataFrame or a CSV/Parquet path, glob or list of "
                f"paths; got {type(item).__name__}"
            )
        text = os.fspath(item)
        matches = sorted(glob.glob(text)) if glob.has_magic(text) else [text]
        if not matches or not all(os.path.isfile(p) for p in matches):
            raise DataError(f"no transaction file found at {text!r}; check the path or glob")
        paths.extend(matches)
    kinds = {"parquet" if p.lower().endswith(PARQUET_SUFFIXES) else
             "csv" if p.lower().endswith(CSV_SUFFIXES) else "unknown" for p in paths}
    if len(kinds) != 1 or "unknown" in kinds:
        raise DataError(
            f"transaction files must all be Parquet ({', '.join(PARQUET_SUFFIXES)}) or all CSV "
            f"({', '.join(CSV_SUFFIXES)}); got {paths[:5]}"
        )
    return paths, kinds.pop()


def _timestamp_sql(column: str, type_name: str, spec: LogSpec) -> tuple[str, str]:
    """DuckDB expressions (parsed timestamp, is-aware flag) for a timestamp column of this type."""
    q, fmt = sql.quote(column), spec.datetime_format
    t = type_name.upper()
    if t == "DATE" or t.startswith("TIMESTAMP"):
        return q, "FALSE"  # typed: aware columns are TIMESTAMPTZ and the session zone is UTC
    if t == "VARCHAR":
        aware = f"regexp_matches({q}, {sql.literal(UTC_OFFSET_PATTERN)})"
        # naive text cast to TIMESTAMPTZ is read as UTC, so one cast serves both kinds
        parsed = (f"try_strptime({q}, {sql.literal(fmt)})" if fmt
                  else f"TRY_CAST({q} AS TIMESTAMPTZ)")
        return parsed, aware
    if fmt and any(k in t for k in ("INT", "HUGEINT")):
        return f"try_strptime(CAST({q} AS VARCHAR), {sql.literal(fmt)})", "FALSE"
    raise DataError(
        f"timestamps in column {column!r} are of type {type_name}; store them as dates, timestamps or "
        "text, or pass datetime_format= (e.g. '%Y%m%d') for numbers like 19970101"
    )


def _amount_sql(column: str, type_name: str) -> str:
    q = sql.quote(column)
    return f"TRY_CAST({q} AS DOUBLE)" if type_name.upper() == "VARCHAR" else f"CAST({q} AS DOUBLE)"


def register_files(con, source, spec: LogSpec, dates: dict) -> Window:
    """Check CSV/Parquet files in DuckDB and create the view ``clv_transactions`` over them.

    Two scans: one counting every problem (and the first and last purchase day), one in the
    aggregation. Nothing is loaded into pandas.
    """
    paths, kind = expand_paths(source)
    file_list = "[" + ", ".join(sql.literal(p) for p in paths) + "]"
    if kind == "parquet":
        reader = f"read_parquet({file_list}, union_by_name = true)"
    else:
        reader = f"read_csv({file_list}, union_by_name = true, header = true)"
    types = {row[0]: row[1] for row in con.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall()}
    check_columns(types, spec)
    if kind == "csv":  # read timestamps and amounts as text: a bad value must not stop the scan
        text_cols = [spec.datetime_col] + ([spec.monetary_value_col] if spec.monetary_value_col else [])
        overrides = ", ".join(f"{sql.literal(c)}: 'VARCHAR'" for c in text_cols)
        reader = reader[:-1] + f", types = {{{overrides}}})"
        types |= {c: "VARCHAR" for c in text_cols}
    ts, aware = _timestamp_sql(spec.datetime_col, types[spec.datetime_col], spec)
    amount_col = spec.monetary_value_col
    amount = _amount_sql(amount_col, types[amount_col]) if amount_col else "CAST(NULL AS DOUBLE)"
    attrs = "".join(f", {sql.quote(c)} AS attr_{i}" for i, c in enumerate(spec.attribute_cols))
    con.execute(
        f"""CREATE OR REPLACE TEMP VIEW clv_raw AS
        SELECT {sql.quote(spec.customer_id_col)} AS customer_id,
               {sql.quote(spec.datetime_col)} AS ts_raw, {ts} AS ts, {aware} AS ts_aware,
               {sql.quote(amount_col) if amount_col else 'NULL'} AS amount_raw, {amount} AS amount
               {attrs}
        FROM {reader}"""
    )
    day = sql.day_number_sql("ts")
    tests = {
        "null_id": "customer_id IS NULL",
        "null_time": "ts_raw IS NULL",
        "bad_time": "ts_raw IS NOT NULL AND ts IS NULL",
        "aware": "ts_raw IS NOT NULL AND ts_aware",
        "naive": "ts_raw IS NOT NULL AND NOT ts_aware",
        "bad_amount": "amount_raw IS NOT NULL AND amount IS NULL",
        "missing_amount": "amount_raw IS NULL OR isnan(amount)",
        "inf_amount": "isinf(amount)",
        "zero_amount": f"abs(amount) < {ZERO_AMOUNT_BELOW!r}",
        "huge_amount": f"NOT isinf(amount) AND abs(amount) >= {MAX_AMOUNT!r}",
        "negative_amount": f"amount <= -{ZERO_AMOUNT_BELOW!r}",
    }
    counts_sql = ", ".join(f"count_if({test}) AS {key}" for key, test in tests.items())
    row = con.execute(
        f"SELECT COUNT(*) AS n_rows, MIN({day}) AS first_day, MAX({day}) AS last_day, {counts_sql} "
        "FROM clv_raw"
    ).fetchone()
    counts = dict(zip(["n_rows", "first_day", "last_day", *tests], row))
    if counts["n_rows"] == 0:
        raise DataError(f"the transaction files {paths[:3]} hold no rows; there is nothing to summarise")
    n_aware, n_naive = counts["aware"], counts["naive"]
    if n_aware and n_naive:
        counts["mixed_tz"] = min(n_aware, n_naive)
        tests["mixed_tz"] = tests["aware"] if n_aware <= n_naive else tests["naive"]
    else:
        counts["mixed_tz"] = 0

    def examples(test: str) -> list:
        rows = con.execute(
            f"SELECT DISTINCT customer_id FROM clv_raw WHERE ({test}) AND customer_id IS NOT NULL "
            f"LIMIT {N_EXAMPLES}"
        ).fetchall()
        return sorted((r[0] for r in rows), key=str)

    problems = Problems()
    for key, (what, hint) in row_checks(spec).items():
        if counts[key]:
            problems.add(counts[key], what, [] if key == "null_id" else examples(tests[key]), hint)
    problems.raise_if_any()

    window = resolve_window(counts["first_day"], counts["last_day"], dates, spec.datetime_format)
    late = f"{day} > {window.end_day}"
    if spec.late_purchases == "refuse" and window.end_day < counts["last_day"]:
        (n_late,) = con.execute(f"SELECT count_if({late}) FROM clv_raw").fetchone()
        what, hint = late_purchase_problem(window.end_day)
        problems.add(n_late, what, examples(late), hint)
        problems.raise_if_any()
    keep = [f"{day} <= {window.end_day}"]
    if amount_col and spec.zero_amounts == "drop":
        keep.append(f"abs(amount) >= {ZERO_AMOUNT_BELOW!r}")
    if amount_col and spec.returns == "drop":
        keep.append(f"amount > -{ZERO_AMOUNT_BELOW!r}")
    micro = sql.micro_sql("amount") if amount_col else "CAST(0 AS BIGINT)"
    attr_cols = "".join(f", attr_{i}" for i in range(len(spec.attribute_cols)))
    con.execute(
        f"""CREATE OR REPLACE TEMP VIEW clv_transactions AS
        SELECT customer_id, {day} AS day, {micro} AS amount_micro{attr_cols}
        FROM clv_raw WHERE {' AND '.join(keep)}"""
    )
    return window
