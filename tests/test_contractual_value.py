"""Contractual customer value: the web host by hand, per-subscriber accounting, per-draw rollups
that conserve, refusals.

Timing throughout (clvmodels.value.contractual): payment at the start of each period, the first
at acquisition; an active subscriber is valued at the start of their current (paid) period.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clvmodels.errors import DataError
from clvmodels.formulas import sbg
from clvmodels.models.shifted_beta_geo import ShiftedBetaGeoModel
from clvmodels.value.contractual import ContractTerms, break_even_table, contractual_value, payback_periods

PRICE, MARGIN, COMMISSION = 95.4, 0.6, 95.0   # the web host (seeds digest section 2)
MPP = PRICE * MARGIN                          # 57.24 a year


def exact_model(alpha, beta, pool=None):
    """Fitted on cohorts whose counts are 1e9 x S(t) rounded: estimates (alpha, beta) to ~1e-6."""
    pool = pool or {"all": (alpha, beta)}
    rows = [np.round(1e9 * sbg.survival(a, b, np.arange(61))) for a, b in pool.values()]
    table = pd.DataFrame(rows, index=pd.Index(list(pool), name="channel"))
    table.attrs["clvmodels"] = {"time_unit": "Y", "period": "Y"}
    model = ShiftedBetaGeoModel(pool_by="channel" if len(pool) > 1 else None, shrinkage=None).fit(table)
    return model


def tenures(renewals, churned, **columns):
    frame = pd.DataFrame({"renewals": renewals, "churned": churned, **columns},
                         index=pd.Index([f"c{i}" for i in range(len(renewals))], name="customer_id"))
    frame.attrs["clvmodels"] = {"time_unit": "Y", "period": "Y"}
    return frame


def hand_del(z, alpha=2, beta=4):
    """DEL of sBG(2, 4) at discount factor z, by hand: S(t) = 20/((t+4)(t+5)) = 20 (1/(t+4) -
    1/(t+5)) and sum_{t>=0} z^t/(t+m) = z^-m (-ln(1-z) - sum_{j<m} z^j/j)."""
    def tail(m):
        return z**-m * (-np.log(1 - z) - sum(z**j / j for j in range(1, m)))
    return 20 * (tail(4) - tail(5))


def test_web_host_break_even_commission_by_hand():
    """The web host: 95.4 a year, 60% margin (57.24 a year), a 95 commission, customers staying
    5 years on average: sBG(alpha=2, beta=4), E[T] = (alpha+beta-1)/(alpha-1) = 5.

    Undiscounted: lifetime value = break-even commission = 5 x 57.24 = 286.20; net of the
    commission 191.20; LTV:CAC = 286.2/95 = 3.0126; year 1 alone 57.24 - 95 = -37.76 (the issue's
    figure); the commission is paid back by the 2nd payment (57.24 < 95 <= 114.48), which a new
    customer makes with probability S(1) = beta/(alpha+beta) = 2/3.
    At 10% a year: break-even = 57.24 x DEL with DEL by hand (hand_del)."""
    model = exact_model(2.0, 4.0)
    row = break_even_table(model, ContractTerms(margin=MARGIN, price=PRICE, acquisition_cost=COMMISSION)).iloc[0]
    assert row["margin_per_period"] == pytest.approx(57.24, rel=1e-12)
    assert row["del"] == pytest.approx(5.0, rel=1e-5)
    assert row["break_even_acquisition_cost"] == pytest.approx(286.2, rel=1e-5)
    assert row["net_value"] == pytest.approx(191.2, rel=1e-5)
    assert row["ltv_cac"] == pytest.approx(286.2 / 95, rel=1e-5)
    assert row["first_period_net"] == pytest.approx(-37.76, abs=1e-9)
    assert row["payback_periods"] == 2 and row["p_payback"] == pytest.approx(2 / 3, rel=1e-5)
    discounted = break_even_table(model, ContractTerms(margin=MARGIN, price=PRICE, acquisition_cost=COMMISSION,
                                                       discount_rate=0.1)).iloc[0]
    assert discounted["break_even_acquisition_cost"] == pytest.approx(57.24 * hand_del(1 / 1.1), rel=1e-5)
    assert 95.0 < discounted["break_even_acquisition_cost"] < 286.2


def test_existing_subscribers_by_hand():
    """sBG(2, 4), undiscounted, the web host's terms:
    - active after 3 renewals: paid 4 x 57.24 = 228.96; expects (beta+3)/(alpha-1) = 7 more
      renewals, 400.68; lifetime 629.64; net 534.64; LTV:CAC 629.64/95;
    - left after 3 renewals: 228.96, nothing to come, net 133.96;
    - left after its first year: 57.24 - 95 = -37.76, never paid back (needs 2 payments);
    - active after 1 renewal: 114.48 + 57.24 x (4+1)/(2-1) = 400.68.
    At 10% a year the active one's future is 57.24 x DERL(3)/1.1 (FH 2010's DERL is valued at
    the renewal decision, one period after the start of the current period)."""
    model = exact_model(2.0, 4.0)
    table = tenures([3, 3, 0, 1], [False, True, True, False])
    terms = ContractTerms(margin=MARGIN, price=PRICE, acquisition_cost=COMMISSION)
    out = contractual_value(model, table, terms).customers
    np.testing.assert_allclose(out["realised_margin"], [228.96, 228.96, 57.24, 114.48], rtol=1e-12)
    np.testing.assert_allclose(out["future_margin"], [400.68, 0, 0, 286.2], rtol=1e-5)
    np.testing.assert_allclose(out["net_value"], [534.64, 133.96, -37.76, 305.68], rtol=1e-5)
    np.testing.assert_allclose(out["ltv_cac"], np.array([629.64, 228.96, 57.24, 400.68]) / 95, rtol=1e-5)
    assert out["paid_back"].tolist() == [True, True, False, True]
    discounted = contractual_value(model, table, ContractTerms(margin=MARGIN, price=PRICE, discount_rate=0.1))
    expected = 57.24 * float(sbg.derl(2.0, 4.0, 3, 0.1)) / 1.1
    assert discounted.customers["future_margin"].iloc[0] == pytest.approx(expected, rel=1e-5)
    assert discounted.customers.attrs["clvmodels"]["timing"] == "payment at the start of each period"


def test_monthly_discount_conversion_and_price_column():
    """A monthly plan at 10% a year discounts by d = 1.1^(1/12) - 1 per month; prices from the
    tenure table's price column; acquisition cost from a column."""
    model = exact_model(2.0, 4.0)
    model.time_unit_ = "M"   # the same parameters read as monthly renewals
    table = tenures([2, 5], [False, False], price=[10.0, 20.0], commission=[30.0, 0.0])
    table.attrs["clvmodels"] = {"time_unit": "M", "period": "M"}
    out = contractual_value(model, table, ContractTerms(margin=0.5, acquisition_cost="commission",
                                                        discount_rate=0.1)).customers
    d = 1.1 ** (1 / 12) - 1
    for i, (n, mpp) in enumerate(((2, 5.0), (5, 10.0))):
        assert out["future_margin"].iloc[i] == pytest.approx(mpp * float(sbg.expected_renewals(2, 4, n, np.inf, d)),
                                                             rel=1e-5)
    assert out["acquisition_cost"].tolist() == [30.0, 0.0]
    assert np.isnan(out["ltv_cac"].iloc[1]) and out["payback_periods"].tolist() == [6.0, 0.0]


@pytest.mark.parametrize("uncertainty", ["expected", "predictive"])
def test_rollups_conserve_draw_by_draw(uncertainty):
    """Groups (channel) sum to the total in every draw and for the point values; each group's
    per-draw expected total is the sum of its customers' values in that draw (recomputed here
    from the model's own parameter draws); realised margin, acquisition cost and net value add up."""
    model = exact_model(2.0, 4.0, pool={"web": (2.0, 4.0), "partner": (1.5, 2.0)})
    rng = np.random.default_rng(0)
    n = 500
    table = tenures(rng.integers(0, 6, n), rng.random(n) < 0.4, channel=rng.choice(["web", "partner"], n),
                    cohort=rng.choice(["2020", "2021", "2022"], n))
    terms = ContractTerms(margin=MARGIN, price=PRICE, acquisition_cost=COMMISSION, discount_rate=0.1)
    result = contractual_value(model, table, terms, by="cohort", uncertainty=uncertainty, n_draws=64, seed=9)
    draws, groups, customers = result.draws, result.groups, result.customers
    np.testing.assert_allclose(draws.drop(columns="total").sum(axis=1), draws["total"], rtol=1e-12)
    assert groups.loc["total", "customers"] == n == groups.drop(index="total")["customers"].sum()
    for col in ("realised_margin", "future_margin", "acquisition_cost", "net_value"):
        assert groups.loc["total", col] == pytest.approx(groups.drop(index="total")[col].sum(), rel=1e-12)
        assert groups.loc["total", col] == pytest.approx(customers[col].sum(), rel=1e-12)
    assert groups.loc["total", "net_value"] == pytest.approx(
        customers["realised_margin"].sum() + customers["future_margin"].sum() - customers["acquisition_cost"].sum())
    if uncertainty == "expected":
        from clvmodels.models.scoring import draw_streams

        (params,), _ = draw_streams([model], 64, 9)
        P = params.for_customers(model.segment_codes(table))
        per_draw = np.where(table["churned"].to_numpy(), 0.0, sbg.expected_renewals(
            P["alpha"], P["beta"], table["renewals"].to_numpy(float), np.inf, 0.1)) * 57.24
        for label in ("2020", "2021", "2022"):
            mask = (table["cohort"] == label).to_numpy()
            np.testing.assert_allclose(draws[label], per_draw[:, mask].sum(axis=1), rtol=1e-10)
    lo, hi = groups["future_margin_lower"], groups["future_margin_upper"]
    assert (lo <= hi).all() and (groups["future_margin_upper"] > 0).all()


def test_same_seed_same_numbers():
    model = exact_model(2.0, 4.0)
    table = tenures([0, 1, 2, 3], [False, False, True, False], channel=list("abab"))
    terms = ContractTerms(margin=MARGIN, price=PRICE, discount_rate=0.1)
    first = contractual_value(model, table, terms, by="channel", uncertainty="predictive", seed=3)
    again = contractual_value(model, table, terms, by="channel", uncertainty="predictive", seed=3)
    pd.testing.assert_frame_equal(first.groups, again.groups)
    pd.testing.assert_frame_equal(first.draws, again.draws)


def test_payback_periods_by_hand():
    """ceil(cost / margin per period): 95/57.24 -> 2; 114.48/57.24 = 2 exactly -> 2; 0 cost -> 0;
    a positive cost with no margin never pays back."""
    np.testing.assert_array_equal(payback_periods([95.0, 114.48, 0.0, 5.0], [57.24, 57.24, 57.24, 0.0]),
                                  [2.0, 2.0, 0.0, np.inf])


def test_refusals():
    model = exact_model(2.0, 4.0)
    heavy_tail = exact_model(0.7, 1.2)
    table = tenures([1], [False])
    with pytest.raises(DataError, match="margin must be"):
        ContractTerms(margin=60)
    with pytest.raises(DataError, match="annual rate"):
        ContractTerms(margin=0.6, discount_rate=1.5)
    with pytest.raises(DataError, match="no price"):
        contractual_value(model, table, ContractTerms(margin=0.6))
    with pytest.raises(DataError, match="not a column"):
        contractual_value(model, table, ContractTerms(margin=0.6, price=1.0, acquisition_cost="cpa"))
    with pytest.raises(DataError, match="price must be a number >= 0.*c0"):
        contractual_value(model, tenures([1], [False], price=[-1.0]), ContractTerms(margin=0.6))
    with pytest.raises(DataError, match="undiscounted lifetime value is infinite"):
        break_even_table(heavy_tail, ContractTerms(margin=0.6, price=95.4))
    with pytest.raises(DataError, match="numeric price"):
        break_even_table(model, ContractTerms(margin=0.6))


def test_malformed_tenures_are_refused_by_the_model():
    model = exact_model(2.0, 4.0)
    terms = ContractTerms(margin=MARGIN, price=PRICE)
    with pytest.raises(DataError, match="lacks column"):
        contractual_value(model, tenures([1], [False]).drop(columns="renewals"), terms)
    with pytest.raises(DataError, match="whole numbers >= 0"):
        contractual_value(model, tenures([-1], [False]), terms)
    with pytest.raises(DataError, match="DataFrame"):
        contractual_value(model, [1, 2], terms)
