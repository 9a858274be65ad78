"""The scoring machinery: compression, the paired revenue pass, threads, seeds and shortcuts.

Each test recomputes a prediction by a second, plainer route (every customer, no compression,
no pairing, one thread) and asks for the same numbers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clvmodels import BetaGeoModel, GammaGammaModel
from clvmodels.datasets import simulate_summary
from clvmodels.formulas import bgnbd, gammagamma
from clvmodels.formulas.individual import (
    sample_bgnbd_latents,
    sample_gg_nu,
    simulate_purchase_counts,
)
from clvmodels.inference import compress
from clvmodels.models import scoring
from clvmodels.models.gamma_gamma import revenue_quantity
from clvmodels.models.intervals import interval_quantiles
from clvmodels.models.paired import evaluate_product

BG = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}  # FHL 2005 CDNOW estimates (weekly)
GG = {"p": 6.25, "q": 3.74, "gamma": 15.44}  # Fader & Hardie 2013 note, CDNOW


@pytest.fixture(scope="module")
def summary():
    return simulate_summary(3_000, **BG, **GG, time_unit="W", seed=4)


@pytest.fixture(scope="module")
def models(summary):
    return BetaGeoModel().fit(summary), GammaGammaModel().fit(summary)


# ----- compression -------------------------------------------------------------------------------
def _sorted_groupby(*columns):
    frame = pd.DataFrame({f"c{i}": c for i, c in enumerate(columns)})
    return frame.groupby(list(frame.columns), sort=True).ngroup().to_numpy()


def test_compression_equals_a_sorted_groupby(summary):
    """Hash grouping gives pandas' sorted groups: same inverse, counts and distinct rows."""
    rng = np.random.default_rng(0)
    columns = [summary[c].to_numpy(float) for c in ("frequency", "recency", "T")]
    columns.append(rng.integers(0, 3, len(summary)))  # a segment code
    rows = compress.compress_rows(*columns)
    expected = _sorted_groupby(*columns)
    np.testing.assert_array_equal(rows.inverse, expected)
    np.testing.assert_array_equal(rows.counts, np.bincount(expected))
    for column, distinct in zip(columns, rows.columns):
        np.testing.assert_array_equal(distinct[rows.inverse], column)
    assert rows.n_unique < len(summary)


def test_compression_survives_hash_collisions(summary, monkeypatch):
    """If distinct rows share a key (here: every row does), the exact grouping takes over."""
    columns = [summary[c].to_numpy(float) for c in ("frequency", "recency", "T")]
    honest = compress.compress_rows(*columns)
    monkeypatch.setattr(compress, "_row_hashes", lambda cols: np.zeros(cols[0].size, dtype=np.uint64))
    assert compress._group_by_hash(columns) is None
    colliding = compress.compress_rows(*columns)
    np.testing.assert_array_equal(colliding.inverse, honest.inverse)
    np.testing.assert_array_equal(colliding.counts, honest.counts)


# ----- shortcuts ---------------------------------------------------------------------------------
def test_prob_no_purchase_equals_the_general_pmf_at_zero():
    """The closed form P(0) = P(dead) + P(alive) ((alpha+T)/(alpha+T+t))^(r+x) is the conditional
    PMF (FHL note "Deriving the conditional PMF of the BG/NBD model") at n = 0, to 1e-12."""
    rng = np.random.default_rng(1)
    n = 2_000
    params = [rng.uniform(0.05, 5, n), rng.uniform(0.5, 50, n), rng.uniform(0.1, 5, n), rng.uniform(0.1, 10, n)]
    x = rng.integers(0, 300, n).astype(float)
    T = rng.uniform(1, 500, n)
    t_x = np.where(x > 0, T * rng.random(n), 0.0)
    t = rng.uniform(0.1, 200, n)
    np.testing.assert_allclose(bgnbd.prob_no_purchase(*params, x, t_x, T, t),
                               bgnbd.purchase_probability(*params, x, t_x, T, t, 0), rtol=1e-12, atol=1e-300)


def test_churn_now_is_the_complement_of_p_alive(models, summary):
    """p_dropped_out (churn now) and its interval are 1 - P(alive)'s, bounds swapped, within
    rounding; churn_probability at horizon 0 is the same quantity under the export's name."""
    bg, _ = models
    churn = bg.p_dropped_out(summary, uncertainty="expected", seed=2, n_draws=100)
    alive = bg.p_alive(summary, uncertainty="expected", seed=2, n_draws=100)
    assert list(churn.columns) == ["p_dropped_out", "p_dropped_out_lower", "p_dropped_out_upper"]
    assert churn.attrs["interval_kinds"] == {"p_dropped_out": "expected"}
    np.testing.assert_allclose(churn["p_dropped_out"], 1 - alive["p_alive"], atol=1e-15)
    np.testing.assert_allclose(churn["p_dropped_out_lower"], 1 - alive["p_alive_upper"], atol=1e-12)
    np.testing.assert_allclose(churn["p_dropped_out_upper"], 1 - alive["p_alive_lower"], atol=1e-12)
    at_zero = bg.churn_probability(summary, 0, uncertainty="expected", seed=2, n_draws=100)
    np.testing.assert_array_equal(at_zero.to_numpy(), churn.to_numpy())


# ----- the paired revenue pass -------------------------------------------------------------------
def _customer_arrays(summary):
    x = summary["frequency"].to_numpy(float)
    return (x, summary["recency"].to_numpy(float), summary["T"].to_numpy(float),
            np.where(x > 0, summary["monetary_value"].to_numpy(float), 0.0))


def test_expected_revenue_interval_equals_draws_on_every_customer(models, summary):
    """The pair pass (purchases once per purchase row, gathered) gives exactly the mean and
    quantiles of E[purchases] x E[spend] computed per draw on every customer."""
    bg, gg = models
    S, seed, horizon = 120, 7, 39.0
    out = bg.predict(summary, horizon, spend_model=gg, uncertainty="expected", n_draws=S, seed=seed)
    (bg_draws, gg_draws), _ = scoring.draw_streams([bg, gg], S, seed)
    P = {**bg_draws.for_customers(None), **gg_draws.for_customers(None)}
    x, t_x, T, mbar = _customer_arrays(summary)
    purchases = bgnbd.expected_purchases(P["r"], P["alpha"], P["a"], P["b"], x, t_x, T, horizon)
    revenue = purchases * gammagamma.expected_spend(P["p"], P["q"], P["gamma"], x, mbar)
    lo, hi = interval_quantiles(0.9)
    for column, values in (("expected_purchases", purchases), ("expected_revenue", revenue)):
        lower, upper = np.quantile(values, [lo, hi], axis=0)
        np.testing.assert_allclose(out[f"{column}_lower"], lower, rtol=1e-12, err_msg=column)
        np.testing.assert_allclose(out[f"{column}_upper"], upper, rtol=1e-12, err_msg=column)
    np.testing.assert_allclose(out["expected_revenue"], out["expected_purchases"] * out["expected_spend"],
                               rtol=1e-12)


def test_predictive_revenue_matches_a_plain_simulation():
    """For three customers, the pair pass's 90% predictive interval of revenue agrees with a plain
    simulation (latents, counts, spend rate, spend totals) at the same 20,000 parameter draws: each
    bound within 12%. The newcomer's upper bound lies just past the atom at 0 (P(no purchase) about
    0.85), where a quantile moves with the simulated share of zeros: its Monte Carlo error is about
    8% at 4,000 draws and 3-4% at 20,000."""
    summary = pd.DataFrame({"frequency": [0.0, 2.0, 12.0], "recency": [0.0, 30.43, 37.0],
                            "T": [38.86, 38.86, 38.86], "monetary_value": [0.0, 40.0, 25.0]},
                           index=pd.Index(["new", "fhl", "heavy"], name="customer_id"))
    summary.attrs["clvmodels"] = {"time_unit": "W"}
    fitted = simulate_summary(3_000, **BG, **GG, time_unit="W", seed=4)
    bg, gg = BetaGeoModel().fit(fitted), GammaGammaModel().fit(fitted)
    S = 20_000
    out = bg.predict(summary, 39.0, spend_model=gg, uncertainty="predictive", n_draws=S, seed=3)
    (bg_draws, gg_draws), _ = scoring.draw_streams([bg, gg], S, 3)
    P = {**bg_draws.for_customers(None), **gg_draws.for_customers(None)}
    x, t_x, T, mbar = _customer_arrays(summary)
    rng = np.random.default_rng(99)
    alive, lam, p = sample_bgnbd_latents(rng, P["r"], P["alpha"], P["a"], P["b"], x, t_x, T)
    counts = simulate_purchase_counts(rng, alive, lam, p, 39.0)
    nu = sample_gg_nu(rng, P["p"], P["q"], P["gamma"], x, mbar)
    totals = np.where(counts > 0, rng.standard_gamma(P["p"] * np.maximum(counts, 1)) / nu, 0.0)
    lower, upper = np.quantile(totals, [0.05, 0.95], axis=0)
    np.testing.assert_allclose(out["expected_revenue_lower"], lower, rtol=0.12, atol=1e-9)
    np.testing.assert_allclose(out["expected_revenue_upper"], upper, rtol=0.12)
    assert (out["expected_revenue_upper"] > 0).all()


# ----- determinism -------------------------------------------------------------------------------
@pytest.mark.parametrize("uncertainty", ["expected", "predictive"])
def test_threads_and_chunks_do_not_change_results(models, summary, monkeypatch, uncertainty):
    """Chunks on one thread or on four, finishing in any order: the same numbers."""
    bg, gg = models
    data = [bg._scoring_data(summary), gg._scoring_data(summary)]
    results = []
    for threads in (1, 4):
        monkeypatch.setattr(scoring, "N_THREADS", threads)
        fresh = [scoring.CustomerData(d.arrays, d.segments) for d in data]
        results.append(evaluate_product(revenue_quantity(*bg._purchases(20.0)), [bg, gg], fresh, uncertainty=uncertainty,
                                        level=0.8, n_draws=60, seed=5, chunk_size=97))
    for name in ("first", "product"):
        for key in ("value", "lower", "upper"):
            np.testing.assert_array_equal(results[0][name][key], results[1][name][key], err_msg=f"{name} {key}")


def test_predictive_intervals_depend_on_the_row_not_the_customer_order(models, summary):
    """Identical customers get identical predictive intervals, and shuffling the customers changes
    nobody's interval (the distinct rows are simulated in sorted order)."""
    bg, gg = models
    twice = pd.concat([summary, summary.set_axis([f"copy{i}" for i in summary.index])])
    twice.attrs = summary.attrs
    shuffled = twice.sample(frac=1.0, random_state=1)
    a = bg.predict(twice, 39.0, spend_model=gg, uncertainty="predictive", n_draws=80, seed=11)
    b = bg.predict(shuffled, 39.0, spend_model=gg, uncertainty="predictive", n_draws=80, seed=11)
    pd.testing.assert_frame_equal(a.loc[b.index], b)
    half = len(summary)
    np.testing.assert_array_equal(a.iloc[:half].to_numpy(), a.iloc[half:].to_numpy())
