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
    simulated outcomes (the bounds are then simulated values, e.g. whole purchase counts).
    """
    lo, hi = interval_quantiles(level)
    lower, upper = np.quantile(values, [lo, hi], axis=0, method=method)
    return lower, upper


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
