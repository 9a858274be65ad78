"""P(alive) times an alive-branch factor known per distinct key, gathered, in one compiled pass.

``alive * factor[..., inverse]`` in numpy gathers a (S, n) temporary and multiplies it into a
second; on a million customers that is about as long as computing P(alive). The product of each
cell is the same floating-point operation, so the values are bit-identical.
"""

from __future__ import annotations

import numba
import numpy as np


def times_gathered(alive: np.ndarray, factor: np.ndarray, inverse: np.ndarray,
                   out: np.ndarray | None = None) -> np.ndarray:
    """``alive * factor[..., inverse]``.

    Parameters
    ----------
    alive : ndarray, shape (S, n)
        P(alive) of each draw and customer.
    factor : ndarray, shape (S, m) or (1, m)
        The alive-branch factor of each draw and distinct key.
    inverse : ndarray of int, shape (n,)
        Each customer's key.
    out : ndarray, shape (S, n), optional
        Where to write the product (may be ``alive`` itself: each cell is read before it is
        written); used only on the compiled path.

    Returns
    -------
    ndarray, shape (S, n)
        ``out``, or a new array (numpy's broadcasting product for other shapes).
    """
    alive, factor = np.asarray(alive, np.float64), np.asarray(factor, np.float64)
    if (alive.ndim != 2 or factor.ndim != 2 or np.ndim(inverse) != 1
            or alive.shape[1] != np.shape(inverse)[0] or factor.shape[0] not in (1, alive.shape[0])):
        return alive * factor[..., inverse]
    alive = np.ascontiguousarray(alive)
    if out is None or out.shape != alive.shape or not (out.flags.c_contiguous and out.flags.writeable):
        out = np.empty(alive.shape)
    _product(alive, np.ascontiguousarray(factor), np.ascontiguousarray(inverse, np.int64), out)
    return out


@numba.njit(cache=True, nogil=True)
def _product(alive, factor, inverse, out):
    shared = factor.shape[0] == 1
    for s in range(out.shape[0]):
        f = factor[0] if shared else factor[s]
        for i in range(out.shape[1]):
            out[s, i] = alive[s, i] * f[inverse[i]]
