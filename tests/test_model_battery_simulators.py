"""Two independent BG/NBD simulators agree: the summary simulator in continuous time
(:func:`clvmodels.datasets.simulate_summary` with ``time_resolution="continuous"``: purchase times,
then a summary) and the family's population simulator (``BGNBD.simulate_histories``: the history
drawn directly from order statistics), so the battery's worlds are the model's own data."""

from __future__ import annotations

import numpy as np
from scipy import stats

from clvmodels.datasets import simulate_summary
from clvmodels.families import get_family

CDNOW = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}  # FHL 2005, CDNOW weekly


def _two_sample_z(a, b):
    return (a.mean() - b.mean()) / np.sqrt(a.var() / a.size + b.var() / b.size)


def test_continuous_summary_simulator_matches_the_population_simulator():
    """For the same ages T (100,000 customers at the CDNOW parameters): the frequency histogram
    (0..5, 6+) passes a two-sample chi-square test at p > 1e-4, and the mean frequency, the mean
    recency / T of repeat buyers and the share alive at T agree within 4 standard errors."""
    summary, truth = simulate_summary(100_000, **CDNOW, seed=5, time_resolution="continuous",
                                      return_truth=True)
    T = summary["T"].to_numpy()
    family = get_family("bgnbd")
    (x, t_x, _), latents = family.simulate_histories(np.random.default_rng(6), CDNOW, T)
    x_sum = summary["frequency"].to_numpy()
    bins = [np.bincount(np.minimum(v, 6).astype(int), minlength=7) for v in (x_sum, x)]
    assert stats.chi2_contingency(np.array(bins)).pvalue > 1e-4, bins
    assert abs(_two_sample_z(x_sum, x)) < 4
    share = [summary["recency"].to_numpy()[x_sum > 0] / T[x_sum > 0], t_x[x > 0] / T[x > 0]]
    assert abs(_two_sample_z(*share)) < 4
    alive = [truth["alive_at_end"].to_numpy(float), latents["alive"].astype(float)]
    assert abs(_two_sample_z(*alive)) < 4
