"""Metadata that travels with a customer summary in ``DataFrame.attrs["clvmodels"]``.

Keys: ``time_unit`` ("D", "W", "M" or "Y"), ``period`` (base period in which purchases merge, "D"),
``observation_end`` (ISO date string, end of the calibration window), and for a calibration/holdout
summary ``holdout_end`` and ``duration_holdout`` (in time units).
"""

from __future__ import annotations

import pandas as pd

from clvmodels.errors import DataError

ATTRS_KEY = "clvmodels"


def summary_meta(summary: pd.DataFrame) -> dict:
    """Return the clvmodels metadata of a summary frame (empty dict if there is none)."""
    return dict(summary.attrs.get(ATTRS_KEY, {}))


def set_summary_meta(summary: pd.DataFrame, **meta) -> pd.DataFrame:
    """Merge ``meta`` into the summary's metadata in place and return the frame."""
    merged = summary_meta(summary)
    merged.update(meta)
    summary.attrs[ATTRS_KEY] = merged
    return summary


def time_unit_of(summary: pd.DataFrame, default: str | None = None) -> str:
    """The time unit of a summary; ``default`` if it carries none, else a clear error."""
    unit = summary_meta(summary).get("time_unit", default)
    if unit is None:
        raise DataError(
            "the summary carries no time unit; build it with clvmodels.rfm_summary(...) or set "
            "summary.attrs['clvmodels'] = {'time_unit': 'W'} (one of 'D', 'W', 'M', 'Y')"
        )
    return unit
