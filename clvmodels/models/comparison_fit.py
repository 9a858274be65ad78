"""Per-model quantities of a comparison, computed through the purchase-family contract only.

Every function takes a fitted purchase model (anything with ``family``, a
:class:`~clvmodels.families.PurchaseFamily`, and ``customer_params``) and a calibration summary,
and never asks which family it holds:

- :func:`calibration_log_likelihood`: the family's log-likelihood of the summary at the model's
  parameters (so a model fitted elsewhere is scored on *this* summary);
- :func:`expected_histogram`: expected customers with 0, 1, 2, ... repeat purchases in their
  calibration window, ``sum_i P(X(T_i) = n)`` (FHL 2005 eq. 8 for BG/NBD): the family's
  ``purchase_probability`` at the empty history, which is the unconditional distribution of a
  customer observed for no time yet.

Customers sharing their parameters (all of them, or one segment of a model pooled by segment)
are evaluated together on their distinct rows with counts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from clvmodels.inference.compress import compress_rows


def parameter_groups(model, summary: pd.DataFrame) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Distinct parameter vectors of the summary's customers and each customer's group.

    Returns
    -------
    (dict of str -> ndarray (G,), ndarray of int (n,))
        The G distinct point estimates (one for a pooled model, one per segment present
        otherwise), by parameter name, and the group of each customer.
    """
    names = list(model.family.param_names)
    params = {k: np.asarray(v, float)[0] for k, v in model.customer_params(summary).items()}  # (1,) or (n,)
    n = len(summary)
    if all(params[k].size == 1 for k in names):  # pooled: one group, no grouping needed
        return {k: params[k].reshape(1) for k in names}, np.zeros(n, np.int64)
    groups = compress_rows(*(np.broadcast_to(params[k], (n,)) for k in names))
    return dict(zip(names, groups.columns)), groups.inverse


def _history(model, summary: pd.DataFrame) -> list[np.ndarray]:
    return [summary[column].to_numpy(float) for column in model.family.history_columns]


def calibration_log_likelihood(model, summary: pd.DataFrame) -> float:
    """Total log-likelihood of the summary's histories at the model's point estimate.

    Parameters
    ----------
    model : fitted purchase model
    summary : DataFrame, n rows
        The family's ``history_columns`` in the model's time unit.

    Returns
    -------
    float
        ``sum_i log L(params_i | history_i)``, natural log (the quantity ``log_likelihood_`` holds
        for a model fitted on this summary).
    """
    family = model.family
    groups, member = parameter_groups(model, summary)
    history = _history(model, summary)
    total = 0.0
    for g in range(member.max() + 1):
        rows = compress_rows(*(column[member == g] for column in history))
        log_params = np.log([groups[k][g] for k in family.param_names])
        value, _ = family.neg_log_likelihood_and_grad(log_params, *rows.columns, rows.counts)
        total -= float(value)
    return total


def expected_histogram(model, summary: pd.DataFrame, max_frequency: int) -> np.ndarray:
    """Expected customers by repeat purchases in their calibration window, tail pooled.

    Parameters
    ----------
    model : fitted purchase model (continuous time; the window is the summary's ``T``)
    summary : DataFrame, n rows
        The calibration summary (``T`` and, for a model pooled by segment, the segment column).
    max_frequency : int
        Bins ``0, ..., max_frequency - 1`` and ``max_frequency`` or more.

    Returns
    -------
    ndarray, shape (max_frequency + 1,)
        Expected numbers of customers; they sum to n (the tail is n minus the other bins).
    """
    family = model.family
    groups, member = parameter_groups(model, summary)
    distinct = compress_rows(summary["T"].to_numpy(float), member)
    (window, group), counts = distinct.columns, distinct.counts
    params = {k: v[group] for k, v in groups.items()}  # (d,) per distinct (T, group)
    empty = tuple(np.zeros(window.size) for _ in family.history_columns)
    expected = np.empty(int(max_frequency) + 1)
    for n in range(int(max_frequency)):
        expected[n] = float(np.asarray(family.purchase_probability(params, *empty, window, n)) @ counts)
    expected[-1] = len(summary) - expected[:-1].sum()
    return expected
