"""sBG formulas: Fader & Hardie (2007) fits and projections, DERL (Fader & Hardie 2010), the web host.

Every sum with a closed form is checked against a brute-force sum of its terms; random parameters
come from a seeded generator.
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
from scipy import optimize
from scipy.special import betaln

from clvmodels.formulas import sbg
from clvmodels.formulas.betageometric import beta_survival_sum

# Fader & Hardie (2007), "How to project customer retention", J. Interactive Marketing 21(1),
# Table 1 / Figure 1: % of 1,000 customers surviving at the start of years 0-7, holdout years 8-12.
REGULAR = [100.0, 63.1, 46.8, 38.2, 32.6, 28.9, 26.2, 24.1]
REGULAR_HOLDOUT = [22.3, 20.7, 19.4, 18.3, 17.3]
HIGH_END = [100.0, 86.9, 74.3, 65.3, 59.3, 55.1, 51.7, 49.1]
HIGH_END_HOLDOUT = [46.8, 44.5, 42.7, 40.9, 39.4]


def fit_cohort(percent):
    """MLE of (alpha, beta) on a 1,000-customer cohort given as % surviving (FH 2007 eq. 6)."""
    renewals, churned, weights = sbg.cohort_to_tenures(np.asarray(percent) * 10.0)
    result = optimize.minimize(sbg.neg_log_likelihood_and_grad, np.zeros(2),
                               args=(renewals, churned, weights), jac=True, method="BFGS",
                               options={"gtol": 1e-8})
    assert np.max(np.abs(result.jac)) < 1e-6  # converged (BFGS may stop at the precision limit)
    return np.exp(result.x)


def brute_sum(g, b, horizon, d, cap=400_000):
    k = np.arange(1, min(horizon, cap) + 1, dtype=float)
    return float(np.sum(np.exp(betaln(g, b + k) - betaln(g, b) - k * np.log1p(d))))


@pytest.mark.parametrize("percent, published", [(REGULAR, (0.704, 1.182)), (HIGH_END, (0.668, 3.806))])
def test_fader_hardie_2007_fits(percent, published):
    """FH 2007 Table 2: regular alpha = 0.704, beta = 1.182; high end alpha = 0.668, beta = 3.806
    (fitted on years 1-7); printed to 3 decimals, so the tolerance is half a unit in the third."""
    np.testing.assert_allclose(fit_cohort(percent), published, atol=5e-4)


def test_fader_hardie_2007_projections():
    """FH 2007 section 'Projecting retention': high-end r_8 is about 0.942; year-12 survival about
    17.0% (regular) and 37.8% (high end), against the holdout's 17.3% and 39.4%. Projections over
    years 8-12 stay within 2.5 points of the holdout (the paper's Figure 3 shows the same gap)."""
    regular, high = fit_cohort(REGULAR), fit_cohort(HIGH_END)
    assert sbg.retention_rate(*high, 8) == pytest.approx(0.942, abs=5e-4)
    assert 100 * sbg.survival(*regular, 12) == pytest.approx(17.0, abs=0.05)
    assert 100 * sbg.survival(*high, 12) == pytest.approx(37.8, abs=0.05)
    years = np.arange(8, 13)
    assert np.max(np.abs(100 * sbg.survival(*regular, years) - REGULAR_HOLDOUT)) < 2.5
    assert np.max(np.abs(100 * sbg.survival(*high, years) - HIGH_END_HOLDOUT)) < 2.5


def test_survival_churn_retention_agree():
    """S(t) - S(t+1) = P(T = t+1), S(t)/S(t-1) = r_t, the P(T = t) sum to 1, S(0) = 1."""
    alpha, beta = 0.704, 1.182
    t = np.arange(0, 60)
    s = sbg.survival(alpha, beta, t)
    assert s[0] == 1.0
    np.testing.assert_allclose(s[:-1] - s[1:], sbg.churn_probability(alpha, beta, t[1:]), rtol=1e-12)
    np.testing.assert_allclose(s[1:] / s[:-1], sbg.retention_rate(alpha, beta, t[1:]), rtol=1e-12)
    assert sbg.churn_probability(3.0, 2.0, np.arange(1, 20000)).sum() == pytest.approx(1.0, abs=1e-9)


def test_individual_likelihood_equals_cohort_likelihood():
    """Individual rows with censoring and the cohort form (FH 2007 eq. 6) are the same likelihood:
    hand-built rows of 3 customers: left after 0 renewals, left after 2, still active after 2."""
    alpha, beta = 1.3, 2.1
    ll = sbg.log_likelihood(alpha, beta, [0, 2, 2], [True, True, False])
    expected = [np.log(alpha / (alpha + beta)),
                np.log(sbg.survival(alpha, beta, 2) - sbg.survival(alpha, beta, 3)),
                np.log(sbg.survival(alpha, beta, 2))]
    np.testing.assert_allclose(ll, expected, rtol=1e-12)
    value, _ = sbg.neg_log_likelihood_and_grad(np.log([alpha, beta]), [0, 2, 2], [True, True, False],
                                               [4.0, 1.0, 2.0])
    assert value == pytest.approx(-(4 * ll[0] + ll[1] + 2 * ll[2]), rel=1e-12)
    # the cohort table 7, 3, 2: 4 leave after period 1, 1 after period 2, 2 remain (FH 2007 eq. 6)
    by_hand = 4 * np.log(sbg.churn_probability(alpha, beta, 1)) + np.log(
        sbg.churn_probability(alpha, beta, 2)) + 2 * np.log(sbg.survival(alpha, beta, 2))
    assert float(sbg.cohort_log_likelihood(alpha, beta, [7, 3, 2])) == pytest.approx(by_hand, rel=1e-12)
    draws = sbg.cohort_log_likelihood(np.array([[alpha], [2.0]]), np.array([[beta], [3.0]]), [7, 3, 2])
    assert draws.shape == (2,) and draws[0] == pytest.approx(by_hand, rel=1e-12)


def test_gradient_matches_finite_differences():
    rng = np.random.default_rng(7)
    renewals = rng.integers(0, 40, 200)
    churned = rng.random(200) < 0.6
    weights = rng.integers(1, 50, 200).astype(float)
    for _ in range(5):
        point = rng.normal(0, 1, 2)
        _, grad = sbg.neg_log_likelihood_and_grad(point, renewals, churned, weights)
        numeric = optimize.approx_fprime(point, lambda p: sbg.neg_log_likelihood_and_grad(
            p, renewals, churned, weights)[0], 1e-7)
        np.testing.assert_allclose(grad, numeric, rtol=2e-5, atol=1e-4)


def test_broadcasting_over_draws():
    alpha = np.array([[0.7], [2.0], [3.8]])
    beta = np.array([[1.2], [4.0], [15.2]])
    renewals = np.array([0, 1, 5, 30])
    out = sbg.expected_renewals(alpha, beta, renewals, 10, 0.05)
    assert out.shape == (3, 4)
    assert out[1, 2] == pytest.approx(float(sbg.expected_renewals(2.0, 4.0, 5, 10, 0.05)), rel=1e-14)
    assert sbg.log_likelihood(alpha, beta, renewals, renewals > 2).shape == (3, 4)


@pytest.mark.parametrize("g, b, d", [(0.704, 1.182, 0.1), (3.8, 15.2, 0.1), (1 / 15, 4 / 15, 0.1),
                                     (2.0, 4.0, 0.0), (1.0, 3.0, 0.0), (1.00003, 3.0, 0.0),
                                     (0.5, 1000.0, 0.01), (5.0, 0.3, 0.5)])
@pytest.mark.parametrize("horizon", [1, 7, 300, 1000])
def test_beta_survival_sum_against_brute_force(g, b, d, horizon):
    """Closed forms (telescoped, near-1 expansion, hypergeometric tails) equal the term-by-term sum."""
    assert float(beta_survival_sum(g, b, horizon, d)) == pytest.approx(
        brute_sum(g, b, horizon, d), rel=1e-8)


def test_fractional_horizon_counts_whole_periods():
    assert float(sbg.expected_renewals(2.0, 4.0, 3, 2.9)) == float(sbg.expected_renewals(2.0, 4.0, 3, 2))


def test_derl_illustrative_bases():
    """FH 2010 section 2: sBG(3.8, 15.2) and sBG(1/15, 4/15) both retain 80% in year 1 but differ
    in value. DERL(n) = (beta+n-1)/(alpha+beta+n-1) 2F1(1, beta+n; alpha+beta+n; 1/(1+d)) (FH 2010
    eq. for DERL), checked against mpmath's 2F1 and a brute-force sum, at d = 10%."""
    d = 0.1
    homogeneous, heterogeneous = (3.8, 15.2), (1 / 15, 4 / 15)
    for base in (homogeneous, heterogeneous):
        assert sbg.retention_rate(*base, 1) == pytest.approx(0.8, rel=1e-12)
        for n in (1, 2, 5, 20):
            alpha, beta = base
            paper = (beta + n - 1) / (alpha + beta + n - 1) * float(
                mpmath.hyp2f1(1, beta + n, alpha + beta + n, 1 / (1 + d)))
            got = float(sbg.derl(alpha, beta, n - 1, d))
            assert got == pytest.approx(paper, rel=1e-10)
            assert got == pytest.approx((1 + d) * brute_sum(alpha, beta + n - 1, 10**6, d), rel=1e-9)
    # same 80% first-year retention, very different values: the heterogeneous base is worth more
    # than twice as much (7.68 vs 3.31 expected discounted payments), and tenure raises its DERL more
    assert sbg.derl(*heterogeneous, 0, d) > 2 * sbg.derl(*homogeneous, 0, d)
    growth = [sbg.derl(*base, 4, d) / sbg.derl(*base, 0, d) for base in (homogeneous, heterogeneous)]
    assert 1.0 < growth[0] < growth[1]
    # DEL = 1 + DERL(1) / (1 + d): a new customer pays now, then is a one-period-old customer
    for base in (homogeneous, heterogeneous):
        assert sbg.discounted_expected_lifetime(*base, d) == pytest.approx(
            1 + sbg.derl(*base, 0, d) / (1 + d), rel=1e-12)


def test_expected_residual_lifetime():
    """(beta + renewals)/(alpha - 1) for alpha > 1 (hand: sBG(2, 4) after 3 renewals: 7), inf else."""
    assert sbg.expected_residual_lifetime(2.0, 4.0, 3) == pytest.approx(7.0, rel=1e-12)
    assert np.isinf(sbg.expected_residual_lifetime(0.7, 1.2, 3))


def test_web_host_lifetime_value_and_break_even_commission():
    """Seeds digest section 2: a 95.4-a-year plan, customers staying about 5 years, 95 commission.

    Assumptions: margin 60% of the price (so 57.24 a year, the issue's year-1 figure: 57.24 - 95
    = -37.76); payment at the start of each year, the first at acquisition; sBG(alpha=2, beta=4),
    whose mean lifetime E[T] = (alpha+beta-1)/(alpha-1) = 5 years. S(t) = 20/((t+4)(t+5)).

    Undiscounted: LTV = 57.24 x 5 = 286.20, the break-even commission; net of the 95 commission,
    191.20. At 10% a year: DEL = sum_t z^t 20 (1/(t+4) - 1/(t+5)), z = 1/1.1, with
    sum_{t>=0} z^t/(t+m) = z^-m (-ln(1-z) - sum_{j<m} z^j/j).
    """
    alpha, beta, margin = 2.0, 4.0, 0.6 * 95.4
    assert float(sbg.discounted_expected_lifetime(alpha, beta, 0.0)) == pytest.approx(5.0, rel=1e-12)
    ltv = margin * sbg.discounted_expected_lifetime(alpha, beta, 0.0)
    assert ltv == pytest.approx(286.2, rel=1e-12)
    assert ltv - 95.0 == pytest.approx(191.2, rel=1e-12)
    assert margin - 95.0 == pytest.approx(-37.76, abs=1e-9)  # year 1 alone is a loss
    z = 1 / 1.1

    def tail(m):
        return z**-m * (-np.log(1 - z) - sum(z**j / j for j in range(1, m)))

    hand_del = 20 * (tail(4) - tail(5))
    # integer alpha is scipy's degenerate 2F1 case (guarded to ~1e-10, clvmodels.formulas.special)
    assert float(sbg.discounted_expected_lifetime(alpha, beta, 0.1)) == pytest.approx(hand_del, rel=1e-9)
    break_even = margin * hand_del
    assert break_even == pytest.approx(57.24 * hand_del)
    assert 95.0 < break_even < 286.2  # the commission pays back, discounting costs value


def test_latent_posterior_and_simulation():
    """theta | renewals ~ Beta(alpha, beta + renewals); simulated renewals within 10 periods match
    expected_renewals and P(k more) = survival_if_alive, and discounted_count turns them into the
    discounted expectation. Seeded: same seed, same numbers."""
    alpha, beta, renewals, horizon, d = 1.5, 3.0, 4, 10, 0.08
    rng = np.random.default_rng(11)
    theta = sbg.sample_theta(rng, alpha, beta, np.full(200_000, renewals))
    assert theta.mean() == pytest.approx(alpha / (alpha + beta + renewals), rel=0.01)
    counts = sbg.simulate_renewals(rng, theta, horizon)
    assert counts.max() == horizon
    se = counts.std() / np.sqrt(counts.size)
    assert abs(counts.mean() - sbg.expected_renewals(alpha, beta, renewals, horizon)) < 4 * se
    assert np.mean(counts >= 3) == pytest.approx(float(sbg.survival_if_alive(alpha, beta, renewals, 3)),
                                                abs=0.005)
    value = sbg.discounted_count(counts, d)
    assert abs(value.mean() - sbg.expected_renewals(alpha, beta, renewals, horizon, d)) < 4 * value.std() / 447
    assert sbg.discounted_count(3, 0.0) == 3.0
    assert float(sbg.discounted_count(2, 0.1)) == pytest.approx(1 / 1.1 + 1 / 1.21, rel=1e-12)
    again = sbg.simulate_renewals(np.random.default_rng(5), theta[:100], horizon)
    np.testing.assert_array_equal(again, sbg.simulate_renewals(np.random.default_rng(5), theta[:100], horizon))


def test_discounted_sums_against_mpmath_at_random_points():
    """beta_survival_sum over g 0.02-50, b 0.05-5,000, d 1e-6-1 per period (long weekly or
    monthly tenures with a small discount rate, where scipy's 2F1 overflows), horizons 1 to inf,
    against the same tails evaluated by mpmath at 30 digits: within 1e-9 (measured worst 1e-10);
    integer g (the connection formula's poles, extrapolated) within 2e-8 (measured 5e-9)."""
    mpmath.mp.dps = 30
    rng = np.random.default_rng(1)
    for i in range(160):
        g, b, d = np.exp(rng.uniform(np.log([0.02, 0.05, 1e-6]), np.log([50.0, 5000.0, 1.0])))
        if i % 8 == 0:
            g = float(rng.integers(1, 5))
        h = [1, 10, 300, 5000, np.inf][rng.integers(5)]
        z = 1 / (1 + mpmath.mpf(d))

        def tail(bb):
            return z * bb / (g + bb) * mpmath.hyp2f1(1, bb + 1, g + bb + 1, z)

        ref = tail(mpmath.mpf(b))
        if np.isfinite(h):
            ref -= z**h * mpmath.beta(g, b + h) / mpmath.beta(g, b) * tail(mpmath.mpf(b) + h)
        tolerance = 2e-8 if i % 8 == 0 else 1e-9
        assert float(beta_survival_sum(g, b, h, d)) == pytest.approx(float(ref), rel=tolerance), (g, b, d, h)


def test_long_tenures_stay_finite():
    """10,000 renewals: log-space Beta functions keep the likelihood and DERL finite; DERL then
    approaches the homogeneous 1/(1 - r (1+d)^-1) with r = r_10001 close to 1."""
    ll = sbg.log_likelihood(0.7, 1.2, [10_000, 10_000], [True, False])
    assert np.all(np.isfinite(ll))
    # scipy's betaln at b = 1e4 is good to ~2e-12 relative
    assert ll[1] == pytest.approx(float(mpmath.log(mpmath.beta(0.7, 10_001.2) / mpmath.beta(0.7, 1.2))), rel=1e-10)
    value = float(sbg.derl(0.7, 1.2, 10_000, 0.01))
    r = float(sbg.retention_rate(0.7, 1.2, 10_001))
    assert value == pytest.approx(1.01 / (1.01 - r), rel=0.01)
