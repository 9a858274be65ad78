"""The Gamma-Gamma spend model as pure functions of arrays.

Fader & Hardie (2013), "The Gamma-Gamma model of monetary value" (FH 2013 below); the same
model lifetimes' GammaGammaFitter fits. Each transaction's value is ``z ~ Gamma(p, nu)`` (shape p,
rate nu) with ``nu ~ Gamma(q, gamma)`` across customers. The data of a customer are ``x >= 1``
repeat transactions with mean value ``mbar``.

Functions broadcast like :mod:`clvmodels.formulas.bgnbd`: parameter arrays (S, 1) with customer
arrays (n,) give (S, n). Nothing here validates input.
"""

from __future__ import annotations

import numpy as np
from scipy.special import digamma, gammaln

PARAM_NAMES = ("p", "q", "gamma")


def log_likelihood(p, q, gamma, x, mbar):
    """Log density of the mean spend ``mbar`` of ``x`` transactions (FH 2013 eq. 4).

    ``ln f = lnG(px+q) - lnG(px) - lnG(q) + q ln(gamma) + (px-1) ln(mbar) + px ln(x)
    - (px+q) ln(gamma + x mbar)``: the mean of x Gamma(p, nu) values is Gamma(px, x nu), mixed over
    nu ~ Gamma(q, gamma).

    Parameters
    ----------
    p, q, gamma : array_like, e.g. shape (S, 1)
    x : array_like, shape (n,)
        Number of repeat transactions (>= 1).
    mbar : array_like, shape (n,)
        Mean value of those transactions (> 0).

    Returns
    -------
    ndarray, broadcast shape, e.g. (S, n)
    """
    px = p * x
    return (gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(gamma)
            + (px - 1.0) * np.log(mbar) + px * np.log(x) - (px + q) * np.log(gamma + x * mbar))


def negative_log_likelihood(x, mbar, weights):
    """The weighted negative log-likelihood of FH 2013 eq. 4 as a function of the log-parameters.

    Everything that does not change with the parameters is computed here once, so each call of the
    returned objective costs one logarithm and one division per row (plus log-gamma and digamma
    once per distinct x, when x is whole): the optimiser calls it dozens of times on hundreds of
    thousands of distinct (x, mbar) rows. With ``L = ln(gamma + x mbar)``:

    * ``-ln L = -sum_x c_x [lnG(px+q) - lnG(px)] + W [lnG(q) - q ln gamma] - p A + B + sum w (px+q) L``
      with ``W = sum w``, ``A = sum w x ln(x mbar)``, ``B = sum w ln(mbar)``;
    * d/dp = sum_x c_x x [psi(px+q) - psi(px)] + A - sum w x L;
    * d/dq = sum_x c_x psi(px+q) - W psi(q) + W ln(gamma) - sum w L;
    * d/dgamma = W q / gamma - sum w (px+q) / (gamma + x mbar);

    each times its parameter for the log scale, and negated.

    Parameters
    ----------
    x, mbar, weights : ndarray, shape (m,)
        Distinct rows (x >= 1 repeat transactions of mean value mbar > 0) and how many customers
        each stands for.

    Returns
    -------
    callable
        ``objective(log_params) -> (value, grad)`` with ``log_params = log(p), log(q), log(gamma)``
        (shape (3,)), ``value`` the weighted negative log-likelihood and ``grad`` (shape (3,)) its
        gradient in the log-parameters.
    """
    x = np.asarray(x, dtype=float)
    mbar = np.asarray(mbar, dtype=float)
    w = np.asarray(weights, dtype=float)
    values, inverse = np.unique(x, return_inverse=True)
    counts = np.bincount(inverse, weights=w)  # total weight per distinct frequency
    wx = w * x
    total = w.sum()
    spent = x * mbar  # each row's total repeat spend
    sum_wx_log_xm = wx @ np.log(spent)
    sum_w_log_m = w @ np.log(mbar)

    def objective(log_params):
        p, q, gamma = np.exp(np.asarray(log_params, dtype=float))
        pv = p * values
        psi_sum = digamma(pv + q)
        gamma_spent = gamma + spent
        log_total = np.log(gamma_spent)
        inv_total = np.divide(1.0, gamma_spent, out=gamma_spent)
        wx_log, w_log = wx @ log_total, w @ log_total
        value = (counts @ (gammaln(pv + q) - gammaln(pv)) - total * (gammaln(q) - q * np.log(gamma))
                 + p * sum_wx_log_xm - sum_w_log_m - p * wx_log - q * w_log)
        d_p = counts @ (values * (psi_sum - digamma(pv))) + sum_wx_log_xm - wx_log
        d_q = counts @ psi_sum - total * (digamma(q) - np.log(gamma)) - w_log
        d_gamma = total * q / gamma - p * (wx @ inv_total) - q * (w @ inv_total)
        return -float(value), -np.array([p * d_p, q * d_q, gamma * d_gamma])

    return objective


def neg_log_likelihood_and_grad(log_params, x, mbar, weights):
    """Weighted negative log-likelihood and its analytic gradient in log-parameters, at one point.

    ``negative_log_likelihood(x, mbar, weights)(log_params)``; optimisers should build the
    objective once with :func:`negative_log_likelihood` instead.

    Parameters
    ----------
    log_params : ndarray, shape (3,)
        ``log(p), log(q), log(gamma)``.
    x, mbar, weights : ndarray, shape (m,)
        Distinct rows and how many customers each stands for.

    Returns
    -------
    value : float
    grad : ndarray, shape (3,)
        Derivatives w.r.t. the log-parameters (chain rule: d/d log p = p d/dp).
    """
    return negative_log_likelihood(x, mbar, weights)(log_params)


def expected_spend(p, q, gamma, x, mbar):
    """Conditional expected spend per transaction given ``x`` transactions of mean ``mbar``
    (FH 2013 eq. 5): ``p (gamma + x mbar) / (p x + q - 1)``, a weighted average of the population
    mean ``p gamma / (q - 1)`` and the customer's own mean. ``x = 0`` gives the population mean
    (``inf`` when q <= 1, where the population mean does not exist)."""
    from clvmodels.formulas.spend_mean_kernel import expected_spend_cells  # numba on first use

    cells = expected_spend_cells(p, q, gamma, x, mbar)  # (S, n) in one compiled pass
    if cells is not None:
        return cells
    x = np.asarray(x, float)
    own = x * np.where(x > 0, mbar, 0.0)  # (n,), once for all draws
    if x.size and np.min(p) >= 0 and np.all(np.asarray(p * np.min(x) + q - 1.0) > 0):
        # every denominator is positive (the usual case, q > 1): rounding is monotone, so
        # p x + q - 1 >= p min(x) + q - 1 > 0 for p >= 0, and no (S, n) test is needed
        denominator = p * x + q - 1.0
        value = p * (gamma + own)
        if np.shape(value) == np.shape(denominator):
            value /= denominator
            return value
        return value / denominator
    denominator = np.asarray(p * x + q - 1.0)
    positive = denominator > 0
    with np.errstate(divide="ignore"):
        return np.where(positive, p * (gamma + own) / np.where(positive, denominator, 1.0), np.inf)


def population_mean_spend(p, q, gamma):
    """Mean spend per transaction across customers, ``p gamma / (q - 1)``; ``inf`` for q <= 1."""
    q = np.asarray(q, float)
    with np.errstate(divide="ignore"):
        return np.where(q > 1.0, p * gamma / np.where(q > 1.0, q - 1.0, 1.0), np.inf)
