"""The BG/NBD + Gamma-Gamma simulator: same stream for logs and summaries, known-parameter recovery."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import clvmodels
from clvmodels import DataError
from clvmodels.datasets import simulate_summary, simulate_transactions

TRUTH = dict(r=0.243, alpha=4.414, a=0.793, b=2.426, p=6.25, q=3.74, gamma=15.44)


def test_summary_equals_rfm_summary_of_simulated_log():
    log = simulate_transactions(3_000, **TRUTH, holdout_days=100, seed=3)
    direct = simulate_summary(3_000, **TRUTH, holdout_days=100, seed=3)
    meta = direct.attrs["clvmodels"]
    built = clvmodels.calibration_holdout_summary(
        log, monetary_value_col="amount", calibration_period_end=meta["observation_end"],
        observation_period_end=meta["holdout_end"], time_unit="W")
    assert len(built) == 3_000
    for column in ("frequency", "recency", "T", "frequency_holdout"):
        np.testing.assert_array_equal(built[column].to_numpy(), direct[column].to_numpy(), err_msg=column)
    for column in ("monetary_value", "monetary_value_holdout"):
        np.testing.assert_allclose(built[column].to_numpy(), direct[column].to_numpy(), rtol=1e-9, atol=1e-9)


def test_deterministic_and_seed_sensitive():
    a = simulate_summary(2_000, **TRUTH, seed=11)
    pd.testing.assert_frame_equal(a, simulate_summary(2_000, **TRUTH, seed=11))
    assert not a["frequency"].equals(simulate_summary(2_000, **TRUTH, seed=12)["frequency"])


def test_fits_recover_the_truth():
    """50,000 simulated customers: MLE within 10% of every true parameter (the Laplace standard
    errors at this size are 2-6%)."""
    summary, truth = simulate_summary(50_000, **TRUTH, seed=5, return_truth=True)
    bg = clvmodels.BetaGeoModel().fit(summary)
    gg = clvmodels.GammaGammaModel().fit(summary)
    for name in ("r", "alpha", "a", "b"):
        assert bg.params_[name] == pytest.approx(TRUTH[name], rel=0.10), name
    for name in ("p", "q", "gamma"):
        assert gg.params_[name] == pytest.approx(TRUTH[name], rel=0.10), name
    assert set(truth.columns) >= {"lam", "p_dropout", "nu", "alive_at_end"}
    # the model's P(alive) separates truly alive from dropped-out customers
    p_alive = bg.p_alive(summary)["p_alive"]
    assert p_alive[truth["alive_at_end"]].mean() > p_alive[~truth["alive_at_end"]].mean() + 0.3


def test_bad_arguments():
    with pytest.raises(DataError, match="r must be a positive"):
        simulate_summary(10, **{**TRUTH, "r": -1})
    with pytest.raises(DataError, match="p, q, gamma"):
        simulate_summary(10, r=1, alpha=1, a=1, b=1, p=1.0)
