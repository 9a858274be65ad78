"""Contractual customer value: what subscribers are worth, net of what they cost to acquire.

For a subscription business valued with the sBG model
(:class:`clvmodels.models.shifted_beta_geo.ShiftedBetaGeoModel`, Fader & Hardie 2007, 2010).

Timing and accounting (stated once, used everywhere here):

- **Payment at the start of each period.** A subscriber pays ``price`` when a period starts:
  the first at acquisition (t = 0), the t-th renewal t periods later. ``margin`` is the share
  of the price kept, so each payment is worth ``margin_per_period = price x margin``.
- **Realised margin** = ``periods_paid x margin_per_period`` (``periods_paid = renewals + 1``:
  every period started was paid, the current one included); past money is not discounted.
- **Future margin** of a subscriber still active after ``n`` renewals, valued at the start of
  their current period: ``margin_per_period x sum_{k>=1} S(n+k)/S(n) (1+d)^-k``, the k-th
  future renewal k periods ahead (:func:`clvmodels.formulas.sbg.expected_renewals`; FH 2010's
  DERL divided by ``1 + d``, because DERL is valued one period later, at the renewal
  decision). The observation end lies inside the current period, so this discounts each future
  payment by at most one period too much. A subscriber who has left: 0.
- **Discounting.** ``discount_rate`` is annual, converted once to the billing period,
  ``d = (1 + annual)^(1/periods per year) - 1`` (:func:`clvmodels.data.timeunits.per_period_discount_rate`).
- **Net value** = realised + future margin - acquisition cost (a commission, paid once at
  acquisition); **LTV:CAC** = (realised + future) / acquisition cost.
- **A new customer** is worth ``margin_per_period x DEL`` (DEL = ``sum_{t>=0} S(t) (1+d)^-t``,
  FH 2010): the **break-even acquisition cost**. **Payback** = the number of payments whose
  (undiscounted) margin first covers the acquisition cost, ``ceil(cost / margin_per_period)``;
  a new customer reaches it with probability ``S(payback - 1)``.

Group totals (by channel, cohort, ...) are sums over the group's customers within each
parameter draw (or simulated future), so totals conserve draw by draw: the groups' totals add
up to the grand total, and each group's total is the sum of its customers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from clvmodels.data.meta import summary_meta
from clvmodels.data.timeunits import per_period_discount_rate
from clvmodels.errors import DataError, describe_rows
from clvmodels.formulas import sbg
from clvmodels.models.intervals import interval_bounds, iter_chunks
from clvmodels.models.scoring import DEFAULT_N_DRAWS, check_uncertainty, draw_streams
from clvmodels.value.totals import group_codes


@dataclass(frozen=True)
class ContractTerms:
    """The money side of a subscription.

    Parameters
    ----------
    margin : float
        Share of the price kept per payment, in [0, 1] (0.6 for 60%).
    price : float, optional
        Price per billing period in currency; None: each subscriber's ``price`` column (as
        :func:`clvmodels.subscription_tenures` carries it with ``price_col=``).
    acquisition_cost : float or str, default 0
        Cost of acquiring one customer (e.g. an affiliate commission), paid once at acquisition,
        or the name of a tenure-table column holding each customer's.
    discount_rate : float, default 0
        Annual discount rate in [0, 1) (0.1 for 10% a year). With 0 the lifetime value is
        finite only where alpha > 1.
    """

    margin: float
    price: float | None = None
    acquisition_cost: float | str = 0.0
    discount_rate: float = 0.0

    def __post_init__(self):
        if not _number(self.margin) or not 0.0 <= self.margin <= 1.0:
            raise DataError(f"margin must be a share of the price between 0 and 1 (0.6 for 60%); got {self.margin!r}")
        if self.price is not None and not (_number(self.price) and self.price >= 0 and math.isfinite(self.price)):
            raise DataError(f"price must be a finite number >= 0 per billing period; got {self.price!r}")
        if not isinstance(self.acquisition_cost, str) and not (
                _number(self.acquisition_cost) and math.isfinite(self.acquisition_cost) and self.acquisition_cost >= 0):
            raise DataError("acquisition_cost must be a finite number >= 0 or the name of a column; got "
                            f"{self.acquisition_cost!r}")
        if not _number(self.discount_rate) or not 0.0 <= self.discount_rate < 1.0:
            raise DataError(f"discount_rate is an annual rate in [0, 1) (0.1 for 10% a year); got {self.discount_rate!r}")

    def per_period_rate(self, period: str) -> float:
        """The annual discount rate converted to the billing period.

        Parameters
        ----------
        period : {"D", "W", "M", "Y"}
            The billing period (one renewal).

        Returns
        -------
        float
            ``(1 + annual) ** (1 / periods_per_year) - 1``; 0 without a discount rate.
        """
        return per_period_discount_rate(self.discount_rate, period) if self.discount_rate else 0.0

    def margin_per_period(self, tenures: pd.DataFrame) -> np.ndarray:
        """``price x margin`` per customer.

        Parameters
        ----------
        tenures : DataFrame
            The tenure table (its ``price`` column is read when the terms give no price).

        Returns
        -------
        ndarray, shape (n,)
            Margin of one payment, in currency.
        """
        if self.price is not None:
            return np.full(len(tenures), self.price * self.margin)
        if "price" not in tenures.columns:
            raise DataError("no price: pass ContractTerms(price=...) or a tenure table with a price column "
                            "(subscription_tenures(..., price_col=...))")
        price = pd.to_numeric(tenures["price"], errors="coerce").to_numpy(float)
        bad = ~(np.isfinite(price) & (price >= 0))
        if bad.any():
            raise DataError(f"price must be a number >= 0 per period; not so in {describe_rows(tenures.index[bad])}")
        return price * self.margin

    def acquisition_costs(self, tenures: pd.DataFrame) -> np.ndarray:
        """Each customer's acquisition cost.

        Parameters
        ----------
        tenures : DataFrame
            The tenure table (the column named by ``acquisition_cost`` is read when it is a name).

        Returns
        -------
        ndarray, shape (n,)
            Acquisition cost per customer, in currency.
        """
        if not isinstance(self.acquisition_cost, str):
            return np.full(len(tenures), float(self.acquisition_cost))
        col = self.acquisition_cost
        if col not in tenures.columns:
            raise DataError(f"acquisition_cost={col!r} is not a column of the tenure table; columns are "
                            f"{list(tenures.columns)[:12]}")
        cost = pd.to_numeric(tenures[col], errors="coerce").to_numpy(float)
        bad = ~(np.isfinite(cost) & (cost >= 0))
        if bad.any():
            raise DataError(f"acquisition cost (column {col!r}) must be a number >= 0; not so in "
                            f"{describe_rows(tenures.index[bad])}. Fill unknown costs (e.g. 0) first")
        return cost


def _number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def payback_periods(acquisition_cost, margin_per_period) -> np.ndarray:
    """Payments needed before their margin covers the acquisition cost, ``ceil(cost / margin)``.

    0 for a cost of 0; inf when the margin per period is 0 and the cost positive. Payment k
    (k = 1 at acquisition) is the one that pays the cost back.

    Parameters
    ----------
    acquisition_cost, margin_per_period : array_like
        In currency, broadcasting together (e.g. shape (n,)).

    Returns
    -------
    ndarray of float
        Payments needed, whole numbers, 0 or inf.
    """
    cost, mpp = np.broadcast_arrays(np.asarray(acquisition_cost, float), np.asarray(margin_per_period, float))
    with np.errstate(divide="ignore", invalid="ignore"):
        k = np.ceil(cost / mpp - 1e-12)
    return np.where(cost <= 0, 0.0, np.where(mpp > 0, k, np.inf))


@dataclass(frozen=True)
class ContractualValue:
    """Result of :func:`contractual_value`.

    Attributes
    ----------
    customers : DataFrame
        One row per subscriber (index of the tenure table); columns in the module docstring's
        terms: ``renewals, subscribed, p_still_subscribed`` (of the next renewal, at the
        estimate), ``margin_per_period, periods_paid, realised_margin, expected_renewals`` (discounted
        future renewals), ``future_margin`` (with ``_lower``/``_upper`` when an interval was
        asked for), ``lifetime_value`` (realised + future), ``acquisition_cost``,
        ``net_value``, ``ltv_cac``, ``payback_periods``, ``paid_back``.
    groups : DataFrame
        One row per group (``by``): ``customers, active, realised_margin, future_margin``
        (interval from the per-draw totals), ``lifetime_value, acquisition_cost, net_value``,
        ``ltv_cac``; plus a final row ``"total"``.
    draws : DataFrame or None
        With an interval: the future margin of each group (columns) in each draw (rows), plus a
        ``total`` column; each row sums its groups.
    """

    customers: pd.DataFrame
    groups: pd.DataFrame
    draws: pd.DataFrame | None


def contractual_value(model, tenures: pd.DataFrame, terms: ContractTerms, *, by=None, uncertainty=None,
                      level: float = 0.9, n_draws: int = DEFAULT_N_DRAWS, seed=None) -> ContractualValue:
    """Per-subscriber and per-group contractual value (see the module docstring for the timing).

    Parameters
    ----------
    model : ShiftedBetaGeoModel
        Fitted on the same billing period as ``tenures``.
    tenures : DataFrame, shape (n, k)
        From :func:`clvmodels.subscription_tenures` (``renewals``, ``churned``, and ``price``,
        acquisition-cost, ``by`` and ``pool_by`` columns as needed).
    terms : ContractTerms
    by : str or list of str, optional
        Columns to roll up by (e.g. ``"channel"``, ``"cohort"``).
    uncertainty : {None, "expected", "predictive"}
        ``"expected"``: intervals of the expected future margin (parameter draws);
        ``"predictive"``: of the margin the subscribers will actually bring (simulated renewals
        from each subscriber's posterior), per customer and per group total.
    level, n_draws, seed
        As for every interval in clvmodels; the same seed gives the same numbers.

    Returns
    -------
    ContractualValue

    Raises
    ------
    DataError
        Bad terms or columns; an undiscounted lifetime value that is infinite (alpha <= 1).
    """
    check_uncertainty(uncertainty, level)
    if not isinstance(tenures, pd.DataFrame):
        raise DataError(f"contractual_value needs the tenure table (a DataFrame); got {type(tenures).__name__}")
    model._check_fitted()
    period = summary_meta(tenures).get("time_unit") or model.time_unit_
    d = terms.per_period_rate(period)
    mpp = terms.margin_per_period(tenures)
    cost = terms.acquisition_costs(tenures)
    _check_finite_lifetime(model, d)
    # the model validates the table (renewals, churned, time unit, segments) before anything is read
    future = model.expected_renewals(tenures, np.inf, discount_rate=d, uncertainty=uncertainty, level=level,
                                     n_draws=n_draws, seed=seed)
    renewals = pd.to_numeric(tenures["renewals"], errors="coerce").to_numpy(float)
    active = ~pd.to_numeric(tenures["churned"]).to_numpy(bool)
    out = pd.DataFrame(index=tenures.index)
    out["renewals"] = renewals.astype(np.int64)
    out["subscribed"] = active
    out["p_still_subscribed"] = model.p_still_subscribed(tenures)["p_still_subscribed"].to_numpy()
    out["margin_per_period"] = mpp
    out["periods_paid"] = renewals + 1.0
    out["realised_margin"] = out["periods_paid"] * mpp
    out["expected_renewals"] = future["expected_renewals"].to_numpy()
    out["future_margin"] = mpp * out["expected_renewals"]
    if uncertainty is not None:
        out["future_margin_lower"] = mpp * future["expected_renewals_lower"].to_numpy()
        out["future_margin_upper"] = mpp * future["expected_renewals_upper"].to_numpy()
    out["lifetime_value"] = out["realised_margin"] + out["future_margin"]
    out["acquisition_cost"] = cost
    out["net_value"] = out["lifetime_value"] - cost
    with np.errstate(divide="ignore", invalid="ignore"):
        out["ltv_cac"] = np.where(cost > 0, out["lifetime_value"] / np.where(cost > 0, cost, 1.0), np.nan)
    out["payback_periods"] = payback_periods(cost, mpp)
    out["paid_back"] = out["periods_paid"].to_numpy() >= out["payback_periods"].to_numpy()
    out.attrs["clvmodels"] = {"period": period, "discount_rate_per_period": d, "annual_discount_rate":
                              terms.discount_rate, "margin": terms.margin, "timing": "payment at the start of each period"}
    codes, labels = group_codes(tenures, by)
    draws = None
    if uncertainty is not None:
        totals = _draw_totals(model, tenures, mpp, renewals, active, codes, len(labels), d,
                              uncertainty, n_draws, seed)
        draws = pd.DataFrame(totals, columns=[str(v) if not isinstance(v, str) else v for v in labels])
        draws["total"] = totals.sum(axis=1)
    groups = _group_table(out, active, codes, labels, draws, level)
    return ContractualValue(out, groups, draws)


def _check_finite_lifetime(model, d: float) -> None:
    if d > 0:
        return
    alpha = np.asarray(model.params_["alpha"], float)
    if np.any(alpha <= 1.0):
        raise DataError(f"the undiscounted lifetime value is infinite: alpha = {np.round(alpha, 3).tolist()} <= 1 "
                        "(a heavy tail of subscribers who almost never leave). Pass a discount rate, "
                        "e.g. ContractTerms(..., discount_rate=0.1)")


def _draw_totals(model, tenures, mpp, renewals, active, codes, n_groups, d, uncertainty, n_draws, seed):
    """Future margin per draw and group, shape (S, G): the same parameter draws as the customers'
    intervals (``draw_streams`` with the same seed); summed customer by customer in chunks."""
    (draws,), sim_seed = draw_streams([model], n_draws, seed)
    seg = model.segment_codes(tenures) if model.pool_by is not None else None
    totals = np.zeros((draws.n_draws, n_groups))
    rng = np.random.default_rng(sim_seed)
    for rows in iter_chunks(len(tenures), max(1, 2_000_000 // max(draws.n_draws, 1))):
        P = draws.for_customers(None if seg is None else seg[rows])
        alpha, beta = P["alpha"], P["beta"]
        n, alive = renewals[rows], active[rows]
        if uncertainty == "expected":
            values = sbg.expected_renewals(alpha, beta, n, np.inf, d)
        else:
            theta = sbg.sample_theta(rng, alpha, beta, n)
            values = sbg.discounted_count(sbg.simulate_renewals(rng, theta, np.inf), d)
        weighted = np.where(alive, values, 0.0) * mpp[rows]
        for g in np.unique(codes[rows]):
            totals[:, g] += weighted[:, codes[rows] == g].sum(axis=1)
    return totals


def _group_table(out: pd.DataFrame, active, codes, labels, draws, level) -> pd.DataFrame:
    n_groups = len(labels)

    def add(values):
        return np.bincount(codes, weights=np.asarray(values, float), minlength=n_groups)

    table = pd.DataFrame({
        "customers": np.bincount(codes, minlength=n_groups),
        "active": np.bincount(codes, weights=active.astype(float), minlength=n_groups).astype(np.int64),
        "realised_margin": add(out["realised_margin"]),
        "future_margin": add(out["future_margin"]),
    }, index=labels)
    if draws is not None:
        lower, upper = interval_bounds(draws.drop(columns="total").to_numpy(), level)
        table["future_margin_lower"], table["future_margin_upper"] = lower, upper
    total = table.sum(numeric_only=True).to_frame("total").T
    if draws is not None:
        total["future_margin_lower"], total["future_margin_upper"] = interval_bounds(
            draws[["total"]].to_numpy(), level)
    table = pd.concat([table, total.set_axis(pd.Index(["total"]), axis=0)])
    table["lifetime_value"] = table["realised_margin"] + table["future_margin"]
    table["acquisition_cost"] = np.append(add(out["acquisition_cost"]), out["acquisition_cost"].sum())
    table["net_value"] = table["lifetime_value"] - table["acquisition_cost"]
    cost = table["acquisition_cost"].to_numpy()
    table["ltv_cac"] = np.where(cost > 0, table["lifetime_value"] / np.where(cost > 0, cost, 1.0), np.nan)
    table.index.name = labels.name if not isinstance(labels, pd.MultiIndex) else None
    table["customers"] = table["customers"].astype(np.int64)
    table["active"] = table["active"].astype(np.int64)
    return table


def break_even_table(model, terms: ContractTerms, *, uncertainty=None, level: float = 0.9,
                     n_draws: int = DEFAULT_N_DRAWS, seed=None) -> pd.DataFrame:
    """What a new customer is worth, and the most it can cost to acquire, per segment of the model.

    Parameters
    ----------
    model : ShiftedBetaGeoModel
        Fitted (per segment with ``pool_by``: one row per segment).
    terms : ContractTerms
        With a ``price`` (a number: a new customer's price) and a numeric ``acquisition_cost``
        (the commission to compare with; 0 if none).
    uncertainty : {None, "expected", "predictive"}
        Interval of DEL and of the break-even cost: ``"expected"`` from the parameter draws,
        ``"predictive"`` of what one new customer will bring.
    level, n_draws, seed
        As everywhere.

    Returns
    -------
    DataFrame
        One row (per segment): ``del`` (discounted payments of a new customer),
        ``margin_per_period``, ``break_even_acquisition_cost`` (= ``lifetime_value`` =
        margin_per_period x DEL), ``acquisition_cost``, ``net_value`` (lifetime value - cost),
        ``ltv_cac``, ``first_period_net`` (the first payment's margin - cost: year 1 of a yearly
        plan), ``payback_periods`` and ``p_payback`` (probability a new customer makes that many
        payments, ``S(payback - 1)``); interval columns ``_lower``/``_upper`` of DEL and the
        break-even cost.
    """
    if terms.price is None or isinstance(terms.acquisition_cost, str):
        raise DataError("break_even_table needs ContractTerms with a numeric price and acquisition_cost "
                        "(a new customer's price and the commission to compare with)")
    period = model.time_unit_
    d = terms.per_period_rate(period)
    _check_finite_lifetime(model, d)
    mpp = terms.price * terms.margin
    cost = float(terms.acquisition_cost)
    table = model.discounted_expected_lifetime(d, uncertainty=uncertainty, level=level, n_draws=n_draws, seed=seed)
    table["margin_per_period"] = mpp
    table["break_even_acquisition_cost"] = mpp * table["del"]
    if uncertainty is not None:
        table["break_even_acquisition_cost_lower"] = mpp * table["del_lower"]
        table["break_even_acquisition_cost_upper"] = mpp * table["del_upper"]
    table["lifetime_value"] = table["break_even_acquisition_cost"]
    table["acquisition_cost"] = cost
    table["net_value"] = table["lifetime_value"] - cost
    table["ltv_cac"] = table["lifetime_value"] / cost if cost > 0 else np.nan
    table["first_period_net"] = mpp - cost
    k = float(payback_periods(cost, mpp))
    table["payback_periods"] = k
    P = model.params_
    alpha = np.asarray(P["alpha"], float)
    beta = np.asarray(P["beta"], float)
    table["p_payback"] = (sbg.survival(alpha, beta, k - 1) if 0 < k < np.inf else float(k == 0)) * np.ones(len(table))
    table.attrs["clvmodels"] = {"period": period, "discount_rate_per_period": d,
                                "annual_discount_rate": terms.discount_rate, "margin": terms.margin,
                                "timing": "payment at the start of each period, the first at acquisition"}
    return table


#: columns of :attr:`ContractualValue.customers` written to the CRM export under the same name
_EXPORTED = ("renewals", "subscribed", "p_still_subscribed", "expected_renewals", "margin_per_period",
             "realised_margin", "future_margin", "future_margin_lower", "future_margin_upper",
             "acquisition_cost", "net_value", "ltv_cac", "payback_periods", "paid_back")


def export_frame(result: ContractualValue) -> pd.DataFrame:
    """The per-subscriber value in the columns of the CRM export schema.

    ``clv`` is the lifetime value (realised + future margin) and ``net_value`` that minus the
    acquisition cost; their bounds are the future margin's shifted by the fixed realised margin
    and cost. Pass the frame to :func:`clvmodels.export.export_scores`.

    Parameters
    ----------
    result : ContractualValue
        From :func:`contractual_value`.

    Returns
    -------
    DataFrame
        Indexed by customer id, with schema columns only (see ``docs/contractual_value.md``).
    """
    customers = result.customers
    out = customers[[c for c in _EXPORTED if c in customers.columns]].copy()
    out["clv"] = customers["lifetime_value"]
    if "future_margin_lower" in customers.columns:
        for side in ("lower", "upper"):
            out[f"clv_{side}"] = customers["realised_margin"] + customers[f"future_margin_{side}"]
            out[f"net_value_{side}"] = out[f"clv_{side}"] - customers["acquisition_cost"]
    return out
