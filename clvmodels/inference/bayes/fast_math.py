"""Branch-free exp / log1p / log in plain arithmetic, so LLVM can vectorise the kernels' row loops.

numba calls libm for ``math.exp`` and ``math.log`` one value at a time (no SVML in a pip install);
written as range reduction + polynomial, with bit casts for the powers of two, the same functions
compile to SIMD code and the row loops of :mod:`.fast_loglik` run about five times faster.
Accuracy (tests/test_bayes_loglik.py), compiled with the kernels' fast-math flags: log1p and log
within a few ulp; exp within 2e-16 (|t| + 4) relative, because reassociation may merge the two
halves of ln 2 in the range reduction (harmless here: exp only feeds log1p(exp(t))).

Range reduction:

- ``exp(t) = 2**n * exp(r)``, ``n = round(t / ln 2)``, ``|r| <= ln(2) / 2``, Taylor polynomial of
  degree 12 (truncation below 2e-16 relative), ln 2 split in two for an exact reduction (Cody-Waite);
- ``log(y) = k ln 2 + log(f)``, ``f`` in [sqrt(1/2), sqrt(2)), and
  ``log(f) = 2 atanh(s) = 2 (s + s**3/3 + ... + s**21/21)``, ``s = (f - 1) / (f + 1)``, ``|s| <= 0.172``.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

#: options for loops that use these functions: vectorisable float reductions (reassociation),
#: fused multiply-add; no "nnan"/"ninf" so that overflow still shows as inf or nan
FASTMATH = {"reassoc", "contract", "nsz", "arcp"}
#: division by zero gives inf (numpy semantics) instead of raising, which keeps loops vectorisable
JIT = {"cache": True, "nogil": True, "error_model": "numpy", "fastmath": FASTMATH}
#: for scalar helpers: never raise (a ZeroDivisionError inside nutpie's logp call aborts sampling;
#: inf or nan is rejected by the sampler as a divergence instead)
SCALAR_JIT = {"cache": True, "nogil": True, "error_model": "numpy"}
_INLINE = {"inline": "always", "error_model": "numpy"}

_LN2 = math.log(2.0)
_LN2_HI = 6.93147180369123816490e-01  # ln 2 with its last bits zeroed: n * _LN2_HI is exact
_LN2_LO = 1.90821492927058770002e-10
_INV_LN2 = 1.0 / _LN2
_SQRT2 = math.sqrt(2.0)


@intrinsic
def _float_bits(typingctx, x):
    """Reinterpret a float64 as int64 (no conversion)."""
    sig = types.int64(types.float64)

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return sig, codegen


@intrinsic
def _bits_float(typingctx, x):
    """Reinterpret an int64 as float64 (no conversion)."""
    sig = types.float64(types.int64)

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return sig, codegen


@numba.njit(**_INLINE)
def exp_nonpositive(t):
    """exp(t) for t <= 0; t below -708 is treated as -708 (result < 3.1e-308 instead of smaller)."""
    t = max(t, -708.0)
    n = math.floor(t * _INV_LN2 + 0.5)
    r = (t - n * _LN2_HI) - n * _LN2_LO
    p = 1.0 + r * (1.0 + r * (1 / 2 + r * (1 / 6 + r * (1 / 24 + r * (1 / 120 + r * (1 / 720 + r * (
        1 / 5040 + r * (1 / 40320 + r * (1 / 362880 + r * (1 / 3628800 + r * (1 / 39916800 + r * (
            1 / 479001600))))))))))))
    return p * _bits_float((np.int64(n) + 1023) << 52)


@numba.njit(**_INLINE)
def _log_of_ratio(s):
    """2 atanh(s) = log((1 + s) / (1 - s)) for |s| <= 0.172 (series to s**21)."""
    z = s * s
    return 2.0 * s * (1.0 + z * (1 / 3 + z * (1 / 5 + z * (1 / 7 + z * (1 / 9 + z * (1 / 11 + z * (
        1 / 13 + z * (1 / 15 + z * (1 / 17 + z * (1 / 19 + z * (1 / 21)))))))))))


@numba.njit(**_INLINE)
def log1p_unit(e):
    """log(1 + e) for 0 <= e <= 1, accurate relative to the result also for tiny e."""
    above = e > _SQRT2 - 1.0
    # above: log(1 + e) = ln 2 + log((1 + e) / 2), s = (e - 1) / (e + 3); below: s = e / (e + 2);
    # select numerator and denominator first so that one division serves both cases
    numerator = e - 1.0 if above else e
    denominator = e + 3.0 if above else e + 2.0
    return _log_of_ratio(numerator / denominator) + (_LN2 if above else 0.0)


@numba.njit(**_INLINE)
def log_positive(y):
    """log(y) for a finite normal y > 0."""
    bits = _float_bits(y)
    k = (bits >> 52) - 1023
    f = _bits_float((bits & 0x000FFFFFFFFFFFFF) | 0x3FF0000000000000)  # mantissa in [1, 2)
    above = f > _SQRT2
    f = 0.5 * f if above else f
    k = k + 1 if above else k
    return _log_of_ratio((f - 1.0) / (f + 1.0)) + k * _LN2


@numba.njit(**SCALAR_JIT)
def digamma(x):
    """Digamma function for x > 0 (recurrence up to x >= 8, then the asymptotic series).

    The truncation error of the series at x >= 8 is below 2e-14 (next term 1/(12 x**14)).
    """
    result = 0.0
    while x < 8.0:
        result -= 1.0 / x
        x += 1.0
    f = 1.0 / (x * x)
    series = f * (1 / 12 - f * (1 / 120 - f * (1 / 252 - f * (1 / 240 - f * (1 / 132 - f * 691 / 32760)))))
    return result + math.log(x) - 0.5 / x - series
