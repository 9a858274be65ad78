"""Does the purchase model fit the data? Calibration histogram and holdout validation by frequency.

Both plots work for every purchase family (``model.family``, a
:class:`~clvmodels.families.PurchaseFamily`) and never ask which one it is.

- :func:`plot_period_transactions`: how many customers made 0, 1, 2, ... repeat purchases in the
  calibration period, observed vs the model (Fader, Hardie & Lee 2005, Figure 3), with the
  interval of what the model would generate (BG/BB: opportunities with a transaction).
- :func:`plot_calibration_vs_holdout`: mean purchases in the holdout period by calibration
  frequency, observed vs the model's conditional expectation (FHL 2005, Figure 5).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from clvmodels.data.meta import summary_meta
from clvmodels.errors import DataError, check_choice
from clvmodels.plotting._common import (
    ACTUAL_COLOR,
    MODEL_COLOR,
    age_column,
    model_time_unit,
    new_axes,
    purchase_family,
    require_columns,
    unit_name,
)

INTERVALS = ("simulated", "expected", None)


def repeat_words(family) -> str:
    """What the family counts, for an axis: repeat purchases, or (discrete time) opportunities."""
    return "Repeat opportunities taken" if family.discrete_time else "Repeat purchases"


def _segment_codes(model, summary: pd.DataFrame) -> np.ndarray | None:
    """Each customer's segment code for a model pooled by segment (None otherwise)."""
    if model.pool_by is None:
        return None
    require_columns(summary, [model.pool_by], "the summary",
                    f"carry the segment column the model was pooled by ({model.pool_by!r})")
    codes = pd.Index(model.segments_).get_indexer(summary[model.pool_by])
    if (codes < 0).any():
        from clvmodels.errors import describe_rows

        raise DataError(f"customers in segments the model was not fitted on: "
                        f"{describe_rows(summary.index[codes < 0])}; refit including them")
    return codes


def _draws_as_idata(model, n_draws: int, seed, with_uncertainty: bool):
    """The model's parameter draws as an ArviZ InferenceData, the input of the posterior
    predictive check: the posterior itself (Bayes), Laplace draws (MLE), or the MLE alone."""
    if model.method == "bayes":
        return model.idata_
    import arviz as az

    draws = model.parameter_draws(n_draws, seed) if with_uncertainty else model.point_draws()
    values = draws.values[None, ...]  # one chain: (1, S, k) or (1, S, G, k)
    return az.from_dict(posterior={name: values[..., i] for i, name in enumerate(draws.names)})


def plot_period_transactions(model, summary: pd.DataFrame, *, max_frequency: int = 7,
                             interval: str | None = "simulated", level: float = 0.9,
                             n_draws: int = 200, seed=0, ax=None):
    """Number of customers by repeat purchases in the calibration period, observed vs model.

    The model bar for ``n`` purchases is ``sum_i P(X(T_i) = n)`` (FHL 2005 eq. 8 for BG/NBD; the
    family's ``purchase_probability`` at an empty history for every family), averaged over
    parameter draws, computed by :func:`clvmodels.inference.bayes.posterior_predictive_histogram`.
    For a Bayesian fit this is a posterior predictive check (Gelman et al., *Bayesian Data
    Analysis*, ch. 6) and the title says so; for MLE the draws are Laplace draws.

    Parameters
    ----------
    model : purchase model
        Fitted (MLE or Bayes), of any family (BetaGeoModel, ParetoNBDModel, ...).
    summary : DataFrame
        The calibration summary the model was fitted on (``frequency`` and the observation
        length: ``T``, or ``n_periods`` for BG/BB).
    max_frequency : int
        Customers with ``max_frequency`` or more repeat purchases share the last bar ("7+").
    interval : {"simulated", "expected", None}
        Error bars on the model bars: the range of counts in data sets simulated from the model
        (parameter uncertainty plus sampling noise: an observed bar outside it signals misfit),
        the interval of the expected count (parameter uncertainty only), or none.
    level : float
        Coverage of the interval.
    n_draws : int
        Parameter draws (Laplace draws for MLE, thinned posterior for Bayes); each simulates one
        replicated data set.
    seed : int, optional
        Seed of the Laplace draws and of the simulated data sets.
    ax : matplotlib Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    matplotlib Axes
        ``2 * (max_frequency + 1)`` bars: observed, then model.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import clvmodels
    >>> from clvmodels import plotting
    >>> from clvmodels.datasets import load_cdnow_summary
    >>> summary = load_cdnow_summary()            # CDNOW: 2,357 customers, weeks, 39-week holdout
    >>> bg = clvmodels.BetaGeoModel().fit(summary)
    >>> ax = plotting.plot_period_transactions(bg, summary, n_draws=50, seed=1)
    >>> [label.get_text() for label in ax.get_xticklabels()]
    ['0', '1', '2', '3', '4', '5', '6', '7+']
    """
    family = purchase_family(model)
    check_choice("interval", interval, INTERVALS)
    age = age_column(family)
    require_columns(summary, ["frequency", age], "the summary",
                    "build it with clvmodels.rfm_summary (or opportunity_summary for BG/BB)")
    from clvmodels.inference.bayes import posterior_predictive_histogram

    idata = _draws_as_idata(model, n_draws, seed, with_uncertainty=interval is not None)
    table = posterior_predictive_histogram(
        idata, summary[age].to_numpy(float), observed_frequency=summary["frequency"].to_numpy(),
        segment=_segment_codes(model, summary), max_frequency=max_frequency, n_draws=n_draws,
        level=level, seed=seed, family=family)

    ax = new_axes(ax)
    centers = np.arange(len(table))
    width = 0.4
    ax.bar(centers - width / 2, table["observed"], width, color=ACTUAL_COLOR, label="observed")
    model_label = f"{family.label} model (expected)"
    yerr = None
    if interval is not None:
        kind = "simulated" if interval == "simulated" else "expected"
        low, high = table[f"{kind}_lower"].to_numpy(), table[f"{kind}_upper"].to_numpy()
        mid = table["expected"].to_numpy()
        yerr = np.vstack([np.maximum(mid - low, 0.0), np.maximum(high - mid, 0.0)])
        what = "simulated data sets" if interval == "simulated" else "expected count"
        model_label += f", {level:.0%} interval of {what}"
    ax.bar(centers + width / 2, table["expected"], width, color=MODEL_COLOR, label=model_label,
           yerr=yerr, capsize=3, error_kw={"elinewidth": 1.0})
    ax.set_xticks(centers, table.index)
    end = summary_meta(summary).get("observation_end")
    ax.set_xlabel(f"{repeat_words(family)} in the calibration period" + (f" (to {end})" if end else ""))
    ax.set_ylabel("Customers")
    if model.method == "bayes":
        ax.set_title(f"Posterior predictive check: {repeat_words(family).lower()} per customer,\n"
                     "observed vs replicated from the posterior")
    else:
        ax.set_title(f"{repeat_words(family)} per customer: observed vs model")
    ax.legend(frameon=False)
    return ax


def plot_calibration_vs_holdout(model, summary: pd.DataFrame, *, max_frequency: int = 7, ax=None):
    """Mean holdout purchases by calibration frequency, observed vs the model.

    The model's value for each customer is the conditional expectation of purchases in the
    holdout period given the calibration history (FHL 2005 eq. 10 for BG/NBD; the family's
    ``expected_purchases``), averaged within each calibration-frequency group, as in FHL 2005
    Figure 5.

    Parameters
    ----------
    model : purchase model
        Fitted on the calibration columns of ``summary``, of any family.
    summary : DataFrame
        From :func:`clvmodels.calibration_holdout_summary` (``frequency_holdout`` and the
        ``duration_holdout`` metadata).
    max_frequency : int
        Customers with ``max_frequency`` or more calibration purchases share the last group.
    ax : matplotlib Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    matplotlib Axes
        Two lines (observed, model), one point per frequency group; tick labels give each
        group's number of customers.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import clvmodels
    >>> from clvmodels import plotting
    >>> from clvmodels.datasets import load_cdnow_summary
    >>> summary = load_cdnow_summary()            # CDNOW: 2,357 customers, weeks, 39-week holdout
    >>> bg = clvmodels.BetaGeoModel().fit(summary)
    >>> ax = plotting.plot_calibration_vs_holdout(bg, summary)
    >>> ax.get_title()
    'Holdout validation by calibration frequency'
    """
    family = purchase_family(model)
    require_columns(summary, ["frequency", "frequency_holdout"], "the summary",
                    "build it with clvmodels.calibration_holdout_summary(...)")
    duration = summary_meta(summary).get("duration_holdout")
    if duration is None:
        raise DataError("the summary does not say how long its holdout period is (attrs "
                        "'duration_holdout'); build it with clvmodels.calibration_holdout_summary(...)")
    expected = model.expected_purchases(summary, float(duration))["expected_purchases"]
    group = np.minimum(summary["frequency"].to_numpy(), max_frequency)
    table = pd.DataFrame({"observed": summary["frequency_holdout"].to_numpy(float),
                          "model": expected.to_numpy(), "group": group}).groupby("group")
    means, sizes = table[["observed", "model"]].mean(), table.size()

    ax = new_axes(ax)
    ax.plot(means.index, means["observed"], "o-", color=ACTUAL_COLOR, label="observed")
    ax.plot(means.index, means["model"], "s--", color=MODEL_COLOR,
            label=f"model ({family.label}, conditional expectation)")
    labels = [f"{g}{'+' if g == max_frequency else ''}\nn={sizes[g]}" for g in means.index]
    ax.set_xticks(means.index, labels)
    unit = unit_name(model_time_unit(model))
    ax.set_xlabel(f"{repeat_words(family)} in the calibration period (n = customers)")
    ax.set_ylabel(f"Mean purchases in the holdout\n({float(duration):g} {unit})")
    ax.set_title("Holdout validation by calibration frequency")
    ax.legend(frameon=False)
    return ax
