"""Expected incremental value of contacting each lapsed customer, with its interval, chunk by chunk.

For customer i and parameter draw s (paired draws of the purchase and spend models, paired with a
draw of the uplift)::

    value_is = uplift_is x (V_return_is - Vnot_alive_is) - contact cost

with the values of :mod:`clvmodels.reactivation.returner` and the uplift of
:mod:`clvmodels.reactivation.response`. Chunks run on the scoring path's threads
(:func:`clvmodels.models.scoring.run_chunks`), each writing its own slice of the outputs; identical
adjacent histories are valued once. Point columns are at the point estimate for MLE fits
(with the uplift's posterior mean) and posterior means for Bayesian fits; intervals are central
intervals over the draws.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from clvmodels.models.intervals import chunk_size_for, summarise_draws
from clvmodels.models.scoring import run_chunks
from clvmodels.reactivation import response as uplifts
from clvmodels.reactivation.returner import winback_values

#: per-customer outputs of :func:`score`
OUTPUTS = ("value", "value_lower", "value_upper", "if_returned", "if_returned_lower", "if_returned_upper",
           "if_not", "uplift", "uplift_lower", "uplift_upper", "baseline", "p_alive")


@dataclass(frozen=True)
class Candidates:
    """Histories of the candidates, each shape (n,): ``x, t_x, T`` are the purchase family's
    ``history_columns`` in order (frequency, recency, age or opportunities), ``mbar`` the mean
    repeat spend."""

    rows: pd.DataFrame
    x: np.ndarray
    t_x: np.ndarray
    T: np.ndarray
    mbar: np.ndarray

    def part(self, sl: slice) -> tuple:
        return self.rows.iloc[sl], self.x[sl], self.t_x[sl], self.T[sl], self.mbar[sl]


def _runs(x, t_x, T, mbar) -> tuple[np.ndarray, np.ndarray] | None:
    """Runs of identical adjacent histories (candidates sorted by (x, T): one-time buyers of one
    age are adjacent): first row of each run and, per row, its run; None if few rows repeat."""
    new = np.ones(x.size, dtype=bool)
    new[1:] = (x[1:] != x[:-1]) | (t_x[1:] != t_x[:-1]) | (T[1:] != T[:-1]) | (mbar[1:] != mbar[:-1])
    first = np.flatnonzero(new)
    return None if first.size > 0.8 * x.size else (first, np.cumsum(new) - 1)


def _values(cands, sl, purchase_model, spend_model, econ, window, bg_draws=None, gg_draws=None):
    chunk, x, t_x, T, mbar = cands.part(sl)
    bg = purchase_model.customer_params(chunk, bg_draws)
    gg = spend_model.customer_params(chunk, gg_draws)
    runs = None
    if all(np.shape(v)[-1] == 1 for v in (*bg.values(), *gg.values())):  # pooled parameters
        runs = _runs(x, t_x, T, mbar)
    family = purchase_model.family
    if runs is None:
        return winback_values(econ, bg, gg, x, t_x, T, mbar, window, family=family)
    # identical histories have identical values (computed element by element): compute once
    first, inverse = runs
    values = winback_values(econ, bg, gg, x[first], t_x[first], T[first], mbar[first], window,
                            family=family)
    return type(values)(*(np.asarray(v)[:, inverse] for v in values))


def score(cands: Candidates, purchase_model, spend_model, source, econ, window: float, cost: float, *,
          level: float, n_draws: int, seed) -> tuple[dict, dict]:
    """Per-customer value, its interval and components (:data:`OUTPUTS`), and run notes.

    Returns
    -------
    out : dict of str -> ndarray, shape (n,)
    notes : dict
        Segment labels, their mean baseline, mean uplift and conversion share k.
    """
    # customers sorted by (x, T) share the alive-branch integrals within a chunk (most lapsed
    # customers bought once); the outputs are put back in the candidates' order at the end
    order = np.lexsort((cands.T, cands.x))
    out, notes = _score(Candidates(cands.rows.iloc[order], cands.x[order], cands.t_x[order],
                                   cands.T[order], cands.mbar[order]),
                        purchase_model, spend_model, source, econ, window, cost, level=level,
                        n_draws=n_draws, seed=seed)
    back = np.empty_like(order)
    back[order] = np.arange(order.size)
    return {k: v[back] for k, v in out.items()}, notes


def _score(cands, purchase_model, spend_model, source, econ, window, cost, *, level, n_draws, seed):
    from clvmodels.value.run_parts import paired_draws

    n = len(cands.rows)
    out = {k: np.full(n, np.nan) for k in OUTPUTS}
    point = {k: np.empty(n) for k in ("if_returned", "if_not", "baseline", "reachable", "p_alive")}
    def point_work(sl, _index):  # the point estimate first
        v = _values(cands, sl, purchase_model, spend_model, econ, window)
        for key, arr in (("if_returned", v.value_if_returned), ("if_not", v.value_if_not_alive),
                         ("baseline", v.baseline), ("reachable", v.alive_non_buyer), ("p_alive", v.p_alive)):
            point[key][sl] = arr[0]

    run_chunks(point_work, n, chunk_size_for(1, n_arrays=12))
    codes, labels = source.segments(cands.rows)
    G = len(labels)
    counts = np.bincount(codes, minlength=G)
    mean_baseline = np.divide(np.bincount(codes, weights=point["baseline"], minlength=G), counts,
                              out=np.zeros(G), where=counts > 0)
    reach = uplifts.mean_reachable(codes, point["reachable"], G)
    # independent streams: purchase-model draws, spend-model draws, uplift draws
    bg_seed, gg_seed, uplift_seed = np.random.SeedSequence(seed).spawn(3)
    bg_draws, gg_draws = paired_draws(purchase_model, spend_model, True, n_draws, bg_seed, gg_seed)
    S = bg_draws.n_draws
    seg_point, seg_draws = source.segment_uplift(labels, mean_baseline, S, uplift_seed)
    share = uplifts.check_conversion(source, seg_point, reach, counts)
    bayes = "bayes" in (purchase_model.method, spend_model.method)
    out["baseline"], out["p_alive"], out["if_not"] = point["baseline"], point["p_alive"], point["if_not"]

    def draw_work(sl, _index):  # writes only the chunk's slice of each output: threads may share
        v = _values(cands, sl, purchase_model, spend_model, econ, window, bg_draws, gg_draws)
        lift = uplifts.allocate(source, seg_draws, codes[sl], v.alive_non_buyer, reach)
        value = lift * (v.value_if_returned - v.value_if_not_alive) - cost
        for key, draws in (("value", value), ("if_returned", v.value_if_returned), ("uplift", lift)):
            mean, out[f"{key}_lower"][sl], out[f"{key}_upper"][sl] = summarise_draws(draws, level)
            if bayes:
                out[key][sl] = mean
        if bayes:
            out["if_not"][sl] = v.value_if_not_alive.mean(axis=0)

    # no random numbers per chunk (the uplift draws are drawn above), so the chunks' results
    # are the same on any number of threads
    run_chunks(draw_work, n, chunk_size_for(S, n_arrays=16))
    if not bayes:
        lift = uplifts.allocate(source, seg_point[None, :], codes, point["reachable"][None, :], reach)[0]
        out["uplift"] = lift
        out["if_returned"] = point["if_returned"]
        out["value"] = lift * (point["if_returned"] - point["if_not"]) - cost
    notes = {"segments": [str(g) for g in labels], "mean_baseline": mean_baseline.tolist(),
             "mean_uplift": seg_point.tolist(), "conversion_share": share.tolist(), "n_draws": S}
    return out, notes
