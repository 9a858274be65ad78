"""PurchaseModel evaluates the costly alive branch once per distinct alive key: the probabilities
of n purchases (n = 0 included) computed that way equal the family's own history-level formula,
for every family, at the point estimate and for parameter draws, on histories with x = 0 and long
heavy-buyer histories."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clvmodels.data.meta import set_summary_meta
from clvmodels.models.registry import purchase_model_class, purchase_model_names


def _summary(family, n=400, seed=3):
    rng = np.random.default_rng(seed)
    age = np.full(n, 6.0) if family.discrete_time else 52.0 - rng.uniform(0, 13, n)
    history, _ = family.simulate_histories(rng, dict(family.example_params), age)
    frame = pd.DataFrame(dict(zip(family.history_columns, history)))
    if not family.discrete_time:  # a heavy buyer and a long silence
        frame.loc[0, ["frequency", "recency", "T"]] = [300.0, 51.0, 52.0]
        frame.loc[1, ["frequency", "recency", "T"]] = [0.0, 0.0, 520.0]
    return set_summary_meta(frame, time_unit="Y" if family.discrete_time else "W")


@pytest.mark.parametrize("name", purchase_model_names())
def test_probabilities_per_key_equal_the_history_formula(name):
    cls = purchase_model_class(name)
    family = cls.family
    summary = _summary(family)
    model = cls().fit(summary)
    horizon = 3.0 if family.discrete_time else 26.0
    history = tuple(summary[c].to_numpy(float) for c in family.history_columns)
    for draws in (None, model.parameter_draws(20, seed=1)):
        P = model.customer_params(summary, draws)
        for k in (0, 1, 4):
            got = model._probability_of(horizon, k)(P, {c: v for c, v in zip(family.history_columns, history)})
            direct = (family.prob_no_purchase(P, *history, horizon) if k == 0
                      else family.purchase_probability(P, *history, horizon, k))
            np.testing.assert_allclose(got, direct, rtol=1e-9, atol=1e-13, err_msg=f"{name} n={k}")
    out = model.predict(summary, horizon)
    assert ((out["prob_no_purchase"] >= 0) & (out["prob_no_purchase"] <= 1)).all()
