"""The Pareto/NBD purchase-and-dropout model as pure functions of arrays.

Schmittlein, Morrison & Colombo (1987), "Counting your customers: who are they and what will
they do next?", Management Science 33(1) (SMC 1987); Fader & Hardie (2005), "A note on deriving
the Pareto/NBD model and related expressions" (note 009) and "A note on implementing the
Pareto/NBD model in MATLAB" (note 008). While alive a customer buys at Poisson rate
``lambda ~ Gamma(r, alpha)`` and dies at an exponential time with rate ``mu ~ Gamma(s, beta)``,
independent. A history is ``x`` repeat purchases, the last at ``t_x``, observed for ``T`` units.

Every function broadcasts: parameters of shape (S, 1) with customers of shape (n,) give (S, n);
scalars work too. Nothing here validates its input.

Numerical route. Note 009 eq. 18 writes the likelihood as

``L = G(r+x) alpha^r beta^s / G(r) * [(alpha+T)^-(r+x) (beta+T)^-s + s/(r+s+x) A_0]``

where ``A_0`` is a difference of two Gauss hypergeometric functions, one formula for
alpha >= beta and one for alpha < beta, the second with ``r + x`` as a parameter (overflow and
loss of precision for heavy buyers). Both branches are the same integral over the death time,

``s/(r+s+x) A_0 = s int_{t_x}^T (alpha+tau)^-(r+x) (beta+tau)^-(s+1) dtau``

(the customer dies at tau in (t_x, T] having bought nothing after t_x; note 009 eq. 11 before
its integral is solved), which is what is computed here: the integrand relative to its value at
tau = t_x is a product of two decaying powers bounded by 1, integrated on a log-time axis by
Gauss-Legendre panels, as many as the integrand needs (see :func:`_power_integral`). The
alpha >= beta and alpha < beta branches need no separate code, no power of ``(alpha+T)/(alpha+t_x)`` is formed
outside a logarithm, and the same nodes give the gradient. The alive posterior is
``lambda ~ Gamma(r+x, alpha+T)``, ``mu ~ Gamma(s, beta+T)``, independent (note 009 section 5), so
the alive-branch expectations are closed forms in ``(beta+T)/(beta+T+t)``.
"""

from __future__ import annotations

import numpy as np
from scipy.special import digamma, expit, gammaln, hyperu

from clvmodels.formulas.row_tables import frequency_table as _frequency_table
from clvmodels.formulas.special import composite_gauss_legendre

PARAM_NAMES = ("r", "alpha", "s", "beta")

# Death-time integral: panels of 1 unit of log-time with 12 Gauss-Legendre nodes each, cut where
# the log-integrand is below -45 (see _power_integral). Against mpmath (40 digits) on 204 cases
# (200 random: parameters 0.05-500, x 0-10,000, T 1-3,650, recency 0-0.999 T; and alpha/beta
# 1e4 apart) the log-odds of death erred by < 3.2e-11 relative, median 1e-16 (1.25 units: 1.1e-10;
# 2 units: 2.8e-9). About 0.9 s for likelihood and gradient of 1e6 rows on one core.
_PANEL_WIDTH, _QUAD_NODES, _LOG_CUT = 1.0, 12, 45.0
# discounted alive time: a fixed rule of 6 panels x 12 nodes on its log-time axis
_QUAD_PANELS = 6
# the conditional PMF integrates a negative binomial bump over the death time: more nodes
_PMF_PANELS, _PMF_NODES = 32, 8
_PMF_WINDOW = 40.0  # half-width of the PMF's integration window, in standard deviations of its bump
_DISCOUNT_CUTOFF = 40.0  # discount factors below exp(-40) are dropped from the integrals


def _as_float(*arrays):
    return [np.asarray(v, dtype=float) for v in arrays]


def _power_integral(k1, A, k2, B, delta, moments=False):
    """``J = int_0^delta (1 + w/A)^-k1 (1 + w/B)^-k2 dw`` for k1, k2 > 0, and optionally moments.

    The integrand falls from 1 at w = 0 on the scale ``c = 1 / (k1/A + k2/B)`` (its initial
    decay rate) and then as a power of w. With ``w = c expm1(v)`` the integrand in v is
    ``exp(g(v))`` with g concave and maximal at v = 0 (g(0) = g'(0) = 0), smooth on a scale of
    one unit of v. It is integrated by Gauss-Legendre on panels of ``_PANEL_WIDTH`` units of v
    over ``[0, log1p(delta/c)]``, dropping the panels after the first edge where
    ``g < -_LOG_CUT`` (concavity bounds the dropped tail by ``e^-_LOG_CUT / |g'|``, and
    ``|g'| >= _LOG_CUT / v`` there). A light buyer over a few years needs one or two panels, a
    heavy one (k1 = 10,000: the mass sits in v < 3) three, ten years of a one-time buyer up to
    nine. Loops
    over panels and nodes, not rows; each panel only touches the rows that still need it.

    With ``moments`` also returns the integrals of the integrand times ``log1p(w/A)``,
    ``w/(A+w)``, ``log1p(w/B)`` and ``w/(B+w)`` (the derivatives of its log with respect to
    k1, A, k2 and B, up to the factors -1, k1/A, -1, k2/B).
    """
    k1, A, k2, B, delta = np.broadcast_arrays(*_as_float(k1, A, k2, B, delta))
    shape = k1.shape
    k1, A, k2, B, delta = (v.ravel() for v in (k1, A, k2, B, delta))
    c = 1.0 / (k1 / A + k2 / B)
    v_end = np.log1p(delta / c)
    n_panels = np.ceil(v_end / _PANEL_WIDTH).astype(np.int64)
    # concave log-integrand: stop after the first panel edge where it is below -_LOG_CUT
    open_rows = np.flatnonzero(n_panels > 1)
    edge = 1
    while open_rows.size:
        v = edge * _PANEL_WIDTH
        w = c[open_rows] * np.expm1(v)
        g = v - k1[open_rows] * np.log1p(w / A[open_rows]) - k2[open_rows] * np.log1p(w / B[open_rows])
        done = g < -_LOG_CUT
        n_panels[open_rows[done]] = edge
        edge += 1
        open_rows = open_rows[~done & (n_panels[open_rows] > edge)]
    xi, omega = np.polynomial.legendre.leggauss(_QUAD_NODES)
    xi, omega = (xi + 1.0) / 2.0, omega / 2.0  # on [0, 1]
    total = np.zeros(k1.size)
    sums = [np.zeros(k1.size) for _ in range(4)] if moments else None
    for panel in range(int(n_panels.max(initial=0))):
        rows = np.flatnonzero(n_panels > panel)
        k1_, A_, k2_, B_, c_ = k1[rows], A[rows], k2[rows], B[rows], c[rows]
        lo = panel * _PANEL_WIDTH
        width = np.minimum(v_end[rows] - lo, _PANEL_WIDTH)
        part = np.zeros(rows.size)
        parts = [np.zeros(rows.size) for _ in range(4)] if moments else None
        for node, weight in zip(xi, omega):
            v = lo + node * width
            w = c_ * np.expm1(v)
            log_a, log_b = np.log1p(w / A_), np.log1p(w / B_)
            f = weight * np.exp(v - k1_ * log_a - k2_ * log_b)
            part += f
            if moments:
                parts[0] += f * log_a
                parts[1] += f * (w / (A_ + w))
                parts[2] += f * log_b
                parts[3] += f * (w / (B_ + w))
        total[rows] += part * width
        if moments:
            for acc, new in zip(sums, parts):
                acc[rows] += new * width
    if not moments:
        return (total * c).reshape(shape)
    return (total * c).reshape(shape), [(m * c).reshape(shape) for m in sums]


def _log_odds_death(r, alpha, s, beta, x, t_x, T):
    """Log-odds that a customer with history (x, t_x, T) died in (t_x, T]; -inf where t_x == T.

    The ratio of the two terms of note 009 eq. 18: ``ln s - ln(beta+t_x) + ln J + (r+x)
    ln[(alpha+T)/(alpha+t_x)] + s ln[(beta+T)/(beta+t_x)]`` with ``J`` the death-time integral
    relative to its value at t_x (:func:`_power_integral`), the log-ratios taken with log1p.
    """
    r, alpha, s, beta, x, t_x, T = _as_float(r, alpha, s, beta, x, t_x, T)
    gap = T - t_x
    A, B = alpha + t_x, beta + t_x
    J = _power_integral(r + x, A, s + 1.0, B, gap)
    with np.errstate(divide="ignore"):
        return np.log(s) - np.log(B) + np.log(J) + (r + x) * np.log1p(gap / A) + s * np.log1p(gap / B)


def log_likelihood(r, alpha, s, beta, x, t_x, T):
    """Per-customer Pareto/NBD log-likelihood (note 009 eq. 18; SMC 1987).

    ``ln G(r+x) - ln G(r) + r ln alpha + s ln beta - (r+x) ln(alpha+T) - s ln(beta+T)
    + ln(1 + exp(log-odds of death))``, the last term from :func:`_log_odds_death`.

    Parameters
    ----------
    r, alpha, s, beta : array_like
        Model parameters, e.g. scalars or shape (S, 1).
    x, t_x, T : array_like
        Repeat purchases, recency and age of each customer, e.g. shape (n,).

    Returns
    -------
    ndarray
        Log-likelihood of each customer (broadcast shape, e.g. (S, n)).
    """
    r, alpha, s, beta, x, t_x, T = _as_float(r, alpha, s, beta, x, t_x, T)
    return (
        gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
        - (r + x) * np.log(alpha + T) - s * np.log(beta + T)
        + np.logaddexp(0.0, _log_odds_death(r, alpha, s, beta, x, t_x, T))
    )


def neg_log_likelihood_and_grad(log_params, x, t_x, T, weights):
    """Minus the weighted Pareto/NBD log-likelihood and its analytic gradient in log-parameters.

    With ``q`` the probability of having died given the history (expit of the log-odds),
    ``A = alpha + t_x``, ``B = beta + t_x`` and ``<g>`` the death-time integral of ``g`` divided
    by the integral itself (same quadrature nodes as the value, so value and gradient agree):

    * d/dr = psi(r+x) - psi(r) + ln alpha - ln(alpha+T) + q [ln((alpha+T)/A) - <ln(1+w/A)>]
    * d/dalpha = r/alpha - (r+x)/(alpha+T) + q (r+x) [1/(alpha+T) - 1/A + <w/(A+w)>/A]
    * d/ds = ln beta - ln(beta+T) + q [1/s + ln((beta+T)/B) - <ln(1+w/B)>]
    * d/dbeta = s/beta - s/(beta+T) + q [s/(beta+T) - (s+1)/B + (s+1) <w/(B+w)>/B]

    each multiplied by its parameter for the log scale.

    Parameters
    ----------
    log_params : ndarray, shape (4,)
        ``log(r), log(alpha), log(s), log(beta)``.
    x, t_x, T : ndarray, shape (n,)
        Repeat purchases (terms in x alone are evaluated once per distinct whole value), recency
        and age of each distinct row.
    weights : ndarray, shape (n,), or None
        Number of customers each row stands for (None: one each).

    Returns
    -------
    value : float
        ``-sum(weights * log_likelihood)``.
    grad : ndarray, shape (4,)
        Its gradient with respect to ``log_params``.
    """
    r, alpha, s, beta = np.exp(np.asarray(log_params, dtype=float))
    x = np.asarray(x)
    t_x = np.asarray(t_x, dtype=float)
    T = np.asarray(T, dtype=float)
    weights = np.ones(x.shape) if weights is None else np.asarray(weights, dtype=float)
    values, counts, to_rows = _frequency_table(x, weights)
    total = counts.sum()

    value = counts @ gammaln(r + values) + total * (r * np.log(alpha) + s * np.log(beta) - gammaln(r))
    grad_r = counts @ digamma(r + values) + total * (np.log(alpha) - digamma(r))
    grad_alpha = total * r / alpha
    grad_s = total * np.log(beta)
    grad_beta = total * s / beta

    xf = x.astype(float)
    r_x = xf + r
    gap = T - t_x
    A, B = alpha + t_x, beta + t_x
    J, (m_log_a, m_w_a, m_log_b, m_w_b) = _power_integral(r_x, A, s + 1.0, B, gap, moments=True)
    log_ratio_a, log_ratio_b = np.log1p(gap / A), np.log1p(gap / B)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_odds = np.log(s) - np.log(B) + np.log(J) + r_x * log_ratio_a + s * log_ratio_b
        inv_J = np.where(J > 0, 1.0 / J, 0.0)
    dead = expit(log_odds)
    log_alpha_T, log_beta_T = np.log(alpha + T), np.log(beta + T)
    value += weights @ (np.logaddexp(0.0, log_odds) - r_x * log_alpha_T - s * log_beta_T)

    w_dead = weights * dead
    grad_r += w_dead @ (log_ratio_a - m_log_a * inv_J) - weights @ log_alpha_T
    grad_alpha += (w_dead * r_x) @ (1.0 / (alpha + T) - 1.0 / A + m_w_a * inv_J / A) \
        - (weights * r_x) @ (1.0 / (alpha + T))
    grad_s += w_dead @ (1.0 / s + log_ratio_b - m_log_b * inv_J) - weights @ log_beta_T
    grad_beta += w_dead @ (s / (beta + T) - (s + 1.0) / B + (s + 1.0) * m_w_b * inv_J / B) \
        - s * (weights @ (1.0 / (beta + T)))

    grad = np.array([grad_r * r, grad_alpha * alpha, grad_s * s, grad_beta * beta])
    return -float(value), -grad


def start_point(x, t_x, T, weights):
    """Log-parameters to start the optimiser: r = s = 1, alpha = beta = mean T per repeat purchase."""
    weights = np.ones(np.shape(x)) if weights is None else np.asarray(weights, float)
    scale = max(float(np.sum(weights * T) / max(np.sum(weights * x), 1.0)), 1e-3)
    return np.log([1.0, scale, 1.0, scale])


def p_alive(r, alpha, s, beta, x, t_x, T):
    """P(alive at T | history) (note 009 eq. 37; SMC 1987 eq. 11): expit of minus the log-odds
    of death, in [0, 1] and finite for x = 10,000 and ten years of days; 1 where t_x == T."""
    return expit(-_log_odds_death(r, alpha, s, beta, x, t_x, T))


def survival_if_alive(r, alpha, s, beta, x, T, t):
    """P(alive at T + t | alive at T) = E[exp(-mu t)] = ((beta+T)/(beta+T+t))^s.

    The death rate's posterior given alive at T is Gamma(s, beta+T) whatever the purchases
    (note 009 section 5); ``r``, ``alpha`` and ``x`` only set the broadcast shape.
    """
    r, alpha, s, beta, x, T, t = np.broadcast_arrays(*_as_float(r, alpha, s, beta, x, T, t))
    return np.exp(-s * np.log1p(t / (beta + T)))


def _alive_time_undiscounted(s, B, t):
    """``int_0^t (1 + u/B)^-s du = B (1 - (1+t/B)^(1-s)) / (s-1)`` (B ln(1+t/B) at s = 1)."""
    L = np.log1p(t / B)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = -np.expm1((1.0 - s) * L) / (s - 1.0)
    return B * np.where(s == 1.0, L, ratio)


def expected_purchases_if_alive(r, alpha, s, beta, x, T, t):
    """E[purchases in (T, T+t] | alive at T] = (r+x)/(alpha+T) * (beta+T)/(s-1) *
    [1 - ((beta+T)/(beta+T+t))^(s-1)] (note 009 eq. 41 without its P(alive) factor).

    The posterior mean rate times the expected time alive in the window, the power taken as
    ``expm1`` of a logarithm (exact at s = 1, where the bracket becomes ln(1 + t/(beta+T))).
    """
    r, alpha, s, beta, x, T, t = np.broadcast_arrays(*_as_float(r, alpha, s, beta, x, T, t))
    return (r + x) / (alpha + T) * _alive_time_undiscounted(s, beta + T, t)


def expected_purchases(r, alpha, s, beta, x, t_x, T, t):
    """Expected repeat purchases in (T, T+t] given the history (note 009 eq. 41; SMC 1987 eq. 22).

    ``P(alive at T) * E[purchases in t | alive]``. Shapes as :func:`log_likelihood`, plus the
    horizon ``t`` (time units, >= 0) broadcast with the rest.
    """
    return p_alive(r, alpha, s, beta, x, t_x, T) * expected_purchases_if_alive(r, alpha, s, beta, x, T, t)


def expected_purchases_new(r, alpha, s, beta, t):
    """E[X(t)] of a customer acquired at 0: r beta / (alpha (s-1)) [1 - (beta/(beta+t))^(s-1)]
    (note 009 eq. 27; SMC 1987 eq. 17), i.e. the conditional expectation at x = t_x = T = 0."""
    return expected_purchases(r, alpha, s, beta, 0.0, 0.0, 0.0, t)


def discounted_alive_time_if_alive(r, alpha, s, beta, x, T, horizon, discount_rate):
    """``int_0^H ((beta+T)/(beta+T+u))^s (1+d)^-u du``: discounted time alive given alive at T.

    With ``d = 0`` the closed form of :func:`_alive_time_undiscounted`. Otherwise
    ``u = c expm1(v)``, ``c = 1/(s/(beta+T) + ln(1+d))`` (the initial decay rate of the
    integrand), and a composite Gauss-Legendre rule on ``[0, log1p(H/c)]``, cut where the
    discount factor is below exp(-40) (so ``H = inf`` is allowed when d > 0). Checked against
    mpmath and against the closed form of :func:`dert` for an infinite horizon.

    Returns
    -------
    ndarray
        Discounted alive time in time units, broadcast shape of the arguments.
    """
    r, alpha, s, beta, x, T, horizon, d = np.broadcast_arrays(
        *_as_float(r, alpha, s, beta, x, T, horizon, discount_rate))
    B, delta = beta + T, np.log1p(d)
    c = 1.0 / (s / B + delta)
    with np.errstate(divide="ignore", invalid="ignore"):
        v_end = np.minimum(np.log1p(horizon / c), np.log1p(_DISCOUNT_CUTOFF / (delta * c)))
        v_end = np.where(delta > 0, v_end, 0.0)
        nodes, weights = composite_gauss_legendre(_QUAD_PANELS, _QUAD_NODES)
        total = 0.0
        for node, weight in zip(nodes, weights):
            v = node * v_end
            u = c * np.expm1(v)
            total = total + weight * np.exp(v - s * np.log1p(u / B) - delta * u)
        quad = c * v_end * total
        return np.where(delta > 0, quad, _alive_time_undiscounted(s, B, horizon))


def expected_discounted_purchases_if_alive(r, alpha, s, beta, x, T, horizon, discount_rate):
    """E[discounted purchases in (T, T+H] | alive at T] = (r+x)/(alpha+T) x discounted alive time:
    given alive the rate and the death time are independent, so the purchase rate at T+u is
    the posterior mean rate times the survival (FHL 2005 "RFM and CLV" eq. 2, finite horizon)."""
    r, alpha, s, beta, x, T = _as_float(r, alpha, s, beta, x, T)
    return (r + x) / (alpha + T) * discounted_alive_time_if_alive(
        r, alpha, s, beta, x, T, horizon, discount_rate)


def expected_discounted_purchases(r, alpha, s, beta, x, t_x, T, horizon, discount_rate):
    """Expected discounted repeat purchases in (T, T+H] given the history; a purchase u units
    after T counts ``(1 + discount_rate)**-u``. Equals :func:`expected_purchases` at rate 0."""
    return p_alive(r, alpha, s, beta, x, t_x, T) * expected_discounted_purchases_if_alive(
        r, alpha, s, beta, x, T, horizon, discount_rate)


def dert(r, alpha, s, beta, x, t_x, T, delta):
    """Discounted expected residual transactions, continuous discounting, infinite horizon.

    Fader, Hardie & Lee (2005), "RFM and CLV: using iso-value curves for customer base
    analysis", Journal of Marketing Research 42(4), eq. 2:
    ``DERT = alpha^r beta^s delta^(s-1) G(r+x+1) Psi(s, s; delta(beta+T))
    / [G(r) (alpha+T)^(r+x+1) L]``, Psi the confluent hypergeometric function of the second kind,
    computed here as ``P(alive) (r+x)/(alpha+T) (beta+T) U(1, 2-s, delta(beta+T))`` (Kummer's
    relation ``U(s, s, z) = z^(1-s) U(1, 2-s, z)``). ``delta`` is the continuous rate per time
    unit (``ln(1 + d)`` for a per-unit rate d).
    """
    r, alpha, s, beta, x, t_x, T, delta = _as_float(r, alpha, s, beta, x, t_x, T, delta)
    alive_time = (beta + T) * hyperu(1.0, 2.0 - s, delta * (beta + T))
    return p_alive(r, alpha, s, beta, x, t_x, T) * (r + x) / (alpha + T) * alive_time


def prob_no_purchase(r, alpha, s, beta, x, t_x, T, t):
    """P(no repeat purchase in (T, T+t] | history).

    Dead at T: 1. Alive: either alive through T+t without buying, ``E[e^-lambda t] E[e^-mu t]``,
    or dead at T+u (u < t) without buying before, ``int_0^t E[e^-lambda u] E[mu e^-mu u] du``
    under the alive posterior lambda ~ Gamma(r+x, alpha+T), mu ~ Gamma(s, beta+T) (the n = 0 term
    of Fader, Hardie & Shang's conditional PMF, note 028); the integral is the death-time
    integral of the likelihood with (alpha+T, beta+T) in place of (alpha+t_x, beta+t_x).
    """
    r, alpha, s, beta, x, t_x, T, t = _as_float(r, alpha, s, beta, x, t_x, T, t)
    A, B = alpha + T, beta + T
    stay = np.exp(-(r + x) * np.log1p(t / A) - s * np.log1p(t / B))
    die_quietly = s / B * _power_integral(r + x, A, s + 1.0, B, t)
    log_odds = _log_odds_death(r, alpha, s, beta, x, t_x, T)
    return expit(log_odds) + expit(-log_odds) * (stay + die_quietly)


def purchase_probability(r, alpha, s, beta, x, t_x, T, t, n):
    """P(exactly n repeat purchases in (T, T+t] | history): the Pareto/NBD conditional PMF.

    Given alive at T with traits (lambda, mu) the customer makes n purchases either by staying
    alive through T+t, ``e^-(lambda+mu)t (lambda t)^n/n!``, or by dying at T+u, u < t, after n
    purchases in (T, T+u], density ``mu e^-mu u e^-lambda u (lambda u)^n / n!``. Averaged over the
    alive posterior (Fader, Hardie & Shang, note 028, eq. 16 before its integral is solved):

    ``P(n | alive) = NB(n; r+x, t/(alpha+T+t)) ((beta+T)/(beta+T+t))^s
    + int_0^t NB(n; r+x, u/(alpha+T+u)) s/(beta+T) (1 + u/(beta+T))^-(s+1) du``,

    NB the negative binomial PMF; the integral by Gauss-Legendre in ``q = u/(alpha+T+u)``, where
    the negative binomial is a Beta-like bump, over a window around the bump (accurate to ~1e-12
    also for x = 10,000, checked against :func:`prob_no_purchase` and mpmath). A dead customer
    buys nothing.

    Parameters
    ----------
    r, alpha, s, beta : array_like
        Model parameters.
    x, t_x, T : array_like
        Customer history.
    t : array_like
        Window length in time units.
    n : array_like of int
        Number of purchases (>= 0), broadcast with the rest.

    Returns
    -------
    ndarray
        Probabilities, broadcast shape; they sum to 1 over n = 0, 1, 2, ...
    """
    r, alpha, s, beta, x, t_x, T, t, n = _as_float(r, alpha, s, beta, x, t_x, T, t, n)
    m, A, B = r + x, alpha + T, beta + T
    log_comb = gammaln(m + n) - gammaln(m) - gammaln(n + 1.0)
    q_end = t / (A + t)
    # In q the integrand is q^n (1-q)^(m+s-1) times a smooth factor: a Beta(n+1, m+s) bump, as
    # narrow as 1e-4 for heavy buyers. Integrate over its mean +- 40 sd (log-concave tails hold
    # less than e^-39 beyond) clipped to [0, q_end], so the nodes sit where the mass is.
    k = n + m + s + 1.0
    mean = (n + 1.0) / k
    sd = np.sqrt(mean * (1.0 - mean) / (k + 1.0))
    lo = np.clip(mean - _PMF_WINDOW * sd, 0.0, q_end)
    hi = np.clip(mean + _PMF_WINDOW * sd, 0.0, q_end)
    with np.errstate(divide="ignore", invalid="ignore"):
        stay = np.exp(log_comb - m * np.log1p(t / A) + np.where(n > 0, n * np.log(q_end), 0.0)
                      - s * np.log1p(t / B))
        nodes, weights = composite_gauss_legendre(_PMF_PANELS, _PMF_NODES)
        total = 0.0
        for node, weight in zip(nodes, weights):
            q = lo + node * (hi - lo)
            u = A * q / (1.0 - q)
            log_f = (log_comb + m * np.log1p(-q) + np.where(n > 0, n * np.log(q), 0.0)
                     + np.log(s / B) - (s + 1.0) * np.log1p(u / B) + np.log(A) - 2.0 * np.log1p(-q))
            total = total + weight * np.exp(log_f)
    if_alive = stay + (hi - lo) * total
    log_odds = _log_odds_death(r, alpha, s, beta, x, t_x, T)
    return expit(-log_odds) * if_alive + np.where(n > 0, 0.0, expit(log_odds))


def purchase_probability_new(r, alpha, s, beta, t, n):
    """P(X(t) = n) of a customer acquired at 0 (note 009 eq. 26 via the conditional PMF at 0)."""
    return purchase_probability(r, alpha, s, beta, 0.0, 0.0, 0.0, t, n)
