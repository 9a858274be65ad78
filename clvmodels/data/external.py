"""Summaries built elsewhere (SQL, a warehouse, a CSV re-read) checked and made into clvmodels summaries.

:func:`as_summary` is the public door for a per-customer table that :func:`clvmodels.rfm_summary`
did not build. It checks everything the models, value and targeting read, refuses what it cannot
read one way, and attaches the metadata (time unit, observation end) that ``rfm_summary`` attaches,
so the result behaves exactly like an ``rfm_summary`` output with the same columns.

Assumed meaning of the columns (the ``rfm_summary`` definitions; see :mod:`clvmodels.data.summary`):
purchases on the same day are one purchase; ``frequency`` counts purchase days after the first;
``recency`` (first to last purchase day) and ``T`` (first purchase day to the observation end) are
in ``time_unit``; ``monetary_value`` is the mean of the repeat purchase days' totals (first purchase
excluded, 0 without repeats); ``revenue_to_date`` sums every purchase day, the first included;
``first_purchase_value`` is the first purchase day's total.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from clvmodels.data.checks import check_unique_ids
from clvmodels.data.meta import ATTRS_KEY, iso_date, set_summary_meta, summary_meta
from clvmodels.data.timeunits import days_per_unit
from clvmodels.errors import DataError, describe_rows

REQUIRED = ("frequency", "recency", "T")
AMOUNTS = ("monetary_value", "revenue_to_date", "first_purchase_value", "monetary_value_holdout")
COUNTS = ("frequency", "frequency_holdout")
DATES = ("first_purchase", "last_purchase")
REBUILD = "Fix these rows where the table is built (or rebuild it with clvmodels.rfm_summary)."


def as_summary(frame: pd.DataFrame, *, time_unit: str, observation_end, customer_id_col=None,
               holdout_end=None, rename: dict | None = None, revenue_rtol: float = 1e-6,
               day_tolerance: float = 0.5) -> pd.DataFrame:
    """Check a customer summary built elsewhere and attach the metadata ``rfm_summary`` attaches.

    Parameters
    ----------
    frame : pandas.DataFrame, shape (n_customers, k)
        One row per customer with ``frequency``, ``recency`` and ``T`` (after ``rename``), and
        optionally ``monetary_value``, ``revenue_to_date``, ``first_purchase_value``,
        ``first_purchase``, ``last_purchase``, ``frequency_holdout``, ``monetary_value_holdout``
        and any customer attributes (carried unchanged). Not modified.
    time_unit : {"D", "W", "M", "Y"}
        Unit in which ``recency`` and ``T`` are measured (days, weeks, mean Gregorian months or
        years, :mod:`clvmodels.data.timeunits`).
    observation_end : date-like
        Last day of the (calibration) window, inclusive: the day ``T`` runs to. ISO text,
        ``datetime``, ``date``, ``Timestamp``, ``Period`` or ``numpy.datetime64``.
    customer_id_col : str, optional
        Column holding the customer id, made the index. Default: the frame's index is the id.
    holdout_end : date-like, optional
        For a calibration/holdout summary: last day of the holdout (then ``frequency_holdout`` is
        required, and the metadata gets ``holdout_end`` and ``duration_holdout``).
    rename : dict, optional
        ``{their column: summary column}``, applied first (as ``DataFrame.rename(columns=...)``).
    revenue_rtol : float
        Tolerance of ``revenue_to_date == first_purchase_value + frequency * monetary_value``,
        relative to ``max(revenue_to_date, 1)`` (in currency units). Raise it when the table
        rounds ``monetary_value`` (e.g. to cents).
    day_tolerance : float
        With ``first_purchase`` / ``last_purchase`` dates, how many days ``T`` and ``recency``
        (times the unit's days) may differ from the dates' day counts.

    Returns
    -------
    pandas.DataFrame
        A new frame indexed by customer id: ``frequency`` (and ``frequency_holdout``) int64,
        ``recency``, ``T`` and amounts float64, dates datetime64[us], other columns as given;
        ``attrs["clvmodels"]`` as :func:`clvmodels.rfm_summary` sets it (``time_unit``,
        ``period`` "D", ``observation_end``, plus ``holdout_end`` and ``duration_holdout``).

    Raises
    ------
    DataError
        Listing every problem: missing or non-numeric columns, missing or duplicated ids, and rows
        breaking a rule (counts, example ids), with what to do.

    Examples
    --------
    A summary read back from CSV has lost its metadata; state it again:

    >>> import pandas as pd
    >>> import clvmodels
    >>> frame = pd.DataFrame({"frequency": [2, 0], "recency": [30.43, 0.0], "T": [38.86, 20.0]},
    ...                      index=pd.Index(["x", "y"], name="customer_id"))
    >>> summary = clvmodels.as_summary(frame, time_unit="W", observation_end="1997-09-30")
    >>> clvmodels.summary_meta(summary)
    {'time_unit': 'W', 'period': 'D', 'observation_end': '1997-09-30'}
    """
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"as_summary needs a pandas DataFrame; got {type(frame).__name__}")
    unit_days = days_per_unit(time_unit)
    end = iso_date(observation_end, "observation_end")
    meta = {"time_unit": time_unit, "period": "D", "observation_end": end}
    if holdout_end is not None:
        stop = iso_date(holdout_end, "holdout_end")
        if stop <= end:
            raise DataError(f"holdout_end ({stop}) must be after observation_end ({end})")
        meta |= {"holdout_end": stop,
                 "duration_holdout": (pd.Timestamp(stop) - pd.Timestamp(end)).days / unit_days}
    _check_stated_meta(frame, meta)
    out = _indexed(frame.copy(deep=True), rename, customer_id_col)
    problems = _Problems(out.index)
    _convert(out, problems, holdout_end is not None)
    problems.raise_if_any()  # the rules below need clean numbers
    _check_rules(out, problems, pd.Timestamp(end), unit_days, revenue_rtol, day_tolerance)
    problems.raise_if_any()
    out.attrs = {k: v for k, v in frame.attrs.items() if k != ATTRS_KEY}
    return set_summary_meta(out, **meta)


class _Problems:
    """Everything wrong with the table, so that one error lists it all."""

    def __init__(self, index: pd.Index):
        self.index, self.lines = index, []

    def add(self, line: str) -> None:
        self.lines.append(line)

    def rows(self, bad: np.ndarray, what: str, hint: str = REBUILD) -> None:
        if bad.any():
            self.lines.append(f"{what}: {describe_rows(self.index[bad])}. {hint}")

    def raise_if_any(self) -> None:
        if self.lines:
            raise DataError("the summary cannot be used (nothing was returned):\n- "
                            + "\n- ".join(self.lines))


def _check_stated_meta(frame: pd.DataFrame, meta: dict) -> None:
    """A frame that still carries metadata must agree with what the caller states."""
    carried = summary_meta(frame)
    clash = {k: (carried[k], v) for k, v in meta.items() if k in carried and carried[k] != v}
    if clash:
        listed = "; ".join(f"{k}: carries {a!r}, stated {b!r}" for k, (a, b) in clash.items())
        raise DataError(f"the frame already carries clvmodels metadata that disagrees with the "
                        f"arguments ({listed}); state the values the table was built with")


def _indexed(out: pd.DataFrame, rename, customer_id_col) -> pd.DataFrame:
    if rename:
        unknown = [c for c in rename if c not in out.columns]
        if unknown:
            raise DataError(f"rename names column(s) {unknown} the frame does not have; it has "
                            f"{list(out.columns)[:20]}")
        out = out.rename(columns=rename)
    if out.columns.duplicated().any():
        raise DataError(f"column names repeat: {sorted(set(out.columns[out.columns.duplicated()]))}; "
                        "each summary column must appear once")
    if customer_id_col is not None:
        if customer_id_col not in out.columns:
            raise DataError(f"customer_id_col={customer_id_col!r} is not a column; columns are "
                            f"{list(out.columns)[:20]}")
        out = out.set_index(customer_id_col)
    elif isinstance(out.index, pd.RangeIndex) and out.index.name is None and "customer_id" in out.columns:
        raise DataError(
            "the frame has a 'customer_id' column but a plain row-number index, which would be "
            "taken as the ids (a CSV read without index_col?); pass customer_id_col='customer_id' "
            "or read it with index_col='customer_id'"
        )
    if out.index.name is None:
        out.index.name = "customer_id"
    if len(out) == 0:
        raise DataError("the summary has no customers")
    missing_id = np.asarray(out.index.isna())
    if missing_id.any():
        positions = np.flatnonzero(missing_id)
        raise DataError(f"{len(positions)} rows have no customer id (row positions "
                        f"{positions[:5].tolist()}); every row must name its customer")
    check_unique_ids(out)
    return out


def _convert(out: pd.DataFrame, problems: _Problems, holdout: bool) -> None:
    """Check presence and types; cast counts to int64, measures to float64, dates to datetime64[us]."""
    required = REQUIRED + (("frequency_holdout",) if holdout else ())
    missing = [c for c in required if c not in out.columns]
    if missing:
        problems.add(f"missing column(s) {missing} (the frame has {list(out.columns)[:20]}); "
                     "pass rename={'their name': 'frequency', ...} to map yours")
    if not holdout and "frequency_holdout" in out.columns:
        problems.add("the frame has frequency_holdout but no holdout_end was given; pass "
                     "holdout_end= (the last day of the holdout) so its length is known")
    for name in REQUIRED + AMOUNTS + ("frequency_holdout",):
        if name not in out.columns:
            continue
        column = out[name]
        readable = (pd.api.types.is_numeric_dtype(column.dtype) or column.dtype == object
                    or pd.api.types.is_string_dtype(column.dtype))  # text and Decimal are parsed
        if pd.api.types.is_bool_dtype(column.dtype) or not readable:
            problems.add(f"column {name!r} is of type {column.dtype}, not numbers; convert it "
                         "(e.g. pd.to_numeric)")
            continue
        values = pd.to_numeric(column, errors="coerce").astype(np.float64)  # Decimal -> float
        unreadable = (values.isna() & column.notna()).to_numpy()
        problems.rows(unreadable, f"{name} is not a number")
        problems.rows(~np.isfinite(values.to_numpy()) & ~unreadable,
                      f"{name} is missing or infinite",
                      "Fill it (0 for amounts of customers without such purchases) or drop the rows.")
        out[name] = values
    for name in DATES:
        if name in out.columns:
            _convert_dates(out, name, problems)


def _convert_dates(out: pd.DataFrame, name: str, problems: _Problems) -> None:
    column = out[name]
    if not pd.api.types.is_datetime64_any_dtype(column.dtype):
        parsed = pd.to_datetime(column, format="ISO8601", errors="coerce")
        problems.rows((parsed.isna() & column.notna()).to_numpy(),
                      f"{name} is not an ISO 8601 date", "Write dates as YYYY-MM-DD.")
        column = parsed
    problems.rows(column.isna().to_numpy(), f"{name} is missing",
                  "Fill the date or drop the column (it is optional).")
    if getattr(column.dt, "tz", None) is not None:
        column = column.dt.tz_convert("UTC").dt.tz_localize(None)
    out[name] = column.dt.normalize().astype("datetime64[us]")


def _check_rules(out, problems: _Problems, end: pd.Timestamp, unit_days: float, rtol: float,
                 day_tolerance: float) -> None:
    x, t_x, T = (out[c].to_numpy() for c in REQUIRED)
    problems.rows((x < 0) | (x != np.round(x)),
                  "frequency must be a whole number >= 0 (purchase days after the first)")
    problems.rows((t_x < 0) | (t_x > T), "recency must lie between 0 and T")
    problems.rows((x == 0) & (t_x != 0), "customers with frequency 0 must have recency 0")
    for count in COUNTS:
        if count in out.columns and not problems.lines:
            out[count] = out[count].to_numpy().astype(np.int64)
    if "frequency_holdout" in out.columns:
        h = out["frequency_holdout"].to_numpy()
        problems.rows(h < 0, "frequency_holdout must be >= 0")
        if "monetary_value_holdout" in out.columns:
            _check_mean(out["monetary_value_holdout"].to_numpy(), h, "monetary_value_holdout",
                        "frequency_holdout", problems)
    if "monetary_value" in out.columns:
        _check_mean(out["monetary_value"].to_numpy(), x, "monetary_value", "frequency", problems)
    _check_revenue(out, x, problems, rtol)
    _check_dates(out, end, unit_days, day_tolerance, problems)


def _check_mean(m: np.ndarray, count: np.ndarray, name: str, count_name: str, problems) -> None:
    problems.rows((count > 0) & ~(m > 0),
                  f"{name} must be a positive mean spend where {count_name} > 0",
                  "Check the amounts (zero, negative or missing) where the table is built.")
    problems.rows((count == 0) & (m != 0),
                  f"{name} must be 0 where {count_name} is 0 (the mean of repeat purchases, the "
                  "first purchase excluded)",
                  "A nonzero value here suggests the mean includes the first purchase; exclude it.")


def _check_revenue(out, x, problems, rtol: float) -> None:
    for name in ("revenue_to_date", "first_purchase_value"):
        if name in out.columns:
            problems.rows(out[name].to_numpy() < 0, f"{name} must be >= 0")
    if not {"revenue_to_date", "first_purchase_value"} <= set(out.columns):
        return
    revenue, first = out["revenue_to_date"].to_numpy(), out["first_purchase_value"].to_numpy()
    if "monetary_value" in out.columns:
        gap = np.abs(revenue - (first + x * out["monetary_value"].to_numpy()))
        problems.rows(
            gap > rtol * np.maximum(np.abs(revenue), 1.0),
            f"revenue_to_date differs from first_purchase_value + frequency * monetary_value "
            f"by more than revenue_rtol={rtol:g} (relative)",
            "revenue_to_date must cover every purchase day in the window, the first included; "
            "if monetary_value is rounded, raise revenue_rtol.")
    else:
        problems.rows(revenue < first, "revenue_to_date is below first_purchase_value")


def _check_dates(out, end: pd.Timestamp, unit_days: float, tolerance: float, problems) -> None:
    if "first_purchase" not in out.columns:
        return
    first = out["first_purchase"]
    problems.rows((first > end).to_numpy(), f"first_purchase is after observation_end ({end.date()})")
    days_T = (end - first).dt.days.to_numpy(np.float64)
    problems.rows(
        np.abs(out["T"].to_numpy() * unit_days - days_T) > tolerance,
        f"T does not match observation_end - first_purchase in this time unit ({unit_days:g} days)",
        "Check time_unit and observation_end: they must be the ones the table was built with.")
    if "last_purchase" in out.columns:
        last = out["last_purchase"]
        problems.rows((last < first).to_numpy() | (last > end).to_numpy(),
                      "last_purchase must lie between first_purchase and observation_end")
        days_recency = (last - first).dt.days.to_numpy(np.float64)
        problems.rows(
            np.abs(out["recency"].to_numpy() * unit_days - days_recency) > tolerance,
            f"recency does not match last_purchase - first_purchase in this time unit "
            f"({unit_days:g} days)",
            "Check time_unit: it must be the unit the table was built with.")
