"""The maths under per-segment MLE, checked by hand: a Gaussian prior in fit_mle and the
empirical-Bayes scale of segment differences."""

import numpy as np
import pytest

from clvmodels.inference.mle import fit_mle
from clvmodels.inference.shrinkage import TAU_CEILING, TAU_FLOOR, between_segment_scale, shrinkage_weight


def test_a_gaussian_prior_gives_the_precision_weighted_mean_and_adds_its_precision():
    """Objective 0.5 h (z - 1)^2 (a normal likelihood centred at 1 with precision h) and prior
    N(0, 1/p): the maximum a posteriori is h / (h + p), its Laplace variance 1 / (h + p), and the
    reported log-likelihood is the likelihood's alone, -0.5 h (z - 1)^2 at the estimate."""
    h, p = np.array([40.0, 10.0]), np.array([10.0, 30.0])

    def objective(z):
        return 0.5 * float(h @ (z - 1) ** 2), h * (z - 1)

    result = fit_mle(objective, np.zeros(2), names=("u", "v"), n_customers=50.0,
                     prior_mean=np.zeros(2), prior_precision=p)
    expected = h / (h + p)  # 0.8 and 0.25
    np.testing.assert_allclose(result.log_params, expected, atol=1e-7)
    np.testing.assert_allclose(result.cov_log, np.diag(1 / (h + p)), rtol=1e-5)
    assert result.log_likelihood == pytest.approx(-0.5 * float(h @ (expected - 1) ** 2), rel=1e-6)
    plain = fit_mle(objective, np.zeros(2), names=("u", "v"), n_customers=50.0)
    np.testing.assert_allclose(plain.log_params, 1.0, atol=1e-7)
    assert plain.log_likelihood == pytest.approx(0.0, abs=1e-10)


def test_between_segment_scale_by_hand():
    """Known-centre random effects with equal sampling variances v: the marginal likelihood
    peaks where tau^2 + v = mean(d^2). Deviations 0.3, -0.5, 0.1 and v = 0.01:
    tau^2 = 0.35 / 3 - 0.01 = 0.106667, tau = 0.32660. Deviations within sampling noise
    (mean(d^2) < v) give the floor; a spread beyond the ceiling gives the ceiling."""
    d = np.array([[0.3], [-0.5], [0.1]])
    v = np.full((3, 1), 0.01)
    assert between_segment_scale(d, v)[0] == pytest.approx(np.sqrt(0.35 / 3 - 0.01), rel=1e-4)
    assert between_segment_scale(np.array([[0.05], [-0.05]]), np.full((2, 1), 0.01))[0] == TAU_FLOOR
    assert between_segment_scale(np.zeros((2, 1)), np.zeros((2, 1)))[0] == TAU_FLOOR
    assert between_segment_scale(np.array([[50.0], [-50.0]]), np.zeros((2, 1)))[0] == pytest.approx(TAU_CEILING)
    two = between_segment_scale(np.column_stack([d[:, 0], 2 * d[:, 0]]), np.full((3, 2), 0.01))
    assert two[1] > two[0]  # one scale per parameter


def test_shrinkage_weight_by_hand():
    """Unshrunk 1.0, shrunk 0.25, centre 0: moved 75% of the way; no gap: 0."""
    np.testing.assert_allclose(shrinkage_weight(np.array([1.0, 2.0]), np.array([0.25, 2.0]),
                                                np.array([0.0, 2.0])), [0.75, 0.0])


def test_a_covariance_guess_changes_the_path_not_the_optimum():
    """A badly scaled, correlated quadratic in 4 log-parameters (curvatures 1e4 to 1e-2, rotated):
    started from the exact inverse Hessian, BFGS needs fewer objective evaluations than from the
    identity. Both reach the optimum; a guess that is not positive definite is ignored."""
    q, _ = np.linalg.qr(np.random.default_rng(0).normal(size=(4, 4)))
    hess = q @ np.diag([1e4, 1e2, 1.0, 1e-2]) @ q.T
    optimum = np.array([3.0, -2.0, 0.5, 1.0])
    calls = []

    def objective(z):
        calls.append(1)
        gap = z - optimum
        return 0.5 * float(gap @ hess @ gap), hess @ gap

    counts = {}
    for name, guess in (("none", None), ("exact", np.linalg.inv(hess)), ("bad", -np.eye(4))):
        calls.clear()
        result = fit_mle(objective, np.zeros(4), names=tuple("uvwy"), n_customers=1.0, cov_guess=guess)
        counts[name] = len(calls)
        np.testing.assert_allclose(result.log_params, optimum, atol=1e-5)
    assert counts["exact"] < counts["none"] and counts["bad"] == counts["none"]
