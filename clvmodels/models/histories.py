"""Quantities of any family as P(alive) times an alive-branch factor evaluated once per distinct key.

Every latent-attrition family factorises ``E[future | history] = P(alive | history) x
E[future | alive, key]`` (see :mod:`clvmodels.families.contract`). Given that a customer is alive at
T the posterior of their traits depends on a short *alive key* only (``(frequency, T)`` for BG/NBD,
MBG/NBD and Pareto/NBD: the recency no longer matters), so the costly hypergeometric part of the
expected purchases and of the survival probability is a function of the key, and customers share
far fewer keys than history rows (a million simulated CDNOW-like customers: about 106,000 rows but a
few thousand (x, T) pairs). The rest of the history enters only through P(alive), which is a few
logarithms per row.
"""

from __future__ import annotations

import numpy as np

from clvmodels.inference.compress import compress_rows


def per_history(alive_factor, P: dict, key: tuple, *args) -> np.ndarray:
    """``alive_factor(P, *key, *args)`` for every customer, computed once per distinct key.

    Parameters
    ----------
    alive_factor : callable
        A contract function of the alive branch, e.g. ``family.expected_purchases_if_alive``.
    P : dict of str -> ndarray
        Parameters, each of shape (S, 1) (a pooled model) or (S, n) (by segment).
    key : tuple of ndarray, shape (n,) each
        The customers' alive-key arrays (``family.key_of(*history)``).
    *args
        Scalars passed on (e.g. the horizon).

    Returns
    -------
    ndarray, shape (S, n)
    """
    values, inverse = per_distinct_key(alive_factor, P, key, *args)
    return values[..., inverse]


def per_distinct_key(alive_factor, P: dict, key: tuple, *args) -> tuple[np.ndarray, np.ndarray]:
    """What :func:`per_history` gathers: ``(values, inverse)``, the factor per distinct key
    (shape (S, m)) and each customer's key (shape (n,)), so ``values[..., inverse]`` is the
    factor of every customer."""
    per_customer = [name for name, v in P.items() if np.ndim(v) and np.shape(v)[-1] != 1]
    if not per_customer:
        rows = compress_rows(*key)
        return alive_factor(P, *rows.columns, *args), rows.inverse
    # parameters differ per customer (a model pooled by segment): customers share a segment's
    # draws, so group by the key and the parameters of the first and last draw, which tell the
    # segments apart (draws of different segments come from independent streams)
    marks = [P[name][j] for name in per_customer for j in {0, np.shape(P[name])[0] - 1}]
    rows = compress_rows(*key, *marks)
    first = np.zeros(rows.n_unique, dtype=np.int64)
    first[rows.inverse] = np.arange(rows.inverse.size)  # any customer of each group will do
    picked = {name: (v[..., first] if name in per_customer else v) for name, v in P.items()}
    return alive_factor(picked, *rows.columns[:len(key)], *args), rows.inverse


def alive_times(family, P: dict, history: tuple, alive, alive_factor, *args) -> np.ndarray:
    """``P(alive) x alive_factor(P, *key, *args)`` for every customer, shape (S, n): the factor
    computed per distinct alive key and multiplied in as it is gathered (one pass, no (S, n)
    temporary; the same products). ``alive`` is the customers' P(alive) if the caller has it,
    else None."""
    from clvmodels.models.gather_kernel import times_gathered  # numba loads on first use

    values, inverse = per_distinct_key(alive_factor, P, family.key_of(*history), *args)
    if alive is None:  # computed here: the product may take its place
        alive = family.p_alive(P, *history)
        return times_gathered(alive, values, inverse, out=alive)
    return times_gathered(alive, values, inverse)


def history_of(family, D: dict) -> tuple:
    """The customers' history arrays from ``D`` (keyed by the family's ``history_columns``)."""
    return tuple(D[column] for column in family.history_columns)


def _alive(family, P: dict, history: tuple, alive):
    return family.p_alive(P, *history) if alive is None else alive


def expected_purchases(family, P: dict, D: dict, horizon: float, alive=None) -> np.ndarray:
    """Expected purchases in the next ``horizon`` periods, shape (S, n).

    ``D`` holds the customers' arrays keyed by the family's ``history_columns``; ``alive``, the
    customers' P(alive) under ``P``, may be passed when the caller has it already.
    """
    return alive_times(family, P, history_of(family, D), alive, family.expected_purchases_if_alive,
                       horizon)


def p_alive_at(family, P: dict, D: dict, horizon: float, alive=None) -> np.ndarray:
    """Probability of being alive ``horizon`` periods after T, shape (S, n)."""
    return alive_times(family, P, history_of(family, D), alive, family.survival_if_alive, horizon)


def purchase_probability(family, P: dict, D: dict, horizon: float, k: int, alive=None) -> np.ndarray:
    """P(k purchases in the next ``horizon`` periods | history), shape (S, n): P(alive) times the
    alive-branch probability per distinct key (for Pareto/NBD an integral per draw and key), plus
    P(gone) for k = 0 (a customer gone at T buys nothing)."""
    history = history_of(family, D)
    alive = _alive(family, P, history, alive)
    if_alive = per_history(family.purchase_probability_if_alive, P, family.key_of(*history),
                           horizon, k)
    return alive * if_alive + (1.0 - alive if k == 0 else 0.0)
