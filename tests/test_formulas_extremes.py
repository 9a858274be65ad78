"""BG/NBD formulas at extreme histories and parameters, against mpmath at high precision.

The references are computed from the textbook forms (FHL 2005 eq. 6, 10 and 11, the hypergeometric
survival function, the rate integral) in 60-150 digit arithmetic, where overflow and cancellation
cannot happen; the package computes the rearranged double-precision forms.
"""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest

from clvmodels.formulas import bgnbd

CDNOW = (0.243, 4.414, 0.793, 2.426)
# (x, t_x, T) in days: ten years of daily history, recency 0, recency == T, one-off buyers
HISTORIES = [
    (0, 0.0, 3650.0),
    (1, 0.0, 3650.0),
    (10_000, 3650.0, 3650.0),
    (10_000, 3000.0, 3650.0),
    (5_000, 1.0, 3650.0),
    (3, 1.0, 1.0),
    (2, 30.43, 38.86),
]
PARAMS = [
    CDNOW,
    (0.3, 2.0, 0.3, 0.4),  # a + b < 1
    (0.3, 2.0, 0.5, 0.5),  # a + b == 1: C = 0 at x = 0
    (2.0, 50.0, 1.0, 3.0),  # a == 1
    (2.0, 50.0, 1.0 + 1e-9, 3.0),  # a near 1
    (0.5, 1.0, 0.999999, 0.2),
    (8.0, 0.5, 15.0, 60.0),
]


def mpf(*values):
    return [mp.mpf(float(v)) for v in values]


def reference_p_alive(r, alpha, a, b, x, t_x, T):
    """FHL 2005 eq. 11 as printed."""
    with mp.workdps(60):
        r, alpha, a, b, x, t_x, T = mpf(r, alpha, a, b, x, t_x, T)
        if x == 0:
            return mp.mpf(1)
        return 1 / (1 + a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x))


def reference_log_likelihood(r, alpha, a, b, x, t_x, T):
    """FHL 2005 eq. 6 (the likelihood itself, not its log) at 80 digits."""
    with mp.workdps(80):
        r, alpha, a, b, x, t_x, T = mpf(r, alpha, a, b, x, t_x, T)
        head = mp.beta(a, b + x) / mp.beta(a, b) * mp.gamma(r + x) * alpha**r / mp.gamma(r)
        tail = (alpha + T) ** -(r + x)
        if x > 0:
            tail += a / (b + x - 1) * (alpha + t_x) ** -(r + x)
        return mp.log(head * tail)


def _fhl_eq10_if_alive(r, alpha, a, b, x, T, t, da=0, db=0):
    r, alpha, a, b, x, T, t = mpf(r, alpha, a, b, x, T, t)
    a, b = a + da, b + db
    c = a + b + x - 1
    z = t / (alpha + T + t)
    return c / (a - 1) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * mp.hyp2f1(r + x, b + x, c, z))


def reference_expected_if_alive(r, alpha, a, b, x, T, t):
    """FHL 2005 eq. 10 without the P(alive) denominator, 150 digits. At its removable
    singularities (a = 1; a + b + x - 1 = 0) the mean of the values 1e-40 either side."""
    with mp.workdps(150):
        singular_a = a == 1.0
        singular_c = mp.mpf(a) + mp.mpf(b) + x - 1 == 0
        if singular_a or singular_c:
            key = "da" if singular_a else "db"
            eps = mp.mpf(10) ** -40
            return (_fhl_eq10_if_alive(r, alpha, a, b, x, T, t, **{key: eps})
                    + _fhl_eq10_if_alive(r, alpha, a, b, x, T, t, **{key: -eps})) / 2
        return _fhl_eq10_if_alive(r, alpha, a, b, x, T, t)


def reference_survival(r, alpha, a, b, x, T, t):
    """E[exp(-lambda p t)] over the alive posterior: 2F1(r+x, a; a+b+x; -t/(alpha+T))."""
    with mp.workdps(50):
        r, alpha, a, b, x, T, t = mpf(r, alpha, a, b, x, T, t)
        return mp.hyp2f1(r + x, a, a + b + x, -t / (alpha + T))


def reference_discounted_if_alive(r, alpha, a, b, x, T, horizon, rate):
    """mpmath.quad of (1+d)^-s times the alive purchase rate (r+x)/(alpha+T) 2F1(r+x+1, a; a+b+x;
    -u), u = s/(alpha+T), over [0, horizon], split at decades of s so the quadrature sees each
    scale. The 2F1 is taken in its Pfaff form (1+u)^-a 2F1(a+b-r-1, a; a+b+x; u/(1+u)) (A&S
    15.3.4), with which mpmath stays fast for x in the thousands."""
    with mp.workdps(30):
        r, alpha, a, b, x, T, horizon, rate = mpf(r, alpha, a, b, x, T, horizon, rate)
        m, scale = r + x, alpha + T

        def integrand(s):
            u = s / scale
            rate_alive = m / scale * (1 + u) ** -a * mp.hyp2f1(a + b - r - 1, a, a + b + x, u / (1 + u))
            return (1 + rate) ** -s * rate_alive

        cuts = [scale * mp.mpf(10) ** k for k in range(-4, 8) if scale * mp.mpf(10) ** k < horizon]
        return mp.quad(integrand, [0, *cuts, horizon])


@pytest.mark.parametrize("history", HISTORIES)
@pytest.mark.parametrize("params", [CDNOW, (0.3, 2.0, 0.3, 0.4), (8.0, 0.5, 15.0, 60.0)])
def test_p_alive_and_log_likelihood(params, history):
    ours = bgnbd.p_alive(*params, *history)
    reference = reference_p_alive(*params, *history)
    if reference > 1e-300:
        assert ours == pytest.approx(float(reference), rel=1e-12)
    else:  # below the smallest double: must underflow to 0, not overflow to nan
        assert 0.0 <= ours < 1e-300
    # for x = 10,000 the log-likelihood is a sum of terms near 1e5, so double rounding alone
    # leaves ~1e-11 in absolute terms
    assert bgnbd.log_likelihood(*params, *history) == pytest.approx(
        float(reference_log_likelihood(*params, *history)), rel=1e-12, abs=1e-10)


@pytest.mark.parametrize("params", PARAMS)
@pytest.mark.parametrize("history", HISTORIES)
def test_expected_purchases(params, history):
    """Relative error below 1e-9 for horizons from a day to a century (in days), also where the
    closed form has removable singularities (a = 1, a + b = 1 with x = 0)."""
    x, t_x, T = history
    alive = bgnbd.p_alive(*params, *history)
    for t in (1.0, 365.0, 36525.0):
        ours = bgnbd.expected_purchases(*params, x, t_x, T, t)
        reference = float(reference_expected_if_alive(*params, x, T, t)) * alive
        assert np.isfinite(ours)
        assert ours == pytest.approx(reference, rel=1e-9, abs=1e-300)


def test_expected_purchases_for_tiny_horizons_and_new_customers():
    """Horizons far below alpha + T (the closed form's terms cancel there) and FHL eq. 9 with
    a + b < 1, where lifetimes returns nan."""
    for t in (1e-9, 1e-5, 1e-2):
        ours = bgnbd.expected_purchases(*CDNOW, 3, 1000.0, 3650.0, t)
        reference = float(reference_expected_if_alive(*CDNOW, 3, 3650.0, t)) * bgnbd.p_alive(*CDNOW, 3, 1000.0, 3650.0)
        assert ours == pytest.approx(reference, rel=1e-9)
    for params in PARAMS[1:3]:
        for t in (0.5, 52.0, 5200.0):
            assert bgnbd.expected_purchases_new(*params, t) == pytest.approx(
                float(reference_expected_if_alive(*params, 0, 0.0, t)), rel=1e-9)


@pytest.mark.parametrize("params", PARAMS)
@pytest.mark.parametrize("history", HISTORIES[::2])
def test_survival(params, history):
    x, t_x, T = history
    for t in (1.0, 365.0, 36525.0):
        ours = bgnbd.p_alive_at(*params, x, t_x, T, t)
        reference = float(reference_survival(*params, x, T, t)) * bgnbd.p_alive(*params, *history)
        assert ours == pytest.approx(reference, rel=1e-9, abs=1e-15)


def test_survival_where_scipy_hyp2f1_degenerates():
    """r - a an integer makes c - a - b an integer in the transformed 2F1, where scipy returns
    nan or wrong values as z -> 1; special.guarded_hyp2f1 documents 2e-5 as its worst case."""
    for r, a in ((1.0, 1.0), (2.5, 0.5), (0.7, 0.7)):
        for x in (0, 1, 300):
            for t in (1000.0, 1e5):
                ours = bgnbd.p_alive_at(r, 1.0, a, 2.0, x, 5.0 if x else 0.0, 10.0, t)
                reference = float(reference_survival(r, 1.0, a, 2.0, x, 10.0, t)) * bgnbd.p_alive(
                    r, 1.0, a, 2.0, x, 5.0 if x else 0.0, 10.0)
                assert ours == pytest.approx(reference, rel=1e-4)
                expected = bgnbd.expected_purchases(r, 1.0, a, 2.0, x, 5.0 if x else 0.0, 10.0, t)
                assert np.isfinite(expected) and expected > 0


@pytest.mark.parametrize(
    "params, history, horizon, annual_rate, unit_per_year",
    [
        (CDNOW, (2, 30.43, 38.86), 5218.0, 0.10, 52.1775),  # a century in weeks, 10 % a year
        (CDNOW, (0, 0.0, 0.0), 5218.0, 0.10, 52.1775),  # a new customer
        (CDNOW, (10_000, 3650.0, 3650.0), 36525.0, 0.10, 365.25),  # a century in days
        ((0.3, 2.0, 0.3, 0.4), (0, 0.0, 3650.0), 36525.0, 0.08, 365.25),
        ((2.0, 50.0, 1.0, 3.0), (40, 300.0, 400.0), 3652.5, 0.0, 365.25),  # a == 1, no discount
        ((8.0, 0.5, 15.0, 60.0), (5_000, 1.0, 3650.0), 36525.0, 0.5, 365.25),
    ],
)
def test_discounted_purchases(params, history, horizon, annual_rate, unit_per_year):
    """Accurate to 1e-8 relative against mpmath.quad of the discounted rate."""
    x, t_x, T = history
    rate = (1 + annual_rate) ** (1 / unit_per_year) - 1
    ours = bgnbd.expected_discounted_purchases(*params, x, t_x, T, horizon, rate)
    reference = float(reference_discounted_if_alive(*params, x, T, horizon, rate)) * bgnbd.p_alive(*params, *history)
    assert ours == pytest.approx(reference, rel=1e-8)


def test_conditional_pmf_against_a_double_integral():
    """P(n purchases in (T, T+t] | history) against mpmath's 2-D quadrature over the posterior of
    (lambda, p) of the individual-level PMF (1-p)^(n-1) [Poisson(n) + p P(K > n)], n >= 1, and
    exp(-lambda t) for n = 0, given alive (a dead customer buys nothing)."""
    params, (x, t_x, T), t = (0.8, 6.0, 1.3, 3.0), (4, 20.0, 30.0), 25.0
    alive = bgnbd.p_alive(*params, x, t_x, T)
    r, alpha, a, b = params
    with mp.workdps(15):
        shape, rate = mp.mpf(r + x), mp.mpf(alpha + T)
        beta_norm = mp.beta(a, b + x)

        def density(lam, p):
            return (rate**shape * lam ** (shape - 1) * mp.exp(-rate * lam) / mp.gamma(shape)
                    * p ** (a - 1) * (1 - p) ** (b + x - 1) / beta_norm)

        def individual(n, lam, p):
            mean = lam * t
            if n == 0:
                return mp.exp(-mean)
            poisson = mp.exp(-mean) * mean**n / mp.factorial(n)
            above = 1 - sum(mp.exp(-mean) * mean**k / mp.factorial(k) for k in range(n + 1))
            return (1 - p) ** (n - 1) * (poisson + p * above)

        for n in (0, 2):
            value = mp.quad(lambda lam, p, n=n: density(lam, p) * individual(n, lam, p), [0, 0.2, 1, 5], [0, 0.3, 1])
            reference = float(value) * alive + (1 - alive) * (n == 0)
            assert bgnbd.purchase_probability(*params, x, t_x, T, t, n) == pytest.approx(reference, rel=1e-8)
