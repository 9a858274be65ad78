"""Estimators with method="bayes": the same prediction code path on posterior draws."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clvmodels import BetaGeoModel, DataError, GammaGammaModel, load_model


@pytest.fixture(scope="module")
def cdnow():
    from clvmodels.datasets import load_cdnow_summary

    return load_cdnow_summary()


@pytest.fixture(scope="module")
def bg_bayes(cdnow):
    return BetaGeoModel(method="bayes", chains=2, draws=300, tune=300, seed=7).fit(cdnow)


def test_posterior_near_published_mle(bg_bayes):
    """FHL 2005 MLE on CDNOW: r=0.243, alpha=4.414, a=0.793, b=2.426. Short chains here, so the check
    is one posterior sd (the slow engine tests use full chains)."""
    table = bg_bayes.summary()
    for name, mle in {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}.items():
        assert abs(table.loc[name, "estimate"] - mle) < table.loc[name, "sd"], name
    assert bg_bayes.idata_.posterior["r"].shape == (2, 300)


def test_predictions_use_posterior_draws(bg_bayes, cdnow):
    out = bg_bayes.predict(cdnow, 39, uncertainty="expected", n_draws=200)
    assert (out["p_alive_lower"] <= out["p_alive"]).all() and (out["p_alive"] <= out["p_alive_upper"]).all()
    draws = bg_bayes.parameter_draws(n_draws=50)
    assert draws.kind == "posterior" and draws.values.shape == (50, 4)
    again = bg_bayes.predict(cdnow, 39, uncertainty="expected", n_draws=200)
    pd.testing.assert_frame_equal(out, again)


def test_bayes_save_load(bg_bayes, cdnow, tmp_path):
    bg_bayes.save(tmp_path / "bg.json")
    assert (tmp_path / "bg.json.posterior.nc").exists()
    again = load_model(tmp_path / "bg.json")
    pd.testing.assert_series_equal(again.params_, bg_bayes.params_)
    np.testing.assert_allclose(again.p_alive(cdnow)["p_alive"], bg_bayes.p_alive(cdnow)["p_alive"])


def test_pooled_by_segment(cdnow):
    summary = cdnow.copy()
    summary["channel"] = np.where(np.arange(len(summary)) % 3 == 0, "email", "search")
    gg = GammaGammaModel(method="bayes", pool_by="channel", chains=2, draws=200, tune=200, seed=3).fit(summary)
    assert list(gg.params_.index) == ["email", "search"]
    table = gg.summary()
    assert table.index.names == ["segment", "parameter"] and table.index.get_level_values(0).unique().tolist() == ["email", "search"]
    np.testing.assert_allclose(table.xs("search")["estimate"].to_numpy(), gg.params_.loc["search"].to_numpy(),
                               rtol=1e-12)
    spend = gg.expected_spend(summary)
    assert spend["expected_spend"].notna().all()
    unknown = summary.head(3).assign(channel="tv")
    with pytest.raises(DataError, match="not fitted on"):
        gg.expected_spend(unknown)


def test_pool_by_names_a_column_of_the_summary(cdnow):
    """pool_by works with both methods (MLE per segment: tests/test_segment_mle.py); a segment
    column the summary lacks is refused with the columns it has and how to carry one."""
    for method in ("mle", "bayes"):
        with pytest.raises(DataError, match=r"pool_by='channel' is not a column.*attribute_cols=\['channel'\]"):
            BetaGeoModel(method=method, pool_by="channel").fit(cdnow)


def test_bayes_table_has_the_mle_layout(bg_bayes, cdnow):
    """One layout for both methods (issue 19): estimate = posterior mean, sd = posterior sd,
    lower/upper = ArviZ's HDI at the level; fit-level facts once, not per row."""
    import arviz as az

    table = bg_bayes.summary()
    mle = BetaGeoModel().fit(cdnow).summary()
    assert list(table.columns) == list(mle.columns) == ["estimate", "sd", "lower", "upper", "level"]
    assert list(table.index) == list(mle.index) and (table["level"] == 0.9).all()
    draws = bg_bayes.idata_.posterior["alpha"].to_numpy().ravel()
    assert table.loc["alpha", "estimate"] == pytest.approx(draws.mean(), rel=1e-12)
    assert table.loc["alpha", "sd"] == pytest.approx(draws.std(ddof=1), rel=1e-12)
    np.testing.assert_allclose(table.loc["alpha", ["lower", "upper"]].to_numpy(float),
                               az.hdi(draws, hdi_prob=0.9), rtol=1e-12)
    wider = bg_bayes.summary(level=0.95)
    # sample HDIs at two levels need not nest, but the wider level gives the wider interval
    assert ((wider["upper"] - wider["lower"]) > (table["upper"] - table["lower"])).all()
    facts = bg_bayes.fit_summary()
    assert len(facts) == 1
    for column in ("method", "log_likelihood", "converged", "customers", "distinct_rows",
                   "fit_seconds", "max_rhat", "n_divergences"):
        assert column in facts.columns, column
    assert table.attrs["clvmodels"]["max_rhat"] == facts["max_rhat"].iloc[0]
    assert "max_rhat" in bg_bayes._repr_html_()


def test_level_outside_zero_one_is_refused(bg_bayes):
    with pytest.raises(DataError, match="level must be a number strictly between 0 and 1"):
        bg_bayes.summary(level=95)
