"""The plot set for every purchase family (issue 15, item 5): each plot drawn from ``model.family``.

Parametrised over :func:`clvmodels.families.family_names`, each with a model fitted through the
registry: the continuous-time families on the CDNOW 1/10 sample (weeks, 39-week calibration and
holdout), BG/BB on a yearly log simulated from its own example parameters (Fader, Hardie & Shang
2010 donations fit) and summarised by ``opportunity_summary``. Every test checks the numbers
plotted (bar heights, line and image data) against an independent route: the estimator's own
public predictions, the summary's counts, a Monte Carlo of the family's simulator, or densities
written out by hand.
"""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from clvmodels import plotting as P
from clvmodels.data.timeunits import days_per_unit
from clvmodels.families import family_names, get_family
from clvmodels.models.registry import purchase_model_class

FAMILIES = family_names()


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def yearly_log(n: int = 600, seed: int = 7) -> pd.DataFrame:
    """A BG/BB log: first purchase in 2000-2002, one opportunity per calendar year up to 2010.

    Each customer draws p ~ Beta(alpha, beta) and theta ~ Beta(gamma, delta) at the family's
    example parameters; before each later year they drop out with probability theta, else buy
    once in it with probability p (on a random day of the year).
    """
    rng = np.random.default_rng(seed)
    params = get_family("bgbb").example_params
    p = rng.beta(params["alpha"], params["beta"], n)
    theta = rng.beta(params["gamma"], params["delta"], n)
    born = rng.integers(2000, 2003, n)
    ids, days = [], []

    def day_in(year):
        return pd.Timestamp(f"{year}-01-01") + pd.Timedelta(days=int(rng.integers(0, 365)))

    for i in range(n):
        ids.append(i)
        days.append(day_in(born[i]))
        for year in range(born[i] + 1, 2011):
            if rng.random() < theta[i]:
                break
            if rng.random() < p[i]:
                ids.append(i)
                days.append(day_in(year))
    return pd.DataFrame({"customer_id": ids, "date": days})


@pytest.fixture(scope="module")
def cdnow():
    from clvmodels.datasets import load_cdnow_summary, load_cdnow_transactions

    return load_cdnow_summary(), load_cdnow_transactions()


@pytest.fixture(scope="module")
def yearly():
    from clvmodels.data.opportunities import opportunity_summary

    tx = yearly_log()
    summary = opportunity_summary(tx, period="Y", calibration_period_end="2006-12-31",
                                  observation_period_end="2010-12-31")
    return summary, tx


_FITTED = {}


@pytest.fixture(params=FAMILIES)
def case(request, cdnow, yearly):
    """(model, calibration/holdout summary, log, a customer with >= 2 repeat purchases)."""
    name = request.param
    family = get_family(name)
    summary, tx = yearly if family.discrete_time else cdnow
    if name not in _FITTED:
        _FITTED[name] = purchase_model_class(name)().fit(summary)
    model = _FITTED[name]
    assert model.family is family
    customer = summary.index[summary["frequency"] >= 2][0]
    return model, summary, tx, customer


def age_of(family) -> str:
    return [c for c in family.history_columns if c in ("T", "n_periods")][0]


def lines_with_data(ax):
    return [line for line in ax.get_lines() if len(line.get_xdata()) > 2]


# ----- one customer's P(alive) ---------------------------------------------------------------------
def test_history_alive_line_is_the_family_p_alive(case):
    """At the calibration end the path's history is the summary's row and its P(alive) the
    estimator's; the plotted line is the path's P(alive), day by day (BG/BB: per opportunity)."""
    model, summary, tx, customer = case
    family = model.family
    end = summary.attrs["clvmodels"]["observation_end"]
    history = P.alive_history(model, tx, customer, end=end, n_draws=50, seed=1)
    assert list(history.columns[:3]) == list(family.history_columns)
    last = history.iloc[-1]
    for column in family.history_columns:
        assert last[column] == pytest.approx(float(summary.loc[customer, column]))
    own = model.p_alive(summary.loc[[customer]])["p_alive"].iloc[0]
    assert last["p_alive"] == pytest.approx(own, rel=1e-12)
    assert (history["p_alive_lower"] <= history["p_alive"] + 1e-12).all()
    assert (history["p_alive"] <= history["p_alive_upper"] + 1e-12).all()
    assert history["frequency"].iloc[-1] == summary.loc[customer, "frequency"]

    ax = P.plot_history_alive(model, tx, customer, end=end, n_draws=50, seed=1)
    (line,) = lines_with_data(ax)
    np.testing.assert_allclose(line.get_ydata(), history["p_alive"].to_numpy(), rtol=0, atol=0)
    assert family.label in line.get_label()
    if family.discrete_time:  # one point per yearly opportunity, at its last day
        assert (history.index.month == 12).all() and (history.index.day == 31).all()
        first_year = pd.Timestamp(summary.loc[customer, "first_purchase"]).year
        assert len(history) == 2006 - first_year + 1


# ----- frequency x recency grids --------------------------------------------------------------------
def _probe(model, summary, grid, possible):
    """The grid's possible cells as a summary for the estimator's own predictions."""
    family = model.family
    x, t_x = np.meshgrid(grid.index.to_numpy(float), grid.columns.to_numpy(float), indexing="ij")
    T = float(summary[age_of(family)].max())
    cells = {"frequency": x[possible].astype(np.int64), "recency": t_x[possible], age_of(family): T}
    if family.discrete_time:
        cells["recency"] = cells["recency"].astype(np.int64)
        cells[age_of(family)] = np.int64(T)
    probe = pd.DataFrame(cells)[list(family.history_columns)]
    probe.attrs["clvmodels"] = {"time_unit": model.time_unit_}
    return probe


def test_grids_are_the_estimators_p_alive_and_expected_purchases(case):
    model, summary, _, _ = case
    family = model.family
    ax = P.plot_probability_alive_matrix(model, summary, max_frequency=6)
    grid = P.history_grid(model, summary, max_frequency=6)
    image = np.asarray(ax.images[0].get_array())
    np.testing.assert_array_equal(np.isnan(image), np.isnan(grid.to_numpy()))
    x, t_x = np.meshgrid(grid.index.to_numpy(float), grid.columns.to_numpy(float), indexing="ij")
    possible = (x > 0) == (t_x > 0)
    if family.discrete_time:
        possible &= x <= t_x  # x opportunities taken among the first t_x
    assert np.isnan(grid.to_numpy()[~possible]).all()
    probe = _probe(model, summary, grid, possible)
    np.testing.assert_allclose(grid.to_numpy()[possible], model.p_alive(probe)["p_alive"], rtol=1e-12)
    np.testing.assert_allclose(image[possible], grid.to_numpy()[possible], rtol=1e-12)
    assert family.label in ax.get_title()

    horizon = 4.0 if family.discrete_time else 39.0
    ax = P.plot_frequency_recency_matrix(model, summary, horizon=horizon, max_frequency=6)
    values = np.asarray(ax.images[0].get_array())
    own = model.expected_purchases(probe, horizon)["expected_purchases"].to_numpy()
    np.testing.assert_allclose(values[possible], own, rtol=1e-12)
    assert np.isnan(values[~possible]).all()


# ----- period-transactions histogram ----------------------------------------------------------------
def test_period_transactions_bars_are_the_expected_and_observed_counts(case):
    """Model bar n = sum_i P(X(T_i) = n) of a new customer at the fit (the last bar the rest),
    checked per customer and against 400 data sets simulated from the family's own latent
    sampler at the empty history (within 5 standard errors); observed bars count the summary."""
    model, summary, _, _ = case
    family = model.family
    ax = P.plot_period_transactions(model, summary, interval=None, max_frequency=7)
    heights = np.array([bar.get_height() for bar in ax.patches])
    observed, expected = heights[:8], heights[8:]
    np.testing.assert_array_equal(observed, np.bincount(np.minimum(summary["frequency"], 7), minlength=8))

    params = {k: float(v) for k, v in model.params_.items()}
    T = summary[age_of(family)].to_numpy(float)
    empty = [np.zeros_like(T) for _ in family.history_columns]
    by_customer = [float(np.sum(family.purchase_probability(params, *empty, T, n))) for n in range(7)]
    np.testing.assert_allclose(expected[:7], by_customer, rtol=1e-9)
    assert expected.sum() == pytest.approx(len(summary), rel=1e-12)

    rng = np.random.default_rng(11)
    sims = np.empty((400, 8))
    for k in range(sims.shape[0]):
        latents = family.sample_latents(rng, {n: np.full(T.size, v) for n, v in params.items()}, *empty)
        counts = np.asarray(family.simulate_purchases(rng, latents, T), np.int64)
        sims[k] = np.bincount(np.minimum(counts, 7), minlength=8)
    se = sims.std(axis=0, ddof=1) / np.sqrt(sims.shape[0])
    assert np.all(np.abs(sims.mean(axis=0) - expected) <= 5 * se + 1e-9)
    assert ax.get_legend().get_texts()[1].get_text().startswith(f"{family.label} model")


# ----- tracking ------------------------------------------------------------------------------------
def _elapsed(model, first, date):
    """Each customer's time since first purchase at the end of ``date``: units (continuous), or
    complete opportunities after the first one (discrete; yearly here)."""
    if model.family.discrete_time:
        done = (date + pd.Timedelta(days=1)).year - 1  # the last year over by the end of the day
        return np.maximum(done - pd.DatetimeIndex(first).year.to_numpy(), 0).astype(float)
    days = (date.to_datetime64().astype("datetime64[D]") - first.astype("datetime64[D]")).astype(float)
    return np.maximum(days, 0.0) / days_per_unit(model.time_unit_)


def test_tracking_lines_are_actual_counts_and_expected_per_birth_cohort(case):
    """Actual: the summary's repeat counts at the calibration and holdout ends. Expected: the
    per-customer sum of the estimator's own expected_purchases_new, whatever the cohort grouping."""
    model, summary, tx, _ = case
    meta = summary.attrs["clvmodels"]
    cal_end, hold_end = pd.Timestamp(meta["observation_end"]), pd.Timestamp(meta["holdout_end"])
    ax = P.plot_cumulative_transactions(model, summary, tx)
    actual, expected = lines_with_data(ax)
    when = pd.DatetimeIndex(actual.get_xdata())
    at_cal, at_end = when.get_loc(cal_end), when.get_loc(hold_end)
    assert actual.get_ydata()[at_cal] == summary["frequency"].sum()
    assert actual.get_ydata()[at_end] == summary["frequency"].sum() + summary["frequency_holdout"].sum()
    first = summary["first_purchase"].to_numpy("datetime64[D]")
    for date, i in ((cal_end, at_cal), (hold_end, at_end)):
        t = _elapsed(model, first, date)
        t = t[t > 0]
        own = model.expected_purchases_new(np.unique(t))["expected_purchases"].reindex(t).to_numpy().sum()
        assert expected.get_ydata()[i] == pytest.approx(own, rel=1e-10)
    assert np.all(np.diff(expected.get_ydata()) >= -1e-9)
    assert f"expected ({model.family.label})" in [t.get_text() for t in ax.get_legend().get_texts()]

    # per period (one time unit from the first acquisition day): the steps add up to the cumulative
    ax = P.plot_incremental_transactions(model, summary, tx)
    actual_step, expected_step = ax.get_lines()[:2]
    last = when.get_loc(pd.Timestamp(actual_step.get_xdata()[-1]))
    assert np.sum(actual_step.get_ydata()) == actual.get_ydata()[last]
    assert np.sum(expected_step.get_ydata()) == pytest.approx(expected.get_ydata()[last], rel=1e-10)


# ----- heterogeneity ---------------------------------------------------------------------------------
#: What each family mixes over (from the papers), as (kind, first argument, second argument):
#: FHL 2005 sec. 3; Batislam et al. 2007 (as BG/NBD); SMC 1987 (lambda and mu Gamma); FHS 2010 sec. 2.
DECLARED = {
    "bgnbd": [("gamma", "r", "alpha"), ("beta", "a", "b")],
    "mbgnbd": [("gamma", "r", "alpha"), ("beta", "a", "b")],
    "pnbd": [("gamma", "r", "alpha"), ("gamma", "s", "beta")],
    "bgbb": [("beta", "alpha", "beta"), ("beta", "gamma", "delta")],
}


def by_hand(kind, first, second, x):
    """Gamma(shape, rate) or Beta(a, b) density written out with math.lgamma (no scipy)."""
    if kind == "gamma":
        log = first * math.log(second) + (first - 1) * np.log(x) - second * x - math.lgamma(first)
    else:
        log = ((first - 1) * np.log(x) + (second - 1) * np.log1p(-x)
               - (math.lgamma(first) + math.lgamma(second) - math.lgamma(first + second)))
    return np.exp(log)


def test_heterogeneity_panels_are_the_declared_densities(case):
    model, _, _, _ = case
    name = model.family.name
    declared = model.family.heterogeneity
    assert [(m.kind, *m.parameters) for m in declared] == DECLARED[name]
    params = {k: float(v) for k, v in model.params_.items()}
    axes = P.plot_heterogeneity(model, n_draws=50, seed=3)
    assert len(axes) == len(DECLARED[name])
    for ax, (kind, first, second), mix in zip(axes, DECLARED[name], declared):
        (line,) = lines_with_data(ax)
        x = line.get_xdata()
        np.testing.assert_allclose(line.get_ydata(), by_hand(kind, params[first], params[second], x),
                                   rtol=1e-9)
        (mean,) = [ln for ln in ax.get_lines() if ln.get_linestyle() == "--"]
        a, b = params[first], params[second]
        assert mean.get_xdata()[0] == pytest.approx(a / b if kind == "gamma" else a / (a + b), rel=1e-12)
        assert ax.get_title() == mix.label
        if kind == "beta":
            assert 0.0 < x[0] and x[-1] < 1.0


# ----- every plot is readable for every family --------------------------------------------------------
def test_every_family_plot_is_readable(case):
    """Titles, labels, no overlapping or cut-off text (the checker of test_plotting_render)."""
    from test_plotting_render import check_figure

    model, summary, tx, customer = case
    horizon = 4.0 if model.family.discrete_time else 39.0
    for draw in (lambda: P.plot_period_transactions(model, summary, n_draws=30),
                 lambda: P.plot_calibration_vs_holdout(model, summary),
                 lambda: P.plot_cumulative_transactions(model, summary, tx),
                 lambda: P.plot_probability_alive_matrix(model, summary),
                 lambda: P.plot_frequency_recency_matrix(model, summary, horizon=horizon),
                 lambda: P.plot_history_alive(model, tx, customer, calibration_end=summary, n_draws=30),
                 lambda: P.plot_heterogeneity(model, n_draws=30)):
        check_figure(draw())
        plt.close("all")


# ----- identified by role -------------------------------------------------------------------------------
def test_purchase_plots_name_no_family_formula_or_parameter():
    """No purchase plot imports a family's formulas or spells a parameter name: they read
    ``model.family`` only (issue 15: models are identified by role)."""
    import inspect

    from clvmodels.plotting import _common, customer, fit, grids, mixing, tracking

    names = {n for f in FAMILIES for n in get_family(f).param_names}
    for module in (_common, customer, fit, grids, mixing, tracking):
        source = inspect.getsource(module)
        assert "clvmodels.formulas" not in source, module.__name__
        quoted = [n for n in names if any(f"{o}{q}{n}{q}{c}" in source for q in "'\""
                                          for o, c in (("[", "]"), ("(", ","), (", ", ")")))]
        assert not quoted, f"{module.__name__} spells parameter names {quoted}"


# ----- a Bayesian fit of a family other than BG/NBD ------------------------------------------------------
@pytest.mark.slow
def test_posterior_predictive_bars_of_a_bayesian_mbgnbd_fit(cdnow):
    """MBG/NBD by NUTS (2 x 200 draws): with n_draws covering every posterior draw, each model bar
    is the posterior mean of sum_i P(X(T_i) = n) at the empty history, computed here per draw and
    per customer from the posterior itself; the title names the check."""
    import warnings

    summary, _ = cdnow
    with warnings.catch_warnings():  # short chains: a ConvergenceWarning about ESS is expected
        warnings.simplefilter("ignore")
        model = purchase_model_class("mbgnbd")(method="bayes", chains=2, draws=200, tune=200,
                                               seed=3).fit(summary)
    family = model.family
    ax = P.plot_period_transactions(model, summary, interval="expected", n_draws=400, max_frequency=7)
    assert ax.get_title().startswith("Posterior predictive check")
    expected = np.array([bar.get_height() for bar in ax.patches])[8:]
    post = model.idata_.posterior
    draws = {k: post[k].to_numpy().reshape(-1, 1) for k in family.param_names}  # (400, 1)
    T = summary["T"].to_numpy(float)
    empty = [np.zeros_like(T) for _ in family.history_columns]
    by_hand = [family.purchase_probability(draws, *empty, T, n).sum(axis=1).mean() for n in range(7)]
    np.testing.assert_allclose(expected[:7], by_hand, rtol=1e-9)
    assert expected.sum() == pytest.approx(len(summary), rel=1e-12)


# ----- a model pooled by segment ------------------------------------------------------------------------
def test_plots_of_a_model_pooled_by_segment_use_each_segments_parameters(cdnow):
    """MBG/NBD with one parameter set per channel: the grid is the estimator's P(alive) for a
    customer of the chosen channel, and the tracking curve sums each channel's cohorts with their
    own parameters (per customer through expected_purchases_new(segment=))."""
    summary, _ = cdnow
    summary = summary.copy()
    summary["channel"] = np.where(summary.index % 3 == 0, "search", "social")
    model = purchase_model_class("mbgnbd")(pool_by="channel").fit(summary)
    grid = P.history_grid(model, summary, max_frequency=4, segment="search")
    x, t_x = np.meshgrid(grid.index.to_numpy(float), grid.columns.to_numpy(float), indexing="ij")
    possible = (x > 0) == (t_x > 0)
    probe = pd.DataFrame({"frequency": x[possible].astype(int), "recency": t_x[possible],
                          "T": float(summary["T"].max()), "channel": "search"})
    probe.attrs["clvmodels"] = {"time_unit": "W"}
    np.testing.assert_allclose(grid.to_numpy()[possible], model.p_alive(probe)["p_alive"], rtol=1e-12)

    date = pd.Timestamp("1998-06-30")
    total = 0.0
    for channel, rows in summary.groupby("channel"):
        t = _elapsed(model, rows["first_purchase"].to_numpy("datetime64[D]"), date)
        t = t[t > 0]
        own = model.expected_purchases_new(np.unique(t), segment=channel)["expected_purchases"]
        total += own.reindex(t).to_numpy().sum()
    assert P.expected_repeat_transactions(model, summary, [date]).iloc[0] == pytest.approx(total, rel=1e-10)


def test_incremental_tracking_of_discrete_opportunities_is_per_calendar_period(yearly):
    """BG/BB: one point per calendar year (at 31 December), each the opportunities taken in that
    year by the cohort, from the log directly."""
    summary, tx = yearly
    model = _FITTED.get("bgbb") or purchase_model_class("bgbb")().fit(summary)
    ax = P.plot_incremental_transactions(model, summary, tx)
    actual, expected = ax.get_lines()[:2]
    when = pd.DatetimeIndex(actual.get_xdata())
    assert list(when) == list(pd.date_range("2001-12-31", "2010-12-31", freq="YE"))
    log = tx.assign(year=tx["date"].dt.year).drop_duplicates(["customer_id", "year"])
    born = log.groupby("customer_id")["year"].transform("min")
    by_year = log[log["year"] > born].groupby("year").size().reindex(range(2001, 2011), fill_value=0)
    np.testing.assert_array_equal(actual.get_ydata(), by_year.to_numpy())
    assert np.all(np.asarray(expected.get_ydata()) > 0)
