"""Tracking plots: repeat transactions of the cohort over calendar time, actual vs expected.

The expected cumulative number of repeat transactions by day ``d`` is
``sum_i E[X(t_i(d))]`` with ``t_i(d)`` customer i's time since first purchase and ``E[X(t)]``
the family's ``expected_purchases_new`` (FHL 2005 eq. 9 for BG/NBD; Figure 4 of the paper tracks
CDNOW this way). It is computed per birth cohort (distinct first-purchase day, and segment for
models pooled by segment), not per customer: a cohort of a million customers acquired over a year
costs 365 curves.

The actual count comes from the transaction log, with purchases on the same day merged into one
(as :func:`clvmodels.rfm_summary` does) and each customer's first purchase day excluded.

For a family of discrete opportunities (``family.discrete_time``, BG/BB) both sides count
opportunities: ``t_i(d)`` is the number of complete periods (of the model's time unit) after the
customer's first one by day ``d``, and the actual count merges the purchases of one period and
leaves out the first period, as :func:`clvmodels.data.opportunities.opportunity_summary` does.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from clvmodels.data.meta import summary_meta
from clvmodels.data.timeunits import days_per_unit
from clvmodels.errors import DataError, describe_rows
from clvmodels.models.intervals import iter_chunks
from clvmodels.plotting._common import (
    ACTUAL_COLOR,
    MODEL_COLOR,
    days_to_index,
    format_date_axis,
    model_time_unit,
    new_axes,
    purchase_family,
    require_columns,
    to_days,
    unit_name,
)


def _periods_after_first(day: np.ndarray, first: np.ndarray, period: str) -> np.ndarray:
    """Complete opportunities after each customer's first one by the end of each day, (c, m)."""
    from clvmodels.data.opportunities import period_index

    done = period_index(day + 1, period) - 1  # the last period over by the end of the day
    return np.maximum(done[None, :] - period_index(first, period)[:, None], 0).astype(float)


def expected_repeat_transactions(model, summary: pd.DataFrame, dates) -> pd.Series:
    """Expected cumulative repeat transactions of the summary's customers by each date.

    Parameters
    ----------
    model : purchase model
        Fitted, of any family (BetaGeoModel, ParetoNBDModel, ...).
    summary : DataFrame
        The cohort: ``first_purchase`` per customer (and the segment column for a model pooled
        by segment).
    dates : array_like of dates, shape (m,)
        Calendar days; a day counts in full (time since first purchase is measured to it in
        whole days, as the summary measures ``T``).

    Returns
    -------
    Series, shape (m,)
        Indexed by date.

    Examples
    --------
    >>> import clvmodels
    >>> from clvmodels import plotting
    >>> from clvmodels.datasets import load_cdnow_summary
    >>> summary = load_cdnow_summary()            # CDNOW: 2,357 customers, weeks, 39-week holdout
    >>> bg = clvmodels.BetaGeoModel().fit(summary)
    >>> expected = plotting.expected_repeat_transactions(bg, summary, ["1997-09-30", "1998-06-30"])
    >>> bool(expected.iloc[1] > expected.iloc[0])
    True
    """
    family = purchase_family(model)
    require_columns(summary, ["first_purchase"], "the summary", "build it with clvmodels.rfm_summary")
    unit = model_time_unit(model)
    day = to_days(dates)
    first = to_days(summary["first_purchase"])
    params = model.customer_params(summary)  # (1, 1) pooled or (1, n) by segment
    names = list(family.param_names)
    per_customer = [np.broadcast_to(params[k][0], first.shape) for k in names]
    key = np.column_stack([first, *per_customer])  # one birth cohort per distinct row
    distinct, counts = np.unique(key, axis=0, return_counts=True)
    total = np.zeros(day.size)
    for rows in iter_chunks(len(distinct), 256):  # (chunk, m) arrays at a time
        part = distinct[rows]
        born = part[:, 0].astype(np.int64)
        if family.discrete_time:
            t = _periods_after_first(day, born, unit)
        else:
            t = np.maximum(day[None, :] - born[:, None], 0) / days_per_unit(unit)
        cohort = {k: part[:, [j + 1]] for j, k in enumerate(names)}  # (chunk, 1) each
        total += counts[rows] @ np.where(t > 0, family.expected_purchases_new(cohort, t), 0.0)
    return pd.Series(total, index=days_to_index(day),
                     name="expected")


def actual_repeat_transactions(transactions: pd.DataFrame, summary: pd.DataFrame, dates, *,
                               customer_id_col: str = "customer_id", datetime_col: str = "date",
                               period: str | None = None) -> pd.Series:
    """Cumulative repeat transactions of the summary's customers by each date, from the log.

    Purchases on one day count once; a customer's first purchase day (the summary's
    ``first_purchase``) is not a repeat transaction. Customers not in the summary are ignored.
    With ``period`` (discrete opportunities), purchases in one calendar period count once, the
    customer's first period is left out, and a period counts from its last day on.

    Parameters
    ----------
    transactions : DataFrame
        The transaction log the summary was built from (one row per purchase).
    summary : DataFrame
        The cohort: ``first_purchase`` per customer, indexed by customer id.
    dates : array_like of dates, shape (m,)
        Calendar days; purchases on a day count by the end of that day.
    customer_id_col, datetime_col : str, default "customer_id", "date"
        Columns of the log.
    period : {"D", "W", "M", "Y"}, optional
        Count opportunities of this length instead of purchase days (BG/BB).

    Returns
    -------
    Series, shape (m,)
        Indexed by date.

    Examples
    --------
    >>> import clvmodels
    >>> from clvmodels import plotting
    >>> from clvmodels.datasets import load_cdnow_summary
    >>> summary = load_cdnow_summary()            # CDNOW: 2,357 customers, weeks, 39-week holdout
    >>> bg = clvmodels.BetaGeoModel().fit(summary)
    >>> from clvmodels.datasets import load_cdnow_transactions
    >>> tx = load_cdnow_transactions()
    >>> int(plotting.actual_repeat_transactions(tx, summary, ["1997-09-30"]).iloc[0])  # FHL 2005: 2,457
    2457
    """
    require_columns(transactions, [customer_id_col, datetime_col], "the transaction log",
                    "name the columns with customer_id_col= and datetime_col=")
    require_columns(summary, ["first_purchase"], "the summary", "build it with clvmodels.rfm_summary")
    log = pd.DataFrame({"id": transactions[customer_id_col].to_numpy(),
                        "day": to_days(transactions[datetime_col])})
    log = log[log["id"].isin(summary.index)].drop_duplicates()
    first = pd.Series(to_days(summary["first_purchase"]), index=summary.index)
    first_of = first.reindex(log["id"]).to_numpy()
    early = log["day"].to_numpy() < first_of
    if early.any():
        raise DataError(
            f"the log has purchases before the summary's first_purchase for "
            f"{describe_rows(log['id'][early].unique())}; pass the log the summary was built from"
        )
    day = to_days(dates)
    if period is not None:
        from clvmodels.data.opportunities import period_index, period_last_day

        taken = pd.DataFrame({"id": log["id"].to_numpy(), "p": period_index(log["day"], period)})
        taken = taken[taken["p"].to_numpy() > period_index(first_of, period)].drop_duplicates()
        repeat_days = np.sort(period_last_day(taken["p"].to_numpy(), period))  # counted once over
    else:
        repeat_days = np.sort(log["day"].to_numpy()[log["day"].to_numpy() > first_of])
    counts = np.searchsorted(repeat_days, day, side="right").astype(float)
    return pd.Series(counts, index=days_to_index(day),
                     name="actual")


def _tracking_table(model, summary, transactions, customer_id_col, datetime_col, end) -> pd.DataFrame:
    """Daily actual and expected cumulative repeat transactions from the first acquisition on."""
    start = pd.Timestamp(summary["first_purchase"].min()).normalize()
    meta = summary_meta(summary)
    if end is None:
        end = meta.get("holdout_end") or pd.to_datetime(transactions[datetime_col]).max()
    end = pd.Timestamp(end).normalize()
    if end.tz is not None:
        end = end.tz_localize(None)
    if end <= start:
        raise DataError(f"end ({end.date()}) must be after the first purchase ({start.date()})")
    dates = pd.date_range(start, end, freq="D")
    period = model_time_unit(model) if purchase_family(model).discrete_time else None
    return pd.DataFrame({
        "actual": actual_repeat_transactions(transactions, summary, dates, customer_id_col=customer_id_col,
                                             datetime_col=datetime_col, period=period),
        "expected": expected_repeat_transactions(model, summary, dates),
    })


def _period_edges(days: pd.DatetimeIndex, unit: str, discrete_time: bool) -> np.ndarray:
    """Positions in the daily table of the period boundaries: every ``unit`` (rounded to days) from
    the first acquisition day (no repeats yet), or, for discrete opportunities, the last day of
    each complete calendar period (when its repeats count)."""
    if not discrete_time:
        step = days_per_unit(unit)
        return np.round(np.arange(int(np.floor((len(days) - 1) / step)) + 1) * step).astype(int)
    from clvmodels.data.opportunities import period_index, period_last_day

    day = to_days(days)
    index = np.arange(period_index(day[:1], unit)[0], period_index(day[-1:], unit)[0] + 1)
    ends = period_last_day(index, unit)
    return (ends[ends <= day[-1]] - day[0]).astype(int)  # the first period's end: no repeats yet


def _mark_calibration_end(ax, summary) -> None:
    end = summary_meta(summary).get("observation_end")
    if end is not None and "holdout_end" in summary_meta(summary):
        ax.axvline(pd.Timestamp(end), color="0.5", linestyle=":", linewidth=1.0,
                   label=f"end of calibration ({end})")


def plot_cumulative_transactions(model, summary: pd.DataFrame, transactions: pd.DataFrame, *,
                                 customer_id_col: str = "customer_id", datetime_col: str = "date",
                                 end=None, ax=None):
    """Cumulative repeat transactions of the cohort over calendar time, actual vs expected.

    Parameters
    ----------
    model : purchase model
        Fitted on ``summary``, of any family.
    summary : DataFrame
        The cohort (``first_purchase``); a calibration/holdout summary marks the calibration end.
    transactions : DataFrame
        The transaction log the summary was built from.
    customer_id_col, datetime_col : str, default "customer_id", "date"
        Columns of the log.
    end : date-like, optional
        Last day shown; default the holdout end, else the last purchase in the log.
    ax : matplotlib Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    matplotlib Axes
        Two lines, actual and expected (plus a dotted calibration-end line for a holdout summary).

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import clvmodels
    >>> from clvmodels import plotting
    >>> from clvmodels.datasets import load_cdnow_summary
    >>> summary = load_cdnow_summary()            # CDNOW: 2,357 customers, weeks, 39-week holdout
    >>> bg = clvmodels.BetaGeoModel().fit(summary)
    >>> from clvmodels.datasets import load_cdnow_transactions
    >>> tx = load_cdnow_transactions()
    >>> ax = plotting.plot_cumulative_transactions(bg, summary, tx)
    >>> [label.get_text() for label in ax.get_legend().get_texts()]
    ['actual', 'expected (BG/NBD)', 'end of calibration (1997-09-30)']
    """
    table = _tracking_table(model, summary, transactions, customer_id_col, datetime_col, end)
    ax = new_axes(ax)
    ax.plot(table.index, table["actual"], color=ACTUAL_COLOR, label="actual")
    ax.plot(table.index, table["expected"], color=MODEL_COLOR, linestyle="--",
            label=f"expected ({purchase_family(model).label})")
    _mark_calibration_end(ax, summary)
    ax.set_xlabel("Date")
    ax.set_ylabel("Cumulative repeat transactions")
    ax.set_title("Tracking cumulative repeat transactions")
    ax.legend(frameon=False)
    format_date_axis(ax)
    return ax


def plot_incremental_transactions(model, summary: pd.DataFrame, transactions: pd.DataFrame, *,
                                  customer_id_col: str = "customer_id", datetime_col: str = "date",
                                  end=None, ax=None):
    """Repeat transactions per period (the model's time unit) over calendar time, actual vs expected.

    Periods start on the cohort's first purchase day and last one time unit (rounded to whole
    days); a last partial period is dropped. For a family of discrete opportunities (BG/BB) the
    periods are the calendar opportunities themselves, each counted at its last day.

    Parameters
    ----------
    model : purchase model
        Fitted on ``summary``, of any family.
    summary : DataFrame
        The cohort (``first_purchase``); a calibration/holdout summary marks the calibration end.
    transactions : DataFrame
        The transaction log the summary was built from.
    customer_id_col, datetime_col : str, default "customer_id", "date"
        Columns of the log.
    end : date-like, optional
        Last day shown; default the holdout end, else the last purchase in the log.
    ax : matplotlib Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    matplotlib Axes
        Two lines, actual and expected, one point per period.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import clvmodels
    >>> from clvmodels import plotting
    >>> from clvmodels.datasets import load_cdnow_summary
    >>> summary = load_cdnow_summary()            # CDNOW: 2,357 customers, weeks, 39-week holdout
    >>> bg = clvmodels.BetaGeoModel().fit(summary)
    >>> from clvmodels.datasets import load_cdnow_transactions
    >>> tx = load_cdnow_transactions()
    >>> ax = plotting.plot_incremental_transactions(bg, summary, tx)
    >>> ax.get_ylabel()
    'Repeat transactions per week'
    """
    table = _tracking_table(model, summary, transactions, customer_id_col, datetime_col, end)
    unit = model_time_unit(model)
    edges = _period_edges(table.index, unit, purchase_family(model).discrete_time)
    if edges.size < 2:
        raise DataError(f"the tracking window ({len(table)} days) is shorter than one {unit_name(unit)[:-1]}")
    at_edges = table.iloc[edges]
    per_period = at_edges.diff().iloc[1:]
    ax = new_axes(ax)
    ax.plot(per_period.index, per_period["actual"], color=ACTUAL_COLOR, label="actual")
    ax.plot(per_period.index, per_period["expected"], color=MODEL_COLOR, linestyle="--",
            label=f"expected ({purchase_family(model).label})")
    _mark_calibration_end(ax, summary)
    ax.set_xlabel(f"Date (end of each {unit_name(unit)[:-1]})")
    ax.set_ylabel(f"Repeat transactions per {unit_name(unit)[:-1]}")
    ax.set_title("Tracking repeat transactions per period")
    ax.legend(frameon=False)
    format_date_axis(ax)
    return ax
