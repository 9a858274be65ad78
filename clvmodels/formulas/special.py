"""Numerically stable special-function pieces shared by the model formulas.

Plain numpy/scipy on arrays that broadcast; nothing here validates its input.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.special import hyp2f1


def hyp2f1_pfaff(c_minus_a, b, c, u):
    """Gauss hypergeometric function ``2F1(c - c_minus_a, b; c; -u)`` for u >= 0, via Pfaff.

    ``2F1(A, b; c; -u) = (1 + u)**(-b) * 2F1(c - A, b; c; u / (1 + u))`` (Abramowitz & Stegun
    15.3.4). The series on the right has its argument in [0, 1), so it converges for every
    u >= 0, whereas the series at -u diverges for u > 1. The caller passes ``c - A`` itself
    (e.g. ``a + b - r`` when A = r + x and c = a + b + x) so that no large frequency is added and
    subtracted again, and ``b`` should be the parameter that does not grow with the frequency.

    Parameters
    ----------
    c_minus_a, b, c : array_like
        Parameters, broadcast together with ``u``; ``c`` must not be 0, -1, -2, ...
    u : array_like
        Non-negative argument (the function is evaluated at ``-u``).

    Returns
    -------
    ndarray
        Values of shape ``broadcast(c_minus_a, b, c, u)``.
    """
    u = np.asarray(u, dtype=float)
    return np.exp(-b * np.log1p(u)) * hyp2f1(c_minus_a, b, c, u / (1.0 + u))


@lru_cache(maxsize=16)
def composite_gauss_legendre(panels: int, nodes_per_panel: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights of a composite Gauss-Legendre rule on [0, 1].

    The interval is split into ``panels`` equal panels with ``nodes_per_panel`` Gauss-Legendre
    nodes each, so ``sum(weights * f(nodes))`` approximates the integral of a smooth ``f`` over
    [0, 1]. The returned arrays are read-only (they are cached and shared).

    Returns
    -------
    nodes, weights : ndarray, shape (panels * nodes_per_panel,)
    """
    xi, omega = np.polynomial.legendre.leggauss(nodes_per_panel)
    starts = np.arange(panels)[:, None] / panels
    nodes = (starts + (xi + 1.0) / (2.0 * panels)).ravel()
    weights = np.tile(omega / (2.0 * panels), panels)
    nodes.setflags(write=False)
    weights.setflags(write=False)
    return nodes, weights
