"""How concentrated is value? The cumulative value (Lorenz) curve of customers ranked by value.

Customers are sorted from the most to the least valuable; the curve gives, for the top s% of
customers, their share of the total value. The diagonal is a base where every customer is worth
the same. The Gini coefficient is ``2 * (area under the curve) - 1`` with the area by the
trapezoid rule over the n + 1 points (0, 0), (1/n, share of the top one), ..., (1, 1), which is
exactly the mean absolute difference ``sum_ij |v_i - v_j| / (2 n^2 mean)``: 0 when all are
equal, ``1 - 1/n`` when one customer holds everything.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from clvmodels.errors import DataError
from clvmodels.plotting._common import ACTUAL_COLOR, MODEL_COLOR, new_axes
from clvmodels.plotting.value import MAX_RANKED_POINTS, short_name

#: The share of customers called out on the curve ("the top 20% hold ...").
TOP_SHARE = 0.2


def lorenz_curve(values: pd.DataFrame, column: str = "clv") -> pd.DataFrame:
    """Cumulative share of value held by the top customers.

    Parameters
    ----------
    values : DataFrame, shape (n_customers, ...)
        Per-customer frame with ``column`` (e.g. from :func:`clvmodels.customer_value`).
    column : str, default "clv"
        The value.

    Returns
    -------
    DataFrame, shape (n_customers + 1, 2)
        ``customer_share`` (0, 1/n, ..., 1) and ``value_share`` (0, ..., 1): the top k customers'
        share of the total. ``attrs["gini"]`` is the Gini coefficient (NaN when some values are
        negative, where it has no meaning; the curve then rises above 1 and comes back down).

    Raises
    ------
    DataError
        If the column is missing, has missing values, or the total is not positive.

    Examples
    --------
    >>> import pandas as pd
    >>> from clvmodels import plotting
    >>> curve = plotting.lorenz_curve(pd.DataFrame({"clv": [10.0, 0.0, 0.0, 0.0]}))
    >>> curve["value_share"].tolist(), curve.attrs["gini"]   # one customer holds all: 1 - 1/n
    ([0.0, 1.0, 1.0, 1.0, 1.0], 0.75)
    """
    if column not in values.columns:
        raise DataError(f"the frame has no column {column!r}; it has {list(values.columns)}")
    point = values[column].to_numpy(float)
    missing = ~np.isfinite(point)
    if missing.any():
        from clvmodels.errors import describe_rows

        raise DataError(f"{column} is missing or infinite for {describe_rows(values.index[missing])}; "
                        "drop or fill those customers first")
    total = point.sum()
    if not total > 0:
        raise DataError(f"the total {column} is {total:,.2f}; shares of a total that is not positive mean "
                        "nothing. Plot a positive quantity (e.g. clv) instead")
    ranked = np.sort(point)[::-1]
    share = np.r_[0.0, np.cumsum(ranked) / total]
    curve = pd.DataFrame({"customer_share": np.arange(point.size + 1) / point.size, "value_share": share})
    step = 1.0 / point.size  # trapezoid rule by hand: np.trapezoid needs numpy >= 2
    area = float(np.sum(share[1:] + share[:-1]) * step / 2.0)
    curve.attrs["gini"] = 2.0 * area - 1.0 if (point >= 0).all() else float("nan")
    return curve


def plot_lorenz_curve(values: pd.DataFrame, column: str = "clv", *, ax=None):
    """Share of total value held by the top customers (cumulative value curve).

    Parameters
    ----------
    values : DataFrame, shape (n_customers, ...)
        Per-customer frame with ``column`` (e.g. from :func:`clvmodels.customer_value`).
    column : str, default "clv"
        The value.
    ax : matplotlib Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    matplotlib Axes
        The curve (at most ``MAX_RANKED_POINTS`` points, evenly spaced in rank, plus both ends),
        the diagonal of equal shares and a marker at the top ``TOP_SHARE`` of customers.

    See Also
    --------
    lorenz_curve : The numbers behind the plot.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import pandas as pd
    >>> from clvmodels import plotting
    >>> ax = plotting.plot_lorenz_curve(pd.DataFrame({"clv": [50.0, 20.0, 10.0, 10.0, 5.0, 5.0]}))
    >>> ax.get_title()
    'Concentration of CLV (Gini coefficient 0.45)'
    """
    curve = lorenz_curve(values, column)
    n = len(curve) - 1
    keep = np.unique(np.r_[np.linspace(0, n, min(n + 1, MAX_RANKED_POINTS)).round().astype(int), 0, n])
    ax = new_axes(ax, figsize=(6.0, 5.0))
    ax.plot(100 * curve["customer_share"].to_numpy()[keep], 100 * curve["value_share"].to_numpy()[keep],
            color=MODEL_COLOR, label=f"customers ranked by {short_name(column)}")
    ax.plot([0, 100], [0, 100], color=ACTUAL_COLOR, linestyle=":", linewidth=1.0, label="equal shares")
    k = max(1, round(TOP_SHARE * n))
    top = float(curve["value_share"].iloc[k])
    ax.plot([100 * k / n], [100 * top], "o", color=MODEL_COLOR,
            label=f"top {k / n:.0%} of customers: {top:.0%} of the total")
    ax.set_xlim(0, 100)
    ax.set_ylim(0, max(100.0, 100 * float(curve["value_share"].max())) * 1.02)
    ax.set_xlabel(f"Share of customers, most valuable first (% of {n:,})")
    ax.set_ylabel(f"Share of total {short_name(column)} (%)")
    gini = curve.attrs["gini"]
    title = f"Concentration of {short_name(column)}"
    ax.set_title(title + (f" (Gini coefficient {gini:.2f})" if np.isfinite(gini) else ""))
    ax.legend(frameon=False, loc="lower right")
    return ax
