"""Referral value in customer_value: realised credit to the referrer, future referrals, intervals."""

import numpy as np
import pandas as pd
import pytest

from clvmodels.value.customer_value import customer_value, value_run
from clvmodels.value.economics import Economics
from clvmodels.value.expected import discounted_alive_time, new_customer_value
from clvmodels.value.referrals import Referrals, fit_referral_rates
from test_value_support import fixed_models

BG = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
GG = {"p": 6.25, "q": 3.74, "gamma": 15.44}
SETTINGS = dict(margin=0.3, horizon=104, discount_rate=0.1)


@pytest.fixture(scope="module")
def setting():
    rng = np.random.default_rng(11)
    n = 400
    x = rng.poisson(2, n)
    T = rng.uniform(20, 40, n).round(1)
    summary = pd.DataFrame(
        {"frequency": x, "recency": np.where(x > 0, (rng.uniform(0, 1, n) * T).round(1), 0.0),
         "T": T, "monetary_value": np.where(x > 0, rng.gamma(5, 6, n), 0.0),
         "channel": rng.choice(["web", "shop"], n), "acquisition_cost": 10.0},
        index=pd.Index([f"c{i:03d}" for i in range(n)], name="customer_id"))
    summary.attrs["clvmodels"] = {"time_unit": "W", "observation_end": "2024-06-30"}
    # c000 refers three customers, c001 one, c002 refers c000; everyone else refers nobody
    table = pd.DataFrame({"referrer_id": ["c000", "c000", "c000", "c001", "c002"],
                          "referred_id": ["c010", "c011", "c012", "c013", "c000"],
                          "date": "2024-03-01"})
    return summary, table, fixed_models(BG, GG, time_unit="W")


def test_realised_part_credits_the_referred_customers_margin(setting):
    """Referral value = share x (realised + expected future margin) of the referred customers
    + E[referral rate] x E[discounted alive time] x value of a new customer."""
    summary, table, (bg, gg) = setting
    out = customer_value(bg, gg, summary, referrals=Referrals(table, share=0.5), uncertainty=None,
                         **SETTINGS)
    without = customer_value(bg, gg, summary, uncertainty=None, **SETTINGS)
    assert (without["referral_value"] == 0).all()
    np.testing.assert_allclose(out["clv"], without["clv"])  # own value is unchanged

    econ = Economics(**SETTINGS).resolve("W")
    counts = pd.Series(0.0, index=summary.index).add(table["referrer_id"].value_counts(), fill_value=0)
    rates = fit_referral_rates(counts.to_numpy(), summary["T"].to_numpy())
    point = lambda params: {k: np.array([[v]]) for k, v in params.items()}  # noqa: E731
    vnew = new_customer_value(econ, point(BG), point(GG))[0, 0]
    alive = discounted_alive_time(*BG.values(), summary["frequency"].to_numpy(float),
                                  summary["recency"].to_numpy(float), summary["T"].to_numpy(float),
                                  econ.horizon, econ.discount_rate)
    future = rates.posterior_mean(counts.to_numpy(), summary["T"].to_numpy()) * alive * vnew
    realised = pd.Series(0.0, index=summary.index)
    for referrer, referred in zip(table["referrer_id"], table["referred_id"]):
        realised[referrer] += 0.5 * without.loc[referred, "clv"]
    np.testing.assert_allclose(out["referral_value"], realised + future, rtol=1e-9)
    assert out.loc["c000", "referrals_made"] == 3 and out.loc["c010", "referrals_made"] == 0
    # who referred more is expected to refer more: shrunk, but above the population rate
    assert future[0] / alive[0] > rates.population_rate * vnew
    np.testing.assert_allclose(out["net_value"], out["clv"] + out["referral_value"] - 10.0)


@pytest.mark.parametrize("uncertainty", ["expected", "predictive"])
def test_referral_intervals_and_group_totals(setting, uncertainty):
    """Referrers' intervals combine their own draws with the credited ones draw by draw: the
    interval of a referrer's referral value contains the point value, and group totals of referral value
    equal the sum of the customers' referral values (credit goes to the referrer's group)."""
    summary, table, _ = setting
    bg, gg = fixed_models(BG, GG, time_unit="W", bg_cov_log=np.eye(4) * 0.01,
                          gg_cov_log=np.eye(3) * 0.01)
    run = value_run(bg, gg, summary, referrals=table, uncertainty=uncertainty, n_draws=200, seed=3,
                    rollup_by=["channel"], **SETTINGS)
    out = run.customers
    # a non-referrer's future referrals are mostly none: the predictive interval of c005 is [0, 0]
    # around an expectation of ~0.1, so containment is checked there for the expected kind only
    for who in ("c000", "c002", "c005") if uncertainty == "expected" else ("c000", "c002"):
        assert out.loc[who, "referral_value_lower"] <= out.loc[who, "referral_value"] \
            <= out.loc[who, "referral_value_upper"]
    assert out.loc["c000", "referral_value_lower"] > out.loc["c005", "referral_value_lower"]
    by = run.rollup("channel")
    sums = out.groupby(summary["channel"])["referral_value"].sum()
    np.testing.assert_allclose(by["referral_value"], sums, rtol=1e-9)
    np.testing.assert_allclose(by["net_value"], out.groupby(summary["channel"])["net_value"].sum(),
                               rtol=1e-9)
