"""BG/NBD quantities as P(alive) times an alive-branch factor evaluated once per distinct (x, T).

Given that a customer is alive at T, their posterior (``lambda ~ Gamma(r+x, alpha+T)``,
``p ~ Beta(a, b+x)``) depends on the frequency x and the age T only, not on the recency. So the
costly hypergeometric part of the expected purchases and of the survival probability is a function
of (x, T), and customers share far fewer (x, T) pairs than (x, recency, T) rows (a million
simulated CDNOW-like customers: about 106,000 rows but a few thousand pairs). The recency enters
only through P(alive), which is a few logarithms per row.
"""

from __future__ import annotations

import numpy as np

from clvmodels.formulas import bgnbd
from clvmodels.inference.compress import compress_rows


def bg_params(P: dict) -> tuple:
    """(r, alpha, a, b) from a dict of parameter arrays."""
    return P["r"], P["alpha"], P["a"], P["b"]


def per_history(alive_factor, P: dict, D: dict, *args) -> np.ndarray:
    """``alive_factor(r, alpha, a, b, x, T, *args)`` for every customer, computed per distinct (x, T).

    Parameters
    ----------
    alive_factor : callable
        e.g. :func:`clvmodels.formulas.bgnbd.expected_purchases_if_alive`.
    P : dict
        BG/NBD parameters, each of shape (S, 1) (a pooled model) or (S, n) (by segment).
    D : dict
        Customer arrays ``x`` and ``T``, shape (n,).
    *args
        Scalars passed on (e.g. the horizon).

    Returns
    -------
    ndarray, shape (S, n)
    """
    params = bg_params(P)
    per_customer = [i for i, v in enumerate(params) if np.ndim(v) and np.shape(v)[-1] != 1]
    if not per_customer:
        pairs = compress_rows(D["x"], D["T"])
        x, T = pairs.columns
        return alive_factor(*params, x, T, *args)[..., pairs.inverse]
    # parameters differ per customer (a model pooled by segment): customers share a segment's
    # draws, so group by (x, T) and the parameters of the first and last draw, which tell the
    # segments apart (draws of different segments come from independent streams)
    keys = [params[i][j] for i in per_customer for j in {0, np.shape(params[i])[0] - 1}]
    rows = compress_rows(D["x"], D["T"], *keys)
    first = np.zeros(rows.n_unique, dtype=np.int64)
    first[rows.inverse] = np.arange(rows.inverse.size)  # any customer of each group will do
    picked = [v[..., first] if i in per_customer else v for i, v in enumerate(params)]
    x, T = rows.columns[:2]
    return alive_factor(*picked, x, T, *args)[..., rows.inverse]


def expected_purchases(P: dict, D: dict, horizon: float) -> np.ndarray:
    """Expected purchases in the next ``horizon`` periods, shape (S, n) (FHL 2005 eq. 10)."""
    alive = bgnbd.p_alive(*bg_params(P), D["x"], D["t_x"], D["T"])
    return alive * per_history(bgnbd.expected_purchases_if_alive, P, D, horizon)


def p_alive_at(P: dict, D: dict, horizon: float) -> np.ndarray:
    """Probability of being alive ``horizon`` periods after T, shape (S, n)."""
    alive = bgnbd.p_alive(*bg_params(P), D["x"], D["t_x"], D["T"])
    return alive * per_history(bgnbd.survival_if_alive, P, D, horizon)
