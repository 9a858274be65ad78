"""BG/NBD: the log-odds of having dropped out and P(alive), the per-customer part of every formula.

Fader, Hardie & Lee (2005), "Counting your customers the easy way", Marketing Science 24(2) (FHL
2005), eq. 11 and its log-odds form (Fader, Hardie & Lee 2008, note 021). They are evaluated on
every customer (the rest of :mod:`clvmodels.formulas.bgnbd` mostly per distinct (x, T)), so the
passes over the data and the fresh arrays they need are counted here: P(alive) of many customers
is computed for the repeat buyers only, and the log-odds in two arrays. Broadcasting as in
:mod:`clvmodels.formulas.bgnbd`, which re-exports :func:`p_alive`; nothing validates input.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit


def _as_float(*arrays):
    return [np.asarray(v, dtype=float) for v in arrays]


def _log_b_x(b, x, out=None):
    """``ln(b + max(x, 1) - 1)``, broadcast; for parameter draws (S, 1) and customers (n,) the
    logarithm is taken once per draw and distinct x (a few hundred values) and gathered, with
    the same values as the elementwise form. ``out``, an array of the broadcast shape, receives
    the elementwise form (no temporaries)."""
    if x.ndim == 1 and b.ndim == 2 and b.shape[1] == 1 and b.shape[0] >= 8 and x.size >= 256:
        values, code = np.unique(np.maximum(x, 1.0), return_inverse=True)
        return np.take(np.log(b + values - 1.0), code, axis=1)
    if out is None:
        return np.log(b + np.maximum(x, 1.0) - 1.0)
    np.maximum(x, 1.0, out=out)
    np.add(b, out, out=out)
    out -= 1.0
    return np.log(out, out=out)


def _log_odds_dropout(r, alpha, a, b, x, t_x, T):
    """Log-odds that a customer with history (x, t_x, T) has dropped out; -inf where x == 0.

    ``ln[a / (b + x - 1)] + (r + x) ln[(alpha + T) / (alpha + t_x)]`` (FHL 2005 eq. 6 rewritten;
    Fader, Hardie & Lee 2008 note 021). The ratio's log is taken with ``log1p`` so that recency
    close to T keeps full precision even when multiplied by a large ``r + x``. Computed in one
    output array (the operations and their order are those of the formula, so the values are
    the same as its direct evaluation).
    """
    from clvmodels.formulas.fill_kernel import fill_where_no_repeat  # numba loads on first use

    out = _log_odds_if_repeat(r, alpha, a, b, x, t_x, T)
    fill_where_no_repeat(out, np.asarray(x, dtype=float), -np.inf)
    return out if out.ndim else out[()]


def _log_odds_if_repeat(r, alpha, a, b, x, t_x, T, overwrite_history=False):
    """The expression of :func:`_log_odds_dropout` everywhere, x == 0 included (where it means
    nothing and is overwritten by the callers), as an array of the broadcast shape.

    ``overwrite_history``: ``t_x`` and ``T`` are the caller's scratch arrays (float64, C order)
    and, where the output has their size, hold the result and the work array instead of two
    fresh arrays (whose first touch, page by page, cost more than the arithmetic).
    """
    r, alpha, a, b, x, t_x, T = _as_float(r, alpha, a, b, x, t_x, T)
    shape = np.broadcast_shapes(*(v.shape for v in (r, alpha, a, b, x, t_x, T)))
    in_place = overwrite_history and t_x.size == T.size == int(np.prod(shape))
    with np.errstate(divide="ignore", invalid="ignore"):
        # two arrays of the output shape and no other temporary: on a million customers a
        # fresh temporary costs as much as the arithmetic
        work = np.subtract(T, t_x, out=T.reshape(shape) if in_place else np.empty(shape))
        out = np.add(alpha, t_x, out=t_x.reshape(shape) if in_place else np.empty(shape))
        np.divide(work, out, out=out)
        np.log1p(out, out=out)
        out *= np.add(r, x, out=work)
        log_b_x = _log_b_x(b, x, out=work if np.broadcast_shapes(b.shape, x.shape) == shape else None)
        out += np.subtract(np.log(a), log_b_x, out=log_b_x if log_b_x.shape == shape else None)
    return out


def p_alive(r, alpha, a, b, x, t_x, T):
    """Probability that a customer is still alive at T given the history (FHL 2005 eq. 11).

    ``1 / (1 + 1{x>0} a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x))`` computed as the expit of minus
    the log-odds of dropout, so it neither overflows nor loses precision for x = 10,000.
    Customers without repeat purchases are alive with probability 1 (dropout follows a purchase);
    for many customers and per-draw parameters the formula runs on the repeat buyers only (the
    same values: 1M CDNOW-like customers, 56% without repeat purchases, ~5 ms against ~8 ms).

    Returns
    -------
    ndarray
        Probabilities in [0, 1], broadcast shape of the arguments.
    """
    from clvmodels.formulas.fill_kernel import expand_repeat, fill_where_no_repeat, repeat_rows

    if _per_customer_history(x, t_x, T, (r, alpha, a, b)):
        # many customers and parameters per draw: the repeat buyers' P(alive) alone (the same
        # operations on fewer values), 1 for everybody else
        index, history = repeat_rows(x, t_x, T)  # views of (n,) buffers: huge pages, see there
        alive = _log_odds_if_repeat(r, alpha, a, b, *history, overwrite_history=True)
        expit(np.negative(alive, out=alive), out=alive)
        shape = np.broadcast_shapes(*(np.shape(v) for v in (r, alpha, a, b, x)))
        return expand_repeat(alive, index, np.shape(x)[0], 1.0).reshape(shape)
    log_odds = _log_odds_if_repeat(r, alpha, a, b, x, t_x, T)
    # in place: no (S, n) temporaries; x == 0 set to 1 afterwards (expit(inf) exactly), as
    # expit of the -inf entries would cost more than all the rest
    alive = expit(np.negative(log_odds, out=log_odds), out=log_odds)
    fill_where_no_repeat(alive, np.asarray(x, dtype=float), 1.0)
    return alive if alive.ndim else alive[()]


#: customers from which P(alive) is computed for the repeat buyers only (below, the gathering
#: costs more than it saves)
_GATHER_FROM = 10_000


def _per_customer_history(x, t_x, T, params) -> bool:
    """Whether the history is one (n,) array per column, n >= :data:`_GATHER_FROM`, and every
    parameter is a scalar or a (S, 1) column of draws: the case of :func:`repeat_rows`."""
    n = np.shape(x)[0] if np.ndim(x) == 1 else 0
    return (n >= _GATHER_FROM and all(np.ndim(v) == 1 and np.shape(v)[0] == n for v in (t_x, T))
            and all(np.ndim(v) == 0 or (np.ndim(v) == 2 and np.shape(v)[1] == 1) for v in params))
