"""Validation of a customer summary handed to a model (the models' boundary).

:func:`rfm_summary` builds valid summaries; these checks catch summaries built by hand or edited,
with a message that says what is wrong, how many customers, a few ids and what to do.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from clvmodels.errors import DataError, describe_rows

RFM_COLUMNS = ("frequency", "recency", "T")


def _fail_where(summary: pd.DataFrame, bad: np.ndarray, problem: str, hint: str) -> None:
    if bad.any():
        raise DataError(f"{problem}: {describe_rows(summary.index[bad])}. {hint}")


def check_unique_ids(summary: pd.DataFrame) -> None:
    """Refuse a summary whose index (the customer id) repeats a customer.

    A customer counted twice doubles their weight in a fit (standard errors shrink by about
    sqrt(2) when a summary is concatenated with itself) and their value in every total.
    """
    duplicated = summary.index.duplicated(keep=False)
    if duplicated.any():
        repeated = list(summary.index[summary.index.duplicated(keep="first")].unique())
        examples = ", ".join(repr(i) for i in repeated[:5]) + (", ..." if len(repeated) > 5 else "")
        raise DataError(
            f"duplicate customer ids: {len(repeated)} id(s) appear on more than one row of the "
            f"summary ({int(duplicated.sum())} rows in all; e.g. {examples}). customer ids must be "
            "unique, one row per customer: drop the repeats (summary[~summary.index.duplicated()]) if they "
            "are copies, or rebuild it from the combined transaction log with "
            "clvmodels.rfm_summary(...) if they are parts of one customer's history"
        )


def _check_frame(summary) -> None:
    if not isinstance(summary, pd.DataFrame):
        raise DataError(
            f"expected a customer summary DataFrame, got {type(summary).__name__}; "
            "build one with clvmodels.rfm_summary(transactions, ...)"
        )


def _numeric_column(column: pd.Series) -> np.ndarray:
    """A column's values as numbers: a numpy integer or float column as it is (no copy), anything
    else as float64 with what is not a number as NaN (so the checks refuse it)."""
    if column.dtype.kind in "iuf" and isinstance(column.dtype, np.dtype):
        return column.to_numpy()
    return pd.to_numeric(column, errors="coerce").to_numpy(float)


def check_rfm_summary(summary: pd.DataFrame) -> None:
    """Check the columns every purchase model needs.

    Requires one row per customer id (the index), ``frequency`` (whole, >= 0), ``recency`` and
    ``T`` (finite, 0 <= recency <= T, T > 0 unless frequency is 0), and ``recency == 0`` where
    ``frequency == 0``.
    """
    _check_frame(summary)
    missing = [c for c in RFM_COLUMNS if c not in summary.columns]
    if missing:
        raise DataError(
            f"the summary lacks column(s) {missing}; it has {list(summary.columns)[:10]}. "
            "Build it with clvmodels.rfm_summary(...) or rename your columns to frequency, recency, T"
        )
    if len(summary) == 0:
        raise DataError("the summary has no customers; check the transaction log and the date window")
    check_unique_ids(summary)
    from clvmodels.data.summary_kernel import rfm_rows_fine  # numba loads on first use

    x, t_x, T = (_numeric_column(summary[c]) for c in RFM_COLUMNS)
    if rfm_rows_fine(x, t_x, T):  # one compiled pass; the masks below only to name bad rows
        return
    x, t_x, T = (v.astype(float) for v in (x, t_x, T))
    hint = "Rebuild the summary with clvmodels.rfm_summary(...)"
    _fail_where(summary, ~(np.isfinite(x) & np.isfinite(t_x) & np.isfinite(T)),
                "frequency, recency and T must be finite numbers; missing or infinite in", hint)
    _fail_where(summary, (x < 0) | (x != np.round(x)),
                "frequency must be a whole number >= 0 (repeat purchase periods); not so in", hint)
    _fail_where(summary, (t_x < 0) | (t_x > T),
                "recency must lie between 0 and T; outside in", hint)
    _fail_where(summary, (x == 0) & (t_x != 0),
                "customers with frequency 0 must have recency 0; not so in", hint)


def check_history_columns(summary: pd.DataFrame, family) -> None:
    """Check the history columns a purchase-model family reads (its ``history_columns``).

    Continuous-time families read ``frequency, recency, T`` (:func:`check_rfm_summary`). A
    discrete-opportunity family (``family.discrete_time``) reads whole numbers ``frequency,
    recency, n_periods`` with ``0 <= frequency <= recency <= n_periods``, ``n_periods >= 1`` and
    ``recency == 0`` exactly where ``frequency == 0``, as :func:`clvmodels.opportunity_summary`
    builds them.
    """
    if tuple(family.history_columns) == RFM_COLUMNS:
        check_rfm_summary(summary)
        return
    _check_frame(summary)
    columns = tuple(family.history_columns)
    missing = [c for c in columns if c not in summary.columns]
    hint = "Build it with clvmodels.opportunity_summary(...)" if family.discrete_time else (
        "Rename your columns to " + ", ".join(columns))
    if missing:
        raise DataError(f"the summary lacks column(s) {missing} that {family.label} reads; it has "
                        f"{list(summary.columns)[:10]}. {hint}")
    if len(summary) == 0:
        raise DataError("the summary has no customers; check the transaction log and the date window")
    check_unique_ids(summary)
    x, t_x, n = (_numeric_column(summary[c]).astype(float, copy=False) for c in columns)
    named = ", ".join(columns)
    _fail_where(summary, ~(np.isfinite(x) & np.isfinite(t_x) & np.isfinite(n)),
                f"{named} must be finite numbers; missing or infinite in", hint)
    whole = (x == np.round(x)) & (t_x == np.round(t_x)) & (n == np.round(n))
    _fail_where(summary, ~whole if family.discrete_time else (x != np.round(x)),
                f"{named} must be whole numbers (counts of opportunities); not so in"
                if family.discrete_time else "frequency must be a whole number >= 0; not so in", hint)
    _fail_where(summary, (x < 0) | (t_x < 0) | (t_x > n) | (n <= 0),
                f"{columns[1]} must lie between 0 and {columns[2]} ({columns[2]} > 0); outside in", hint)
    if family.discrete_time:
        _fail_where(summary, x > t_x, f"{columns[0]} cannot exceed {columns[1]} (the last "
                    "opportunity with a transaction); not so in", hint)
    _fail_where(summary, (x == 0) != (t_x == 0),
                f"{columns[1]} must be 0 exactly where {columns[0]} is 0; not so in", hint)


def check_monetary_summary(summary: pd.DataFrame) -> None:
    """Check the columns the spend model needs: one row per customer id, ``frequency`` and a
    positive ``monetary_value`` for every repeat buyer (frequency > 0)."""
    _check_frame(summary)
    missing = [c for c in ("frequency", "monetary_value") if c not in summary.columns]
    if missing:
        raise DataError(
            f"the summary lacks column(s) {missing}; pass monetary_value_col= to "
            "clvmodels.rfm_summary(...) so spend per purchase is summarised"
        )
    check_unique_ids(summary)
    x = summary["frequency"].to_numpy(float)
    m = pd.to_numeric(summary["monetary_value"], errors="coerce").to_numpy(float)
    repeat = x > 0
    if not repeat.any():
        raise DataError(
            "no customer has a repeat purchase (frequency > 0), so the spend model has nothing to "
            "learn from; use a longer observation window"
        )
    _fail_where(summary, repeat & ~(np.isfinite(m) & (m > 0)),
                "monetary_value must be a positive finite mean spend for repeat buyers; not so in",
                "Check amounts in the transaction log (zero, negative or missing values)")
