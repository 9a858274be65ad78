"""Frequency x recency heatmaps: who is expected to buy, and who is probably still alive.

The model is evaluated at its point estimate on a grid of histories (frequency 0..max, recency
0..T) for customers observed for the same ``T``, not per customer or per draw, so a heatmap
costs a few thousand formula evaluations whatever the size of the customer base. Histories
that cannot occur are left blank: recency is the time from the first to the last purchase, so it
is 0 exactly when there is no repeat purchase (``frequency = 0``); in discrete opportunities
(BG/BB) a customer cannot have taken more opportunities than the last one's index
(``frequency <= recency``).

The values are the family's own (``model.family.p_alive`` and ``expected_purchases``), so the
heatmaps work for every purchase family; the grid's ``T`` fills the family's observation-length
column (``T``, or ``n_periods`` for BG/BB).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from clvmodels.errors import DataError
from clvmodels.plotting._common import (
    age_column,
    history_arrays,
    model_time_unit,
    new_axes,
    params_for_one,
    purchase_family,
    unit_name,
)

#: At most this many recency columns (a daily summary spanning years would have thousands).
MAX_RECENCY_POINTS = 101


def history_grid(model, summary: pd.DataFrame | None = None, *, T: float | None = None,
                 max_frequency: int | None = None, horizon: float | None = None,
                 segment=None) -> pd.DataFrame:
    """A model quantity on a frequency x recency grid of histories with observation length T.

    Parameters
    ----------
    model : purchase model
        Fitted, of any family (BetaGeoModel, ParetoNBDModel, ...).
    summary : DataFrame, optional
        Supplies defaults: ``T`` = the longest observation (the family's observation-length
        column: ``T``, or ``n_periods`` for BG/BB), ``max_frequency`` = the largest frequency.
    T : float, optional
        Observation length of the grid's customers, in the model's time unit.
    max_frequency : int, optional
        Largest frequency on the grid.
    horizon : float, optional
        None: P(alive) (``family.p_alive``; FHL 2005 eq. 13 for BG/NBD). A number: expected
        purchases in the next ``horizon`` periods (``family.expected_purchases``; FHL 2005 eq. 10).
    segment : optional
        For a model pooled by segment, the segment whose parameters to use.

    Returns
    -------
    DataFrame, shape (max_frequency + 1, n_recency)
        Index ``frequency`` (0..max_frequency), columns ``recency`` (0..T in whole time units,
        or ``MAX_RECENCY_POINTS`` evenly spaced values for long windows); NaN for impossible
        histories (``frequency = 0`` with ``recency > 0``, ``frequency > 0`` with
        ``recency = 0``, and in discrete time ``frequency > recency``).

    Examples
    --------
    >>> import clvmodels
    >>> from clvmodels import plotting
    >>> from clvmodels.datasets import load_cdnow_summary
    >>> summary = load_cdnow_summary()            # CDNOW: 2,357 customers, weeks, 39-week holdout
    >>> bg = clvmodels.BetaGeoModel().fit(summary)
    >>> grid = plotting.history_grid(bg, summary, max_frequency=5)   # P(alive)
    >>> grid.shape, float(grid.loc[0, 0.0])
    ((6, 39), 1.0)
    """
    family = purchase_family(model)
    if T is None or max_frequency is None:
        if summary is None:
            raise DataError("pass a summary (for the default T and max_frequency) or both T= and max_frequency=")
        T = float(summary[age_column(family)].max()) if T is None else T
        max_frequency = int(summary["frequency"].max()) if max_frequency is None else max_frequency
    if not (np.isfinite(T) and T > 0):
        raise DataError(f"T must be a positive length of observation; got {T!r}")
    if int(max_frequency) != max_frequency or max_frequency < 0:
        raise DataError(f"max_frequency must be a whole number >= 0; got {max_frequency!r}")
    if int(T) + 1 <= MAX_RECENCY_POINTS:
        recency = np.arange(0.0, np.floor(T) + 1.0)
    else:
        recency = np.linspace(0.0, T, MAX_RECENCY_POINTS)
    frequency = np.arange(int(max_frequency) + 1.0)
    x, t_x = frequency[:, None], recency[None, :]
    P = {k: v.item() for k, v in params_for_one(model, segment).items()}  # scalars: (F, R) out
    history = history_arrays(family, x, t_x, np.full_like(t_x, float(T)))
    if horizon is None:
        values = family.p_alive(P, *history)
    else:
        values = family.expected_purchases(P, *history, float(horizon))
    possible = (x > 0) == (t_x > 0)
    if family.discrete_time:
        possible &= x <= t_x  # x opportunities taken among the first t_x
    values = np.where(possible, values, np.nan)
    return pd.DataFrame(values, index=pd.Index(frequency.astype(int), name="frequency"),
                        columns=pd.Index(recency, name="recency"))


def _heatmap(grid: pd.DataFrame, ax, title: str, colorbar_label: str, unit: str, T: float,
             colorbar_extend: str = "neither", **imshow):
    """Draw a history grid: frequency up the y axis (0 at the bottom), recency along the x axis."""
    ax = new_axes(ax, figsize=(7.0, 5.5))
    recency = grid.columns.to_numpy(float)
    step = recency[1] - recency[0] if recency.size > 1 else 1.0
    extent = (recency[0] - step / 2, recency[-1] + step / 2, grid.index[0] - 0.5, grid.index[-1] + 0.5)
    image = ax.imshow(grid.to_numpy(), origin="lower", aspect="auto", extent=extent,
                      interpolation="nearest", **imshow)
    bar = ax.figure.colorbar(image, ax=ax, label=colorbar_label, extend=colorbar_extend)
    if "norm" in imshow:  # logarithmic: plain numbers (0.1, 1, 10) rather than powers of ten
        from matplotlib.ticker import FuncFormatter

        bar.ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.10g}"))
    ax.set_xlabel(f"Recency: time from first to last purchase ({unit})")
    ax.set_ylabel("Frequency: repeat purchases")
    ax.set_facecolor("0.92")  # impossible histories (NaN) show as light grey, not as a colour
    ax.set_title(f"{title}\n(customers observed for T = {T:.4g} {unit})")
    return ax


#: The expected-purchases heatmap's logarithmic colour scale spans this many powers of ten below
#: its largest cell; lower cells share the lowest colour (the colour bar says so with an arrow).
COLOR_DECADES = 3


def plot_frequency_recency_matrix(model, summary: pd.DataFrame | None = None, *, horizon: float = 1.0,
                                  T: float | None = None, max_frequency: int | None = None,
                                  segment=None, ax=None):
    """Heatmap of expected purchases in the next ``horizon`` periods by frequency and recency.

    The colour scale is logarithmic over the top ``COLOR_DECADES`` powers of ten: expected
    purchases grow roughly in proportion to frequency for recent buyers and fall to nearly zero
    for lapsed ones, so on a linear scale the single most frequent recent buyer takes the
    brightest colour and every other cell looks the same.

    Parameters
    ----------
    model : purchase model
        Fitted, of any family.
    summary : DataFrame, optional
        Supplies the default ``T`` (longest observation) and ``max_frequency``.
    horizon : float, default 1.0
        Periods ahead, in the model's time unit.
    T : float, optional
        Observation length of the grid's customers, in the model's time unit.
    max_frequency : int, optional
        Largest frequency on the grid.
    segment : optional
        For a model pooled by segment, the segment whose parameters to use.
    ax : matplotlib Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    matplotlib Axes
        One image of shape (max_frequency + 1, n_recency), with a colour bar.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import clvmodels
    >>> from clvmodels import plotting
    >>> from clvmodels.datasets import load_cdnow_summary
    >>> summary = load_cdnow_summary()            # CDNOW: 2,357 customers, weeks, 39-week holdout
    >>> bg = clvmodels.BetaGeoModel().fit(summary)
    >>> ax = plotting.plot_frequency_recency_matrix(bg, summary, horizon=52)
    >>> ax.images[0].get_array().shape
    (30, 39)
    """
    from matplotlib.colors import LogNorm

    grid = history_grid(model, summary, T=T, max_frequency=max_frequency, horizon=horizon, segment=segment)
    unit = unit_name(model_time_unit(model))
    T_used = T if T is not None else float(summary[age_column(purchase_family(model))].max())
    top = float(np.nanmax(grid.to_numpy()))
    norm = LogNorm(vmin=top * 10.0 ** -COLOR_DECADES, vmax=top, clip=False)
    return _heatmap(grid, ax, f"{purchase_family(model).label}: expected purchases in the next {horizon:g} {unit}",
                    "expected purchases (log scale)", unit, T_used, cmap="viridis", norm=norm,
                    colorbar_extend="min")


def plot_probability_alive_matrix(model, summary: pd.DataFrame | None = None, *, T: float | None = None,
                                  max_frequency: int | None = None, segment=None, ax=None):
    """Heatmap of P(alive) by frequency and recency: recent frequent buyers are alive, frequent
    buyers who stopped long ago almost surely are not.

    Parameters
    ----------
    model : purchase model
        Fitted, of any family.
    summary : DataFrame, optional
        Supplies the default ``T`` (longest observation) and ``max_frequency``.
    T : float, optional
        Observation length of the grid's customers, in the model's time unit.
    max_frequency : int, optional
        Largest frequency on the grid.
    segment : optional
        For a model pooled by segment, the segment whose parameters to use.
    ax : matplotlib Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    matplotlib Axes
        One image of shape (max_frequency + 1, n_recency), colour scale fixed to [0, 1].

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import clvmodels
    >>> from clvmodels import plotting
    >>> from clvmodels.datasets import load_cdnow_summary
    >>> summary = load_cdnow_summary()            # CDNOW: 2,357 customers, weeks, 39-week holdout
    >>> bg = clvmodels.BetaGeoModel().fit(summary)
    >>> ax = plotting.plot_probability_alive_matrix(bg, summary)
    >>> ax.images[0].get_clim()
    (0.0, 1.0)
    """
    grid = history_grid(model, summary, T=T, max_frequency=max_frequency, horizon=None, segment=segment)
    unit = unit_name(model_time_unit(model))
    T_used = T if T is not None else float(summary[age_column(purchase_family(model))].max())
    return _heatmap(grid, ax, f"{purchase_family(model).label}: probability that the customer is alive",
                    "P(alive)", unit, T_used,
                    cmap="RdYlGn", vmin=0.0, vmax=1.0)
