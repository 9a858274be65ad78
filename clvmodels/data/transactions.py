"""Reading and validating a transaction log: the boundary of the data step.

A transaction log has one row per purchase: a customer id, a timestamp, optionally an amount and
customer attributes. It is a pandas DataFrame, or a path, glob or list of paths to CSV or Parquet
files. This module checks it and turns it into the relation the aggregation
(:mod:`clvmodels.data.sql`) reads::

    customer_id | day (days since 1970-01-01, UTC date) | amount_micro (amount in millionths) | attr_0 ...

DataFrames are checked and normalised in pandas (:func:`clvmodels.data.frame_log.normalise_frame`);
files are read, checked and normalised inside DuckDB
(:func:`clvmodels.data.file_log.register_files`), so they are never loaded whole into memory. This
module holds what both share: the settings, the checks and their messages, and the date window
(setting dates such as ``observation_period_end``: :func:`day_of`). Text timestamps in the log
are read by the one-format rule of :mod:`clvmodels.data.timestamps`; files that cannot be read
at all are refused by :mod:`clvmodels.data.file_errors`.

Why whole days and integer micro-units: equal histories then give bit-identical summary rows, and
every sum is exact and independent of row order (float sums are not), so the pandas and DuckDB
engines agree to the last bit. Amounts are therefore rounded to 1e-6 before summing.

Every problem found is collected and reported in one :class:`~clvmodels.errors.DataError` naming
the problem, how many rows, a few example customer ids and what to do.
"""

from __future__ import annotations

import datetime
import re
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
#: A setting date given as text must start year-month-day (ISO 8601).
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:$|[T ])")
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
                # ids from 0 are their own keys: no copy of the column (keys are only read)
                return cls(values if low == 0 else values - low, None, low, ids.dtype)
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


def row_checks(spec: LogSpec, bad_time_hint: str | None = None) -> dict[str, tuple[str, str]]:
    """Row-level problems: key -> (what is wrong, what to do). Engines supply one test per key.

    ``bad_time_hint`` replaces the generic advice on unreadable timestamps (the DataFrame and
    file paths name the closest reading, :func:`clvmodels.data.timestamps.unreadable_hint`).
    """
    ident, when, amount = spec.customer_id_col, spec.datetime_col, spec.monetary_value_col
    fmt_hint = bad_time_hint or (
        f"they do not match datetime_format={spec.datetime_format!r}; fix the format or the values"
        if spec.datetime_format
        else "pass datetime_format= with strftime codes (e.g. '%Y-%m-%d %H:%M', or '%Y%m%d' for "
        "19970101) or fix the values"
    )
    checks = {
        "null_id": (f"missing customer id (column {ident!r})", "Drop these rows or fill in the id."),
        "null_time": (f"missing timestamp (column {when!r})", "Drop these rows or fill in the time."),
        "bad_time": (f"timestamp that cannot be read (column {when!r})",
                     fmt_hint if bad_time_hint else fmt_hint[0].upper() + fmt_hint[1:] + "."),
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


def day_of(value, name: str) -> int:
    """A setting date as days since 1970-01-01 (its UTC date).

    Parameters
    ----------
    value : str, datetime.date, datetime.datetime, pandas.Timestamp, pandas.Period or numpy.datetime64
        An ISO 8601 string (``"1997-09-30"``, optionally with a time and a UTC offset), a date or
        datetime (aware ones are converted to UTC), a Period (it stands for its last day: window
        ends are inclusive, so ``Period("1997-09", "M")`` means through 30 September) or a
        datetime64 (one of unit Y or M is read as that Period). ``datetime_format`` never applies
        here: it describes the log's column only, and a setting written day- or month-first
        would be as ambiguous as the column.
    name : str
        The setting's name, for messages.
    """
    stamp = _timestamp_of(value, name)
    if pd.isna(stamp):
        raise DataError(f"{name} is missing; pass a date such as '1997-09-30'")
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return int(np.datetime64(stamp.date(), "D").astype(np.int64))


def _timestamp_of(value, name: str) -> pd.Timestamp:
    """The pandas.Timestamp a setting date stands for (see :func:`day_of`)."""
    example = "pass an ISO date such as '1997-09-30', a datetime.date or a pandas.Timestamp"
    if isinstance(value, np.datetime64) and np.datetime_data(value.dtype)[0] in ("Y", "M"):
        value = pd.Period(value, freq=np.datetime_data(value.dtype)[0])
    if isinstance(value, pd.Period):
        return value.end_time
    if isinstance(value, str):
        text = value.strip()
        if not _ISO_DATE.match(text):
            raise DataError(
                f"{name}={value!r} is not a date in ISO 8601 (year-month-day); {example}. "
                "(datetime_format applies to the log's timestamp column only.)"
            )
        try:
            return pd.to_datetime(text, format="ISO8601")
        except (ValueError, TypeError, OverflowError):
            raise DataError(f"{name}={value!r} is not a date (no such day or time); "
                            f"{example}") from None
    if value is None or isinstance(value, (datetime.date, np.datetime64)) or value is pd.NaT:
        try:
            return pd.Timestamp(value)
        except (ValueError, TypeError, OverflowError) as err:
            raise DataError(f"{name}={value!r} is not a date ({err}); {example}") from None
    raise DataError(f"{name}={value!r} ({type(value).__name__}) is not a date; {example}")


def resolve_window(first_day: int, last_day: int, spec_dates: dict) -> Window:
    """Check the user's observation (and calibration) end against the purchases.

    ``spec_dates`` holds ``observation_period_end`` (None: the last purchase day) and, for a
    calibration/holdout split, ``calibration_period_end``; both are read by :func:`day_of`
    (the log's ``datetime_format`` never applies to them).
    """
    end = spec_dates.get("observation_period_end")
    end_day = last_day if end is None else day_of(end, "observation_period_end")
    if end_day < first_day:
        raise DataError(
            f"observation_period_end {day_to_iso(end_day)} is before every purchase (the first is on "
            f"{day_to_iso(first_day)}); pass a later date or leave it out to use the last purchase"
        )
    if "calibration_period_end" not in spec_dates:
        return Window(first_day, end_day, end_day)
    cal_day = day_of(spec_dates["calibration_period_end"], "calibration_period_end")
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


def kept_rows_sql(spec: LogSpec, day: str, end_day: int, has_amount: bool,
                  double_suffix: str = "") -> list[str]:
    """SQL conditions (to join with AND) on the rows the aggregation keeps: purchases up to the
    observation end, without dropped zero amounts or returns. The file (DuckDB) and Spark paths
    share them; ``double_suffix`` marks the amount thresholds as doubles where a dialect needs it
    (Spark: "D")."""
    keep = [f"{day} <= {end_day}"]
    if has_amount and spec.zero_amounts == "drop":
        keep.append(f"abs(amount) >= {ZERO_AMOUNT_BELOW!r}{double_suffix}")
    if has_amount and spec.returns == "drop":
        keep.append(f"amount > -{ZERO_AMOUNT_BELOW!r}{double_suffix}")
    return keep


def problem_tests_sql(is_infinite: str = "isinf(amount)", double_suffix: str = "") -> dict[str, str]:
    """SQL conditions flagging each problem of :func:`row_checks` (plus the time-zone kinds) in the
    raw relation ``customer_id, ts_raw, ts, ts_aware, amount_raw, amount``, for the file (DuckDB)
    and Spark paths. ``is_infinite`` is the dialect's test of an infinite amount and
    ``double_suffix`` marks literals as doubles where needed (Spark: "D")."""
    d = double_suffix
    return {
        "null_id": "customer_id IS NULL",
        "null_time": "ts_raw IS NULL",
        "bad_time": "ts_raw IS NOT NULL AND ts IS NULL",
        "aware": "ts_raw IS NOT NULL AND ts_aware",
        "naive": "ts_raw IS NOT NULL AND NOT ts_aware",
        "bad_amount": "amount_raw IS NOT NULL AND amount IS NULL",
        "missing_amount": "amount_raw IS NULL OR isnan(amount)",
        "inf_amount": is_infinite,
        "zero_amount": f"abs(amount) < {ZERO_AMOUNT_BELOW!r}{d}",
        "huge_amount": f"NOT ({is_infinite}) AND abs(amount) >= {MAX_AMOUNT!r}{d}",
        "negative_amount": f"amount <= -{ZERO_AMOUNT_BELOW!r}{d}",
    }
