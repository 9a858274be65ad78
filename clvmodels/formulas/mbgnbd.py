"""The MBG/NBD purchase-and-dropout model as pure functions of arrays.

Batislam, Denizel & Filiztekin (2007), "Empirical validation and comparison of models for
customer base analysis", International Journal of Research in Marketing 24(3) (BDF 2007); the
same model as Hoppe & Wagner (2007). As the BG/NBD (Fader, Hardie & Lee 2005), a customer buys
at Poisson rate ``lambda ~ Gamma(r, alpha)`` while alive and may drop out with probability
``p ~ Beta(a, b)``, but here also right after the first purchase at time 0, so a customer
without repeat purchases can be dead and ``P(alive | x = 0) < 1``.

The individual likelihood is ``(1-p)^(x+1) lambda^x e^(-lambda T)`` (alive) plus
``p (1-p)^x lambda^x e^(-lambda t_x)`` (dropped out right after the x-th repeat purchase, or at
time 0 when x = 0). The alive posterior is ``lambda ~ Gamma(r+x, alpha+T)``,
``p ~ Beta(a, b+x+1)``: the BG/NBD alive posterior with ``b + 1`` in place of ``b``. Every
alive-branch function is therefore :mod:`clvmodels.formulas.bgnbd`'s at ``b + 1`` (same
stable Euler/Pfaff routes, same quadrature), and only the likelihood, P(alive) and the dead
branch are written here.

Every function broadcasts its arguments: parameters of shape (S, 1) with customers of shape
(n,) give (S, n); scalars work too. Nothing here validates its input.
"""

from __future__ import annotations

import numpy as np
from scipy.special import betainc, betaln, digamma, expit, gammaln, xlogy

from clvmodels.formulas import bgnbd
from clvmodels.formulas.row_tables import frequency_table as _frequency_table

PARAM_NAMES = ("r", "alpha", "a", "b")


def _as_float(*arrays):
    return [np.asarray(v, dtype=float) for v in arrays]


def _log_odds_dropout(r, alpha, a, b, x, t_x, T):
    """Log-odds of having dropped out: ``ln[a/(b+x)] + (r+x) ln[(alpha+T)/(alpha+t_x)]``
    (BDF 2007 appendix A eq. 5), the ratio's log taken with log1p; finite also at x = 0."""
    r, alpha, a, b, x, t_x, T = _as_float(r, alpha, a, b, x, t_x, T)
    return np.log(a) - np.log(b + x) + (r + x) * np.log1p((T - t_x) / (alpha + t_x))


def log_likelihood(r, alpha, a, b, x, t_x, T):
    """Per-customer MBG/NBD log-likelihood (BDF 2007 eq. 3, in the log form of Hardie note 027).

    ``ln G(r+x) - ln G(r) + r ln alpha + ln B(a, b+x+1) - ln B(a, b) - (r+x) ln(alpha+T)
    + ln(1 + exp(log-odds of dropout))``.

    Parameters
    ----------
    r, alpha, a, b : array_like
        Model parameters, e.g. scalars or shape (S, 1).
    x, t_x, T : array_like
        Repeat purchases, recency and age of each customer, e.g. shape (n,).

    Returns
    -------
    ndarray
        Log-likelihood of each customer (broadcast shape).
    """
    r, alpha, a, b, x, t_x, T = _as_float(r, alpha, a, b, x, t_x, T)
    return (
        gammaln(r + x) - gammaln(r) + r * np.log(alpha) + betaln(a, b + x + 1.0) - betaln(a, b)
        - (r + x) * np.log(alpha + T)
        + np.logaddexp(0.0, _log_odds_dropout(r, alpha, a, b, x, t_x, T))
    )


def neg_log_likelihood_and_grad(log_params, x, t_x, T, weights):
    """Minus the weighted MBG/NBD log-likelihood and its analytic gradient in log-parameters.

    With ``q`` the probability of having dropped out (expit of the log-odds):

    * d/dr = psi(r+x) - psi(r) + ln alpha - ln(alpha+T) + q ln[(alpha+T)/(alpha+t_x)]
    * d/dalpha = r/alpha - (r+x) [(1-q)/(alpha+T) + q/(alpha+t_x)]
    * d/da = psi(a+b) - psi(a+b+x+1) + q/a
    * d/db = psi(b+x+1) - psi(b) + psi(a+b) - psi(a+b+x+1) - q/(b+x)

    each multiplied by its parameter for the log scale.

    Parameters
    ----------
    log_params : ndarray, shape (4,)
        ``log(r), log(alpha), log(a), log(b)``.
    x, t_x, T : ndarray, shape (n,)
        Repeat purchases (x-only terms once per distinct whole value), recency and age.
    weights : ndarray, shape (n,), or None
        Number of customers each row stands for (None: one each).

    Returns
    -------
    value : float
    grad : ndarray, shape (4,)
    """
    r, alpha, a, b = np.exp(np.asarray(log_params, dtype=float))
    x = np.asarray(x)
    t_x = np.asarray(t_x, dtype=float)
    T = np.asarray(T, dtype=float)
    weights = np.ones(x.shape) if weights is None else np.asarray(weights, dtype=float)
    values, counts, to_rows = _frequency_table(x, weights)
    total = counts.sum()

    psi_abx = digamma(a + b + values + 1.0)
    value = counts @ (gammaln(r + values) + betaln(a, b + values + 1.0)) + total * (
        r * np.log(alpha) - gammaln(r) - betaln(a, b))
    grad_r = counts @ digamma(r + values) + total * (np.log(alpha) - digamma(r))
    grad_alpha = total * r / alpha
    grad_a = total * digamma(a + b) - counts @ psi_abx
    grad_b = counts @ (digamma(b + values + 1.0) - psi_abx) + total * (digamma(a + b) - digamma(b))

    r_x = x + r
    log_ratio = np.log1p((T - t_x) / (alpha + t_x))
    log_odds = r_x * log_ratio + to_rows(np.log(a) - np.log(b + values))
    dropped = expit(log_odds)
    log_alpha_T = np.log(alpha + T)
    value += weights @ (np.logaddexp(0.0, log_odds) - r_x * log_alpha_T)
    w_dropped = weights * dropped
    grad_r += w_dropped @ log_ratio - weights @ log_alpha_T
    grad_alpha -= (weights * r_x) @ ((1.0 - dropped) / (alpha + T) + dropped / (alpha + t_x))
    grad_a += w_dropped.sum() / a
    grad_b -= w_dropped @ to_rows(1.0 / (b + values))

    grad = np.array([grad_r * r, grad_alpha * alpha, grad_a * a, grad_b * b])
    return -float(value), -grad


def start_point(x, t_x, T, weights):
    """Log-parameters to start the optimiser: r = a = b = 1, alpha = mean T per repeat purchase."""
    weights = np.ones(np.shape(x)) if weights is None else np.asarray(weights, float)
    alpha0 = max(float(np.sum(weights * T) / max(np.sum(weights * x), 1.0)), 1e-3)
    return np.log([1.0, alpha0, 1.0, 1.0])


def p_alive(r, alpha, a, b, x, t_x, T):
    """P(alive at T | history) = 1 / (1 + a/(b+x) ((alpha+T)/(alpha+t_x))^(r+x)) (BDF 2007
    appendix A eq. 5), as the expit of minus the log-odds; < 1 also for x = 0."""
    return expit(-_log_odds_dropout(r, alpha, a, b, x, t_x, T))


def survival_if_alive(r, alpha, a, b, x, T, t):
    """P(alive at T+t | alive at T): :func:`clvmodels.formulas.bgnbd.survival_if_alive` at b+1."""
    return bgnbd.survival_if_alive(r, alpha, a, np.asarray(b, float) + 1.0, x, T, t)


def expected_purchases_if_alive(r, alpha, a, b, x, T, t):
    """E[purchases in (T, T+t] | alive at T] = (a+b+x)/(a-1) [1 - ((alpha+T)/(alpha+T+t))^(r+x)
    2F1(r+x, b+x+1; a+b+x; t/(alpha+T+t))] (BDF 2007 eq. 8 without P(alive)), by the stable
    route of :func:`clvmodels.formulas.bgnbd.expected_purchases_if_alive` at b+1."""
    return bgnbd.expected_purchases_if_alive(r, alpha, a, np.asarray(b, float) + 1.0, x, T, t)


def expected_purchases(r, alpha, a, b, x, t_x, T, t):
    """Expected repeat purchases in (T, T+t] given the history (BDF 2007 eq. 8):
    P(alive) x :func:`expected_purchases_if_alive`."""
    return p_alive(r, alpha, a, b, x, t_x, T) * expected_purchases_if_alive(r, alpha, a, b, x, T, t)


def expected_purchases_new(r, alpha, a, b, t):
    """E[X(t)] of a customer acquired at 0: b/(a-1) [1 - (alpha/(alpha+t))^r 2F1(r, b+1; a+b;
    t/(alpha+t))] (BDF 2007 eq. 7): P(alive at 0) = b/(a+b) times the alive branch at x = T = 0."""
    return expected_purchases(r, alpha, a, b, 0.0, 0.0, 0.0, t)


def expected_discounted_purchases_if_alive(r, alpha, a, b, x, T, horizon, discount_rate):
    """E[discounted purchases in (T, T+H] | alive at T], a purchase u units ahead counting
    ``(1+d)^-u``: the BG/NBD alive-branch integral at b+1, obtained as BG/NBD's expectation at
    recency T divided by BG/NBD's P(alive) there (>= (b+1+x)/(a+b+1+x), no cancellation)."""
    b1 = np.asarray(b, float) + 1.0
    return (bgnbd.expected_discounted_purchases(r, alpha, a, b1, x, T, T, horizon, discount_rate)
            / bgnbd.p_alive(r, alpha, a, b1, x, T, T))


def expected_discounted_purchases(r, alpha, a, b, x, t_x, T, horizon, discount_rate):
    """Expected discounted repeat purchases in (T, T+H] given the history; equals
    :func:`expected_purchases` at discount rate 0. A new customer is x = t_x = T = 0."""
    return p_alive(r, alpha, a, b, x, t_x, T) * expected_discounted_purchases_if_alive(
        r, alpha, a, b, x, T, horizon, discount_rate)


def prob_no_purchase(r, alpha, a, b, x, t_x, T, t):
    """P(no repeat purchase in (T, T+t] | history) = P(dead) + P(alive) ((alpha+T)/(alpha+T+t))^(r+x)
    (dropout only follows a purchase, so an alive customer buys nothing iff the Poisson does)."""
    r, alpha, a, b, x, t_x, T, t = _as_float(r, alpha, a, b, x, t_x, T, t)
    log_odds = _log_odds_dropout(r, alpha, a, b, x, t_x, T)
    return expit(log_odds) + expit(-log_odds) * np.exp(-(r + x) * np.log1p(t / (alpha + T)))


def purchase_probability(r, alpha, a, b, x, t_x, T, t, n):
    """P(exactly n repeat purchases in (T, T+t] | history): the MBG/NBD conditional PMF.

    Given alive the future is the BG/NBD's given alive with ``p ~ Beta(a, b+x+1)``, so with
    ``q = t/(alpha+T+t)``, ``m = r + x``, ``c = b + x + 1`` and NB the negative binomial PMF
    (size m, success probability 1-q), for n >= 1

    ``P(n | alive) = [B(a, c+n-1) NB(n) + B(a+1, c+n-1) I_q(n+1, m)] / B(a, c)``

    and ``P(0 | alive) = (1-q)^m`` (the BG/NBD conditional PMF of Fader, Hardie & Lee's note at
    b+1; at x = t_x = T = 0 it gives BDF 2007 eq. 6). A dead customer buys nothing.

    Returns
    -------
    ndarray
        Probabilities, broadcast shape; they sum to 1 over n = 0, 1, 2, ...
    """
    r, alpha, a, b, x, t_x, T, t, n = _as_float(r, alpha, a, b, x, t_x, T, t, n)
    log_odds = _log_odds_dropout(r, alpha, a, b, x, t_x, T)
    m, c = r + x, b + x + 1.0
    log_stay = -m * np.log1p(t / (alpha + T))
    q = t / (alpha + T + t)
    n_pos = np.maximum(n, 1.0)
    log_nb = gammaln(m + n_pos) - gammaln(m) - gammaln(n_pos + 1.0) + log_stay + xlogy(n_pos, q)
    log_beta = betaln(a, c)
    some = np.exp(betaln(a, c + n_pos - 1.0) - log_beta + log_nb) + np.exp(
        betaln(a + 1.0, c + n_pos - 1.0) - log_beta) * betainc(n_pos + 1.0, m, q)
    if_alive = np.where(n > 0, some, np.exp(log_stay))
    return expit(-log_odds) * if_alive + np.where(n > 0, 0.0, expit(log_odds))


def purchase_probability_new(r, alpha, a, b, t, n):
    """P(X(t) = n) of a customer acquired at 0 (BDF 2007 eq. 6): the conditional PMF at 0."""
    return purchase_probability(r, alpha, a, b, 0.0, 0.0, 0.0, t, n)
