"""Duplicate customer ids are refused wherever a summary enters (issue 17, item 3 of "Why",
item 2 of "What to build"): fits, predictions, value and targeting, with the count and examples.

A summary concatenated with itself used to fit, with standard errors shrunk by about sqrt(2).
"""

from __future__ import annotations

import pandas as pd
import pytest

from clvmodels import BetaGeoModel, DataError, GammaGammaModel, customer_value
from clvmodels.data.checks import check_monetary_summary, check_rfm_summary
from clvmodels.datasets import load_cdnow_summary

#: the count, an example id, the full count of rows and what to do
MESSAGE = r"duplicate customer ids: 3 id\(s\).*6 rows in all; e\.g\. 1, 2, 3\).*drop the repeats"


@pytest.fixture(scope="module")
def cdnow():
    return load_cdnow_summary(holdout=False)


@pytest.fixture(scope="module")
def doubled(cdnow):
    """Three customers ('1', '2', '3') appear twice; metadata kept as a concat would not."""
    out = pd.concat([cdnow, cdnow.iloc[:3]])
    out.attrs = dict(cdnow.attrs)
    return out


@pytest.fixture(scope="module")
def models(cdnow):
    return BetaGeoModel().fit(cdnow), GammaGammaModel().fit(cdnow)


def test_check_functions_refuse_duplicates(doubled):
    with pytest.raises(DataError, match=MESSAGE):
        check_rfm_summary(doubled)
    with pytest.raises(DataError, match=MESSAGE):
        check_monetary_summary(doubled)


def test_unique_ids_pass(cdnow):
    assert cdnow.index.is_unique
    check_rfm_summary(cdnow)  # returns None, raises nothing
    check_monetary_summary(cdnow)


def test_purchase_model_fit_refuses_duplicates(doubled):
    with pytest.raises(DataError, match=MESSAGE):
        BetaGeoModel().fit(doubled)


def test_spend_model_fit_refuses_duplicates(doubled):
    with pytest.raises(DataError, match=MESSAGE):
        GammaGammaModel().fit(doubled)


def test_self_concatenated_summary_is_refused(cdnow):
    """The case of the issue: every id twice (2,357 ids, 4,714 rows)."""
    with pytest.raises(DataError, match=r"2357 id\(s\).*4714 rows in all"):
        BetaGeoModel().fit(pd.concat([cdnow, cdnow]))


def test_predict_refuses_duplicates(models, doubled):
    bg, gg = models
    with pytest.raises(DataError, match=MESSAGE):
        bg.predict(doubled, 39, uncertainty=None)
    with pytest.raises(DataError, match=MESSAGE):
        bg.predict(doubled, 39, spend_model=gg, uncertainty=None)


def test_customer_value_refuses_duplicates(models, doubled):
    bg, gg = models
    with pytest.raises(DataError, match=MESSAGE):
        customer_value(bg, gg, doubled, margin=0.3, horizon=52, discount_rate=0.1, uncertainty=None)


def test_winback_targets_refuse_duplicates(models, doubled):
    from clvmodels import lapsed_customers, winback_targets
    from clvmodels.reactivation import ContactSequence

    bg, gg = models
    lapsed = lapsed_customers(doubled, window=182, only_lapsed=False)
    with pytest.raises(DataError, match="duplicate customer ids"):
        winback_targets(lapsed, bg, gg, uplift=0.02,
                        sequence=ContactSequence([("letter", 0.75, 0)], name="letter"),
                        margin=0.3, horizon=52, discount_rate=0.1, n_draws=20)
