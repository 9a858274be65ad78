"""The Pareto/NBD tail integral and its derivatives, for the fused kernel of :mod:`.fast_loglik_pnbd`.

``T(k1, P, k2, Q) = int_0^inf (P + w)^-k1 (Q + w)^-k2 dw`` (k1 + k2 > 1, P, Q > 0) is the
probability-weighted tail of the death time: with ``I(t) = T(r+x, alpha+t, s+1, beta+t)`` and
``K(t) = T(r+x+1, alpha+t, s, beta+t)`` the Pareto/NBD likelihood (note 009 eq. 18) is

``L = G(r+x) alpha^r beta^s / G(r) * [s I(t_x) + (r+x) K(T)]``

(the customer died at some tau > t_x after their last purchase, ``s I(t_x)``, minus the part
with tau > T, which integration by parts turns, together with the alive term
``(alpha+T)^-(r+x) (beta+T)^-s``, into ``(r+x) K(T)``). Both terms are positive, so no
cancellation; and I depends on (x, t_x) only, K on (x, T) only, so the kernel evaluates them once
per distinct pair, not per distinct row. pymc-marketing's ``ParetoNBD.logp`` uses the same two
terms written as Gauss hypergeometric functions.

Two routes, the same numbers to about 1e-12 relative:

- the series: with H the larger of P, Q and L the smaller, b the exponent of L's factor,
  ``a = k1 + k2 - 1`` and ``z = (H - L) / H`` in [0, 1),
  ``T = H^-a sum_n (b)_n z^n / (n! (a + n))`` (``H^-a 2F1(a, b; a + 1; z) / a``; expand
  ``(L + w)^-b = (H + w)^-b (1 - (H-L)/(H+w))^-b``), and its derivatives in a, b and z from the
  same terms; used while it converges within ``_MAX_TERMS`` terms (z not close to 1 and b z/(1-z)
  moderate: alpha and beta within a factor of a few of each other, as in every published fit);
- otherwise Gauss-Legendre panels on the log-time axis of :func:`clvmodels.formulas.paretonbd.
  _power_integral` (12 nodes per unit of v, cut where the log-integrand is below -45), whose
  moments give the derivatives.

``tail(k1, P, k2, Q, out)`` fills ``out[0:5]`` with ``log T`` and its derivatives with respect
to k1, k2, P and Q.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from clvmodels.formulas import paretonbd as _formulas
from clvmodels.inference.bayes.fast_math import JIT, SCALAR_JIT, exp_nonpositive, log_positive

_PANEL_WIDTH = _formulas._PANEL_WIDTH
_LOG_CUT = _formulas._LOG_CUT
_XI, _OMEGA = np.polynomial.legendre.leggauss(_formulas._QUAD_NODES)
# the kernel is compiled for fixed rules; a change of the numpy constants must show up here
assert _XI.size == 12 and _PANEL_WIDTH == 1.0
#: nodes and weights on [0, 1], as in formulas.paretonbd._power_integral; numba freezes these
#: global arrays into the compiled code as constants
_NODES = np.ascontiguousarray((_XI + 1.0) / 2.0)
_WEIGHTS = np.ascontiguousarray(_OMEGA / 2.0)
#: expm1 at the nodes of full panels 0 .. _TABLE_PANELS - 1 (later panels compute it)
_TABLE_PANELS = 64
_EXPM1 = np.ascontiguousarray(np.expm1(np.arange(_TABLE_PANELS)[:, None] + _NODES[None, :]))
#: the series gives way to the quadrature after this many terms
_MAX_TERMS = 300
#: a tail needs at most this many panels (k1 + k2 - 1 >= 0.02); beyond, the rest is dropped
_MAX_PANELS = 4000
_SERIES_TOL = 1e-17


@numba.njit(**JIT)
def _panel_sums(lo, width, em, c, inv_P, inv_Q, k1, k2, out):
    """Adds one panel's node sums (integral and moments of log1p(w/P), w/(P+w), log1p(w/Q),
    w/(Q+w), in v) to ``out[0:5]``; ``em`` is expm1 at the panel's nodes. Branch-free with
    :mod:`.fast_math`, so the loop over the nodes compiles to SIMD code (``log1p(y)`` as
    ``log(1 + y)``: absolute error below 1e-15, which is what enters the log-integrand)."""
    part = 0.0
    p_log_a = 0.0
    p_w_a = 0.0
    p_log_b = 0.0
    p_w_b = 0.0
    for j in range(_NODES.size):
        w = c * em[j]
        one_a = 1.0 + w * inv_P
        one_b = 1.0 + w * inv_Q
        log_a = log_positive(one_a)
        log_b = log_positive(one_b)
        f = _WEIGHTS[j] * exp_nonpositive(lo + _NODES[j] * width - k1 * log_a - k2 * log_b)
        part += f
        p_log_a += f * log_a
        p_w_a += f * (1.0 - 1.0 / one_a)
        p_log_b += f * log_b
        p_w_b += f * (1.0 - 1.0 / one_b)
    out[0] += part * width
    out[1] += p_log_a * width
    out[2] += p_w_a * width
    out[3] += p_log_b * width
    out[4] += p_w_b * width


@numba.njit(**JIT)
def _node_expm1(lo, width, em):
    """expm1 at the nodes of a panel of any width: exp(v) - 1, a Taylor polynomial below 1e-3."""
    for j in range(em.size):
        v = lo + _NODES[j] * width
        small = v * (1.0 + v * (0.5 + v * (1.0 / 6.0 + v * (1.0 / 24.0 + v * (1.0 / 120.0)))))
        em[j] = small if v < 1e-3 else exp_nonpositive(v) - 1.0


@numba.njit(**SCALAR_JIT)
def power_integral(k1, P, k2, Q, gap, em, out):
    """``out[0:5] = (J, m_log_a, m_w_a, m_log_b, m_w_b)``: ``J = int_0^gap (1 + w/P)^-k1
    (1 + w/Q)^-k2 dw`` (gap may be inf) and its moments, by the rule of
    ``formulas.paretonbd._power_integral`` (the cut decided with libm, as there). ``em`` is
    scratch of 12 floats."""
    c = 1.0 / (k1 / P + k2 / Q)
    v_end = math.log1p(gap / c)
    n_panels = int(math.ceil(min(v_end, float(_MAX_PANELS)) / _PANEL_WIDTH))
    edge = 1
    while edge < n_panels:  # concave log-integrand: stop after the first edge below -_LOG_CUT
        v = edge * _PANEL_WIDTH
        w = c * math.expm1(v)
        if v - k1 * math.log1p(w / P) - k2 * math.log1p(w / Q) < -_LOG_CUT:
            n_panels = edge
            break
        edge += 1
    out[:5] = 0.0
    inv_P = 1.0 / P
    inv_Q = 1.0 / Q
    for panel in range(n_panels):
        lo = panel * _PANEL_WIDTH
        width = min(v_end - lo, _PANEL_WIDTH)
        if width == _PANEL_WIDTH and panel < _TABLE_PANELS:
            _panel_sums(lo, width, _EXPM1[panel], c, inv_P, inv_Q, k1, k2, out)
        else:
            _node_expm1(lo, width, em)
            _panel_sums(lo, width, em, c, inv_P, inv_Q, k1, k2, out)
    for k in range(5):
        out[k] *= c


@numba.njit(**SCALAR_JIT)
def _series(a, b, z, out):
    """``out[0:4] = (S, dS/da, dS/db, dS/dz)`` of ``S = sum_n (b)_n z^n / (n! (a+n))``; returns
    False when the terms have not fallen below 1e-17 of the sum within ``_MAX_TERMS`` terms."""
    u = 1.0  # (b)_n z^n / n!
    h = 0.0  # d log (b)_n / db = sum_{k<n} 1 / (b + k)
    S = 1.0 / a
    S_a = -S * S
    S_b = 0.0
    S_nz = 0.0  # sum n u_n / (a + n), = z dS/dz
    for n in range(_MAX_TERMS):
        q = (b + n) * z / (n + 1.0)
        h += 1.0 / (b + n)
        u *= q
        inv = 1.0 / (a + n + 1.0)
        t = u * inv
        S += t
        S_a -= t * inv
        S_b += t * h
        S_nz += (n + 1.0) * t
        # the remaining terms fall at least geometrically with ratio max(q, z) < 1 from here on
        rho = max(q, z)
        if rho < 1.0 and t * (n + 2.0) < _SERIES_TOL * (1.0 - rho) * S:
            out[0] = S
            out[1] = S_a
            out[2] = S_b
            out[3] = S_nz / z if z > 0.0 else b / (a + 1.0)
            return True
    return False


@numba.njit(**SCALAR_JIT)
def tail(k1, P, k2, Q, em, scratch, out):
    """``out[0:5] = (log T, dlogT/dk1, dlogT/dk2, dlogT/dP, dlogT/dQ)`` of the tail integral
    (module docstring). ``em`` (12 floats) and ``scratch`` (5 floats) are work space."""
    a = k1 + k2 - 1.0
    high_is_P = P >= Q
    H = P if high_is_P else Q
    L = Q if high_is_P else P
    b = k2 if high_is_P else k1
    z = (H - L) / H
    # the terms peak near n = b z / (1 - z) and then fall like z^n: try the series when both are short
    if z < 0.8 and b * z < 100.0 * (1.0 - z) and _series(a, b, z, scratch):
        S = scratch[0]
        d_a = scratch[1] / S - math.log(H)
        d_b = scratch[2] / S
        d_z = scratch[3] / S
        out[0] = math.log(S) - a * math.log(H)
        d_H = -a / H + d_z * L / (H * H)
        d_L = -d_z / H
        out[1] = d_a + (0.0 if high_is_P else d_b)
        out[2] = d_a + (d_b if high_is_P else 0.0)
        out[3] = d_H if high_is_P else d_L
        out[4] = d_L if high_is_P else d_H
        return
    power_integral(k1, P, k2, Q, math.inf, em, scratch)
    J = scratch[0]
    log_P = math.log(P)
    log_Q = math.log(Q)
    out[0] = math.log(J) - k1 * log_P - k2 * log_Q
    out[1] = -log_P - scratch[1] / J
    out[2] = -log_Q - scratch[3] / J
    out[3] = -k1 / P * (1.0 - scratch[2] / J)
    out[4] = -k2 / Q * (1.0 - scratch[4] / J)
