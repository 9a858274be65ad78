"""Cohort survival tables as sBG input: tenures_from_cohorts by hand, its refusals, and a fit
from subscription_tenures -> cohort_survival equal to the fit on the tenures truncated alike."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clvmodels.data.subscriptions import tenures_from_cohorts
from clvmodels.errors import DataError
from clvmodels.models.shifted_beta_geo import ShiftedBetaGeoModel


def test_rows_by_hand():
    """Cohort a: 10 -> 6 -> 5 (4 left after 0 renewals, 1 after 1, 5 still in after 2); cohort b:
    4 -> 4 (none left, 4 censored after 1); a channel level is carried as a column."""
    table = pd.DataFrame([[10, 6, 5], [4, 4, pd.NA]],
                         index=pd.MultiIndex.from_tuples([("2020", "web"), ("2021", "partner")],
                                                         names=["cohort", "channel"])).astype("Int64")
    rows = tenures_from_cohorts(table, period="M")
    assert rows.to_dict("list") == {
        "cohort": ["2020", "2020", "2020", "2021"], "channel": ["web", "web", "web", "partner"],
        "renewals": [0, 1, 2, 1], "churned": [True, True, False, False], "customers": [4, 1, 5, 4]}
    assert rows.attrs["clvmodels"]["time_unit"] == "M"
    assert rows["customers"].sum() == 14


def test_refusals_list_every_problem():
    table = pd.DataFrame([[10, 11, 5], [0, 0, 0], [5, pd.NA, 3], [3, 1.5, 1]], index=list("abcd"))
    with pytest.raises(DataError) as err:
        tenures_from_cohorts(table, period="Y")
    message = str(err.value)
    for text in ("more customers after t renewals than after t - 1 in 1 cohort (e.g. 'a')",
                 "no customer at t = 0 (column 0 is the cohort size) in 1 cohort (e.g. 'b')",
                 "a count after an empty (NA) column in 1 cohort (e.g. 'c')",
                 "not a whole number >= 0 in 1 cohort (e.g. 'd')"):
        assert text in message
    with pytest.raises(DataError, match="billing period"):
        tenures_from_cohorts(pd.DataFrame([[3, 2]]))


def test_fit_on_cohort_survival_of_a_log():
    """cohort_survival keeps, per cohort, the renewals all its members could reach; the fit on it
    equals the fit on the tenures with renewals capped at that reach (censored there)."""
    from clvmodels import cohort_survival, subscription_tenures

    rng = np.random.default_rng(8)
    n = 1500
    start = pd.Timestamp("2016-01-01") + pd.to_timedelta(rng.integers(0, 3 * 365, n), unit="D")
    years = rng.geometric(rng.beta(1.2, 3.0, n))
    end = pd.to_datetime([s + pd.DateOffset(years=int(y)) for s, y in zip(start, years)])
    log = pd.DataFrame({"customer_id": np.arange(n), "start": start,
                        "end": end.where(end <= pd.Timestamp("2023-06-30"))})
    tenures = subscription_tenures(log, observation_end="2023-06-30", period="Y")
    table = cohort_survival(tenures)
    by_table = ShiftedBetaGeoModel().fit(table)
    reach = tenures.groupby("cohort")["observable_renewals"].transform("min")
    capped = tenures.assign(churned=tenures["churned"] & (tenures["renewals"] < reach),
                            renewals=np.minimum(tenures["renewals"], reach))
    by_tenures = ShiftedBetaGeoModel().fit(capped)
    np.testing.assert_allclose(by_table.params_, by_tenures.params_, rtol=1e-6)
    assert by_table.n_customers_ == n
