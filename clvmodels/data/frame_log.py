"""A transaction log given as a pandas DataFrame: checked and normalised in memory.

:func:`normalise_frame` turns the frame into the arrays of the relation the aggregation reads
(see :mod:`clvmodels.data.transactions` for the relation, the checks and why days and integer
micro-units), reporting every problem in one :class:`~clvmodels.errors.DataError`. Text
timestamps are read by the one-format rule of :mod:`clvmodels.data.timestamps`.
"""

from __future__ import annotations

import datetime
import re
import warnings

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from clvmodels.data import row_kernels, sql, timestamps
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


def _arrow_strings(values: pd.Series) -> pa.Array:
    """Non-null strings as one Arrow array: regexes run in RE2 (as in DuckDB), not per value in
    Python, and Arrow-backed pandas strings convert without a copy."""
    arrow = pa.array(values, type=pa.large_string(), from_pandas=True)
    return arrow.combine_chunks() if isinstance(arrow, pa.ChunkedArray) else arrow


def _offset_flags(values: pd.Series) -> np.ndarray:
    """True where a (non-null) timestamp value carries a time zone or UTC offset."""
    if pd.api.types.infer_dtype(values, skipna=True) == "string":
        found = pc.match_substring_regex(pc.utf8_trim(_arrow_strings(values), " "),
                                         UTC_OFFSET_PATTERN)
        return found.to_numpy(zero_copy_only=False).astype(bool)
    regex = re.compile(UTC_OFFSET_PATTERN)
    return np.fromiter(
        (bool(regex.search(v)) if isinstance(v, str) else getattr(v, "tzinfo", None) is not None
         for v in values),
        dtype=bool, count=len(values),
    )


def _read_as(text: pd.Series, iso: np.ndarray, fmt: str, utc: bool) -> pd.Series:
    """``text`` (stripped strings) read with one format; unreadable values become NaT. ``iso``
    marks the values matching :data:`timestamps.ISO_PATTERN`, the only ones read as ISO 8601
    (both engines read exactly these)."""
    def naive_us(stamps: pd.Series) -> pd.Series:  # one resolution whatever pandas infers
        return (stamps.dt.tz_localize(None) if utc else stamps).astype("datetime64[us]")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if fmt != timestamps.ISO:
            return naive_us(pd.to_datetime(text, format=fmt, errors="coerce", utc=utc))
        parsed = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us]")
        if iso.any():
            parsed[iso] = naive_us(pd.to_datetime(text[iso], format="ISO8601", errors="coerce",
                                                  utc=utc))
    return parsed


class _TextReading:
    """A text column read by the rule of :mod:`clvmodels.data.timestamps`.

    Each candidate is parsed on the distinct values only; one that fails on the leading sample
    cannot read every value, so it is parsed in full only when no candidate reads every value
    (its count then matters for naming the closest). ``parsed`` is the chosen reading per row,
    ``checks`` holds the unreadable values' hint (``bad_time_hint``) and, for an ambiguous
    column, the problem ``ambiguous_time`` (what, hint) whose rows ``masks`` marks.
    """

    def __init__(self, values: pd.Series, column: str, fmt: str | None, utc: bool):
        encoded = pc.dictionary_encode(pc.utf8_trim(_arrow_strings(values), " "))
        codes = encoded.indices.to_numpy(zero_copy_only=False)
        distinct = pd.Series(encoded.dictionary.to_numpy(zero_copy_only=False), dtype=object)
        iso = pc.match_substring_regex(encoded.dictionary, f"^(?:{timestamps.ISO_PATTERN})$")
        iso = iso.to_numpy(zero_copy_only=False).astype(bool)
        weight = np.bincount(codes, minlength=len(distinct))
        sample = pd.Series(distinct.to_numpy()[codes[:timestamps.SAMPLE_SIZE]], dtype=object)
        sample_iso = iso[codes[:timestamps.SAMPLE_SIZE]]
        candidates = [fmt] if fmt else timestamps.candidate_formats(list(sample))
        readings: dict[str, pd.Series] = {}

        def rows_read(f: str) -> int:
            readings[f] = _read_as(distinct, iso, f, utc)
            return int(weight[readings[f].notna().to_numpy()].sum())

        fits_sample = {f: len(candidates) == 1
                       or bool(_read_as(sample, sample_iso, f, utc).notna().all())
                       for f in candidates}
        n_read = {f: rows_read(f) if fits_sample[f] else -1 for f in candidates}
        if len(values) not in n_read.values():
            n_read |= {f: rows_read(f) for f in candidates if not fits_sample[f]}
        choice = timestamps.choose(candidates, len(values), n_read)
        chosen = readings[choice.fmt]
        self.parsed = pd.Series(chosen.to_numpy()[codes], index=values.index)
        self.checks = {"bad_time_hint": timestamps.unreadable_hint(fmt, choice)}
        self.masks: dict[str, np.ndarray] = {}
        for other in choice.also_full:
            differ = (readings[other] != chosen).to_numpy(bool)
            if differ.any():
                first = int(np.flatnonzero(differ)[np.argmin(distinct[differ].to_numpy())])
                self.checks["ambiguous_time"] = timestamps.ambiguity_problem(
                    column, choice.fmt, other, distinct[first], chosen[first], readings[other][first])
                self.masks["ambiguous_time"] = differ[codes]
                break


def _timestamp_days(column: pd.Series, fmt: str | None) -> tuple[np.ndarray, dict, dict]:
    """Days since 1970-01-01 (UTC date) per row, masks of null, unreadable, mixed-zone and
    ambiguous rows, and the notes of :class:`_TextReading` (messages that depend on the reading,
    see :mod:`clvmodels.data.timestamps`)."""
    n = len(column)
    null = column.isna().to_numpy().copy()  # blank text is marked below
    masks = {"null_time": null, "bad_time": np.zeros(n, bool), "mixed_tz": np.zeros(n, bool),
             "ambiguous_time": np.zeros(n, bool)}
    checks: dict = {}
    dtype = column.dtype
    if isinstance(dtype, pd.DatetimeTZDtype):
        parsed = column.dt.tz_convert("UTC").dt.tz_localize(None)
    elif pd.api.types.is_datetime64_dtype(dtype):
        parsed = column
    else:
        if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
            if fmt is None:
                raise timestamps.numbers_refused(column.name)
            column = column.astype("Int64").astype("string")
        values = column[~null]
        if isinstance(values.dtype, pd.CategoricalDtype):
            values = values.astype(object)
        if pd.api.types.infer_dtype(values, skipna=True) == "string":
            # blank text is a missing timestamp, as a CSV's empty field is
            blank = pc.equal(pc.utf8_trim(_arrow_strings(values), " "), "")
            blank = blank.to_numpy(zero_copy_only=False).astype(bool)
            if blank.any():
                null[np.flatnonzero(~null)[blank]] = True
                values = values[~blank]
        aware = _offset_flags(values)
        n_aware = int(aware.sum())
        if 0 < n_aware < len(values):
            minority = aware if n_aware <= len(values) / 2 else ~aware
            masks["mixed_tz"][np.flatnonzero(~null)[minority]] = True
            return np.zeros(n, np.int64), masks, checks
        parsed = pd.Series(pd.NaT, index=column.index, dtype="datetime64[us]")
        parsed[~null] = _parse_values(values, column.name, fmt, n_aware > 0, masks, checks, ~null)
        masks["bad_time"] = parsed.isna().to_numpy() & ~null
    days = _days_since_epoch(parsed.to_numpy())
    unreadable = masks["null_time"] | masks["bad_time"]
    if unreadable.any():
        days = np.where(unreadable, 0, days)  # NaT: left out once the problem is reported
    return days, masks, checks


#: datetime64 units read as days by integer floor division (the cast, per value, is ~5x slower)
_UNITS_PER_DAY = {"s": 86_400, "ms": 86_400_000, "us": 86_400_000_000, "ns": 86_400_000_000_000}


def _days_since_epoch(stamps: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of datetime64 values, int64 (floored, as the cast to datetime64[D]
    floors); NaT rows get an arbitrary value (they are reported, and zeroed, by the caller)."""
    unit, count = np.datetime_data(stamps.dtype)
    if unit in _UNITS_PER_DAY and count == 1:
        return stamps.view(np.int64) // _UNITS_PER_DAY[unit]
    return stamps.astype("datetime64[D]").view(np.int64)


def _parse_values(values: pd.Series, column, fmt, utc: bool, masks: dict, checks: dict,
                  present: np.ndarray) -> pd.Series:
    """Non-null values as naive UTC timestamps (NaT where unreadable): text by the one-format
    rule, date and datetime objects as they are; anything else (e.g. numbers among text) is
    unreadable."""
    if pd.api.types.infer_dtype(values, skipna=True) == "string":
        text = values
    else:
        is_text = np.fromiter((isinstance(v, str) for v in values), bool, count=len(values))
        dated = np.fromiter((isinstance(v, (datetime.date, np.datetime64)) for v in values), bool,
                            count=len(values))
        out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us]")
        if dated.any():
            stamps = pd.to_datetime(values[dated], errors="coerce", utc=utc)
            out[dated] = (stamps.dt.tz_localize(None) if utc else stamps).astype("datetime64[us]")
        if is_text.any():
            out[is_text] = _parse_values(values[is_text], column, fmt, utc, masks, checks,
                                         _subset(present, is_text))
        return out
    reading = _TextReading(text, column, fmt, utc)
    checks |= reading.checks
    for key, mask in reading.masks.items():
        masks[key][np.flatnonzero(present)[mask]] = True
    return reading.parsed


def _subset(present: np.ndarray, within: np.ndarray) -> np.ndarray:
    """The rows of ``present`` (a row mask) that are also marked in ``within`` (a mask over them)."""
    out = np.zeros_like(present)
    out[np.flatnonzero(present)[within]] = True
    return out


def _amount_checks(column: pd.Series, spec: LogSpec) -> tuple[np.ndarray, dict]:
    """Amounts as float64, and masks of each amount problem (None: no row has it)."""
    numbers = pd.to_numeric(column, errors="coerce")
    amount = numbers.to_numpy(dtype=np.float64, na_value=np.nan)
    if row_kernels.all_amounts_fine(amount, ZERO_AMOUNT_BELOW, MAX_AMOUNT):
        return amount, dict.fromkeys(AMOUNT_CHECKS)  # all fine: no row has a problem (None)
    size = np.abs(amount)
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
    timestamps.check_format(spec.datetime_format)
    days, masks, notes = _timestamp_days(df[spec.datetime_col], spec.datetime_format)
    checks = row_checks(spec, notes.get("bad_time_hint"))
    if "ambiguous_time" in notes:
        checks["ambiguous_time"] = notes["ambiguous_time"]
    masks["null_id"] = ids.isna().to_numpy()
    amount = None
    if spec.monetary_value_col:
        amount, amount_masks = _amount_checks(df[spec.monetary_value_col], spec)
        masks |= amount_masks
    problems = Problems()
    for key, (what, hint) in checks.items():
        count = 0 if masks[key] is None else int(np.count_nonzero(masks[key]))
        if count and key == "null_id":
            problems.add(count, what, [RowLabel(i) for i in df.index[masks[key]][:N_EXAMPLES]], hint)
        elif count:
            problems.add(count, what, _examples(ids, masks[key]), hint)
    problems.raise_if_any()

    first, last = int(days.min()), int(days.max())
    window = resolve_window(first, last, dates)
    drop = days > window.end_day
    if spec.late_purchases == "refuse" and drop.any():
        what, hint = late_purchase_problem(window.end_day)
        problems.add(int(drop.sum()), what, _examples(ids, drop), hint)
        problems.raise_if_any()
    if amount is not None and "drop" in (spec.zero_amounts, spec.returns):
        zero = np.abs(amount) < ZERO_AMOUNT_BELOW
        drop |= zero & (spec.zero_amounts == "drop")
        drop |= (amount < 0) & ~zero & (spec.returns == "drop")
    keep = None if not drop.any() else ~drop  # skip copying when every row is kept

    def kept(values):
        return values if keep is None else values[keep]

    day = kept(days)
    n_days = int(day.max() - day.min()) + 1 if keep is not None else last - first + 1
    customers = CustomerKeys.of(kept(ids), n_days)
    micro = (row_kernels.to_micro(kept(amount)) if amount is not None
             else np.zeros(len(day), np.int64))
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
    if len(micro) * max(float(micro.max(initial=0)), -float(micro.min(initial=0))) < limit:
        return  # no sum of any subset can overflow (a bound, without an |micro| temporary)
    if np.abs(micro).sum(dtype=np.float64) < limit:
        return
    keys, owner = np.unique(customers.keys, return_inverse=True)
    per_customer = np.bincount(owner, weights=np.abs(micro).astype(np.float64))
    big = keys[per_customer >= limit]
    if len(big):
        examples = list(customers.ids(big[:N_EXAMPLES]))
        raise DataError(
            f"amounts summing to {limit / sql.AMOUNT_SCALE:.1e} or more (beyond exact 64-bit sums "
            f"of millionths) in {count_rows(len(big), examples, 'customer')}; rescale the amounts"
        )
