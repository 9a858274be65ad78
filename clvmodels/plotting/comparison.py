"""Plots of a model comparison: every candidate purchase model against the data, side by side.

- :func:`plot_period_transactions_comparison`: customers by repeat purchases in the calibration,
  observed and each model's expectation as grouped bars (FHL 2005 Figure 3, for several models);
- :func:`plot_holdout_comparison`: mean holdout purchases by calibration frequency, observed and
  each model (FHL 2005 Figure 5);
- :func:`plot_tracking_comparison`: the cohort's cumulative repeat purchases per period, actual
  and each model (FHL 2005 Figure 4), with the calibration end marked;
- :func:`plot_model_comparison`: the first two (and the third, given the log) in one figure.

The numbers come from :mod:`clvmodels.models.comparison` (``period_transactions_table``,
``holdout_by_frequency``, ``tracking_table``). Models are given as to
:func:`clvmodels.models.comparison.compare_models`; pass them fitted (e.g. from
:func:`clvmodels.models.comparison_inputs.fit_purchase_models`) to avoid fitting them again.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from clvmodels.data.meta import summary_meta, time_unit_of
from clvmodels.models.comparison import holdout_by_frequency, period_transactions_table, tracking_table
from clvmodels.models.comparison_inputs import fit_purchase_models
from clvmodels.plotting._common import ACTUAL_COLOR, format_date_axis, new_axes, unit_name


def _model_color(i: int) -> str:
    return f"C{i % 10}"


def plot_period_transactions_comparison(calibration: pd.DataFrame, models=None, *,
                                        max_frequency: int = 7, ax=None):
    """Customers by repeat purchases in the calibration period: observed and every model.

    Parameters
    ----------
    calibration : DataFrame
        The calibration summary.
    models : list or dict, optional
        Candidates (fitted ones are used as they are); default every continuous-time model.
    max_frequency : int, default 7
        Customers with ``max_frequency`` or more repeat purchases share the last group ("7+").
    ax : matplotlib Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    matplotlib Axes
        ``(1 + n_models) * (max_frequency + 1)`` bars: observed first in each group.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from clvmodels import BetaGeoModel
    >>> from clvmodels.datasets import load_cdnow_summary
    >>> from clvmodels.plotting.comparison import plot_period_transactions_comparison
    >>> ax = plot_period_transactions_comparison(load_cdnow_summary(), [BetaGeoModel()])
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['observed', 'BG/NBD']
    """
    table = period_transactions_table(calibration, models, max_frequency=max_frequency)
    ax = new_axes(ax)
    centers = np.arange(len(table))
    width = 0.8 / table.shape[1]
    for j, column in enumerate(table.columns):
        color = ACTUAL_COLOR if column == "observed" else _model_color(j - 1)
        ax.bar(centers + (j - (table.shape[1] - 1) / 2) * width, table[column], width, color=color,
               label=column)
    ax.set_xticks(centers, table.index)
    end = summary_meta(calibration).get("observation_end")
    ax.set_xlabel("Repeat purchases in the calibration period" + (f" (to {end})" if end else ""))
    ax.set_ylabel("Customers")
    ax.set_title("Repeat purchases per customer: observed vs each model")
    ax.legend(frameon=False)
    return ax


def plot_holdout_comparison(calibration: pd.DataFrame, models=None, *, holdout=None, horizon=None,
                            max_frequency: int = 7, ax=None):
    """Mean holdout purchases by calibration frequency: observed and every model.

    Parameters
    ----------
    calibration : DataFrame
        A calibration/holdout summary.
    models : list or dict, optional
        As for :func:`plot_period_transactions_comparison`.
    holdout : Series, optional
        Holdout purchases by customer id; default the summary's ``frequency_holdout``.
    horizon : float, optional
        Holdout length in the summary's time unit; default its ``duration_holdout``.
    max_frequency : int, default 7
        Customers with ``max_frequency`` or more calibration purchases share the last group.
    ax : matplotlib Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    matplotlib Axes
        ``1 + n_models`` lines, one point per frequency group; tick labels give group sizes.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from clvmodels import BetaGeoModel
    >>> from clvmodels.datasets import load_cdnow_summary
    >>> from clvmodels.plotting.comparison import plot_holdout_comparison
    >>> ax = plot_holdout_comparison(load_cdnow_summary(), [BetaGeoModel()])
    >>> len(ax.get_lines())
    2
    """
    table = holdout_by_frequency(calibration, models, holdout=holdout, horizon=horizon,
                                 max_frequency=max_frequency)
    ax = new_axes(ax)
    x = np.arange(len(table))
    ax.plot(x, table["observed"], "o-", color=ACTUAL_COLOR, label="observed")
    for j, column in enumerate(table.columns[2:]):
        ax.plot(x, table[column], "s--", color=_model_color(j), label=column)
    ax.set_xticks(x, [f"{g}\nn={n}" for g, n in zip(table.index, table["customers"])])
    unit = unit_name(time_unit_of(calibration))
    duration = summary_meta(calibration).get("duration_holdout", horizon)
    ax.set_xlabel("Repeat purchases in the calibration period (n = customers)")
    ax.set_ylabel("Mean purchases in the holdout" + (f"\n({float(duration):g} {unit})" if duration else ""))
    ax.set_title("Holdout: observed vs each model's conditional expectation")
    ax.legend(frameon=False)
    return ax


def plot_tracking_comparison(calibration: pd.DataFrame, transactions: pd.DataFrame, models=None, *,
                             customer_id_col: str = "customer_id", datetime_col: str = "date", ax=None):
    """Cumulative repeat purchases of the cohort per period: actual and every model.

    Parameters
    ----------
    calibration : DataFrame
        A calibration/holdout summary (``first_purchase``, its calibration and holdout ends).
    transactions : DataFrame
        The transaction log the summary was built from.
    models : list or dict, optional
        As for :func:`plot_period_transactions_comparison`.
    customer_id_col, datetime_col : str
        Columns of the log.
    ax : matplotlib Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    matplotlib Axes
        ``1 + n_models`` lines and a dotted line at the calibration end.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from clvmodels import BetaGeoModel
    >>> from clvmodels.datasets import load_cdnow_summary, load_cdnow_transactions
    >>> from clvmodels.plotting.comparison import plot_tracking_comparison
    >>> ax = plot_tracking_comparison(load_cdnow_summary(), load_cdnow_transactions(), [BetaGeoModel()])
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['actual', 'BG/NBD', 'end of calibration (1997-09-30)']
    """
    table = tracking_table(calibration, transactions, models, customer_id_col=customer_id_col,
                           datetime_col=datetime_col)
    ax = new_axes(ax)
    ax.plot(table.index, table["actual"], color=ACTUAL_COLOR, label="actual")
    for j, column in enumerate(table.columns[2:]):
        ax.plot(table.index, table[column], color=_model_color(j), linestyle="--", label=column)
    end = summary_meta(calibration)["observation_end"]
    ax.axvline(pd.Timestamp(end), color="0.5", linestyle=":", linewidth=1.0,
               label=f"end of calibration ({end})")
    ax.set_xlabel(f"Date (every {unit_name(time_unit_of(calibration))[:-1]})")
    ax.set_ylabel("Cumulative repeat purchases")
    ax.set_title("Tracking cumulative repeat purchases: actual vs each model")
    ax.legend(frameon=False)
    format_date_axis(ax)
    return ax


def plot_model_comparison(calibration: pd.DataFrame, models=None, *, holdout=None, horizon=None,
                          transactions: pd.DataFrame | None = None, max_frequency: int = 7,
                          customer_id_col: str = "customer_id", datetime_col: str = "date",
                          figsize=None):
    """The comparison in one figure: calibration histogram, holdout by frequency (and tracking).

    Parameters
    ----------
    calibration : DataFrame
        A calibration/holdout summary.
    models : list or dict, optional
        Candidates; unfitted ones are fitted once and shared by the panels.
    holdout, horizon, max_frequency
        As for :func:`plot_holdout_comparison`.
    transactions : DataFrame, optional
        The transaction log; adds a third panel, the tracking plot.
    customer_id_col, datetime_col : str
        Columns of the log.
    figsize : (float, float), optional
        Inches; default 6 wide per panel, 4.5 high.

    Returns
    -------
    ndarray of matplotlib Axes, shape (2,) or (3,)
        The panels, in the order above; ``axes[0].figure`` is the figure.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from clvmodels import BetaGeoModel
    >>> from clvmodels.datasets import load_cdnow_summary
    >>> from clvmodels.plotting.comparison import plot_model_comparison
    >>> axes = plot_model_comparison(load_cdnow_summary(), [BetaGeoModel(), BetaGeoModel(penalizer=0.1)])
    >>> axes.shape
    (2,)
    """
    import matplotlib.pyplot as plt

    fitted = fit_purchase_models(calibration, models)
    n_panels = 2 if transactions is None else 3
    _, axes = plt.subplots(1, n_panels, figsize=figsize or (6.0 * n_panels, 4.5), layout="constrained")
    plot_period_transactions_comparison(calibration, fitted, max_frequency=max_frequency, ax=axes[0])
    plot_holdout_comparison(calibration, fitted, holdout=holdout, horizon=horizon,
                            max_frequency=max_frequency, ax=axes[1])
    if transactions is not None:
        plot_tracking_comparison(calibration, transactions, fitted, customer_id_col=customer_id_col,
                                 datetime_col=datetime_col, ax=axes[2])
    return np.asarray(axes)
