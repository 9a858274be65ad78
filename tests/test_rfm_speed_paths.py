"""The fast aggregation paths give the same arrays as the sorting path and as the SQL.

``sql.customer_totals_numpy`` sends dense keys to the compiled counting-sort kernel
(:mod:`clvmodels.data.totals_kernel`) and sparse keys to one sort of the log
(``sql.customer_totals_sorted``). Every column must be identical (integers: no tolerance), for
every policy, with holdout days, attributes, long histories (the kernel's merge-sort branch) and
keys with gaps.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clvmodels import rfm_summary
from clvmodels.data import sql, totals_kernel


def _log(seed: int, n_rows: int, n_keys: int, negative: bool = False, n_attributes: int = 0,
         long_history: bool = False):
    rng = np.random.default_rng(seed)
    customer = rng.integers(0, n_keys, n_rows)
    if long_history:  # one customer with many rows, several per day: the merge-sort branch
        customer[: n_rows // 3] = 7
    day = rng.integers(18_000, 18_060, n_rows)
    micro = rng.integers(1, 5_000_000, n_rows)
    if negative:  # returns netted: some days net below zero or to exactly zero
        micro = np.where(rng.random(n_rows) < 0.3, -micro, micro)
        micro[:10] = 0
    attributes = []
    for _ in range(n_attributes):
        codes = rng.integers(-1, 3, n_rows)
        attributes.append(codes.astype(np.int64))
    return customer.astype(np.int64), day.astype(np.int64), micro.astype(np.int64), attributes


def _same(a: dict, b: dict) -> None:
    assert list(a) == list(b)
    for name in a:
        assert a[name].dtype == b[name].dtype, name
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("net_returns,keep_zero_days", [(False, False), (True, False), (True, True)])
@pytest.mark.parametrize("calibration_day", [18_059, 18_030, 18_000])
@pytest.mark.parametrize("long_history", [False, True])
def test_kernel_equals_sorting_path(seed, net_returns, keep_zero_days, calibration_day,
                                    long_history):
    customer, day, micro, attributes = _log(seed, 3_000, 400, negative=net_returns,
                                            n_attributes=2, long_history=long_history)
    n_keys = int(customer.max()) + 1
    assert totals_kernel.usable(customer, n_keys)
    for attrs in ([], attributes):
        options = {"net_returns": net_returns, "keep_zero_days": keep_zero_days}
        fast = totals_kernel.customer_totals_dense(customer, day, micro, attrs, n_keys,
                                                   calibration_day, **options)
        sorted_path = sql.customer_totals_sorted(customer, day, micro, attrs, calibration_day,
                                                 **options)
        _same(fast, sorted_path)


def test_keys_with_gaps_and_customers_after_the_calibration_end():
    """Keys never used, and customers whose first purchase is after the calibration day, leave no
    row; the dispatcher picks the kernel for dense keys and the sort for sparse ones."""
    customer = np.array([0, 0, 5, 5, 5, 9], np.int64)
    day = np.array([10, 10, 12, 11, 20, 30], np.int64)
    micro = np.array([1, 2, 3, 4, 5, 6], np.int64)
    totals = sql.customer_totals_numpy(customer, day, micro, [], calibration_day=15)
    # hand-checked: customer 0 buys once (day 10, 1 + 2); customer 5 on days 11, 12 and 20
    # (holdout); customer 9 first buys on day 30, after the calibration day: no row
    expected = {"customer_id": [0, 5], "first_day": [10, 11], "last_day": [10, 12],
                "n_days": [1, 2], "total_micro": [3, 7], "first_micro": [3, 4],
                "n_holdout_days": [0, 1], "holdout_micro": [0, 5]}
    for name, values in expected.items():
        np.testing.assert_array_equal(totals[name], values, err_msg=name)
    sparse = customer * 10**9  # a table of 9e9 keys: the sorting path
    assert not totals_kernel.usable(sparse, int(sparse.max()) + 1)
    by_sort = sql.customer_totals_numpy(sparse, day, micro, [], calibration_day=15)
    np.testing.assert_array_equal(by_sort["customer_id"], [0, 5 * 10**9])
    for name in expected:
        if name != "customer_id":
            np.testing.assert_array_equal(by_sort[name], totals[name], err_msg=name)


def test_every_day_netting_away_leaves_no_customer():
    customer = np.array([0, 0, 1], np.int64)
    day = np.array([3, 3, 4], np.int64)
    micro = np.array([5, -5, -1], np.int64)
    fast = totals_kernel.customer_totals_dense(customer, day, micro, [], 2, 10, net_returns=True)
    assert all(len(v) == 0 for v in fast.values())


@pytest.mark.parametrize("str_ids", [False, True])
def test_summary_by_kernel_equals_duckdb(str_ids):
    """The whole summary through the kernel (engine "pandas") equals DuckDB's, attributes too."""
    rng = np.random.default_rng(3)
    n = 5_000
    ids = rng.integers(0, 900, n)
    log = pd.DataFrame({
        "customer_id": [f"c{i:04d}" for i in ids] if str_ids else ids,
        "date": np.datetime64("2020-01-01", "s") + rng.integers(0, 400 * 86_400, n).astype(
            "timedelta64[s]"),
        "amount": np.round(rng.lognormal(3, 1, n), 2) + 0.01,
        "channel": np.array(["web", "shop", "app"])[ids % 3],
    })
    options = {"monetary_value_col": "amount", "attribute_cols": ["channel"]}
    by_kernel = rfm_summary(log, engine="pandas", **options)
    by_duckdb = rfm_summary(log, engine="duckdb", **options)
    pd.testing.assert_frame_equal(by_kernel, by_duckdb, check_exact=True)
    assert by_kernel["frequency"].sum() > 0


def test_compiled_to_micro_rounds_as_numpy_and_sql_do():
    """Half-up rounding at the exact half-millionth boundaries and either side of them."""
    from clvmodels.data import row_kernels

    rng = np.random.default_rng(0)
    halves = np.arange(-20_000, 20_000) / 1e6 + 0.5e-6
    values = np.concatenate([halves, np.nextafter(halves, np.inf), np.nextafter(halves, -np.inf),
                             np.arange(-20_000, 20_000) / 100, rng.uniform(-1e11, 1e11, 50_000),
                             np.round(rng.lognormal(3, 1, 50_000), 2)])
    np.testing.assert_array_equal(row_kernels.to_micro(values), sql.to_micro(values))


def test_one_pass_amount_check_is_the_numpy_test():
    from clvmodels.data import row_kernels
    from clvmodels.data.transactions import MAX_AMOUNT, ZERO_AMOUNT_BELOW

    def numpy_test(amount):
        size = np.abs(amount)
        return bool(((size >= ZERO_AMOUNT_BELOW) & (size < MAX_AMOUNT)).all() and (amount > 0).all())

    fine = np.array([0.01, 12.5, 1e11])
    for bad in (np.nan, np.inf, -np.inf, 0.0, 4e-7, -3.0, 1e12, -1e-9):
        with_bad = np.r_[fine, bad]
        assert row_kernels.all_amounts_fine(with_bad, ZERO_AMOUNT_BELOW, MAX_AMOUNT) is False
        assert numpy_test(with_bad) is False
    assert row_kernels.all_amounts_fine(fine, ZERO_AMOUNT_BELOW, MAX_AMOUNT) is True
    assert numpy_test(fine) is True


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns", "m"])
def test_days_by_integer_division_equal_the_datetime_cast(unit):
    """Floor division gives the cast's days, before 1970 (negative values) too."""
    from clvmodels.data.frame_log import _days_since_epoch

    rng = np.random.default_rng(1)
    seconds = rng.integers(-2 * 10**9, 4 * 10**9, 20_000)
    seconds[:4] = [-1, 0, 86_399, -86_400]
    stamps = seconds.astype("datetime64[s]").astype(f"datetime64[{unit}]")
    np.testing.assert_array_equal(_days_since_epoch(stamps),
                                  stamps.astype("datetime64[D]").view(np.int64))


@pytest.mark.parametrize("net_returns", [False, True])
def test_kernel_across_many_key_blocks(net_returns):
    """Keys spanning several blocks of the two-level counting sort (2**15 keys a block), with an
    empty block in the middle and the last key in a block of its own."""
    customer, day, micro, attributes = _log(5, 200_000, 100_000, negative=net_returns,
                                            n_attributes=1)
    customer[(customer >= 40_000) & (customer < 70_000)] = 3  # block 1 left without rows
    customer[-1] = 2**17  # alone in block 4
    n_keys = int(customer.max()) + 1
    assert totals_kernel.usable(customer, n_keys)
    for attrs in ([], attributes):
        fast = totals_kernel.customer_totals_dense(customer, day, micro, attrs, n_keys, 18_040,
                                                   net_returns=net_returns)
        _same(fast, sql.customer_totals_sorted(customer, day, micro, attrs, 18_040,
                                               net_returns=net_returns))


def test_sparse_keys_of_a_small_log_are_renumbered_for_the_kernel():
    customer, day, micro, attributes = _log(6, 2_000, 300, n_attributes=1)
    sparse = customer * 7_919 + 10**7  # a key table far larger than the log
    assert not totals_kernel.usable(sparse, int(sparse.max()) + 1)
    by_dispatch = sql.customer_totals_numpy(sparse, day, micro, attributes, 18_040)
    _same(by_dispatch, sql.customer_totals_sorted(sparse, day, micro, attributes, 18_040))
