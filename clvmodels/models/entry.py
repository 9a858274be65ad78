"""Checks of a summary entering a model (fit or scoring) and counts of identical customers.

A summary enters a model with one row per customer (unique ids), its time unit stated (for a
model that reads times) and, at scoring, the fit's time unit. A summary in another time unit than
the fit's is refused rather than converted: its recency and T would have to be rescaled and the
horizon the caller passes is in the summary's unit too, so a silent conversion would change what
the caller asked for.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from clvmodels.data.checks import check_unique_ids
from clvmodels.data.meta import summary_meta
from clvmodels.errors import DataError, describe_rows

#: how to state a summary's time unit, for messages
STATE_UNIT = ("clvmodels.as_summary(frame, time_unit='W', observation_end='2024-06-30') (or rebuild it "
              "with clvmodels.rfm_summary(..., time_unit=...))")


def check_entry(model, summary: pd.DataFrame, fitting: bool) -> None:
    """The family's column checks, unique customer ids, a stated time unit (for a model that
    reads times) and, at scoring, the fit's time unit."""
    model._check_summary(summary, fitting)
    check_unique_ids(summary)  # also in the family's checks; explicit here for every entry
    unit = summary_meta(summary).get("time_unit")
    fitted = None if fitting else getattr(model, "time_unit_", None)
    if unit is None and model.reads_time:
        raise DataError(
            "the summary does not say which time unit its recency and T are in (a summary re-read "
            "from CSV or built in SQL loses it)"
            + (f"; this model was fitted in {fitted!r}" if fitted else "")
            + f". State it with {STATE_UNIT}"
        )
    if fitted and unit and unit != fitted:
        raise DataError(
            f"the model was fitted on a summary in time unit {fitted!r} but this summary "
            f"is in {unit!r}, so its recency and T mean something else; rebuild the summary with "
            f"clvmodels.rfm_summary(..., time_unit={fitted!r}), or refit the model on "
            f"this summary. A summary built elsewhere states its unit with {STATE_UNIT}"
        )


def fit_weights(summary: pd.DataFrame, weights) -> np.ndarray | None:
    """Counts of identical customers per summary row, shape (n,) float, or None.

    Parameters
    ----------
    weights : None, array-like of shape (n,), Series aligned with ``summary``, or str
        Whole numbers >= 0, not all 0; a string names a summary column holding them.
    """
    if weights is None:
        return None
    if isinstance(weights, str):
        if weights not in summary.columns:
            raise DataError(f"weights={weights!r} is not a column of the summary; columns are "
                            f"{list(summary.columns)[:10]}")
        weights = summary[weights]
    if isinstance(weights, pd.Series) and not weights.index.equals(summary.index):
        raise DataError("weights is a Series whose index differs from the summary's; pass it "
                        "aligned (weights.reindex(summary.index)) or as an array in row order")
    w = pd.to_numeric(pd.Series(np.asarray(weights).ravel()), errors="coerce").to_numpy(float)
    if w.size != len(summary):
        raise DataError(f"weights has {w.size} values but the summary has {len(summary)} rows; "
                        "give one count per row")
    bad = ~(np.isfinite(w) & (w >= 0) & (w == np.round(w)))
    if bad.any():
        raise DataError("weights must be whole numbers >= 0 (how many identical customers each row "
                        f"stands for); not so in {describe_rows(summary.index[bad])}")
    if not (w > 0).any():
        raise DataError("every weight is 0, so there is no customer to fit")
    return w
