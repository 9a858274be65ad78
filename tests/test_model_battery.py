"""The model battery: every purchase-model estimator must pass these (parametrised over the registry).

scikit-learn's ``parametrize_with_checks`` idea at the level of the estimator classes of
:mod:`clvmodels.models.registry` (the family-level formulas have their own battery in
tests/test_family_contract.py). Worlds are drawn with each family's own population simulator
(``family.simulate_histories``: continuous time for BG/NBD, MBG/NBD and Pareto/NBD, whole
opportunities for BG/BB) at the family's ``example_params``, so every check knows the truth.

The heavier statistical checks (recovery, interval calibration, MCMC) are in
tests/test_model_battery_calibration.py and tests/test_model_battery_bayes.py; they import the
world builder from here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clvmodels import load_model
from clvmodels.data.checks import check_history_columns
from clvmodels.data.meta import set_summary_meta
from clvmodels.errors import DataError
from clvmodels.models.registry import purchase_model_class, purchase_model_names

NAMES = purchase_model_names()
#: horizons in the summary's time unit; whole numbers so that they are whole opportunities for BG/BB
HORIZONS = (1.0, 2.0, 5.0, 10.0, 52.0)


def observation_lengths(family, rng, n):
    """Each customer's observation length: 26 to 39 weeks (a 39-week window with births over its
    first quarter, as CDNOW's), or 4 to 10 whole opportunities for a discrete-time family."""
    if family.discrete_time:
        return rng.integers(4, 11, n).astype(float)
    return rng.uniform(26.0, 39.0, n)


def world(cls, n, seed, params=None):
    """``n`` customers of ``cls.family``'s population: (summary with its time unit, true latents).

    The summary holds the family's history columns, indexed by ``customer_id``; the latents are
    the true traits at the end of observation (``alive`` and the rates or probabilities).
    """
    family = cls.family
    rng = np.random.default_rng(seed)
    params = dict(family.example_params if params is None else params)
    history, latents = family.simulate_histories(rng, params, observation_lengths(family, rng, n))
    summary = pd.DataFrame(dict(zip(family.history_columns, history)),
                           index=pd.RangeIndex(n, name="customer_id"))
    unit = "Y" if family.discrete_time else "W"
    set_summary_meta(summary, time_unit=unit, period=unit if family.discrete_time else "D")
    return summary, latents


def true_params(cls, shape=()):
    """The family's example point as the contract's params dict (arrays of ``shape``)."""
    return {k: np.full(shape, float(v)) for k, v in cls.family.example_params.items()}


@pytest.fixture(params=NAMES)
def cls(request):
    return purchase_model_class(request.param)


_FITTED = {}


def fitted(cls):
    """One MLE fit per family on a 3,000-customer world (seed 1), shared by the checks below."""
    if cls.family.name not in _FITTED:
        summary, _ = world(cls, 3000, seed=1)
        _FITTED[cls.family.name] = (cls().fit(summary), summary)
    return _FITTED[cls.family.name]


# ----- the population simulator --------------------------------------------------------------------
def test_population_simulator_agrees_with_the_closed_forms(cls):
    """Simulated new customers buy E[X(T)] (``expected_purchases_new``) on average, and are alive
    at T as often as ``p_alive`` of their histories says, overall, for one-time buyers and for
    repeat buyers (each within 4 standard errors; 100,000 customers)."""
    family, n = cls.family, 100_000
    summary, latents = world(cls, n, seed=7)
    history = tuple(summary[c].to_numpy() for c in family.history_columns)
    P = true_params(cls)
    x = history[0]
    mean = family.expected_purchases_new(P, history[-1])
    assert abs(x.mean() - mean.mean()) < 4 * x.std() / np.sqrt(n)
    p = family.p_alive(P, *history)
    for who in (np.ones(n, bool), x == 0, x > 0):
        excess = latents["alive"][who].sum() - p[who].sum()
        # <=: BG/NBD's one-time buyers are alive for sure, in the simulation and the formula
        assert abs(excess) <= 4 * np.sqrt(np.sum(p[who] * (1 - p[who]))), (who.sum(), excess)


def _groups(history, p_alive):
    """Customer groups for calibration checks: by frequency (0, 1, 2-3, 4+) and by decile of
    P(alive)."""
    x = history[0]
    groups = [x == 0, x == 1, (x >= 2) & (x <= 3), x >= 4]
    edges = np.quantile(p_alive, np.linspace(0, 1, 11))
    decile = np.clip(np.searchsorted(edges, p_alive, side="right") - 1, 0, 9)
    return groups + [decile == d for d in range(10)]


def test_closed_forms_are_calibrated_against_the_true_population(cls):
    """On 100,000 customers with their true traits: in every group (frequency 0, 1, 2-3, 4+, and
    each decile of P(alive)) the number alive at T matches the sum of ``p_alive``, the true futures'
    purchases in the next 10 periods match the sum of ``expected_purchases``, and the customers
    without a purchase match the sum of ``prob_no_purchase``, each within 4 standard errors (the
    futures drawn from the true latents; standard errors from the per-customer variances)."""
    family, n, h = cls.family, 100_000, 10.0
    summary, latents = world(cls, n, seed=8)
    history = tuple(summary[c].to_numpy() for c in family.history_columns)
    P = true_params(cls)
    p = family.p_alive(P, *history)
    mean = family.expected_purchases(P, *history, h)
    none = family.prob_no_purchase(P, *history, h)
    future = family.simulate_purchases(np.random.default_rng(9), latents, h)
    for who in _groups(history, p):
        if who.sum() < 500:
            continue
        checks = {"alive": (latents["alive"][who], p[who], np.sum(p[who] * (1 - p[who]))),
                  "purchases": (future[who], mean[who], who.sum() * future[who].var()),
                  "no purchase": (future[who] == 0, none[who], np.sum(none[who] * (1 - none[who])))}
        for name, (observed, expected, variance) in checks.items():
            excess = observed.sum() - expected.sum()
            assert abs(excess) <= 4 * np.sqrt(variance) + 1e-9, (name, who.sum(), excess, np.sqrt(variance))


def test_population_simulator_is_seeded_valid_and_in_the_models_own_time(cls):
    """Same seed, same customers; the histories pass the family's column checks; continuous-time
    families are in exact time (recencies not on a day grid), BG/BB in whole opportunities."""
    family = cls.family
    first, latents = world(cls, 2000, seed=3)
    again, latents_again = world(cls, 2000, seed=3)
    pd.testing.assert_frame_equal(first, again, check_exact=True)
    for key in latents:
        np.testing.assert_array_equal(latents[key], latents_again[key])
    assert set(latents) >= {"alive"}
    check_history_columns(first, family)
    # in days (weeks x 7) or opportunities: on the grid to 1e-9 means rounded
    steps = first[family.history_columns[1]].to_numpy() * (1 if family.discrete_time else 7)
    on_grid = np.abs(steps - np.round(steps)) < 1e-9
    if family.discrete_time:
        assert on_grid.all()
    else:
        assert not on_grid[first["frequency"] > 0].any()


# ----- fitting ---------------------------------------------------------------------------------------
def test_counts_equal_repeated_rows(cls):
    """fit(rows, weights=w) equals the fit on the rows repeated w times (w = 0 leaves a row out):
    estimates, covariance and log-likelihood to 1e-8 (relative)."""
    summary, _ = world(cls, 400, seed=11)
    w = np.random.default_rng(12).integers(0, 4, len(summary))
    repeated = summary.iloc[np.repeat(np.arange(len(summary)), w)].reset_index(drop=True)
    repeated.index.name = "customer_id"
    repeated.attrs = summary.attrs
    weighted, expanded = cls().fit(summary, weights=w), cls().fit(repeated)
    np.testing.assert_allclose(weighted.params_, expanded.params_, rtol=1e-8)
    np.testing.assert_allclose(weighted.cov_log_, expanded.cov_log_, rtol=1e-8)
    assert weighted.log_likelihood_ == pytest.approx(expanded.log_likelihood_, rel=1e-8)
    assert weighted.n_customers_ == expanded.n_customers_ == int(w.sum())


def _nll(cls, log_params, summary):
    columns = [summary[c].to_numpy(float) for c in cls.family.history_columns]
    return cls.family.neg_log_likelihood_and_grad(log_params, *columns, np.ones(len(summary)))[0]


def test_standard_errors_are_the_inverse_hessian_of_the_likelihood(cls):
    """The fit's covariance of the log-parameters is the inverse of the Hessian of the family's
    negative log-likelihood, here by second differences of its values (not of the gradient the fit
    uses), step 1e-3 on the log scale: standard errors to 1e-3 and correlations to 1e-3."""
    model, summary = fitted(cls)
    at = np.log(model.params_.to_numpy(float))
    k, h = at.size, 1e-3
    f0 = _nll(cls, at, summary)
    hess = np.empty((k, k))
    for i in range(k):
        for j in range(k):
            ei, ej = np.eye(k)[i] * h, np.eye(k)[j] * h
            hess[i, j] = (_nll(cls, at + ei + ej, summary) - _nll(cls, at + ei - ej, summary)
                          - _nll(cls, at - ei + ej, summary) + _nll(cls, at - ei - ej, summary)) / (4 * h * h)
    assert np.isfinite(f0)
    cov = np.linalg.inv(0.5 * (hess + hess.T))
    se, se_fit = np.sqrt(np.diag(cov)), np.sqrt(np.diag(model.cov_log_))
    np.testing.assert_allclose(se_fit, se, rtol=1e-3)
    np.testing.assert_allclose(model.cov_log_ / np.outer(se_fit, se_fit), cov / np.outer(se, se),
                               atol=1e-3)


# ----- predictions -----------------------------------------------------------------------------------
def test_probabilities_and_their_complements(cls):
    """0 <= P(alive) <= 1 (bounds included), p_dropped_out = 1 - p_alive, and churn by horizon 0
    is churn now."""
    model, summary = fitted(cls)
    for kind in (None, "expected"):
        alive = model.p_alive(summary, uncertainty=kind, n_draws=50, seed=0)
        dropped = model.p_dropped_out(summary, uncertainty=kind, n_draws=50, seed=0)
        assert ((alive.to_numpy() >= 0) & (alive.to_numpy() <= 1)).all()
        np.testing.assert_allclose(dropped["p_dropped_out"], 1 - alive["p_alive"], rtol=0, atol=1e-15)
        if kind:
            np.testing.assert_allclose(dropped["p_dropped_out_lower"], 1 - alive["p_alive_upper"], atol=1e-15)
    np.testing.assert_array_equal(model.churn_probability(summary, 0)["churn_probability"],
                                  model.p_dropped_out(summary)["p_dropped_out"])


def test_churn_grows_and_purchases_accumulate_with_the_horizon(cls):
    """Per customer, churn by the horizon's end is non-decreasing in the horizon (from churn now),
    P(no purchase) non-increasing, expected purchases non-decreasing and strictly increasing for
    anyone possibly alive; a new customer's expected purchases grow too."""
    model, summary = fitted(cls)
    churn = np.column_stack([model.p_dropped_out(summary)["p_dropped_out"]] + [
        model.churn_probability(summary, h)["churn_probability"] for h in HORIZONS])
    assert (np.diff(churn, axis=1) >= -1e-12).all()
    assert ((churn >= 0) & (churn <= 1)).all()
    out = [model.predict(summary, h) for h in HORIZONS]
    none = np.column_stack([o["prob_no_purchase"] for o in out])
    assert (np.diff(none, axis=1) <= 1e-12).all()
    purchases = np.column_stack([o["expected_purchases"] for o in out])
    assert (purchases[:, 0] >= 0).all()
    assert (np.diff(purchases, axis=1) >= -1e-12).all()
    alive = out[0]["p_alive"].to_numpy() > 1e-6
    assert alive.sum() > 100
    assert (np.diff(purchases[alive], axis=1) > 0).all()
    new = model.expected_purchases_new(list(HORIZONS))["expected_purchases"].to_numpy()
    assert (np.diff(new) > 0).all()


def test_predict_columns_are_the_same_for_every_family(cls):
    """predict gives the same columns in the same order, and the same metadata keys, whatever the
    family (the pipeline, export and CLI rely on it), with and without intervals."""
    reference_cls = purchase_model_class(NAMES[0])
    for kind in (None, "expected", "predictive"):
        frames = [fitted(c)[0].predict(fitted(c)[1].iloc[:50], 5.0, uncertainty=kind, n_draws=30, seed=1)
                  for c in (reference_cls, cls)]
        assert list(frames[1].columns) == list(frames[0].columns)
        assert set(frames[1].attrs["clvmodels"]) == set(frames[0].attrs["clvmodels"])


def _every_prediction(model, summary):
    """Every prediction method with every interval kind it offers (seeded, 40 draws)."""
    common = {"n_draws": 40, "seed": 5}
    out = {}
    for kind in (None, "expected"):
        out[f"p_alive {kind}"] = model.p_alive(summary, uncertainty=kind, **common)
        out[f"p_dropped_out {kind}"] = model.p_dropped_out(summary, uncertainty=kind, **common)
        out[f"churn {kind}"] = model.churn_probability(summary, 5.0, uncertainty=kind, **common)
        out[f"pmf {kind}"] = model.purchase_probability(summary, 5.0, [0, 1, 3], uncertainty=kind,
                                                        **common)
        out[f"new {kind}"] = model.expected_purchases_new([1.0, 5.0], uncertainty=kind, **common)
    for kind in (None, "expected", "predictive"):
        out[f"purchases {kind}"] = model.expected_purchases(summary, 5.0, uncertainty=kind, **common)
        out[f"predict {kind}"] = model.predict(summary, 5.0, uncertainty=kind, **common)
    return out


def test_save_and_load_keep_every_prediction_bit_for_bit(cls, tmp_path):
    """A saved and re-loaded fit gives every prediction (each method, each interval kind, same
    seed) bit for bit, with the same estimates and covariance."""
    model, summary = fitted(cls)
    path = tmp_path / "model.json"
    model.save(path)
    loaded = load_model(path)
    assert type(loaded) is cls
    pd.testing.assert_series_equal(loaded.params_, model.params_, check_exact=True)
    np.testing.assert_array_equal(loaded.cov_log_, model.cov_log_)
    rows = summary.iloc[:300]
    before, after = _every_prediction(model, rows), _every_prediction(loaded, rows)
    for name in before:
        pd.testing.assert_frame_equal(after[name], before[name], check_exact=True, obj=name)


# ----- refusals --------------------------------------------------------------------------------------
def test_a_summary_missing_history_columns_is_refused(cls):
    """Fitting or scoring a summary without one of the family's history columns raises a DataError
    naming the missing column and saying how to build a proper summary; so does another family's
    summary (continuous-time columns for BG/BB and opportunity columns for the others)."""
    model, summary = fitted(cls)
    for column in cls.family.history_columns:
        lacking = summary.drop(columns=column)
        for call in (lambda: cls().fit(lacking), lambda: model.p_alive(lacking),
                     lambda: model.predict(lacking, 5.0)):
            with pytest.raises(DataError, match=rf"lacks column\(s\) \['{column}'\].*(Build|[Rr]ename)"):
                call()
    other = next(purchase_model_class(n) for n in NAMES
                 if purchase_model_class(n).family.discrete_time != cls.family.discrete_time)
    foreign, _ = world(other, 50, seed=2)
    missing = sorted(set(cls.family.history_columns) - set(other.family.history_columns))
    with pytest.raises(DataError, match=rf"lacks column\(s\) \[{', '.join(repr(m) for m in missing)}\]"):
        cls().fit(foreign)
