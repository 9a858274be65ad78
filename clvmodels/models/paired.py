"""Quantities of two independent models at once, such as revenue = purchases x spend.

A customer's purchase predictions depend on their (frequency, recency, T) row and their spend
predictions on their (frequency, monetary value) row. Revenue depends on both, and almost every
customer has a pair of rows of their own, so evaluating the purchase formulas per pair would repeat
the costly part for nearly every customer. Instead the pairs are sorted by purchase row, so a chunk
of pairs needs a contiguous range of purchase rows: the purchase quantity (or its simulation) runs
once per purchase row of the chunk and is gathered to the pairs, and only the cheap spend part runs
per pair.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from clvmodels.inference.compress import compress_rows
from clvmodels.models.intervals import interval_quantiles
from clvmodels.models.scoring import (
    CustomerData,
    check_uncertainty,
    child_streams,
    chunk_rows,
    draw_streams,
    merged_params,
    point_values,
    run_chunks,
)


@dataclass(frozen=True)
class ProductQuantity:
    """``first x second`` of two independent models' quantities, with its outcome simulator.

    Attributes
    ----------
    first, second : callable ``(params, data) -> (S, n)``
        Expected values under the first model (e.g. purchases) and the second (e.g. spend per
        purchase); the expectation of the product is the product of the expectations because the
        two processes are independent.
    simulate_first : callable ``(rng, params, data) -> (S, n)``
        Outcome of the first model (e.g. purchase counts).
    simulate_second : callable ``(rng, params, data, first_outcome) -> (S, n)``
        Outcome of the second model given the first's (e.g. the total spend of that many purchases).
    """

    first: Callable
    second: Callable
    simulate_first: Callable
    simulate_second: Callable


@dataclass(frozen=True)
class _Pairs:
    """Distinct (first row, second row) pairs, sorted by first row."""

    first_rows: CustomerData
    second_rows: CustomerData
    first_index: np.ndarray   # (m,) the first model's distinct row of each pair, non-decreasing
    second_index: np.ndarray  # (m,) the second model's distinct row of each pair
    inverse: np.ndarray       # (n,) each customer's pair

    @classmethod
    def of(cls, first: CustomerData, second: CustomerData) -> "_Pairs":
        first_rows, first_inverse = first.distinct
        second_rows, second_inverse = second.distinct
        pairs = compress_rows(first_inverse, second_inverse)  # sorted by first row, then second
        first_index, second_index = (c.astype(np.int64) for c in pairs.columns)
        return cls(first_rows, second_rows, first_index, second_index, pairs.inverse)

    @property
    def n(self) -> int:
        return self.first_index.size

    def chunk(self, rows: slice) -> tuple[CustomerData, np.ndarray, CustomerData]:
        """The first model's rows the chunk of pairs needs (a contiguous range), the position of
        each pair's first row in it, and each pair's second-model row."""
        index = self.first_index[rows]
        start = int(index[0])
        first = self.first_rows.take(slice(start, int(index[-1]) + 1))
        return first, index - start, self.second_rows.take(self.second_index[rows])


def evaluate_product(quantity: ProductQuantity, models: Sequence, data: Sequence[CustomerData], *,
                     uncertainty, level: float, n_draws: int, seed,
                     chunk_size: int | None = None) -> dict[str, np.ndarray]:
    """Evaluate a :class:`ProductQuantity` with the requested kind of interval.

    Parameters
    ----------
    models : (first model, second model)
    data : (first model's CustomerData, second model's CustomerData), aligned on customers

    Returns
    -------
    dict with ``"value"`` and, with an interval, ``"lower"`` and ``"upper"`` (each shape (n,)),
    as :func:`clvmodels.models.scoring.evaluate`.
    """
    check_uncertainty(uncertainty, level)
    (first_model, second_model), (first_data, second_data) = models, data
    bayes = any(m.method == "bayes" for m in models)
    point = None
    if not bayes:
        point = (point_values(quantity.first, [first_model.point_draws()], first_data)
                 * point_values(quantity.second, [second_model.point_draws()], second_data))
        if uncertainty is None:
            return {"value": point}
    (first_draws, second_draws), sim_seed = draw_streams(models, n_draws, seed)
    pairs = _Pairs.of(first_data, second_data)
    lo_q, hi_q = interval_quantiles(level)
    mean, lower, upper = (np.empty(pairs.n) for _ in range(3))
    predictive = uncertainty == "predictive"
    chunk_size = chunk_size or chunk_rows(n_draws, 8 if predictive else 4)
    streams = child_streams(sim_seed, -(-pairs.n // chunk_size))

    def expected(rows, _index):
        first, at, second = pairs.chunk(rows)
        values = (np.broadcast_to(quantity.first(merged_params([first_draws], first.segments), first.arrays),
                                  (n_draws, first.n))[:, at]
                  * quantity.second(merged_params([second_draws], second.segments), second.arrays))
        mean[rows] = values.mean(axis=0)
        lower[rows], upper[rows] = np.quantile(values, [lo_q, hi_q], axis=0)

    def simulated(rows, index):
        rng = np.random.default_rng(streams[index])
        first, at, second = pairs.chunk(rows)
        outcome = quantity.simulate_first(rng, merged_params([first_draws], first.segments), first.arrays)
        values = quantity.simulate_second(rng, merged_params([second_draws], second.segments),
                                          second.arrays, outcome[:, at])
        lower[rows], upper[rows] = np.quantile(values, [lo_q, hi_q], axis=0, method="inverted_cdf")

    if bayes or not predictive:
        run_chunks(expected, pairs.n, chunk_size)
    value = mean[pairs.inverse] if bayes else point
    if uncertainty is None:
        return {"value": value}
    if predictive:
        run_chunks(simulated, pairs.n, chunk_size)
    return {"value": value, "lower": lower[pairs.inverse], "upper": upper[pairs.inverse]}
