"""Posterior predictive check: how many customers make 0, 1, 2, ... repeat purchases in their
observed window, as the fitted purchase family expects, as simulated, and as observed.

This is the calibration-period histogram of Fader, Hardie & Lee (2005), Figure 3, with
uncertainty, for any purchase family of :mod:`clvmodels.families`: the *expected* count is
``sum_i P(X(T_i) = n)`` (FHL 2005 eq. 8 for BG/NBD), the family's conditional PMF
``purchase_probability`` at the empty history (a customer observed for no time yet), averaged over
posterior draws, with its interval over draws (parameter uncertainty); the *simulated* interval
comes from replicated data sets (per draw, each customer's latent traits drawn with the family's
``sample_latents`` at the empty history, then ``simulate_purchases`` over its window ``T_i``), so it
also carries the sampling noise a real data set has. An observed bar far outside the simulated
interval points at model misfit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from clvmodels.errors import DataError
from clvmodels.models.intervals import interval_quantiles

#: family of a fit whose InferenceData carries no ``attrs["model"]`` (fits made before it did)
DEFAULT_FAMILY = "bgnbd"


def posterior_predictive_histogram(idata, T_values, *, observed_frequency=None, segment=None,
                                   max_frequency: int = 7, n_draws: int = 100, level: float = 0.9,
                                   seed=0, family=None) -> pd.DataFrame:
    """Expected, simulated and observed histogram of repeat-purchase counts.

    Parameters
    ----------
    idata : arviz.InferenceData
        A purchase-family fit (posterior with the family's parameters, pooled or by segment).
    T_values : array_like, shape (n,)
        Each customer's observation window (the summary's ``T``; BG/BB: its opportunities), in the
        fit's time unit.
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
    family : PurchaseFamily or str, optional
        The fitted family; default ``idata.attrs["model"]`` (``"bgnbd"`` when absent).

    Returns
    -------
    pandas.DataFrame
        Index ``frequency`` ("0", "1", ..., "7+"); columns ``expected``, ``expected_lower``,
        ``expected_upper``, ``simulated_mean``, ``simulated_lower``, ``simulated_upper`` and,
        when given, ``observed`` (numbers of customers).
    """
    family = _family_of(idata, family)
    T_values = np.asarray(T_values, float)
    params = _thinned_params(idata, family, n_draws)
    per_customer = _per_customer(params, segment, T_values.size)
    n_bins = int(max_frequency) + 1
    lo, hi = interval_quantiles(level)

    # expected counts per draw, on distinct (segment, T) pairs weighted by their customers
    key = np.column_stack([T_values, np.zeros_like(T_values) if segment is None else segment])
    distinct, inverse, counts = np.unique(key, axis=0, return_inverse=True, return_counts=True)
    first = np.zeros(distinct.shape[0], np.int64)
    first[inverse.ravel()[::-1]] = np.arange(T_values.size)[::-1]
    p_distinct = {k: v[:, first] if v.shape[1] > 1 else v for k, v in per_customer.items()}
    empty = _empty_history(family, distinct.shape[0])
    expected = np.empty((n_bins, next(iter(params.values())).shape[0]))
    for n in range(n_bins - 1):
        prob = family.purchase_probability(p_distinct, *empty, distinct[:, 0], n)
        expected[n] = prob @ counts
    expected[-1] = T_values.size - expected[:-1].sum(axis=0)

    simulated = _simulate_histograms(family, per_customer, T_values, n_bins, np.random.default_rng(seed))
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


def _family_of(idata, family):
    from clvmodels.families import get_family

    if family is None:
        family = idata.attrs.get("model", DEFAULT_FAMILY)
    return get_family(family) if isinstance(family, str) else family


def _empty_history(family, size: int) -> tuple[np.ndarray, ...]:
    """The history of a customer observed for no time yet (no purchase, zero age), (size,) each."""
    return tuple(np.zeros(size) for _ in family.history_columns)


def _thinned_params(idata, family, n_draws: int) -> dict[str, np.ndarray]:
    """Evenly thinned posterior draws: name -> (S,) or (S, n_segments)."""
    post = idata.posterior
    names = list(family.param_names)
    missing = [k for k in names if k not in post]
    if missing:
        raise DataError(f"the posterior lacks {missing}: posterior_predictive_histogram needs a "
                        f"{family.label} fit (or pass family= naming the fitted one)")
    stacked = {k: post[k].stack(sample=("chain", "draw")).transpose("sample", ...).to_numpy() for k in names}
    total = stacked[names[0]].shape[0]
    take = np.linspace(0, total - 1, num=min(int(n_draws), total)).round().astype(int)
    return {k: v[take] for k, v in stacked.items()}


def _per_customer(params: dict, segment, n: int) -> dict[str, np.ndarray]:
    """Parameters broadcastable to (S, n): (S, 1) when pooled, (S, n) by segment."""
    if next(iter(params.values())).ndim == 1:
        return {k: v[:, None] for k, v in params.items()}
    if segment is None:
        raise DataError("this fit is pooled by segment: pass segment= (each customer's segment code)")
    segment = np.asarray(segment, np.int64)
    if segment.shape != (n,):
        raise DataError(f"segment must have one code per customer ({n}); got shape {segment.shape}")
    return {k: v[:, segment] for k, v in params.items()}


def _simulate_histograms(family, params: dict, T_values: np.ndarray, n_bins: int, rng) -> np.ndarray:
    """Histogram of X(T_i) for one replicated data set per draw, shape (n_bins, S).

    Per draw, every customer's traits come from the family's ``sample_latents`` at the empty
    history (the population distribution: nothing observed yet) and its purchases over
    ``(0, T_i]`` from ``simulate_purchases``; one draw at a time, so memory stays (n,).
    """
    n = T_values.size
    n_draws = next(iter(params.values())).shape[0]
    empty = _empty_history(family, n)
    out = np.empty((n_bins, n_draws))
    for s in range(n_draws):
        draw = {k: np.broadcast_to(v[s], (n,)) for k, v in params.items()}
        latents = family.sample_latents(rng, draw, *empty)
        count = np.asarray(family.simulate_purchases(rng, latents, T_values), np.int64)
        out[:, s] = np.bincount(np.minimum(count, n_bins - 1), minlength=n_bins)
    return out
