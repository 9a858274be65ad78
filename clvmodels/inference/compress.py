"""Compression of customers to distinct rows with counts.

Customers with identical (frequency, recency, T) contribute identical likelihood terms and receive
identical predictions, so fits and deterministic predictions run on the distinct rows only; the
weighted likelihood over distinct rows equals the likelihood over customers exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class CompressedRows:
    """Distinct rows of several aligned columns.

    Attributes
    ----------
    columns : tuple of ndarray, each shape (m,)
        The distinct rows, column by column, in sorted order.
    counts : ndarray, shape (m,)
        How many original rows each distinct row stands for.
    inverse : ndarray, shape (n,)
        For each original row, the index of its distinct row: ``columns[j][inverse]`` restores column j.
    """

    columns: tuple[np.ndarray, ...]
    counts: np.ndarray
    inverse: np.ndarray

    @property
    def n_unique(self) -> int:
        return int(self.counts.size)


def compress_rows(*columns: np.ndarray) -> CompressedRows:
    """Group aligned 1-d arrays into distinct rows with counts.

    Parameters
    ----------
    *columns : ndarray, shape (n,)
        Aligned columns (e.g. frequency, recency, T and optionally a segment code).

    Returns
    -------
    CompressedRows
    """
    frame = pd.DataFrame({f"c{i}": np.asarray(c) for i, c in enumerate(columns)})
    inverse = frame.groupby(list(frame.columns), sort=True).ngroup().to_numpy()
    counts = np.bincount(inverse)
    first = np.empty(counts.size, dtype=np.int64)
    first[inverse[::-1]] = np.arange(inverse.size - 1, -1, -1)  # first occurrence of each group
    return CompressedRows(
        columns=tuple(np.asarray(c)[first] for c in columns),
        counts=counts.astype(float),
        inverse=inverse,
    )
