"""Posterior predictive check: how many customers make 0, 1, 2, ... repeat purchases in their
observed window, as the fitted BG/NBD expects, as simulated, and as observed.

This is the calibration-period histogram of Fader, Hardie & Lee (2005), Figure 3, with
uncertainty: the *expected* count is ``sum_i P(X(T_i) = n)`` (FHL 2005 eq. 8) averaged over
posterior draws, with its interval over draws (parameter uncertainty); the *simulated* interval
comes from replicated data sets (one simulated purchase count per customer per draw), so it also
carries the sampling noise a real data set has. An observed bar far outside the simulated
interval points at model misfit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from clvmodels.errors import DataError
from clvmodels.models.intervals import interval_quantiles

_NAMES = ("r", "alpha", "a", "b")


def posterior_predictive_histogram(idata, T_values, *, observed_frequency=None, segment=None,
                                   max_frequency: int = 7, n_draws: int = 100, level: float = 0.9,
                                   seed=0) -> pd.DataFrame:
    """Expected, simulated and observed histogram of repeat-purchase counts (BG/NBD).

    Parameters
    ----------
    idata : arviz.InferenceData
        A BG/NBD fit (posterior ``r, alpha, a, b``, pooled or by segment).
    T_values : array_like, shape (n,)
        Each customer's observation window (the summary's ``T``), in the fit's time unit.
    observed_frequency : array_like of int, shape (n,), optional
        Each customer's observed repeat purchases (the summary's ``frequency``).
    segment : array_like of int, shape (n,), optional
        Segment code of each customer; required when the fit is pooled by segment.
    max_frequency : int
        Counts of ``max_frequency`` or more share the last bin, labelled ``"7+"`` for 7.
    n_draws : int
        Posterior draws used (evenly thinned); each simulates one replicated data set.
    level : float
        Coverage of the intervals.
    seed : int, optional

    Returns
    -------
    pandas.DataFrame
        Index ``frequency`` ("0", "1", ..., "7+"); columns ``expected``, ``expected_lower``,
        ``expected_upper``, ``simulated_mean``, ``simulated_lower``, ``simulated_upper`` and,
        when given, ``observed`` (numbers of customers).
    """
    from clvmodels.formulas.bgnbd import purchase_probability_new

    T_values = np.asarray(T_values, float)
    params = _thinned_params(idata, n_draws)
    per_customer = _per_customer(params, segment, T_values.size)
    n_bins = int(max_frequency) + 1
    lo, hi = interval_quantiles(level)

    # expected counts per draw, on distinct (segment, T) pairs weighted by their customers
    key = np.column_stack([T_values, np.zeros_like(T_values) if segment is None else segment])
    distinct, inverse, counts = np.unique(key, axis=0, return_inverse=True, return_counts=True)
    first = np.zeros(distinct.shape[0], np.int64)
    first[inverse.ravel()[::-1]] = np.arange(T_values.size)[::-1]
    p_distinct = {k: v[:, first] if v.shape[1] > 1 else v for k, v in per_customer.items()}
    expected = np.empty((n_bins, params["r"].shape[0]))
    for n in range(n_bins - 1):
        prob = purchase_probability_new(*(p_distinct[k] for k in _NAMES), distinct[:, 0], n)
        expected[n] = prob @ counts
    expected[-1] = T_values.size - expected[:-1].sum(axis=0)

    simulated = _simulate_histograms(per_customer, T_values, n_bins, np.random.default_rng(seed))
    frame = pd.DataFrame({
        "expected": expected.mean(axis=1),
        "expected_lower": np.quantile(expected, lo, axis=1),
        "expected_upper": np.quantile(expected, hi, axis=1),
        "simulated_mean": simulated.mean(axis=1),
        "simulated_lower": np.quantile(simulated, lo, axis=1),
        "simulated_upper": np.quantile(simulated, hi, axis=1),
    }, index=pd.Index([str(n) for n in range(n_bins - 1)] + [f"{n_bins - 1}+"], name="frequency"))
    if observed_frequency is not None:
        observed = np.minimum(np.asarray(observed_frequency, np.int64), n_bins - 1)
        frame.insert(0, "observed", np.bincount(observed, minlength=n_bins)[:n_bins])
    return frame


def _thinned_params(idata, n_draws: int) -> dict[str, np.ndarray]:
    """Evenly thinned posterior draws: name -> (S,) or (S, n_segments)."""
    post = idata.posterior
    missing = [k for k in _NAMES if k not in post]
    if missing:
        raise DataError(f"the posterior lacks {missing}: posterior_predictive_histogram needs a BG/NBD fit")
    stacked = {k: post[k].stack(sample=("chain", "draw")).transpose("sample", ...).to_numpy() for k in _NAMES}
    total = stacked["r"].shape[0]
    take = np.linspace(0, total - 1, num=min(int(n_draws), total)).round().astype(int)
    return {k: v[take] for k, v in stacked.items()}


def _per_customer(params: dict, segment, n: int) -> dict[str, np.ndarray]:
    """Parameters broadcastable to (S, n): (S, 1) when pooled, (S, n) by segment."""
    if params["r"].ndim == 1:
        return {k: v[:, None] for k, v in params.items()}
    if segment is None:
        raise DataError("this fit is pooled by segment: pass segment= (each customer's segment code)")
    segment = np.asarray(segment, np.int64)
    if segment.shape != (n,):
        raise DataError(f"segment must have one code per customer ({n}); got shape {segment.shape}")
    return {k: v[:, segment] for k, v in params.items()}


def _simulate_histograms(params: dict, T_values: np.ndarray, n_bins: int, rng) -> np.ndarray:
    """Histogram of X(T_i) for one replicated data set per draw, shape (n_bins, S).

    A new customer makes Poisson(lambda t) purchases while alive and drops out right after each
    repeat purchase with probability p, so X(t) = min(Poisson(lambda t), Geometric(p)) with the
    geometric on {1, 2, ...} (FHL 2005, section 3).
    """
    n_draws = params["r"].shape[0]
    n = T_values.size
    out = np.empty((n_bins, n_draws))
    for s in range(n_draws):
        r, alpha, a, b = (np.broadcast_to(params[k][s], (n,)) for k in _NAMES)
        lam = rng.gamma(r, 1.0 / alpha)
        p = np.maximum(rng.beta(a, b), np.finfo(float).tiny)  # geometric needs p > 0
        count = np.minimum(rng.poisson(lam * T_values), rng.geometric(p))
        out[:, s] = np.bincount(np.minimum(count, n_bins - 1), minlength=n_bins)
    return out
