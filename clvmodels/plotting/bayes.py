"""Posterior diagnostics of a Bayesian fit, through ArviZ.

Each function takes a model fitted with ``method="bayes"`` and draws from its ``idata_``:

- :func:`plot_trace`: chains over iterations and the marginal densities (did the chains mix?);
- :func:`plot_rank`: rank histograms per chain (uniform when the chains agree; Vehtari et al.
  2021, the plot behind rank-normalised R-hat);
- :func:`plot_posterior`: marginal posteriors with their HDI, optionally against another fit's
  estimates (e.g. the MLE);
- :func:`plot_energy`: NUTS energy transition vs marginal energy (a narrow transition
  distribution means the sampler explores the tails poorly; Betancourt 2017).

ArviZ lays out one panel per parameter, so these return arrays of Axes; pass ``ax=`` an array of
the same shape to draw into existing panels.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from clvmodels.errors import DataError


def _idata(model, need_chains: bool = True):
    model.point_draws()  # NotFittedError for an unfitted model
    if getattr(model, "method", None) != "bayes" or not hasattr(model, "idata_"):
        raise DataError(
            f"posterior diagnostics need a Bayesian fit; this {type(model).__name__} was fitted with "
            f"method={getattr(model, 'method', None)!r}. Fit with method='bayes'"
        )
    if need_chains and model.idata_.attrs.get("approximate", 0):
        raise DataError(f"this fit used the approximate sampler {model.sampler!r}, which has no chains "
                        "to diagnose; use sampler='nutpie' or 'pymc'")
    return model.idata_


def _var_names(model, var_names):
    return list(model.param_names) if var_names is None else list(var_names)


def plot_trace(model, *, var_names=None, ax=None):
    """Trace and marginal density of each parameter, one colour per chain.

    Parameters
    ----------
    model : fitted model
        Fitted with ``method="bayes"`` (NUTS: the approximate samplers have no chains).
    var_names : list of str, optional
        Parameters to show (default: all).
    ax : ndarray of Axes, shape (n_parameters, 2), optional
        Where to draw; default a new figure.

    Returns
    -------
    ndarray of matplotlib Axes, shape (n_parameters, 2)

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import clvmodels
    >>> from clvmodels import plotting
    >>> from clvmodels.datasets import load_cdnow_summary
    >>> summary = load_cdnow_summary()            # CDNOW: 2,357 customers, weeks, 39-week holdout
    >>> bayes = clvmodels.BetaGeoModel(method="bayes", chains=2, draws=200, tune=200, seed=3).fit(summary)
    >>> plotting.plot_trace(bayes).shape
    (4, 2)
    """
    import arviz as az

    names = _var_names(model, var_names)
    axes = az.plot_trace(_idata(model), var_names=names, axes=ax, compact=True,
                         backend_kwargs={"layout": "constrained"} if ax is None else None)
    for (density, trace), name in zip(np.atleast_2d(axes), names):
        density.set_xlabel(f"{name}")
        density.set_ylabel("Posterior density")
        trace.set_xlabel("Draw (after tuning)")
        trace.set_ylabel(f"{name}")
    return axes


def plot_rank(model, *, var_names=None, ax=None):
    """Rank plots: the ranks of each chain's draws among all draws, as histograms.

    Parameters
    ----------
    model : fitted model
        Fitted with ``method="bayes"`` (NUTS).
    var_names : list of str, optional
        Parameters to show (default: all).
    ax : ndarray of Axes, optional
        One per parameter; default a new figure, two panels per row.

    Returns
    -------
    ndarray of matplotlib Axes, one per parameter

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import clvmodels
    >>> from clvmodels import plotting
    >>> from clvmodels.datasets import load_cdnow_summary
    >>> summary = load_cdnow_summary()            # CDNOW: 2,357 customers, weeks, 39-week holdout
    >>> bayes = clvmodels.BetaGeoModel(method="bayes", chains=2, draws=200, tune=200, seed=3).fit(summary)
    >>> plotting.plot_rank(bayes).size
    4
    """
    import arviz as az

    names = _var_names(model, var_names)
    idata = _idata(model)
    if ax is None:  # two panels per row: one row of four is too wide to read
        import matplotlib.pyplot as plt

        rows = int(np.ceil(len(names) / 2))
        _, grid = plt.subplots(rows, min(len(names), 2), figsize=(9.0, 3.0 * rows), layout="constrained",
                               squeeze=False)
        for extra in grid.ravel()[len(names):]:
            extra.remove()
        ax = grid.ravel()[: len(names)]
        grid.ravel()[0].figure.suptitle("Rank plots: each chain's draws ranked among all draws "
                                        "(flat bars: the chains agree)", fontsize=10)
    return np.asarray(az.plot_rank(idata, var_names=names, ax=ax))


def plot_posterior(model, *, reference=None, var_names=None, hdi_prob: float = 0.9, ax=None):
    """Marginal posterior of each parameter with its highest-density interval.

    Parameters
    ----------
    model : fitted model
        Fitted with ``method="bayes"`` (any sampler, approximate ones included).
    reference : fitted model, Series or dict, optional
        Values to mark on each panel, e.g. the MLE of the same model (``BetaGeoModel().fit(...)``):
        the panel then says how much posterior mass lies below and above it.
    var_names : list of str, optional
        Parameters to show (default: all).
    hdi_prob : float, default 0.9
        Probability mass of the HDI (the same 0.9 as every interval of clvmodels).
    ax : ndarray of Axes, optional
        One per parameter; default a new figure, two panels per row.

    Returns
    -------
    ndarray of matplotlib Axes, one per parameter
        Each panel's title gives the posterior mean and HDI; the HDI is the black bar on the
        x axis; the reference (orange) line stops below the text above the curve.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import clvmodels
    >>> from clvmodels import plotting
    >>> from clvmodels.datasets import load_cdnow_summary
    >>> summary = load_cdnow_summary()            # CDNOW: 2,357 customers, weeks, 39-week holdout
    >>> bayes = clvmodels.BetaGeoModel(method="bayes", chains=2, draws=200, tune=200, seed=3).fit(summary)
    >>> axes = plotting.plot_posterior(bayes, reference=clvmodels.BetaGeoModel().fit(summary))
    >>> [ax.get_title().split(":")[0] for ax in axes.ravel()]
    ['r', 'alpha', 'a', 'b']
    """
    import arviz as az

    names = _var_names(model, var_names)
    ref = None
    if reference is not None:
        values = reference.params_ if hasattr(reference, "params_") else pd.Series(reference)
        if not isinstance(values, pd.Series):
            raise DataError("reference must be a model pooled across segments (params_ a Series), "
                            "a Series or a dict of parameter values")
        missing = [n for n in names if n not in values.index]
        if missing:
            raise DataError(f"reference has no values for {missing}; it has {list(values.index)}")
        ref = {n: float(values[n]) for n in names}
    rows = int(np.ceil(len(names) / 2))
    layout = {} if ax is not None else {"grid": (rows, min(len(names), 2)),
                                        "figsize": (9.0, 3.6 * rows),
                                        "backend_kwargs": {"layout": "constrained"}}
    idata = _idata(model, need_chains=False)
    # ArviZ draws only the density here: its "mean=" and "90% HDI" texts sit on the curve and
    # under the reference line, so the numbers go into the panel title and the HDI is a bar on
    # the x axis, below the curve
    axes = np.asarray(az.plot_posterior(idata, var_names=names, point_estimate=None, hdi_prob="hide",
                                        ax=ax, textsize=9, **layout))
    for panel, name in zip(axes.ravel(), names):
        draws = idata.posterior[name].to_numpy().ravel()
        low, high = (float(v) for v in az.hdi(draws, hdi_prob=hdi_prob))
        top = max((float(np.max(line.get_ydata())) for line in panel.get_lines()), default=1.0)
        panel.set_title(f"{name}: mean {draws.mean():.4g}, {hdi_prob:.0%} HDI [{low:.4g}, {high:.4g}]",
                        fontsize=9)
        panel.plot([low, high], [0.0, 0.0], color="black", linewidth=4, solid_capstyle="butt",
                   label=f"{hdi_prob:.0%} HDI")
        panel.set_xlabel("Parameter value")
        panel.set_ylabel("Posterior density")
        # headroom above the curve: the reference text lives there, clear of curve and line
        panel.set_ylim(-0.04 * top, 1.45 * top)
        panel.tick_params(axis="x", labelsize=8)
        if ref is None:
            continue
        below = float((draws < ref[name]).mean())
        panel.vlines(ref[name], 0.0, 1.08 * top, color="C1", linewidth=1.2)
        text_x = "right" if ref[name] <= float(np.median(draws)) else "left"
        panel.text(0.99 if text_x == "right" else 0.01, 0.97,
                   f"{ref[name]:.4g}: {below:.0%} below, {1 - below:.0%} above",
                   transform=panel.transAxes, ha=text_x, va="top", fontsize=8, color="C1")
    if reference is not None:
        what = f"{type(reference).__name__} ({reference.method})" if hasattr(reference, "method") else "reference"
        axes.ravel()[0].figure.suptitle(f"Posterior with {hdi_prob:.0%} HDI (black bar); orange line: "
                                        f"{what} estimate, with the posterior mass on either side",
                                        fontsize=10)
    return axes


def plot_energy(model, *, ax=None):
    """Energy plot of the NUTS sampler (marginal energy vs energy transition).

    Parameters
    ----------
    model : fitted model
        Fitted with ``method="bayes"`` by a NUTS sampler ("nutpie" or "pymc").
    ax : matplotlib Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import clvmodels
    >>> from clvmodels import plotting
    >>> from clvmodels.datasets import load_cdnow_summary
    >>> summary = load_cdnow_summary()            # CDNOW: 2,357 customers, weeks, 39-week holdout
    >>> bayes = clvmodels.BetaGeoModel(method="bayes", chains=2, draws=200, tune=200, seed=3).fit(summary)
    >>> plotting.plot_energy(bayes).get_xlabel()
    'Energy (centred)'
    """
    import arviz as az

    idata = _idata(model)
    if "energy" not in idata.sample_stats:
        raise DataError("this posterior has no sampler energy (sample_stats.energy); it comes from "
                        "NUTS samplers ('nutpie', 'pymc')")
    ax = az.plot_energy(idata, ax=ax)
    ax.set_title("NUTS energy: marginal vs transition\n(BFMI below 0.3: the sampler explores the tails poorly)")
    ax.set_xlabel("Energy (centred)")
    ax.set_ylabel("Density")
    return ax
