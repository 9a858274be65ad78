"""Placing evaluated quantities into prediction frames with consistent column names."""

from __future__ import annotations

import pandas as pd


def frame_of(results: dict, index: pd.Index, uncertainty) -> pd.DataFrame:
    """A frame of several quantities' columns built at once (as :func:`add_columns` names them),
    e.g. hundreds of ``p_<n>`` columns without inserting them one by one."""
    columns, kinds = {}, {}
    for column, result in results.items():
        columns[column] = result["value"]
        if "lower" in result:
            columns[f"{column}_lower"], columns[f"{column}_upper"] = result["lower"], result["upper"]
            kinds[column] = uncertainty
    frame = pd.DataFrame(columns, index=index)
    if kinds:
        frame.attrs["interval_kinds"] = kinds
    return frame


def add_columns(frame: pd.DataFrame, column: str, result: dict, uncertainty) -> None:
    """Add ``column`` and, when an interval was computed, ``column_lower`` and ``column_upper``.

    ``frame.attrs["interval_kinds"]`` records, per column, which interval its bounds are
    ("expected" or "predictive"), because probabilities keep expected-value intervals even when a
    predictive one was asked for.
    """
    frame[column] = result["value"]
    if "lower" in result:
        frame[f"{column}_lower"] = result["lower"]
        frame[f"{column}_upper"] = result["upper"]
        frame.attrs.setdefault("interval_kinds", {})[column] = uncertainty
