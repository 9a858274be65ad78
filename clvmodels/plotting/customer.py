"""One customer's P(alive) over time: it jumps up at each purchase and decays in between.

For every day from the first purchase to ``end`` the customer's history as of that day
(frequency, recency, T; purchases on one day merged, as :func:`clvmodels.rfm_summary` does) is
built from the log in one vectorised step, and the family's P(alive) (``model.family.p_alive``;
FHL 2005 eq. 13 for BG/NBD) evaluated on it for the point estimate and, for the band, for each
parameter draw.

A family of discrete opportunities (``family.discrete_time``, BG/BB) is evaluated at the last day
of each opportunity (a calendar period of the model's time unit), on the history
:func:`clvmodels.data.opportunities.opportunity_summary` would give at that day: ``frequency``
the later periods with a purchase, ``recency`` the last of them, ``n_periods`` the periods since
the first.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from clvmodels.data.meta import summary_meta
from clvmodels.data.timeunits import days_per_unit
from clvmodels.errors import DataError
from clvmodels.models.intervals import summarise_draws
from clvmodels.plotting._common import (
    ACTUAL_COLOR,
    MODEL_COLOR,
    age_column,
    days_to_index,
    format_date_axis,
    history_arrays,
    model_time_unit,
    new_axes,
    params_for_one,
    purchase_family,
    require_columns,
    to_days,
)


def _daily_histories(purchase_days, last_day, unit_days):
    """Each day from the first purchase to ``last_day``: (days, frequency, recency, T)."""
    first = purchase_days[0]
    day = np.arange(first, last_day + 1)
    bought = np.searchsorted(purchase_days, day, side="right")  # purchase days up to each day
    t_x = (purchase_days[bought - 1] - first) / unit_days
    return day, bought - 1, t_x, (day - first) / unit_days


def _period_histories(purchase_days, last_day, period):
    """The last day of each opportunity from the first one's to ``last_day``'s (the last one only
    if complete): (days, frequency, recency, n_periods), as opportunity_summary counts them."""
    from clvmodels.data.opportunities import period_index, period_last_day

    bought = np.unique(period_index(purchase_days, period))  # periods with a purchase
    first = bought[0]
    final = int(period_index([last_day], period)[0])
    if period_last_day([final], period)[0] > last_day:
        final -= 1  # the opportunity of last_day is not over yet
    index = np.arange(first, max(final, first) + 1)
    taken = np.searchsorted(bought, index, side="right")  # periods with a purchase up to each
    recency = (bought[taken - 1] - first).astype(float)
    return period_last_day(index, period), taken - 1, recency, (index - first).astype(float)


def alive_history(model, transactions: pd.DataFrame, customer_id, *, end=None,
                  customer_id_col: str = "customer_id", datetime_col: str = "date", segment=None,
                  level: float | None = 0.9, n_draws: int = 200, seed=0) -> pd.DataFrame:
    """P(alive) of one customer on each day from their first purchase to ``end``.

    For a family of discrete opportunities (BG/BB) one row per opportunity, at its last day.

    Parameters
    ----------
    model : purchase model
        Fitted, of any family (BetaGeoModel, ParetoNBDModel, ...).
    transactions : DataFrame
        Transaction log (other customers' rows are ignored).
    customer_id : scalar
        The customer's id, as in the log's ``customer_id_col``.
    end : date-like, optional
        Last day; default the last purchase in the log.
    customer_id_col, datetime_col : str
        Columns of the log.
    segment : optional
        The customer's segment, for a model pooled by segment.
    level : float or None
        Coverage of the band over parameter draws (parameter uncertainty); None for no band.
    n_draws : int, default 200
        Parameter draws for the band (Laplace draws for MLE, thinned posterior for Bayes).
    seed : int, optional
        Seed of the Laplace draws.

    Returns
    -------
    DataFrame indexed by date
        The family's ``history_columns`` as of each day (``frequency``, ``recency``, ``T``; BG/BB:
        ``n_periods``), ``p_alive`` and, with ``level``, ``p_alive_lower``, ``p_alive_upper``.

    Examples
    --------
    >>> import clvmodels
    >>> from clvmodels import plotting
    >>> from clvmodels.datasets import load_cdnow_summary
    >>> summary = load_cdnow_summary()            # CDNOW: 2,357 customers, weeks, 39-week holdout
    >>> bg = clvmodels.BetaGeoModel().fit(summary)
    >>> from clvmodels.datasets import load_cdnow_transactions
    >>> tx = load_cdnow_transactions()
    >>> history = plotting.alive_history(bg, tx, 1, end="1997-09-30", n_draws=50)
    >>> list(history.columns)
    ['frequency', 'recency', 'T', 'p_alive', 'p_alive_lower', 'p_alive_upper']
    """
    family = purchase_family(model)
    require_columns(transactions, [customer_id_col, datetime_col], "the transaction log",
                    "name the columns with customer_id_col= and datetime_col=")
    mine = transactions[customer_id_col] == customer_id
    if not mine.any():
        raise DataError(f"customer {customer_id!r} has no purchase in the log (column {customer_id_col!r})")
    purchase_days = np.unique(to_days(transactions.loc[mine, datetime_col]))
    first = purchase_days[0]
    last_day = purchase_days[-1] if end is None else to_days(end)[0]
    if last_day < first:
        raise DataError(f"end ({pd.Timestamp(end).date()}) is before the customer's first purchase")
    unit = model_time_unit(model)
    if family.discrete_time:
        day, x, t_x, age = _period_histories(purchase_days, last_day, unit)
    else:
        day, x, t_x, age = _daily_histories(purchase_days, last_day, days_per_unit(unit))
    history = history_arrays(family, x.astype(float), t_x, age)
    frame = pd.DataFrame({"frequency": x, "recency": t_x, age_column(family): age},
                         index=days_to_index(day))[list(family.history_columns)]
    frame["p_alive"] = family.p_alive(params_for_one(model, segment), *history)[0]
    if level is not None:
        draws = params_for_one(model, segment, model.parameter_draws(n_draws, seed))
        values = family.p_alive(draws, *history)  # (S, days)
        _, frame["p_alive_lower"], frame["p_alive_upper"] = summarise_draws(values, level)
    return frame


def _calibration_end(calibration_end):
    """A date from ``calibration_end``: date-like, or a summary whose ``observation_end`` it is."""
    if isinstance(calibration_end, pd.DataFrame):
        end = summary_meta(calibration_end).get("observation_end")
        if end is None:
            raise DataError("calibration_end= got a summary without an observation end in its metadata "
                            "(attrs['clvmodels']['observation_end']); pass the date itself instead")
        return pd.Timestamp(end)
    try:
        return pd.Timestamp(calibration_end)
    except (TypeError, ValueError) as err:
        raise DataError(f"calibration_end must be a date (e.g. '1997-09-30') or a summary from "
                        f"clvmodels.rfm_summary; got {calibration_end!r}") from err


def plot_history_alive(model, transactions: pd.DataFrame, customer_id, *, end=None, calibration_end=None,
                       customer_id_col: str = "customer_id", datetime_col: str = "date",
                       segment=None, level: float | None = 0.9, n_draws: int = 200, seed=0, ax=None):
    """Plot one customer's P(alive) over calendar time, with their purchases marked.

    Parameters
    ----------
    model : purchase model
        Fitted, of any family.
    transactions : DataFrame
        Transaction log (other customers' rows are ignored).
    customer_id : scalar
        The customer's id, as in the log's ``customer_id_col``.
    end : date-like, optional
        Last day shown; default the customer's last purchase in the log.
    calibration_end : date-like or DataFrame, optional
        Marks the end of the calibration period with a dashed line: a date, or the calibration
        summary (its ``observation_end``). P(alive) after it is what the model would have said on
        each later day, had it seen the purchases up to that day.
    customer_id_col, datetime_col : str, default "customer_id", "date"
        Columns of the log.
    segment : optional
        The customer's segment, for a model pooled by segment.
    level : float or None, default 0.9
        Coverage of the band over parameter draws (parameter uncertainty); None for no band.
    n_draws : int, default 200
        Parameter draws for the band.
    seed : int, optional
        Seed of the Laplace draws.
    ax : matplotlib Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    matplotlib Axes
        The P(alive) line, a band for the parameter-uncertainty interval (with ``level``), one
        dotted vertical line per purchase day and the calibration-end line; date ticks carry the
        year.

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
    >>> ax = plotting.plot_history_alive(bg, tx, 1, end="1998-06-30", calibration_end=summary, n_draws=50)
    >>> ax.get_title()
    'Customer 1: probability of being alive'
    """
    history = alive_history(model, transactions, customer_id, end=end, customer_id_col=customer_id_col,
                            datetime_col=datetime_col, segment=segment, level=level,
                            n_draws=n_draws, seed=seed)
    ax = new_axes(ax, figsize=(8.5, 4.2))
    dates = history.index
    ax.plot(dates, history["p_alive"], color=MODEL_COLOR, label=f"P(alive), {purchase_family(model).label}")
    if level is not None:
        ax.fill_between(dates, history["p_alive_lower"], history["p_alive_upper"], color=MODEL_COLOR,
                        alpha=0.2, linewidth=0, label=f"{level:.0%} interval\n(parameter uncertainty)")
    purchases = dates[np.r_[True, np.diff(history["frequency"].to_numpy()) > 0]]
    ax.vlines(purchases, 0.0, 1.0, colors=ACTUAL_COLOR, linestyles=":", linewidth=1.0, label="purchase")
    if calibration_end is not None:
        cut = _calibration_end(calibration_end)
        ax.axvline(cut, color="black", linestyle="--", linewidth=1.0,
                   label=f"end of calibration\n({cut.date()})")
    ax.set_ylim(0.0, 1.02)
    ax.set_xlabel("Date")
    ax.set_ylabel("P(alive)")
    ax.set_title(f"Customer {customer_id}: probability of being alive")
    # beside the axes: the curve and the purchase marks can fill every corner of the plot
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize="small")
    format_date_axis(ax)
    return ax
