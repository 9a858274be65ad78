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
from clvmodels.models.intervals import interval_bounds
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
    def of(cls, first: CustomerData, second: CustomerData) -> _Pairs:
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
                     chunk_size: int | None = None) -> dict[str, dict[str, np.ndarray]]:
    """Evaluate a :class:`ProductQuantity` and its first factor, with the requested kind of interval.

    The first factor (e.g. expected purchases) is evaluated in the same pass, for free: every first
    row belongs to at least one pair, and each first row's result is taken from the chunk that
    holds its first pair (so the result does not depend on the order the threads finish in).

    Parameters
    ----------
    models : (first model, second model)
    data : (first model's CustomerData, second model's CustomerData), aligned on customers

    Returns
    -------
    dict with ``"first"`` and ``"product"``, each a dict with ``"value"`` and, with an interval,
    ``"lower"`` and ``"upper"`` (each shape (n,)), as :func:`clvmodels.models.scoring.evaluate`.
    """
    check_uncertainty(uncertainty, level)
    (first_model, second_model), (first_data, second_data) = models, data
    bayes = any(m.method == "bayes" for m in models)
    if not bayes:
        first_point = point_values(quantity.first, [first_model.point_draws()], first_data)
        point = {"first": first_point,
                 "product": first_point * point_values(quantity.second, [second_model.point_draws()], second_data)}
        if uncertainty is None:
            return {name: {"value": value} for name, value in point.items()}
    (first_draws, second_draws), sim_seed = draw_streams(models, n_draws, seed)
    pairs = _Pairs.of(first_data, second_data)
    owner = np.searchsorted(pairs.first_index, np.arange(pairs.first_rows.n))  # first pair of each first row
    mean = {"first": np.empty(pairs.first_rows.n), "product": np.empty(pairs.n)}
    lower = {name: np.empty_like(v) for name, v in mean.items()}
    upper = {name: np.empty_like(v) for name, v in mean.items()}
    predictive = uncertainty == "predictive"
    chunk_size = chunk_size or chunk_rows(n_draws, 8 if predictive else 4)
    streams = child_streams(sim_seed, -(-pairs.n // chunk_size))

    def store(name, rows, values, method, with_mean=True):
        if with_mean:
            mean[name][rows] = values.mean(axis=0)
        lower[name][rows], upper[name][rows] = interval_bounds(values, level, method)

    def own_first_rows(rows):
        """The first rows this chunk summarises: those whose first pair lies in it."""
        start, stop = int(pairs.first_index[rows.start]), int(pairs.first_index[rows.stop - 1]) + 1
        skip = 1 if owner[start] < rows.start else 0
        return slice(start + skip, stop), slice(skip, stop - start)

    def expected(rows, _index):
        first, at, second = pairs.chunk(rows)
        first_values = np.broadcast_to(quantity.first(merged_params([first_draws], first.segments), first.arrays),
                                       (n_draws, first.n))
        values = first_values[:, at] * quantity.second(merged_params([second_draws], second.segments),
                                                       second.arrays)
        store("product", rows, values, "linear")
        own, local = own_first_rows(rows)
        store("first", own, first_values[:, local], "linear")

    def simulated(rows, index):
        rng = np.random.default_rng(streams[index])
        first, at, second = pairs.chunk(rows)
        outcome = quantity.simulate_first(rng, merged_params([first_draws], first.segments), first.arrays)
        values = quantity.simulate_second(rng, merged_params([second_draws], second.segments),
                                          second.arrays, outcome[:, at])
        store("product", rows, values, "inverted_cdf", with_mean=False)
        own, local = own_first_rows(rows)
        store("first", own, outcome[:, local], "inverted_cdf", with_mean=False)

    if bayes or not predictive:
        run_chunks(expected, pairs.n, chunk_size)
    if predictive:
        run_chunks(simulated, pairs.n, chunk_size)
    inverse = {"first": first_data.distinct[1], "product": pairs.inverse}
    out = {}
    for name, rows in inverse.items():
        value = mean[name][rows] if bayes else point[name]
        out[name] = {"value": value} if uncertainty is None else {
            "value": value, "lower": lower[name][rows], "upper": upper[name][rows]}
    return out
