"""compress_rows orders distinct rows lexicographically: the rank-key sort equals np.lexsort."""

import numpy as np
import pytest

from clvmodels.inference.compress import _lexicographic_order, compress_rows


@pytest.mark.parametrize("seed", range(5))
def test_rank_key_order_equals_lexsort(seed):
    rng = np.random.default_rng(seed)
    n = 5_000
    columns = [rng.integers(0, 30, n).astype(float), np.round(rng.gamma(2.0, 10.0, n), 1),
               rng.integers(0, 4, n).astype(float)]
    rows = np.unique(np.column_stack(columns), axis=0)
    rows = rows[rng.permutation(len(rows))]
    cols = [rows[:, j].copy() for j in range(rows.shape[1])]
    np.testing.assert_array_equal(_lexicographic_order(cols), np.lexsort(cols[::-1]))


def test_compressed_rows_sorted_counts_and_inverse():
    rng = np.random.default_rng(7)
    x = rng.integers(0, 5, 2_000).astype(float)
    m = rng.choice([1.5, 2.25, 3.0, 10.0], 2_000)
    out = compress_rows(x, m)
    pairs = np.column_stack(out.columns)
    np.testing.assert_array_equal(pairs, np.unique(np.column_stack([x, m]), axis=0))
    np.testing.assert_array_equal(out.columns[0][out.inverse], x)
    np.testing.assert_array_equal(out.columns[1][out.inverse], m)
    assert out.counts.sum() == 2_000
    np.testing.assert_array_equal(out.counts, np.bincount(out.inverse).astype(float))


def test_signed_zero_and_nan_rows_fall_back_to_lexsort():
    """-0.0 and 0.0 (and NaNs of different payloads) are separate rows that compare equal: the
    order falls back to np.lexsort, so it is still deterministic."""
    nan2 = np.array([0x7FF8000000000001], dtype=np.uint64).view(np.float64)[0]
    a = np.array([0.0, -0.0, 1.0, np.nan, nan2, 1.0])
    b = np.array([1.0, 1.0, 2.0, 3.0, 3.0, 0.5])
    np.testing.assert_array_equal(_lexicographic_order([a, b]), np.lexsort([b, a]))
    out = compress_rows(a, b)
    assert out.n_unique == 6


def test_wide_keys_fall_back_to_lexsort():
    rng = np.random.default_rng(3)
    cols = [rng.permutation(70_000).astype(float) for _ in range(4)]  # 70,000^4 > 2^62
    np.testing.assert_array_equal(_lexicographic_order(cols), np.lexsort(cols[::-1]))


def test_grouping_by_sorting_equals_grouping_by_hashing():
    """Mostly distinct rows (continuous spends) are grouped by sorting: the same distinct rows,
    counts and inverse as the hash grouping, duplicates and integer columns included."""
    from clvmodels.inference import compress

    rng = np.random.default_rng(11)
    n = 60_000
    x = rng.integers(1, 40, n).astype(float)
    spend = np.round(rng.gamma(3.0, 10.0, n), 6)
    spend[rng.integers(0, n, 500)] = 12.5  # some duplicates
    seg = rng.integers(0, 3, n)
    for columns in ([x, spend], [x, spend, seg]):
        assert compress._mostly_distinct(columns) and compress._sortable(columns)
        sorted_way = compress._compress_by_sorting(columns)
        inverse, first = compress._group_by_hash(columns)
        order = compress._lexicographic_order([c[first] for c in columns])
        for got, column in zip(sorted_way.columns, columns):
            np.testing.assert_array_equal(got, column[first][order])
            np.testing.assert_array_equal(got[sorted_way.inverse], column)
        np.testing.assert_array_equal(sorted_way.counts, np.bincount(inverse)[order].astype(float))
        np.testing.assert_array_equal(compress_rows(*columns).counts, sorted_way.counts)


def test_signed_zeros_keep_the_hash_grouping():
    from clvmodels.inference import compress

    values = np.random.default_rng(2).normal(size=40_000)
    values[:10], values[10:20] = -0.0, 0.0
    assert not compress._sortable([values])
    assert compress_rows(values).n_unique == np.unique(values).size + 1  # -0.0 and 0.0 kept apart
