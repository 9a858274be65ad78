"""Payback period of a new customer of each group: when cumulative expected value covers the
acquisition cost (used by :func:`clvmodels.value_rollup` and :func:`clvmodels.value.value_run`).

Kept apart from the rollup because the value run computes it and the rollup presents it: one
module each, neither importing the other.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from clvmodels.data.timeunits import units_per_year
from clvmodels.value.economics import ResolvedEconomics
from clvmodels.value.expected import new_customer_value
from clvmodels.value.totals import GroupTotals

#: the payback grid is dense (1,000 steps) over the first PAYBACK_DENSE_YEARS, geometric beyond
PAYBACK_DENSE_YEARS = 10.0


def payback_grid(econ: ResolvedEconomics) -> np.ndarray:
    """Horizons (time units, from 0) at which a new customer's cumulative value is evaluated."""
    dense_end = min(econ.horizon, PAYBACK_DENSE_YEARS * units_per_year(econ.time_unit))
    grid = np.linspace(0.0, dense_end, 1001)
    if econ.horizon > dense_end:
        grid = np.concatenate([grid, np.geomspace(dense_end, econ.horizon, 101)[1:]])
    return grid


def _first_crossing(grid: np.ndarray, curve: np.ndarray, target: float) -> float:
    """First horizon at which ``curve`` reaches ``target``, linearly interpolated between grid
    points; NaN if it never does within the grid."""
    reached = np.flatnonzero(curve >= target)
    if reached.size == 0:
        return np.nan
    k = reached[0]
    if k == 0:
        return 0.0
    h0, h1, c0, c1 = grid[k - 1], grid[k], curve[k - 1], curve[k]
    return float(h0 + (h1 - h0) * (target - c0) / (c1 - c0))


def payback_periods(econ: ResolvedEconomics, purchase_model, spend_model, summary: pd.DataFrame,
                    totals: GroupTotals) -> np.ndarray:
    """Payback period of a new customer of each group, at the point estimate.

    The first horizon h (time units) at which a new customer's expected discounted margin up to
    h (first purchase included, cost to serve deducted) reaches the group's mean acquisition cost;
    0 when the first purchase already covers it, NaN when the horizon ends first. A group's new
    customer is the average over the parameters of its customers (one curve for a pooled model;
    per segment for models pooled by segment).

    Returns
    -------
    ndarray, shape (G,)
    """
    grid = payback_grid(econ)
    bg, gg = purchase_model.customer_params(summary), spend_model.customer_params(summary)
    family = purchase_model.family
    n_groups = len(totals.labels)
    # keyed apart: a purchase family and the spend model may share a parameter name
    params = {**{("purchase", k): v for k, v in bg.items()}, **{("spend", k): v for k, v in gg.items()}}
    if all(np.shape(v)[-1] == 1 for v in params.values()):
        curve = new_customer_value(econ, bg, gg, horizon=grid[:, None], family=family)[:, 0]
        curves = np.broadcast_to(curve, (n_groups, grid.size))
    else:  # average the curves of the distinct parameter sets within each group
        keys = np.column_stack([np.broadcast_to(v[0], (len(summary),)) for v in params.values()])
        _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
        pick = {k: (v[:, first] if np.shape(v)[-1] > 1 else v) for k, v in params.items()}
        distinct = new_customer_value(econ, {k: pick[("purchase", k)] for k in bg},
                                      {k: pick[("spend", k)] for k in gg},
                                      horizon=grid[:, None], family=family)  # (K, m)
        weights = np.zeros((n_groups, first.size))
        np.add.at(weights, (totals.codes, inverse.ravel()), 1.0)
        curves = (weights / weights.sum(axis=1, keepdims=True)) @ distinct.T
    cac = totals.fixed["acquisition_cost"] / totals.fixed["customers"]
    return np.array([_first_crossing(grid, curves[g], cac[g]) for g in range(n_groups)])
