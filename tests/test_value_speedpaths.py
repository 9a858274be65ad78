"""The fast paths of customer value and win-back scoring give the same numbers as the plain ones.

Chunks run on threads (``clvmodels.models.scoring.N_THREADS``, set from CLVMODELS_THREADS): each
chunk has its own random stream, keyed by its index, and shared per-draw sums (group totals,
referral credit) are added in chunk order, so 1 and 4 threads must give bit-identical tables.
"""

import numpy as np
import pandas as pd
import pytest

from clvmodels.models import scoring
from clvmodels.value.customer_value import value_run
from clvmodels.value.referrals import Referrals
from test_value_referral_accounting import BG, GG, _world
from test_value_support import fixed_models

# a Laplace covariance on log-parameters, so that draws differ and intervals are not points
BG_COV = np.diag([0.01, 0.01, 0.02, 0.02])
GG_COV = np.diag([0.01, 0.01, 0.01])


@pytest.fixture(scope="module")
def world():
    summary, table = _world(np.random.default_rng(7), 600, 150)
    models = fixed_models(BG, GG, time_unit="W", bg_cov_log=BG_COV, gg_cov_log=GG_COV)
    return summary, table, models


def _run(world, threads, monkeypatch, uncertainty, **settings):
    summary, table, models = world
    monkeypatch.setattr(scoring, "N_THREADS", threads)
    return value_run(*models, summary, referrals=Referrals(table, share=0.5), uncertainty=uncertainty,
                     n_draws=40, seed=3, rollup_by=[None, "channel"], chunk_size=64,
                     margin=0.3, horizon=52, discount_rate=0.1, cost_per_transaction=1.0, **settings)


@pytest.mark.filterwarnings("ignore::clvmodels.errors.ConvergenceWarning")
@pytest.mark.parametrize("uncertainty", ["expected", "predictive"])
def test_one_and_four_threads_give_identical_customer_tables_and_rollups(world, monkeypatch,
                                                                         uncertainty):
    """600 customers in 10 chunks of 64, 150 of them referred (referrers spread over chunks), two
    rollups: every column of the customer table and of both rollup views is bit-identical with 1
    and with 4 threads, and the intervals are not degenerate (the check has something to see)."""
    one = _run(world, 1, monkeypatch, uncertainty)
    four = _run(world, 4, monkeypatch, uncertainty)
    pd.testing.assert_frame_equal(one.customers, four.customers, check_exact=True)
    width = one.customers["net_value_upper"] - one.customers["net_value_lower"]
    assert (width > 0).mean() > 0.5
    for by in (None, "channel"):
        for attribution in (False, True):
            pd.testing.assert_frame_equal(one.rollup(by, attribution=attribution),
                                          four.rollup(by, attribution=attribution), check_exact=True)
