"""One-pass row checks and conversions of a DataFrame log's amounts (compiled, no temporaries).

On a log of 10M rows every whole-column temporary costs its allocation and first touch (80 MB for
float64), which dominated the DataFrame path's checks. These kernels do in one pass what the
numpy expressions they replace do in several, with the same arithmetic, so the results are
bit-identical (tested in tests/test_rfm_speed_paths.py):

- :func:`all_amounts_fine`: every amount is a purchase the default policies accept
  (``ZERO_AMOUNT_BELOW <= amount < MAX_AMOUNT``; NaN fails), so no problem mask is needed;
- :func:`to_micro`: :func:`clvmodels.data.sql.to_micro` (``floor(amount * 1e6 + 0.5)`` as int64,
  no fused multiply-add: numba compiles without fast-math).
"""

from __future__ import annotations

import numba
import numpy as np

from clvmodels.data.sql import AMOUNT_SCALE

_JIT = {"cache": True, "nogil": True}


def all_amounts_fine(amount: np.ndarray, low: float, high: float) -> bool:
    """Whether ``low <= amount < high`` for every value (``low > 0``; NaN is not fine).

    Parameters
    ----------
    amount : ndarray of float64, shape (n,)
    low, high : float
        Bounds, in the log's currency.
    """
    return bool(_all_within(np.ascontiguousarray(amount, np.float64), float(low), float(high)))


def to_micro(amount: np.ndarray) -> np.ndarray:
    """Amounts (float64, shape (n,)) as int64 micro-units, exactly as
    :func:`clvmodels.data.sql.to_micro` rounds them (half up)."""
    return _to_micro(np.ascontiguousarray(amount, np.float64), float(AMOUNT_SCALE))


@numba.njit(**_JIT)
def _all_within(amount, low, high):
    for i in range(len(amount)):
        x = amount[i]
        if not (x >= low and x < high):
            return False
    return True


@numba.njit(**_JIT)
def _to_micro(amount, scale):
    out = np.empty(len(amount), np.int64)
    for i in range(len(amount)):
        scaled = amount[i] * scale
        scaled += 0.5
        out[i] = np.int64(np.floor(scaled))
    return out
