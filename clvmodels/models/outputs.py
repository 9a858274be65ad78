"""Placing evaluated quantities into prediction frames with consistent column names."""

from __future__ import annotations

import numpy as np
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


class FrameColumns:
    """Columns of a prediction frame collected in order and made into the frame at once.

    ``add`` names columns as :func:`add_columns` does. :meth:`frame` hands pandas the arrays
    themselves (no copy: a million rows cost ~0.6 ms per copied column, as much as some
    quantities) when an array is writeable and shares no memory with another column, so that
    changing one cell of the frame can change nothing else; any other array is copied.
    """

    def __init__(self):
        self.columns: dict = {}
        self.kinds: dict = {}

    def add(self, column: str, result: dict, uncertainty) -> None:
        """Add ``column`` (``result["value"]``) and, with an interval, its bounds."""
        self.columns[column] = result["value"]
        if "lower" in result:
            self.columns[f"{column}_lower"] = result["lower"]
            self.columns[f"{column}_upper"] = result["upper"]
            self.kinds[column] = uncertainty

    def frame(self, index: pd.Index) -> pd.DataFrame:
        """The frame, indexed by ``index``; ``attrs["interval_kinds"]`` as :func:`add_columns`."""
        arrays, seen = {}, []
        for column, values in self.columns.items():
            values = np.asarray(values)
            own = values.flags.writeable and values.ndim == 1 and not any(
                np.may_share_memory(values, other) for other in seen)
            arrays[column] = values if own else values.copy()
            seen.append(arrays[column])
        frame = pd.DataFrame(arrays, index=index, copy=False)
        if self.kinds:
            frame.attrs["interval_kinds"] = dict(self.kinds)
        return frame
