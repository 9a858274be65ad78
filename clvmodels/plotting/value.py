"""Customer value pictures: how value is spread over customers, and value by group.

Both plots read the frames of the value layer as they are: :func:`clvmodels.customer_value`
(one row per customer, ``<q>`` with ``<q>_lower``/``<q>_upper``) and
:func:`clvmodels.value_rollup` (one row per group, with intervals of the group totals computed
per draw, which is why a group's interval is not the sum of its customers' bounds).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from clvmodels.errors import DataError
from clvmodels.plotting._common import (
    ACTUAL_COLOR,
    MODEL_COLOR,
    bounds_columns,
    currency_of,
    money_axis,
    money_label,
    new_axes,
    words,
)

#: The ranked plot draws at most this many customers (evenly spaced in rank) so that a million
#: customers render as fast as a thousand; the curve is monotone, so nothing visible is lost.
MAX_RANKED_POINTS = 2000

#: Axis labels of known value columns: (name, what it is made of; shown on a second line).
_LABELS = {
    "clv": ("CLV", "realised + expected future margin"),
    "net_value": ("Net value", "CLV - acquisition cost"),
    "attributed_net_value": ("Net value with referral credit", "net value + credit for referred customers"),
    "expected_future_margin": ("Expected future margin", ""),
    "future_value": ("Future value", "future margin + future referrals"),
    "future_referral_value": ("Future referral value", "customers not yet referred"),
    "referral_credit": ("Referral credit", "share of referred customers' CLV"),
    "ltv_cac": ("LTV:CAC", "CLV / acquisition cost"),
    "breakeven_acquisition_cost": ("Break-even acquisition cost", ""),
    "acquisition_cost": ("Acquisition cost", ""),
    "expected_value": ("Expected win-back value", "incremental, net of contact cost"),
    "expected_revenue": ("Expected revenue", ""),
}

#: Short names for titles ("Distribution of net value"), where the long label would not fit.
_SHORT = {
    "clv": "CLV",
    "net_value": "net value",
    "attributed_net_value": "net value with referral credit",
    "future_value": "future value",
    "ltv_cac": "LTV:CAC",
    "expected_value": "expected win-back value",
    "breakeven_acquisition_cost": "break-even acquisition cost",
}

#: Columns that are not amounts of money (ratios, times): no currency on their axes.
_NOT_MONEY = {"ltv_cac", "return_on_cost", "payback_period", "p_alive", "baseline_response", "uplift",
              "response_with_contact", "expected_purchases"}

#: Columns that are per customer (or ratios) in every rollup, whatever ``per_customer`` says.
_ALWAYS_PER_CUSTOMER = {"ltv_cac", "breakeven_acquisition_cost", "payback_period"}


def short_name(column: str) -> str:
    """The column in words, for a title."""
    return _SHORT.get(column, words(column).lower())


def value_label(column: str, frame: pd.DataFrame, currency: str | None = None) -> str:
    """Axis label of a value column: its name, "per customer" for per-customer rollups, the
    currency for money, and what it is made of on a second line."""
    name, parts = _LABELS.get(column, (words(column), ""))
    meta = frame.attrs.get("clvmodels", {})
    if meta.get("per_customer") and column not in _ALWAYS_PER_CUSTOMER:
        name += " per customer"
    label = name if column in _NOT_MONEY else money_label(name, currency_of(frame, currency))
    return f"{label}\n({parts})" if parts else label


def _interval_note(frame: pd.DataFrame, column: str | None = None) -> str:
    """e.g. "90% interval of the expected value", from what the producing function recorded.

    Prediction frames record the kind per column (``attrs["interval_kinds"]``), value frames in
    ``attrs["clvmodels"]["uncertainty"]``; campaign lists (whose intervals are over parameter
    draws) under ``attrs["clvmodels"]["campaign"]``.
    """
    meta = frame.attrs.get("clvmodels", {})
    campaign = meta.get("campaign", {})
    level = meta.get("level", campaign.get("level"))
    kind = frame.attrs.get("interval_kinds", {}).get(column) or meta.get("uncertainty")
    if kind is None and campaign:
        kind = "expected"
    what = {"expected": "interval of the expected value", "predictive": "predictive interval"}.get(
        kind, "interval")
    return f"{level:.0%} {what}" if level else what


def _asinh_ticks(values: np.ndarray, width: float) -> list[float]:
    """Ticks for an asinh axis: 0 and round numbers (1, 2, 5 x 10^k) no closer to zero than the
    linear width, so that none crowd around zero; only powers of ten when the values span many."""
    first, ticks = np.floor(np.log10(width)), [0.0]
    for sign, extreme in ((1.0, values.max()), (-1.0, values.min())):
        if sign * extreme <= 0:
            continue
        decades = np.arange(first, max(first, np.ceil(np.log10(sign * extreme))) + 1)
        steps = (1.0,) if decades.size > 3 else (1.0, 2.0, 5.0)
        side = [m * 10.0 ** k for k in decades for m in steps]
        inside = [t for t in side if width <= t <= sign * extreme]
        # the round number just past the extreme too, so the axis ends on a labelled tick
        beyond = [t for t in side if t > sign * extreme and t >= width][:1]
        ticks += [sign * t for t in inside + beyond]
    return sorted(ticks)


#: a logarithmic value axis shows at most this many powers of ten below the largest value: customers
#: who have almost surely left are worth ~1e-8 and would otherwise squash everyone else together
VALUE_DECADES = 4


def _value_scale(ax, values: np.ndarray, money: bool) -> str:
    """A value axis on which both the many small values and the few large ones read.

    Customer values are skewed (a few customers hold most of the value), so a linear axis shows one
    spike and a flat line. All positive: a logarithmic axis. Some values <= 0: an ``asinh`` axis
    (Matplotlib's AsinhScale), linear within about the median absolute value of zero and
    logarithmic beyond, with plain-number ticks. A symmetric-log axis is not used: its narrow
    linear band turns the customers near zero into a cliff and its ticks ("-10^0, 0, 10^0") do not
    read as money. Returns the scale's name.
    """
    from matplotlib.ticker import FuncFormatter

    positive = values[values > 0]
    if positive.size == values.size:
        ax.set_yscale("log")
        scale = "log"
        ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: ""))
        floor = float(values.max()) * 10.0 ** -VALUE_DECADES
        if values.min() < floor:  # the smallest sit on the bottom edge instead
            ax.set_ylim(bottom=floor)
    else:
        nonzero = np.abs(values[values != 0])
        width = float(np.median(nonzero)) if nonzero.size else 1.0
        ax.set_yscale("asinh", linear_width=width)
        ax.axhline(0.0, color="black", linewidth=0.8)
        from matplotlib.ticker import FixedLocator, NullLocator

        ax.yaxis.set_major_locator(FixedLocator(_asinh_ticks(values, width)))
        ax.yaxis.set_minor_locator(NullLocator())
        scale = "asinh"
    # plain numbers with thousands separators (no 10^k), whatever the locator picks
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.10g}" if abs(v) >= 1 or v == 0
                                               else f"{v:.2g}"))
    return scale


def plot_value_distribution(values: pd.DataFrame, column: str = "clv", *, currency: str | None = None,
                            ax=None):
    """Customers ranked by value, with each customer's interval as a band.

    The curve is the value of the customer at each rank (highest first): its shape shows how
    concentrated value is; the band shows how sure each value is. The value axis is logarithmic
    when all values are positive (showing at most :data:`VALUE_DECADES` powers of ten below the
    largest; smaller values sit on the bottom edge), an ``asinh`` axis otherwise (with a line at
    zero and the share of customers below it in the title).

    Parameters
    ----------
    values : DataFrame, shape (n_customers, ...)
        From :func:`clvmodels.customer_value` (or any per-customer frame with ``column`` and,
        optionally, ``column_lower``/``column_upper``).
    column : str, default "clv"
        The value to rank by, e.g. "clv" or "net_value".
    currency : str, optional
        Currency code for the value axis (e.g. "USD"); default the frame's
        ``attrs["clvmodels"]["currency"]``, else the axis says "currency of the data".
    ax : matplotlib Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    matplotlib Axes
        One line (point values by rank, at most ``MAX_RANKED_POINTS`` evenly spaced ranks), one
        band (the interval, if the frame has bounds) and a dashed line at the mean.

    Raises
    ------
    DataError
        If the frame lacks ``column`` or has no rows.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import pandas as pd
    >>> from clvmodels import plotting
    >>> values = pd.DataFrame({"clv": [400.0, 90.0, 40.0, 12.0, 5.0, 3.0]})
    >>> ax = plotting.plot_value_distribution(values, "clv", currency="USD")
    >>> ax.get_title(), ax.get_yscale()
    ('Distribution of CLV: the top 17% of customers hold 73% of it', 'log')
    """
    if column not in values.columns:
        raise DataError(f"the frame has no column {column!r}; it has {list(values.columns)}")
    if len(values) == 0:
        raise DataError("the frame has no customers to plot")
    point = values[column].to_numpy(float)
    order = np.argsort(-point, kind="stable")
    n = point.size
    keep = np.unique(np.linspace(0, n - 1, min(n, MAX_RANKED_POINTS)).round().astype(int))
    rows = order[keep]
    share = 100.0 * (keep + 1) / n
    ax = new_axes(ax)
    money = column not in _NOT_MONEY
    cur = currency_of(values, currency)
    bounds = bounds_columns(values, column)
    if bounds is not None:
        ax.fill_between(share, values[bounds[0]].to_numpy(float)[rows],
                        values[bounds[1]].to_numpy(float)[rows], color=MODEL_COLOR, alpha=0.25,
                        linewidth=0, label=_interval_note(values, column))
    ax.plot(share, point[rows], color=MODEL_COLOR, label="estimate")
    mean = float(point.mean())
    ax.axhline(mean, color=ACTUAL_COLOR, linestyle="--", linewidth=1.0,
               label=f"mean {mean:,.2f}" + (f" {cur}" if money and cur else ""))
    title = f"Distribution of {short_name(column)}"
    if (point >= 0).all() and point.sum() > 0:  # a share of the total means something only then
        k = max(1, round(0.2 * n))  # the top fifth, in whole customers
        top = point[order[:k]].sum() / point.sum()
        title += f": the top {k / n:.0%} of customers hold {top:.0%} of it"
    elif (point < 0).any():
        title += f": {(point < 0).mean():.0%} of customers below zero"
    _value_scale(ax, point, money)
    ax.set_xlabel(f"Customers ranked by {short_name(column)} (% of {n:,} customers, highest first)")
    ax.set_ylabel(value_label(column, values, currency))
    ax.set_title(title)
    ax.legend(frameon=False)
    return ax


def plot_value_by_group(rollup: pd.DataFrame, column: str = "clv", *, reference_column: str | None = None,
                        currency: str | None = None, ax=None):
    """One horizontal bar per group (channel, cohort, partner) with the interval of the group value.

    Parameters
    ----------
    rollup : DataFrame, shape (n_groups, ...)
        From :func:`clvmodels.value_rollup` (per group; ``per_customer=True`` for means).
    column : str, default "clv"
        e.g. "clv", "net_value", "ltv_cac", "breakeven_acquisition_cost".
    reference_column : str, optional
        A second column drawn as a black tick per group, e.g. "acquisition_cost" beside
        "breakeven_acquisition_cost" (a group whose cost tick lies right of its bar loses money on
        each new customer). For "ltv_cac" a line at 1 is drawn anyway.
    currency : str, optional
        Currency code for a money axis; default the rollup's ``attrs["clvmodels"]["currency"]``.
    ax : matplotlib Axes, optional
        Where to draw; default a new figure sized to the number of groups.

    Returns
    -------
    matplotlib Axes
        One bar per group, with error bars when the rollup has intervals.

    Raises
    ------
    DataError
        If a named column is missing or the rollup has no rows.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import pandas as pd
    >>> from clvmodels import plotting
    >>> rollup = pd.DataFrame({"net_value": [25.0, -4.0]}, index=pd.Index(["email", "social"], name="channel"))
    >>> ax = plotting.plot_value_by_group(rollup, "net_value", currency="EUR")
    >>> ax.get_title()
    'Net value by channel'
    """
    for name in [column] + ([reference_column] if reference_column else []):
        if name not in rollup.columns:
            raise DataError(f"the rollup has no column {name!r}; it has {list(rollup.columns)}")
    if len(rollup) == 0:
        raise DataError("the rollup has no groups to plot")
    labels = [str(g) for g in rollup.index]
    y = np.arange(len(rollup))
    point = rollup[column].to_numpy(float)
    xerr = None
    bounds = bounds_columns(rollup, column)
    if bounds is not None:
        low, high = rollup[bounds[0]].to_numpy(float), rollup[bounds[1]].to_numpy(float)
        xerr = np.vstack([np.maximum(point - low, 0.0), np.maximum(high - point, 0.0)])
    ax = new_axes(ax, figsize=(7.5, 1.8 + 0.5 * len(rollup)))
    ax.barh(y, point, xerr=xerr, color=MODEL_COLOR, height=0.6, capsize=3)
    if reference_column:
        ax.scatter(rollup[reference_column].to_numpy(float), y, marker="|", s=400, color="black",
                   zorder=3, label=_LABELS.get(reference_column, (words(reference_column),))[0])
    if column == "ltv_cac":
        ax.axvline(1.0, color=ACTUAL_COLOR, linestyle="--", linewidth=1.0, label="break-even (1)")
    elif (point < 0).any():
        ax.axvline(0.0, color="black", linewidth=0.8)
    if column not in _NOT_MONEY:
        money_axis(ax.xaxis)
    ax.set_yticks(y, labels)
    ax.invert_yaxis()  # first group on top, as in the table
    group = rollup.index.name or "group"
    ax.set_ylabel(words(group))
    ax.set_xlabel(value_label(column, rollup, currency))
    title = f"{words(short_name(column))} by {words(group).lower()}"
    if xerr is not None:
        title += f"\n(error bars: {_interval_note(rollup, column)})"
    ax.set_title(title)
    if ax.get_legend_handles_labels()[0]:  # outside the bars, which fill the axes
        ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return ax
