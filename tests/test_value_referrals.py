"""Referrals: table validation and the Gamma-Poisson referral-rate model."""

import numpy as np
import pandas as pd
import pytest

from clvmodels.errors import DataError
from clvmodels.value.referrals import Referrals, fit_referral_rates, link_referrals


@pytest.fixture
def summary():
    s = pd.DataFrame({"frequency": [1, 0, 2, 0], "recency": [2.0, 0, 5, 0], "T": [10.0, 8, 9, 1]},
                     index=pd.Index(["a", "b", "c", "d"], name="customer_id"))
    s.attrs["clvmodels"] = {"time_unit": "W", "observation_end": "2024-06-30"}
    return s


def _table(rows):
    return pd.DataFrame(rows, columns=["referrer_id", "referred_id", "date"])


def test_links_map_ids_to_rows_and_count_referrals(summary):
    links = link_referrals(Referrals(_table([("a", "b", "2024-03-01"), ("a", "d", "2024-06-20"),
                                             ("c", "a", "2024-01-02")]), share=0.5), summary)
    np.testing.assert_array_equal(links.referrer_of, [2, 0, -1, 0])
    np.testing.assert_array_equal(links.counts, [2, 0, 1, 0])
    np.testing.assert_array_equal(links.referrers, [0, 2])
    assert links.share == 0.5


@pytest.mark.parametrize(
    "rows, match",
    [
        ([("a", "a", "2024-03-01")], r"self-referrals.*'a'"),
        ([("a", "b", "2024-03-01"), ("a", "b", "2024-03-02")], r"duplicate referral rows.*'b'"),
        ([("a", "b", "2024-03-01"), ("c", "b", "2024-03-02")], r"referred by more than one.*'b'"),
        ([("a", "zz", "2024-03-01")], r"referred customers that are not customers.*'zz'"),
        ([("yy", "b", "2024-03-01")], r"referrers that are not customers.*'yy'"),
        ([("a", "b", "2024-07-05")], r"after the summary's observation end 2024-06-30.*'b'"),
        ([("a", "b", "not a date")], r"not dates.*'b'"),
        ([("a", None, "2024-03-01")], "with a missing referrer or referred id"),
    ],
)
def test_bad_referral_tables_are_refused(summary, rows, match):
    with pytest.raises(DataError, match=match):
        link_referrals(Referrals(_table(rows)), summary)


def test_missing_columns_and_bad_share_are_refused(summary):
    with pytest.raises(DataError, match=r"lacks column\(s\) \['date'\]"):
        link_referrals(Referrals(_table([("a", "b", "2024-03-01")]).drop(columns="date")), summary)
    ok = link_referrals(Referrals(_table([("a", "b", "x")]).drop(columns="date"), date_col=None),
                        summary)
    assert ok.counts[0] == 1
    with pytest.raises(DataError, match=r"share must be a number in \[0, 1\]"):
        Referrals(_table([]), share=1.5)


def test_gamma_poisson_fit_recovers_known_parameters():
    """Simulated referral counts with rate ~ Gamma(shape 0.8, rate 40) per week over exposures of
    10-100 weeks: the maximum-likelihood fit lands within 15% of the truth (50,000 customers; the
    standard errors are ~3-4%)."""
    rng = np.random.default_rng(7)
    exposure = rng.uniform(10, 100, 50_000)
    counts = rng.poisson(rng.gamma(0.8, 1 / 40, exposure.size) * exposure)
    rates = fit_referral_rates(counts, exposure)
    assert rates.shape == pytest.approx(0.8, rel=0.15)
    assert rates.rate == pytest.approx(40, rel=0.15)
    assert rates.population_rate == pytest.approx(0.02, rel=0.05)


def test_posterior_rates_shrink_toward_the_population_rate():
    rng = np.random.default_rng(3)
    exposure = rng.uniform(10, 100, 20_000)
    counts = rng.poisson(rng.gamma(0.8, 1 / 40, exposure.size) * exposure)
    rates = fit_referral_rates(counts, exposure)
    # a customer with no history gets the population rate; one with a long history and many
    # referrals gets close to their own rate, a short history stays near the population rate
    assert rates.posterior_mean(np.array([0.0]), np.array([0.0]))[0] == pytest.approx(
        rates.population_rate)
    long_history = rates.posterior_mean(np.array([50.0]), np.array([500.0]))[0]
    short_history = rates.posterior_mean(np.array([1.0]), np.array([10.0]))[0]
    assert abs(long_history - 0.1) < abs(short_history - 0.1)
    assert rates.population_rate < short_history < 0.1
    draws = rates.sample(np.random.default_rng(0), np.array([50.0]), np.array([500.0]), 20_000)
    assert draws.mean() == pytest.approx(long_history, rel=0.02)


def test_no_referrals_at_all_means_zero_rates():
    rates = fit_referral_rates(np.zeros(10), np.full(10, 5.0))
    assert rates.population_rate == 0.0
    np.testing.assert_array_equal(rates.posterior_mean(np.zeros(3), np.ones(3)), 0.0)
