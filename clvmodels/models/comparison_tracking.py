"""Tracking: the cohort's cumulative repeat purchases per period, actual vs each model.

The expected cumulative count by day ``d`` is ``sum_i E[X(t_i(d))]``, with ``t_i(d)`` customer
i's time since first purchase in the model's time unit (whole days, as the summary measures
``T``) and ``E[X(t)]`` the family's ``expected_purchases_new`` (FHL 2005 eq. 9 for BG/NBD; their
Figure 4 tracks CDNOW this way). It is unconditional: the forecast of the holdout part of the
curve uses no customer's history, only the parameters.

The actual count comes from the transaction log: purchases on one day merged into one purchase
(as :func:`clvmodels.rfm_summary` merges them), each customer's first purchase day excluded.

The period grid is anchored at the calibration end: points at the calibration end plus whole
periods (``round(k * days per unit)`` days, k = ..., -1, 0, 1, ...), from the first acquisition
to the holdout end, so the calibration end is a point and, for a holdout of whole periods, so is
the holdout end.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from clvmodels.data.timeunits import days_per_unit
from clvmodels.errors import DataError, describe_rows
from clvmodels.inference.compress import compress_rows
from clvmodels.models.comparison_fit import parameter_groups


def to_days(values) -> np.ndarray:
    """Dates -> whole days since 1970-01-01 (int64); time-zone-aware times are taken in UTC."""
    stamps = pd.Series(pd.to_datetime(pd.Series(values).to_numpy() if np.ndim(values) else [values]))
    if getattr(stamps.dt, "tz", None) is not None:
        stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
    return stamps.to_numpy("datetime64[D]").astype(np.int64)


def period_grid(first_day: int, calibration_day: int, end_day: int, unit_days: float) -> np.ndarray:
    """Days of the tracking points: the calibration end plus whole periods, within
    ``(first_day, end_day]`` (first acquisition excluded: nobody has repeated yet). Shape (m,)."""
    before = int(np.floor((calibration_day - first_day) / unit_days))
    after = int(np.floor((end_day - calibration_day) / unit_days + 1e-9))
    k = np.arange(-before, after + 1)
    days = calibration_day + np.round(k * unit_days).astype(np.int64)
    return days[(days > first_day) & (days <= end_day)]


def actual_cumulative(transactions: pd.DataFrame, summary: pd.DataFrame, days: np.ndarray, *,
                      customer_id_col: str, datetime_col: str) -> np.ndarray:
    """Repeat purchase days of the summary's customers on or before each day, shape (m,).

    Raises
    ------
    DataError
        If the log lacks the columns, has purchases before a customer's ``first_purchase``, or
        lacks customers of the summary (then it is not the log the summary was built from).
    """
    missing = [c for c in (customer_id_col, datetime_col) if c not in transactions.columns]
    if missing:
        raise DataError(f"the transaction log lacks the columns {missing} (it has "
                        f"{list(transactions.columns)}); name them with customer_id_col= and datetime_col=")
    log = pd.DataFrame({"id": transactions[customer_id_col].to_numpy(),
                        "day": to_days(transactions[datetime_col])})
    log = log[log["id"].isin(summary.index)].drop_duplicates()
    absent = summary.index.difference(pd.Index(log["id"].unique()))
    if len(absent):
        raise DataError(f"the transaction log has no purchase of {describe_rows(absent)} of the summary; "
                        "pass the log the summary was built from")
    first = pd.Series(to_days(summary["first_purchase"]), index=summary.index).reindex(log["id"]).to_numpy()
    day = log["day"].to_numpy()
    if (day < first).any():
        raise DataError(f"the log has purchases before the summary's first_purchase for "
                        f"{describe_rows(log['id'][day < first].unique())}; pass the log the summary "
                        "was built from")
    repeat_days = np.sort(day[day > first])
    return np.searchsorted(repeat_days, days, side="right").astype(float)


def expected_cumulative(model, summary: pd.DataFrame, days: np.ndarray, unit_days: float) -> np.ndarray:
    """Expected cumulative repeat purchases of the summary's customers by each day, shape (m,).

    Evaluated once per distinct (first purchase day, parameter vector), in chunks of 256 so that
    memory stays (256, m).
    """
    family = model.family
    groups, member = parameter_groups(model, summary)
    first = to_days(summary["first_purchase"])
    distinct = compress_rows(first, member)
    (first_day, group), counts = distinct.columns, distinct.counts
    total = np.zeros(days.size)
    for start in range(0, distinct.n_unique, 256):
        part = slice(start, start + 256)
        t = np.maximum(days[None, :] - first_day[part, None], 0) / unit_days  # (chunk, m)
        params = {k: v[group[part]][:, None] for k, v in groups.items()}  # (chunk, 1)
        # t = 0 (not yet acquired, or acquired that day) contributes nothing
        value = np.where(t > 0, family.expected_purchases_new(params, np.where(t > 0, t, 1.0)), 0.0)
        total += counts[part] @ value
    return total


def tracking_frame(models: dict, summary: pd.DataFrame, transactions: pd.DataFrame, *,
                   time_unit: str, calibration_end, end, customer_id_col: str,
                   datetime_col: str) -> pd.DataFrame:
    """Actual and expected cumulative repeat purchases at each tracking point.

    Returns
    -------
    DataFrame, shape (m, 2 + n_models)
        Indexed by ``date``; columns ``period`` (whole periods since the calibration end: <= 0 in
        the calibration, > 0 in the holdout), ``actual`` and one column per model label.
    """
    unit_days = days_per_unit(time_unit)
    first = to_days(summary["first_purchase"])
    cal_day, end_day = int(to_days(calibration_end)[0]), int(to_days(end)[0])
    days = period_grid(int(first.min()), cal_day, end_day, unit_days)
    frame = pd.DataFrame({"period": np.round((days - cal_day) / unit_days).astype(np.int64),
                          "actual": actual_cumulative(transactions, summary, days,
                                                      customer_id_col=customer_id_col,
                                                      datetime_col=datetime_col)},
                         index=pd.DatetimeIndex(days.astype("datetime64[D]"), name="date"))
    for label, model in models.items():
        frame[label] = expected_cumulative(model, summary, days, unit_days)
    return frame
