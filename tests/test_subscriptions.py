"""Subscription log -> tenures and cohort survival: calendar anniversaries by hand, the Fader &
Hardie (2007) regular cohort rebuilt as a log, and the refusals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import optimize

from clvmodels.data.subscriptions import anniversaries_before, cohort_survival, subscription_tenures
from clvmodels.errors import DataError
from clvmodels.formulas import sbg

LOG = pd.DataFrame({
    "customer_id": ["a", "b", "c", "d", "e"],
    "start": ["2020-01-31", "2020-01-15", "2020-03-01", "2021-02-10", "2020-12-01"],
    "end": ["2020-03-01", None, "2021-03-01", "2021-02-11", ""],
    "price": [9.5, 9.5, 12.0, 9.5, 12.0],
    "channel": ["web", "ads", "web", "web", "ads"],
})


def day(text):
    return np.array([np.datetime64(text, "D").astype(np.int64)])


@pytest.mark.parametrize("start, limit, period, strict, expected", [
    ("2020-01-31", "2020-02-29", "M", False, 1),  # 31 Jan renews on the month's last day
    ("2020-01-31", "2020-02-29", "M", True, 0),   # ending on the anniversary: no renewal
    ("2020-01-31", "2020-03-30", "M", False, 1),
    ("2020-01-31", "2020-03-31", "M", False, 2),
    ("2020-02-29", "2021-02-28", "Y", False, 1),  # leap day renews on 28 February
    ("2020-02-29", "2021-02-27", "Y", False, 0),
    ("2020-06-15", "2023-06-14", "Y", False, 2),
    ("2020-06-15", "2020-06-15", "Y", False, 0),
    ("2023-01-02", "2023-01-16", "W", False, 2),
    ("2023-01-02", "2023-01-16", "W", True, 1),
    ("2023-01-02", "2023-01-05", "D", True, 2),
])
def test_anniversaries_by_hand(start, limit, period, strict, expected):
    assert anniversaries_before(day(start), day(limit), period, strict)[0] == expected


def test_tenures_by_hand():
    """Monthly plan observed to 2021-06-30. a: 31 Jan -> 1 Mar 2020, renewed on 29 Feb: 1 renewal,
    churned. b: active since 15 Jan 2020, renewed on the 15th of Feb 2020..Jun 2021: 17, censored.
    c: 1 Mar 2020 -> 1 Mar 2021, ending on its 12th anniversary: 11. d: one day: 0. e: active
    since 1 Dec 2020: 6 (Jan..Jun 2021)."""
    t = subscription_tenures(LOG, observation_end="2021-06-30", period="M", price_col="price", channel_col="channel")
    assert list(t.index) == ["a", "b", "c", "d", "e"]
    assert t["renewals"].tolist() == [1, 17, 11, 0, 6]
    assert t["periods_paid"].tolist() == [2, 18, 12, 1, 7]
    assert t["churned"].tolist() == [True, False, True, True, False]
    assert t["observable_renewals"].tolist() == [17, 17, 15, 4, 6]
    assert t["end"].isna().tolist() == [False, True, False, False, True]
    assert [str(c) for c in t["cohort"]] == ["2020-01", "2020-01", "2020-03", "2021-02", "2020-12"]
    assert t["price"].tolist() == [9.5, 9.5, 12.0, 9.5, 12.0]
    assert t["channel"].tolist() == ["web", "ads", "web", "web", "ads"]
    assert t.attrs["clvmodels"] == {"time_unit": "M", "period": "M", "observation_end": "2021-06-30"}
    # the rows are the sBG likelihood's data: renewals made, churned or censored
    ll = sbg.log_likelihood(0.7, 1.2, t["renewals"], t["churned"])
    assert ll[1] == pytest.approx(np.log(sbg.survival(0.7, 1.2, 17)))
    assert ll[0] == pytest.approx(np.log(sbg.churn_probability(0.7, 1.2, 2)))


def test_cohort_survival_by_hand():
    """Cohort 2020-01 (a, b) is observable to 17 renewals: 2 start, 2 renew once, then only b.
    By channel the cohorts split; counts beyond what all could reach are NA."""
    t = subscription_tenures(LOG, observation_end="2021-06-30", period="M", channel_col="channel")
    table = cohort_survival(t)
    jan = table.loc[pd.Period("2020-01", "M")]
    assert jan[[0, 1, 2, 17]].tolist() == [2, 2, 1, 1]
    feb21 = table.loc[pd.Period("2021-02", "M")]
    assert feb21[[0, 1, 4]].tolist() == [1, 0, 0] and feb21[[5]].isna().all()
    assert table[0].sum() == len(t)  # every subscriber in exactly one cohort
    by_channel = cohort_survival(t, by="channel")
    assert by_channel.loc[(pd.Period("2020-01", "M"), "web")][[0, 1, 2]].tolist() == [1, 1, 0]
    assert by_channel[0].sum() == len(t)


def test_fader_hardie_regular_cohort_as_a_log():
    """FH 2007's regular segment (1,000 customers; 631, 468, 382, 326, 289, 262, 241 left at the
    start of years 1-7) written as a yearly log started 2000-01-01, observed to 2007-01-01:
    cohort_survival gives the table back, and the individual tenures with censoring fit the
    published alpha = 0.704, beta = 1.182 (FH 2007 Table 2)."""
    survivors = [1000, 631, 468, 382, 326, 289, 262, 241]
    rows, cid = [], 0
    for paid in range(1, 8):  # paid `paid` years, ended on the anniversary they did not renew
        for _ in range(survivors[paid - 1] - survivors[paid]):
            rows.append((cid, "2000-01-01", f"{2000 + paid}-01-01"))
            cid += 1
    rows += [(cid + i, "2000-01-01", None) for i in range(survivors[-1])]
    log = pd.DataFrame(rows, columns=["customer_id", "start", "end"])
    t = subscription_tenures(log, observation_end="2007-01-01", period="Y")
    assert cohort_survival(t).iloc[0].tolist() == survivors
    counts = t.groupby(["renewals", "churned"]).size().reset_index()
    result = optimize.minimize(sbg.neg_log_likelihood_and_grad, np.zeros(2), jac=True, method="BFGS",
                               args=(counts["renewals"].to_numpy(), counts["churned"].to_numpy(),
                                     counts[0].to_numpy(float)))
    np.testing.assert_allclose(np.exp(result.x), [0.704, 1.182], atol=5e-4)


def test_refusals_list_every_problem():
    bad = pd.DataFrame({
        "customer_id": ["a", "a", "b", "c", "d", "d", "e", "f"],
        "start": ["2020-01-01", "2020-02-01", "2020-05-01", "2022-01-01", "2020-01-01", "2020-06-01",
                  "2020-01-01", "2020-01-01"],
        "end": ["2020-03-01", None, "2020-04-01", None, "2020-02-01", None, "2021-09-01", None],
        "price": [1, 1, 1, 1, 1, 1, 1, -3],
    })
    with pytest.raises(DataError) as err:
        subscription_tenures(bad, observation_end="2021-06-30", period="M", price_col="price")
    text = str(err.value)
    assert "end on or before its start in 1 row (e.g. 'b')" in text
    assert "start after the observation end 2021-06-30 in 1 row (e.g. 'c')" in text
    assert "end after the observation end 2021-06-30 in 1 row (e.g. 'e')" in text and "late_ends='censor'" in text
    assert "negative (column 'price') in 1 row (e.g. 'f')" in text
    assert "overlapping subscriptions of one customer" in text and "in 1 subscription (e.g. 'a')" in text
    assert "second or later subscription in 1 subscription (e.g. 'd')" in text


def test_policies_for_late_ends_and_repeat_subscriptions():
    log = pd.DataFrame({"customer_id": ["d", "d", "e"], "start": ["2020-01-01", "2020-06-01", "2020-01-01"],
                        "end": ["2020-02-01", None, "2021-09-01"]})
    t = subscription_tenures(log, observation_end="2021-06-30", period="M", late_ends="censor",
                             repeat_subscriptions="spells")
    assert list(t.index) == [("d", 0), ("d", 1), ("e", 0)]
    assert t["renewals"].tolist() == [0, 12, 17] and t["churned"].tolist() == [True, False, False]
    first = subscription_tenures(log, observation_end="2021-06-30", period="M", late_ends="censor",
                                 repeat_subscriptions="first")
    assert list(first.index) == ["d", "e"] and first["renewals"].tolist() == [0, 17]


def test_reading_problems():
    log = pd.DataFrame({"customer_id": ["a", None, "c"], "start": ["2020-01-01", "2020-01-01", "01/02/2020"],
                        "end": [None, None, "soon"]})
    with pytest.raises(DataError) as err:
        subscription_tenures(log, observation_end="2021-06-30", period="M")
    text = str(err.value)
    assert "missing customer id" in text and "start that cannot be read" in text and "end that cannot be read" in text
    with pytest.raises(DataError, match="lacks column"):
        subscription_tenures(log.drop(columns="end"), observation_end="2021-06-30", period="M")
    with pytest.raises(DataError, match="period must be one of"):
        subscription_tenures(log, observation_end="2021-06-30", period="Q")
    zones = pd.DataFrame({"customer_id": ["a", "b", "c"], "start": ["2020-01-01T10:00+02:00", "2020-01-01", "2020-02-01"],
                          "end": [None, None, None]})
    with pytest.raises(DataError, match=r"aware and naive dates mixed \(column 'start'\).*1 row \(e.g. 'a'\)"):
        subscription_tenures(zones, observation_end="2021-06-30", period="M")
    aware = zones.assign(start=["2020-01-01T01:00+02:00", "2020-01-01T00:00Z", "2020-02-01T00:00Z"])
    # 01:00 at +02:00 is 23:00 UTC on 31 December: the UTC date counts, as in rfm_summary
    assert subscription_tenures(aware, observation_end="2020-03-31", period="M")["renewals"].tolist() == [3, 2, 1]
    dated = pd.DataFrame({"customer_id": [1], "start": pd.to_datetime(["2020-01-01"]),
                          "end": pd.to_datetime([pd.NaT])})
    assert subscription_tenures(dated, observation_end="2020-12-31", period="M")["renewals"].tolist() == [11]


def test_staggered_cohorts_recover_the_simulating_parameters():
    """20,000 yearly subscribers with theta ~ Beta(2, 4) (mean lifetime 5 years), starting on
    random days of 2015-2019 and observed to 2022-06-30, written as a log: the censored
    tenures fit alpha and beta within 4 standard errors (inverse Hessian of the likelihood), so
    censoring at each customer's own observable horizon is counted right."""
    rng = np.random.default_rng(12)
    size = 20_000
    theta = rng.beta(2.0, 4.0, size)
    paid = rng.geometric(theta)  # periods paid: 1, 2, ...
    start = np.datetime64("2015-01-01") + rng.integers(0, 5 * 365, size).astype("timedelta64[D]")
    text = np.datetime_as_string(start, unit="D")
    text = np.where(np.char.endswith(text, "02-29"), np.char.replace(text, "02-29", "03-01"), text)
    # the subscription ends on the anniversary it is not renewed at, `paid` years after its start
    end = np.array([f"{int(s[:4]) + k}{s[4:]}" for s, k in zip(text, paid)], dtype=object)
    observed = "2022-06-30"
    end = np.where(end.astype(str) > observed, None, end)
    log = pd.DataFrame({"customer_id": np.arange(size), "start": text, "end": end})
    t = subscription_tenures(log, observation_end=observed, period="Y")
    counts = t.groupby(["renewals", "churned"]).size().reset_index()
    args = (counts["renewals"].to_numpy(), counts["churned"].to_numpy(), counts[0].to_numpy(float))
    result = optimize.minimize(sbg.neg_log_likelihood_and_grad, np.zeros(2), args=args, jac=True, method="BFGS")
    step, hessian = 1e-5, np.zeros((2, 2))
    for i in range(2):
        e = np.eye(2)[i] * step
        hessian[i] = (sbg.neg_log_likelihood_and_grad(result.x + e, *args)[1]
                      - sbg.neg_log_likelihood_and_grad(result.x - e, *args)[1]) / (2 * step)
    se = np.sqrt(np.diag(np.linalg.inv(hessian)))  # of log-parameters
    assert np.all(np.abs(result.x - np.log([2.0, 4.0])) < 4 * se)
    assert 0 < t["churned"].mean() < 1 and t["observable_renewals"].min() >= 2
