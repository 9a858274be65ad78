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


def neg_log_likelihood_and_grad(log_params, x, mbar, weights):
    """Weighted negative log-likelihood and its analytic gradient in log-parameters.

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
    p, q, gamma = np.exp(log_params)
    px = p * x
    log_total = np.log(gamma + x * mbar)
    ll = (gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(gamma)
          + (px - 1.0) * np.log(mbar) + px * np.log(x) - (px + q) * log_total)
    psi_sum = digamma(px + q)
    d_p = x * (psi_sum - digamma(px) + np.log(mbar) + np.log(x) - log_total)
    d_q = psi_sum - digamma(q) + np.log(gamma) - log_total
    d_gamma = q / gamma - (px + q) / (gamma + x * mbar)
    grad = np.array([p * np.dot(weights, d_p), q * np.dot(weights, d_q), gamma * np.dot(weights, d_gamma)])
    return -float(np.dot(weights, ll)), -grad


def expected_spend(p, q, gamma, x, mbar):
    """Conditional expected spend per transaction given ``x`` transactions of mean ``mbar``
    (FH 2013 eq. 5): ``p (gamma + x mbar) / (p x + q - 1)``, a weighted average of the population
    mean ``p gamma / (q - 1)`` and the customer's own mean. ``x = 0`` gives the population mean
    (``inf`` when q <= 1, where the population mean does not exist)."""
    x = np.asarray(x, float)
    mbar = np.where(x > 0, mbar, 0.0)
    with np.errstate(divide="ignore"):
        denominator = p * x + q - 1.0
        return np.where(denominator > 0, p * (gamma + x * mbar) / np.where(denominator > 0, denominator, 1.0), np.inf)


def population_mean_spend(p, q, gamma):
    """Mean spend per transaction across customers, ``p gamma / (q - 1)``; ``inf`` for q <= 1."""
    q = np.asarray(q, float)
    with np.errstate(divide="ignore"):
        return np.where(q > 1.0, p * gamma / np.where(q > 1.0, q - 1.0, 1.0), np.inf)
