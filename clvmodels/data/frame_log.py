"""A transaction log given as a pandas DataFrame: checked and normalised in memory.

:func:`normalise_frame` turns the frame into the arrays of the relation the aggregation reads
(see :mod:`clvmodels.data.transactions` for the relation, the checks and why days and integer
micro-units), reporting every problem in one :class:`~clvmodels.errors.DataError`.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd

from clvmodels.data import sql
from clvmodels.data.transactions import (
    AMOUNT_CHECKS,
    MAX_AMOUNT,
    N_EXAMPLES,
    UTC_OFFSET_PATTERN,
    ZERO_AMOUNT_BELOW,
    CustomerKeys,
    LogSpec,
    NormalisedLog,
    Problems,
    RowLabel,
    check_columns,
    count_rows,
    late_purchase_problem,
    resolve_window,
    row_checks,
)
from clvmodels.errors import DataError


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
