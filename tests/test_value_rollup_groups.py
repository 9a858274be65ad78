"""Rollups by several columns, the future-value columns, and the spend-frequency check."""

import numpy as np
import pandas as pd
import pytest

from clvmodels.errors import DataError
from clvmodels.value import spend_frequency_check
from clvmodels.value.customer_value import value_run
from clvmodels.value.rollup import value_rollup
from test_value_referral_accounting import BG, GG, _world
from test_value_support import cdnow_summary, fixed_models

SETTINGS = dict(margin=0.3, horizon=52, discount_rate=0.1)


@pytest.fixture(scope="module")
def world():
    summary, table = _world(np.random.default_rng(21), 200, 30)
    return summary, table, fixed_models(BG, GG, time_unit="W")


def test_rollup_by_two_columns_is_a_multiindex_of_the_combinations(world):
    """value_rollup(by=["channel", "cohort"]): one row per (channel, cohort) that occurs, a
    MultiIndex with those level names; each row's totals are the sums of its customers' columns,
    and a one-element list is the same as the column name."""
    summary, table, models = world
    run = value_run(*models, summary, referrals=table, n_draws=30,
                    rollup_by=[("channel", "cohort"), "channel"], **SETTINGS)
    both = value_rollup(run, ["channel", "cohort"])
    assert isinstance(both.index, pd.MultiIndex)
    assert list(both.index.names) == ["channel", "cohort"]
    combos = summary.groupby(["channel", "cohort"]).size()
    assert both["customers"].to_dict() == combos.to_dict()
    sums = run.customers.groupby([summary["channel"], summary["cohort"]])[
        ["net_value", "future_referral_value", "future_value", "clv"]].sum()
    for column in sums.columns:
        np.testing.assert_allclose(both.loc[sums.index, column], sums[column], rtol=1e-10)
    attributed = value_rollup(run, ["channel", "cohort"], attribution=True)
    np.testing.assert_allclose(
        attributed.loc[sums.index, "net_value"],
        run.customers.groupby([summary["channel"], summary["cohort"]])["attributed_net_value"].sum(),
        rtol=1e-10)
    pd.testing.assert_frame_equal(value_rollup(run, ["channel"]), value_rollup(run, "channel"))
    assert both.attrs["clvmodels"]["rollup_by"] == ["channel", "cohort"]
    with pytest.raises(DataError, match=r"not \('cohort', 'channel'\)"):
        run.rollup(["cohort", "channel"])
    with pytest.raises(DataError, match="cannot roll up by 'region'"):
        value_rollup((*models, summary), ["channel", "region"], uncertainty=None, **SETTINGS)
    with pytest.raises(DataError, match="by must be None, a column name or a list"):
        run.rollup(3)


def test_future_value_ranks_what_is_still_to_come(world):
    """future_value = expected future margin + future referral value: a customer with a large past
    and nothing to come ranks below one with little past and much to come, whatever their clv."""
    summary, _, models = world
    pair = pd.DataFrame({"frequency": [40, 3], "recency": [2.0, 38.0], "T": [39.0, 39.0],
                         "monetary_value": [50.0, 30.0], "revenue_to_date": [2050.0, 120.0]},
                        index=["big_past", "to_come"])
    both = pd.concat([summary[pair.columns], pair])
    both.index.name = "customer_id"
    both.attrs["clvmodels"] = {"time_unit": "W"}
    out = value_run(*models, both, uncertainty=None, **SETTINGS).customers
    assert out.loc["big_past", "clv"] > out.loc["to_come", "clv"]
    assert out.loc["big_past", "future_value"] < out.loc["to_come", "future_value"]
    np.testing.assert_allclose(out["future_value"], out["expected_future_margin"])  # no referrals


def test_spend_frequency_check_reproduces_the_gamma_gamma_note_on_cdnow():
    """Fader & Hardie (2013), "The Gamma-Gamma Model of Monetary Value", section 1: among the 946
    repeat buyers of the CDNOW sample the correlation of average spend and number of repeat
    purchases is 0.11 (to 0.01)."""
    check = spend_frequency_check(cdnow_summary())
    assert check.n_repeat_buyers == 946
    assert check.correlation == pytest.approx(0.11, abs=0.01)
    assert "consistent with Gamma-Gamma" in check.note


def test_spend_frequency_check_flags_spend_that_grows_with_frequency():
    """Spend per purchase proportional to frequency (correlation near 1) is flagged; too few
    repeat buyers are refused."""
    x = np.arange(0, 50)
    summary = pd.DataFrame({"frequency": x, "monetary_value": np.where(x > 0, 10.0 * x + 1, 0.0)})
    check = spend_frequency_check(summary)
    assert check.correlation > 0.99 and "doubtful" in check.note
    with pytest.raises(DataError, match="at least 3 repeat buyers"):
        spend_frequency_check(summary.iloc[:3])
