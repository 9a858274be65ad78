"""Per-draw totals of customer value by group, accumulated chunk by chunk.

An interval for a group total must come from the distribution of the total: sum the customers'
values within each draw, then take quantiles over draws. Summing per-customer bounds instead
assumes every customer is at their 5% (or 95%) quantile in the same draw, which gives an interval
that is too wide for predictive outcomes and wrong in general. :class:`GroupTotals` keeps the
(S draws x G groups) sums while customers stream through in chunks, so no draws x customers
array is kept.

Conservation: every customer's own margin enters exactly one group. Summed over the groups of
any rollup, in either referral view::

    total net_value = sum of own realised margin + sum of own future margin - sum of acquisition cost

Referral attribution only moves ``share`` x a referred customer's own value from their group to
their referrer's (``referral_attribution`` sums to 0 over all groups, draw by draw). The value of
referrals not yet made (``future_referral_value``) is kept apart: it is value of customers who are
not in the base yet.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from clvmodels.errors import DataError

#: label of the single group when rolling up without a ``by`` column
ALL = "all"

#: quantities summed per draw (values of shape (S, n)) ...
DRAW_QUANTITIES = ("future_margin", "future_referral_value", "new_customer_value",
                   "referral_attribution")
#: ... and quantities that are the same in every draw (values of shape (n,))
FIXED_QUANTITIES = ("customers", "realised_margin", "acquisition_cost",
                    "future_margin_point", "future_referral_value_point",
                    "new_customer_value_point", "referral_attribution_point")


def rollup_key(by) -> str | tuple | None:
    """The hashable form of a ``by`` argument: None, a column name, or a tuple of names."""
    if by is None or isinstance(by, str):
        return by
    if isinstance(by, (list, tuple)) and by and all(isinstance(c, str) for c in by):
        return by[0] if len(by) == 1 else tuple(by)
    raise DataError(f"by must be None, a column name or a list of column names; got {by!r}")


def group_codes(summary: pd.DataFrame, by) -> tuple[np.ndarray, pd.Index]:
    """Group code of each customer (shape (n,)) and the group labels (sorted; missing is a group).

    ``by`` is None (one group, "all"), a column name (an Index named after it) or a tuple of
    column names (a MultiIndex with one level per column, holding only the combinations that
    occur).
    """
    by = rollup_key(by)
    if by is None:
        return np.zeros(len(summary), dtype=np.int64), pd.Index([ALL], name="group")
    columns = [by] if isinstance(by, str) else list(by)
    absent = [c for c in columns if c not in summary.columns]
    if absent:
        raise DataError(f"cannot roll up by {absent[0]!r}: it is not a column of the summary, whose "
                        f"columns are {list(summary.columns)}. Carry it with rfm_summary(..., "
                        f"attribute_cols=[{absent[0]!r}]) or add it to the summary")
    if len(columns) == 1:
        codes, labels = pd.factorize(summary[by], sort=True, use_na_sentinel=False)
        return codes.astype(np.int64), pd.Index(labels, name=by)
    factorized = [pd.factorize(summary[c], sort=True, use_na_sentinel=False) for c in columns]
    level_codes = np.column_stack([codes for codes, _ in factorized]).astype(np.int64)
    combos, codes = np.unique(level_codes, axis=0, return_inverse=True)  # sorted combinations
    labels = pd.MultiIndex(levels=[pd.Index(lab) for _, lab in factorized],
                           codes=[combos[:, j] for j in range(len(columns))], names=columns)
    return codes.ravel().astype(np.int64), labels


class GroupTotals:
    """Sums per draw and group of the value quantities.

    Parameters
    ----------
    by : str, tuple of str or None
        The grouping column(s) (None: one group, "all").
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

    def _quantities(self, future, future_referrals, vnew, attribution, attributed: bool) -> dict:
        f = self.fixed
        clv = f["realised_margin"] + future + (attribution if attributed else 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(f["acquisition_cost"] > 0, clv / f["acquisition_cost"], np.nan)
        out = {"expected_future_margin": future}
        if attributed:
            out["referral_attribution"] = attribution
        out |= {
            "clv": clv,
            "net_value": clv - f["acquisition_cost"],
            "ltv_cac": ratio,
            "breakeven_acquisition_cost": vnew / f["customers"],
            "future_referral_value": future_referrals,
            "future_value": future + future_referrals,
        }
        return out

    def per_draw(self, attributed: bool = False) -> dict[str, np.ndarray]:
        """Totals per draw and group (each (S, G)) of every reported value quantity.

        With ``attributed`` the referral attribution (share of referred customers' own value
        moved to their referrers' groups) is added to ``clv``, ``net_value`` and ``ltv_cac``.
        """
        d = self.draws
        return self._quantities(d["future_margin"], d["future_referral_value"],
                                d["new_customer_value"], d["referral_attribution"], attributed)

    def point(self, attributed: bool = False) -> dict[str, np.ndarray]:
        """The same quantities at the point estimate (each (G,))."""
        f = self.fixed
        return self._quantities(f["future_margin_point"], f["future_referral_value_point"],
                                f["new_customer_value_point"], f["referral_attribution_point"],
                                attributed)


#: value columns that are sums over customers (divided by the count for per-customer tables)
_ADDITIVE = ("realised_margin", "expected_future_margin", "referral_attribution", "clv",
             "net_value", "acquisition_cost", "future_referral_value", "future_value")


def rollup_table(totals: GroupTotals, payback: np.ndarray, *, per_customer: bool,
                 level: float | None, attributed: bool = False) -> pd.DataFrame:
    """The rollup DataFrame (one row per group) from accumulated totals.

    Parameters
    ----------
    payback : ndarray, shape (G,)
        Payback period of a new customer of each group (time units; NaN if not within the horizon).
    per_customer : bool
        Divide additive columns by the number of customers (means instead of totals).
    level : float or None
        Coverage of the intervals; None for no intervals.
    attributed : bool
        Referral attribution view (see :func:`clvmodels.value_rollup`).
    """
    n = totals.fixed["customers"]
    scale = n if per_customer else np.ones_like(n)
    out = pd.DataFrame(index=totals.labels)
    out["customers"] = n.astype(np.int64)
    out["acquisition_cost"] = totals.fixed["acquisition_cost"] / scale
    out["realised_margin"] = totals.fixed["realised_margin"] / scale
    point, draws = totals.point(attributed), totals.per_draw(attributed)
    if level is not None:
        tail = (1.0 - level) / 2.0
    for name in point:
        divide = scale if name in _ADDITIVE else 1.0
        out[name] = point[name] / divide
        if level is not None:
            with warnings.catch_warnings():  # a group without acquisition cost has no LTV:CAC
                warnings.simplefilter("ignore", RuntimeWarning)
                lower, upper = np.nanquantile(draws[name], [tail, 1.0 - tail], axis=0)
            out[f"{name}_lower"], out[f"{name}_upper"] = lower / divide, upper / divide
    out["payback_period"] = payback
    return out
