"""Metadata that travels with a customer summary in ``DataFrame.attrs["clvmodels"]``.

Keys (see :data:`META_KEYS`):

- ``time_unit``: "D", "W", "M" or "Y", the unit of ``recency`` and ``T``
  (:mod:`clvmodels.data.timeunits`);
- ``period``: the base period in which purchases merge into one purchase, "D" (days);
- ``observation_end``: ISO date string (``"1997-09-30"``), the last day of the (calibration)
  window, inclusive;
- for a calibration/holdout summary also ``holdout_end`` (ISO date string) and
  ``duration_holdout`` (length of the holdout in ``time_unit``).

:func:`clvmodels.rfm_summary` and :func:`clvmodels.as_summary` set them; read them with
:func:`summary_meta` (all keys, as a dict) or :func:`time_unit_of` / :func:`observation_end_of`.
``attrs`` survive pandas operations that keep the frame (slicing, ``assign``) but not a CSV round
trip or most concatenations: re-attach them with :func:`clvmodels.as_summary`.
"""

from __future__ import annotations

import datetime as _dt
import re

import numpy as np
import pandas as pd

from clvmodels.errors import DataError

ATTRS_KEY = "clvmodels"

#: Every metadata key and what it holds.
META_KEYS = {
    "time_unit": "unit of recency and T: 'D', 'W', 'M' or 'Y'",
    "period": "base period in which same-period purchases merge: 'D'",
    "observation_end": "last day of the (calibration) window, inclusive, ISO date string",
    "holdout_end": "last day of the holdout period, inclusive, ISO date string",
    "duration_holdout": "length of the holdout period in time_unit (float)",
}

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$")


def summary_meta(summary: pd.DataFrame) -> dict:
    """The clvmodels metadata of a summary frame.

    Parameters
    ----------
    summary : pandas.DataFrame
        A customer summary (one row per customer).

    Returns
    -------
    dict
        A copy of ``summary.attrs["clvmodels"]`` with the keys of :data:`META_KEYS` that are set
        (an empty dict when the frame carries none, e.g. after a CSV round trip).

    Examples
    --------
    >>> from clvmodels.datasets import load_cdnow_summary
    >>> summary_meta(load_cdnow_summary(holdout=False))
    {'time_unit': 'W', 'period': 'D', 'observation_end': '1997-09-30'}
    """
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
            "the summary carries no time unit; build it with clvmodels.rfm_summary(...) or state "
            "it with clvmodels.as_summary(frame, time_unit='W', observation_end='YYYY-MM-DD')"
        )
    return unit


def observation_end_of(summary: pd.DataFrame) -> pd.Timestamp | None:
    """The last day of the summary's (calibration) window as a Timestamp, or None if not recorded."""
    end = summary_meta(summary).get("observation_end")
    return None if end is None else pd.Timestamp(end)


def iso_date(value, name: str) -> str:
    """A setting date as an ISO date string (``"1997-09-30"``), read one unambiguous way.

    Accepts ISO 8601 text (``"1997-09-30"``, optionally with a time and UTC offset), ``datetime``,
    ``date``, ``pandas.Timestamp``, ``pandas.Period`` and ``numpy.datetime64``. Aware times are
    converted to UTC before the date is taken, as for purchase times. Other text (``"09/30/1997"``)
    is refused rather than guessed.
    """
    if isinstance(value, str):
        if not _ISO_DATE.match(value.strip()):
            raise DataError(f"{name}={value!r} is not an ISO 8601 date; pass e.g. '1997-09-30'")
        value = value.strip()
    elif isinstance(value, pd.Period):
        value = value.start_time
    elif not isinstance(value, (_dt.date, np.datetime64, pd.Timestamp)):
        raise DataError(f"{name} must be a date such as '1997-09-30'; got {type(value).__name__} "
                        f"{value!r}")
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError) as err:
        raise DataError(f"{name}={value!r} is not a date ({err}); pass e.g. '1997-09-30'") from None
    if pd.isna(stamp):
        raise DataError(f"{name} is missing; pass a date such as '1997-09-30'")
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return stamp.date().isoformat()
