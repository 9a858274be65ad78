"""Purchase times and their discounted sums, for simulated futures (flat arrays, no per-purchase loop).

Given how many purchases each simulated customer makes in a window and the spacings after the
last one, the purchase times follow from the normalised-spacings representation of uniform order
statistics; each purchase is discounted by ``exp(-ln(1 + d) s)`` and may carry a Gamma spend.
Shared by the BG/NBD and MBG/NBD sparse simulators (:mod:`clvmodels.formulas.future_simulation`)
and the Pareto/NBD one (:mod:`clvmodels.formulas.family_futures`). Pure numpy, the generator passed
in; nothing validates its input.
"""

from __future__ import annotations

import numpy as np


def _discounted_sums(rng, count, rest, horizon, log_discount, spend_shape, nu, batch_purchases,
                     one_spend_draw=False, spend_by_runs=False):
    """Discounted count, discounted spend (None without ``nu``) and time of the last purchase of
    customers making ``count`` purchases in (0, horizon], flat arrays of one length.

    Purchase times by normalised spacings (see :func:`clvmodels.formulas.future_simulation.simulate_discounted_purchases`; ``rest``
    is the Gamma(K + 1 - N) of the spacings after the last purchase). With ``one_spend_draw``
    (only exact where every discount factor is 1, i.e. ``log_discount == 0``) the spend total of
    N purchases is one ``Gamma(N spend_shape, rate nu)`` draw instead of N ``Gamma(spend_shape)``;
    with ``spend_by_runs`` the per-purchase spends are drawn run by run of equal shapes (same
    distribution, another order of the random stream).
    """
    with_spend = nu is not None
    discounted = np.zeros(count.shape)
    spend = np.zeros(count.shape) if with_spend else None
    last_time = np.zeros(count.shape)
    for rows in _batches(count, batch_purchases):
        n_rows = count[rows]
        owner = _owners(n_rows)
        cumulative = _segment_cumsum(rng.standard_exponential(owner.size), n_rows, owner)
        total = np.zeros(rows.size)
        ends = np.cumsum(n_rows) - 1
        total[n_rows > 0] = cumulative[ends[n_rows > 0]]
        scale = _take(horizon, rows) / (total + rest[rows])  # s_i = horizon S_i / (S_N + G)
        times = cumulative * scale[owner]
        if np.ndim(log_discount):
            weight = np.exp(-log_discount[rows][owner] * times)
        else:
            weight = np.exp(-log_discount * times)
        discounted[rows] = np.bincount(owner, weight, minlength=rows.size)
        last_time[rows] = total * scale
        if with_spend and one_spend_draw:
            spend[rows] = rng.standard_gamma(spend_shape[rows] * n_rows) / nu[rows]
        elif with_spend and spend_by_runs:
            value = _gamma_by_runs(rng, spend_shape[rows], n_rows) / nu[rows][owner]
            spend[rows] = np.bincount(owner, weight * value, minlength=rows.size)
        elif with_spend:
            value = rng.standard_gamma(spend_shape[rows][owner]) / nu[rows][owner]
            spend[rows] = np.bincount(owner, weight * value, minlength=rows.size)
    return discounted, spend, last_time


def _owners(lengths):
    """``np.repeat(np.arange(lengths.size), lengths)`` for positive lengths, by a cumulative sum
    of segment-start marks (several times faster than repeat)."""
    marks = np.zeros(int(lengths.sum()), dtype=np.int64)
    marks[np.cumsum(lengths[:-1])] = 1
    return np.cumsum(marks)


def _gamma_by_runs(rng, shape, lengths):
    """``lengths[i]`` Gamma(shape[i]) draws per i, concatenated, with one scalar-shape call per
    run of equal adjacent shapes (per-draw shapes come in runs of a draw's customers): numpy
    draws a scalar shape several times faster than an array of shapes."""
    new = np.ones(shape.size, dtype=bool)
    new[1:] = shape[1:] != shape[:-1]
    starts = np.flatnonzero(new)
    ends = np.append(starts[1:], shape.size)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    out = np.empty(int(offsets[-1]))
    for start, end in zip(starts, ends):
        out[offsets[start]:offsets[end]] = rng.standard_gamma(shape[start],
                                                              int(offsets[end] - offsets[start]))
    return out


def _take(v, rows):
    """``v[rows]`` of an array, a scalar as it is."""
    return v[rows] if np.ndim(v) else v


def _batches(count, batch_purchases):
    """Consecutive index ranges of customers with at most ``batch_purchases`` purchases each
    (a single customer with more makes a batch of its own). Only customers with purchases."""
    rows = np.flatnonzero(count > 0)
    cumulative = np.cumsum(count[rows])
    start = 0
    while start < rows.size:
        offset = cumulative[start - 1] if start else 0
        stop = max(int(np.searchsorted(cumulative, offset + batch_purchases, side="right")), start + 1)
        yield rows[start:stop]
        start = stop


def _segment_cumsum(values, lengths, owner=None):
    """Cumulative sums of ``values`` restarting at each segment of the given lengths.

    One global cumsum minus the running total at each segment's start; the batches are small
    enough (a few million values of order 1) that the subtraction loses < 1e-9 absolute.
    ``owner`` (each value's segment, if known) saves repeating the starts.
    """
    cumulative = np.cumsum(values)
    starts = np.cumsum(lengths) - lengths
    nonempty = lengths > 0
    before = np.zeros(lengths.size)
    before[nonempty] = cumulative[starts[nonempty]] - values[starts[nonempty]]
    return cumulative - (np.repeat(before, lengths) if owner is None else before[owner])
