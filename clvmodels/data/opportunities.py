"""Transaction log -> discrete-opportunity summary per customer, the history BG/BB reads.

Some businesses give customers one chance to buy per period: a yearly donation drive, an annual
event, a seasonal catalogue. :func:`opportunity_summary` cuts time into calendar periods (the
*opportunities*) and, per customer, counts periods, not purchases (Fader, Hardie & Shang 2010):

- opportunity 0 is the period of the customer's first transaction;
- ``frequency`` (x): later periods, up to the (calibration) end, with at least one transaction;
- ``recency`` (t_x): the index of the last such period (0 without repeats);
- ``n_periods`` (n): the periods after the first up to the (calibration) end: 0 <= t_x <= n;
- with amounts, ``monetary_value`` (mean of the repeat periods' totals, first period excluded),
  ``revenue_to_date`` (every period, the first included) and ``first_purchase_value``, so that
  ``revenue_to_date == first_purchase_value + frequency * monetary_value`` as in
  :func:`clvmodels.rfm_summary`; ``first_purchase``, ``last_purchase`` (days); attributes;
- with ``calibration_period_end``: ``frequency_holdout``, the holdout periods with a
  transaction; the metadata's ``duration_holdout`` is the number of holdout periods.

The log is checked exactly as :func:`clvmodels.rfm_summary` checks it (the same code: missing
ids, unreadable or ambiguous timestamps, bad amounts, returns and zero-amount policies, events
after the observation end refused unless ``late_purchases="drop"``), one :class:`DataError`
listing every problem. Several transactions in one period are one transaction opportunity taken
(amounts summed; with ``returns="net"`` a period netting below zero, or to zero unless
``zero_amounts="keep"``, is no transaction). Window ends must be the last day of a period: a
partly observed opportunity is refused rather than read as a missed one.

Periods are calendar periods in UTC dates: "D" days, "W" weeks from Monday to Sunday, "M"
calendar months, "Y" calendar years. The metadata's ``time_unit`` and ``period`` are the period,
so horizons and discount rates for the model are per opportunity.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from clvmodels.data import sql
from clvmodels.data.frame_log import normalise_frame
from clvmodels.data.meta import set_summary_meta
from clvmodels.data.summary import HOLDOUT_COLUMNS, SUMMARY_COLUMNS, _attribute_column
from clvmodels.data.transactions import LogSpec, day_of, day_to_iso
from clvmodels.errors import DataError, check_choice

PERIODS = ("D", "W", "M", "Y")
OPPORTUNITY_COLUMNS = ("frequency", "recency", "n_periods")
_EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday: day + 3 counts from the Monday before


def period_index(days, period: str) -> np.ndarray:
    """Calendar period of each day (days since 1970-01-01) as an integer, consecutive periods
    consecutive integers.

    Parameters
    ----------
    days : array_like of int, shape (n,)
    period : {"D", "W", "M", "Y"}

    Returns
    -------
    ndarray of int64, shape (n,)
    """
    days = np.asarray(days, dtype=np.int64)
    if period == "D":
        return days
    if period == "W":
        return (days + _EPOCH_WEEKDAY) // 7
    unit = {"M": "M", "Y": "Y"}[period]
    return days.astype("datetime64[D]").astype(f"datetime64[{unit}]").astype(np.int64)


def period_last_day(index, period: str) -> np.ndarray:
    """Last day (days since 1970-01-01) of each period of :func:`period_index`."""
    index = np.asarray(index, dtype=np.int64)
    if period == "D":
        return index
    if period == "W":
        return 7 * (index + 1) - _EPOCH_WEEKDAY - 1
    unit = {"M": "M", "Y": "Y"}[period]
    following = (index + 1).astype(f"datetime64[{unit}]").astype("datetime64[D]").astype(np.int64)
    return following - 1


def _check_period_end(value, name: str, period: str):
    """The day of a window end, refused unless it is the last day of a period."""
    if value is None:
        return None
    day = day_of(value, name)
    last = int(period_last_day(period_index([day], period), period)[0])
    if last != day:
        previous = int(period_last_day(period_index([day], period) - 1, period)[0])
        raise DataError(
            f"{name} {day_to_iso(day)} is not the last day of a {period!r} period, so its "
            f"opportunity would be only partly observed; pass {day_to_iso(previous)} (end of the "
            f"previous period) or {day_to_iso(last)} (end of this one, if it is complete)"
        )
    return day_to_iso(day)


def opportunity_summary(
    transactions: pd.DataFrame,
    *,
    period: str,
    customer_id_col: str = "customer_id",
    datetime_col: str = "date",
    monetary_value_col: str | None = None,
    observation_period_end=None,
    calibration_period_end=None,
    datetime_format: str | None = None,
    attribute_cols=None,
    returns: str = "refuse",
    zero_amounts: str = "refuse",
    late_purchases: str = "refuse",
) -> pd.DataFrame:
    """Summarise a transaction log per customer in discrete opportunities (see module docstring).

    Parameters
    ----------
    transactions : pandas.DataFrame
        One row per transaction, the columns :func:`clvmodels.rfm_summary` reads (files: read
        them with pandas first).
    period : {"D", "W", "M", "Y"}
        Length of one opportunity: calendar days, Monday-Sunday weeks, months or years.
    customer_id_col, datetime_col, monetary_value_col, datetime_format, attribute_cols
        As in :func:`clvmodels.rfm_summary`.
    observation_period_end : date-like, optional
        Last day observed (inclusive), the last day of a period. Default: the last day of the
        period of the last transaction, which is then taken as fully observed.
    calibration_period_end : date-like, optional
        End of the calibration window (the last day of a period, before the observation end):
        the summary then covers the calibration periods and adds ``frequency_holdout``.
    returns, zero_amounts, late_purchases
        Policies as in :func:`clvmodels.rfm_summary`, netting and merging per period.

    Returns
    -------
    pandas.DataFrame, shape (n_customers, k)
        Indexed by customer id (sorted): ``frequency``, ``recency``, ``n_periods`` (int64, in
        opportunities), amounts (float64, log currency, only with ``monetary_value_col``),
        ``first_purchase``, ``last_purchase`` (datetime64[us]), attributes, and
        ``frequency_holdout`` (int64) with a split. ``attrs["clvmodels"]``: ``time_unit`` and
        ``period`` (the period), ``observation_end`` (the calibration end with a split) and,
        with a split, ``holdout_end`` and ``duration_holdout`` (holdout periods).

    Raises
    ------
    DataError
        Every problem of the log (counts, example ids, what to do), a window end that is not a
        period's last day, or no customer left.
    """
    check_choice("period", period, PERIODS)
    if not isinstance(transactions, pd.DataFrame):
        raise DataError(f"opportunity_summary needs a pandas DataFrame; got "
                        f"{type(transactions).__name__} (read files with pandas first)")
    if isinstance(attribute_cols, str):
        attribute_cols = [attribute_cols]
    attribute_cols = tuple(attribute_cols or ())
    reserved = [c for c in attribute_cols if c in SUMMARY_COLUMNS + HOLDOUT_COLUMNS + OPPORTUNITY_COLUMNS]
    if reserved:
        raise DataError(f"attribute_cols {reserved} clash with summary column names; rename them")
    spec = LogSpec(customer_id_col, datetime_col, monetary_value_col, datetime_format,
                   attribute_cols, returns, late_purchases, zero_amounts)
    dates = {"observation_period_end": _check_period_end(observation_period_end,
                                                         "observation_period_end", period)}
    if calibration_period_end is not None:
        dates["calibration_period_end"] = _check_period_end(calibration_period_end,
                                                            "calibration_period_end", period)
    log = normalise_frame(transactions, spec, dates)
    window = log.window
    end_index = int(period_index([window.end_day], period)[0])
    end_day = int(period_last_day([end_index], period)[0])  # the default end: a whole period
    cal_index = end_index if calibration_period_end is None else int(
        period_index([window.calibration_day], period)[0])
    totals = sql.customer_totals_numpy(
        log.customers.keys, period_index(log.day, period), log.amount_micro, log.attributes,
        cal_index, net_returns=spec.returns == "net", keep_zero_days=spec.zero_amounts == "keep")
    if len(totals["customer_id"]) == 0:
        raise DataError(f"no customer has a transaction in a period up to the calibration end "
                        f"{day_to_iso(period_last_day([cal_index], period)[0])} once returns, zero "
                        "amounts and late transactions are dropped; check the dates and policies")
    ids = log.customers.ids(np.asarray(totals["customer_id"]))
    days = _first_last_days(log, totals, period)
    summary = _frame(totals, ids, days, cal_index, spec, calibration_period_end is not None)
    for i, name in enumerate(attribute_cols):
        values = _attribute_column(totals, i, name, log.attribute_values[i], ids)
        summary[name] = values.array if isinstance(values, pd.Index) else values
    summary = summary.sort_index(kind="stable") if _sortable(summary.index) else summary
    meta = {"time_unit": period, "period": period,
            "observation_end": day_to_iso(period_last_day([cal_index], period)[0])}
    if calibration_period_end is not None:
        meta |= {"holdout_end": day_to_iso(end_day), "duration_holdout": float(end_index - cal_index)}
    return set_summary_meta(summary, **meta)


def _first_last_days(log, totals, period: str):
    """First transaction day in each customer's first period and last one in their last
    calibration period (periods from the aggregation, so a period netted away is skipped)."""
    wanted = np.asarray(totals["customer_id"], np.int64)
    where = pd.Series(np.arange(wanted.size), index=wanted)
    row = where.reindex(log.customers.keys).to_numpy()  # NaN: a customer not in the summary
    known = ~np.isnan(row)
    row = row[known].astype(np.int64)
    day = log.day[known]
    index = period_index(day, period)
    first = np.full(wanted.size, np.iinfo(np.int64).max)
    last = np.full(wanted.size, np.iinfo(np.int64).min)
    in_first = index == np.asarray(totals["first_day"], np.int64)[row]
    in_last = index == np.asarray(totals["last_day"], np.int64)[row]
    np.minimum.at(first, row[in_first], day[in_first])
    np.maximum.at(last, row[in_last], day[in_last])
    return first, last


def _frame(totals, ids, days, cal_index: int, spec: LogSpec, holdout: bool) -> pd.DataFrame:
    first = np.asarray(totals["first_day"], np.int64)
    frequency = np.asarray(totals["n_days"], np.int64) - 1
    columns = {
        "frequency": frequency,
        "recency": np.asarray(totals["last_day"], np.int64) - first,
        "n_periods": cal_index - first,
    }
    if spec.monetary_value_col:
        total_micro = np.asarray(totals["total_micro"], np.int64)
        first_micro = np.asarray(totals["first_micro"], np.int64)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = (total_micro - first_micro) / (frequency * float(sql.AMOUNT_SCALE))
        columns["monetary_value"] = np.where(frequency > 0, mean, 0.0)
        columns["revenue_to_date"] = total_micro / float(sql.AMOUNT_SCALE)
        columns["first_purchase_value"] = first_micro / float(sql.AMOUNT_SCALE)
    for name, values in zip(("first_purchase", "last_purchase"), days):
        columns[name] = np.asarray(values, np.int64).astype("datetime64[D]").astype("datetime64[us]")
    if holdout:
        columns["frequency_holdout"] = np.asarray(totals["n_holdout_days"], np.int64)
    return pd.DataFrame(columns, index=pd.Index(ids, name=spec.customer_id_col))


def _sortable(index: pd.Index) -> bool:
    try:
        index.sort_values()
    except TypeError:
        return False
    return True
