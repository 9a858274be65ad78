"""The hand-checkable cases of the business texts (shared/seeds-digest.md), through the public API.

The purchase and spend models are fixed at parameters that make the arithmetic checkable by hand
(near-degenerate heterogeneity where a case describes "steady" customers); everything else --
realised margin, future margin, acquisition cost, rollups, LTV:CAC, break-even cost, payback --
is computed by the library.
"""

import numpy as np
import pandas as pd
import pytest

from clvmodels import rfm_summary
from clvmodels.value.customer_value import customer_value, value_run
from clvmodels.value.rollup import value_rollup
from test_value_support import fixed_models

# Web-hosting plan (digest, text 2): one payment of 95.4 a year. In years, a renewal rate of about
# one a year (lambda ~ Gamma(20, 19): E[1/lambda] = 19/19 = 1 year) and dropout p ~ Beta(21, 60)
# after each renewal: E[renewals] = E[1/p] = (a + b - 1)/(a - 1) = 80/20 = 4, so a customer pays
# 1 + 4 = 5 times, i.e. "stays about 5 years". Each payment is 95.4 (Gamma-Gamma with
# p = 100, q = 101, gamma = 95.4: population mean p gamma / (q - 1) = 95.4).
HOSTING_BG = {"r": 20.0, "alpha": 19.0, "a": 21.0, "b": 60.0}
HOSTING_GG = {"p": 100.0, "q": 101.0, "gamma": 95.4}
PLAN, COMMISSION = 95.4, 95.0


@pytest.fixture(scope="module")
def hosting_models():
    return fixed_models(HOSTING_BG, HOSTING_GG, time_unit="Y")


def _new_hosting_customers(n=3):
    """Customers who just signed up: first payment made, nothing else yet, 95 commission paid."""
    summary = pd.DataFrame(
        {"frequency": 0, "recency": 0.0, "T": 0.0, "monetary_value": 0.0,
         "revenue_to_date": PLAN, "acquisition_cost": COMMISSION},
        index=pd.Index([f"host{i}" for i in range(n)], name="customer_id"))
    summary.attrs["clvmodels"] = {"time_unit": "Y"}
    return summary


def _steady_customers_log():
    """2,000 steady customers, each buying once a month for two years (24 purchases from
    2023-01-01 to 2024-12-01, observation end 2024-12-31): channel A 150 a purchase, channel B
    100."""
    n = 2000
    ids = np.arange(n)
    channel = np.where(ids < n // 2, "A", "B")
    months = pd.date_range("2023-01-01", periods=24, freq="MS")
    return pd.DataFrame({
        "customer_id": np.repeat(ids, 24),
        "date": np.tile(months, n),
        "amount": np.repeat(np.where(channel == "A", 150.0, 100.0), 24),
        "channel": np.repeat(channel, 24),
    })


def test_two_thousand_customers_two_years_one_and_a_half_million_is_750_each():
    """Digest text 2: "2,000 steady customers, 2 years average tenure, 1.5M net profit -> 750 per
    customer", through the normal path: transaction log -> rfm_summary -> value_run. Channel A
    spends 24 x 150 = 3,600 and channel B 24 x 100 = 2,400; at a 25% margin that is 900 and 600
    of margin per customer, 1.5M in total, 750 each. Every purchase counts, the first included
    (issue 14: leaving out the first gave 23/24 x 750 = 718.75). Exact to 1e-9."""
    summary = rfm_summary(_steady_customers_log(), monetary_value_col="amount", time_unit="W",
                          observation_period_end="2024-12-31", attribute_cols=["channel"])
    assert (summary["frequency"] == 23).all()
    bg, gg = fixed_models({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
                          {"p": 6.25, "q": 3.74, "gamma": 15.44}, time_unit="W")
    settings = dict(margin=0.25, horizon=52, discount_rate=0.1, n_draws=20)
    run = value_run(bg, gg, summary, rollup_by=[None, "channel"], **settings)
    total = run.rollup(None)
    assert total.loc["all", "customers"] == 2000
    assert total.loc["all", "realised_margin"] == pytest.approx(1.5e6, rel=1e-9)
    assert run.rollup(None, per_customer=True).loc["all", "realised_margin"] == pytest.approx(750)
    by_channel = run.rollup("channel", per_customer=True)["realised_margin"]
    assert by_channel.to_dict() == pytest.approx({"A": 900.0, "B": 600.0})
    # the repeat purchases only, when the acquisition cost already nets out the first order
    repeat_only = value_run(bg, gg, summary, rollup_by=[None], first_purchase="excluded",
                            **settings).rollup(None, per_customer=True)
    assert repeat_only.loc["all", "realised_margin"] == pytest.approx(718.75, rel=1e-9)


def test_a_95_commission_on_a_95_4_plan_kept_five_years(hosting_models):
    """Digest text 2: an affiliate is paid 95 per sale of a 95.4/year plan; customers stay about
    5 years. Undiscounted over a century, a new customer's revenue is 5 x 95.4 = 477 (the
    break-even acquisition cost at a revenue margin of 1), i.e. LTV:CAC = 477 / 95 = 5.02.
    Tolerance 1e-4 relative (numerical integration; a century leaves ~1e-12 of customers alive)."""
    bg, gg = hosting_models
    summary = _new_hosting_customers()
    table = value_rollup((bg, gg, summary), None, per_customer=True, margin=1.0, horizon=100,
                         discount_rate=0.0, n_draws=20)
    row = table.loc["all"]
    assert row["breakeven_acquisition_cost"] == pytest.approx(5 * PLAN, rel=1e-4)
    assert row["clv"] == pytest.approx(5 * PLAN, rel=1e-4)
    assert row["ltv_cac"] == pytest.approx(5 * PLAN / COMMISSION, rel=1e-4)
    assert row["net_value"] == pytest.approx(5 * PLAN - COMMISSION, rel=1e-4)
    assert row["payback_period"] == 0.0  # the first payment (95.4) already covers the 95


def test_a_first_year_loss_that_turns_positive(hosting_models):
    """Digest texts 2 and 5: year 1 is a loss, later years pay it back. If each year of service
    costs the host 60 (cost per payment), a payment leaves 35.4: the signup loses
    35.4 - 95 = -59.6, the first year is still a loss, and a customer who stays the expected 5
    payments ends at 5 x 35.4 - 95 = 82 (tolerance 1e-4). The payback period is the horizon at
    which a new customer's expected net value crosses 0; valuing a new customer over exactly
    that horizon gives a net value of 0 (to 0.05 in currency, the payback grid's interpolation)."""
    bg, gg = hosting_models
    summary = _new_hosting_customers()
    settings = dict(margin=1.0, cost_per_transaction=60.0, discount_rate=0.0, uncertainty=None)
    at_signup = customer_value(bg, gg, summary, horizon=1e-9, **settings)
    assert at_signup["net_value"].iloc[0] == pytest.approx(PLAN - 60 - COMMISSION, abs=1e-6)
    first_year = customer_value(bg, gg, summary, horizon=1.0, **settings)
    assert first_year["net_value"].iloc[0] < 0
    lifetime = customer_value(bg, gg, summary, horizon=100.0, **settings)
    assert lifetime["net_value"].iloc[0] == pytest.approx(5 * (PLAN - 60) - COMMISSION, rel=1e-4)

    run = value_run(bg, gg, summary, horizon=100.0, rollup_by=[None], n_draws=20,
                    **{k: v for k, v in settings.items() if k != "uncertainty"})
    payback = run.rollup(None).loc["all", "payback_period"]
    assert 1.0 < payback < 5.0
    at_payback = customer_value(bg, gg, summary, horizon=payback, **settings)
    assert at_payback["net_value"].iloc[0] == pytest.approx(0.0, abs=0.05)


def test_a_commission_paid_out_of_the_first_payment_breaks_even_on_the_renewals(hosting_models):
    """Digest text 2 with the first payment netted out of the acquisition cost
    (Economics(first_purchase="excluded")): margin to date and a new customer's value both leave
    the first payment out, so the break-even commission is the 4 expected renewals alone,
    4 x 95.4 = 381.6 (undiscounted, tolerance 1e-4), one payment less than with the first
    payment counted."""
    bg, gg = hosting_models
    summary = _new_hosting_customers()
    settings = dict(margin=1.0, horizon=100, discount_rate=0.0, n_draws=20)
    excluded = value_rollup((bg, gg, summary), None, per_customer=True, first_purchase="excluded",
                            **settings).loc["all"]
    included = value_rollup((bg, gg, summary), None, per_customer=True, **settings).loc["all"]
    assert excluded["breakeven_acquisition_cost"] == pytest.approx(4 * PLAN, rel=1e-4)
    assert excluded["realised_margin"] == 0.0  # the signup payment is netted out
    assert included["breakeven_acquisition_cost"] - excluded["breakeven_acquisition_cost"] \
        == pytest.approx(PLAN, rel=1e-9)
    assert excluded["net_value"] == pytest.approx(4 * PLAN - COMMISSION, rel=1e-4)
