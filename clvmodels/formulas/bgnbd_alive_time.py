"""BG/NBD discounted alive time: the cost-to-serve integral of a customer alive at T.

Kept apart from :mod:`clvmodels.formulas.bgnbd` (likelihood and closed forms) because it is a
quadrature; :mod:`clvmodels.families.bgnbd` and :mod:`clvmodels.families.mbgnbd` use it for the
contract's ``discounted_alive_time_if_alive``.
"""

from __future__ import annotations

import numpy as np
from scipy.special import hyp2f1

from clvmodels.formulas.special import composite_gauss_legendre

# 3 panels x 8 nodes on the log-time axis agree with adaptive quadrature to 1e-8 relative, also
# for a century of weeks (tests/test_value_expected.py); money needs no more, and every node
# costs one hypergeometric function per draw and customer.
_ALIVE_PANELS, _ALIVE_NODES = 3, 8
# Discount factors below exp(-40) are dropped from the integral.
_DISCOUNT_CUTOFF = 40.0


def discounted_alive_time_if_alive(r, alpha, a, b, x, T, horizon, discount_rate):
    """Expected discounted time alive in (T, T + horizon] for a customer alive at T.

    ``int_0^H S(s) (1+d)^-s ds`` with the survival ``S(s) = 2F1(r+x, a; a+b+x; -s/(alpha+T))``
    (see :func:`clvmodels.formulas.bgnbd.p_alive_at`). With ``s = (alpha+T) expm1(v)`` and Pfaff's
    transform the integrand becomes the smooth
    ``(alpha+T) exp((1-a) v - kappa expm1(v)) 2F1(a+b-r, a; a+b+x; 1-exp(-v))``,
    ``kappa = ln(1+d) (alpha+T)``, integrated by composite Gauss-Legendre over
    ``[0, log1p(H/(alpha+T))]`` (the route the formulas take for the discounted purchase rate).

    Parameters
    ----------
    r, alpha, a, b : array_like
        BG/NBD parameters, e.g. shape (S, 1).
    x, T : array_like
        Frequency and age of the customers, e.g. shape (n,); a new customer is x = T = 0.
    horizon : float or array_like
        Horizon in time units (``np.inf`` allowed when ``discount_rate > 0``).
    discount_rate : float
        Discount rate per time unit.

    Returns
    -------
    ndarray
        Discounted alive time in time units, broadcast shape of the arguments.
    """
    r, alpha, a, b, x, T = (np.asarray(v, float) for v in (r, alpha, a, b, x, T))
    alpha_T = alpha + T
    kappa = np.log1p(discount_rate) * alpha_T
    v_end = np.log1p(np.asarray(horizon, float) / alpha_T)
    if discount_rate > 0:
        v_end = np.minimum(v_end, np.log1p(_DISCOUNT_CUTOFF / kappa))
    c_minus_a, c = a + b - r, a + b + x
    nodes, weights = composite_gauss_legendre(_ALIVE_PANELS, _ALIVE_NODES)
    total = 0.0
    for node, weight in zip(nodes, weights):
        v = node * v_end
        total = total + weight * np.exp((1.0 - a) * v - kappa * np.expm1(v)) * hyp2f1(
            c_minus_a, a, c, -np.expm1(-v))
    return alpha_T * v_end * total
