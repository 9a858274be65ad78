"""Per-value tables of a likelihood's distinct rows: terms that depend on one column, once per value.

The optimiser evaluates a likelihood a few dozen times on the same distinct rows (x, t_x, T) with
counts; log-gamma and digamma of ``r + x`` need only the few hundred distinct frequencies, and
terms in ``T`` alone the few dozen distinct ages. Shared by the BG/NBD, MBG/NBD and Pareto/NBD
likelihoods (:mod:`clvmodels.formulas.bgnbd`, ``mbgnbd``, ``paretonbd``).
"""

from __future__ import annotations

import numpy as np


def frequency_table(x, weights):
    """Distinct frequencies with their total weight, and a map from a per-frequency table to rows.

    Terms that depend on x alone (log-gamma, digamma) are then evaluated once per distinct
    frequency instead of once per row. Whole frequencies (of any dtype) use ``bincount``; other
    inputs fall back to one entry per row.
    """
    if x.dtype.kind == "f" and x.size:
        whole = x.astype(np.int64)
        if np.array_equal(whole, x) and whole.min() >= 0:  # two cheap passes save ~4 digammas/row
            x = whole
    if x.dtype.kind in "iu" and x.size and x.max() <= 4 * x.size + 1024:
        counts = np.bincount(x, weights=weights)
        return np.arange(counts.size, dtype=float), counts, lambda table: table[x]
    return x.astype(float), weights, lambda table: table


def frequency_codes(x, weights):
    """:func:`frequency_table` with each row's index into the table instead of the map."""
    if x.dtype.kind == "f" and x.size:
        whole = x.astype(np.int64)
        if np.array_equal(whole, x) and whole.min() >= 0:
            x = whole
    if x.dtype.kind in "iu" and x.size and x.min() >= 0 and x.max() <= 4 * x.size + 1024:
        counts = np.bincount(x, weights=weights)
        return np.arange(counts.size, dtype=float), counts, x.astype(np.intp)
    return x.astype(float), weights, np.arange(x.size)


class RowTables:
    """What the likelihood needs of distinct rows (x, t_x, T) with weights, built once per fit.

    The optimiser evaluates the likelihood a few dozen times on the same rows. Terms in one column
    only are evaluated per distinct value: log-gamma and digamma per distinct x; ``log(alpha + T)``
    and ``1 / (alpha + T)`` per distinct T, their weighted sums over rows taken through the total
    weight and the total weighted frequency of each T (so no row-level pass needs them except one
    gather). Only the terms mixing the columns (the dropout log-odds) run per row.
    """

    def __init__(self, x, t_x, T, weights):
        self.values, self.counts, self.x_code = frequency_codes(x, weights)
        self.total = float(self.counts.sum())
        self.x = np.asarray(x, dtype=float)
        self.weights = weights
        self.gap = T - t_x
        self.T_values, T_code = np.unique(T, return_inverse=True)
        self.T_code = T_code.reshape(-1)
        self.T_weight = np.bincount(self.T_code, weights=weights, minlength=self.T_values.size)
        self.T_weight_x = np.bincount(self.T_code, weights=weights * self.x, minlength=self.T_values.size)
        self.tx_values, tx_code = np.unique(t_x, return_inverse=True)
        self.tx_code = tx_code.reshape(-1)


class TableCache:
    """The last :class:`RowTables` with copies of the arrays it was built from (one entry,
    replaced in one assignment, so threads may share it). A call whose arrays equal the copies
    reuses the tables: four comparisons instead of sorting the rows again."""

    def __init__(self):
        self._entry = None

    def tables(self, x, t_x, T, weights) -> RowTables:
        arrays = (x, t_x, T, weights)
        entry = self._entry
        if entry is not None and all(a.dtype == b.dtype and np.array_equal(a, b)
                                     for a, b in zip(arrays, entry[0])):
            return entry[1]
        tables = RowTables(x, t_x, T, weights)
        self._entry = (tuple(a.copy() for a in arrays), tables)
        return tables
