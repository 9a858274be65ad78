"""clvmodels.plotting: every plot rendered with Agg to PNG, its artists checked against the numbers
it should show (computed here by another route: the models' own prediction methods, brute force
over customers, or the summary's counts)."""

from __future__ import annotations

import subprocess
import sys
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.container import BarContainer
from matplotlib.image import AxesImage

from clvmodels import BetaGeoModel, DataError, GammaGammaModel, NotFittedError
from clvmodels import plotting as P

# ArviZ 0.23 calls a matplotlib helper deprecated in matplotlib 3.11; not ours to fix
pytestmark = pytest.mark.filterwarnings("ignore:Passing a dict or None as alias_mapping")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def cdnow():
    from clvmodels.datasets import load_cdnow_summary

    return load_cdnow_summary()


@pytest.fixture(scope="module")
def transactions():
    from clvmodels.datasets import load_cdnow_transactions

    return load_cdnow_transactions()


@pytest.fixture(scope="module")
def bg(cdnow):
    return BetaGeoModel().fit(cdnow)


@pytest.fixture(scope="module")
def gg(cdnow):
    return GammaGammaModel().fit(cdnow)


def render(ax_or_axes, tmp_path, name):
    """Save the figure as PNG and check it is a real image."""
    ax = np.ravel(ax_or_axes)[0]
    path = tmp_path / f"{name}.png"
    ax.figure.savefig(path, dpi=60)
    image = plt.imread(path)
    assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100
    assert image[..., :3].std() > 0.01  # not a blank canvas
    return path


def bar_groups(ax):
    """The bar series of the axes, in drawing order."""
    return [c for c in ax.containers if isinstance(c, BarContainer)]


def data_lines(ax):
    """Lines that carry data (not axvline/axhline markers, whose x or y is constant)."""
    return [line for line in ax.get_lines() if len(line.get_xdata()) > 2]


# ----- calibration histogram ---------------------------------------------------------------------
def test_period_transactions_bars_match_data_and_formula(bg, cdnow, tmp_path):
    from clvmodels.formulas import bgnbd

    ax = P.plot_period_transactions(bg, cdnow, max_frequency=7, interval=None)
    render(ax, tmp_path, "period")
    assert len(ax.patches) == 16
    observed_bars, model_bars = bar_groups(ax)
    assert model_bars.errorbar is None
    observed = [p.get_height() for p in observed_bars]
    model = np.array([p.get_height() for p in model_bars])
    expected_observed = np.bincount(np.minimum(cdnow["frequency"], 7), minlength=8)
    np.testing.assert_array_equal(observed, expected_observed)
    # independent route: sum over customers of P(X(T_i) = n) at the MLE
    params = [bg.params_[k] for k in bgnbd.PARAM_NAMES]
    direct = [bgnbd.purchase_probability_new(*params, cdnow["T"].to_numpy(), n).sum() for n in range(7)]
    np.testing.assert_allclose(model[:7], direct, rtol=1e-10)
    assert model.sum() == pytest.approx(len(cdnow), rel=1e-12)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "1", "2", "3", "4", "5", "6", "7+"]


def test_period_transactions_interval_brackets_model_bars(bg, cdnow, tmp_path):
    ax = P.plot_period_transactions(bg, cdnow, interval="simulated", n_draws=100, seed=1)
    render(ax, tmp_path, "period_interval")
    bars = bar_groups(ax)[1]
    assert bars.errorbar is not None
    segments = bars.errorbar.lines[2][0].get_segments()
    assert len(segments) == 8
    for bar, seg in zip(bars, segments):
        low, high = seg[:, 1].min(), seg[:, 1].max()
        assert low <= bar.get_height() <= high and high > low
    assert "90% interval of simulated data sets" in ax.get_legend().get_texts()[1].get_text()


# ----- holdout validation ------------------------------------------------------------------------
def test_calibration_vs_holdout_points_are_group_means(bg, cdnow, tmp_path):
    ax = P.plot_calibration_vs_holdout(bg, cdnow, max_frequency=7)
    render(ax, tmp_path, "holdout")
    observed, model = data_lines(ax)
    group = np.minimum(cdnow["frequency"], 7)
    np.testing.assert_allclose(observed.get_ydata(), cdnow["frequency_holdout"].groupby(group).mean())
    predicted = bg.expected_purchases(cdnow, 39)["expected_purchases"]
    np.testing.assert_allclose(model.get_ydata(), predicted.groupby(group).mean(), rtol=1e-12)
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels[0] == f"0\nn={(group == 0).sum()}" and labels[-1].startswith("7+")
    assert "39 weeks" in ax.get_ylabel()


def test_calibration_vs_holdout_needs_a_holdout_summary(bg, cdnow):
    with pytest.raises(DataError, match="frequency_holdout"):
        P.plot_calibration_vs_holdout(bg, cdnow.drop(columns="frequency_holdout"))


# ----- tracking ------------------------------------------------------------------------------------
def test_expected_repeat_transactions_equals_sum_over_customers(bg, cdnow):
    """Grouping by first-purchase day changes nothing: compare with a per-customer sum through the
    estimator's own expected_purchases_new."""
    dates = pd.to_datetime(["1997-02-15", "1997-09-30", "1998-06-30"])
    fast = P.expected_repeat_transactions(bg, cdnow, dates).to_numpy()
    first = cdnow["first_purchase"].to_numpy("datetime64[D]")
    brute = []
    for date in dates.to_numpy("datetime64[D]"):
        weeks = (date - first).astype(float) / 7.0
        weeks = weeks[weeks > 0]
        brute.append(bg.expected_purchases_new(np.unique(weeks))["expected_purchases"]
                     .reindex(weeks).to_numpy().sum())
    np.testing.assert_allclose(fast, brute, rtol=1e-10)


def test_actual_repeat_transactions_agree_with_the_summary(cdnow, transactions):
    dates = pd.to_datetime(["1997-09-30", "1998-06-30"])
    actual = P.actual_repeat_transactions(transactions, cdnow, dates).to_numpy()
    calibration = cdnow["frequency"].sum()
    assert actual[0] == calibration == 2457  # FHL (2005): 2,457 repeat purchases in weeks 1-39
    assert actual[1] == calibration + cdnow["frequency_holdout"].sum()


def test_cumulative_tracking_plot(bg, cdnow, transactions, tmp_path):
    ax = P.plot_cumulative_transactions(bg, cdnow, transactions)
    render(ax, tmp_path, "cumulative")
    actual, expected = data_lines(ax)
    n_days = (pd.Timestamp("1998-06-30") - pd.Timestamp("1997-01-01")).days + 1
    assert len(actual.get_xdata()) == len(expected.get_xdata()) == n_days
    assert actual.get_ydata()[-1] == 2457 + cdnow["frequency_holdout"].sum()
    assert np.all(np.diff(expected.get_ydata()) >= 0)
    assert len(ax.get_lines()) == 3  # plus the calibration-end marker


def test_incremental_tracking_plot_sums_to_cumulative(bg, cdnow, transactions, tmp_path):
    ax = P.plot_incremental_transactions(bg, cdnow, transactions)
    render(ax, tmp_path, "incremental")
    actual, expected = data_lines(ax)
    assert len(actual.get_ydata()) == 545 // 7  # whole weeks in 546 days
    last_edge = pd.Timestamp("1997-01-01") + pd.Timedelta(days=7 * (545 // 7))
    total = P.actual_repeat_transactions(transactions, cdnow, [last_edge]).iloc[0]
    assert actual.get_ydata().sum() == total
    total = P.expected_repeat_transactions(bg, cdnow, [last_edge]).iloc[0]
    assert expected.get_ydata().sum() == pytest.approx(total, rel=1e-12)
    assert "per week" in ax.get_ylabel()


# ----- heatmaps ----------------------------------------------------------------------------------
def test_probability_alive_matrix_matches_model(bg, cdnow, tmp_path):
    ax = P.plot_probability_alive_matrix(bg, cdnow)
    render(ax, tmp_path, "p_alive")
    images = [a for a in ax.get_children() if isinstance(a, AxesImage)]
    assert len(images) == 1
    values = np.asarray(images[0].get_array())
    max_freq, T = int(cdnow["frequency"].max()), float(cdnow["T"].max())
    assert values.shape == (max_freq + 1, int(T) + 1)
    grid = P.history_grid(bg, cdnow)
    x, t_x = np.meshgrid(grid.index.to_numpy(float), grid.columns.to_numpy(float), indexing="ij")
    probe = pd.DataFrame({"frequency": x.ravel().astype(int), "recency": t_x.ravel(), "T": T})
    probe.attrs["clvmodels"] = {"time_unit": "W"}
    possible = (x > 0) == (t_x > 0)  # recency is 0 exactly when there is no repeat purchase
    direct = bg.p_alive(probe[possible.ravel()])["p_alive"].to_numpy()
    assert np.isnan(grid.to_numpy()[~possible]).all() and (~possible).sum() == max_freq + int(T)
    np.testing.assert_allclose(grid.to_numpy()[possible], direct, rtol=1e-12)
    assert grid.loc[0, 0.0] == 1.0  # no repeat purchase: alive for sure (FHL 2005 eq. 13)
    assert images[0].get_clim() == (0.0, 1.0)


def test_frequency_recency_matrix_shape_and_horizon(bg, cdnow, tmp_path):
    ax = P.plot_frequency_recency_matrix(bg, cdnow, horizon=39, max_frequency=10, T=30)
    render(ax, tmp_path, "freq_recency")
    values = np.asarray(ax.images[0].get_array())
    assert values.shape == (11, 31)
    probe = pd.DataFrame({"frequency": [2], "recency": [25.0], "T": [30.0]})
    probe.attrs["clvmodels"] = {"time_unit": "W"}
    assert values[2, 25] == pytest.approx(bg.expected_purchases(probe, 39)["expected_purchases"].iloc[0])
    assert "39 weeks" in ax.get_title()
    # a long daily window is sampled on at most MAX_RECENCY_POINTS columns
    grid = P.history_grid(bg, T=3650.0, max_frequency=3, horizon=1.0)
    assert grid.shape == (4, P.grids.MAX_RECENCY_POINTS) and grid.columns[-1] == 3650.0


# ----- one customer --------------------------------------------------------------------------------
def test_history_alive_ends_at_the_customers_p_alive(bg, cdnow, transactions, tmp_path):
    history = P.alive_history(bg, transactions, 1, end="1997-09-30", n_draws=100)
    last = history.iloc[-1]
    assert last["frequency"] == cdnow.loc[1, "frequency"]
    assert last["T"] == pytest.approx(cdnow.loc[1, "T"])
    assert last["p_alive"] == pytest.approx(bg.p_alive(cdnow.loc[[1]])["p_alive"].iloc[0], rel=1e-12)
    assert (history["p_alive_lower"] <= history["p_alive"]).all()
    assert (history["p_alive"] <= history["p_alive_upper"]).all()

    ax = P.plot_history_alive(bg, transactions, 1, end="1998-06-30", n_draws=100)
    render(ax, tmp_path, "history")
    assert len(data_lines(ax)) == 1
    assert sum(isinstance(c, PolyCollection) for c in ax.collections) == 1
    marks = [c for c in ax.collections if isinstance(c, LineCollection)]
    days = transactions.loc[transactions["customer_id"] == 1, "date"].dt.normalize().nunique()
    assert len(marks) == 1 and len(marks[0].get_segments()) == days


def test_history_alive_unknown_customer(bg, transactions):
    with pytest.raises(DataError, match="no purchase"):
        P.alive_history(bg, transactions, "nobody")


# ----- value ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def value_run_by_channel(bg, gg, cdnow):
    from clvmodels.value import value_run

    summary = cdnow.copy()
    summary["channel"] = np.where(summary.index % 3 == 0, "search", np.where(summary.index % 3 == 1, "social", "email"))
    summary["acquisition_cost"] = summary["channel"].map({"search": 20.0, "social": 30.0, "email": 5.0})
    return value_run(bg, gg, summary, margin=0.3, horizon=52, discount_rate=0.1, n_draws=100,
                     rollup_by=["channel"])


def test_value_distribution_plot(value_run_by_channel, tmp_path):
    values = value_run_by_channel.customers
    ax = P.plot_value_distribution(values, "clv")
    render(ax, tmp_path, "value_distribution")
    (line,) = data_lines(ax)
    ranked = line.get_ydata()
    assert len(ranked) == P.value.MAX_RANKED_POINTS < len(values)  # evenly thinned ranks
    assert ranked[0] == values["clv"].max() and ranked[-1] == values["clv"].min()
    assert np.all(np.diff(ranked) <= 0) and np.isin(ranked, values["clv"]).all()
    assert sum(isinstance(c, PolyCollection) for c in ax.collections) == 1
    assert ax.get_yscale() == "log"
    # negative values: asinh (linear near zero over the median |value|, log beyond), not symlog,
    # whose narrow linear band made the customers near zero look like a cliff (issue 19)
    ax = P.plot_value_distribution(values, "net_value", currency="USD")
    assert ax.get_yscale() == "asinh"
    width = np.median(np.abs(values["net_value"][values["net_value"] != 0]))
    assert ax.yaxis.get_transform().linear_width == pytest.approx(width)
    ticks = ax.get_yticks()
    assert 0.0 in ticks and np.all(np.abs(ticks[ticks != 0]) >= width)  # none crowd around zero
    assert ax.get_ylabel().startswith("Net value (USD)")
    assert ax.get_title() == f"Distribution of net value: {(values['net_value'] < 0).mean():.0%} of customers below zero"


def test_value_by_group_plot(value_run_by_channel, tmp_path):
    rollup = value_run_by_channel.rollup("channel", per_customer=True)
    ax = P.plot_value_by_group(rollup, "breakeven_acquisition_cost", reference_column="acquisition_cost")
    render(ax, tmp_path, "value_by_group")
    (bars,) = bar_groups(ax)
    assert len(bars) == 3
    np.testing.assert_allclose([b.get_width() for b in bars], rollup["breakeven_acquisition_cost"])
    assert bars.errorbar is not None
    assert [t.get_text() for t in ax.get_yticklabels()] == [str(g) for g in rollup.index]
    ax = P.plot_value_by_group(rollup, "ltv_cac")
    assert any(np.allclose(line.get_xdata(), 1.0) for line in ax.get_lines())  # break-even line
    with pytest.raises(DataError, match="no column 'clvv'"):
        P.plot_value_by_group(rollup, "clvv")


# ----- Bayesian diagnostics --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def bg_bayes(cdnow):
    with warnings.catch_warnings():  # short chains: a ConvergenceWarning about ESS is expected
        warnings.simplefilter("ignore")
        return BetaGeoModel(method="bayes", chains=2, draws=200, tune=200, seed=3).fit(cdnow)


def test_bayes_diagnostic_plots(bg_bayes, bg, cdnow, tmp_path):
    axes = P.plot_trace(bg_bayes)
    render(axes, tmp_path, "trace")
    assert axes.shape == (4, 2)
    assert len(axes[0, 1].get_lines()) == 2  # one trace per chain
    axes = P.plot_rank(bg_bayes)
    render(axes, tmp_path, "rank")
    assert np.ravel(axes).size == 4
    axes = P.plot_posterior(bg_bayes, reference=bg)
    render(axes, tmp_path, "posterior")
    assert axes.size == 4
    texts = " ".join(t.get_text() for t in axes.ravel()[0].texts)
    assert f"{bg.params_['r']:.4g}" in texts  # the MLE reference is marked on the r panel
    ax = P.plot_energy(bg_bayes)
    render(ax, tmp_path, "energy")
    # the calibration histogram reads the posterior directly
    ax = P.plot_period_transactions(bg_bayes, cdnow, interval="expected", n_draws=50)
    assert len(ax.patches) == 16


def test_bayes_plots_refuse_an_mle_fit(bg):
    with pytest.raises(DataError, match="method='bayes'"):
        P.plot_trace(bg)


# ----- contract -----------------------------------------------------------------------------------------
def test_plots_draw_into_a_given_axes(bg, cdnow):
    _, (left, right) = plt.subplots(1, 2)
    assert P.plot_period_transactions(bg, cdnow, interval=None, ax=left) is left
    assert P.plot_probability_alive_matrix(bg, cdnow, ax=right) is right


def test_unfitted_and_wrong_models_are_refused(cdnow, gg):
    with pytest.raises(NotFittedError):
        P.plot_calibration_vs_holdout(BetaGeoModel(), cdnow)
    with pytest.raises(DataError, match="BetaGeoModel"):
        P.plot_period_transactions(gg, cdnow)


def test_importing_plotting_does_not_import_matplotlib():
    code = ("import sys, clvmodels, clvmodels.plotting; "
            "print(sorted(m for m in ('matplotlib', 'arviz', 'pymc') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
