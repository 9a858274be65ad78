"""The one code path from fitted parameters to per-customer predictions with intervals.

A *quantity* is a pure function ``fn(params, data) -> ndarray (S, n)`` of parameter arrays
(dict name -> (S, 1) or (S, n)) and customer arrays (dict name -> (n,)). It is evaluated on the
distinct customer rows only (customers with identical rows get identical predictions and
identical predictive distributions), then mapped back to the customers:

- at the point estimate (``uncertainty=None``);
- for parameter draws, chunk by chunk, summarised to mean and interval (``"expected"``: the
  interval of the expected value, i.e. parameter uncertainty);
- or, for outcomes, by a *simulator* ``sim(rng, params, data) -> ndarray (S, n)`` that draws what
  a customer with that row will actually do, one simulation per parameter draw (``"predictive"``).

Draws x rows arrays exist for one chunk at a time only; chunks run on a few threads (numpy and
scipy release the GIL), each with its own random stream, so results do not depend on the threads.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from clvmodels.errors import DataError, check_choice
from clvmodels.inference.compress import compress_rows
from clvmodels.models.intervals import chunk_size_for, interval_bounds, iter_chunks
from clvmodels.progress import progress_bar

UNCERTAINTY_KINDS = (None, "expected", "predictive")
DEFAULT_N_DRAWS = 300
#: threads that evaluate chunks at once (each holds one chunk's draws x rows arrays): the cores, at
#: most 8, or the environment variable CLVMODELS_THREADS (e.g. 1 on a shared scheduler node)
N_THREADS = max(1, int(os.environ.get("CLVMODELS_THREADS") or min(os.cpu_count() or 1, 8)))

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

    def take(self, rows) -> CustomerData:
        segments = tuple(None if s is None else s[rows] for s in self.segments)
        return CustomerData({k: v[rows] for k, v in self.arrays.items()}, segments)

    @cached_property
    def distinct(self) -> tuple[CustomerData, np.ndarray]:
        """The distinct rows (segments included) and, per customer, the index of its row.

        Computed once per object, so every quantity of one prediction call shares it.
        """
        names = list(self.arrays)
        seg_at = [i for i, s in enumerate(self.segments) if s is not None]
        rows = compress_rows(*self.arrays.values(), *(self.segments[i] for i in seg_at))
        segments = list(self.segments)
        for j, i in enumerate(seg_at):
            segments[i] = rows.columns[len(names) + j]
        distinct = CustomerData(dict(zip(names, rows.columns[: len(names)])), tuple(segments))
        return distinct, rows.inverse


def merged_params(draw_sets: Sequence, segments: tuple) -> dict[str, np.ndarray]:
    """Parameters of every model for the rows whose segment codes are given, in one dict."""
    merged: dict[str, np.ndarray] = {}
    for draws, codes in zip(draw_sets, segments):
        merged.update(draws.for_customers(codes))
    return merged


def run_chunks(work: Callable[[slice, int], None], n: int, chunk_size: int,
               label: str = "intervals") -> None:
    """Call ``work(rows, index)`` for consecutive chunks of ``range(n)`` on ``N_THREADS`` threads.

    ``work`` writes its results into disjoint slices of preallocated arrays; the chunking, and so
    every random stream keyed by ``index``, is the same whatever the number of threads. A
    progress bar named ``label`` counts the rows (shown only where someone watches, see
    :mod:`clvmodels.progress`; it never touches the numbers).
    """
    chunks = list(iter_chunks(n, chunk_size))
    if len(chunks) == 1:  # one quick chunk: no bar
        work(chunks[0], 0)
        return
    with progress_bar(n, label, unit="rows") as advance:
        def tracked(rows, index):
            work(rows, index)
            advance(rows.stop - rows.start)

        if N_THREADS == 1:
            for index, rows in enumerate(chunks):
                tracked(rows, index)
            return
        with ThreadPoolExecutor(max_workers=N_THREADS) as pool:
            list(pool.map(tracked, chunks, range(len(chunks))))  # list(): re-raise a worker's error


def chunk_rows(n_draws: int, n_arrays: int) -> int:
    """Rows per chunk: ``n_arrays`` float64 (n_draws, rows) arrays in 200 MB. Independent of the
    number of threads, because predictive random streams are keyed by chunk."""
    return chunk_size_for(n_draws, budget_bytes=200e6, n_arrays=n_arrays)


def cheap(fn: Quantity) -> Quantity:
    """Mark a quantity as cheap per row (a few arithmetic operations and logarithms): at the point
    estimate it is evaluated on every customer directly unless the rows are compressed already,
    since compressing them first would cost more than it saves."""
    fn.cheap = True
    return fn


def point_values(fn: Quantity, point_draws: Sequence, data: CustomerData) -> np.ndarray:
    """Quantity at the point estimate, shape (n,), computed on distinct rows (see :func:`cheap`).

    One call on all customers, on the calling thread: split over threads, the parts of a million
    customers ran slower (each thread's allocations come from a fresh memory arena, so every
    array is paged in again), while the arithmetic is a few passes of memory-bound numpy.
    """
    if getattr(fn, "cheap", False) and "distinct" not in data.__dict__:
        return _one_row(fn(merged_params(point_draws, data.segments), data.arrays), data.n)
    distinct, inverse = data.distinct
    values = _one_row(fn(merged_params(point_draws, distinct.segments), distinct.arrays), distinct.n)
    return values[inverse]


def _one_row(values, n: int) -> np.ndarray:
    """The single draw's row of a quantity, shape (n,): a view of a (1, n) result (writeable, so
    a prediction frame can hold it without a copy), else the broadcast of a smaller one."""
    values = np.asarray(values)
    return values[0] if values.shape == (1, n) else np.broadcast_to(values, (1, n))[0]


def expected_interval(fn: Quantity, draw_sets: Sequence, data: CustomerData, level: float,
                      chunk_size: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean over draws and central interval of the expected value, each shape (n,).

    Evaluated on the distinct rows, so identical customers cost nothing extra.
    """
    distinct, inverse = data.distinct
    n_draws = draw_sets[0].n_draws
    mean, lower, upper = (np.empty(distinct.n) for _ in range(3))

    def work(rows, _index):
        part = distinct.take(rows)
        values = np.broadcast_to(fn(merged_params(draw_sets, part.segments), part.arrays),
                                 (n_draws, rows.stop - rows.start))
        mean[rows] = values.mean(axis=0)
        lower[rows], upper[rows] = interval_bounds(values, level)

    run_chunks(work, distinct.n, chunk_size or chunk_rows(n_draws, 4))
    return mean[inverse], lower[inverse], upper[inverse]


def predictive_interval(sim: Simulator, draw_sets: Sequence, data: CustomerData, level: float,
                        seed, chunk_size: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Central interval of the simulated outcome of each customer, bounds each shape (n,).

    The predictive distribution depends only on a customer's row, so it is simulated once per
    distinct row: one simulation per parameter draw, so parameter uncertainty is included. Each
    chunk gets its own child of ``SeedSequence(seed)``: the same seed and chunk size give the
    same numbers. Quantiles use the inverted CDF, so bounds of counts are counts.
    """
    distinct, inverse = data.distinct
    n_draws = draw_sets[0].n_draws
    lower, upper = np.empty(distinct.n), np.empty(distinct.n)
    chunk_size = chunk_size or chunk_rows(n_draws, 8)
    n_chunks = -(-distinct.n // chunk_size)
    streams = child_streams(seed, n_chunks)

    def work(rows, index):
        part = distinct.take(rows)
        outcomes = sim(np.random.default_rng(streams[index]), merged_params(draw_sets, part.segments),
                       part.arrays)
        lower[rows], upper[rows] = interval_bounds(outcomes, level, "inverted_cdf")

    run_chunks(work, distinct.n, chunk_size)
    return lower[inverse], upper[inverse]


def child_streams(seed, n: int) -> list[np.random.SeedSequence]:
    """``n`` independent seed sequences from a seed (int, None or a SeedSequence)."""
    root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    return root.spawn(n)


def check_uncertainty(uncertainty, level: float) -> None:
    check_choice("uncertainty", uncertainty, UNCERTAINTY_KINDS)
    if not 0.0 < level < 1.0:
        raise DataError(f"level must be strictly between 0 and 1 (e.g. 0.9); got {level!r}")


def draw_streams(models: Sequence, n_draws: int, seed) -> tuple[list, np.random.SeedSequence]:
    """Parameter draws of each model and the seed of the simulations, from independent children
    of ``SeedSequence(seed)`` (the purchase and spend parameters are estimated separately)."""
    *model_seeds, sim_seed = child_streams(seed, len(models) + 1)
    return [m.parameter_draws(n_draws=n_draws, seed=s) for m, s in zip(models, model_seeds)], sim_seed


def evaluate(fn: Quantity, models: Sequence, data: CustomerData, *, uncertainty, level: float,
             n_draws: int, seed, sim: Simulator | None = None,
             chunk_size: int | None = None) -> dict[str, np.ndarray]:
    """Evaluate a quantity with the requested kind of interval.

    Returns
    -------
    dict with ``"value"`` and, with an interval, ``"lower"`` and ``"upper"`` (each shape (n,)).
    The value is the estimate at the MLE, or the posterior mean for Bayesian fits.
    """
    check_uncertainty(uncertainty, level)
    bayes = any(m.method == "bayes" for m in models)
    if uncertainty is None and not bayes:
        return {"value": point_values(fn, [m.point_draws() for m in models], data)}
    draw_sets, sim_seed = draw_streams(models, n_draws, seed)
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
        lower, upper = predictive_interval(sim, draw_sets, data, level, sim_seed, chunk_size)
    return {"value": value, "lower": lower, "upper": upper}


def complement(result: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The result of ``1 - quantity`` from that of the quantity (bounds swap; the linear
    interpolation of quantiles is symmetric, so this equals evaluating ``1 - quantity``)."""
    out = {"value": 1.0 - result["value"]}
    if "lower" in result:
        out["lower"], out["upper"] = 1.0 - result["upper"], 1.0 - result["lower"]
    return out
