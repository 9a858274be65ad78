"""Does the Gamma-Gamma model fit the spend data? Observed vs model distribution of average spend.

Among repeat buyers, the mean spend ``mbar`` of a customer with ``x`` repeat transactions has
density (Fader & Hardie 2013, eq. 4)::

    f(mbar | x) = G(px + q) / (G(px) G(q)) * gamma^q * x^(px) * mbar^(px - 1) / (gamma + x mbar)^(px + q)

The model's distribution of ``mbar`` over the customer base is the mixture of these densities
over the customers' observed ``x``: ``g(m) = (1/N) sum_i f(m | x_i)``. It is computed once per
distinct ``x`` (a few dozen values), not per customer. The observed histogram is scaled as a
density, so the two are on the same axis (Fader & Hardie 2013, Figure 2 draws the same check).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from clvmodels.errors import DataError
from clvmodels.formulas import gammagamma
from clvmodels.models.intervals import interval_bounds
from clvmodels.plotting._common import (
    ACTUAL_COLOR,
    MODEL_COLOR,
    currency_of,
    money_axis,
    money_label,
    new_axes,
    params_for_one,
    require_columns,
)

#: The plotted range ends at this quantile of the observed average spend: a few very large
#: spenders would otherwise squeeze the whole distribution into the first bins.
UPPER_QUANTILE = 0.99


def _check_spend_model(model) -> None:
    """Refuse anything but a Gamma-Gamma spend model, identified by role (its family), never by
    parameter names: the density drawn here is the Gamma-Gamma's own (FH 2013 eq. 4)."""
    from clvmodels.families.spend import GAMMAGAMMA

    if getattr(model, "family", None) is not GAMMAGAMMA:
        raise DataError(f"this plot needs a fitted GammaGammaModel; got {type(model).__name__}")
    model.point_draws()  # NotFittedError for an unfitted model


def spend_fit_table(model, summary: pd.DataFrame, *, grid: np.ndarray | None = None, segment=None,
                    level: float | None = 0.9, n_draws: int = 200, seed=0) -> pd.DataFrame:
    """The model's density of average spend among the summary's repeat buyers, on a grid.

    Parameters
    ----------
    model : GammaGammaModel
        Fitted.
    summary : DataFrame
        Customer summary with ``frequency`` and ``monetary_value``; customers with
        ``frequency > 0`` (repeat buyers, the ones the model is fitted on) are used.
    grid : ndarray, shape (m,), optional
        Average-spend values (currency units); default 200 points up to the observed
        ``UPPER_QUANTILE``.
    segment : optional
        For a model pooled by segment, the segment whose parameters to use.
    level : float or None, default 0.9
        Coverage of the pointwise band over parameter draws; None for no band.
    n_draws : int, default 200
        Parameter draws for the band.
    seed : int, optional
        Seed of the Laplace draws.

    Returns
    -------
    DataFrame, shape (m, 1 or 3)
        Indexed by ``average_spend``: ``density`` (per currency unit) at the point estimate and,
        with ``level``, ``density_lower``, ``density_upper``. ``attrs["n_repeat_buyers"]`` gives N.

    Examples
    --------
    >>> import clvmodels
    >>> from clvmodels import plotting
    >>> from clvmodels.datasets import load_cdnow_summary
    >>> summary = load_cdnow_summary()            # CDNOW: 2,357 customers, weeks, 39-week holdout
    >>> gg = clvmodels.GammaGammaModel().fit(summary)
    >>> table = plotting.spend_fit_table(gg, summary, level=None)
    >>> table.attrs["n_repeat_buyers"]           # FH 2013: 946 repeat buyers
    946
    """
    _check_spend_model(model)
    require_columns(summary, ["frequency", "monetary_value"], "the summary",
                    "build it with clvmodels.rfm_summary(..., monetary_value_col=...)")
    repeat = summary[summary["frequency"].to_numpy() > 0]
    if len(repeat) == 0:
        raise DataError("the summary has no repeat buyers (frequency > 0), whose spend the model describes")
    x = repeat["frequency"].to_numpy(float)
    mbar = repeat["monetary_value"].to_numpy(float)
    bad = ~(np.isfinite(mbar) & (mbar > 0))
    if bad.any():
        from clvmodels.errors import describe_rows

        raise DataError(f"monetary_value must be positive for repeat buyers: {describe_rows(repeat.index[bad])}")
    if grid is None:
        high = float(np.quantile(mbar, UPPER_QUANTILE))
        grid = np.linspace(high / 200, high, 200)
    grid = np.asarray(grid, float)
    values, counts = np.unique(x, return_counts=True)
    weights = counts / counts.sum()

    def mixture(P):  # P: dict of (S, 1) arrays -> (S, m)
        total = 0.0
        for xv, w in zip(values, weights):  # one (S, m) density per distinct frequency
            total = total + w * np.exp(gammagamma.log_likelihood(P["p"], P["q"], P["gamma"], xv, grid))
        return total

    table = pd.DataFrame({"density": mixture(params_for_one(model, segment))[0]},
                         index=pd.Index(grid, name="average_spend"))
    if level is not None:
        draws = params_for_one(model, segment, model.parameter_draws(n_draws, seed))
        table["density_lower"], table["density_upper"] = interval_bounds(mixture(draws), level)
    table.attrs["n_repeat_buyers"] = int(len(repeat))
    return table


def plot_spend_fit(model, summary: pd.DataFrame, *, bins: int = 40, segment=None, level: float | None = 0.9,
                   n_draws: int = 200, seed=0, currency: str | None = None, ax=None):
    """Gamma-Gamma fit check: histogram of observed average spend vs the model's density.

    Parameters
    ----------
    model : GammaGammaModel
        Fitted on ``summary``.
    summary : DataFrame
        Customer summary (``frequency``, ``monetary_value``); repeat buyers are shown.
    bins : int, default 40
        Histogram bins between 0 and the observed ``UPPER_QUANTILE`` of average spend.
    segment : optional
        For a model pooled by segment, the segment whose parameters to use.
    level : float or None, default 0.9
        Coverage of the pointwise band over parameter draws; None for no band.
    n_draws : int, default 200
        Parameter draws for the band.
    seed : int, optional
        Seed of the Laplace draws.
    currency : str, optional
        Currency code for the spend axis; default the summary's ``attrs["clvmodels"]["currency"]``.
    ax : matplotlib Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    matplotlib Axes
        The observed histogram (as a density), the model's density line and its band.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import clvmodels
    >>> from clvmodels import plotting
    >>> from clvmodels.datasets import load_cdnow_summary
    >>> summary = load_cdnow_summary()            # CDNOW: 2,357 customers, weeks, 39-week holdout
    >>> gg = clvmodels.GammaGammaModel().fit(summary)
    >>> ax = plotting.plot_spend_fit(gg, summary, n_draws=50, currency="USD")
    >>> ax.get_xlabel()
    'Average spend per repeat transaction (USD)'
    """
    high = None
    if "monetary_value" in summary.columns and "frequency" in summary.columns:
        spend = summary.loc[summary["frequency"].to_numpy() > 0, "monetary_value"].to_numpy(float)
        spend = spend[np.isfinite(spend)]
        high = float(np.quantile(spend, UPPER_QUANTILE)) if spend.size else None
    grid = None if high is None else np.linspace(high / 200, high, 200)
    table = spend_fit_table(model, summary, grid=grid, segment=segment, level=level, n_draws=n_draws,
                            seed=seed)
    n = table.attrs["n_repeat_buyers"]
    beyond = int((spend > high).sum())
    ax = new_axes(ax)
    # density over all repeat buyers, so the bars and the model curve share one scale
    counts, edges = np.histogram(spend, bins=bins, range=(0.0, high))
    ax.bar(edges[:-1], counts / (n * np.diff(edges)), width=np.diff(edges), align="edge",
           color=ACTUAL_COLOR, alpha=0.45, label=f"observed ({n:,} repeat buyers)")
    grid = table.index.to_numpy()
    if "density_lower" in table.columns:
        ax.fill_between(grid, table["density_lower"], table["density_upper"], color=MODEL_COLOR,
                        alpha=0.25, linewidth=0, label=f"{level:.0%} band over parameter draws")
    ax.plot(grid, table["density"], color=MODEL_COLOR, label="Gamma-Gamma model")
    cur = currency_of(summary, currency)
    ax.set_xlabel(money_label("Average spend per repeat transaction", cur))
    ax.set_ylabel(f"Share of repeat buyers per {cur or 'currency unit'} of spend")
    money_axis(ax.xaxis)
    ax.set_xlim(0.0, high)
    ax.set_title(f"Average spend of repeat buyers: observed vs model\n"
                 f"({beyond:,} customers above {high:,.0f} not shown)")
    ax.legend(frameon=False)
    return ax
