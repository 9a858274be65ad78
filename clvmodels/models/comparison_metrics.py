"""The statistics of a model comparison, as plain functions of arrays (no models, no pandas).

- :func:`information_criteria`: AIC and BIC from a log-likelihood;
- :func:`tail_start`: where the period-transactions histogram pools its tail, the same bins for
  every model compared, so that their chi-squares are comparable;
- :func:`pool_tail`, :func:`chi_square`: Pearson's statistic of observed vs expected counts, with
  its degrees of freedom and p-value;
- :func:`holdout_errors`: per-customer and aggregate errors of holdout predictions;
- :func:`mape`: mean absolute percentage error of a curve (the tracking error).

Each function is checked by hand in ``tests/test_model_comparison_metrics.py``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy.special import chdtrc


def information_criteria(log_likelihood: float, n_params: int, n_obs: float) -> tuple[float, float]:
    """AIC and BIC of a fit.

    Parameters
    ----------
    log_likelihood : float
        Maximised log-likelihood (natural log).
    n_params : int
        Number of estimated parameters k.
    n_obs : float
        Number of independent observations n: customers, for these models (each customer's
        history is one likelihood term).

    Returns
    -------
    (float, float)
        ``AIC = 2k - 2 LL`` (Akaike 1974) and ``BIC = k ln(n) - 2 LL`` (Schwarz 1978); lower is
        better for both.
    """
    aic = 2.0 * n_params - 2.0 * log_likelihood
    bic = n_params * np.log(n_obs) - 2.0 * log_likelihood
    return float(aic), float(bic)


def tail_start(expected: np.ndarray, max_frequency: int, min_expected: float) -> int:
    """The first count of the pooled tail bin, common to every model.

    Bins are ``0, 1, ..., K-1`` and ``K+`` (K or more). Starting from ``K = max_frequency``, the
    tail is widened (K lowered by one) while any model expects fewer than ``min_expected``
    customers in any bin (Cochran's rule of thumb is 5), down to K = 1.

    Parameters
    ----------
    expected : ndarray, shape (n_models, max_frequency + 1)
        Expected customers with 0, 1, ..., max_frequency - 1 and max_frequency+ repeat purchases.
    max_frequency : int
        Widest tail start allowed (>= 1).
    min_expected : float
        Smallest expected count accepted in a bin; 0 keeps ``max_frequency``.

    Returns
    -------
    int
        K; a bin may still expect fewer than ``min_expected`` at K = 1 (the caller reports it).
    """
    expected = np.atleast_2d(np.asarray(expected, float))
    for k in range(int(max_frequency), 0, -1):
        pooled = np.concatenate([expected[:, :k], expected[:, k:].sum(axis=1, keepdims=True)], axis=1)
        if pooled.min() >= min_expected:
            return k
    return 1


def pool_tail(counts: np.ndarray, k: int) -> np.ndarray:
    """Counts of bins ``0..max`` as bins ``0, ..., k-1, k+``: shape (..., k + 1)."""
    counts = np.asarray(counts, float)
    return np.concatenate([counts[..., :k], counts[..., k:].sum(axis=-1, keepdims=True)], axis=-1)


class ChiSquare(NamedTuple):
    """Pearson's chi-square of one model: statistic, degrees of freedom, p-value (NaN if df < 1)."""

    statistic: float
    df: int
    p_value: float


def chi_square(observed: np.ndarray, expected: np.ndarray, n_params: int) -> ChiSquare:
    """Pearson's chi-square of observed vs expected counts.

    ``sum_j (O_j - E_j)^2 / E_j`` with ``df = bins - 1 - n_params``. The parameters were
    estimated by maximum likelihood on the ungrouped histories, not by minimum chi-square on these
    bins, so chi-square(df) is an approximation: the statistic's null distribution lies between
    chi-square(bins - 1 - k) and chi-square(bins - 1) (Chernoff & Lehmann 1954), and the p-value
    here is the smaller, conservative-for-the-model one.

    Parameters
    ----------
    observed, expected : ndarray, shape (bins,)
        Counts per bin; ``expected`` > 0.
    n_params : int
        Parameters estimated from the data.

    Returns
    -------
    ChiSquare
    """
    observed = np.asarray(observed, float)
    expected = np.asarray(expected, float)
    statistic = float(np.sum((observed - expected) ** 2 / expected))
    df = int(observed.size - 1 - n_params)
    p_value = float(chdtrc(df, statistic)) if df >= 1 else float("nan")
    return ChiSquare(statistic, df, p_value)


def holdout_errors(expected: np.ndarray, actual: np.ndarray) -> dict[str, float]:
    """Errors of per-customer holdout predictions.

    Parameters
    ----------
    expected : ndarray, shape (n,)
        Each customer's expected purchases in the holdout given the calibration history.
    actual : ndarray, shape (n,)
        Each customer's purchases in the holdout.

    Returns
    -------
    dict
        ``holdout_mae`` (mean |E_i - y_i|), ``holdout_rmse`` (sqrt of the mean squared error),
        ``holdout_expected`` (sum of E_i), ``holdout_actual`` (sum of y_i), ``holdout_error``
        (expected - actual totals: positive means over-forecast) and ``holdout_error_pct``
        (that error in percent of the actual total; NaN when nobody bought in the holdout).
    """
    expected = np.asarray(expected, float)
    actual = np.asarray(actual, float)
    diff = expected - actual
    total_expected, total_actual = float(expected.sum()), float(actual.sum())
    error = total_expected - total_actual
    return {
        "holdout_mae": float(np.mean(np.abs(diff))),
        "holdout_rmse": float(np.sqrt(np.mean(diff ** 2))),
        "holdout_expected": total_expected,
        "holdout_actual": total_actual,
        "holdout_error": error,
        "holdout_error_pct": 100.0 * error / total_actual if total_actual > 0 else float("nan"),
    }


def mape(expected: np.ndarray, actual: np.ndarray) -> float:
    """Mean absolute percentage error ``100 * mean(|E_t - A_t| / A_t)`` over points with A_t > 0.

    Points where nothing has happened yet (A_t = 0, e.g. the first days of a cumulative curve)
    are left out, since their percentage error is undefined; NaN if no point is left.
    """
    expected = np.asarray(expected, float)
    actual = np.asarray(actual, float)
    keep = actual > 0
    if not keep.any():
        return float("nan")
    return float(100.0 * np.mean(np.abs(expected[keep] - actual[keep]) / actual[keep]))
