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
    new_axes,
)

#: The ranked plot draws at most this many customers (evenly spaced in rank) so that a million
#: customers render as fast as a thousand; the curve is monotone, so nothing visible is lost.
MAX_RANKED_POINTS = 2000

_LABELS = {
    "clv": "CLV (realised + expected future margin)",
    "net_value": "Net value (CLV + referral value - acquisition cost)",
    "expected_future_margin": "Expected future margin",
    "referral_value": "Referral value",
    "ltv_cac": "LTV:CAC",
    "breakeven_acquisition_cost": "Break-even acquisition cost",
    "acquisition_cost": "Acquisition cost",
    "expected_value": "Expected incremental value of a win-back, net of contact cost",
    "expected_revenue": "Expected revenue",
}


#: Columns that are per customer (or ratios) in every rollup, whatever ``per_customer`` says.
_ALWAYS_PER_CUSTOMER = {"ltv_cac", "breakeven_acquisition_cost", "payback_period"}


def _label(column: str, frame: pd.DataFrame) -> str:
    label = _LABELS.get(column, column)
    meta = frame.attrs.get("clvmodels", {})
    if meta.get("per_customer") and column not in _ALWAYS_PER_CUSTOMER:
        label += " per customer"
    return label


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


def _value_scale(ax, values: np.ndarray) -> None:
    """Logarithmic value axis: customer values are heavily skewed (a few customers hold most of
    the value), so a linear axis shows one spike. Symmetric-log when some values are <= 0."""
    if (values > 0).all():
        ax.set_yscale("log")
    else:
        nonzero = np.abs(values[values != 0])
        # linear up to the power of ten below the typical magnitude, logarithmic beyond it
        typical = float(np.median(nonzero)) if nonzero.size else 1.0
        ax.set_yscale("symlog", linthresh=10.0 ** np.floor(np.log10(typical)))


def plot_value_distribution(values: pd.DataFrame, column: str = "clv", *, ax=None):
    """Customers ranked by value, with each customer's interval as a band.

    The curve is the value of the customer at each rank (highest first), on a logarithmic axis:
    its shape shows how concentrated value is; the band shows how sure each value is.

    Parameters
    ----------
    values : DataFrame
        From :func:`clvmodels.customer_value` (or any per-customer frame with ``column`` and,
        optionally, ``column_lower``/``column_upper``).
    column : str
        The value to rank by, e.g. "clv" or "net_value".
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
        One line (point values by rank), one band (the interval, if the frame has bounds) and a
        dashed line at the mean.
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
    bounds = bounds_columns(values, column)
    if bounds is not None:
        ax.fill_between(share, values[bounds[0]].to_numpy(float)[rows],
                        values[bounds[1]].to_numpy(float)[rows], color=MODEL_COLOR, alpha=0.25,
                        linewidth=0, label=_interval_note(values, column))
    ax.plot(share, point[rows], color=MODEL_COLOR, label=f"{column} (estimate)")
    mean = float(point.mean())
    ax.axhline(mean, color=ACTUAL_COLOR, linestyle="--", linewidth=1.0, label=f"mean {mean:,.2f}")
    title = f"Distribution of {column}"
    if (point >= 0).all() and point.sum() > 0:  # a share of the total means something only then
        top = point[order[: max(1, round(0.2 * n))]].sum() / point.sum()
        title += f": the top 20% of customers hold {top:.0%} of it"
    _value_scale(ax, point)
    ax.set_xlabel(f"Customers ranked by {column} (% of {n:,} customers)")
    ax.set_ylabel(_label(column, values))
    ax.set_title(title)
    ax.legend(frameon=False)
    return ax


def plot_value_by_group(rollup: pd.DataFrame, column: str = "clv", *, reference_column: str | None = None,
                        ax=None):
    """One horizontal bar per group (channel, cohort, partner) with the interval of the group value.

    Parameters
    ----------
    rollup : DataFrame
        From :func:`clvmodels.value_rollup` (per group; ``per_customer=True`` for means).
    column : str
        e.g. "clv", "net_value", "ltv_cac", "breakeven_acquisition_cost".
    reference_column : str, optional
        A second column drawn as a black tick per group, e.g. "acquisition_cost" beside
        "breakeven_acquisition_cost" (a group whose cost tick lies right of its bar loses money on
        each new customer). For "ltv_cac" a line at 1 is drawn anyway.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
        One bar per group, with error bars when the rollup has intervals.
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
    ax = new_axes(ax, figsize=(7.0, 1.2 + 0.5 * len(rollup)))
    ax.barh(y, point, xerr=xerr, color=MODEL_COLOR, height=0.6, capsize=3)
    if reference_column:
        ax.scatter(rollup[reference_column].to_numpy(float), y, marker="|", s=400, color="black",
                   zorder=3, label=_label(reference_column, rollup))
    if column == "ltv_cac":
        ax.axvline(1.0, color=ACTUAL_COLOR, linestyle="--", linewidth=1.0, label="break-even (1)")
    ax.set_yticks(y, labels)
    ax.invert_yaxis()  # first group on top, as in the table
    ax.set_ylabel(rollup.index.name or "group")
    ax.set_xlabel(_label(column, rollup))
    title = f"{_LABELS.get(column, column)} by {rollup.index.name or 'group'}"
    if xerr is not None:
        title += f"\n(error bars: {_interval_note(rollup, column)})"
    ax.set_title(title)
    if ax.get_legend_handles_labels()[0]:  # outside the bars, which fill the axes
        ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return ax
