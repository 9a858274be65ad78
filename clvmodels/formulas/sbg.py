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
from scipy.special import betaln, digamma, gammaln, polygamma
from scipy.special import gamma as gamma_fn

from clvmodels.formulas.individual import draw_geometric
from clvmodels.formulas.special import guarded_hyp2f1

PARAM_NAMES = ("alpha", "beta")

# Below this |g - 1| the undiscounted sum uses a second-order expansion of its 0/0 form.
_NEAR_ONE = 1e-4
# Finite discounted horizons up to this many periods are summed term by term (exact, cheap);
# longer ones use the difference of two hypergeometric tails.
_DIRECT_MAX = 256
# The connection formula of the discounted tail has poles at integer g: within _NEAR_INTEGER of
# one it is evaluated at g -/+ _INTEGER_SHIFT and twice that, and extrapolated.
_NEAR_INTEGER = 1e-4
_INTEGER_SHIFT = 3e-4
_MAX_SERIES_TERMS = 400
_TERM_BLOCK = 4096


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


def survival_if_alive(alpha, beta, renewals, k):
    """``P(T > renewals + k | T > renewals) = B(alpha, beta + renewals + k) / B(alpha, beta + renewals)``.

    The probability that a customer who has made ``renewals`` renewals makes k more.
    """
    alpha, beta, renewals, k = _f(alpha, beta, renewals, np.floor(k))
    return np.exp(betaln(alpha, beta + renewals + k) - betaln(alpha, beta + renewals))


def _undiscounted_sum(g, b, h):
    """``sum_{k=1}^h B(g, b + k) / B(g, b)`` = ``b (1 - (b+1)_h / (g+b)_h) / (g - 1)``.

    Telescoped from ``(g+b+k) u_{k+1} - (g+b+k-1) u_k = (1-g) u_k`` with ``u_k = (b)_k/(g+b)_k``;
    the same closed form as FHS 2010 eq. 13's bracket. At g -> 1 it is 0/0 with the limit
    ``b (psi(b+h+1) - psi(b+1))``; near it the log ratio is expanded to second order. Infinite
    h gives ``b / (g - 1)`` for g > 1 and inf otherwise.
    """
    g, b, h = np.broadcast_arrays(*_f(g, b, h))
    finite = np.isfinite(h)
    hf = np.where(finite, h, 0.0)
    eps = g - 1.0
    near = np.abs(eps) < _NEAR_ONE
    with np.errstate(invalid="ignore", divide="ignore"):
        log_ratio = (gammaln(b + 1.0 + hf) - gammaln(b + 1.0)) - (gammaln(g + b + hf) - gammaln(g + b))
        d1 = digamma(b + 1.0) - digamma(b + 1.0 + hf)
        d2 = polygamma(1, b + 1.0) - polygamma(1, b + 1.0 + hf)
        log_ratio = np.where(near, eps * d1 + 0.5 * eps**2 * d2, log_ratio)
        safe_eps = np.where(near, 1.0, eps)
        # near g = 1: -expm1(L)/eps with L = eps d1 + eps^2 d2 / 2, expanded to first order in eps
        ratio_term = np.where(near, -(d1 + 0.5 * eps * (d2 + d1**2)), -np.expm1(log_ratio) / safe_eps)
        out = b * ratio_term
        tail = np.where(g > 1.0, b / np.where(g > 1.0, eps, 1.0), np.inf)
    return np.where(finite, out, tail)


def _discounted_tail(g, b, z):
    """``sum_{k>=1} (b)_k / (g+b)_k z^k = z b / (g+b) 2F1(1, b+1; g+b+1; z)``, 0 < z < 1.

    scipy's 2F1 is accurate here (1e-10 relative or better against mpmath) except that it
    overflows (nan) for g + b above ~170 with z near 1, i.e. long tenures with a small discount
    rate per period. So: where ``b w < 1`` (``w = 1 - z``) the connection formula of
    :func:`_tail_near_one`; other entries scipy's guarded 2F1, and any it cannot evaluate are
    summed term by term (:func:`_tail_by_terms`; then ``b w >= 1``, so at most ~45 b terms).
    """
    g, b, z = np.broadcast_arrays(*_f(g, b, z))
    with np.errstate(all="ignore"):
        out = np.array(z * b / (g + b) * guarded_hyp2f1(1.0, b + 1.0, g + b + 1.0, z), dtype=float)
    w = 1.0 - z
    near_int = np.abs(g - np.round(g)) < _NEAR_INTEGER
    connect = b * w < 1.0
    plain = connect & ~near_int
    if plain.any():
        out[plain] = _tail_near_one(g[plain], b[plain], z[plain])
    shifted = connect & near_int
    if shifted.any():  # Richardson on means at g -/+ h and g -/+ 2h: error O(h^4), ~1e-9
        gs, bs, zs, h = g[shifted], b[shifted], z[shifted], _INTEGER_SHIFT

        def mean(step):
            return 0.5 * (_tail_near_one(gs - step, bs, zs) + _tail_near_one(gs + step, bs, zs))

        out[shifted] = (4.0 * mean(h) - mean(2.0 * h)) / 3.0
    left = ~np.isfinite(out)
    if left.any():
        out[left] = _tail_by_terms(g[left], b[left], z[left])
    return out


def _tail_near_one(g, b, z):
    """The discounted tail by the z -> 1 - z connection of 2F1 (Abramowitz & Stegun 15.3.6).

    With ``w = 1 - z``: ``2F1(1, b+1; g+b+1; z) = (g+b)/(g-1) 2F1(1, b+1; 2-g; w)
    + w^(g-1) G(1-g) G(g+b+1)/G(b+1) z^-(g+b)`` (the second series is ``(1-w)^-(g+b)`` in closed
    form). The first series' terms shrink by about ``(b+k) w / k``, so for ``b w < 1`` a few dozen
    terms reach 1e-17; Gamma functions are taken in log space (no overflow for b in the
    thousands). Not for integer g (the two parts have poles there; callers shift g).
    """
    w = 1.0 - z
    total, term = np.ones(g.shape), np.ones(g.shape)
    for k in range(_MAX_SERIES_TERMS):
        term = term * (b + 1.0 + k) * w / (2.0 - g + k)
        total += term
        if np.all(np.abs(term) <= 1e-17 * np.abs(total)):
            break
    first = (g + b) / (g - 1.0) * total
    log_second = ((g - 1.0) * np.log(w) + gammaln(1.0 - g) + gammaln(g + b + 1.0)
                  - gammaln(b + 1.0) - (g + b) * np.log(z))
    second = np.sign(gamma_fn(1.0 - g)) * np.exp(log_second)
    return z * b / (g + b) * (first + second)


def _tail_by_terms(g, b, z):
    """The discounted tail summed term by term, in blocks of k (log-space terms)."""
    log_z = np.log(z)
    total = np.zeros(g.shape)
    start = 1
    while True:
        k = np.arange(start, start + _TERM_BLOCK, dtype=float)[:, None]
        log_u = gammaln(b + k) - gammaln(b) + gammaln(g + b) - gammaln(g + b + k)
        terms = np.exp(log_u + k * log_z)
        total += terms.sum(axis=0)
        start += _TERM_BLOCK
        # terms decrease, so the rest is below last term / (1 - z)
        if np.all(terms[-1] / (1.0 - z) <= 1e-17 * total):
            return total


def beta_survival_sum(g, b, horizon, discount_rate=0.0):
    """``sum_{k=1}^{H} (1 + d)^-k B(g, b + k) / B(g, b)``: expected discounted future periods alive.

    For a per-period leaving probability ``theta ~ Beta(g, b)`` (a posterior after b - beta
    survived periods) this is ``E[sum_k (1-theta)^k (1+d)^-k]``, shared by the sBG (renewals)
    and BG/BB (opportunities alive). ``H`` is floored to whole periods; ``np.inf`` is allowed
    (with d = 0 it is finite only for g > 1). Undiscounted: the closed form of
    :func:`_undiscounted_sum`. Discounted: term by term up to ``_DIRECT_MAX`` periods, beyond
    as ``tail(b) - (1+d)^-H u_H tail(b+H)`` with ``u_H = B(g, b+H)/B(g, b)`` and the
    hypergeometric tail of FH 2010's DERL.

    Parameters
    ----------
    g, b : array_like
        Beta parameters of the leaving probability (e.g. alpha and beta + renewals).
    horizon : array_like
        Future periods.
    discount_rate : array_like
        Discount rate per period (>= 0).

    Returns
    -------
    ndarray
        Expected discounted periods, broadcast shape.
    """
    g, b, h, d = np.broadcast_arrays(*_f(g, b, np.floor(horizon), discount_rate))
    out = np.array(_undiscounted_sum(g, b, h), dtype=float)
    disc = d > 0
    if not disc.any():
        return out
    z = 1.0 / (1.0 + d)
    finite = np.isfinite(h)
    long = disc & ~(finite & (h <= _DIRECT_MAX))
    if long.any():
        gl, bl, hl, zl = g[long], b[long], h[long], z[long]
        hf = np.where(np.isfinite(hl), hl, 0.0)
        rest = np.where(np.isfinite(hl), np.exp(hf * np.log(zl) + betaln(gl, bl + hf) - betaln(gl, bl))
                        * _discounted_tail(gl, bl + hf, zl), 0.0)
        out[long] = _discounted_tail(gl, bl, zl) - rest
    short = disc & ~long
    if short.any():
        gs, bs, hs, zs = g[short], b[short], h[short], z[short]
        total, term = np.zeros(gs.shape), np.ones(gs.shape)
        for k in range(1, int(hs.max()) + 1):
            term = term * zs * (bs + k - 1.0) / (gs + bs + k - 1.0)
            total += np.where(k <= hs, term, 0.0)
        out[short] = total
    return out


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
    loyal customers): :func:`_undiscounted_sum` at an infinite horizon. Add 1 for the expected
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
    (floored) horizon.

    Returns
    -------
    ndarray of int64
        Renewal counts, broadcast shape of theta and horizon.
    """
    theta, horizon = np.broadcast_arrays(*_f(theta, np.floor(horizon)))
    m = draw_geometric(rng, theta, theta.shape) - 1.0
    return np.minimum(m, horizon).astype(np.int64)


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
