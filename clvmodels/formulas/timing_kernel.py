"""Compiled loops of the simulated futures with purchase timing, customer by customer.

Three kernels, all drawing from the caller's ``numpy.random.Generator`` (numba draws from the same
bit generator, so a seed fixes every number), compiled on first use and cached on disk:

* :func:`discounted_sums`: the job of :func:`clvmodels.formulas.purchase_timing._discounted_sums`
  (purchase times of N purchases by normalised spacings, their discount factors and spends);
* :func:`negative_binomial_at_least_one`: NB(n, pr) given K >= 1;
* :func:`bgnbd_futures`: the whole sparse BG/NBD (and MBG/NBD) future of
  :func:`clvmodels.formulas.future_simulation.simulate_bgnbd_futures`, one (draw, customer) cell
  after the other, written straight into the (S, n) outputs: light buyers by the negative
  binomial and the spacings below, frequent ones by walking their Poisson process
  (:func:`_walk`).

Memory is O(customers): no per-purchase arrays, only a scratch buffer as long as the largest
purchase count met so far. Nothing here validates its input.

Purchase times (one customer, N >= 1 purchases of K potential ones in (0, h]): with ``E_1, E_2,
...`` iid Exp(1), ``S_i = E_1 + ... + E_i`` and ``G ~ Gamma(K + 1 - N)`` for the spacings after
the N-th purchase, ``s_i = h S_i / (S_N + G)`` are the first N of K uniform order statistics on
[0, h] (the normalised-spacings representation). A purchase at s counts ``exp(-c s)``,
``c = ln(1 + d)``, and is worth ``Gamma(spend_shape, rate nu)`` (Fader & Hardie 2013 note).

Draw order of one customer in :func:`discounted_sums` (documented because the stream, not the
distribution, depends on it):

1. ``c > 0``: N standard exponentials (the spacings), then, with spend and not ``one_spend_draw``,
   N ``standard_gamma(spend_shape)`` (purchase 1 first), or one ``standard_gamma(N spend_shape)``
   with ``one_spend_draw``;
2. ``c == 0`` (every factor is 1): one ``standard_gamma(N)`` for ``S_N`` (a sum of N Exp(1); the
   earlier times do not matter), then one ``standard_gamma(N spend_shape)`` (a sum of N iid
   Gamma(spend_shape) is exactly that), whatever ``one_spend_draw``.

Gamma draws are numpy's algorithm step for step (:func:`_gamma`, the same numbers as
``rng.standard_gamma`` from the same stream), with Marsaglia-Tsang's constant ``c`` computed once
while the shape repeats (the spend shape is one per parameter draw; the spend rate's ``p x + q``
repeats along customers with the same frequency) instead of once per draw.
"""

from __future__ import annotations

import math

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def _marsaglia_tsang(rng, b, c):
    """A standard Gamma(b + 1/3) draw, ``b = shape - 1/3``, ``c = 1 / sqrt(9 b)``, shape > 1.

    Marsaglia & Tsang (2000), "A simple method for generating gamma variables", ACM TOMS 26(3),
    step for step as numpy's ``random_standard_gamma`` (so the same draws from the same stream),
    with the two constants computed by the caller once for many draws of one shape: numba's
    ``standard_gamma`` takes ~20 ns a draw, this ~8 ns.
    """
    while True:
        while True:
            x = rng.standard_normal()
            v = 1.0 + c * x
            if v > 0.0:
                break
        v = v * v * v
        u = rng.random()
        if u < 1.0 - 0.0331 * (x * x) * (x * x):
            return b * v
        if math.log(u) < 0.5 * x * x + b * (1.0 - v + math.log(v)):  # log(0) = -inf is fine
            return b * v


@numba.njit(cache=True, nogil=True)
def _gamma(rng, shape):
    """A standard Gamma(shape) draw, the same number as ``rng.standard_gamma(shape)`` (numpy's
    cases: one exponential at shape 1, Marsaglia-Tsang above, numba's own draw below 1)."""
    if shape == 1.0:
        return rng.standard_exponential()
    if shape > 1.0:
        b = shape - 1.0 / 3.0
        return _marsaglia_tsang(rng, b, 1.0 / math.sqrt(9.0 * b))
    return rng.standard_gamma(shape)


@numba.njit(cache=True, nogil=True)
def _mt_c(shape):
    """Marsaglia-Tsang's ``c = 1 / sqrt(9 (shape - 1/3))`` (used only for shape > 1)."""
    return 1.0 / math.sqrt(9.0 * (shape - 1.0 / 3.0)) if shape > 1.0 else 0.0


@numba.njit(cache=True, nogil=True)
def _one_customer(rng, n, rest, horizon, log_discount, shape, c, nu, with_spend, one_spend_draw,
                  buf):
    """(discounted count, discounted spend, last purchase time) of one customer with ``n >= 1``
    purchases; ``c = _mt_c(shape)``; ``buf`` holds at least ``n`` floats (scratch). Draw order:
    module docstring."""
    if log_discount == 0.0:
        total = _gamma(rng, float(n))
        spend = _gamma(rng, shape * n) / nu if with_spend else 0.0
        return float(n), spend, horizon * total / (total + rest)
    total = 0.0
    for j in range(n):
        total += rng.standard_exponential()
        buf[j] = total
    scale = horizon / (total + rest)  # s_j = horizon S_j / (S_N + G)
    rate = log_discount * scale
    discounted = 0.0
    spend = 0.0
    per_purchase = with_spend and not one_spend_draw
    fast = shape > 1.0  # Marsaglia-Tsang with the constants of this shape
    b = shape - 1.0 / 3.0
    for j in range(n):
        weight = math.exp(-rate * buf[j])
        discounted += weight
        if per_purchase:
            spend += weight * (_marsaglia_tsang(rng, b, c) if fast else _gamma(rng, shape))
    if with_spend:
        spend = (_gamma(rng, shape * n) if one_spend_draw else spend) / nu
    return discounted, spend, total * scale


@numba.njit(cache=True, nogil=True)
def discounted_sums(rng, count, rest, horizon, log_discount, spend_shape, nu, one_spend_draw,
                    discounted, spend, last_time):
    """Fill ``discounted``, ``spend`` and ``last_time`` (float, like ``count``) customer by customer.

    Parameters
    ----------
    rng : numpy.random.Generator
    count : ndarray of int64, (m,)
        Purchases of each simulated customer; a customer with none is 0 everywhere and draws
        nothing.
    rest : ndarray of float, (m,)
        ``Gamma(K + 1 - N)`` draws (the spacings after the last purchase).
    horizon, log_discount : ndarray of float, (m,) or (1,)
        Window length and ``ln(1 + d)`` per customer (a single value is shared).
    spend_shape, nu : ndarray of float, (m,), or both empty for no spend
        Gamma-Gamma shape ``p`` and each customer's spend rate; ``spend`` is left as it is
        without them.
    one_spend_draw : bool
        The spend total is one ``Gamma(N spend_shape)`` draw (exact only at ``log_discount == 0``,
        which takes one draw anyway).
    discounted, spend, last_time : ndarray of float, (m,)
        Outputs (``spend`` may be empty without spend).
    """
    with_spend = nu.size > 0
    per_h, per_c = horizon.size > 1, log_discount.size > 1
    most = 1
    for i in range(count.size):
        most = max(most, count[i])
    buf = np.empty(most)
    last_spend, c_spend = -1.0, 0.0
    for i in range(count.size):
        n = count[i]
        if n <= 0:
            discounted[i] = 0.0
            last_time[i] = 0.0
            if with_spend:
                spend[i] = 0.0
            continue
        shape = spend_shape[i] if with_spend else 1.0
        if shape != last_spend:
            last_spend, c_spend = shape, _mt_c(shape)
        d, v, t = _one_customer(rng, n, rest[i], horizon[i if per_h else 0],
                                log_discount[i if per_c else 0], shape, c_spend,
                                nu[i] if with_spend else 1.0, with_spend, one_spend_draw, buf)
        discounted[i] = d
        last_time[i] = t
        if with_spend:
            spend[i] = v


# Inversion walks the pmf from K = 1, about E[K] steps of a few ns; a Gamma-Poisson draw costs
# some 60-100 ns and is repeated with probability P(K = 0): inversion is the cheaper below this
# mean, rejection above (measured on the realistic 100k benchmark's chunks).
_INVERSION_MEAN = 12.0


@numba.njit(cache=True, nogil=True)
def _nb_one(rng, n, pr, log_p0, p0, max_mean):
    """One K ~ NB(n, pr) given K >= 1, ``p0 = exp(log_p0) = P(K = 0)`` (see
    :func:`negative_binomial_at_least_one`)."""
    if p0 > 0.5 or n * (1.0 - pr) <= _INVERSION_MEAN * pr:  # inversion on the mass of K >= 1
        target = rng.random() * -math.expm1(log_p0)
        q = 1.0 - pr
        pk = p0 * n * q  # P(K = 1)
        total = pk
        k = 1
        while True:
            if total >= target:
                return k
            k += 1
            pk *= (n + (k - 1)) * q / k  # the division off the chain through pk
            if pk <= 1e-17 * total:  # the series stopped growing in floating point: reject instead
                break
            total += pk
    while True:  # Gamma-Poisson draws until K >= 1 (accepted with probability >= 1/2 here)
        mean = _gamma(rng, n) * ((1.0 - pr) / pr)
        k = rng.poisson(min(mean, max_mean))
        if k > 0:
            return k


@numba.njit(cache=True, nogil=True)
def negative_binomial_at_least_one(rng, n, pr, log_p0, max_mean, out):
    """Fill ``out`` (int64, (m,)) with draws of K ~ NB(n, pr) given K >= 1, element by element.

    ``P(K = k) = C(n+k-1, k) pr^n (1-pr)^k``; ``log_p0 = n ln pr``. Where ``P(K = 0) > 1/2`` or
    the mean ``n (1-pr) / pr`` is at most ``_INVERSION_MEAN``, by inversion: one uniform share of
    the mass ``1 - P(K = 0)`` matched by the running sum of P(K = 1), P(K = 2), ... (ratio
    recursion ``P(k) = P(k-1) (n+k-1)/k (1-pr)``), falling back to rejection where the rounded
    series stops growing before the target (a rounding gap of ~1e-16, or P(K = 1) underflowing);
    otherwise by rejection: Gamma-Poisson draws (Poisson mean capped at ``max_mean``) until
    K >= 1, each accepted with probability ``1 - P(K = 0) >= 1/2``.
    """
    for i in range(out.size):
        out[i] = _nb_one(rng, n[i], pr[i], log_p0[i], math.exp(log_p0[i]), max_mean)


@numba.njit(cache=True, nogil=True)
def _at(v, s, i):
    """``v[s, i]`` of a 2-D array whose axes of length 1 are shared (broadcast)."""
    return v[s if v.shape[0] > 1 else 0, i if v.shape[1] > 1 else 0]


@numba.njit(cache=True, nogil=True)
def _dropout_within(rng, a, b, k):
    """Purchases made and whether the customer dropped out, given K = ``k`` potential purchases
    and ``p ~ Beta(a, b)``, ``M ~ Geometric(p)``, ``N = min(K, M)``, without drawing p.

    Marginally M is beta-geometric: ``P(M > m) = B(a, b + m) / B(a, b) = prod_{j<m} (b + j) /
    (a + b + j)``; one uniform u gives ``M = min{m : u >= P(M > m)}`` by inversion, and only
    m <= k is looked at (N = k, no dropout, when M > k). Returns ``(N, M <= K)``.
    """
    u = rng.random()
    survive = 1.0
    for m in range(1, k + 1):
        survive *= (b + (m - 1)) / (a + b + (m - 1))
        if u >= survive:
            return m, True
    return k, False


@numba.njit(cache=True, nogil=True)
def _walk(rng, lam_shape, lam_rate, horizon, log_discount, a, b, shape, cs, nu, with_spend):
    """One alive customer's purchases given at least one in (0, horizon], by walking the Poisson
    process: ``(N, discounted count, discounted spend, last purchase time, dropped out)``;
    ``cs = _mt_c(shape)``.

    ``lambda ~ Gamma(lam_shape, rate lam_rate)`` and the first arrival ``E / lambda`` are drawn
    together until the arrival falls in the window (conditioning on K >= 1 by rejection, accepted
    with probability 1 - P(K = 0)); then one uniform u for the dropout (M beta-geometric with p
    ~ Beta(a, b) integrated out, as :func:`_dropout_within`: the customer drops out after
    purchase m where u >= P(M > m) first holds); then purchase by purchase its spend
    (``Gamma(shape)``, not at ``log_discount == 0``) and, unless it was the last, the next
    arrival ``+ E / lambda``; at ``log_discount == 0`` one ``Gamma(N shape)`` spend total at the
    end. Given lambda the arrivals of a Poisson process are what the spacings route draws given K
    (uniform order statistics), so the two routes have one distribution; this one needs no K,
    no buffer and no spacing after the last purchase.
    """
    while True:
        wait = lam_rate / _gamma(rng, lam_shape)  # 1 / lambda: the mean time between purchases
        t = rng.standard_exponential() * wait
        if t <= horizon:
            break
    nu_inv = 1.0 / nu
    u = rng.random()
    survive = 1.0
    per_purchase = with_spend and log_discount != 0.0
    fast = shape > 1.0
    bs = shape - 1.0 / 3.0
    n = 0
    discounted = 0.0
    spend = 0.0
    while True:
        n += 1
        weight = math.exp(-log_discount * t)
        discounted += weight
        if per_purchase:
            spend += weight * (_marsaglia_tsang(rng, bs, cs) if fast else _gamma(rng, shape))
        survive *= (b + (n - 1)) / (a + b + (n - 1))
        if u >= survive:
            dropped = True
            break
        step = t + rng.standard_exponential() * wait
        if step > horizon:
            dropped = False
            break
        t = step
    if with_spend:
        spend = (spend if per_purchase else _gamma(rng, shape * n)) * nu_inv
    return n, discounted, spend, t, dropped


@numba.njit(cache=True, nogil=True)
def bgnbd_futures(rng, alive_prob, r, alpha, a, b, x, T, spend_shape, nu_shape, nu_rate,
                  with_spend, horizon, log_discount, b_shift, max_mean,
                  count, discounted, alive_time, discounted_alive, spend):
    """Fill the (S, n) outputs with one sparse BG/NBD future per cell, row by row.

    Every input is 2-D with axes of length 1 or the output's (length 1 is shared). Per cell, in
    this order of draws (the steps of
    :func:`clvmodels.formulas.future_simulation.simulate_bgnbd_futures`):

    1. one uniform u: dead at T iff ``u >= P(alive)`` (all outputs 0, stop); alive without a
       potential purchase (K = 0) iff ``u < P(alive) P(K = 0)``, ``P(K = 0) = pr^(r+x)``,
       ``pr = (alpha+T)/(alpha+T+horizon)`` (count 0, alive the whole horizon, stop): given
       alive, ``u / P(alive)`` is uniform, so this is the K = 0 test of a second uniform;
    2. with spend, ``nu = standard_gamma(nu_shape) / nu_rate``;
    3. a buyer with ``P(K = 0) > 1/2`` (few purchases: one-time buyers, mostly) by the spacings
       route: K from NB(r+x, pr) given K >= 1 by inversion (:func:`_nb_one`); one uniform for
       ``N = min(K, M)`` and whether ``M <= K``, M beta-geometric with ``p ~ Beta(a, b +
       b_shift + x)`` integrated out (:func:`_dropout_within`); ``Gamma(K + 1 - N)`` for the
       spacings after the last purchase; the purchases' times and spends as
       :func:`_one_customer`;
    4. any other buyer by walking the Poisson process (:func:`_walk`, lambda ~ Gamma(r + x,
       rate alpha + T)): no negative binomial draw, whose Gamma-Poisson rejection would cost
       as much and still leave the times to draw.

    ``alive_time`` is the last purchase time for a customer who dropped out (M <= K), else the
    horizon; ``discounted_alive`` its integral of ``exp(-log_discount s)``. ``spend`` is untouched
    without spend. ``P(K = 0)`` is reused while ``r + x`` and ``alpha + T`` repeat (customers
    sorted by history come in runs).
    """
    rows, cols = count.shape
    buf = np.empty(64)
    whole = horizon if log_discount == 0.0 else -math.expm1(-log_discount * horizon) / log_discount
    for s in range(rows):
        last_shape, last_age, pr, log_p0, p0 = -1.0, -1.0, 1.0, 0.0, 1.0
        last_nu, c_nu, last_spend, c_spend = -1.0, 0.0, -1.0, 0.0
        for i in range(cols):
            pa = _at(alive_prob, s, i)
            u = rng.random()
            if not u < pa:
                count[s, i] = 0
                discounted[s, i] = 0.0
                alive_time[s, i] = 0.0
                discounted_alive[s, i] = 0.0
                if with_spend:
                    spend[s, i] = 0.0
                continue
            xi = _at(x, s, i)
            shape_k = _at(r, s, i) + xi
            age = _at(alpha, s, i) + _at(T, s, i)
            if shape_k != last_shape or age != last_age:
                last_shape, last_age = shape_k, age
                pr = age / (age + horizon)
                log_p0 = shape_k * math.log(pr)
                p0 = math.exp(log_p0)
            if u < pa * p0:  # K = 0: no purchase, alive throughout
                count[s, i] = 0
                discounted[s, i] = 0.0
                alive_time[s, i] = horizon
                discounted_alive[s, i] = whole
                if with_spend:
                    spend[s, i] = 0.0
                continue
            shape, nu = 1.0, 1.0
            if with_spend:
                a_nu = _at(nu_shape, s, i)
                if a_nu > 1.0:
                    if a_nu != last_nu:
                        last_nu, c_nu = a_nu, 1.0 / math.sqrt(9.0 * (a_nu - 1.0 / 3.0))
                    g = _marsaglia_tsang(rng, a_nu - 1.0 / 3.0, c_nu)
                else:
                    g = _gamma(rng, a_nu)
                nu = g / _at(nu_rate, s, i)
                shape = _at(spend_shape, s, i)
                if shape != last_spend:
                    last_spend, c_spend = shape, _mt_c(shape)
            ai, bi = _at(a, s, i), _at(b, s, i) + b_shift + xi
            if p0 > 0.5:
                k = _nb_one(rng, shape_k, pr, log_p0, p0, max_mean)
                n, dropped = _dropout_within(rng, ai, bi, k)
                rest = _gamma(rng, k + 1.0 - n)
                if n > buf.size:
                    buf = np.empty(2 * n)
                d, v, t = _one_customer(rng, n, rest, horizon, log_discount, shape, c_spend, nu,
                                        with_spend, False, buf)
            else:
                n, d, v, t, dropped = _walk(rng, shape_k, age, horizon, log_discount, ai, bi, shape,
                                            c_spend, nu, with_spend)
            count[s, i] = n
            discounted[s, i] = d
            if with_spend:
                spend[s, i] = v
            if dropped:  # right after the last purchase
                alive_time[s, i] = t
                discounted_alive[s, i] = (t if log_discount == 0.0
                                          else -math.expm1(-log_discount * t) / log_discount)
            else:
                alive_time[s, i] = horizon
                discounted_alive[s, i] = whole
