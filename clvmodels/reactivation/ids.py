"""Customer ids and dates handed to the reactivation functions: parsing and the checks they need."""

from __future__ import annotations

import numpy as np
import pandas as pd

from clvmodels.errors import DataError, describe_rows


def as_ids(name: str, value) -> pd.Index:
    """Customer ids from a list, Index, Series (its values) or DataFrame (its index)."""
    if isinstance(value, pd.DataFrame):
        ids = value.index
    elif isinstance(value, (pd.Index, pd.Series, np.ndarray, list, tuple, set, frozenset)):
        ids = pd.Index(list(value) if isinstance(value, (set, frozenset)) else value)
    else:
        raise DataError(f"{name} must be customer ids (a list, Index, Series or a DataFrame indexed by "
                        f"customer id); got {type(value).__name__}")
    if len(ids) == 0:
        raise DataError(f"the {name} group has 0 customers; a response rate needs at least one customer")
    if ids.has_duplicates:
        raise DataError(f"{name} lists customers more than once: {describe_rows(ids[ids.duplicated()].unique())}; "
                        "each customer belongs to one group once")
    return ids


def check_id_types(list_ids: pd.Index, log_ids: pd.Series, customer_col: str) -> None:
    """Ids of different kinds (e.g. 12 vs '12') never match; say so instead of reporting no returns."""
    numeric_list = pd.api.types.is_numeric_dtype(list_ids.dtype)
    numeric_log = pd.api.types.is_numeric_dtype(log_ids.dtype)
    if len(log_ids) and numeric_list != numeric_log:
        raise DataError(
            f"customer ids in the transactions' {customer_col!r} column are "
            f"{'numbers' if numeric_log else 'text'} but the campaign list's ids are "
            f"{'numbers' if numeric_list else 'text'}, so none can match; convert one to the other's type"
        )


def as_date(value, name: str) -> pd.Timestamp:
    """A day (midnight Timestamp) from a date-like value, or a DataError naming ``name``."""
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        stamp = pd.NaT
    if pd.isna(stamp):
        raise DataError(f"{name} must be a date such as '1998-01-31'; got {value!r}")
    return stamp.normalize()
