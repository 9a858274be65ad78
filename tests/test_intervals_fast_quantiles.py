"""interval_bounds sorts along the draw axis instead of calling np.quantile: same numbers, bit for bit."""

import numpy as np
import pytest

from clvmodels.models.intervals import interval_bounds, interval_quantiles


def _numpy(values, level, method):
    lo, hi = interval_quantiles(level)
    return np.quantile(values, [lo, hi], axis=0, method=method)


@pytest.mark.parametrize("method", ["linear", "inverted_cdf"])
@pytest.mark.parametrize("n_draws", [1, 2, 3, 7, 20, 299, 300, 501])
@pytest.mark.parametrize("level", [0.5, 0.8, 0.9, 0.95, 0.999])
def test_equals_numpy_quantile_bit_for_bit(method, n_draws, level):
    rng = np.random.default_rng(n_draws)
    continuous = rng.gamma(0.7, 3.0, size=(n_draws, 257))
    counts = rng.poisson(1.5, size=(n_draws, 257)).astype(float)  # ties everywhere
    for values in (continuous, counts, continuous[:, :1], continuous.reshape(n_draws, 257, 1)[:, :5]):
        lower, upper = interval_bounds(values, level, method)
        want = _numpy(values, level, method)
        assert lower.shape == want[0].shape and upper.shape == want[1].shape
        np.testing.assert_array_equal(lower, want[0])
        np.testing.assert_array_equal(upper, want[1])


@pytest.mark.parametrize("method", ["linear", "inverted_cdf"])
def test_nan_and_inf_columns_as_numpy(method):
    values = np.random.default_rng(1).normal(size=(50, 6))
    values[3, 1] = np.nan
    values[:, 2] = np.inf
    values[10, 3] = -np.inf
    values[:25, 4] = np.inf
    with np.errstate(invalid="ignore"):
        lower, upper = interval_bounds(values, 0.9, method)
        want = _numpy(values, 0.9, method)
    np.testing.assert_array_equal(lower, want[0])
    np.testing.assert_array_equal(upper, want[1])
    assert np.isnan(lower[1]) and np.isnan(upper[1])


def test_broadcast_and_integer_inputs_fall_back_to_numpy():
    row = np.linspace(0.0, 1.0, 9)
    values = np.broadcast_to(row, (30, 9))  # read-only view, as scoring passes for constants
    lower, upper = interval_bounds(values, 0.9)
    np.testing.assert_array_equal(lower, row)
    np.testing.assert_array_equal(upper, row)
    ints = np.arange(40).reshape(20, 2)
    lower, upper = interval_bounds(ints, 0.9, "inverted_cdf")
    want = _numpy(ints, 0.9, "inverted_cdf")
    np.testing.assert_array_equal(lower, want[0])
    np.testing.assert_array_equal(upper, want[1])
