"""The value pass's inputs and outputs, the pairing of the two models' draws, and its threads.

Parts of :mod:`clvmodels.value.engine` that hold no per-run state: what the pass reads per
customer (:class:`ValueInputs`), what it returns (:class:`ValueOutputs`), the paired parameter
draws of the purchase and spend models (:func:`paired_draws`, shared with the win-back scoring),
and the helpers that spread chunks and alive-branch tables over threads with the same numbers
on any number of threads.
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from clvmodels.models import scoring
from clvmodels.models.draws import ParameterDraws
from clvmodels.value.economics import ResolvedEconomics
from clvmodels.value.expected import family_alive_branch
from clvmodels.value.referrals import ReferralLinks, ReferralRates
from clvmodels.value.totals import GroupTotals


@dataclass(frozen=True)
class ValueInputs:
    """Everything per customer that does not depend on the model parameters (arrays shape (n,))."""

    summary: pd.DataFrame
    econ: ResolvedEconomics
    realised: np.ndarray
    acquisition: np.ndarray
    links: ReferralLinks | None = None
    rates: ReferralRates | None = None

    def purchase_history(self, columns) -> tuple[np.ndarray, ...]:
        """The summary's ``columns`` (a purchase family's ``history_columns``) as float arrays."""
        return tuple(self.summary[c].to_numpy(float) for c in columns)

    @property
    def mean_spend(self) -> np.ndarray:
        """Mean repeat spend per customer, 0 where there is no repeat purchase (shape (n,))."""
        s = self.summary
        x = s["frequency"].to_numpy(float)
        mbar = pd.to_numeric(s["monetary_value"], errors="coerce").to_numpy(float) \
            if "monetary_value" in s.columns else np.zeros(len(s))
        return np.where(x > 0, mbar, 0.0)

    @property
    def history(self) -> tuple[np.ndarray, ...]:
        """(frequency, recency, T, mean spend) of a continuous-time summary."""
        return (*self.purchase_history(("frequency", "recency", "T")), self.mean_spend)


@dataclass
class ValueOutputs:
    """Per-customer columns (each shape (n,)) and per-draw group totals."""

    columns: dict[str, np.ndarray]
    totals: dict[str | None, GroupTotals]
    n_draws: int
    intervals: bool
    notes: dict = field(default_factory=dict)


def paired_draws(purchase_model, spend_model, use_draws: bool, n_draws: int,
                 seed_bg, seed_gg) -> tuple[ParameterDraws, ParameterDraws]:
    """Parameter draws of the purchase and spend models paired by index (draw s with draw s;
    posteriors of different sizes keep the first S of each), or the point estimates."""
    if not use_draws:
        return purchase_model.point_draws(), spend_model.point_draws()
    bg = purchase_model.parameter_draws(n_draws=n_draws, seed=seed_bg)
    gg = spend_model.parameter_draws(n_draws=n_draws, seed=seed_gg)
    s = min(bg.n_draws, gg.n_draws)  # posteriors of different sizes: pair the first s of each
    return (ParameterDraws(bg.names, bg.values[:s], bg.kind),
            ParameterDraws(gg.names, gg.values[:s], gg.kind))


def _in_order(work, chunks: list, n_threads: int):
    """Yield ``work(index, chunk)`` for every chunk, in chunk order, computed on ``n_threads``
    threads (numpy and scipy release the GIL) with at most ``n_threads + 1`` results alive, so
    memory stays that of a few chunks. The caller consumes the results in order: shared sums are
    then added in the same order whatever the number of threads."""
    if n_threads <= 1 or len(chunks) <= 1:
        for index, rows in enumerate(chunks):
            yield work(index, rows)
        return
    with ThreadPoolExecutor(max_workers=n_threads) as pool:
        pending = deque()
        for index, rows in enumerate(chunks):
            pending.append(pool.submit(work, index, rows))
            if len(pending) > n_threads:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _alive_branch_threaded(econ, family, draws: dict, key: tuple, with_alive_time: bool):
    """:func:`family_alive_branch` for distinct alive-key rows, in column blocks on the threads;
    parameters are pooled (each (S, 1)) or one column per row (each (S, m), a model pooled by
    segment). Every value is computed element by element, so the blocks give the same numbers
    as one call."""
    n_threads = scoring.N_THREADS
    size = key[0].size
    if n_threads <= 1 or size < 2 * n_threads:
        return family_alive_branch(econ, family, draws, key, with_alive_time)
    blocks = np.array_split(np.arange(size), 4 * n_threads)  # small blocks balance the load

    def block(b):
        params = {k: (v[:, b] if np.shape(v)[-1] > 1 else v) for k, v in draws.items()}
        return family_alive_branch(econ, family, params, tuple(k[b] for k in key), with_alive_time)

    with ThreadPoolExecutor(max_workers=n_threads) as pool:
        parts = list(pool.map(block, blocks))
    purchases = np.concatenate([p for p, _ in parts], axis=1)
    alive = None if not with_alive_time else np.concatenate([a for _, a in parts], axis=1)
    return purchases, alive
