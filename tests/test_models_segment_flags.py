"""Per-segment MLE: the shrinkage table flags own fits that should not be read (issue 19, item 3).

A segment's own maximum-likelihood fit can converge to absurd values on a handful of customers
(a spend fit with p = 1.2e7); ``shrinkage_["own_fit"]`` says so, ``moved`` is left out for such
fits and ``shrinkage_factor`` stays in [0, 1].
"""

from __future__ import annotations

import numpy as np
import pytest

from clvmodels import BetaGeoModel, GammaGammaModel
from clvmodels.inference.mle import MleResult
from clvmodels.models.segments import ILL_DETERMINED_DISTANCE_LOG, ILL_DETERMINED_SD_LOG, own_fit_status


def _fit(log_params, sd_log, converged=True, n=100.0):
    log_params = np.asarray(log_params, float)
    return MleResult(names=("p", "q"), log_params=log_params, cov_log=np.diag(np.square(sd_log)),
                     log_likelihood=-1.0, converged=converged, max_abs_grad=0.0, n_customers=n,
                     attempts=[])


POOLED = _fit([np.log(6.25), np.log(3.74)], [0.1, 0.1])


@pytest.mark.parametrize("own, n, expected", [
    (_fit([np.log(6.0), np.log(4.0)], [0.5, 0.5]), 100, "ok"),
    # p = 1.2e7: 14.5 powers of e above the pooled 6.25, beyond the distance bound
    (_fit([np.log(1.2e7), np.log(3.74)], [0.5, 0.5]), 100, "ill-determined"),
    (_fit([np.log(6.0), np.log(4.0)], [ILL_DETERMINED_SD_LOG + 0.1, 0.5]), 100, "ill-determined"),
    (_fit([np.log(6.0), np.log(4.0)], [0.5, 0.5], converged=False), 100, "unusable"),
    (None, 100, "unusable"),
    (None, 0, "no customers"),
])
def test_own_fit_status_by_hand(own, n, expected):
    assert own_fit_status(own, POOLED, n) == expected


def test_the_distance_bound_is_a_factor_of_about_a_thousand():
    """exp(7) = 1,097: an own estimate 1,000 times the pooled one is still 'ok' on distance."""
    assert np.exp(ILL_DETERMINED_DISTANCE_LOG) == pytest.approx(1096.6, rel=1e-3)
    own = _fit([np.log(6.25 * 1000), np.log(3.74)], [0.5, 0.5])
    assert own_fit_status(own, POOLED, 10) == "ok"


@pytest.fixture(scope="module")
def tiny_channels():
    from clvmodels.datasets import load_cdnow_summary

    summary = load_cdnow_summary()
    summary["channel"] = np.where(np.arange(len(summary)) % 2 == 0, "search", "tv")
    # one repeat buyer alone in "solo": no spend fit of its own can be trusted
    summary.loc[summary.index[summary["frequency"] > 0][:1], "channel"] = "solo"
    return summary


@pytest.mark.parametrize("cls", [BetaGeoModel, GammaGammaModel])
def test_shrinkage_table_flags_the_tiny_segment_and_stays_readable(cls, tiny_channels):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = cls(pool_by="channel").fit(tiny_channels)
    table = model.shrinkage_
    status = table["own_fit"].groupby(level=0).first()
    assert status["search"] == "ok" and status["tv"] == "ok"
    assert status["solo"] in ("unusable", "ill-determined")
    factors = table["shrinkage_factor"].dropna()
    assert ((factors >= 0) & (factors <= 1)).all()
    moved = table["moved"]
    assert moved.loc["solo"].isna().all()
    assert ((moved.dropna() >= 0) & (moved.dropna() <= 1)).all()
