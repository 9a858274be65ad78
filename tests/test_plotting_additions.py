"""The plots added for issue 19 (heterogeneity, Gamma-Gamma spend fit, Lorenz curve, win-back gains)
and the readability fixes (currency, years on date axes, calibration-end marker, colour scale):
each plotted number checked against a hand computation or an independent route."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from scipy import integrate

from clvmodels import BetaGeoModel, DataError, GammaGammaModel
from clvmodels import plotting as P


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def cal():
    from clvmodels.datasets import load_cdnow_summary

    return load_cdnow_summary()


@pytest.fixture(scope="module")
def bg(cal):
    return BetaGeoModel().fit(cal)


@pytest.fixture(scope="module")
def gg(cal):
    return GammaGammaModel().fit(cal)


def lines_with_data(ax):
    return [line for line in ax.get_lines() if len(line.get_xdata()) > 2]


# ----- heterogeneity --------------------------------------------------------------------------------
def test_heterogeneity_draws_the_gamma_and_beta_densities_at_the_fit(bg):
    """Gamma(r, alpha) density of lambda and Beta(a, b) density of p (FHL 2005, sec. 3 eq. 2 and 4),
    evaluated here by hand with math.gamma, not scipy."""
    r, alpha, a, b = (float(bg.params_[k]) for k in ("r", "alpha", "a", "b"))
    rate_ax, dropout_ax = P.plot_heterogeneity(bg, n_draws=100, seed=2)
    (rate,) = lines_with_data(rate_ax)
    lam, dens = rate.get_xdata(), rate.get_ydata()
    by_hand = alpha ** r * lam ** (r - 1) * np.exp(-alpha * lam) / math.gamma(r)
    np.testing.assert_allclose(dens, by_hand, rtol=1e-10)
    (dropout,) = lines_with_data(dropout_ax)
    p, dens = dropout.get_xdata(), dropout.get_ydata()
    beta = math.gamma(a) * math.gamma(b) / math.gamma(a + b)
    np.testing.assert_allclose(dens, p ** (a - 1) * (1 - p) ** (b - 1) / beta, rtol=1e-10)
    # means r / alpha and a / (a + b), dashed
    means = [line.get_xdata()[0] for ax in (rate_ax, dropout_ax) for line in ax.get_lines()
             if line.get_linestyle() == "--"]
    assert means == pytest.approx([r / alpha, a / (a + b)], rel=1e-12)
    assert rate_ax.get_xlabel() == "Purchases per week (lambda)"


def test_heterogeneity_band_comes_from_the_parameter_draws(bg):
    table = P.heterogeneity_table(bg, level=0.9, n_draws=200, seed=4)
    draws = bg.parameter_draws(200, 4)
    r, alpha = draws.values[:, 0], draws.values[:, 1]
    x = table[0]["x"][50]
    densities = alpha ** r * x ** (r - 1) * np.exp(-alpha * x) / np.array([math.gamma(v) for v in r])
    low, high = np.quantile(densities, [0.05, 0.95])
    assert table[0]["lower"][50] == pytest.approx(low, rel=1e-9)
    assert table[0]["upper"][50] == pytest.approx(high, rel=1e-9)
    assert P.heterogeneity_table(bg, level=0.9, n_draws=200, seed=4)[0]["lower"][50] == table[0]["lower"][50]
    assert "lower" not in P.heterogeneity_table(bg, level=None)[0]


def test_heterogeneity_of_gamma_gamma_is_the_mean_spend_distribution(gg):
    """p / nu with nu ~ Gamma(q, gamma) is inverse-Gamma(q, scale p gamma); mean p gamma / (q - 1)
    (FH 2013: the population mean spend per transaction)."""
    p, q, g = (float(gg.params_[k]) for k in ("p", "q", "gamma"))
    (ax,) = P.plot_heterogeneity(gg, level=None, currency="USD")
    (line,) = lines_with_data(ax)
    m = line.get_xdata()
    scale = p * g
    by_hand = scale ** q * m ** (-q - 1) * np.exp(-scale / m) / math.gamma(q)
    np.testing.assert_allclose(line.get_ydata(), by_hand, rtol=1e-10)
    (mean,) = [ln for ln in ax.get_lines() if ln.get_linestyle() == "--"]
    assert mean.get_xdata()[0] == pytest.approx(p * g / (q - 1), rel=1e-12)
    assert ax.get_xlabel() == "Mean spend per transaction (USD)"


def test_heterogeneity_refuses_a_model_without_mixing_distributions(bg):
    class Other:
        param_names = ("u", "v")

        def point_draws(self):
            return None

    with pytest.raises(DataError, match="mixing distributions"):
        P.plot_heterogeneity(Other())
    with pytest.raises(DataError, match="2 Axes"):
        P.plot_heterogeneity(bg, ax=plt.subplots(1, 3)[1])


# ----- Gamma-Gamma fit check ---------------------------------------------------------------------------
def test_spend_fit_model_curve_is_the_mixture_over_observed_frequencies(gg, cal):
    """g(m) = mean over repeat buyers of f(m | x_i), with f(m | x) the Gamma(px, nu x) density of
    the mean of x spends mixed over nu ~ Gamma(q, gamma) (FH 2013 eq. 4), here integrated over
    nu numerically instead of the closed form."""
    p, q, g = (float(gg.params_[k]) for k in ("p", "q", "gamma"))
    ax = P.plot_spend_fit(gg, cal, level=None)
    (line,) = lines_with_data(ax)
    repeat = cal[cal["frequency"] > 0]
    xs, counts = np.unique(repeat["frequency"], return_counts=True)
    for i in (10, 60, 150):
        m = line.get_xdata()[i]

        def f(x, m=m):
            integrand = lambda nu: (math.exp((p * x) * math.log(nu * x) + (p * x - 1) * math.log(m)
                                             - nu * x * m - math.lgamma(p * x))
                                    * math.exp(q * math.log(g) + (q - 1) * math.log(nu) - g * nu
                                               - math.lgamma(q)))
            return integrate.quad(integrand, 0, np.inf, limit=200)[0]

        direct = sum(c * f(float(x)) for x, c in zip(xs, counts)) / counts.sum()
        assert line.get_ydata()[i] == pytest.approx(direct, rel=1e-6)


def test_spend_fit_histogram_is_a_density_over_all_repeat_buyers(gg, cal):
    ax = P.plot_spend_fit(gg, cal, n_draws=50, currency="USD")
    spend = cal.loc[cal["frequency"] > 0, "monetary_value"]
    high = np.quantile(spend, P.spend.UPPER_QUANTILE)
    area = sum(bar.get_height() * bar.get_width() for bar in ax.patches)
    assert area == pytest.approx((spend <= high).mean(), rel=1e-12)  # the shown share of buyers
    assert f"{(spend > high).sum()} customers above" in ax.get_title()
    assert ax.get_xlabel() == "Average spend per repeat transaction (USD)"
    assert len(ax.collections) == 1  # the band


def test_spend_fit_needs_a_gamma_gamma_model_and_spend(gg, bg, cal):
    with pytest.raises(DataError, match="GammaGammaModel"):
        P.plot_spend_fit(bg, cal)
    with pytest.raises(DataError, match="monetary_value"):
        P.plot_spend_fit(gg, cal.drop(columns="monetary_value"))


# ----- Lorenz curve ------------------------------------------------------------------------------------------
def test_lorenz_curve_by_hand():
    """Values 10, 0, 0, 0: the top customer holds everything; Gini = sum_ij |v_i - v_j| /
    (2 n^2 mean) = 60 / 80 = 0.75 = 1 - 1/n."""
    frame = pd.DataFrame({"clv": [0.0, 10.0, 0.0, 0.0]})
    curve = P.lorenz_curve(frame)
    np.testing.assert_allclose(curve["customer_share"], [0, 0.25, 0.5, 0.75, 1.0])
    np.testing.assert_allclose(curve["value_share"], [0, 1, 1, 1, 1])
    assert curve.attrs["gini"] == pytest.approx(0.75, abs=1e-15)
    assert P.lorenz_curve(pd.DataFrame({"clv": [3.0] * 5})).attrs["gini"] == pytest.approx(0.0, abs=1e-15)
    values = np.array([5.0, 1.0, 2.0, 9.0, 0.5])
    mean_difference = np.abs(values[:, None] - values[None, :]).sum() / (2 * values.size ** 2 * values.mean())
    assert P.lorenz_curve(pd.DataFrame({"clv": values})).attrs["gini"] == pytest.approx(mean_difference)


def test_lorenz_curve_negative_values_and_refusals():
    curve = P.lorenz_curve(pd.DataFrame({"net_value": [8.0, 4.0, -2.0]}), "net_value")
    np.testing.assert_allclose(curve["value_share"], [0, 0.8, 1.2, 1.0])
    assert np.isnan(curve.attrs["gini"])
    with pytest.raises(DataError, match="not positive"):
        P.lorenz_curve(pd.DataFrame({"net_value": [1.0, -3.0]}), "net_value")
    with pytest.raises(DataError, match="missing"):
        P.lorenz_curve(pd.DataFrame({"clv": [1.0, np.nan]}, index=["a", "b"]))


def test_lorenz_plot_marks_the_top_fifth(cal):
    values = pd.DataFrame({"clv": np.arange(1.0, 11.0)})  # 1..10: top 2 hold 19 / 55
    ax = P.plot_lorenz_curve(values)
    (marker,) = [line for line in ax.get_lines() if len(line.get_xdata()) == 1]
    assert marker.get_xdata()[0] == pytest.approx(20.0)
    assert marker.get_ydata()[0] == pytest.approx(100 * 19 / 55)
    assert "Gini coefficient" in ax.get_title()


# ----- win-back gains ------------------------------------------------------------------------------------
def test_winback_gains_by_hand():
    """Rank order 1, 2, 3 with net values 30, 10, -5 and cost 5 each: spent 0, 5, 10, 15; expected
    0, 30, 40, 35. The best stop is after two customers (40), whatever order the rows come in."""
    campaign = pd.DataFrame({"rank": [3, 1, 2], "expected_value": [-5.0, 30.0, 10.0],
                             "contact_cost": 5.0}, index=["c", "a", "b"])
    campaign.attrs["clvmodels"] = {"campaign": {"budget": 7.0}, "currency": "EUR"}
    gains = P.winback_gains(campaign)
    np.testing.assert_allclose(gains["cumulative_cost"], [0, 5, 10, 15])
    np.testing.assert_allclose(gains["cumulative_value"], [0, 30, 40, 35])
    ax = P.plot_winback_gains(campaign)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "highest: 40 EUR after 2 customers" in labels
    assert "budget 7 EUR: 30 EUR expected" in labels  # 7 buys one contact
    assert ax.get_xlabel() == "Cumulative contact cost (EUR)"
    budget = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert budget[0].get_xdata()[0] == 7.0


def test_winback_gains_refuses_bad_lists():
    with pytest.raises(DataError, match="contact_cost"):
        P.winback_gains(pd.DataFrame({"expected_value": [1.0]}))
    with pytest.raises(DataError, match="negative"):
        P.winback_gains(pd.DataFrame({"expected_value": [1.0], "contact_cost": [-1.0]}, index=["x"]))
    with pytest.raises(DataError, match="missing"):
        P.winback_gains(pd.DataFrame({"expected_value": [np.nan], "contact_cost": [1.0]}, index=["x"]))


def test_winback_gains_of_a_real_campaign_counts_each_selected_customer_once(bg, gg, cal):
    import clvmodels

    lapsed = clvmodels.lapsed_customers(cal, window=26, window_unit="W", model=bg)
    campaign = clvmodels.winback_targets(lapsed, bg, gg, uplift=0.05,
                                         sequence=[("e-mail", 0.05, 0), ("reminder e-mail", 0.05, 14)],
                                         margin=0.3, horizon=52, discount_rate=0.10, budget=20, seed=1,
                                         include_rejected=True)
    gains = P.winback_gains(campaign)
    chosen = campaign["selected"].to_numpy(bool)
    k = int(chosen.sum())
    assert chosen[:k].all()  # the selection is a prefix of the ranking here (one sequence)
    assert gains["cumulative_value"].iloc[k] == pytest.approx(campaign.loc[chosen, "expected_value"].sum())
    assert gains["cumulative_cost"].iloc[k] == pytest.approx(campaign.loc[chosen, "contact_cost"].sum())
    ax = P.plot_winback_gains(campaign)
    assert any(t.get_text().startswith("budget 20") for t in ax.get_legend().get_texts())


# ----- readability fixes ------------------------------------------------------------------------------------
def test_currency_comes_from_the_argument_or_the_frame():
    frame = pd.DataFrame({"clv": [1.0, 5.0, 50.0, 500.0]})
    assert P.plot_value_distribution(frame).get_ylabel().startswith("CLV (currency of the data)")
    frame.attrs["clvmodels"] = {"currency": "EUR"}
    assert P.plot_value_distribution(frame).get_ylabel().startswith("CLV (EUR)")
    assert P.plot_value_distribution(frame, currency="USD").get_ylabel().startswith("CLV (USD)")
    with pytest.raises(DataError, match="currency"):
        P.plot_value_distribution(frame, currency="")
    ratio = pd.DataFrame({"ltv_cac": [2.0, 0.5]}, index=pd.Index(["a", "b"], name="channel"))
    ratio.attrs["clvmodels"] = {"currency": "EUR"}
    ax = P.plot_value_by_group(ratio, "ltv_cac")
    assert "EUR" not in ax.get_xlabel()  # a ratio is not money
    assert ax.get_title() == "LTV:CAC by channel" and ax.get_ylabel() == "Channel"


def test_history_alive_marks_the_calibration_end_and_dates_carry_years(bg, cal):
    from clvmodels.datasets import load_cdnow_transactions

    tx = load_cdnow_transactions()
    ax = P.plot_history_alive(bg, tx, 1, end="1998-06-30", calibration_end=cal, n_draws=20)
    ax.figure.canvas.draw()
    cut = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    end = pd.Timestamp(cal.attrs["clvmodels"]["observation_end"])
    assert len(cut) == 1 and pd.Timestamp(cut[0].get_xdata()[0]) == end
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert labels and all(any(str(year) in label for year in (1997, 1998)) for label in labels)
    same = P.plot_history_alive(bg, tx, 1, end="1998-06-30", calibration_end="1997-09-30", n_draws=20)
    (cut,) = [line for line in same.get_lines() if line.get_linestyle() == "--"]
    assert pd.Timestamp(cut.get_xdata()[0]) == end
    with pytest.raises(DataError, match="calibration_end"):
        P.plot_history_alive(bg, tx, 1, calibration_end="not a date")


def test_frequency_recency_colour_scale_is_logarithmic(bg, cal):
    ax = P.plot_frequency_recency_matrix(bg, cal, horizon=52)
    image = ax.images[0]
    top = np.nanmax(np.asarray(image.get_array()))
    assert isinstance(image.norm, matplotlib.colors.LogNorm)
    assert image.norm.vmax == top and image.norm.vmin == pytest.approx(top * 10.0 ** -P.grids.COLOR_DECADES)


def test_value_axis_with_negative_values_reads_as_round_numbers():
    """Net values of -30 to 2,000 with median |value| 15: an asinh axis linear within about 15 of
    zero, ticks at 0, -20 and the powers of ten 100 and 1,000 (none inside the linear band)."""
    frame = pd.DataFrame({"net_value": [2000.0, 15.0, 15.0, 10.0, -30.0]})
    ax = P.plot_value_distribution(frame, "net_value", currency="USD")
    assert ax.get_yscale() == "asinh" and ax.yaxis.get_transform().linear_width == 15.0
    low, high = ax.get_ylim()
    shown = [t for t in ax.get_yticks() if low <= t <= high]
    assert {0.0, -20.0, 100.0, 1000.0} <= set(shown)
    assert all(t == 0 or abs(t) >= 15.0 for t in shown)
    ax.figure.canvas.draw()
    labels = {t.get_text() for t in ax.get_yticklabels()}
    assert {"0", "100", "1,000"} <= labels and not any("^" in label for label in labels)
