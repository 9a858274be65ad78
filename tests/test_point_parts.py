"""Point scoring of many customers runs in parts on threads and gives the numbers of one call.

``models.scoring.point_values`` splits a cheap quantity of ``2 * POINT_PART_ROWS`` customers or more
into parts of ``POINT_PART_ROWS`` evaluated on ``N_THREADS`` threads. A customer's value depends on
their own row and the parameters only, so the parts must reproduce the single call bit for bit,
for a pooled model and a model pooled by segment (per-customer parameters), every family.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clvmodels import GammaGammaModel
from clvmodels.datasets import load_cdnow_summary
from clvmodels.models import scoring
from clvmodels.models.registry import purchase_model_class, purchase_model_names

CONTINUOUS = purchase_model_names(discrete_time=False)


@pytest.fixture(scope="module")
def cdnow():
    summary = load_cdnow_summary()
    summary["channel"] = np.where(np.arange(len(summary)) % 3 == 0, "web", "store")
    return summary


def _scores(model, spend, summary):
    frames = [model.p_alive(summary), model.expected_purchases(summary, 39.0),
              model.predict(summary, 39.0, spend_model=spend)]
    return pd.concat(frames, axis=1)


@pytest.mark.parametrize("name", CONTINUOUS)
@pytest.mark.parametrize("pool_by", [None, "channel"])
def test_parts_on_threads_equal_one_call(cdnow, name, pool_by, monkeypatch):
    kwargs = {} if pool_by is None else {"pool_by": pool_by, "shrinkage": None}
    model = purchase_model_class(name)(**kwargs).fit(cdnow)
    spend = GammaGammaModel().fit(cdnow)
    monkeypatch.setattr(scoring, "N_THREADS", 1)
    whole = _scores(model, spend, cdnow)
    monkeypatch.setattr(scoring, "POINT_PART_ROWS", 250)  # 2,357 customers: 10 parts
    monkeypatch.setattr(scoring, "N_THREADS", 3)
    parts = _scores(model, spend, cdnow)
    pd.testing.assert_frame_equal(parts, whole, check_exact=True)
    np.testing.assert_array_equal(spend.expected_spend(cdnow)["expected_spend"].to_numpy(),
                                  whole["expected_spend"].to_numpy())
