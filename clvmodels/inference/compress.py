"""Compression of customers to distinct rows with counts.

Customers with identical (frequency, recency, T) contribute identical likelihood terms and receive
identical predictions, so fits and predictions run on the distinct rows only; the weighted
likelihood over distinct rows equals the likelihood over customers exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

# odd 64-bit constants of the splitmix64 finaliser (Steele, Lea & Flood 2014), used to mix the bits
# of each column into one hash per row
_MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX_2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


@dataclass(frozen=True)
class CompressedRows:
    """Distinct rows of several aligned columns.

    Attributes
    ----------
    columns : tuple of ndarray, each shape (m,)
        The distinct rows, column by column, in lexicographic order (first column first).
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


def _row_hashes(columns: list[np.ndarray]) -> np.ndarray:
    """One 64-bit hash per row from the bits of every column (splitmix64 mixing), shape (n,)."""
    hashed = np.zeros(columns[0].shape[0], dtype=np.uint64)
    with np.errstate(over="ignore"):
        for column in columns:
            bits = np.ascontiguousarray(column, dtype=np.float64).view(np.uint64)
            z = (hashed ^ bits) + _GOLDEN
            z = (z ^ (z >> np.uint64(30))) * _MIX_1
            z = (z ^ (z >> np.uint64(27))) * _MIX_2
            hashed = z ^ (z >> np.uint64(31))
    return hashed


def _group_by_hash(columns: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray] | None:
    """(inverse, first row of each group) by hashing rows; None if two distinct rows share a hash.

    Hash grouping is linear in n, several times faster than sorting or pandas' multi-column groupby
    on millions of rows. A collision is checked for, not assumed away: every row must equal the
    first row of its group, bit for bit (so -0.0 and 0.0 would count as distinct rows, which only
    costs an extra row).
    """
    inverse, _ = pd.factorize(_row_hashes(columns))
    first = np.empty(int(inverse.max()) + 1 if inverse.size else 0, dtype=np.int64)
    first[inverse[::-1]] = np.arange(inverse.size - 1, -1, -1)
    for column in columns:
        bits = np.ascontiguousarray(column, dtype=np.float64).view(np.uint64)
        if not np.array_equal(bits, bits[first][inverse]):
            return None
    return inverse, first


def _group_exactly(columns: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    frame = pd.DataFrame({f"c{i}": c for i, c in enumerate(columns)})
    inverse = frame.groupby(list(frame.columns), sort=False).ngroup().to_numpy()
    first = np.empty(int(inverse.max()) + 1 if inverse.size else 0, dtype=np.int64)
    first[inverse[::-1]] = np.arange(inverse.size - 1, -1, -1)
    return inverse, first


def compress_rows(*columns: np.ndarray) -> CompressedRows:
    """Group aligned 1-d numeric arrays into distinct rows with counts.

    Parameters
    ----------
    *columns : ndarray, shape (n,)
        Aligned numeric columns (e.g. frequency, recency, T and optionally a segment code).

    Returns
    -------
    CompressedRows
        Distinct rows sorted lexicographically, so results summed over them do not depend on the
        order of the customers.
    """
    arrays = [np.asarray(c) for c in columns]
    grouped = _group_by_hash(arrays) or _group_exactly(arrays)
    inverse, first = grouped
    # sort the few distinct rows (np.lexsort takes its primary key last)
    order = np.lexsort([a[first] for a in reversed(arrays)])
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    first = first[order]
    inverse = rank[inverse]
    return CompressedRows(
        columns=tuple(a[first] for a in arrays),
        counts=np.bincount(inverse, minlength=first.size).astype(float),
        inverse=inverse,
    )
