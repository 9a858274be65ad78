"""The compiled passes of point scoring give exactly what the numpy expressions they replace give.

Each kernel (``formulas/fill_kernel.py``, ``formulas/spend_mean_kernel.py``,
``inference/group_kernel.py``, ``data/summary_kernel.py``, ``models/gather_kernel.py``) is checked
bit for bit against the numpy form it stands for, on the shapes the models pass (a point estimate
(1, n), draws (S, n), per-customer parameters) and the edge cases (NaN, empty, x == 0, q <= 1).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clvmodels.data.checks import check_rfm_summary
from clvmodels.data.summary_kernel import repeat_spends, rfm_rows_fine
from clvmodels.errors import DataError
from clvmodels.formulas import bgnbd, bgnbd_alive
from clvmodels.formulas.fill_kernel import expand_repeat, fill_where_no_repeat, repeat_rows
from clvmodels.formulas.spend_mean_kernel import expected_spend_cells
from clvmodels.inference import compress
from clvmodels.inference.group_kernel import group_rows_by_key, relabel
from clvmodels.models.gather_kernel import times_gathered

RNG = np.random.default_rng(20261202)


def _x(n, zeros=0.5):
    x = RNG.integers(1, 40, n).astype(float)
    x[RNG.random(n) < zeros] = 0.0
    return x


# ----- fill ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(7,), (1, 7), (4, 7)])
def test_fill_sets_exactly_the_customers_without_repeat_purchases(shape):
    x = np.array([0.0, 1.0, np.nan, 3.0, 0.0, 2.0, 0.0])
    out = RNG.normal(size=shape)
    expected = out.copy()
    np.copyto(expected, -np.inf, where=~(x > 0))
    np.testing.assert_array_equal(fill_where_no_repeat(out, x, -np.inf), expected)


def test_fill_of_other_layouts_and_of_nothing():
    x = np.array([0.0, 2.0, 0.0])
    column_major = np.asfortranarray(RNG.normal(size=(3, 3)))
    expected = column_major.copy()
    np.copyto(expected, 1.0, where=~(x > 0))
    np.testing.assert_array_equal(fill_where_no_repeat(column_major, x, 1.0), expected)
    assert fill_where_no_repeat(np.empty((2, 0)), x[:0], 1.0).shape == (2, 0)
    assert float(fill_where_no_repeat(np.array(0.5), np.array(0.0), 1.0)) == 1.0


def test_p_alive_of_customers_without_repeat_purchases_is_one_even_for_undefined_histories():
    """The masked form's semantics: x == 0 (or NaN) means alive, whatever the other columns."""
    x = np.array([0.0, 0.0, np.nan, 2.0])
    t_x = np.array([0.0, np.nan, 1.0, 10.0])
    T = np.array([1e300, 5.0, 5.0, 20.0])
    alive = bgnbd.p_alive(np.array([[50.0]]), np.array([[1e-3]]), np.array([[0.8]]),
                          np.array([[2.4]]), x, t_x, T)
    np.testing.assert_array_equal(alive[0, :3], 1.0)
    assert 0.0 < alive[0, 3] < 1.0
    assert np.isneginf(bgnbd._log_odds_dropout(0.2, 4.0, 0.8, 2.4, x, t_x, T)[:3]).all()


# ----- Gamma-Gamma expected spend ---------------------------------------------------------------
def _numpy_expected_spend(p, q, gamma, x, mbar):
    own = x * np.where(x > 0, mbar, 0.0)
    denominator = np.asarray(p * x + q - 1.0)
    positive = denominator > 0
    with np.errstate(divide="ignore"):
        return np.where(positive, p * (gamma + own) / np.where(positive, denominator, 1.0), np.inf)


@pytest.mark.parametrize("shapes", [((1, 1),) * 3, ((300, 1),) * 3, ((1, 1), (1, 500), (1, 1)),
                                    ((), (20, 1), ())])
def test_expected_spend_cells_equal_the_numpy_form(shapes):
    n = 500
    x = _x(n)
    mbar = RNG.gamma(3.0, 10.0, n)
    mbar[x == 0] = np.nan  # not read where x == 0
    p, q, gamma = (RNG.uniform(lo, hi, shape) if shape else float(RNG.uniform(lo, hi))
                   for (lo, hi), shape in zip([(1, 8), (0.5, 5), (5, 20)], shapes))
    cells = expected_spend_cells(p, q, gamma, x, mbar)
    expected = _numpy_expected_spend(p, q, gamma, x, mbar)
    assert cells.shape == expected.shape
    np.testing.assert_array_equal(cells, expected)
    assert np.isinf(cells).any() == bool((np.asarray(p * x + q - 1.0) <= 0).any())


def test_expected_spend_cells_leave_other_shapes_to_numpy():
    x, mbar = np.array([0.0, 2.0]), np.array([np.nan, 10.0])
    assert expected_spend_cells(2.0, 3.0, 10.0, x, mbar) is None  # numpy's shape would be (n,)
    assert expected_spend_cells(np.ones((2, 3)), 3.0, 10.0, x, mbar) is None  # not (S, 1) or (S, n)


# ----- grouping ---------------------------------------------------------------------------------
def _factorized(columns):
    inverse, _ = pd.factorize(compress._row_hashes(columns), use_na_sentinel=False)
    return inverse, compress._first_rows(inverse)


@pytest.mark.parametrize("n_columns", [1, 2, 4])
def test_hash_grouping_equals_factorize_of_the_keys(n_columns):
    """More than 1,024 groups (the table grows several times), read-only and writeable columns
    mixed, signed zeros and NaNs."""
    n = 50_000
    columns = [RNG.integers(0, 40, n).astype(float), np.round(RNG.uniform(0, 52, n), 1),
               RNG.integers(0, 3, n).astype(float), RNG.normal(size=n)][:n_columns]
    columns[0][:5] = [-0.0, 0.0, np.nan, np.nan, 0.0]
    columns[0].flags.writeable = False
    inverse, first = compress._group_by_hash(columns)
    expected_inverse, expected_first = _factorized(columns)
    np.testing.assert_array_equal(inverse, expected_inverse)
    np.testing.assert_array_equal(first, expected_first)


def test_hash_grouping_reports_a_collision():
    keys = np.zeros(3, np.uint64)
    bits = (np.array([1.0, 1.0, 2.0]).view(np.uint64),)
    assert group_rows_by_key(keys, bits) is None
    inverse, first = group_rows_by_key(keys, (np.array([1.0, 1.0, 1.0]).view(np.uint64),))
    np.testing.assert_array_equal(inverse, [0, 0, 0])
    np.testing.assert_array_equal(first, [0])
    empty = group_rows_by_key(np.zeros(0, np.uint64), (np.zeros(0, np.uint64),))
    assert empty[0].size == 0 and empty[1].size == 0


def test_relabel_equals_a_gather_and_a_bincount():
    inverse = RNG.integers(0, 300, 10_000)
    rank = RNG.permutation(300)
    labels, counts = relabel(inverse, rank)
    np.testing.assert_array_equal(labels, rank[inverse])
    np.testing.assert_array_equal(counts, np.bincount(rank[inverse], minlength=300).astype(float))


# ----- summary checks ---------------------------------------------------------------------------
def _valid_rows(n=1_000):
    x = _x(n)
    T = RNG.uniform(1.0, 52.0, n)
    t_x = np.where(x > 0, RNG.uniform(0.0, 1.0, n) * T, 0.0)
    return x, t_x, T


@pytest.mark.parametrize("column, value, problem", [
    (0, -1.0, "frequency must be a whole number"), (0, 1.5, "frequency must be a whole number"),
    (0, np.nan, "finite"), (0, np.inf, "finite"), (1, np.nan, "finite"), (2, np.inf, "finite"),
    (1, -0.5, "recency must lie between 0 and T"), (1, 60.0, "recency must lie between 0 and T"),
])
def test_the_one_pass_check_refuses_what_the_masks_name(column, value, problem):
    rows = list(_valid_rows())
    assert rfm_rows_fine(*rows)
    i = int(np.flatnonzero(rows[0] > 0)[3])
    rows[column] = rows[column].copy()
    rows[column][i] = value
    assert not rfm_rows_fine(*rows)
    summary = pd.DataFrame(dict(zip(("frequency", "recency", "T"), rows)))
    with pytest.raises(DataError, match=problem) as error:
        check_rfm_summary(summary)
    assert str(i) in str(error.value)


def test_the_one_pass_check_refuses_recency_without_repeat_purchases():
    x, t_x, T = _valid_rows()
    i = int(np.flatnonzero(x == 0)[0])
    t_x = t_x.copy()
    t_x[i] = 1.0
    assert not rfm_rows_fine(x, t_x, T)
    with pytest.raises(DataError, match="frequency 0 must have recency 0"):
        check_rfm_summary(pd.DataFrame({"frequency": x, "recency": t_x, "T": T}))


def test_text_columns_are_read_as_numbers_or_refused():
    x, t_x, T = _valid_rows(5)
    summary = pd.DataFrame({"frequency": x.astype(int).astype(str), "recency": t_x, "T": T})
    check_rfm_summary(summary)  # whole numbers written as text are numbers
    summary.loc[summary.index[0], "frequency"] = "two"
    with pytest.raises(DataError, match="finite"):
        check_rfm_summary(summary)


def test_repeat_spends_zero_the_non_buyers_and_count_bad_spends():
    x = np.array([0.0, 1.0, 2.0, 3.0, 0.0, 4.0])
    mbar = np.array([np.nan, 10.0, 0.0, np.inf, -3.0, 12.5])
    spends, n_bad = repeat_spends(x, mbar)
    np.testing.assert_array_equal(spends, np.where(x > 0, mbar, 0.0))
    assert n_bad == int(((x > 0) & ~(np.isfinite(mbar) & (mbar > 0))).sum()) == 2


# ----- gathered products ------------------------------------------------------------------------
@pytest.mark.parametrize("draws, factor_draws", [(1, 1), (5, 5), (5, 1)])
def test_times_gathered_equals_the_numpy_product(draws, factor_draws):
    alive = RNG.random((draws, 1_000))
    factor = RNG.random((factor_draws, 37))
    inverse = RNG.integers(0, 37, 1_000)
    np.testing.assert_array_equal(times_gathered(alive, factor, inverse), alive * factor[..., inverse])
    one_dimensional = times_gathered(alive[0], factor[0], inverse)  # numpy's broadcasting
    np.testing.assert_array_equal(one_dimensional, alive[0] * factor[0][inverse])


# ----- P(alive) of the repeat buyers only ---------------------------------------------------------
@pytest.mark.parametrize("params", [
    (0.243, 4.414, 0.793, 2.426),  # scalars: shape (n,)
    tuple(np.array([[v]]) for v in (0.243, 4.414, 0.793, 2.426)),  # the point estimate: (1, n)
    tuple(RNG.uniform(lo, hi, (6, 1)) for lo, hi in [(0.1, 1), (1, 10), (0.3, 2), (1, 5)]),  # draws
])
@pytest.mark.parametrize("zeros", [0.0, 0.56, 1.0])
def test_p_alive_of_the_repeat_buyers_only_equals_the_full_formula(params, zeros, monkeypatch):
    """Above _GATHER_FROM customers P(alive) is computed for the repeat buyers alone and expanded;
    the values are those of the formula on everybody, bit for bit, and so is the shape."""
    n = 20_000
    x = _x(n, zeros)
    T = RNG.uniform(1.0, 52.0, n)
    t_x = np.where(x > 0, RNG.uniform(0.0, 1.0, n) * T, 0.0)
    gathered = bgnbd.p_alive(*params, x, t_x, T)
    monkeypatch.setattr(bgnbd_alive, "_GATHER_FROM", 10 * n)
    everybody = bgnbd.p_alive(*params, x, t_x, T)
    assert gathered.shape == everybody.shape
    np.testing.assert_array_equal(gathered, everybody)
    np.testing.assert_array_equal(everybody[..., x == 0], 1.0)


def test_repeat_rows_and_their_expansion_round_trip():
    x = np.array([0.0, 3.0, np.nan, 1.0, 0.0])
    t_x, T = np.arange(5.0), np.arange(5.0) + 10
    index, (x_r, t_x_r, T_r) = repeat_rows(x, t_x, T)
    np.testing.assert_array_equal(index, [1, 3])
    np.testing.assert_array_equal(np.vstack([x_r, t_x_r, T_r]), [[3.0, 1.0], [1.0, 3.0], [11.0, 13.0]])
    expanded = expand_repeat(np.array([[0.25, 0.5], [0.75, 1.0]]), index, 5, -1.0)
    np.testing.assert_array_equal(expanded, [[-1, 0.25, -1, 0.5, -1], [-1, 0.75, -1, 1.0, -1]])
    nobody = np.zeros(4)
    index, gathered = repeat_rows(nobody, nobody, nobody + 1)
    assert index.size == 0 and [v.size for v in gathered] == [0, 0, 0]
    np.testing.assert_array_equal(expand_repeat(np.zeros((3, 0)), index, 4, 1.0), np.ones((3, 4)))
