"""Chunked summaries of draws: the machinery behind every interval.

Per-customer quantities are computed for S parameter draws at a time on a chunk of customers,
giving an (S, n_chunk) array that is summarised (mean, interval bounds) and dropped before the next
chunk, so the draws x customers array is never held for more than one chunk.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

#: Default number of customers per chunk; with 500 draws an (S, chunk) float64 array is ~200 MB.
DEFAULT_CHUNK_SIZE = 50_000


def iter_chunks(n: int, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[slice]:
    """Yield consecutive slices covering ``range(n)`` in pieces of at most ``chunk_size``."""
    chunk_size = max(int(chunk_size), 1)
    for start in range(0, n, chunk_size):
        yield slice(start, min(start + chunk_size, n))


def chunk_size_for(n_draws: int, budget_bytes: float = 400e6, n_arrays: int = 4) -> int:
    """Customers per chunk so that ``n_arrays`` float64 (n_draws, chunk) arrays fit in the budget."""
    return max(1_000, int(budget_bytes / (8 * max(n_draws, 1) * n_arrays)))


def interval_quantiles(level: float) -> tuple[float, float]:
    """Lower and upper quantile of a central interval with coverage ``level`` (0 < level < 1)."""
    tail = (1.0 - level) / 2.0
    return tail, 1.0 - tail


def interval_bounds(values: np.ndarray, level: float, method: str = "linear") -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bound of the central interval over the draw axis, each shape (n,).

    ``method`` is numpy's quantile method: "linear" for expected values, "inverted_cdf" for
    simulated outcomes (the bounds are then simulated values, e.g. whole purchase counts). The
    result equals ``np.quantile(values, [lo, hi], axis=0, method=method)`` bit for bit (a test
    says so); float arrays are sorted along the draw axis first (numpy's vectorised sort), which
    at 300 draws is about 4x faster than ``np.quantile``'s partition around four order statistics.
    """
    lo, hi = interval_quantiles(level)
    values = np.asarray(values)
    if values.dtype != np.float64 or values.ndim == 0 or values.shape[0] == 0 or method not in _ORDER_STATISTICS:
        lower, upper = np.quantile(values, [lo, hi], axis=0, method=method)
        return lower, upper
    ordered = np.sort(values, axis=0)
    bounds = _ORDER_STATISTICS[method](ordered, np.array([lo, hi]))
    nans = np.isnan(ordered[-1])  # NaN sorts last; np.quantile answers NaN for such a column
    if nans.any():
        np.copyto(bounds, ordered[-1], where=nans)
    return bounds[0], bounds[1]


def _linear(ordered: np.ndarray, q: np.ndarray) -> np.ndarray:
    """numpy's "linear" quantiles (Hyndman & Fan type 7) of columns sorted along axis 0, with
    numpy's own index and interpolation arithmetic (``_get_indexes``, ``_get_gamma``, ``_lerp``),
    so the result is the same to the bit."""
    n = ordered.shape[0]
    virtual = (n - 1) * q
    previous = np.floor(virtual)
    following = previous + 1
    above = virtual >= n - 1
    previous[above] = following[above] = -1
    below = virtual < 0
    previous[below] = following[below] = 0
    previous, following = previous.astype(np.intp), following.astype(np.intp)
    gamma = (virtual - previous).reshape((-1,) + (1,) * (ordered.ndim - 1))
    a, b = ordered[previous], ordered[following]
    diff_b_a = b - a
    out = np.add(a, diff_b_a * gamma)
    np.subtract(b, diff_b_a * (1 - gamma), out=out, where=gamma >= 0.5)
    return out


def _inverted_cdf(ordered: np.ndarray, q: np.ndarray) -> np.ndarray:
    """numpy's "inverted_cdf" quantiles (Hyndman & Fan type 1) of columns sorted along axis 0:
    the order statistic at ``ceil(n q) - 1`` (numpy's ``_inverted_cdf`` index rule)."""
    index = ordered.shape[0] * q - 1
    previous = np.floor(index)
    chosen = np.where(index - previous == 0, previous, previous + 1).astype(np.intp)
    chosen[chosen < 0] = 0
    return ordered[chosen]


_ORDER_STATISTICS = {"linear": _linear, "inverted_cdf": _inverted_cdf}


def summarise_draws(values: np.ndarray, level: float = 0.9) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and central interval over the draw axis.

    Parameters
    ----------
    values : ndarray, shape (S, n)
        S draws (parameter or predictive) for each of n customers.
    level : float
        Coverage of the central interval, e.g. 0.9 for the 5% and 95% quantiles.

    Returns
    -------
    mean, lower, upper : ndarray, shape (n,)
    """
    lower, upper = interval_bounds(values, level)
    return values.mean(axis=0), lower, upper
