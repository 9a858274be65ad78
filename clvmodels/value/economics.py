"""The economic settings of a customer-value computation, validated once at the boundary.

All money amounts are in the currency of the transaction log; all times in the summary's time
unit. The annual discount rate is converted once to a rate per time unit with
:func:`clvmodels.data.timeunits.per_period_discount_rate`, and the converted rate is what the
results report.

Margin of one purchase of amount ``z``::

    margin * z - cost_per_transaction

``margin`` is the gross-margin *rate* on revenue (0.3 keeps 30 cents of every unit of revenue);
``cost_per_transaction`` is a fixed cost per purchase (picking, shipping, payment fees). Give
either or both. ``cost_to_serve`` is charged per time unit **while the customer is alive**
(account management, hosting, a loyalty card), discounted like the margin; it is not charged on
the past (the realised margin is gross margin only).

One accounting for the whole value layer, set by ``first_purchase``:

* ``"included"`` (default): every purchase counts, the first included. Margin to date is
  ``margin * revenue_to_date - cost_per_transaction * (frequency + 1)`` and a new customer's
  value (the break-even acquisition cost) includes the first order's margin.
* ``"excluded"``: for an acquisition cost already net of the first order (e.g. a commission paid
  out of the first sale). Margin to date is the repeat purchases only,
  ``frequency * (margin * monetary_value - cost_per_transaction)``, and a new customer's value
  is the repeat purchases only.

A summary without ``revenue_to_date`` is refused under ``"included"``: ``monetary_value`` is the
mean of the *repeat* purchases (Fader & Hardie 2013), so the first purchase is not in it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from clvmodels.data.timeunits import per_period_discount_rate, units_per_year
from clvmodels.errors import DataError, describe_rows

#: "lifetime" means this many years, expressed in the summary's time unit. With any discounting
#: worth the name, what lies beyond 100 years is negligible (10% a year: 7e-5 of a unit today).
LIFETIME_YEARS = 100.0

#: summary column with each customer's revenue to date, every purchase once, the first included
REVENUE_TO_DATE_COL = "revenue_to_date"
#: how the first purchase enters the accounting (see the module docstring)
FIRST_PURCHASE_SETTINGS = ("included", "excluded")


def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _check_finite_at_least(name: str, value, minimum: float, hint: str) -> float:
    if not _is_number(value) or not math.isfinite(value) or value < minimum:
        raise DataError(f"{name} must be a finite number >= {minimum:g}; got {value!r}. {hint}")
    return float(value)


@dataclass(frozen=True)
class Economics:
    """Settings that turn predicted purchases and spend into money.

    Parameters
    ----------
    margin : float
        Gross-margin rate on revenue, in [0, 1] (0.35 for 35%). Use 1.0 together with
        ``cost_per_transaction`` to express the margin as a cost per purchase instead.
    horizon : float or "lifetime"
        How far ahead to value each customer, in the summary's time unit (52 = a year of weeks),
        or ``"lifetime"`` for :data:`LIFETIME_YEARS` years, which requires discounting.
    discount_rate : float
        Annual discount rate in [0, 1) (0.10 for 10% a year). 0 means no discounting and is only
        allowed with a finite horizon (an undiscounted lifetime has no finite value).
    cost_per_transaction : float
        Cost of each purchase, subtracted from its gross margin (>= 0).
    cost_to_serve : float
        Cost per time unit while the customer is alive (>= 0), e.g. 2.0 per week.
    first_purchase : {"included", "excluded"}
        ``"included"`` (default): margin to date and a new customer's value count every purchase,
        the first included (the summary needs ``revenue_to_date``). ``"excluded"``: both count the
        repeat purchases only, for acquisition costs already net of the first order.

    Notes
    -----
    Defaults: ``horizon="lifetime"`` is :data:`LIFETIME_YEARS` (100) years in the summary's time
    unit, at ``discount_rate=0.10`` a year. Discounting is per time unit and compounded,
    ``(1 + d) ** -s`` for a cash flow ``s`` units ahead with ``d`` the annual rate converted once
    (``(1 + annual) ** (1 / units per year) - 1``); the future purchase integrals treat ``s`` as
    continuous (purchases happen at any time), so this is continuous discounting at the
    force ``ln(1 + d)`` per unit.

    Examples
    --------
    >>> Economics(margin=0.3, horizon=52, discount_rate=0.1).resolve("W").horizon
    52.0
    """

    margin: float
    horizon: float | str = "lifetime"
    discount_rate: float = 0.10
    cost_per_transaction: float = 0.0
    cost_to_serve: float = 0.0
    first_purchase: str = "included"

    def __post_init__(self):
        if self.first_purchase not in FIRST_PURCHASE_SETTINGS:
            raise DataError(
                f"first_purchase must be one of {list(FIRST_PURCHASE_SETTINGS)}; got "
                f"{self.first_purchase!r}. 'included' counts every purchase (the default); "
                "'excluded' leaves the first order out of margin to date and of a new customer's "
                "value, for acquisition costs already net of it"
            )
        if not _is_number(self.margin) or not (0.0 <= self.margin <= 1.0):
            raise DataError(
                f"margin must be a gross-margin rate between 0 and 1 (e.g. 0.3 for 30%); got "
                f"{self.margin!r}. To state the margin as a cost per purchase, pass margin=1.0 and "
                "cost_per_transaction=<cost>"
            )
        lifetime = isinstance(self.horizon, str)
        if lifetime and self.horizon != "lifetime":
            raise DataError(f"horizon must be a positive number of time units or 'lifetime'; "
                            f"got {self.horizon!r}")
        if not lifetime and (not _is_number(self.horizon) or not math.isfinite(self.horizon)
                             or self.horizon <= 0):
            raise DataError(
                f"horizon must be a positive, finite number of time units (e.g. 52 for a year of "
                f"weeks) or 'lifetime'; got {self.horizon!r}"
            )
        rate = self.discount_rate
        if not _is_number(rate) or not math.isfinite(rate) or not (0.0 <= rate < 1.0):
            raise DataError(
                f"discount_rate is an annual rate and must lie in (0, 1), e.g. 0.10 for 10% a year "
                f"(0 for no discounting with a finite horizon); got {rate!r}"
            )
        if lifetime and rate == 0.0:
            raise DataError(
                "horizon='lifetime' needs a discount rate in (0, 1): an undiscounted lifetime "
                "value is not finite for customers who may never churn. Pass e.g. discount_rate=0.1"
            )
        _check_finite_at_least("cost_per_transaction", self.cost_per_transaction, 0.0,
                               "It is a cost per purchase in currency units")
        _check_finite_at_least("cost_to_serve", self.cost_to_serve, 0.0,
                               "It is a cost per time unit while the customer is alive")

    def resolve(self, time_unit: str) -> "ResolvedEconomics":
        """The settings expressed in ``time_unit``: horizon in units and per-period discount rate.

        Parameters
        ----------
        time_unit : {"D", "W", "M", "Y"}
            The summary's time unit; the annual discount rate is converted to it once.

        Returns
        -------
        ResolvedEconomics
            ``horizon`` in time units ("lifetime" = 100 years), ``discount_rate`` per unit and the
            other settings as given.

        Examples
        --------
        >>> from clvmodels.value import Economics
        >>> econ = Economics(margin=0.3, horizon="lifetime", discount_rate=0.1).resolve("Y")
        >>> econ.horizon, round(econ.discount_rate, 6)
        (100.0, 0.1)
        """
        per_year = units_per_year(time_unit)
        horizon = LIFETIME_YEARS * per_year if self.horizon == "lifetime" else float(self.horizon)
        return ResolvedEconomics(
            time_unit=time_unit,
            horizon=horizon,
            horizon_setting=self.horizon,
            annual_discount_rate=float(self.discount_rate),
            discount_rate=per_period_discount_rate(float(self.discount_rate), time_unit),
            margin=float(self.margin),
            cost_per_transaction=float(self.cost_per_transaction),
            cost_to_serve=float(self.cost_to_serve),
            first_purchase=self.first_purchase,
        )


@dataclass(frozen=True)
class ResolvedEconomics:
    """:class:`Economics` in a summary's time unit (what the computations use).

    Attributes
    ----------
    horizon : float
        Horizon in time units ("lifetime" already converted).
    discount_rate : float
        Discount rate per time unit: a cash flow ``s`` units ahead is worth ``(1 + discount_rate) ** -s``.
    """

    time_unit: str
    horizon: float
    horizon_setting: float | str
    annual_discount_rate: float
    discount_rate: float
    margin: float
    cost_per_transaction: float
    cost_to_serve: float
    first_purchase: str = "included"

    @property
    def first_purchase_included(self) -> bool:
        """Whether margin to date and a new customer's value count the first purchase."""
        return self.first_purchase == "included"

    def purchase_margin(self, spend):
        """Margin of a purchase of mean amount ``spend`` (any shape): ``margin * spend - cost``."""
        return self.margin * spend - self.cost_per_transaction

    def discount_factor(self, periods):
        """Present value of one currency unit received ``periods`` time units from now."""
        return (1.0 + self.discount_rate) ** -np.asarray(periods, float)

    def as_attrs(self) -> dict:
        """Plain, JSON-serialisable record of the settings for ``DataFrame.attrs``."""
        return {
            "time_unit": self.time_unit,
            "horizon": self.horizon_setting,
            "horizon_units": self.horizon,
            "annual_discount_rate": self.annual_discount_rate,
            "discount_rate_per_unit": self.discount_rate,
            "margin": self.margin,
            "cost_per_transaction": self.cost_per_transaction,
            "cost_to_serve_per_unit": self.cost_to_serve,
            "first_purchase": self.first_purchase,
        }


def as_economics(economics: Economics | dict | None, settings: dict) -> Economics:
    """Build :class:`Economics` from an object, a dict or keyword settings (exactly one source)."""
    if isinstance(economics, Economics):
        if settings:
            raise DataError(f"pass either economics=Economics(...) or the settings "
                            f"{sorted(settings)}, not both")
        return economics
    if isinstance(economics, dict):
        settings = {**economics, **settings}
    elif economics is not None:
        raise DataError(f"economics must be an Economics or a dict of its settings; "
                        f"got {type(economics).__name__}")
    if "margin" not in settings:
        raise DataError("the gross margin is required, e.g. margin=0.3 (30% of revenue); "
                        "customer value is judged on margin, not revenue")
    try:
        return Economics(**settings)
    except TypeError as err:  # unknown keyword
        raise DataError(f"{err}; the economic settings are margin, horizon, discount_rate, "
                        "cost_per_transaction, cost_to_serve and first_purchase") from None


def realised_margin(summary: pd.DataFrame, economics: ResolvedEconomics) -> tuple[np.ndarray, str]:
    """Gross margin each customer has brought so far, and which purchases it counts.

    With ``first_purchase="included"`` (the default) every purchase counts:
    ``margin * revenue_to_date - cost_per_transaction * (frequency + 1)``; the summary must carry
    ``revenue_to_date`` (``rfm_summary`` does). With ``first_purchase="excluded"`` the repeat
    purchases only: ``frequency * (margin * monetary_value - cost_per_transaction)``.

    Returns
    -------
    margin : ndarray, shape (n,)
        In the currency of the log, undiscounted (it is past).
    source : str
        "every purchase (revenue_to_date)" or "repeat purchases only (first purchase excluded)".

    Raises
    ------
    DataError
        Without ``revenue_to_date`` under "included" (never silently repeat-only), or with
        amounts that are missing, negative or not numbers.
    """
    x = summary["frequency"].to_numpy(float)
    if economics.first_purchase_included:
        if REVENUE_TO_DATE_COL not in summary.columns:
            raise DataError(
                f"the summary ({len(summary)} customers) has no {REVENUE_TO_DATE_COL!r} column, so "
                "the margin of each customer's first purchase is unknown (monetary_value is the "
                "mean of the repeat purchases only). Build the summary with "
                "clvmodels.rfm_summary(..., monetary_value_col=...), which carries it; or add the "
                "column (each customer's total amount, every purchase once, the first included); "
                "or, if the acquisition cost already nets out the first order, pass "
                "first_purchase='excluded' to count repeat purchases only"
            )
        revenue = pd.to_numeric(summary[REVENUE_TO_DATE_COL], errors="coerce").to_numpy(float)
        bad = ~np.isfinite(revenue) | (revenue < 0)
        if bad.any():
            raise DataError(
                f"{REVENUE_TO_DATE_COL} must be a finite amount >= 0; not so in "
                f"{describe_rows(summary.index[bad])}. Fix the amounts or rebuild the summary "
                "with rfm_summary"
            )
        return (economics.margin * revenue - economics.cost_per_transaction * (x + 1.0),
                "every purchase (revenue_to_date)")
    if "monetary_value" not in summary.columns:
        raise DataError("the summary has no monetary_value, so the margin of the repeat purchases "
                        "is unknown; build it with rfm_summary(..., monetary_value_col=...)")
    mbar = pd.to_numeric(summary["monetary_value"], errors="coerce").to_numpy(float)
    bad = (x > 0) & ~(np.isfinite(mbar) & (mbar >= 0))
    if bad.any():
        raise DataError(f"monetary_value must be a finite amount >= 0 for repeat buyers; not so in "
                        f"{describe_rows(summary.index[bad])}")
    repeat_margin = np.where(x > 0, economics.purchase_margin(np.where(x > 0, mbar, 0.0)), 0.0)
    return x * repeat_margin, "repeat purchases only (first purchase excluded)"
