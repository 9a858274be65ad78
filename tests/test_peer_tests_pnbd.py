"""The peers' own Pareto/NBD tests, re-expressed against clvmodels' public API (issue #15).

Sources, named in each test's docstring:

- lifetimes (CamDavidsonPilon/lifetimes), ``lifetimes/tests/test_estimation.py``, class
  ``TestParetoNBDFitter``;
- pymc-marketing (pymc-labs/pymc-marketing), ``tests/clv/models/test_pareto_nbd.py``, class
  ``TestParetoNBDModel``;
- BTYD (R), vignette "BTYD-walkthrough" (``cdnowSummary``, 39-week calibration, weeks = days/7)
  and the package manual's ``pnbd.Expectation`` example.

Same data (the CDNOW 1/10 sample as ``clvmodels.datasets.load_cdnow_summary``), the same
assertions; lifetimes' ``ParetoNBDFitter`` is the oracle where a peer compared against it. Where
a peer's expectation does not apply or is wrong, the docstring says so and the test checks the
right behaviour. Likelihood-level peer tests go through the model's family
(``ParetoNBDModel.family``, the contract's ``neg_log_likelihood_and_grad`` on log-parameters).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifetimes import ParetoNBDFitter

import clvmodels
from clvmodels import DataError, NotFittedError, ParetoNBDModel
from clvmodels.datasets import load_cdnow_summary
from peer_support import as_weeks, family_nll, history, model_at, possible

FAMILY = ParetoNBDModel.family
BTYD_PARAMS = {"r": 0.5534, "alpha": 10.5802, "s": 0.6061, "beta": 11.6562}  # BTYD vignette p. 8


def oracle(params) -> ParetoNBDFitter:
    fitter = ParetoNBDFitter()
    fitter.params_ = pd.Series({k: float(params[k]) for k in ("r", "alpha", "s", "beta")})
    return fitter


def with_params(params: dict) -> ParetoNBDModel:
    return model_at(ParetoNBDModel, params)


def nll(params, x, t_x, T, counts=None) -> float:
    return family_nll(FAMILY, params, x, t_x, T, counts)


@pytest.fixture(scope="module")
def cdnow():
    return load_cdnow_summary(holdout=False)


@pytest.fixture(scope="module")
def fitted(cdnow):
    return ParetoNBDModel().fit(cdnow)


# ----- lifetimes: TestParetoNBDFitter ----------------------------------------------------------
def test_overflow_error():
    """lifetimes, lifetimes/tests/test_estimation.py, TestParetoNBDFitter.test_overflow_error.

    lifetimes checks its private ``_log_A_0`` (a piece of the likelihood) is finite and negative
    for 400-500 purchases at extreme parameters; its counterpart here is the whole per-customer
    log-likelihood and its gradient: finite at those inputs, each row's value adding up to the
    total (a row's log-likelihood is a log density, so its sign is not a property to test).
    """
    params = dict(zip(("r", "alpha", "s", "beta"), [10.465, 7.98565181e-03, 3.0516, 2.820]))
    x, t_x, T = np.array([400.0, 500.0, 500.0]), np.array([5.0, 1.0, 4.0]), np.array([6.0, 37.0, 37.0])
    lp = np.log([params[k] for k in FAMILY.param_names])
    total, grad = FAMILY.neg_log_likelihood_and_grad(lp, x, t_x, T, np.ones(3))
    rows = [nll(params, x[i], t_x[i], T[i]) for i in range(3)]
    assert np.all(np.isfinite(rows)) and np.isfinite(total) and np.all(np.isfinite(grad))
    assert total == pytest.approx(sum(rows), rel=1e-12)


def test_sum_of_scalar_inputs_to_negative_log_likelihood_is_equal_to_array():
    """lifetimes, lifetimes/tests/test_estimation.py, TestParetoNBDFitter.
    test_sum_of_scalar_inputs_to_negative_log_likelihood_is_equal_to_array.

    The likelihood of two customers is the sum of theirs, and a count of 2 on each row doubles
    it (lifetimes' ``weights`` argument; here the contract's counts).
    """
    params = dict(r=1.0, alpha=1.0, s=1.0, beta=1.0)
    x, t_x, T = np.array([1, 3]), np.array([2, 2]), np.array([5, 6])
    one_by_one = nll(params, x[0], t_x[0], T[0]) + nll(params, x[1], t_x[1], T[1])
    assert one_by_one == pytest.approx(nll(params, x, t_x, T), rel=1e-13)
    assert 2 * one_by_one == pytest.approx(nll(params, x, t_x, T, counts=[2, 2]), rel=1e-13)


def test_params_out_is_close_to_Hardie_paper(fitted):
    """lifetimes, lifetimes/tests/test_estimation.py, TestParetoNBDFitter.
    test_params_out_is_close_to_Hardie_paper: (0.553, 10.578, 0.606, 11.669) to 2 decimals.

    Also the BTYD vignette's log-likelihood at its estimate, -9594.976 (``pnbd.cbs.LL``), which
    a maximum must reach: the likelihood is flat in beta, so the peers' beta differ in the 2nd
    decimal (BTYD 11.656, lifetimes 11.669) at the same log-likelihood.
    """
    expected = np.array([0.553, 10.578, 0.606, 11.669])
    np.testing.assert_array_almost_equal(fitted.params_[["r", "alpha", "s", "beta"]], expected, decimal=2)
    assert fitted.log_likelihood_ == pytest.approx(-9594.976, abs=5e-4)
    assert fitted.log_likelihood_ >= -nll(BTYD_PARAMS, *(load_cdnow_summary(holdout=False)[c]
                                                      for c in FAMILY.history_columns)) - 1e-6


def test_expectation_returns_same_value_as_R_BTYD(fitted):
    """lifetimes, lifetimes/tests/test_estimation.py, TestParetoNBDFitter.
    test_expectation_returns_same_value_as_R_BTYD (values from BTYD's manual, ``pnbd.Expectation``
    at t = 0, ..., 9 weeks), atol 0.01.

    Deviation: t = 0 is refused here (a horizon must be positive; E[X(0)] = 0 is no prediction),
    so t = 0 is checked as a DataError and t = 1..9 against the published values.
    """
    expected = np.array([0.05077821, 0.09916088, 0.14542507, 0.18979930,
                         0.23247466, 0.27361274, 0.31335159, 0.35181024, 0.38909211])
    got = fitted.expected_purchases_new(np.arange(1, 10))["expected_purchases"].to_numpy()
    np.testing.assert_allclose(got, expected, atol=0.01)
    # tighter: the same model evaluated by lifetimes at our estimate
    np.testing.assert_allclose(got, oracle(fitted.params_).expected_number_of_purchases_up_to_time(
        np.arange(1, 10)), rtol=1e-9)
    with pytest.raises(DataError, match="positive"):
        fitted.expected_purchases_new([0])


def test_conditional_expectation_returns_same_value_as_R_BTYD(fitted):
    """lifetimes, lifetimes/tests/test_estimation.py, TestParetoNBDFitter.
    test_conditional_expectation_returns_same_value_as_R_BTYD: customer 1516 of the BTYD
    vignette (x = 26, t_x = 30.86, T = 31) expects 25.46 purchases in 52 weeks, within 0.01."""
    one = history([26.0], [30.86], [31.0])
    got = float(fitted.expected_purchases(one, 52)["expected_purchases"].iloc[0])
    assert abs(got - 25.46) < 0.01


def test_conditional_expectation_underflow():
    """lifetimes, lifetimes/tests/test_estimation.py, TestParetoNBDFitter.
    test_conditional_expectation_underflow: at (r, alpha, s, beta) = (0.55, 10.58, 0.61, 11.67),
    x = 132 vs 133 with t_x = T = 200 and t = 10 must differ by < 0.05.

    The peer's comments give the values 6.2060517889632418 and 6.2528722475748113; we match them
    to 1e-6. (lifetimes 0.11.3 itself now returns NaN for both: its ``logaddexp`` of two -inf.)
    """
    model = with_params(dict(r=0.55, alpha=10.58, s=0.61, beta=11.67))
    got = model.expected_purchases(history([132, 133], [200, 200], [200, 200]), 10)["expected_purchases"]
    left, right = got.to_numpy()
    assert abs(left - right) < 0.05
    np.testing.assert_allclose([left, right], [6.2060517889632418, 6.2528722475748113], rtol=1e-6)


def test_conditional_probability_alive_is_between_0_and_1(fitted):
    """lifetimes, lifetimes/tests/test_estimation.py, TestParetoNBDFitter.
    test_conditional_probability_alive_is_between_0_and_1: frequency and recency 0..90 by 10,
    T from recency to 90 (the whole grid in one call instead of a loop).

    Deviation: the grid's rows with frequency 0 and recency > 0 are no history (recency is the
    time of the last repeat purchase); clvmodels refuses them with a DataError instead of
    scoring them, and the test checks that refusal.
    """
    grid = [(f, r, t) for f in np.arange(0, 100, 10.0) for r in np.arange(0, 100, 10.0)
            for t in np.arange(r, 100, 10.0)]
    p = fitted.p_alive(history(*possible(grid).T))["p_alive"].to_numpy()
    assert len(p) == 550 - 45 and np.all(np.isfinite(p)) and np.all((0.0 <= p) & (p <= 1.0))
    with pytest.raises(DataError, match="frequency 0 must have recency 0"):
        fitted.p_alive(history(*np.array(grid).T))


def test_conditional_probability_alive(fitted):
    """lifetimes, lifetimes/tests/test_estimation.py, TestParetoNBDFitter.
    test_conditional_probability_alive: BTYD vignette p. 8, P(alive) of customer 1516
    (x = 26, t_x = 30.86, T = 31) at (0.5534, 10.5802, 0.6061, 11.6562) is 0.9979 within 0.001.
    Also the issue's (#15) BTYD value P(alive | x = 0, t_x = 0, T = 39) = 0.2941633, and
    lifetimes at the same parameters to 1e-9."""
    model = with_params(BTYD_PARAMS)
    p = model.p_alive(history([26.0, 0.0], [30.86, 0.0], [31.0, 39.0]))["p_alive"].to_numpy()
    assert abs(p[0] - 0.9979) < 0.001
    assert abs(p[1] - 0.2941633) < 1e-4
    np.testing.assert_allclose(p, oracle(BTYD_PARAMS).conditional_probability_alive(
        np.array([26.0, 0.0]), np.array([30.86, 0.0]), np.array([31.0, 39.0])), rtol=1e-9)


def test_conditional_probability_alive_overflow_error():
    """lifetimes, lifetimes/tests/test_estimation.py, TestParetoNBDFitter.
    test_conditional_probability_alive_overflow_error: at (10.465, 7.98565181e-03, 3.0516, 2.820)
    and x = 40, 50, 50 in very short or very long lapses, P(alive) is finite and in [0, 1]."""
    model = with_params(dict(zip(("r", "alpha", "s", "beta"), [10.465, 7.98565181e-03, 3.0516, 2.820])))
    p = model.p_alive(history([40.0, 50.0, 50.0], [5.0, 1.0, 4.0], [6.0, 37.0, 37.0]))["p_alive"].to_numpy()
    assert np.all(np.isfinite(p)) and np.all((0.0 <= p) & (p <= 1.0))


def test_conditional_probability_alive_matrix(fitted, cdnow):
    """lifetimes, lifetimes/tests/test_estimation.py, TestParetoNBDFitter.
    test_conditional_probability_alive_matrix: the (recency x frequency) matrix at T = max T
    equals P(alive) customer by customer. clvmodels has no matrix method; its counterpart is
    that scoring the whole grid at once equals scoring each row on its own (no cross-row effect
    of the grouping by distinct rows)."""
    max_t = int(cdnow["T"].max())
    grid = possible([(x, t_x, max_t) for t_x in range(0, max_t + 1, 4) for x in range(0, 40, 4)])
    together = fitted.p_alive(history(*grid.T))["p_alive"].to_numpy()
    alone = [float(fitted.p_alive(history(*row[:, None]))["p_alive"].iloc[0]) for row in grid[::7]]
    np.testing.assert_array_equal(together[::7], alone)


def test_fit_with_index(cdnow):
    """lifetimes, lifetimes/tests/test_estimation.py, TestParetoNBDFitter.test_fit_with_index.

    lifetimes keeps a given index on its stored data; here the customer ids are the summary's
    index, and every prediction comes back indexed by them, in the summary's order.
    """
    reindexed = cdnow.copy()
    reindexed.index = pd.Index(range(len(cdnow), 0, -1), name="customer_id")
    model = ParetoNBDModel().fit(reindexed)
    out = model.predict(reindexed, 10)
    assert out.index.equals(reindexed.index)
    shuffled = reindexed.sample(frac=1.0, random_state=0)
    np.testing.assert_allclose(model.p_alive(shuffled)["p_alive"].loc[reindexed.index].to_numpy(),
                               out["p_alive"].to_numpy(), rtol=1e-12)


def test_conditional_probability_of_n_purchases_up_to_time_is_between_0_and_1(fitted):
    """lifetimes, lifetimes/tests/test_estimation.py, TestParetoNBDFitter.
    test_conditional_probability_of_n_purchases_up_to_time_is_between_0_and_1: a random subset
    of frequency, recency, age = recency + [0, 100), t and n in [0, 10).

    Seeded here (lifetimes draws unseeded); t = 0 is replaced by t >= 1 (a horizon must be
    positive here, see the BTYD expectation test).
    """
    rng = np.random.default_rng(0)
    rows = [(f, r, r + a) for f in rng.choice(100, 5) for r in rng.choice(100, 5) for a in rng.choice(100, 5)]
    summary = history(*possible(rows).T)  # impossible rows: see the P(alive) grid test
    for t in 1 + rng.choice(99, 5):
        p = fitted.purchase_probability(summary, float(t), n=list(range(10))).to_numpy()
        assert np.all(np.isfinite(p)) and np.all((0.0 <= p) & (p <= 1.0))


def test_conditional_probability_of_n_purchases_up_to_time_adds_up_to_1(fitted):
    """lifetimes, lifetimes/tests/test_estimation.py, TestParetoNBDFitter.
    test_conditional_probability_of_n_purchases_up_to_time_adds_up_to_1: small histories
    (frequency < 10, recency < 9, age in [recency, 10)), t in 1..9, the sum over n = 0..19 is 1
    to 2 decimals (seeded here)."""
    rng = np.random.default_rng(1)
    rows = [(f, r, a) for f in rng.choice(10, 5) for r in rng.choice(9, 5)
            for a in rng.choice(np.arange(r, 10), 5)]
    summary = history(*possible(rows).T)  # impossible rows: see the P(alive) grid test
    for t in 1 + rng.choice(9, 5):
        total = fitted.purchase_probability(summary, float(t), n=list(range(20))).sum(axis=1)
        np.testing.assert_almost_equal(total.to_numpy(), 1.0, decimal=2)


def test_fit_with_and_without_weights(cdnow, fitted):
    """lifetimes, lifetimes/tests/test_estimation.py, TestParetoNBDFitter.
    test_fit_with_and_without_weights: the fit on distinct (frequency, recency, T) rows with
    their counts equals the fit on every customer (lifetimes: 2 decimals; here 1e-6 relative,
    since the likelihood is the same function)."""
    grouped = cdnow.groupby(["frequency", "recency", "T"]).size().rename("weights").reset_index()
    model = ParetoNBDModel().fit(as_weeks(grouped), weights="weights")
    np.testing.assert_allclose(model.params_.to_numpy(), fitted.params_.to_numpy(), rtol=1e-6)
    assert model.log_likelihood_ == pytest.approx(fitted.log_likelihood_, rel=1e-10)
    assert model.n_customers_ == len(cdnow)


# ----- pymc-marketing: TestParetoNBDModel -------------------------------------------------------
@pytest.mark.parametrize("missing", ["frequency", "recency", "T"])
def test_missing_cols(cdnow, missing):
    """pymc-marketing, tests/clv/models/test_pareto_nbd.py, TestParetoNBDModel.test_missing_cols:
    a summary without a required column is refused, naming it (here a DataError; the customer
    id is the summary's index, so the peer's ``customer_id`` case has no counterpart)."""
    with pytest.raises(DataError, match=missing):
        ParetoNBDModel().fit(cdnow.drop(columns=missing))


def test_customer_id_error():
    """pymc-marketing, tests/clv/models/test_pareto_nbd.py, TestParetoNBDModel.
    test_customer_id_error: duplicate customer ids are refused."""
    data = pd.DataFrame({"frequency": [3, 4, 7], "recency": [10, 20, 30], "T": [20, 30, 40]},
                        index=pd.Index([1, 2, 2], name="customer_id"))
    with pytest.raises(DataError, match="duplicate"):  # refused on entry, whichever comes first
        ParetoNBDModel().fit(clvmodels.as_summary(data, time_unit="W", observation_end="1997-09-30"))


def test_model_convergence_map(cdnow):
    """pymc-marketing, tests/clv/models/test_pareto_nbd.py, TestParetoNBDModel.
    test_model_convergence[map]: the point estimate is within rtol 0.2 of (0.5534, 10.5802,
    0.6061, 11.6562). Here MLE, the MAP of flat priors; checked to rtol 0.01."""
    model = ParetoNBDModel().fit(cdnow)
    np.testing.assert_allclose(model.params_[list(BTYD_PARAMS)].to_numpy(),
                               list(BTYD_PARAMS.values()), rtol=0.01)


@pytest.mark.slow
def test_model_convergence_mcmc(cdnow, fitted):
    """pymc-marketing, tests/clv/models/test_pareto_nbd.py, TestParetoNBDModel.
    test_model_convergence[mcmc]: posterior means within rtol 0.1 of the BTYD estimate.

    Peer quirk: that holds for s and beta only under pymc-marketing's informative default
    priors (Weibull(2, 10) on beta, mean 8.9). The likelihood is nearly flat in (s, beta): the
    MLE's 90% interval for beta is about 4.9-28 (Laplace SE of log beta 0.53), so under weak
    priors the posterior mean of beta is ~18 (measured 2026-12-02, nutpie 2 x 500) and is right
    to be. Checked instead: r and alpha (well identified) within the peer's rtol 0.1; s and
    beta's posterior medians within one Laplace standard error of the MLE on the log scale,
    and the posterior sd of each log-parameter within a factor 1.5 of the Laplace SE.
    """
    model = ParetoNBDModel(method="bayes", chains=2, draws=500, tune=500, seed=1,
                           progressbar=False).fit(cdnow)
    np.testing.assert_allclose(model.params_[["r", "alpha"]].to_numpy(),
                               [BTYD_PARAMS["r"], BTYD_PARAMS["alpha"]], rtol=0.1)
    post = model.idata_.posterior
    laplace_se = np.sqrt(np.diag(fitted.cov_log_))
    for i, k in enumerate(FAMILY.param_names):
        log_draws = np.log(post[k].to_numpy().ravel())
        assert abs(np.median(log_draws) - np.log(fitted.params_[k])) < laplace_se[i], k
        assert 1 / 1.5 < log_draws.std() / laplace_se[i] < 1.5, k


@pytest.mark.parametrize("future_t", [1, 3, 6])
def test_expected_purchases(fitted, cdnow, future_t):
    """pymc-marketing, tests/clv/models/test_pareto_nbd.py, TestParetoNBDModel.
    test_expected_purchases[future_t]: every CDNOW customer's expected purchases equal
    lifetimes' ``conditional_expected_number_of_purchases_up_to_time`` (rtol 0.001; here 1e-8)."""
    got = fitted.expected_purchases(cdnow, future_t)["expected_purchases"]
    want = oracle(fitted.params_).conditional_expected_number_of_purchases_up_to_time(
        future_t, cdnow["frequency"], cdnow["recency"], cdnow["T"])
    np.testing.assert_allclose(got.to_numpy(), np.asarray(want), rtol=1e-8)


@pytest.mark.parametrize("t", [1, 3, 6])
def test_expected_purchases_new_customer(fitted, t):
    """pymc-marketing, tests/clv/models/test_pareto_nbd.py, TestParetoNBDModel.
    test_expected_purchases_new_customer[t]: against lifetimes'
    ``expected_number_of_purchases_up_to_time`` (rtol 0.001; here 1e-9)."""
    got = float(fitted.expected_purchases_new([t])["expected_purchases"].iloc[0])
    want = float(oracle(fitted.params_).expected_number_of_purchases_up_to_time(t))
    assert got == pytest.approx(want, rel=1e-9)


def test_expected_probability_alive(fitted, cdnow):
    """pymc-marketing, tests/clv/models/test_pareto_nbd.py, TestParetoNBDModel.
    test_expected_probability_alive: P(alive) equals lifetimes' for every customer (rtol 0.001;
    here 1e-9), and the mean probability of being alive 4.5 weeks later is lower (here
    ``1 - churn_probability(summary, 4.5)``, and per customer, not only on average)."""
    now = fitted.p_alive(cdnow)["p_alive"].to_numpy()
    want = oracle(fitted.params_).conditional_probability_alive(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    np.testing.assert_allclose(now, np.asarray(want), rtol=1e-9)
    later = 1.0 - fitted.churn_probability(cdnow, 4.5)["churn_probability"].to_numpy()
    assert now.mean() > later.mean()
    assert np.all(later <= now + 1e-12)


@pytest.mark.parametrize("n_purchases, future_t", [(0, 0), (1, 1), (2, 2)])
def test_expected_purchase_probability(fitted, cdnow, n_purchases, future_t):
    """pymc-marketing, tests/clv/models/test_pareto_nbd.py, TestParetoNBDModel.
    test_expected_purchase_probability[(n, t)]: P(n purchases in t weeks | history) equals
    lifetimes' ``conditional_probability_of_n_purchases_up_to_time`` (rtol 0.001).

    Deviation: t = 0 (P(0 purchases in 0 weeks) = 1 for everybody) is refused here as no
    prediction, with a DataError saying the horizon must be positive.
    """
    if future_t == 0:
        with pytest.raises(DataError, match="positive"):
            fitted.purchase_probability(cdnow, future_t, n=n_purchases)
        return
    rows = cdnow.iloc[::20]  # lifetimes' per-customer integral is slow; every 20th customer
    got = fitted.purchase_probability(rows, future_t, n=n_purchases)[f"p_{n_purchases}"].to_numpy()
    fitter = oracle(fitted.params_)
    want = [fitter.conditional_probability_of_n_purchases_up_to_time(n_purchases, future_t, f, r, T)
            for f, r, T in zip(rows["frequency"], rows["recency"], rows["T"])]
    np.testing.assert_allclose(got, np.asarray(want, float), rtol=1e-3)


def test_posterior_distributions_population_draws(fitted, cdnow):
    """pymc-marketing, tests/clv/models/test_pareto_nbd.py, TestParetoNBDModel.
    test_posterior_distributions (the population part): new customers' purchase rates lambda ~
    Gamma(r, alpha) and dropout rates mu ~ Gamma(s, beta) have mean and sd r/alpha,
    sqrt(r)/alpha and s/beta, sqrt(s)/beta (rtol 0.5 there; here 0.05 on 50,000 draws), drawn
    by the family's history simulator (clvmodels' public route to new customers' latents)."""
    p = fitted.params_
    _, latents = FAMILY.simulate_histories(np.random.default_rng(3), p.to_dict(), np.full(50_000, 39.0))
    lam, mu = (np.asarray(latents[k]).ravel() for k in ("lam", "mu"))
    np.testing.assert_allclose([lam.mean(), lam.std()], [p["r"] / p["alpha"], np.sqrt(p["r"]) / p["alpha"]], rtol=0.05)
    np.testing.assert_allclose([mu.mean(), mu.std()], [p["s"] / p["beta"], np.sqrt(p["s"]) / p["beta"]], rtol=0.05)


def test_save_load_pareto_nbd(fitted, cdnow, tmp_path):
    """pymc-marketing, tests/clv/models/test_pareto_nbd.py, TestParetoNBDModel.
    test_save_load_pareto_nbd: the loaded model is a ParetoNBDModel with the same settings and
    fit (here: parameters, log-likelihood, covariance and predictions, exactly)."""
    path = tmp_path / "pnbd.clv"
    fitted.save(path)
    loaded = clvmodels.load_model(path)
    assert isinstance(loaded, ParetoNBDModel)
    pd.testing.assert_series_equal(loaded.params_, fitted.params_)
    assert loaded.log_likelihood_ == fitted.log_likelihood_
    np.testing.assert_array_equal(loaded.cov_log_, fitted.cov_log_)
    pd.testing.assert_frame_equal(loaded.predict(cdnow, 39), fitted.predict(cdnow, 39))


def test_unfitted_model_refuses_to_predict(cdnow):
    """pymc-marketing, tests/clv/models/test_modified_beta_geo.py (same check in the shared
    CLVModel tests), test_fit_result_without_fit: asking an unfitted model is an error
    (here NotFittedError) for the Pareto/NBD too."""
    with pytest.raises(NotFittedError):
        ParetoNBDModel().p_alive(cdnow)


# ----- BTYD vignette: numbers at the estimate --------------------------------------------------
def test_btyd_vignette_numbers_at_the_estimate(fitted):
    """BTYD, vignette "BTYD-walkthrough" (Pareto/NBD, cdnowSummary): at the estimate a new
    customer's E[X(52)] = 1.473434 (``pnbd.Expectation(params, t = 52)``), customer 1516
    (x = 26, t_x = 30.85714, T = 31) expects 25.45647 purchases in 52 weeks with P(alive) =
    0.997874, and P(alive | x = 0, t_x = 0, T = 39) = 0.2941633 (numbers as quoted in issue #15).
    BTYD evaluates them at its own full-precision estimate, whose beta differs from ours in the
    2nd decimal (the likelihood is flat in beta): at our estimate (measured 2026-12-02) 1.473434,
    25.4552, 0.997873 and 0.294276, hence the tolerances (at the 4-digit rounded parameters the
    first is 1.473086, so rounding, not the formulas, sets them)."""
    new = float(fitted.expected_purchases_new([52])["expected_purchases"].iloc[0])
    assert new == pytest.approx(1.473434, abs=1e-5)
    one = history([26.0, 0.0], [30.85714, 0.0], [31.0, 39.0])
    assert float(fitted.expected_purchases(one, 52)["expected_purchases"].iloc[0]) == pytest.approx(25.45647, abs=2e-3)
    p = fitted.p_alive(one)["p_alive"].to_numpy()
    assert p[0] == pytest.approx(0.997874, abs=2e-6)
    assert p[1] == pytest.approx(0.2941633, abs=2e-4)


# ----- lifetimes: test_utils.py, the BTYD walkthrough's tracking of the cohort ------------------
def btyd_weekly_cumulative(model, summary) -> np.ndarray:
    """Expected cumulative repeat purchases of the CDNOW cohort at the end of weeks 1..78 from
    1997-01-01, as BTYD's ``pnbd.ExpectedCumulativeTransactions`` counts them: customer i, born
    at max(T) - T_i weeks, contributes a new customer's E[X(week - birth)]."""
    birth = summary["T"].max() - summary["T"].to_numpy()
    out = []
    for week in range(1, 79):
        age = week - birth[birth < week]
        expected = model.expected_purchases_new(np.unique(age))["expected_purchases"]
        out.append(float(expected.loc[age].sum()))
    return np.array(out)


def test_expected_cumulative_transactions_equals_r_btyd_walktrough(fitted, cdnow):
    """lifetimes, lifetimes/tests/test_utils.py,
    test_expected_cumulative_transactions_equals_r_btyd_walktrough (and its fixture
    ``df_cum_transactions``: a ParetoNBDFitter on the CDNOW sample): BTYD walkthrough
    ``cum.tracking[, 20:25]``, actual 1359 1414 1484 1517 1573 1672 and expected (rounded)
    1309 1385 1460 1533 1604 1674.

    lifetimes' ``expected_cumulative_transactions`` has no single counterpart here (the
    comparison's tracking table anchors its weeks at the calibration end, not at 1997-01-01),
    so the expected curve is summed from ``expected_purchases_new`` as BTYD does, and the
    actual from ``clvmodels.datasets.load_cdnow_transactions`` (same-day purchases merged, first
    purchase excluded, as the summary counts them).
    """
    expected = btyd_weekly_cumulative(fitted, cdnow)
    np.testing.assert_allclose(expected[19:25].round(), [1309, 1385, 1460, 1533, 1604, 1674])
    log = clvmodels.datasets.load_cdnow_transactions().drop_duplicates(["customer_id", "date"])
    repeat = log[log["date"] > log.groupby("customer_id")["date"].transform("min")]
    day = (repeat["date"] - pd.Timestamp("1997-01-01")).dt.days.to_numpy()
    actual = [int((day < 7 * week).sum()) for week in range(20, 26)]
    assert actual == [1359, 1414, 1484, 1517, 1573, 1672]


def test_incremental_transactions_equals_r_btyd_walktrough(fitted, cdnow):
    """lifetimes, lifetimes/tests/test_utils.py,
    test_incremental_transactions_equals_r_btyd_walktrough: BTYD walkthrough
    ``inc.tracking[, 20:25]``, expected weekly repeat purchases 78.31 76.42 74.65 72.98 71.41
    69.93 (2 decimals, atol 0.01 as lifetimes)."""
    weekly = np.diff(btyd_weekly_cumulative(fitted, cdnow))
    np.testing.assert_allclose(weekly[18:24].round(2), [78.31, 76.42, 74.65, 72.98, 71.41, 69.93],
                               atol=1e-2 + 1e-9)
