"""The one code path from fitted parameters to per-customer predictions with intervals.

A *quantity* is a pure function ``fn(params, data) -> ndarray (S, n)`` of parameter arrays
(dict name -> (S, 1) or (S, n)) and customer arrays (dict name -> (n,)). It is evaluated

- at the point estimate (``uncertainty=None``);
- for parameter draws on the distinct customer rows, chunk by chunk, summarised to mean and
  interval (``"expected"``: the interval of the expected value, i.e. parameter uncertainty);
- or, for outcomes, by a *simulator* ``sim(rng, params, data) -> ndarray (S, n)`` that draws what
  each customer will actually do, one simulation per parameter draw (``"predictive"``).

Draws x customers arrays exist for one chunk at a time only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from clvmodels.errors import check_choice
from clvmodels.inference.compress import compress_rows
from clvmodels.models.intervals import chunk_size_for, interval_quantiles, iter_chunks

UNCERTAINTY_KINDS = (None, "expected", "predictive")
DEFAULT_N_DRAWS = 300

Quantity = Callable[[dict, dict], np.ndarray]
Simulator = Callable[[np.random.Generator, dict, dict], np.ndarray]


@dataclass(frozen=True)
class CustomerData:
    """Customer arrays for the quantities, plus segment codes for models pooled by segment.

    Attributes
    ----------
    arrays : dict of str -> ndarray, shape (n,)
        e.g. x, t_x, T, mbar.
    segments : tuple of (ndarray of int, shape (n,), or None)
        One entry per model whose parameters the quantity uses, in the order of the models: the
        customers' segment codes for a model pooled by segment, None for a pooled model.
    """

    arrays: dict[str, np.ndarray]
    segments: tuple = (None,)

    @property
    def n(self) -> int:
        return len(next(iter(self.arrays.values())))

    def take(self, rows) -> "CustomerData":
        segments = tuple(None if s is None else s[rows] for s in self.segments)
        return CustomerData({k: v[rows] for k, v in self.arrays.items()}, segments)

    def combine(self, other: "CustomerData") -> "CustomerData":
        """The arrays of both, with segments of this model's then the other's."""
        return CustomerData({**self.arrays, **other.arrays}, self.segments + other.segments)


def _merged_params(draw_sets: Sequence, segments: tuple) -> dict[str, np.ndarray]:
    merged: dict[str, np.ndarray] = {}
    for draws, codes in zip(draw_sets, segments):
        merged.update(draws.for_customers(codes))
    return merged


def _distinct(data: CustomerData) -> tuple[CustomerData, np.ndarray]:
    """Distinct customer rows and, per customer, the index of its distinct row."""
    names = list(data.arrays)
    seg_at = [i for i, s in enumerate(data.segments) if s is not None]
    rows = compress_rows(*data.arrays.values(), *(data.segments[i] for i in seg_at))
    segments = list(data.segments)
    for j, i in enumerate(seg_at):
        segments[i] = rows.columns[len(names) + j]
    distinct = CustomerData(dict(zip(names, rows.columns[: len(names)])), tuple(segments))
    return distinct, rows.inverse


def point_values(fn: Quantity, point_draws: Sequence, data: CustomerData) -> np.ndarray:
    """Quantity at the point estimate, shape (n,), computed on distinct rows."""
    distinct, inverse = _distinct(data)
    values = np.broadcast_to(fn(_merged_params(point_draws, distinct.segments), distinct.arrays),
                             (1, distinct.n))[0]
    return values[inverse]


def expected_interval(fn: Quantity, draw_sets: Sequence, data: CustomerData, level: float,
                      chunk_size: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean over draws and central interval of the expected value, each shape (n,).

    Evaluated on the distinct rows, so identical customers cost nothing extra.
    """
    distinct, inverse = _distinct(data)
    n_draws = draw_sets[0].n_draws
    chunk_size = chunk_size or chunk_size_for(n_draws)
    lo_q, hi_q = interval_quantiles(level)
    mean, lower, upper = (np.empty(distinct.n) for _ in range(3))
    for rows in iter_chunks(distinct.n, chunk_size):
        part = distinct.take(rows)
        values = np.broadcast_to(fn(_merged_params(draw_sets, part.segments), part.arrays),
                                 (n_draws, rows.stop - rows.start))
        mean[rows] = values.mean(axis=0)
        lower[rows], upper[rows] = np.quantile(values, [lo_q, hi_q], axis=0)
    return mean[inverse], lower[inverse], upper[inverse]


def predictive_interval(sim: Simulator, draw_sets: Sequence, data: CustomerData, level: float,
                        seed, chunk_size: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Central interval of each customer's simulated outcome, bounds each shape (n,).

    One simulation per parameter draw and customer, so parameter uncertainty is included. Each
    chunk gets its own child of ``SeedSequence(seed)``: the same seed and chunk size give the
    same numbers. Quantiles use the inverted CDF, so bounds of counts are counts.
    """
    n_draws = draw_sets[0].n_draws
    chunk_size = chunk_size or chunk_size_for(n_draws, n_arrays=8)
    lo_q, hi_q = interval_quantiles(level)
    lower, upper = np.empty(data.n), np.empty(data.n)
    chunks = list(iter_chunks(data.n, chunk_size))
    for rows, child in zip(chunks, np.random.SeedSequence(seed).spawn(len(chunks))):
        part = data.take(rows)
        rng = np.random.default_rng(child)
        outcomes = sim(rng, _merged_params(draw_sets, part.segments), part.arrays)
        lower[rows], upper[rows] = np.quantile(outcomes, [lo_q, hi_q], axis=0, method="inverted_cdf")
    return lower, upper


def evaluate(fn: Quantity, models: Sequence, data: CustomerData, *, uncertainty, level: float,
             n_draws: int, seed, sim: Simulator | None = None,
             chunk_size: int | None = None) -> dict[str, np.ndarray]:
    """Evaluate a quantity with the requested kind of interval.

    Returns
    -------
    dict with ``"value"`` and, with an interval, ``"lower"`` and ``"upper"`` (each shape (n,)).
    The value is the estimate at the MLE, or the posterior mean for Bayesian fits.
    """
    check_choice("uncertainty", uncertainty, UNCERTAINTY_KINDS)
    if not 0.0 < level < 1.0:
        from clvmodels.errors import DataError

        raise DataError(f"level must be strictly between 0 and 1 (e.g. 0.9); got {level!r}")
    bayes = any(m.method == "bayes" for m in models)
    if uncertainty is None and not bayes:
        return {"value": point_values(fn, [m.point_draws() for m in models], data)}
    # independent streams per model: the purchase and spend parameters are estimated separately
    seeds = np.random.SeedSequence(seed).spawn(len(models))
    draw_sets = [m.parameter_draws(n_draws=n_draws, seed=s) for m, s in zip(models, seeds)]
    if uncertainty == "predictive" and not bayes:  # the expected-value pass is not needed
        lower = upper = None
        value = point_values(fn, [m.point_draws() for m in models], data)
    else:
        mean, lower, upper = expected_interval(fn, draw_sets, data, level, chunk_size)
        value = mean if bayes else point_values(fn, [m.point_draws() for m in models], data)
    if uncertainty is None:
        return {"value": value}
    if uncertainty == "predictive":
        if sim is None:
            raise ValueError("this quantity has no predictive interval")  # guarded by callers
        lower, upper = predictive_interval(sim, draw_sets, data, level, seed, chunk_size)
    return {"value": value, "lower": lower, "upper": upper}
