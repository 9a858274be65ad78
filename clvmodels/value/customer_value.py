"""What each customer is worth: discounted margin net of acquisition cost, plus referral value.

Per customer (Fader, Hardie & Lee 2005 for purchases; Fader & Hardie 2013 for spend)::

    clv       = realised margin to date + expected discounted future margin over the horizon
    net_value = clv + referral value - acquisition cost

The realised margin comes from the summary (see :func:`clvmodels.value.economics.realised_margin`);
the future margin from the purchase and spend models (see :mod:`clvmodels.value.expected`);
acquisition costs from :mod:`clvmodels.value.acquisition`; referral value from
:mod:`clvmodels.value.referrals`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from clvmodels.data.checks import check_rfm_summary
from clvmodels.data.meta import summary_meta
from clvmodels.errors import DataError, check_choice, describe_rows
from clvmodels.formulas import bgnbd, gammagamma
from clvmodels.models.scoring import DEFAULT_N_DRAWS, UNCERTAINTY_KINDS
from clvmodels.value.acquisition import resolve_acquisition
from clvmodels.value.economics import Economics, as_economics, realised_margin
from clvmodels.value.engine import ValueInputs, run_value
from clvmodels.value.referrals import Referrals, fit_referral_rates, link_referrals
from clvmodels.value.rollup import payback_periods
from clvmodels.value.totals import rollup_table


@dataclass(frozen=True, eq=False)
class ValueRun:
    """The result of one pass of :func:`value_run`: the customer table and per-draw group totals.

    Attributes
    ----------
    customers : DataFrame
        What :func:`customer_value` returns.
    totals : dict
        Per-draw group totals (:class:`clvmodels.value.totals.GroupTotals`) per rollup column.
    paybacks : dict
        Payback period per group, per rollup column.
    level : float or None
        Coverage of the intervals (None without intervals).
    """

    customers: pd.DataFrame
    totals: dict
    paybacks: dict
    level: float | None

    def rollup(self, by: str | None = None, *, per_customer: bool = False,
               level: float | None = None) -> pd.DataFrame:
        """Value by group (see :func:`clvmodels.value_rollup` for the columns)."""
        if by not in self.totals:
            raise DataError(f"this run accumulated totals by {list(self.totals)}, not {by!r}; run "
                            f"value_run(..., rollup_by=[{by!r}]) to roll up by it")
        if level is not None and not 0 < level < 1:
            raise DataError(f"level must lie strictly between 0 and 1; got {level!r}")
        level = level if self.level is not None and level is not None else self.level
        table = rollup_table(self.totals[by], self.paybacks[by], per_customer=per_customer,
                             level=level)
        table.attrs["clvmodels"] = {**self.customers.attrs.get("clvmodels", {}),
                                    "rollup_by": by, "per_customer": per_customer,
                                    "level": level}
        return table


def _check_models(purchase_model, spend_model) -> None:
    for model, names, what in ((purchase_model, bgnbd.PARAM_NAMES, "purchase_model (a BetaGeoModel)"),
                               (spend_model, gammagamma.PARAM_NAMES, "spend_model (a GammaGammaModel)")):
        if tuple(getattr(model, "param_names", ())) != tuple(names):
            raise DataError(f"{what} was expected, got {type(model).__name__}; pass "
                            "customer_value(bg_model, gg_model, summary, ...) in that order")
        model.point_draws()  # raises NotFittedError for an unfitted model


def _check_summary(summary: pd.DataFrame, purchase_model) -> str:
    check_rfm_summary(summary)
    if summary.index.has_duplicates:
        dup = summary.index[summary.index.duplicated()].unique()
        raise DataError(f"customer ids must be unique in the summary; repeated: {describe_rows(dup)}")
    if "monetary_value" not in summary.columns:
        raise DataError("the summary lacks monetary_value, which the spend model needs; build it "
                        "with rfm_summary(..., monetary_value_col=...)")
    x = summary["frequency"].to_numpy(float)
    m = pd.to_numeric(summary["monetary_value"], errors="coerce").to_numpy(float)
    bad = (x > 0) & ~(np.isfinite(m) & (m > 0))
    if bad.any():
        raise DataError(f"monetary_value must be a positive amount for repeat buyers; not so in "
                        f"{describe_rows(summary.index[bad])}")
    unit, fitted = summary_meta(summary).get("time_unit"), getattr(purchase_model, "time_unit_", None)
    if unit and fitted and unit != fitted:
        raise DataError(f"the model was fitted in time unit {fitted!r} but the summary is in {unit!r}; "
                        f"rebuild the summary with time_unit={fitted!r}")
    unit = unit or fitted
    if unit is None:
        raise DataError("neither the summary nor the model says which time unit recency and T are "
                        "in; build the summary with clvmodels.rfm_summary(...)")
    return unit


def _check_run_settings(uncertainty, level, n_draws) -> None:
    check_choice("uncertainty", uncertainty, UNCERTAINTY_KINDS)
    if isinstance(level, bool) or not isinstance(level, (int, float)) or not 0 < level < 1:
        raise DataError(f"level must lie strictly between 0 and 1 (e.g. 0.9); got {level!r}")
    if isinstance(n_draws, bool) or not isinstance(n_draws, (int, np.integer)) or n_draws < 2:
        raise DataError(f"n_draws must be a whole number >= 2 (e.g. 300); got {n_draws!r}")


def value_run(purchase_model, spend_model, summary: pd.DataFrame,
              economics: Economics | dict | None = None, *, acquisition=None,
              referrals: Referrals | pd.DataFrame | None = None, uncertainty: str | None = "expected",
              level: float = 0.9, n_draws: int = DEFAULT_N_DRAWS, seed=0, rollup_by=(),
              chunk_size: int | None = None, **settings) -> ValueRun:
    """Value every customer and, in the same pass, accumulate per-draw totals for rollups.

    Arguments as for :func:`customer_value`, plus ``rollup_by``: summary columns (or None for
    all customers) to roll up by afterwards with ``run.rollup(by)`` or :func:`value_rollup`.
    """
    _check_models(purchase_model, spend_model)
    unit = _check_summary(summary, purchase_model)
    _check_run_settings(uncertainty, level, n_draws)
    econ = as_economics(economics, settings).resolve(unit)
    rollup_by = [rollup_by] if rollup_by is None or isinstance(rollup_by, str) else list(rollup_by)
    realised, realised_source = realised_margin(summary, econ)
    acquisition_costs, acquisition_note = resolve_acquisition(summary, acquisition)
    links = rates = None
    if referrals is not None:
        referrals = referrals if isinstance(referrals, Referrals) else Referrals(referrals)
        links = link_referrals(referrals, summary)
        rates = fit_referral_rates(links.counts, summary["T"].to_numpy(float))
    inputs = ValueInputs(summary, econ, realised, acquisition_costs, links, rates)
    outputs = run_value(purchase_model, spend_model, inputs, uncertainty=uncertainty, level=level,
                        n_draws=n_draws, seed=seed, rollup_by=rollup_by, chunk_size=chunk_size)
    customers = pd.DataFrame(outputs.columns, index=summary.index)
    customers.attrs["clvmodels"] = {
        **summary_meta(summary),
        **econ.as_attrs(),
        "uncertainty": uncertainty,
        "level": level if uncertainty is not None else None,
        "n_draws": outputs.n_draws,
        "seed": seed if seed is None or isinstance(seed, (int, np.integer)) else str(seed),
        "methods": [purchase_model.method, spend_model.method],
        "realised_margin_from": realised_source,
        "acquisition_cost_from": acquisition_note,
        "referral_share": None if links is None else links.share,
        "referral_rate_gamma": None if rates is None else [rates.shape, rates.rate],
    }
    paybacks = {by: payback_periods(econ, purchase_model, spend_model, summary, totals)
                for by, totals in outputs.totals.items()}
    return ValueRun(customers, outputs.totals, paybacks, level if uncertainty is not None else None)


def customer_value(purchase_model, spend_model, summary: pd.DataFrame,
                   economics: Economics | dict | None = None, *, acquisition=None,
                   referrals: Referrals | pd.DataFrame | None = None,
                   uncertainty: str | None = "expected", level: float = 0.9,
                   n_draws: int = DEFAULT_N_DRAWS, seed=0, chunk_size: int | None = None,
                   **settings) -> pd.DataFrame:
    """Per-customer value: realised and expected future margin, referral value, acquisition cost.

    Parameters
    ----------
    purchase_model : BetaGeoModel
        Fitted purchase model (MLE or Bayes).
    spend_model : GammaGammaModel
        Fitted spend model.
    summary : DataFrame
        Customer summary from :func:`clvmodels.rfm_summary` (the models' time unit).
    economics : Economics or dict, optional
        The economic settings; or give them as keywords: ``margin`` (gross-margin rate, required),
        ``horizon`` (time units or "lifetime"), ``discount_rate`` (annual), ``cost_per_transaction``,
        ``cost_to_serve`` (per time unit alive). See :class:`clvmodels.value.economics.Economics`.
    acquisition : str, DataFrame or AcquisitionCosts, optional
        Acquisition costs: a summary column, a cost table per channel, or
        :class:`clvmodels.value.acquisition.AcquisitionCosts` (per period, missing-cost policy).
        By default the summary's ``acquisition_cost`` column if present, else none (0).
    referrals : DataFrame or Referrals, optional
        Who referred whom (``referrer_id``, ``referred_id``, ``date``); see
        :class:`clvmodels.value.referrals.Referrals` for the share and the formula.
    uncertainty : {"expected", "predictive", None}
        ``"expected"``: interval of the expected value (parameter uncertainty of both models, draws
        paired by index); ``"predictive"``: interval of what the customer will actually bring
        (simulated individual futures); None: no interval.
    level : float
        Coverage of the central intervals.
    n_draws : int
        Parameter draws (and simulated futures) per customer.
    seed : int or None
        Seed of the draws and simulations: same seed, same numbers.
    chunk_size : int, optional
        Customers per chunk (memory ~ 12 x 8 bytes x n_draws x chunk_size).

    Returns
    -------
    DataFrame indexed by customer id
        ``realised_margin``, ``expected_future_margin``, ``referral_value``, ``acquisition_cost``,
        ``clv`` (realised + future margin) and ``net_value`` (clv + referral value - acquisition
        cost), with ``_lower``/``_upper`` bounds for the future margin, clv, net value and (given
        referrals) the referral value; ``referrals_made`` with referrals. The value columns are
        the estimates at the MLE (posterior means for Bayesian fits). ``attrs["clvmodels"]``
        records the settings: time unit, horizon, annual and per-unit discount rate, margin,
        costs, interval kind, level, n_draws, seed and where realised margin and acquisition
        costs came from.

    Notes
    -----
    Without a ``revenue_to_date`` column the realised margin covers the repeat purchases only
    (``monetary_value`` is their mean): the first purchase is excluded.
    """
    run = value_run(purchase_model, spend_model, summary, economics, acquisition=acquisition,
                    referrals=referrals, uncertainty=uncertainty, level=level, n_draws=n_draws,
                    seed=seed, rollup_by=(), chunk_size=chunk_size, **settings)
    return run.customers
