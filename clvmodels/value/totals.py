"""Per-draw totals of customer value by group, accumulated chunk by chunk.

An interval for a group total must come from the distribution of the total: sum the customers'
values within each draw, then take quantiles over draws. Summing per-customer bounds instead
assumes every customer is at their 5% (or 95%) quantile in the same draw, which gives an interval
that is too wide for predictive outcomes and wrong in general. :class:`GroupTotals` keeps the
(S draws x G groups) sums while customers stream through in chunks, so no draws x customers
array is kept.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from clvmodels.errors import DataError

#: label of the single group when rolling up without a ``by`` column
ALL = "all"

#: quantities summed per draw (values of shape (S, n)) ...
DRAW_QUANTITIES = ("future_margin", "referral_value", "new_customer_value")
#: ... and quantities that are the same in every draw (values of shape (n,))
FIXED_QUANTITIES = ("customers", "realised_margin", "acquisition_cost",
                    "future_margin_point", "referral_value_point", "new_customer_value_point")


def group_codes(summary: pd.DataFrame, by: str | None) -> tuple[np.ndarray, pd.Index]:
    """Group code of each customer (shape (n,)) and the group labels (sorted; missing is a group)."""
    if by is None:
        return np.zeros(len(summary), dtype=np.int64), pd.Index([ALL], name="group")
    if by not in summary.columns:
        raise DataError(f"cannot roll up by {by!r}: it is not a column of the summary, whose columns "
                        f"are {list(summary.columns)}. Carry it with rfm_summary(..., "
                        f"attribute_cols=[{by!r}]) or add it to the summary")
    codes, labels = pd.factorize(summary[by], sort=True, use_na_sentinel=False)
    return codes.astype(np.int64), pd.Index(labels, name=by)


class GroupTotals:
    """Sums per draw and group of the value quantities.

    Parameters
    ----------
    by : str or None
        The grouping column (None: one group, "all").
    codes : ndarray of int, shape (n,)
        Group of each customer (row of the summary).
    labels : Index
        Group labels, one per code.
    n_draws : int
        Number of draws S (1 for point estimates only).
    """

    def __init__(self, by: str | None, codes: np.ndarray, labels: pd.Index, n_draws: int):
        self.by, self.codes, self.labels, self.n_draws = by, codes, labels, n_draws
        n_groups = len(labels)
        self.draws = {q: np.zeros((n_draws, n_groups)) for q in DRAW_QUANTITIES}
        self.fixed = {q: np.zeros(n_groups) for q in FIXED_QUANTITIES}

    def add(self, quantity: str, rows: np.ndarray, values) -> None:
        """Add the values of the customers at summary rows ``rows`` to their groups' totals.

        ``values`` has shape (S, m), (S, 1) or (1, m) for a draw quantity and (m,) for a fixed one,
        with m = len(rows).
        """
        codes = self.codes[rows]
        if quantity in self.fixed:
            self.fixed[quantity] += np.bincount(codes, weights=np.broadcast_to(values, codes.shape),
                                                minlength=len(self.labels))
            return
        values = np.broadcast_to(values, (self.n_draws, codes.size))
        order = np.argsort(codes, kind="stable")
        sorted_codes = codes[order]
        starts = np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]])
        self.draws[quantity][:, sorted_codes[starts]] += np.add.reduceat(values[:, order], starts, axis=1)

    def per_draw(self) -> dict[str, np.ndarray]:
        """Totals per draw and group (each (S, G)) of every reported value quantity."""
        f, d = self.fixed, self.draws
        clv = f["realised_margin"] + d["future_margin"]
        ltv = clv + d["referral_value"]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = ltv / f["acquisition_cost"]
        return {
            "expected_future_margin": d["future_margin"],
            "referral_value": d["referral_value"],
            "clv": clv,
            "net_value": ltv - f["acquisition_cost"],
            "ltv_cac": np.where(f["acquisition_cost"] > 0, ratio, np.nan),
            "breakeven_acquisition_cost": d["new_customer_value"] / f["customers"],
        }

    def point(self) -> dict[str, np.ndarray]:
        """The same quantities at the point estimate (each (G,))."""
        f = self.fixed
        clv = f["realised_margin"] + f["future_margin_point"]
        ltv = clv + f["referral_value_point"]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(f["acquisition_cost"] > 0, ltv / f["acquisition_cost"], np.nan)
        return {
            "expected_future_margin": f["future_margin_point"],
            "referral_value": f["referral_value_point"],
            "clv": clv,
            "net_value": ltv - f["acquisition_cost"],
            "ltv_cac": ratio,
            "breakeven_acquisition_cost": f["new_customer_value_point"] / f["customers"],
        }


#: value columns that are sums over customers (divided by the count for per-customer tables)
_ADDITIVE = ("realised_margin", "expected_future_margin", "referral_value", "clv", "net_value",
             "acquisition_cost")


def rollup_table(totals: GroupTotals, payback: np.ndarray, *, per_customer: bool,
                 level: float | None) -> pd.DataFrame:
    """The rollup DataFrame (one row per group) from accumulated totals.

    Parameters
    ----------
    payback : ndarray, shape (G,)
        Payback period of a new customer of each group (time units; NaN if not within the horizon).
    per_customer : bool
        Divide additive columns by the number of customers (means instead of totals).
    level : float or None
        Coverage of the intervals; None for no intervals.
    """
    n = totals.fixed["customers"]
    scale = n if per_customer else np.ones_like(n)
    out = pd.DataFrame(index=totals.labels)
    out["customers"] = n.astype(np.int64)
    out["acquisition_cost"] = totals.fixed["acquisition_cost"] / scale
    out["realised_margin"] = totals.fixed["realised_margin"] / scale
    point, draws = totals.point(), totals.per_draw()
    if level is not None:
        tail = (1.0 - level) / 2.0
    for name in ("expected_future_margin", "referral_value", "clv", "net_value", "ltv_cac",
                 "breakeven_acquisition_cost"):
        divide = scale if name in _ADDITIVE else 1.0
        out[name] = point[name] / divide
        if level is not None:
            with warnings.catch_warnings():  # a group without acquisition cost has no LTV:CAC
                warnings.simplefilter("ignore", RuntimeWarning)
                lower, upper = np.nanquantile(draws[name], [tail, 1.0 - tail], axis=0)
            out[f"{name}_lower"], out[f"{name}_upper"] = lower / divide, upper / divide
    out["payback_period"] = payback
    return out
