"""Placing evaluated quantities into prediction frames with consistent column names."""

from __future__ import annotations

import pandas as pd


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
