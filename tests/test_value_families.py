"""Customer value and win-back written once against the purchase-family contract, run for every family.

Parametrised over :func:`clvmodels.families.family_names`: each family's model class (from the
model registry) is fitted by MLE on CDNOW (the 2,357-customer sample, 39 calibration weeks;
monthly opportunities for the discrete-time BG/BB, from the same transactions), with the
Gamma-Gamma spend model on the same summary. Economics: margin 30%, 10% a year, a one-year
horizon in the summary's unit (52 weeks, 12 months).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from clvmodels import GammaGammaModel, lapsed_customers, winback_targets
from clvmodels.errors import DataError
from clvmodels.families import family_names, get_family
from clvmodels.value.customer_value import customer_value, value_run
from clvmodels.value.economics import Economics
from clvmodels.value.rollup import value_rollup

pytestmark = pytest.mark.filterwarnings("ignore::clvmodels.errors.ConvergenceWarning")

FAMILIES = family_names()


def _model_class(name):
    from clvmodels.models.registry import purchase_model_class

    return purchase_model_class(name)


@pytest.fixture(scope="module")
def summaries():
    """CDNOW in weeks (continuous time) and in monthly opportunities (discrete time)."""
    from clvmodels.data.opportunities import opportunity_summary
    from clvmodels.datasets import load_cdnow_summary, load_cdnow_transactions

    weekly = load_cdnow_summary()
    monthly = opportunity_summary(load_cdnow_transactions(), period="M", customer_id_col="customer_id",
                                  datetime_col="date", monetary_value_col="amount",
                                  zero_amounts="drop", calibration_period_end="1997-09-30")
    for s in (weekly, monthly):  # a made-up channel for the rollups
        s["channel"] = np.where(np.arange(len(s)) % 3 == 0, "search", "tv")
    return {False: weekly, True: monthly}


@pytest.fixture(scope="module", params=FAMILIES)
def fitted(request, summaries):
    family = get_family(request.param)
    summary = summaries[family.discrete_time]
    model = _model_class(request.param)().fit(summary)
    return family, summary, model, GammaGammaModel().fit(summary)


def _settings(family):
    return {"margin": 0.3, "horizon": 12 if family.discrete_time else 52, "discount_rate": 0.1}


def test_each_model_class_carries_its_family(fitted):
    family, _, model, _ = fitted
    assert model.family is family


@pytest.mark.parametrize("uncertainty", ["expected", "predictive"])
def test_customer_value_runs_with_both_interval_kinds_and_conserves(fitted, uncertainty):
    """Every column finite, lower <= upper, and the own-value identity customer by customer:
    net_value = realised margin + expected future margin - acquisition cost."""
    family, summary, model, gg = fitted
    out = customer_value(model, gg, summary, uncertainty=uncertainty, n_draws=40, seed=1,
                         **_settings(family))
    assert len(out) == len(summary)
    assert out.attrs["clvmodels"]["purchase_model"] == family.name
    for column in ("expected_future_margin", "clv", "net_value", "future_value"):
        assert np.all(np.isfinite(out[column])), column
        assert np.all(out[f"{column}_lower"] <= out[f"{column}_upper"] + 1e-9), column
    np.testing.assert_allclose(out["net_value"], out["realised_margin"] + out["expected_future_margin"]
                               - out["acquisition_cost"], rtol=1e-12, atol=1e-9)
    assert (out["expected_future_margin"] > 0).all()
    # the point value sits inside its expected interval for most customers
    if uncertainty == "expected":
        inside = ((out["expected_future_margin_lower"] <= out["expected_future_margin"] + 1e-9)
                  & (out["expected_future_margin"] <= out["expected_future_margin_upper"] + 1e-9))
        assert inside.mean() > 0.9


def test_rollup_totals_are_the_sums_of_customers(fitted):
    """value_rollup conserves: the total row and the channel rows sum to the customer table."""
    family, summary, model, gg = fitted
    run = value_run(model, gg, summary, uncertainty="expected", n_draws=30, seed=2,
                    rollup_by=[None, "channel"], **_settings(family))
    customers = run.customers
    everyone = value_rollup(run, None)
    by_channel = value_rollup(run, "channel")
    for column in ("realised_margin", "expected_future_margin", "clv", "net_value"):
        total = customers[column].sum()
        assert everyone[column].iloc[0] == pytest.approx(total, rel=1e-10)
        assert by_channel[column].sum() == pytest.approx(total, rel=1e-10)
        for channel, row in by_channel.iterrows():
            assert row[column] == pytest.approx(customers.loc[summary["channel"] == channel, column].sum(),
                                                rel=1e-10)
    assert np.all(everyone["breakeven_acquisition_cost"] > 0)


def test_predictive_mean_of_value_matches_the_expected_value(fitted):
    """At the fitted point, the mean of 20,000 simulated futures' discounted margin (cost per
    transaction and cost to serve included) agrees with the closed-form expected margin within
    4 standard errors, customer by customer (one-time, light and heavy buyers, recent and lapsed)."""
    from clvmodels.value.expected import future_margin
    from clvmodels.value.simulate import simulate_future_margin

    family, summary, model, gg = fitted
    econ = Economics(**_settings(family), cost_per_transaction=0.5, cost_to_serve=0.02).resolve(
        summary.attrs["clvmodels"]["time_unit"])
    order = np.argsort(summary["frequency"].to_numpy(), kind="stable")
    rows = summary.iloc[np.unique(np.r_[order[:3], order[len(order) // 2:][:3], order[-4:]])]
    history = tuple(rows[c].to_numpy(float) for c in family.history_columns)
    x = history[0]
    mbar = np.where(x > 0, rows["monetary_value"].to_numpy(float), 0.0)
    point = {k: np.asarray(v, float)[None, None] for k, v in model.params_.items()}
    spend = {k: np.asarray(v, float)[None, None] for k, v in gg.params_.items()}
    expected, _ = future_margin(econ, point, spend, *history, mbar, with_alive_time=True, family=family)
    n_sims = 20_000
    stacked = {k: np.repeat(v, n_sims, axis=0) for k, v in point.items()}
    sims, _ = simulate_future_margin(np.random.default_rng(3), econ, stacked,
                                     {k: np.repeat(v, n_sims, axis=0) for k, v in spend.items()},
                                     *history, mbar, family=family)
    se = sims.std(axis=0) / np.sqrt(n_sims)
    # customers almost surely gone (P(alive) x 20,000 < 20) have too few alive futures for a
    # standard error; their expected margin is below 1e-3 x the alive-branch margin anyway
    seen = family.p_alive(point, *history)[0] * n_sims >= 20
    assert seen.sum() >= 7
    assert np.all(np.abs(sims.mean(axis=0) - expected[0])[seen] < 4 * se[seen] + 1e-9)


def test_winback_targets_run_for_every_family(fitted):
    """The campaign list for lapsed customers (no purchase in the last 26 weeks), an assumed 5-point
    uplift and a 1.00 letter: every candidate valued, intervals ordered, and the increment
    identity expected_value = uplift x (value_if_returned - value_if_not_returned) - cost."""
    family, summary, model, gg = fitted
    lapsed = lapsed_customers(summary, window=182)
    settings = {**_settings(family), "horizon": 24 if family.discrete_time else 104}
    targets = winback_targets(lapsed, model, gg, sequence=[("letter", 1.0, 0)], uplift=0.05,
                              n_draws=30, include_rejected=True, **settings)
    assert len(targets) == int(lapsed["lapsed"].sum()) > 100
    for column in ("expected_value", "value_if_returned", "value_if_not_returned", "p_alive",
                   "baseline_response"):
        assert np.all(np.isfinite(targets[column])), column
    assert np.all(targets["expected_value_lower"] <= targets["expected_value_upper"] + 1e-9)
    assert np.all(targets["value_if_returned"] >= targets["value_if_not_returned"] - 1e-9)
    increment = targets["uplift"] * (targets["value_if_returned"] - targets["value_if_not_returned"])
    np.testing.assert_allclose(targets["expected_value"], increment - targets["contact_cost"],
                               rtol=1e-10, atol=1e-10)


def test_models_in_the_wrong_role_are_refused(fitted):
    family, summary, model, gg = fitted
    with pytest.raises(DataError, match="purchase_model .* was expected"):
        customer_value(gg, model, summary, **_settings(family))
    with pytest.raises(DataError, match="spend_model .* was expected"):
        customer_value(model, model, summary, **_settings(family))
    lapsed = lapsed_customers(summary, window=182)
    with pytest.raises(DataError, match="purchase_model .* was expected"):
        winback_targets(lapsed, gg, model, sequence=[("letter", 1.0, 0)], uplift=0.05,
                        **_settings(family))


def test_a_summary_without_the_familys_history_columns_is_refused(fitted):
    family, summary, model, gg = fitted
    with pytest.raises(DataError, match=family.history_columns[-1]):
        customer_value(model, gg, summary.drop(columns=family.history_columns[-1]), **_settings(family))


@pytest.mark.parametrize("name", FAMILIES)
def test_window_quantities_of_a_silent_customer_match_simulation(name):
    """The win-back's alive-branch window quantities, against 100,000 simulated futures over the
    window of customers alive at T (the family's simulate_future at its alive history, where
    every simulated customer alive at T has a positive alive time, or P(alive) = 1 for BG/BB):
    q = P(no purchase | alive), P(alive at T+w and no purchase | alive), and the discounted
    alive time in the window given no purchase (what the cost to serve is charged on), within
    4 standard errors. Under BG/NBD and MBG/NBD a silent customer is alive throughout."""
    from clvmodels.reactivation import returner

    family = get_family(name)
    params = family.example_params
    key = (np.array([0.0, 1.0, 4.0]), np.array([6.0, 8.0, 10.0])) if family.discrete_time else (
        np.array([0.0, 2.0, 10.0]), np.array([39.0, 30.0, 52.0]))
    window, d = (3.0, 0.05) if family.discrete_time else (8.0, 0.01)
    econ = dataclasses.replace(Economics(margin=0.3, horizon=50 * window).resolve("W"),
                               discount_rate=d)  # d per time unit, as the simulation's
    q, _ = returner._no_purchase_if_alive(family, params, key, window)
    alive_and_silent = returner._alive_and_silent(family, params, key, window)
    alive_time = returner._window_alive_time(econ, family, params, key, window, q)

    n_sims = 100_000
    stacked = {k: np.full((n_sims, 1), v) for k, v in params.items()}
    future = family.simulate_future(np.random.default_rng(9), stacked, *family.alive_history(*key),
                                    window, d)
    alive = np.ones_like(future.alive_time, bool) if family.discrete_time else future.alive_time > 0
    silent = alive & (future.count == 0)
    through = silent & (future.alive_time >= window)
    n_alive = alive.sum(axis=0)
    for got, event in ((q, silent), (alive_and_silent, through)):
        share = event.sum(axis=0) / n_alive
        assert np.all(np.abs(share - got) < 4 * np.sqrt(share * (1 - share) / n_alive) + 1e-9)
    a = np.where(silent, future.discounted_alive_time, np.nan)
    mean, sd = np.nanmean(a, axis=0), np.nanstd(a, axis=0) / np.sqrt(silent.sum(axis=0))
    assert np.all(np.abs(mean - alive_time) < 4 * sd + 1e-9)
    if name in ("bgnbd", "mbgnbd"):  # dropout only right after a purchase
        np.testing.assert_allclose(alive_and_silent, q, rtol=1e-12)


@pytest.mark.parametrize("name", FAMILIES)
def test_models_pooled_by_segment_value_alike_with_and_without_the_alive_branch_tables(
        name, summaries, monkeypatch):
    """A purchase model pooled by channel (parameters per customer's segment): the alive-branch
    tables computed once per distinct (key, segment) give the values each chunk computes for
    itself (the path taken when the tables would be too large), point values and both interval
    kinds; channel rollups still sum to the customers."""
    from clvmodels.value import engine

    family = get_family(name)
    summary = summaries[family.discrete_time]
    model = _model_class(name)(pool_by="channel").fit(summary)
    gg = GammaGammaModel().fit(summary)

    def values(uncertainty):
        return value_run(model, gg, summary, uncertainty=uncertainty, n_draws=30, seed=4,
                         chunk_size=700, rollup_by=["channel"], **_settings(family))

    with_tables = {u: values(u) for u in (None, "expected", "predictive")}
    for run in with_tables.values():
        assert run.rollup("channel")["net_value"].sum() == pytest.approx(
            run.customers["net_value"].sum(), rel=1e-10)
    real_distinct = engine.distinct_rows

    def no_tables(*columns):  # report more distinct rows than the table budget allows
        first, inverse = real_distinct(*columns)
        return np.broadcast_to(first[:1], (400_000_000,)), inverse  # a view: no memory

    monkeypatch.setattr(engine, "distinct_rows", no_tables)
    for uncertainty, run in with_tables.items():
        pd.testing.assert_frame_equal(values(uncertainty).customers, run.customers, rtol=1e-12)


@pytest.mark.parametrize("name", FAMILIES)
def test_bayesian_fits_are_valued_on_their_posterior_draws(name, summaries):
    """A Bayesian fit of each family (nutpie, 2 chains x 200 draws after 300 tuning steps) is
    valued at its posterior draws (paired with the Gamma-Gamma MLE's Laplace draws), point columns
    the posterior means, both interval kinds. Undiscounted and without costs, a customer's value
    is margin x purchases x spend, so the total must match margin x the fit's own posterior-mean
    expected purchases (its ``predict``) x the Gamma-Gamma conditional mean spend, within 2%
    (Monte Carlo: 100 thinned posterior draws, Laplace draws of the spend model). Compared with
    the fit's own predictions, not the MLE: on monthly CDNOW the BG/BB dropout parameters are
    weakly identified (gamma's sd is 3x its estimate), so its posterior mean and MLE differ."""
    from clvmodels.formulas import gammagamma

    family = get_family(name)
    summary = summaries[family.discrete_time]
    bayes = _model_class(name)(method="bayes", chains=2, draws=200, tune=300, seed=1).fit(summary)
    gg = GammaGammaModel().fit(summary)
    settings = {**_settings(family), "discount_rate": 0.0}
    purchases = bayes.predict(summary, horizon=settings["horizon"])["expected_purchases"].to_numpy()
    x = summary["frequency"].to_numpy(float)
    mbar = np.where(x > 0, summary["monetary_value"].to_numpy(float), 0.0)
    spend = gammagamma.expected_spend(*(float(gg.params_[k]) for k in ("p", "q", "gamma")), x, mbar)
    for uncertainty in ("expected", "predictive"):
        out = customer_value(bayes, gg, summary, uncertainty=uncertainty, n_draws=100, seed=2, **settings)
        assert out.attrs["clvmodels"]["methods"] == ["bayes", "mle"]
        assert out["expected_future_margin"].sum() == pytest.approx(0.3 * (purchases * spend).sum(),
                                                                    rel=0.02)
        assert np.all(out["expected_future_margin_lower"] <= out["expected_future_margin_upper"])
