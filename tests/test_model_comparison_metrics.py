"""The statistics of clvmodels.models.comparison_metrics, each on a tiny example checked by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from clvmodels.models import comparison_metrics as m


def test_aic_and_bic_by_hand():
    """LL = -100, k = 2, n = 50: AIC = 2*2 + 200 = 204; BIC = 2 ln 50 + 200 = 207.8240460."""
    aic, bic = m.information_criteria(-100.0, 2, 50)
    assert aic == 204.0
    assert bic == pytest.approx(200.0 + 2 * 3.912023005428146, abs=1e-12)
    assert bic == pytest.approx(207.8240460108563, abs=1e-9)


def test_chi_square_by_hand():
    """O = (10, 20, 30), E = (12, 18, 30): 4/12 + 4/18 + 0 = 5/9; df = 3 bins - 1 - 1 parameter = 1;
    for one degree of freedom P(chi2 > x) = erfc(sqrt(x / 2))."""
    result = m.chi_square([10, 20, 30], [12, 18, 30], n_params=1)
    assert result.statistic == pytest.approx(5 / 9, abs=1e-12)
    assert result.df == 1
    assert result.p_value == pytest.approx(math.erfc(math.sqrt(5 / 18)), abs=1e-12)


def test_chi_square_two_degrees_of_freedom_by_hand():
    """For two degrees of freedom P(chi2 > x) = exp(-x / 2): O = (5, 15, 10, 20), E = (10, 10, 10, 20)
    gives 25/10 + 25/10 = 5 with df = 4 - 1 - 1 = 2, p = exp(-2.5)."""
    result = m.chi_square([5, 15, 10, 20], [10, 10, 10, 20], n_params=1)
    assert result.statistic == pytest.approx(5.0)
    assert (result.df, result.p_value) == (2, pytest.approx(math.exp(-2.5), abs=1e-12))


def test_chi_square_without_degrees_of_freedom_has_no_p_value():
    """3 bins and 2 parameters: df = 0, so no reference distribution: the p-value is NaN, not 1."""
    result = m.chi_square([10, 20, 30], [12, 18, 30], n_params=2)
    assert result.df == 0 and math.isnan(result.p_value)
    assert result.statistic == pytest.approx(5 / 9)


def test_tail_start_widens_the_tail_until_every_model_expects_enough():
    """Bins 0..3, 4+ (max_frequency 4). Model a expects (50, 20, 8, 3, 1): at K = 4 bin 3 holds 3
    and 4+ holds 1, at K = 3 the tail 3+ holds 4, both < 5; K = 2 gives (50, 20, 12). Model b
    (60, 25, 4, 1, 0) at K = 2 gives (60, 25, 5): enough. Model c (60, 25, 3, 1, 0) has 2+ = 4, so
    a and c together pool at K = 1: the same bins for both."""
    a = [50, 20, 8, 3, 1]
    assert m.tail_start(np.array([a]), 4, 5.0) == 2
    b = [60, 25, 4, 1, 0]
    assert m.tail_start(np.array([b]), 4, 5.0) == 2
    c = [60, 25, 3, 1, 0]
    assert m.tail_start(np.array([a, c]), 4, 5.0) == 1
    assert m.tail_start(np.array([a]), 4, 0.0) == 4     # no rule: the widest tail start kept


def test_pool_tail_sums_the_tail():
    assert m.pool_tail(np.array([5, 4, 3, 2, 1]), 2).tolist() == [5, 4, 6]
    assert m.pool_tail(np.array([[5, 4, 3], [1, 1, 1]]), 1).tolist() == [[5, 7], [1, 2]]


def test_holdout_errors_by_hand():
    """Expected (1, 2, 0), actual (0, 2, 2): errors (1, 0, -2): MAE 1, RMSE sqrt(5/3); totals 3 vs 4,
    error -1 = -25 % (under-forecast)."""
    e = m.holdout_errors([1.0, 2.0, 0.0], [0, 2, 2])
    assert e["holdout_mae"] == pytest.approx(1.0)
    assert e["holdout_rmse"] == pytest.approx(math.sqrt(5 / 3))
    assert (e["holdout_expected"], e["holdout_actual"], e["holdout_error"]) == (3.0, 4.0, -1.0)
    assert e["holdout_error_pct"] == pytest.approx(-25.0)


def test_holdout_error_percent_is_undefined_without_holdout_purchases():
    e = m.holdout_errors([0.5, 0.5], [0, 0])
    assert e["holdout_error"] == 1.0 and math.isnan(e["holdout_error_pct"])


def test_mape_leaves_out_points_with_nothing_yet():
    """(|11 - 10| / 10 + |18 - 20| / 20) / 2 = 10 %; the first point (actual 0) is left out."""
    assert m.mape([3.0, 11.0, 18.0], [0, 10, 20]) == pytest.approx(10.0)
    assert math.isnan(m.mape([1.0], [0]))
