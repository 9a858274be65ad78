"""Summaries entering a model: unique ids, a stated time unit, the fit's time unit; and
``fit(summary, weights=...)`` counting identical customers."""

import numpy as np
import pandas as pd
import pytest

from clvmodels import BetaGeoModel, GammaGammaModel
from clvmodels.datasets import load_cdnow_summary
from clvmodels.datasets.simulate import simulate_summary
from clvmodels.errors import DataError

BG = dict(r=0.243, alpha=4.414, a=0.793, b=2.426)
GG = dict(p=6.25, q=3.74, gamma=15.44)


@pytest.fixture(scope="module")
def cdnow():
    return load_cdnow_summary()


@pytest.fixture(scope="module")
def models(cdnow):
    return BetaGeoModel().fit(cdnow), GammaGammaModel().fit(cdnow)


def _doubled(summary):
    both = pd.concat([summary, summary.iloc[:50]])
    both.attrs = dict(summary.attrs)
    return both


@pytest.mark.parametrize("cls", [BetaGeoModel, GammaGammaModel])
def test_duplicate_ids_are_refused_at_fit(cdnow, cls):
    """A summary concatenated with (part of) itself would fit with standard errors too small."""
    with pytest.raises(DataError, match=r"50 id\(s\).*100 rows in all; e\.g\. 1, 2, 3, 4, 5, \.\.\."):
        cls().fit(_doubled(cdnow))


def test_duplicate_ids_are_refused_at_scoring(cdnow, models):
    bg, gg = models
    doubled = _doubled(cdnow)
    calls = [lambda: bg.p_alive(doubled), lambda: bg.p_dropped_out(doubled),
             lambda: bg.churn_probability(doubled, 10), lambda: bg.expected_purchases(doubled, 10),
             lambda: bg.purchase_probability(doubled, 10, 1), lambda: bg.predict(doubled, 10, spend_model=gg),
             lambda: gg.expected_spend(doubled)]
    for call in calls:
        with pytest.raises(DataError, match=r"duplicate customer ids: 50 id\(s\)"):
            call()


def test_a_summary_without_time_unit_is_refused_by_the_purchase_model(cdnow, models):
    """The issue's case: a summary re-read from CSV has lost its time unit. The purchase model
    refuses it at fit and at scoring and says how to state it; the spend model, which reads no
    times, accepts it."""
    bg, gg = models
    bare = cdnow.copy()
    bare.attrs = {}
    with pytest.raises(DataError, match=r"does not say which time unit.*as_summary\(frame, time_unit="):
        BetaGeoModel().fit(bare)
    with pytest.raises(DataError, match=r"fitted in 'W'.*as_summary"):
        bg.expected_purchases(bare, 39)
    np.testing.assert_allclose(gg.expected_spend(bare)["expected_spend"],
                               gg.expected_spend(cdnow)["expected_spend"], rtol=0)
    GammaGammaModel().fit(bare)  # spend per purchase has no time unit


def test_a_model_fitted_in_months_refuses_a_weekly_summary_reread_from_csv(tmp_path):
    """A monthly model on weekly numbers would expect far fewer purchases (the issue measured 607
    instead of about 2,095). Re-read from CSV the weekly summary has no unit: refused; stated as
    weekly: refused as another unit; the monthly summary of the same kind of customers: accepted."""
    per_month = dict(BG, alpha=BG["alpha"] * 7 / (365.25 / 12))  # rates per month
    monthly = simulate_summary(3_000, **per_month, time_unit="M", seed=1)
    weekly = simulate_summary(3_000, **BG, time_unit="W", seed=2)
    bg = BetaGeoModel().fit(monthly)
    weekly.to_csv(tmp_path / "weekly.csv")
    reread = pd.read_csv(tmp_path / "weekly.csv", index_col=0)
    with pytest.raises(DataError, match="does not say which time unit"):
        bg.expected_purchases(reread, 12)
    stated = reread.copy()
    stated.attrs["clvmodels"] = {"time_unit": "W"}
    with pytest.raises(DataError, match=r"fitted on a summary in time unit 'M'.*time_unit='M'"):
        bg.expected_purchases(stated, 12)
    assert bg.expected_purchases(monthly, 12)["expected_purchases"].notna().all()


@pytest.mark.parametrize("pool_by", [None, "channel"])
def test_weights_equal_repeated_rows(cdnow, pool_by):
    """fit(summary, weights=w) is the fit on the summary with row i repeated w_i times: the same
    estimates, standard errors, log-likelihood and customer count (rows with weight 0 drop out)."""
    rng = np.random.default_rng(11)
    summary = cdnow.copy()
    summary["channel"] = rng.choice(["search", "tv"], len(summary))
    w = rng.integers(0, 4, len(summary))
    repeated = summary.loc[summary.index.repeat(w)].reset_index(drop=True)
    repeated.attrs = dict(summary.attrs)
    for cls in (BetaGeoModel, GammaGammaModel):
        weighted = cls(pool_by=pool_by).fit(summary, weights=w)
        plain = cls(pool_by=pool_by).fit(repeated)
        assert weighted.n_customers_ == plain.n_customers_ == (
            int(w.sum()) if cls is BetaGeoModel else int(w[summary["frequency"] > 0].sum()))
        pd.testing.assert_frame_equal(weighted.summary(), plain.summary(), rtol=1e-8)
        assert weighted.log_likelihood_ == pytest.approx(plain.log_likelihood_, rel=1e-10)
        by_column = cls(pool_by=pool_by).fit(summary.assign(n=w), weights="n")
        pd.testing.assert_frame_equal(by_column.summary(), weighted.summary())


def test_weights_are_checked(cdnow):
    n = len(cdnow)
    cases = [(np.ones(n - 1), "has 2356 values but the summary has 2357 rows"),
             (np.full(n, 1.5), "whole numbers >= 0"),
             (np.r_[-1.0, np.ones(n - 1)], r"1 row \(e\.g\. 1\)"),
             (np.zeros(n), "every weight is 0"),
             ("count", "is not a column"),
             (pd.Series(1.0, index=cdnow.index[::-1]), "index differs")]
    for weights, message in cases:
        with pytest.raises(DataError, match=message):
            BetaGeoModel().fit(cdnow, weights=weights)
