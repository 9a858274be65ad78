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

import pandas as pd

from clvmodels.errors import DataError
from clvmodels.value.customer_value import ValueRun, value_run
from clvmodels.value.totals import rollup_key

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

    >>> import numpy as np
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
