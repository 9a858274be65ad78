"""The shifted-beta-geometric (sBG) subscription model as pure functions of arrays.

Fader & Hardie (2007), "How to project customer retention", Journal of Interactive Marketing
21(1) (FH 2007 below); discounted expected (residual) lifetimes from Fader & Hardie (2010),
"Customer-base valuation in a contractual setting: the perils of ignoring heterogeneity",
Marketing Science 29(1) (FH 2010 below).

Each customer pays for a first period and then, at the end of every period, renews with
probability ``1 - theta`` or leaves for good; ``theta ~ Beta(alpha, beta)`` across customers.
The lifetime ``T`` (periods paid, 1, 2, ...) is then shifted-beta-geometric:

* ``P(T = t) = B(alpha + 1, beta + t - 1) / B(alpha, beta)`` (FH 2007 eq. 4), t >= 1;
* ``S(t) = P(T > t) = B(alpha, beta + t) / B(alpha, beta)`` (FH 2007 eq. 5): the share still
  subscribed after ``t`` renewal decisions, ``S(0) = 1``;
* ``r_t = S(t) / S(t - 1) = (beta + t - 1) / (alpha + beta + t - 1)`` (FH 2007 eq. 7).

A customer's state is ``renewals``: how many renewals they have made so far (they are in their
period ``renewals + 1``, already paid). Horizons count whole future periods (renewal decisions):
a fractional horizon counts only the whole periods inside it. A renewal ``k`` periods ahead is
discounted by ``(1 + d) ** -k`` (``d`` per period), so the current, already paid period is not
part of any future sum.

Every function broadcasts: (S, 1) parameters with (n,) customers give (S, n). Nothing here
validates input. Log-space Beta functions throughout, so ``renewals`` in the thousands is fine.
"""

from __future__ import annotations

import numpy as np
from scipy.special import betaln, digamma

from clvmodels.formulas.betageometric import beta_survival_sum
from clvmodels.formulas.individual import draw_geometric

PARAM_NAMES = ("alpha", "beta")
#: cap of simulated renewals over an infinite horizon (exact in float64 and int64)
MAX_SIMULATED_RENEWALS = 1e15


def _f(*arrays):
    return [np.asarray(v, dtype=float) for v in arrays]


def survival(alpha, beta, t):
    """``S(t) = B(alpha, beta + t) / B(alpha, beta)``: share surviving t renewal decisions.

    Parameters
    ----------
    alpha, beta : array_like
        sBG parameters, e.g. shape (S, 1).
    t : array_like
        Whole periods (>= 0), e.g. shape (n,).

    Returns
    -------
    ndarray
        Probabilities in (0, 1], broadcast shape; ``S(0) = 1`` (FH 2007 eq. 5).
    """
    alpha, beta, t = _f(alpha, beta, t)
    return np.exp(betaln(alpha, beta + t) - betaln(alpha, beta))


def retention_rate(alpha, beta, t):
    """Retention rate of period t, ``r_t = (beta + t - 1) / (alpha + beta + t - 1)``, t >= 1.

    ``S(t) / S(t - 1)`` (FH 2007 eq. 7): the share of the customers who made t - 1 renewals that
    make the t-th. It increases with t through sorting (the loyal remain), not individual change.
    """
    alpha, beta, t = _f(alpha, beta, t)
    return (beta + t - 1.0) / (alpha + beta + t - 1.0)


def churn_probability(alpha, beta, t):
    """``P(T = t) = B(alpha + 1, beta + t - 1) / B(alpha, beta)``, t >= 1 (FH 2007 eq. 4).

    The probability that a new customer pays for exactly t periods (leaves after the t-th).
    """
    alpha, beta, t = _f(alpha, beta, t)
    return np.exp(betaln(alpha + 1.0, beta + t - 1.0) - betaln(alpha, beta))


def log_likelihood(alpha, beta, renewals, churned):
    """Per-customer sBG log-likelihood with exact right censoring.

    A customer who made ``renewals`` renewals and then left (``churned`` true) has ``T =
    renewals + 1``: ``ln P(T = renewals + 1)``. One still subscribed (censored) has ``T >
    renewals``: ``ln S(renewals)`` (FH 2007 eq. 6 is the cohort form of the same sum).

    Parameters
    ----------
    alpha, beta : array_like
        Parameters, e.g. shape (S, 1).
    renewals : array_like
        Renewals made, whole numbers >= 0, shape (n,).
    churned : array_like of bool
        True where the customer has left, False where still active at the observation end.

    Returns
    -------
    ndarray
        Log-likelihood per customer, broadcast shape.
    """
    alpha, beta, renewals = _f(alpha, beta, renewals)
    churned = np.asarray(churned, dtype=bool)
    left = betaln(alpha + 1.0, beta + renewals)
    stayed = betaln(alpha, beta + renewals)
    return np.where(churned, left, stayed) - betaln(alpha, beta)


def neg_log_likelihood_and_grad(log_params, renewals, churned, weights):
    """Minus the weighted sBG log-likelihood and its gradient in ``(log alpha, log beta)``.

    With ``psi`` the digamma function and ``m`` = renewals, the derivatives of a row are

    * churned: d/dalpha = psi(alpha+1) - psi(alpha+beta+m+1) - psi(alpha) + psi(alpha+beta),
      d/dbeta = psi(beta+m) - psi(alpha+beta+m+1) - psi(beta) + psi(alpha+beta);
    * active: d/dalpha = psi(alpha+beta) - psi(alpha+beta+m),
      d/dbeta = psi(beta+m) - psi(alpha+beta+m) - psi(beta) + psi(alpha+beta);

    each multiplied by its parameter for the log scale.

    Parameters
    ----------
    log_params : ndarray, shape (2,)
        ``log(alpha), log(beta)``.
    renewals, churned : ndarray, shape (n,)
        Distinct (renewals, churned) rows.
    weights : ndarray, shape (n,), or None
        Customers per row (None: one each).

    Returns
    -------
    value : float
    grad : ndarray, shape (2,)
    """
    alpha, beta = np.exp(np.asarray(log_params, dtype=float))
    m = np.asarray(renewals, dtype=float)
    churned = np.asarray(churned, dtype=bool)
    w = np.ones(m.shape) if weights is None else np.asarray(weights, dtype=float)
    w_left, w_stay = w * churned, w * ~churned
    total = w.sum()
    value = w_left @ betaln(alpha + 1.0, beta + m) + w_stay @ betaln(alpha, beta + m)
    value -= total * betaln(alpha, beta)
    psi_ab = digamma(alpha + beta)
    psi_b_m = digamma(beta + m)
    psi_left = digamma(alpha + beta + m + 1.0)
    psi_stay = digamma(alpha + beta + m)
    g_alpha = w_left @ (1.0 / alpha - psi_left + psi_ab) + w_stay @ (psi_ab - psi_stay)
    g_beta = (w_left @ (psi_b_m - psi_left) + w_stay @ (psi_b_m - psi_stay)
              + total * (psi_ab - digamma(beta)))
    return -float(value), -np.array([g_alpha * alpha, g_beta * beta])


def cohort_to_tenures(survivors):
    """A cohort's survival counts as (renewals, churned, weights) rows for the likelihood.

    Parameters
    ----------
    survivors : array_like, shape (k + 1,)
        Customers still subscribed at the start of periods 0..k (``survivors[0]`` the cohort
        size), non-increasing.

    Returns
    -------
    renewals, churned, weights : ndarray, shape (k + 1,)
        ``survivors[t-1] - survivors[t]`` customers left after t-1 renewals (t = 1..k) and
        ``survivors[k]`` are still active after k renewals (FH 2007 eq. 6).
    """
    n = np.asarray(survivors, dtype=float)
    k = n.size - 1
    renewals = np.arange(k + 1, dtype=float)
    churned = np.arange(k + 1) < k
    weights = np.append(n[:-1] - n[1:], n[-1])
    return renewals, churned, weights


def cohort_log_likelihood(alpha, beta, survivors):
    """Log-likelihood of a cohort's survival counts (FH 2007 eq. 6).

    ``sum_{t=1}^{k} (n_{t-1} - n_t) ln P(T = t) + n_k ln S(k)`` for ``survivors`` n_0..n_k:
    :func:`log_likelihood` on the rows of :func:`cohort_to_tenures`, weighted.

    Parameters
    ----------
    alpha, beta : array_like
        Parameters, scalars or shape (S, 1).
    survivors : array_like, shape (k + 1,)
        Customers still subscribed at the start of periods 0..k.

    Returns
    -------
    ndarray
        The cohort's log-likelihood, shape of the parameters with the last axis summed.
    """
    renewals, churned, weights = cohort_to_tenures(survivors)
    return np.sum(weights * log_likelihood(alpha, beta, renewals, churned), axis=-1)


def survival_if_alive(alpha, beta, renewals, k):
    """``P(T > renewals + k | T > renewals) = B(alpha, beta + renewals + k) / B(alpha, beta + renewals)``.

    The probability that a customer who has made ``renewals`` renewals makes k more.
    """
    alpha, beta, renewals, k = _f(alpha, beta, renewals, np.floor(k))
    return np.exp(betaln(alpha, beta + renewals + k) - betaln(alpha, beta + renewals))


def expected_renewals(alpha, beta, renewals, horizon, discount_rate=0.0):
    """Expected (discounted) renewals in the next ``horizon`` periods of a customer still subscribed.

    ``sum_{k=1}^{H} S(renewals + k) / S(renewals) (1 + d)^-k``, via :func:`beta_survival_sum`
    with ``theta | renewals ~ Beta(alpha, beta + renewals)``.
    """
    alpha, beta, renewals = _f(alpha, beta, renewals)
    return beta_survival_sum(alpha, beta + renewals, horizon, discount_rate)


def expected_residual_lifetime(alpha, beta, renewals):
    """Expected number of further renewals, ``E[T - renewals - 1 | T > renewals]``.

    ``(beta + renewals) / (alpha - 1)`` for alpha > 1, infinite otherwise (the heavy tail of
    loyal customers): the undiscounted beta_survival_sum at an infinite horizon. Add 1 for the expected
    remaining periods including the current one.
    """
    alpha, beta, renewals = _f(alpha, beta, renewals)
    return beta_survival_sum(alpha, beta + renewals, np.inf)


def discounted_expected_lifetime(alpha, beta, discount_rate):
    """DEL of a new customer: ``sum_{t>=0} S(t) (1 + d)^-t = 2F1(1, beta; alpha + beta; 1/(1+d))``.

    FH 2010 eq. for DEL: the first period paid now (undiscounted), the t-th renewal t periods
    on. Multiplied by the margin per period it is a new customer's expected lifetime value.
    Equal to ``1 + expected_renewals(alpha, beta, 0, inf, d)``.
    """
    alpha, beta, d = _f(alpha, beta, discount_rate)
    return 1.0 + beta_survival_sum(alpha, beta, np.inf, d)


def derl(alpha, beta, renewals, discount_rate):
    """Discounted expected residual lifetime (FH 2010), valued at the next renewal decision.

    FH 2010's ``DERL(d | alpha, beta, n - 1 renewals) = (beta + n - 1)/(alpha + beta + n - 1)
    2F1(1, beta + n; alpha + beta + n; 1/(1+d))`` with ``n - 1 = renewals``: the expected number
    of future payments of a customer at the end of period n, just before deciding whether to
    renew, the next payment (if any) undiscounted. It is ``(1 + d)`` times
    :func:`expected_renewals` at an infinite horizon, which is how it is evaluated (a
    hypergeometric series whose parameters grow with the tenure, where it converges faster).

    Parameters
    ----------
    alpha, beta : array_like
        sBG parameters.
    renewals : array_like
        Renewals made so far (n - 1 in FH 2010).
    discount_rate : array_like
        Per period, > 0 (with 0 it is finite only for alpha > 1).
    """
    alpha, beta, renewals, d = _f(alpha, beta, renewals, discount_rate)
    return (1.0 + d) * beta_survival_sum(alpha, beta + renewals, np.inf, d)


def sample_theta(rng, alpha, beta, renewals):
    """Draw each subscriber's leaving probability from its exact posterior.

    The prior ``Beta(alpha, beta)`` times the likelihood ``(1 - theta)^renewals`` of having
    renewed ``renewals`` times is ``theta | renewals ~ Beta(alpha, beta + renewals)``. This is the
    posterior of customers still subscribed; a customer who has left is known to be gone (for
    the fit only: their posterior would be ``Beta(alpha + 1, beta + renewals)``).
    """
    alpha, beta, renewals = np.broadcast_arrays(*_f(alpha, beta, renewals))
    return rng.beta(alpha, beta + renewals)


def simulate_renewals(rng, theta, horizon):
    """Future renewals within ``horizon`` periods of subscribers with leaving probability theta.

    Each period-end the subscriber renews with probability ``1 - theta``; the renewals before
    the first refusal are ``M - 1`` with ``M ~ Geometric(theta)`` on {1, 2, ...}, capped at the
    (floored) horizon. An infinite horizon is capped at :data:`MAX_SIMULATED_RENEWALS` (a
    subscriber with theta == 0, or so small that they would renew for longer than the universe
    lasts, never leaves), so the counts stay exact int64.

    Returns
    -------
    ndarray of int64
        Renewal counts, broadcast shape of theta and horizon.
    """
    theta, horizon = np.broadcast_arrays(*_f(theta, np.floor(horizon)))
    m = draw_geometric(rng, theta, theta.shape) - 1.0
    return np.minimum(np.minimum(m, horizon), MAX_SIMULATED_RENEWALS).astype(np.int64)


def discounted_count(count, discount_rate):
    """``sum_{k=1}^{count} (1 + d)^-k``: the discounted value of ``count`` renewals, one a period.

    ``z (1 - z^count) / (1 - z)`` with ``z = 1/(1+d)``; ``count`` itself when d = 0. Turns
    :func:`simulate_renewals` draws into draws of discounted renewals.
    """
    count, d = np.broadcast_arrays(*_f(count, discount_rate))
    with np.errstate(invalid="ignore", divide="ignore"):
        z = 1.0 / (1.0 + d)
        value = -np.expm1(count * np.log(z)) / np.where(d > 0, d, 1.0)
    return np.where(d > 0, value, count)
