"""How customers differ: the mixing distributions of a fitted model (heterogeneity plots).

A BG/NBD customer buys at rate ``lambda ~ Gamma(r, alpha)`` while alive and drops out after each
purchase with probability ``p ~ Beta(a, b)`` (Fader, Hardie & Lee 2005, sec. 3); a Pareto/NBD
customer's lifetime ends at rate ``mu ~ Gamma(s, beta)``; a BG/BB customer transacts and drops
out per opportunity with Beta-distributed probabilities; a Gamma-Gamma customer's mean spend per
transaction follows an inverse-Gamma distribution (Fader & Hardie 2013, eq. 1-2). These
densities, at the fitted parameters, are how the model sees the customer base: a Gamma with shape
r < 1 means most customers buy rarely and a few very often.

Which distributions a family mixes over is the family's own knowledge: its ``heterogeneity``
field, a tuple of :class:`clvmodels.families.mixing.Mixing` declared in the family's module, read
here through ``model.family`` (purchase and spend models alike); this module only turns each
declared kind into a scipy distribution. The parameters are read through the model's public
``customer_params`` / ``parameter_draws``.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from clvmodels.errors import DataError
from clvmodels.families.mixing import Mixing
from clvmodels.models.intervals import interval_bounds
from clvmodels.plotting._common import (
    MODEL_COLOR,
    model_time_unit,
    money_label,
    params_for_one,
    unit_name,
)


def _distribution(mix: Mixing, P: dict):
    """The scipy distribution of ``mix`` at parameters ``P`` (arrays broadcasting together)."""
    first, second = mix.args(P)
    if mix.kind == "gamma":
        return stats.gamma(first, scale=1.0 / second)
    if mix.kind == "beta":
        return stats.beta(first, second)
    return stats.invgamma(first, scale=second)


def _family_of(model):
    """``model.family``: every model class names its family (purchase or spend)."""
    return getattr(model, "family", None)


def _support(mix: Mixing) -> tuple[float, float]:
    return (0.0, 1.0) if mix.kind == "beta" else (0.0, np.inf)


#: Points on each density curve.
GRID_POINTS = 400


def mixing_distributions(model) -> list[Mixing]:
    """The mixing distributions of a fitted model's family (``model.family.heterogeneity``).

    Parameters
    ----------
    model : fitted model
        A purchase model of any family, or a spend model, whose family declares its
        ``heterogeneity``.

    Returns
    -------
    list of :class:`clvmodels.families.mixing.Mixing`

    Raises
    ------
    DataError
        If the model's family is not known to describe its mixing distributions.

    Examples
    --------
    >>> import clvmodels
    >>> from clvmodels import plotting
    >>> from clvmodels.datasets import load_cdnow_summary
    >>> summary = load_cdnow_summary()            # CDNOW: 2,357 customers, weeks, 39-week holdout
    >>> bg = clvmodels.BetaGeoModel().fit(summary)
    >>> [mix.label for mix in plotting.mixing.mixing_distributions(bg)]
    ['Transaction rate while alive (lambda)', 'Dropout probability after each purchase (p)']
    """
    model.point_draws()  # NotFittedError for an unfitted model
    found = tuple(getattr(_family_of(model), "heterogeneity", None) or ())
    if not found:
        raise DataError(f"{type(model).__name__} does not describe its mixing distributions (its "
                        "family declares no heterogeneity), so there is nothing to draw")
    return list(found)


def _grid(mix: Mixing, P: dict) -> np.ndarray:
    """Points from the lower end of the support to the 99th percentile (the upper end for p)."""
    low, upper = _support(mix)
    high = min(float(np.squeeze(_distribution(mix, P).ppf(0.99))), upper)
    step = (high - low) / GRID_POINTS
    return np.linspace(low + step / 2, high - (step / 2 if high == upper else 0.0), GRID_POINTS)


def heterogeneity_table(model, *, segment=None, level: float | None = 0.9, n_draws: int = 200,
                        seed=0) -> list[dict]:
    """The numbers behind :func:`plot_heterogeneity`: each mixing density on a grid.

    Parameters
    ----------
    model : fitted model
        See :func:`mixing_distributions`.
    segment : optional
        For a model pooled by segment, the segment whose parameters to use.
    level : float or None, default 0.9
        Coverage of the pointwise band of the density over parameter draws; None for no band.
    n_draws : int, default 200
        Parameter draws for the band (Laplace draws for MLE, thinned posterior for Bayes).
    seed : int, optional
        Seed of the Laplace draws.

    Returns
    -------
    list of dict, one per mixing distribution
        ``mixing`` (the :class:`Mixing`), ``x`` (grid, shape (m,)), ``density`` (at the point
        estimate, shape (m,)), ``mean`` and, with ``level``, ``lower`` and ``upper`` (shape (m,)).

    Examples
    --------
    >>> import clvmodels
    >>> from clvmodels import plotting
    >>> from clvmodels.datasets import load_cdnow_summary
    >>> summary = load_cdnow_summary()            # CDNOW: 2,357 customers, weeks, 39-week holdout
    >>> bg = clvmodels.BetaGeoModel().fit(summary)
    >>> rate, dropout = plotting.heterogeneity_table(bg, n_draws=50, seed=1)
    >>> round(rate["mean"], 3)       # r / alpha: purchases per week of the average alive customer
    0.055
    """
    mixings = mixing_distributions(model)
    point = {k: v.T for k, v in params_for_one(model, segment).items()}  # (1, 1)
    draws = None
    if level is not None:
        draws = {k: v.T for k, v in params_for_one(model, segment, model.parameter_draws(n_draws, seed)).items()}
    rows = []
    for mix in mixings:
        x = _grid(mix, point)
        row = {"mixing": mix, "x": x, "density": _distribution(mix, point).pdf(x[:, None])[:, 0],
               "mean": float(np.squeeze(mix.mean(point)))}
        if draws is not None:
            row["lower"], row["upper"] = interval_bounds(_distribution(mix, draws).pdf(x[:, None]).T, level)
        rows.append(row)
    return rows


def plot_heterogeneity(model, *, segment=None, level: float | None = 0.9, n_draws: int = 200, seed=0,
                       currency: str | None = None, ax=None):
    """How customers differ: the density of each mixing distribution at the fit, with a band.

    One panel per distribution the model's family declares (``model.family.heterogeneity``).
    For BG/NBD: the transaction rate ``lambda ~ Gamma(r, alpha)`` (purchases per time unit while
    alive) and the dropout probability ``p ~ Beta(a, b)``; for Pareto/NBD the dropout rate
    ``mu ~ Gamma(s, beta)`` instead; for BG/BB the transaction and dropout probabilities per
    opportunity; for Gamma-Gamma, the mean spend per transaction. The band is pointwise over parameter draws: where it is wide, the data say
    little about how many customers are like that.

    Parameters
    ----------
    model : fitted model
        See :func:`mixing_distributions`.
    segment : optional
        For a model pooled by segment, the segment whose parameters to use.
    level : float or None, default 0.9
        Coverage of the pointwise band over parameter draws; None for no band.
    n_draws : int, default 200
        Parameter draws for the band.
    seed : int, optional
        Seed of the Laplace draws.
    currency : str, optional
        Currency code for a money axis (Gamma-Gamma).
    ax : Axes or array of Axes, optional
        One Axes per mixing distribution; default a new figure with one panel each.

    Returns
    -------
    ndarray of matplotlib Axes, shape (n_mixing,)
        One panel each: the density line, the band, a dashed line at the mean. Densities that
        grow without bound at 0 (shape below 1) are cut at the top of the panel.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import clvmodels
    >>> from clvmodels import plotting
    >>> from clvmodels.datasets import load_cdnow_summary
    >>> summary = load_cdnow_summary()            # CDNOW: 2,357 customers, weeks, 39-week holdout
    >>> bg = clvmodels.BetaGeoModel().fit(summary)
    >>> rate_ax, dropout_ax = plotting.plot_heterogeneity(bg, n_draws=50, seed=1)
    >>> rate_ax.get_xlabel()
    'Purchases per week (lambda)'
    """
    table = heterogeneity_table(model, segment=segment, level=level, n_draws=n_draws, seed=seed)
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(1, len(table), figsize=(5.0 * len(table), 4.0), layout="constrained",
                             squeeze=False)
    axes = np.ravel(np.asarray(ax, dtype=object))
    if axes.size != len(table):
        raise DataError(f"ax must hold {len(table)} Axes, one per mixing distribution; got {axes.size}")
    unit = unit_name(model_time_unit(model))
    for panel, row in zip(axes, table):
        mix, x, y = row["mixing"], row["x"], row["density"]
        panel.plot(x, y, color=MODEL_COLOR, label="density at the estimate")
        if "lower" in row:
            panel.fill_between(x, row["lower"], row["upper"], color=MODEL_COLOR, alpha=0.2, linewidth=0,
                               label=f"{level:.0%} band over parameter draws")
        if np.isfinite(row["mean"]):
            panel.axvline(row["mean"], color="0.3", linestyle="--", linewidth=1.0,
                          label=f"mean {row['mean']:.3g}")
        # a density with shape < 1 is infinite at 0: scale the panel to the rest of the curve
        top = np.percentile(np.r_[y, row.get("upper", y)], 97) * 1.15
        panel.set_ylim(0.0, top)
        panel.set_xlim(0.0, x[-1])
        label = mix.xlabel.replace("{unit}", unit[:-1] if unit.endswith("s") else unit)
        if "{money}" in label:
            label = money_label(label.replace("{money}", ""), currency)
        panel.set_xlabel(label)
        panel.set_ylabel("Density across customers")
        panel.set_title(mix.label, fontsize="medium")
        panel.legend(frameon=False, fontsize="small")
    return axes
