"""Compiled grouping of rows by their hash keys, for :func:`clvmodels.inference.compress.compress_rows`.

One pass over the rows with an open-addressing table of group ids (linear probing, grown to keep
it at most half full), comparing a row with the first row of a group bit for bit: the same groups,
in the same order of first appearance, as ``pd.factorize`` of the keys followed by the check that
every row equals the first row of its group, without the factorize's general hash table and the
verifying gathers (a million (frequency, T) rows: ~3 ms against ~8 ms).
"""

from __future__ import annotations

import numba
import numpy as np

_JIT = {"cache": True, "nogil": True}


def group_rows_by_key(keys: np.ndarray, bits: tuple, overwrite_keys: bool = False
                      ) -> tuple[np.ndarray, np.ndarray] | None:
    """(inverse, first row of each group) of rows grouped by equal bits, or None on a collision.

    Parameters
    ----------
    keys : ndarray of uint64, shape (n,)
        One hash key per row (equal rows have equal keys).
    bits : tuple of ndarray of uint64, each shape (n,)
        The rows' columns as raw 64-bit patterns.
    overwrite_keys : bool
        Write the inverse into ``keys``' memory (a row's key is read before its group is
        written; the groups' keys are kept apart), saving an (n,) array: for a caller whose
        keys are a temporary. ``keys`` then holds garbage, also when None is returned.

    Returns
    -------
    inverse : ndarray of int64, shape (n,)
        Group of each row, numbered in order of first appearance.
    first : ndarray of int64, shape (number of groups,)
        The first row of each group.
    None
        If two rows with different bits share a key (the caller groups exactly instead).
    """
    n = keys.shape[0]
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    inverse = keys.view(np.int64) if overwrite_keys else np.empty(n, np.int64)
    first, n_groups = _group(keys, tuple(_read_only(b) for b in bits), inverse)
    if n_groups < 0:
        return None
    return inverse, first[:n_groups]


def _read_only(array: np.ndarray) -> np.ndarray:
    """A read-only view: the columns then share one numba type (a homogeneous tuple, which the
    kernel can index at run time), whether or not the caller's arrays are writeable."""
    view = array.view()
    view.flags.writeable = False
    return view


@numba.njit(**_JIT)
def _slot(key, mask):
    # splitmix64's finaliser: the low bits of the slot depend on every bit of the key
    h = key
    h ^= h >> np.uint64(30)
    h *= np.uint64(0xBF58476D1CE4E5B9)
    h ^= h >> np.uint64(27)
    h *= np.uint64(0x94D049BB133111EB)
    h ^= h >> np.uint64(31)
    return np.int64(h & mask)


@numba.njit(**_JIT)
def _grown(array, size):
    """``array`` (k, m) copied into a (k, size) array."""
    out = np.empty((array.shape[0], size), array.dtype)
    out[:, :array.shape[1]] = array
    return out


@numba.njit(**_JIT)
def _group(keys, bits, inverse):
    # each group's key and bits are kept in small arrays of their own, so a row is compared with
    # cached memory rather than with its group's first row somewhere in the input
    n, k = keys.shape[0], len(bits)
    size = 1024
    table = np.full(size, -1, np.int64)
    first = np.empty((1, 256), np.int64)
    group_keys = np.empty((1, 256), np.uint64)
    group_bits = np.empty((k, 256), np.uint64)
    n_groups = 0
    for i in range(n):
        key = keys[i]
        slot = _slot(key, np.uint64(size - 1))
        while True:
            g = table[slot]
            if g < 0:  # a new group
                if n_groups == first.shape[1]:
                    first = _grown(first, 2 * n_groups)
                    group_keys = _grown(group_keys, 2 * n_groups)
                    group_bits = _grown(group_bits, 2 * n_groups)
                first[0, n_groups] = i
                group_keys[0, n_groups] = key
                for c in range(k):
                    group_bits[c, n_groups] = bits[c][i]
                table[slot] = n_groups
                inverse[i] = n_groups
                n_groups += 1
                if 2 * n_groups > size:  # keep the table at most half full: rebuild it twice as large
                    size *= 2
                    table = np.full(size, -1, np.int64)
                    for h in range(n_groups):
                        s = _slot(group_keys[0, h], np.uint64(size - 1))
                        while table[s] >= 0:
                            s = (s + 1) & (size - 1)
                        table[s] = h
                break
            if group_keys[0, g] == key:
                for c in range(k):
                    if group_bits[c, g] != bits[c][i]:
                        return first[0], -1  # two distinct rows share a key
                inverse[i] = g
                break
            slot = (slot + 1) & (size - 1)
    return first[0], n_groups


def row_hashes(bits: tuple, multipliers: tuple) -> np.ndarray:
    """One 64-bit key per row: column by column, ``key = (key ^ bits ^ (bits >> 32)) * m_c``
    (wrapping), the multiplier ``m_c = multipliers[c % len(multipliers)]``; the loop of
    :func:`clvmodels.inference.compress._row_hashes` in one pass.

    Parameters
    ----------
    bits : tuple of ndarray of uint64, each shape (n,)
    multipliers : tuple of int
        Odd 64-bit constants.

    Returns
    -------
    ndarray of uint64, shape (n,)
    """
    factors = np.array([multipliers[c % len(multipliers)] for c in range(len(bits))], np.uint64)
    return _hashes(tuple(_read_only(b) for b in bits), factors)


@numba.njit(**_JIT)
def _hashes(bits, factors):
    n = bits[0].shape[0]
    out = np.zeros(n, np.uint64)
    for c in range(len(bits)):
        column, factor = bits[c], factors[c]
        for i in range(n):
            v = column[i]
            out[i] = (out[i] ^ v ^ (v >> np.uint64(32))) * factor
    return out


def relabel(inverse: np.ndarray, rank: np.ndarray, in_place: bool = False
            ) -> tuple[np.ndarray, np.ndarray]:
    """``rank[inverse]`` and the number of rows of each new label, in one pass.

    Parameters
    ----------
    inverse : ndarray of int64, shape (n,)
        Group of each row.
    rank : ndarray of int64, shape (number of groups,)
        New label of each group (a permutation).
    in_place : bool
        Write the labels into ``inverse`` when it is a writeable int64 C-contiguous array.

    Returns
    -------
    labels : ndarray of int64, shape (n,)
    counts : ndarray of float64, shape (number of groups,)
    """
    inverse = np.ascontiguousarray(inverse, np.int64)
    labels = inverse if in_place and inverse.flags.writeable else np.empty(inverse.shape[0], np.int64)
    counts = _relabel(inverse, np.ascontiguousarray(rank, np.int64), labels)
    return labels, counts


@numba.njit(**_JIT)
def _relabel(inverse, rank, labels):
    counts = np.zeros(rank.shape[0], np.float64)
    for i in range(inverse.shape[0]):
        g = rank[inverse[i]]
        labels[i] = g
        counts[g] += 1.0
    return counts
