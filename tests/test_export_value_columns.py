"""The export's value columns mean what the schema says, and its segments rank on future value."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clvmodels.export.schema import COLUMN_NAMES


@pytest.fixture(scope="module")
def result():
    from clvmodels.datasets import load_cdnow_summary
    from clvmodels.pipeline import PipelineSettings, run_pipeline

    summary = load_cdnow_summary(holdout=False)
    return run_pipeline(None, PipelineSettings(horizon=52, seed=0, uncertainty=None), summary=summary)


def test_every_exported_value_column_is_in_the_schema(result):
    assert set(result.frame.columns) <= set(COLUMN_NAMES)
    for column in ("realised_margin", "revenue_to_date", "future_value", "referral_credit",
                   "attributed_net_value", "future_referral_value"):
        assert column in result.frame.columns


def test_net_value_is_own_value_and_totals_conserve(result):
    """net_value = realised margin + future margin - acquisition cost, customer by customer, so
    the base's total counts every margin once; the realised margin counts every purchase (30% of
    revenue to date, the pipeline's default margin, no cost per transaction)."""
    f = result.frame
    np.testing.assert_allclose(f["net_value"], f["realised_margin"] + f["future_margin"] - f["acquisition_cost"],
                               rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(f["realised_margin"], 0.3 * f["revenue_to_date"], rtol=1e-12)
    assert f["attributed_net_value"].sum() == pytest.approx(f["net_value"].sum(), rel=1e-12)


def test_value_deciles_rank_what_is_still_to_come(result):
    """CDNOW customer 1901 spent the most in the calibration period but has P(alive) near 0: a
    high clv, no future. The top decile is by future value, so it is not a 'top' customer."""
    f = result.frame
    top = f[f["value_decile"] == 1]
    assert top["future_value"].min() >= f.loc[f["value_decile"] > 1, "future_value"].max()
    assert f.loc[1901, "p_alive"] < 1e-6
    assert f.loc[1901, "clv"] > f["clv"].quantile(0.99)
    assert f.loc[1901, "value_decile"] == 10
    assert (top["value_segment"] == "top").all()
    assert pd.api.types.is_integer_dtype(f["value_decile"])
