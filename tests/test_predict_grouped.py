"""predict evaluates P(alive), churn, P(no purchase) and the expected purchases in one pass over
the draws (clvmodels.models.grouped): the numbers are bit for bit those of the separate methods,
for every family and interval kind, columns in the documented order."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clvmodels.datasets import load_cdnow_summary, load_donations
from clvmodels.models.registry import purchase_model_class, purchase_model_names


@pytest.mark.parametrize("uncertainty", [None, "expected", "predictive"])
@pytest.mark.parametrize("name", purchase_model_names())
def test_predict_equals_the_separate_methods(name, uncertainty):
    cls = purchase_model_class(name)
    discrete = cls.family.discrete_time
    summary = load_donations() if discrete else load_cdnow_summary().head(600)
    model = cls().fit(summary, weights="count") if discrete else cls().fit(summary)
    h = 3.0 if discrete else 39.0
    out = model.predict(summary, h, uncertainty=uncertainty, n_draws=60, seed=4)
    assert list(out.columns[::(1 if uncertainty is None else 3)]) == [
        "p_alive", "p_dropped_out", "churn_probability", "prob_no_purchase", "expected_purchases"]
    probability = "expected" if uncertainty == "predictive" else uncertainty
    separate = pd.concat([
        model.p_alive(summary, uncertainty=probability, n_draws=60, seed=4),
        model.p_dropped_out(summary, uncertainty=probability, n_draws=60, seed=4),
        model.churn_probability(summary, h, uncertainty=probability, n_draws=60, seed=4),
        model.purchase_probability(summary, h, 0, uncertainty=probability, n_draws=60, seed=4)
        .rename(columns=lambda c: c.replace("p_0", "prob_no_purchase")),
        model.expected_purchases(summary, h, uncertainty=uncertainty, n_draws=60, seed=4),
    ], axis=1)
    assert list(separate.columns) == list(out.columns)
    for column in out.columns:
        np.testing.assert_array_equal(out[column].to_numpy(), separate[column].to_numpy(),
                                      err_msg=column)
    if uncertainty == "predictive":
        kinds = out.attrs["interval_kinds"]
        assert kinds["expected_purchases"] == "predictive" and kinds["p_alive"] == "expected"
