"""What each customer is worth: own margin net of acquisition cost, referrals attributed apart.

Per customer (Fader, Hardie & Lee 2005 for purchases; Fader & Hardie 2013 for spend)::

    clv                  = realised margin to date + expected discounted future margin
    net_value            = clv - acquisition cost                    (own value, conserving)
    attributed_net_value = net_value + referral_credit - credited_to_referrer
    future_value         = expected future margin + future_referral_value

``referral_credit`` / ``credited_to_referrer`` move ``share`` of a referred customer's ``clv`` to
the referrer (see :mod:`clvmodels.value.referrals`): summed over customers, ``net_value`` and
``attributed_net_value`` have the same total, each customer's margin counted once.
``future_referral_value`` (customers not acquired yet) is never inside these totals.

Assumptions (also in docs/value_accounting.md):

* The purchase model is any family of the contract (BG/NBD, MBG/NBD, Pareto/NBD, BG/BB), all
  **non-contractual**: nobody announces leaving; "alive" is a latent state, and the future is
  P(alive) x the family's alive branch. (Under BG/NBD a customer drops out only right after a
  purchase, so one without repeat purchase is alive with probability 1; MBG/NBD and Pareto/NBD
  let them go silently.) Subscriptions, where churn is observed, need a contractual model. A
  discrete-opportunity family (BG/BB) counts the horizon in whole opportunities and discounts
  per opportunity.
* Gamma-Gamma takes a customer's spend per purchase independent of their purchase frequency;
  check it on your data with :func:`clvmodels.value.spend_frequency_check`.
* Cash flows are discounted continuously at the annual rate converted to the time unit once;
  "lifetime" is 100 years (``LIFETIME_YEARS``), at which discounting leaves a negligible tail.
* Margin to date counts every purchase, the first included, unless
  ``Economics(first_purchase="excluded")``; a new customer's value follows the same setting.

The realised margin comes from :func:`clvmodels.value.economics.realised_margin`; the future margin
from :mod:`clvmodels.value.expected`; acquisition costs from :mod:`clvmodels.value.acquisition`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from clvmodels.data.checks import check_history_columns
from clvmodels.data.meta import summary_meta
from clvmodels.errors import DataError, check_choice, describe_rows
from clvmodels.models.scoring import DEFAULT_N_DRAWS, UNCERTAINTY_KINDS
from clvmodels.value.acquisition import resolve_acquisition
from clvmodels.value.economics import Economics, as_economics, realised_margin
from clvmodels.value.engine import ValueInputs, run_value
from clvmodels.value.payback import payback_periods
from clvmodels.value.referrals import Referrals, fit_referral_rates, link_referrals, purchase_occasions
from clvmodels.value.roles import check_spend_model, purchase_family
from clvmodels.value.totals import rollup_key, rollup_table


@dataclass(frozen=True, eq=False)
class ValueRun:
    """The result of one pass of :func:`value_run`: the customer table and per-draw group totals.

    Parameters
    ----------
    customers : DataFrame
        What :func:`customer_value` returns.
    totals : dict
        Per-draw group totals per rollup key.
    paybacks : dict
        Payback period per group, per rollup column.
    level : float or None
        Coverage of the intervals (None without intervals).

    Attributes
    ----------
    customers : DataFrame
        What :func:`customer_value` returns.
    totals : dict
        Per-draw group totals (:class:`clvmodels.value.totals.GroupTotals`) per rollup key (None,
        a column name, or a tuple of column names).
    paybacks : dict
        Payback period per group, per rollup column.
    level : float or None
        Coverage of the intervals (None without intervals).
    """

    customers: pd.DataFrame
    totals: dict
    paybacks: dict
    level: float | None

    def rollup(self, by=None, *, per_customer: bool = False, level: float | None = None,
               attribution: bool = False) -> pd.DataFrame:
        """Value by group from the per-draw totals of this run.

        Parameters
        ----------
        by : None, str or tuple of str, optional
            One of the run's ``rollup_by`` groupings (None: all customers).
        per_customer : bool, default False
            Means per customer instead of totals.
        level : float, optional
            Interval coverage (default the run's, 0.9 unless it was set).
        attribution : bool, default False
            Referral view: own value (False) or attributed value (True).

        Returns
        -------
        DataFrame
            One row per group; columns as :func:`clvmodels.value_rollup` describes.

        Raises
        ------
        DataError
            If the run did not accumulate totals by ``by``, or ``level``/``attribution`` is invalid.
        """
        by = rollup_key(by)
        if by not in self.totals:
            raise DataError(f"this run accumulated totals by {list(self.totals)}, not {by!r}; run "
                            f"value_run(..., rollup_by=[{by!r}]) to roll up by it")
        if not isinstance(attribution, bool):
            raise DataError(f"attribution must be True or False; got {attribution!r}")
        if level is not None and not 0 < level < 1:
            raise DataError(f"level must lie strictly between 0 and 1; got {level!r}")
        level = level if self.level is not None and level is not None else self.level
        table = rollup_table(self.totals[by], self.paybacks[by], per_customer=per_customer,
                             level=level, attributed=attribution)
        table.attrs["clvmodels"] = {**self.customers.attrs.get("clvmodels", {}),
                                    "rollup_by": list(by) if isinstance(by, tuple) else by,
                                    "per_customer": per_customer, "level": level,
                                    "referral_view": "attributed" if attribution else "own"}
        return table


def _check_models(purchase_model, spend_model) -> None:
    """Models by role: a purchase model (its ``family`` a PurchaseFamily), then a Gamma-Gamma
    spend model; each fitted."""
    purchase_family(purchase_model)
    check_spend_model(spend_model)
    for model in (purchase_model, spend_model):
        model.point_draws()  # raises NotFittedError for an unfitted model


def _check_summary(summary: pd.DataFrame, purchase_model) -> str:
    check_history_columns(summary, purchase_model.family)
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

    Parameters
    ----------
    purchase_model : BetaGeoModel, ParetoNBDModel, ModifiedBetaGeoModel or BetaGeoBetaBinomModel
        Fitted purchase model (any model whose ``family`` is a purchase family).
    spend_model : GammaGammaModel
        Fitted spend model.
    summary : DataFrame
        Customer summary in the models' time unit.
    economics : Economics or dict, optional
        The economic settings (see :func:`customer_value`).
    acquisition : str, DataFrame or AcquisitionCosts, optional
        Acquisition costs (see :func:`customer_value`).
    referrals : DataFrame or Referrals, optional
        Who referred whom (see :func:`customer_value`).
    uncertainty : {"expected", "predictive", None}, default "expected"
        Interval kind (see :func:`customer_value`).
    level : float, default 0.9
        Coverage of the central intervals.
    n_draws : int, default 300
        Parameter draws (and simulated futures) per customer.
    seed : int or None, default 0
        Seed of the draws and simulations.
    rollup_by : list, default ()
        Groupings to roll up by afterwards with ``run.rollup(by)`` or :func:`value_rollup`; each
        is None (all customers), a summary column, or a tuple of columns
        (``rollup_by=[("channel", "cohort")]``). A single string is one grouping.
    chunk_size : int, optional
        Customers per chunk.
    **settings
        Economic settings as keywords (``margin=0.3``, ``horizon=52``, ...).

    Returns
    -------
    ValueRun
        ``customers`` (what :func:`customer_value` returns) and the per-draw group totals.

    Raises
    ------
    DataError
        As :func:`customer_value`.

    Examples
    --------
    >>> from clvmodels import BetaGeoModel, GammaGammaModel
    >>> from clvmodels.value import value_run
    >>> from clvmodels.datasets import load_cdnow_summary
    >>> summary = load_cdnow_summary()
    >>> bg, gg = BetaGeoModel().fit(summary), GammaGammaModel().fit(summary)
    >>> run = value_run(bg, gg, summary, margin=0.3, horizon=52, n_draws=50, rollup_by=[None])
    >>> total = run.rollup()
    >>> bool(np.isclose(total["net_value"].iloc[0], run.customers["net_value"].sum()))
    True
    """
    _check_models(purchase_model, spend_model)
    unit = _check_summary(summary, purchase_model)
    _check_run_settings(uncertainty, level, n_draws)
    econ = as_economics(economics, settings).resolve(unit)
    rollup_by = [rollup_by] if rollup_by is None or isinstance(rollup_by, str) else list(rollup_by)
    rollup_by = list(dict.fromkeys(rollup_key(by) for by in rollup_by))
    realised, realised_source = realised_margin(summary, econ)
    acquisition_costs, acquisition_note = resolve_acquisition(summary, acquisition)
    links = rates = None
    if referrals is not None:
        referrals = referrals if isinstance(referrals, Referrals) else Referrals(referrals)
        links = link_referrals(referrals, summary)
        # referrals per purchase occasion (the first purchase included): see referrals.py
        rates = fit_referral_rates(links.counts,
                                   purchase_occasions(summary["frequency"].to_numpy(float)))
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
        "purchase_model": purchase_model.family.name,
        "realised_margin_from": realised_source,
        "acquisition_cost_from": acquisition_note,
        "referral_share": None if links is None else links.share,
        "referral_rate_per_purchase_gamma": None if rates is None else [rates.shape, rates.rate],
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
    """Per-customer value: own margin (realised and expected), acquisition cost, referrals.

    Parameters
    ----------
    purchase_model : BetaGeoModel, ParetoNBDModel, ModifiedBetaGeoModel or BetaGeoBetaBinomModel
        Fitted purchase model (MLE or Bayes; pooled or per segment); any model whose ``family``
        is a :class:`~clvmodels.families.PurchaseFamily`.
    spend_model : GammaGammaModel
        Fitted spend model.
    summary : DataFrame
        Customer summary from :func:`clvmodels.rfm_summary` (the models' time unit), with
        ``revenue_to_date`` (every purchase, the first included) unless
        ``first_purchase="excluded"``.
    economics : Economics or dict, optional
        The economic settings; or give them as keywords: ``margin`` (gross-margin rate, required),
        ``horizon`` (time units, or ``"lifetime"`` = 100 years; default "lifetime"),
        ``discount_rate`` (annual; default 0.10, i.e. 10% a year), ``cost_per_transaction``
        (default 0), ``cost_to_serve`` (per time unit alive; default 0), ``first_purchase``
        (``"included"``, the default, or ``"excluded"``). Discounting is continuous: a cash flow
        ``s`` time units after the observation end counts ``(1 + d) ** -s``, ``d`` the annual
        rate converted once to the time unit. See :class:`clvmodels.value.economics.Economics`.
    acquisition : str, DataFrame or AcquisitionCosts, optional
        Acquisition costs: a summary column, a cost table per channel, or
        :class:`clvmodels.value.acquisition.AcquisitionCosts` (per period, missing-cost policy).
        By default the summary's ``acquisition_cost`` column if present, else none (0). A cost
        table listing channels no customer has gives a warning that lists them.
    referrals : DataFrame or Referrals, optional
        Who referred whom (``referrer_id``, ``referred_id``, ``date``); see
        :class:`clvmodels.value.referrals.Referrals` for the share and the referral model.
    uncertainty : {"expected", "predictive", None}
        ``"expected"`` (default): interval of the expected value (parameter uncertainty of both
        models, draws paired by index); ``"predictive"``: interval of what the customer will
        actually bring (simulated individual futures); None: no interval.
    level : float
        Coverage of the central intervals (default 0.9).
    n_draws : int
        Parameter draws (and simulated futures) per customer (default 300).
    seed : int or None
        Seed of the draws and simulations (default 0): same seed, same numbers, at any thread
        count or chunk size.
    chunk_size : int, optional
        Customers per chunk (memory ~ 12 x 8 bytes x n_draws x chunk_size).
    **settings
        The economic settings as keywords instead of ``economics`` (``margin=0.3``,
        ``horizon=52``, ...; see ``economics``).

    Returns
    -------
    DataFrame indexed by customer id
        All money in the log's currency, discounted to the observation end; "future" means
        within the horizon after the observation end.

        * ``realised_margin``: margin of the purchases to date (undiscounted).
        * ``expected_future_margin``: expected discounted margin of future purchases, cost to
          serve deducted.
        * ``clv``: ``realised_margin + expected_future_margin`` (own, no referrals).
        * ``acquisition_cost``.
        * ``net_value``: ``clv - acquisition_cost``, the customer's own value.
        * ``referrals_made``: customers this customer referred (in the base).
        * ``referral_credit``: ``share`` x the ``clv`` of the customers they referred.
        * ``credited_to_referrer``: ``share`` x their own ``clv`` if someone referred them.
        * ``attributed_net_value``: ``net_value + referral_credit - credited_to_referrer``;
          same total as ``net_value`` over any set holding both sides of each referral.
        * ``future_referral_value``: expected discounted value of the referrals they will make
          (new customers not in the base yet); not part of ``net_value``.
        * ``future_value``: ``expected_future_margin + future_referral_value``, what is still
          to come (rank on this to target; ``clv`` and ``net_value`` include the past).

        ``_lower``/``_upper`` bounds (with intervals) for ``expected_future_margin``, ``clv``,
        ``net_value``, ``attributed_net_value``, ``future_referral_value`` and ``future_value``.
        The value columns are the estimates at the MLE (posterior means for Bayesian fits).
        ``attrs["clvmodels"]`` records the settings: time unit, horizon, annual and per-unit
        discount rate, margin, costs, first-purchase setting, interval kind, level, n_draws, seed
        and where realised margin and acquisition costs came from.

    Notes
    -----
    "Alive" is the purchase family's latent state (under BG/NBD a one-time buyer is always alive,
    dropout happening only after a repeat purchase), which is why future referrals are tied to
    expected purchases, not to time alive. The models are non-contractual. Gamma-Gamma assumes
    spend independent of frequency (check with :func:`clvmodels.value.spend_frequency_check`).
    ``attrs["clvmodels"]["purchase_model"]`` names the purchase family.

    Raises
    ------
    DataError
        If the models are not a fitted purchase and spend model, the summary is malformed or in
        another time unit than the fit, or a setting (margin, level, n_draws, ...) is invalid.
    NotFittedError
        If a model is not fitted.

    See Also
    --------
    value_run : the same pass, keeping per-draw totals for rollups.
    clvmodels.value_rollup : value by channel, cohort or partner.

    Examples
    --------
    Every total conserves: summed over customers, ``net_value`` equals realised margin plus
    expected future margin minus acquisition cost.

    >>> from clvmodels import BetaGeoModel, GammaGammaModel, customer_value
    >>> from clvmodels.datasets import load_cdnow_summary
    >>> summary = load_cdnow_summary()
    >>> bg, gg = BetaGeoModel().fit(summary), GammaGammaModel().fit(summary)
    >>> value = customer_value(bg, gg, summary, margin=0.3, horizon=52, uncertainty=None)
    >>> parts = value["realised_margin"] + value["expected_future_margin"] - value["acquisition_cost"]
    >>> bool(np.isclose(value["net_value"].sum(), parts.sum()))
    True
    """
    run = value_run(purchase_model, spend_model, summary, economics, acquisition=acquisition,
                    referrals=referrals, uncertainty=uncertainty, level=level, n_draws=n_draws,
                    seed=seed, rollup_by=(), chunk_size=chunk_size, **settings)
    return run.customers
