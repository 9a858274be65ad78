"""Several quantities that share their costly part, evaluated in one pass over the draws.

``predict`` asks for P(alive), churn by the horizon, P(no purchase) and the expected purchases of
the same customers under the same parameter draws; each is P(alive) times an alive-branch factor,
and P(alive) is the costly part (for Pareto/NBD a death-time integral per draw and history). A
:class:`QuantityGroup` computes them together, ``fn(params, data) -> {name: (S, n)}``, so P(alive)
is computed once per chunk instead of once per quantity. The numbers are those of evaluating each
quantity alone with :func:`clvmodels.models.scoring.evaluate` (same draws from the same seed, same
arithmetic, same predictive streams): only the work is shared.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from clvmodels.models.intervals import interval_bounds
from clvmodels.models.scoring import (
    CustomerData,
    check_uncertainty,
    chunk_rows,
    draw_streams,
    merged_params,
    predictive_interval,
    run_chunks,
)


@dataclass(frozen=True)
class QuantityGroup:
    """Quantities computed together.

    Attributes
    ----------
    fn : callable
        ``fn(params, data) -> dict name -> ndarray (S, n)`` (or broadcastable to it).
    names : tuple of str
        The names ``fn`` returns, in output order.
    sims : mapping of str to simulator
        Simulators of the names that are outcomes (purchase counts): those get predictive
        intervals when asked for; the other names are probabilities and keep expected-value ones.
    cheap : bool
        As :func:`clvmodels.models.scoring.cheap`: at the point estimate evaluate every customer
        directly rather than compressing rows first.
    """

    fn: Callable
    names: tuple[str, ...]
    sims: Mapping[str, Callable] = field(default_factory=dict)
    cheap: bool = True

    def kind(self, name: str, uncertainty):
        """The interval kind ``name`` gets when ``uncertainty`` is asked for."""
        return uncertainty if (uncertainty != "predictive" or name in self.sims) else "expected"


@dataclass(frozen=True)
class GroupMember:
    """A column of a :class:`QuantityGroup` evaluated earlier in the same frame."""

    name: str


def _point(group: QuantityGroup, point_draws: Sequence, data: CustomerData) -> dict:
    if group.cheap and "distinct" not in data.__dict__:
        values = group.fn(merged_params(point_draws, data.segments), data.arrays)
        return {k: np.broadcast_to(values[k], (1, data.n))[0] for k in group.names}
    distinct, inverse = data.distinct
    values = group.fn(merged_params(point_draws, distinct.segments), distinct.arrays)
    return {k: np.broadcast_to(values[k], (1, distinct.n))[0][inverse] for k in group.names}


def _expected(group: QuantityGroup, draw_sets: Sequence, data: CustomerData, level: float) -> dict:
    """Mean and central interval over draws of every name, each (n,), in one pass of chunks."""
    distinct, inverse = data.distinct
    n_draws = draw_sets[0].n_draws
    out = {k: tuple(np.empty(distinct.n) for _ in range(3)) for k in group.names}

    def work(rows, _index):
        part = distinct.take(rows)
        values = group.fn(merged_params(draw_sets, part.segments), part.arrays)
        for name in group.names:
            v = np.broadcast_to(values[name], (n_draws, rows.stop - rows.start))
            mean, lower, upper = out[name]
            mean[rows] = v.mean(axis=0)
            lower[rows], upper[rows] = interval_bounds(v, level)

    # the group's arrays live together: budget the chunk for all of them
    run_chunks(work, distinct.n, chunk_rows(n_draws, 3 * len(group.names) + 1))
    return {k: tuple(a[inverse] for a in v) for k, v in out.items()}


def evaluate_group(group: QuantityGroup, models: Sequence, data: CustomerData, *, uncertainty,
                   level: float, n_draws: int, seed) -> dict[str, dict[str, np.ndarray]]:
    """Every name of ``group`` with the interval kind it gets (:meth:`QuantityGroup.kind`).

    Returns
    -------
    dict name -> dict with ``"value"`` and, with an interval, ``"lower"`` and ``"upper"``
    (each shape (n,)), exactly as :func:`clvmodels.models.scoring.evaluate` gives for that name.
    """
    check_uncertainty(uncertainty, level)
    bayes = any(m.method == "bayes" for m in models)
    kinds = {name: group.kind(name, uncertainty) for name in group.names}
    point = None if bayes else _point(group, [m.point_draws() for m in models], data)
    if uncertainty is None and not bayes:
        return {name: {"value": point[name]} for name in group.names}
    draw_sets, sim_seed = draw_streams(models, n_draws, seed)
    needs_pass = bayes or any(kind == "expected" for kind in kinds.values())
    expected = _expected(group, draw_sets, data, level) if needs_pass else {}
    results = {}
    for name, kind in kinds.items():
        value = expected[name][0] if bayes else point[name]
        if kind is None:
            results[name] = {"value": value}
        elif kind == "expected":
            results[name] = {"value": value, "lower": expected[name][1], "upper": expected[name][2]}
        else:
            lower, upper = predictive_interval(group.sims[name], draw_sets, data, level, sim_seed)
            results[name] = {"value": value, "lower": lower, "upper": upper}
    return results
