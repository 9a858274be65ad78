"""Where to stop spending on a win-back campaign: the gains curve of a campaign list.

Customers are taken in the list's rank order (best expected incremental value first). After the
first k customers the campaign has spent ``sum_{i<=k} contact_cost_i`` and expects
``sum_{i<=k} expected_value_i``, where ``expected_value`` is already the increment net of the
contact cost (:func:`clvmodels.winback_targets`). The curve rises while contacts pay for
themselves and falls once they do not; its highest point is the most valuable stopping place,
the budget line is where the list was cut. Each customer is counted once, in rank order; no
interval is drawn because the sum of per-customer bounds is not an interval of the sum.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from clvmodels.errors import DataError, describe_rows
from clvmodels.plotting._common import (
    ACTUAL_COLOR,
    MODEL_COLOR,
    currency_of,
    money_axis,
    money_label,
    new_axes,
    require_columns,
)


def winback_gains(campaign: pd.DataFrame) -> pd.DataFrame:
    """Cumulative contact cost and expected incremental value of a campaign list, in rank order.

    Parameters
    ----------
    campaign : DataFrame, shape (n_customers, ...)
        A campaign list with ``expected_value`` (incremental, net of contact cost) and
        ``contact_cost`` per customer (money, same currency), e.g. from
        :func:`clvmodels.winback_targets`; ranked by its ``rank`` column if it has one, else by
        ``expected_value``, highest first.

    Returns
    -------
    DataFrame, shape (n_customers + 1, 2)
        ``cumulative_cost`` and ``cumulative_value`` after 0, 1, ..., n customers (the first row
        is 0, 0), indexed by the number of customers contacted.

    Raises
    ------
    DataError
        If a column is missing, a value is missing, or a contact cost is negative.

    Examples
    --------
    >>> import pandas as pd
    >>> from clvmodels import plotting
    >>> campaign = pd.DataFrame({"rank": [1, 2, 3], "expected_value": [30.0, 10.0, -5.0],
    ...                          "contact_cost": [5.0, 5.0, 5.0]})
    >>> plotting.winback_gains(campaign)["cumulative_value"].tolist()
    [0.0, 30.0, 40.0, 35.0]
    """
    require_columns(campaign, ["expected_value", "contact_cost"], "the campaign list",
                    "pass the output of clvmodels.winback_targets(...)")
    for column in ("expected_value", "contact_cost"):
        bad = ~np.isfinite(campaign[column].to_numpy(float))
        if bad.any():
            raise DataError(f"{column} is missing for {describe_rows(campaign.index[bad])}; "
                            "the gains curve needs every customer's value and cost")
    negative = campaign["contact_cost"].to_numpy(float) < 0
    if negative.any():
        raise DataError(f"contact_cost is negative for {describe_rows(campaign.index[negative])}; "
                        "a contact cost is money spent, >= 0")
    if "rank" in campaign.columns:
        ordered = campaign.sort_values("rank", kind="stable")
    else:
        ordered = campaign.iloc[np.argsort(-campaign["expected_value"].to_numpy(float), kind="stable")]
    return pd.DataFrame({
        "cumulative_cost": np.r_[0.0, np.cumsum(ordered["contact_cost"].to_numpy(float))],
        "cumulative_value": np.r_[0.0, np.cumsum(ordered["expected_value"].to_numpy(float))],
    }, index=pd.RangeIndex(len(ordered) + 1, name="customers_contacted"))


def plot_winback_gains(campaign: pd.DataFrame, *, budget: float | None = None, currency: str | None = None,
                       ax=None):
    """Win-back gains curve: cumulative expected incremental value against cumulative contact cost.

    Parameters
    ----------
    campaign : DataFrame
        See :func:`winback_gains`. Pass ``winback_targets(..., include_rejected=True)`` to see the
        curve beyond the budget and past the customers not worth contacting.
    budget : float, optional
        Budget line (money); default the budget recorded in the list's
        ``attrs["clvmodels"]["campaign"]["budget"]``, none if there is none.
    currency : str, optional
        Currency code for both axes; default the list's ``attrs["clvmodels"]["currency"]``.
    ax : matplotlib Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    matplotlib Axes
        The gains curve, a marker at its highest point and, with a budget, a dashed budget line.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import pandas as pd
    >>> from clvmodels import plotting
    >>> campaign = pd.DataFrame({"rank": [1, 2, 3], "expected_value": [30.0, 10.0, -5.0],
    ...                          "contact_cost": [5.0, 5.0, 5.0]})
    >>> ax = plotting.plot_winback_gains(campaign, budget=10, currency="USD")
    >>> [label.get_text() for label in ax.get_legend().get_texts()][1:]
    ['highest: 40 USD after 2 customers', 'budget 10 USD: 40 USD expected']
    """
    gains = winback_gains(campaign)
    if budget is None:
        budget = campaign.attrs.get("clvmodels", {}).get("campaign", {}).get("budget")
    cur = currency_of(campaign, currency)
    unit = f" {cur}" if cur else ""
    ax = new_axes(ax)
    cost, value = gains["cumulative_cost"].to_numpy(), gains["cumulative_value"].to_numpy()
    ax.plot(cost, value, color=MODEL_COLOR, label="customers in rank order")
    best = int(np.argmax(value))
    ax.plot([cost[best]], [value[best]], "o", color=MODEL_COLOR,
            label=f"highest: {value[best]:,.0f}{unit} after {best:,} customers")
    if budget is not None:
        within = int(np.searchsorted(cost, float(budget), side="right") - 1)
        ax.axvline(float(budget), color=ACTUAL_COLOR, linestyle="--", linewidth=1.0,
                   label=f"budget {float(budget):,.0f}{unit}: {value[within]:,.0f}{unit} expected")
    if (value < 0).any():
        ax.axhline(0.0, color="black", linewidth=0.8)
    money_axis(ax.xaxis)
    money_axis(ax.yaxis)
    ax.set_xlabel(money_label("Cumulative contact cost", cur))
    ax.set_ylabel(money_label("Cumulative expected incremental value\nnet of contact cost", cur))
    ax.set_title(f"Win-back gains: {len(campaign):,} customers, best expected value first")
    ax.legend(frameon=False, loc="lower right")
    return ax
