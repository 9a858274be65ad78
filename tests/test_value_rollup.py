"""Rollups: per-draw totals (not sums of per-customer bounds), consistency, LTV:CAC, payback."""

import numpy as np
import pandas as pd
import pytest

from clvmodels import BetaGeoModel, GammaGammaModel
from clvmodels.errors import DataError
from clvmodels.value.customer_value import value_run
from clvmodels.value.economics import Economics
from clvmodels.value.expected import new_customer_value
from clvmodels.value.rollup import value_rollup
from clvmodels.value.simulate import simulate_future_margin
from test_value_support import cdnow_summary as load_cdnow_summary
from test_value_support import fixed_models, pooled_models

CDNOW_BG = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
CDNOW_GG = {"p": 6.25, "q": 3.74, "gamma": 15.44}
SETTINGS = dict(margin=0.3, horizon=52, discount_rate=0.1)


@pytest.fixture(scope="module")
def cdnow():
    summary = load_cdnow_summary()
    rng = np.random.default_rng(5)
    summary["channel"] = rng.choice(["search", "tv", "partner"], len(summary), p=[0.5, 0.3, 0.2])
    summary["acquisition_cost"] = summary["channel"].map({"search": 20.0, "tv": 40.0, "partner": 15.0})
    return summary


@pytest.fixture(scope="module")
def fitted_run(cdnow):
    bg, gg = BetaGeoModel().fit(cdnow), GammaGammaModel().fit(cdnow)
    return value_run(bg, gg, cdnow, n_draws=200, seed=4, rollup_by=[None, "channel"], **SETTINGS)


def test_totals_add_up_to_the_customer_table(cdnow, fitted_run):
    customers, by_channel = fitted_run.customers, fitted_run.rollup("channel")
    sums = customers.groupby(cdnow["channel"])[
        ["realised_margin", "expected_future_margin", "clv", "net_value", "acquisition_cost"]].sum()
    pd.testing.assert_frame_equal(by_channel[sums.columns], sums, check_names=False, rtol=1e-10)
    assert by_channel["customers"].to_dict() == cdnow["channel"].value_counts().to_dict()
    total = fitted_run.rollup(None).loc["all"]
    assert total["net_value"] == pytest.approx(by_channel["net_value"].sum(), rel=1e-10)
    means = fitted_run.rollup("channel", per_customer=True)
    np.testing.assert_allclose(means["net_value_upper"] * means["customers"], by_channel["net_value_upper"])
    np.testing.assert_allclose(by_channel["ltv_cac"], by_channel["clv"] / by_channel["acquisition_cost"])
    # a pooled model: one new customer looks the same in every channel, only CAC differs
    breakeven = by_channel["breakeven_acquisition_cost"]
    np.testing.assert_allclose(breakeven, breakeven.iloc[0], rtol=1e-12)
    assert 0 < by_channel.loc["partner", "payback_period"] < by_channel.loc["search", "payback_period"]
    # a new tv customer is worth less than the 40 it costs within the year: no payback
    assert breakeven["tv"] < 40 and np.isnan(by_channel.loc["tv", "payback_period"])


def test_per_draw_totals_give_a_narrower_correct_interval_than_summed_bounds(cdnow):
    """Predictive interval of a channel's future margin at known parameters (no parameter
    uncertainty): customers' futures are independent, so the total is close to normal with
    variance the sum of the customers' variances (central limit theorem, ~1,200 customers). The
    rollup's 90% interval (400 per-draw sums, then quantiles) matches mean +- 1.645 sd (sd from
    1,000 further simulated futures per customer) within 15% of its width; adding up per-customer bounds -- the naive way -- gives an interval several
    times too wide (every customer at their 95% quantile at once)."""
    bg, gg = fixed_models(CDNOW_BG, CDNOW_GG, time_unit="W")
    run = value_run(bg, gg, cdnow, uncertainty="predictive", n_draws=400, seed=0,
                    rollup_by=["channel"], **SETTINGS)
    search = cdnow["channel"] == "search"
    row = run.rollup("channel").loc["search"]
    naive_width = (run.customers.loc[search, "expected_future_margin_upper"]
                   - run.customers.loc[search, "expected_future_margin_lower"]).sum()
    rollup_width = row["expected_future_margin_upper"] - row["expected_future_margin_lower"]

    part = cdnow[search]
    econ = Economics(**SETTINGS).resolve("W")
    sims = []
    rng = np.random.default_rng(99)
    x, t_x, T = (part[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    mbar = np.where(x > 0, part["monetary_value"].to_numpy(float), 0.0)
    for _ in range(2):  # 2 x 500 simulated futures of every customer
        bgp = {k: np.full((500, 1), v) for k, v in CDNOW_BG.items()}
        ggp = {k: np.full((500, 1), v) for k, v in CDNOW_GG.items()}
        sims.append(simulate_future_margin(rng, econ, bgp, ggp, x, t_x, T, mbar)[0])
    sd_total = np.sqrt(np.concatenate(sims).var(axis=0).sum())
    assert rollup_width == pytest.approx(2 * 1.6449 * sd_total, rel=0.15)
    assert row["expected_future_margin"] == pytest.approx(np.concatenate(sims).mean(axis=0).sum(),
                                                          rel=0.03)
    assert naive_width > 4 * rollup_width


def test_rollup_sources_and_errors(cdnow, fitted_run):
    bg, gg = fixed_models(CDNOW_BG, CDNOW_GG, time_unit="W")
    direct = value_rollup((bg, gg, cdnow), "channel", n_draws=50, seed=1, **SETTINGS)
    assert list(direct.index) == ["partner", "search", "tv"] and direct.index.name == "channel"
    with pytest.raises(DataError, match="summing its per-customer bounds would give a wrong interval"):
        value_rollup(fitted_run.customers, "channel")
    with pytest.raises(DataError, match=r"accumulated totals by \[None, 'channel'\], not 'cohort'"):
        fitted_run.rollup("cohort")
    with pytest.raises(DataError, match="cannot roll up by 'cohort'"):
        value_rollup((bg, gg, cdnow), "cohort", n_draws=10, **SETTINGS)
    narrow = fitted_run.rollup("channel", level=0.5)
    wide = fitted_run.rollup("channel")
    assert (narrow["net_value_upper"] < wide["net_value_upper"]).all()


@pytest.mark.slow  # two hierarchical NUTS fits: 10-20 s
@pytest.mark.filterwarnings("ignore::clvmodels.errors.ConvergenceWarning")  # short chains, for speed
def test_models_pooled_by_channel_value_each_channel_with_its_own_parameters(cdnow):
    """Bayesian models pooled by channel: the break-even cost of a channel is the posterior mean of
    the new-customer value at that channel's parameters, and its payback period is where a new
    customer's value at the posterior means reaches the channel's acquisition cost."""
    kw = dict(method="bayes", pool_by="channel", chains=2, draws=100, tune=200, seed=2)
    bg, gg = BetaGeoModel(**kw).fit(cdnow), GammaGammaModel(**kw).fit(cdnow)
    run = value_run(bg, gg, cdnow, n_draws=100, rollup_by=["channel"], **SETTINGS)
    table = run.rollup("channel")
    econ = Economics(**SETTINGS).resolve("W")
    for code, channel in enumerate(bg.segments_):
        codes = np.array([code])
        vnew = new_customer_value(econ, bg.parameter_draws(100).for_customers(codes),
                                  gg.parameter_draws(100).for_customers(codes))
        assert table.loc[channel, "breakeven_acquisition_cost"] == pytest.approx(vnew.mean(), rel=1e-9)
        cac = table.loc[channel, "acquisition_cost"] / table.loc[channel, "customers"]
        bg_point, gg_point = (m.point_draws().for_customers(codes) for m in (bg, gg))
        payback = table.loc[channel, "payback_period"]
        if new_customer_value(econ, bg_point, gg_point)[0, 0] < cac:
            assert np.isnan(payback)  # not paid back within the horizon
        else:
            at_payback = new_customer_value(econ, bg_point, gg_point, horizon=np.array([[payback]]))
            assert 0 < payback < 52 and at_payback[0, 0] == pytest.approx(cac, abs=1e-3)


def test_models_pooled_by_segment_give_each_customer_their_segments_parameters(cdnow, tmp_path):
    """Models pooled by channel with known (exact) parameters per channel: every customer is
    valued as by a pooled model at their channel's parameters (to 1e-7: the posterior draws carry
    1e-9 noise), and each channel's break-even cost
    and payback are those of that channel's new customer."""
    bg_by = {"partner": CDNOW_BG, "search": {**CDNOW_BG, "r": 0.4}, "tv": {**CDNOW_BG, "b": 1.5}}
    gg_by = {"partner": CDNOW_GG, "search": CDNOW_GG, "tv": {**CDNOW_GG, "gamma": 25.0}}
    bg, gg = pooled_models(bg_by, gg_by, "channel", tmp_path)
    run = value_run(bg, gg, cdnow, n_draws=20, seed=0, rollup_by=["channel"], **SETTINGS)
    table = run.rollup("channel")
    for channel in ("partner", "search", "tv"):
        rows = cdnow["channel"] == channel
        alone = fixed_models(bg_by[channel], gg_by[channel], time_unit="W")
        single = value_run(*alone, cdnow[rows], uncertainty=None, rollup_by=[None], **SETTINGS)
        np.testing.assert_allclose(run.customers.loc[rows, "expected_future_margin"],
                                   single.customers["expected_future_margin"], rtol=1e-7)
        expected = single.rollup(None).loc["all"]
        assert table.loc[channel, "breakeven_acquisition_cost"] == pytest.approx(
            expected["breakeven_acquisition_cost"], rel=1e-7)
        np.testing.assert_allclose(table.loc[channel, "payback_period"], expected["payback_period"],
                                   rtol=1e-7)
    assert table["breakeven_acquisition_cost"].nunique() == 3
