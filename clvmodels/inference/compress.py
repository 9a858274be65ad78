"""Compression of customers to distinct rows with counts.

Customers with identical (frequency, recency, T) contribute identical likelihood terms and receive
identical predictions, so fits and predictions run on the distinct rows only; the weighted
likelihood over distinct rows equals the likelihood over customers exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

# odd 64-bit multipliers (splitmix64's), one per column position, combining a row's bits into one key
_MULTIPLIERS = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB))


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
    """One 64-bit key per row, shape (n,): column by column, the running key xor the column's bits
    (high half folded into the low half, where doubles of small numbers differ) times an odd constant.

    Distinct rows may share a key (the grouping checks for that); the hash table of
    ``pd.factorize`` mixes the keys further, so no full avalanche is needed here.
    """
    hashed = np.zeros(columns[0].shape[0], dtype=np.uint64)
    with np.errstate(over="ignore"):
        for i, column in enumerate(columns):
            bits = np.ascontiguousarray(column, dtype=np.float64).view(np.uint64)
            hashed ^= bits ^ (bits >> np.uint64(32))
            hashed *= _MULTIPLIERS[i % 3]
    return hashed


def _first_rows(inverse: np.ndarray) -> np.ndarray:
    """Index of the first row of each group, shape (number of groups,)."""
    first = np.empty(int(inverse.max()) + 1 if inverse.size else 0, dtype=np.int64)
    first[inverse[::-1]] = np.arange(inverse.size - 1, -1, -1)  # the last write is the first row
    return first


def _group_by_hash(columns: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray] | None:
    """(inverse, first row of each group) by hashing rows; None if two distinct rows share a hash.

    Hash grouping is linear in n, several times faster than sorting or pandas' multi-column groupby
    on millions of rows. A collision is checked for, not assumed away: every row must equal the
    first row of its group, bit for bit (so -0.0 and 0.0 would count as distinct rows, which only
    costs an extra row).
    """
    inverse, _ = pd.factorize(_row_hashes(columns), use_na_sentinel=False)
    first = _first_rows(inverse)
    for column in columns:
        bits = np.ascontiguousarray(column, dtype=np.float64).view(np.uint64)
        if not np.array_equal(bits, bits[first][inverse]):
            return None
    return inverse, first


def _group_exactly(columns: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    frame = pd.DataFrame({f"c{i}": c for i, c in enumerate(columns)})
    inverse = frame.groupby(list(frame.columns), sort=False).ngroup().to_numpy()
    return inverse, _first_rows(inverse)


def _lexicographic_order(columns: list[np.ndarray]) -> np.ndarray:
    """The order that sorts distinct rows lexicographically (first column first), as np.lexsort.

    Each column is replaced by the rank of its value among the column's distinct values and the
    ranks are combined into one integer key (mixed radix), so one vectorised argsort of integers
    does the work: at 443,000 distinct rows of two columns 16 ms instead of np.lexsort's 47 ms.
    Distinct rows have distinct keys unless they differ only in the sign of a zero or a NaN's
    payload (rows that compare equal); the keys are checked, and such rows (and keys that would
    not fit in 62 bits) are ordered by np.lexsort instead.
    """
    key, span = np.zeros(columns[0].shape[0], dtype=np.int64), 1
    for column in columns:
        values, rank = np.unique(column, return_inverse=True)
        span *= max(values.size, 1)
        if span >= 2**62:
            return np.lexsort(columns[::-1])
        key *= values.size
        key += rank.reshape(-1)
    order = np.argsort(key)
    if key.size > 1 and not np.all(np.diff(key[order]) > 0):
        return np.lexsort(columns[::-1])
    return order


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
    order = _lexicographic_order([a[first] for a in arrays])
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    first = first[order]
    inverse = rank[inverse]
    return CompressedRows(
        columns=tuple(a[first] for a in arrays),
        counts=np.bincount(inverse, minlength=first.size).astype(float),
        inverse=inverse,
    )
