"""Customer value rolled up by an attribute (channel, acquisition cohort, partner).

Totals and means come with intervals computed the right way: the value of every customer is
summed within each parameter draw (or simulated future), then quantiles are taken over draws.
Beside the totals each group gets its LTV:CAC ratio, the break-even acquisition cost (the expected
value of a new customer of the group) and the payback period of a new customer.

Every total counts each customer's own margin exactly once (see :mod:`clvmodels.value.totals`):
in the customer's own group by default, or moved by the referral share to the referrer's group
with ``attribution=True``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from clvmodels.data.timeunits import units_per_year
from clvmodels.errors import DataError
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


def value_rollup(source, by=None, *, per_customer: bool = False, level: float | None = None,
                 attribution: bool = False, **value_settings) -> pd.DataFrame:
    """Customer value by group, with intervals of the totals computed per draw.

    Parameters
    ----------
    source : ValueRun or tuple
        A :class:`~clvmodels.value.customer_value.ValueRun` from ``value_run(..., rollup_by=...)``,
        or ``(purchase_model, spend_model, summary)`` (plus economics) to compute now, in one pass,
        with the keyword settings of :func:`clvmodels.customer_value` in ``value_settings``.
    by : str, list of str or None
        Summary column(s) to group by (e.g. "channel", an acquisition-month cohort column,
        "partner"); several columns give a row per combination that occurs, indexed by a
        MultiIndex with one level per column; None for one row ("all") with every customer.
    per_customer : bool
        Report means per customer instead of totals (ratios, break-even cost and payback are per
        customer either way).
    level : float, optional
        Coverage of the intervals; defaults to the run's.
    attribution : bool
        The referral view. False (default): every customer's own value stays in their own group.
        True: ``share`` of each referred customer's own value (clv) is moved from their group to
        their referrer's (the ``referral_attribution`` column, included in ``clv``, ``net_value``
        and ``ltv_cac``). Acquisition costs stay where they were paid. Either way the groups'
        ``net_value`` sums to own realised + own future margin - acquisition cost.
    **value_settings
        With a tuple ``source``: the keyword settings of :func:`clvmodels.customer_value`
        (``margin=0.3``, ``horizon=52``, ``uncertainty=...``, ``level`` defaults to 0.9); refused
        with a ValueRun, whose settings are fixed.

    Returns
    -------
    DataFrame, one row per group
        ``customers``; ``acquisition_cost``, ``realised_margin``; ``expected_future_margin``,
        (with attribution) ``referral_attribution``, ``clv``, ``net_value`` (``clv`` -
        acquisition cost), ``ltv_cac`` (``clv`` / acquisition cost, NaN without cost),
        ``breakeven_acquisition_cost`` (expected value of a new customer of the group, same
        first-purchase accounting as the margin), ``future_referral_value`` (referrals not made
        yet: value of customers outside the base, never in ``net_value``) and ``future_value``
        (future margin + future referral value), each with ``_lower``/``_upper`` when the run
        has intervals; ``payback_period`` (time units). In a predictive run the totals' intervals
        are predictive (one simulated future per draw); the break-even cost, an expectation,
        keeps its parameter-uncertainty interval.

    Raises
    ------
    DataError
        If ``by`` names no summary column, the run did not accumulate totals by it, or settings
        are given with a ValueRun.

    See Also
    --------
    clvmodels.customer_value : the per-customer table.

    Examples
    --------
    Groups add up to the whole: the channels' net values sum to every customer's.

    >>> from clvmodels import BetaGeoModel, GammaGammaModel, value_rollup
    >>> from clvmodels.datasets import load_cdnow_summary
    >>> summary = load_cdnow_summary()
    >>> summary["channel"] = np.where(summary["frequency"] > 2, "search", "tv")   # a made-up channel
    >>> bg, gg = BetaGeoModel().fit(summary), GammaGammaModel().fit(summary)
    >>> by_channel = value_rollup((bg, gg, summary), "channel", margin=0.3, horizon=52, uncertainty=None)
    >>> everyone = value_rollup((bg, gg, summary), None, margin=0.3, horizon=52, uncertainty=None)
    >>> bool(np.isclose(by_channel["net_value"].sum(), everyone["net_value"].sum()))
    True
    """
    from clvmodels.value.customer_value import ValueRun, value_run
    from clvmodels.value.totals import rollup_key

    by = rollup_key(by)
    if isinstance(source, ValueRun):
        if value_settings:
            raise DataError(f"settings {sorted(value_settings)} apply when computing; this run is "
                            "already computed (pass the models and summary instead)")
        return source.rollup(by, per_customer=per_customer, level=level, attribution=attribution)
    if isinstance(source, pd.DataFrame):
        raise DataError(
            "value_rollup needs per-draw values, which a customer table no longer has (summing its "
            "per-customer bounds would give a wrong interval). Pass the run from "
            "value_run(..., rollup_by=[...]) or the tuple (purchase_model, spend_model, summary)"
        )
    if not isinstance(source, (tuple, list)) or not 3 <= len(source) <= 4:
        raise DataError("source must be a ValueRun or a tuple (purchase_model, spend_model, summary"
                        f"[, economics]); got {type(source).__name__}")
    run = value_run(*source, rollup_by=[by], **value_settings)
    return run.rollup(by, per_customer=per_customer, level=level, attribution=attribution)
