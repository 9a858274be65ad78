"""A new customer's forecast for every family: P(n repeat purchases) is a distribution whose mean
is the expected repeat purchases, and BG/BB reproduces the published cohort histogram."""

from __future__ import annotations

import numpy as np
import pytest

from clvmodels import BetaGeoBetaBinomModel
from clvmodels.datasets import load_cdnow_summary, load_donations
from clvmodels.errors import DataError
from clvmodels.models.registry import purchase_model_class, purchase_model_names


def test_bgbb_expected_histogram_of_the_1995_donors():
    """Fader, Hardie & Shang (2010), Marketing Science 29(6), the donations example (also
    Hardie's BG/BB spreadsheet note): of 11,104 donors, 3,454.9 are expected to make no repeat
    donation and 1,253.1 six in the 6 calibration years, at the MLE."""
    model = BetaGeoBetaBinomModel().fit(load_donations(), weights="count")
    histogram = 11_104 * model.purchase_probability_new(6, n=range(7)).iloc[0].to_numpy()
    assert round(histogram[0], 1) == 3454.9
    assert round(histogram[6], 1) == 1253.1
    assert histogram.sum() == pytest.approx(11_104, rel=1e-10)


@pytest.mark.parametrize("name", purchase_model_names())
def test_new_customer_pmf_sums_to_one_and_has_the_expected_mean(name):
    cls = purchase_model_class(name)
    if cls.family.discrete_time:
        model = cls().fit(load_donations(), weights="count")
    else:
        model = cls().fit(load_cdnow_summary())
    horizon = 6.0 if cls.family.discrete_time else 39.0
    p = model.purchase_probability_new(horizon, n=range(400)).iloc[0].to_numpy()
    assert p.min() >= 0 and p.sum() == pytest.approx(1.0, abs=1e-8)
    mean = model.expected_purchases_new(horizon)["expected_purchases"].iloc[0]
    assert np.dot(np.arange(400), p) == pytest.approx(mean, rel=1e-6)


def test_refusals():
    model = BetaGeoBetaBinomModel().fit(load_donations(), weights="count")
    with pytest.raises(DataError, match="whole numbers"):
        model.purchase_probability_new(6, n=1.5)
    with pytest.raises(DataError, match="positive"):
        model.purchase_probability_new(0)
    with pytest.raises(DataError, match="no predictive interval|probability"):
        model.purchase_probability_new(6, uncertainty="predictive")
