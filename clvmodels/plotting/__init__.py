"""Plots of fitted models and their results (matplotlib, imported on first use).

Every function takes fitted objects and frames, accepts ``ax=`` and returns what it drew on
(a matplotlib Axes; an array of Axes for the multi-panel ArviZ diagnostics).

Model fit (any purchase model):

- :func:`plot_period_transactions`: customers by repeat purchases, observed vs model;
- :func:`plot_calibration_vs_holdout`: holdout purchases by calibration frequency;
- :func:`plot_cumulative_transactions`, :func:`plot_incremental_transactions`: tracking the
  cohort's repeat transactions over calendar time;
- :func:`plot_frequency_recency_matrix`, :func:`plot_probability_alive_matrix`: heatmaps on a
  frequency x recency grid;
- :func:`plot_history_alive`: one customer's P(alive) over time.

Model comparison (several fitted purchase models side by side, see
:func:`clvmodels.compare_models`): :func:`plot_model_comparison` and its panels
:func:`plot_period_transactions_comparison`, :func:`plot_holdout_comparison`,
:func:`plot_tracking_comparison`.

How customers differ: :func:`plot_heterogeneity` (the mixing distributions at the fit: the
transaction rate and dropout probability of BG/NBD, the mean spend of Gamma-Gamma) and
:func:`plot_spend_fit` (Gamma-Gamma fit check: observed vs model distribution of average spend).

Value: :func:`plot_value_distribution` (customers ranked by value, with intervals),
:func:`plot_lorenz_curve` (share of total value held by the top customers) and
:func:`plot_value_by_group` (value by channel or cohort, with intervals).

Win-back: :func:`plot_winback_gains` (cumulative incremental value against contact cost, with
the budget line).

Bayesian fits (ArviZ): :func:`plot_trace`, :func:`plot_rank`, :func:`plot_posterior`,
:func:`plot_energy`.

The numbers behind the plots are available too: :func:`expected_repeat_transactions`,
:func:`actual_repeat_transactions`, :func:`history_grid`, :func:`alive_history`,
:func:`heterogeneity_table`, :func:`spend_fit_table`, :func:`lorenz_curve`,
:func:`winback_gains`.

Money axes carry the currency given as ``currency=`` or recorded in the frame's
``attrs["clvmodels"]["currency"]``; when neither says, the axis reads "currency of the data".
"""

from clvmodels.plotting.concentration import lorenz_curve, plot_lorenz_curve
from clvmodels.plotting.comparison import (
    plot_holdout_comparison,
    plot_model_comparison,
    plot_period_transactions_comparison,
    plot_tracking_comparison,
)
from clvmodels.plotting.bayes import plot_energy, plot_posterior, plot_rank, plot_trace
from clvmodels.plotting.customer import alive_history, plot_history_alive
from clvmodels.plotting.fit import plot_calibration_vs_holdout, plot_period_transactions
from clvmodels.plotting.grids import (
    history_grid,
    plot_frequency_recency_matrix,
    plot_probability_alive_matrix,
)
from clvmodels.plotting.mixing import heterogeneity_table, plot_heterogeneity
from clvmodels.plotting.spend import plot_spend_fit, spend_fit_table
from clvmodels.plotting.tracking import (
    actual_repeat_transactions,
    expected_repeat_transactions,
    plot_cumulative_transactions,
    plot_incremental_transactions,
)
from clvmodels.plotting.value import plot_value_by_group, plot_value_distribution
from clvmodels.plotting.winback import plot_winback_gains, winback_gains

__all__ = [
    "plot_holdout_comparison",
    "plot_model_comparison",
    "plot_period_transactions_comparison",
    "plot_tracking_comparison",
    "actual_repeat_transactions",
    "alive_history",
    "expected_repeat_transactions",
    "heterogeneity_table",
    "history_grid",
    "lorenz_curve",
    "plot_calibration_vs_holdout",
    "plot_cumulative_transactions",
    "plot_energy",
    "plot_frequency_recency_matrix",
    "plot_heterogeneity",
    "plot_history_alive",
    "plot_incremental_transactions",
    "plot_lorenz_curve",
    "plot_period_transactions",
    "plot_posterior",
    "plot_probability_alive_matrix",
    "plot_rank",
    "plot_spend_fit",
    "plot_trace",
    "plot_value_by_group",
    "plot_value_distribution",
    "plot_winback_gains",
    "spend_fit_table",
    "winback_gains",
]
