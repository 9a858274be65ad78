"""benchmarks/paretonbd.py: its simulated customers follow the Pareto/NBD, and its summary pairs
peers with clvmodels and checks the posteriors the way the brief states (R-hat <= 1.01, posterior
means within one posterior sd of the MLE on the same customers)."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks import paretonbd as bench
from clvmodels.formulas import paretonbd


def test_simulated_frequencies_have_the_pareto_nbd_mean():
    """Mean repeat purchases of customers observed for T weeks = E[X(T)] of a new customer
    (note 009 eq. 27), averaged over the simulated ages; within 4 standard errors."""
    data = bench.simulate_summary(200_000, seed=3)
    expected = paretonbd.expected_purchases_new(*bench.TRUTH.values(), data["T"].to_numpy()).mean()
    se = data["frequency"].std() / np.sqrt(len(data))
    assert abs(data["frequency"].mean() - expected) < 4 * se
    assert (data["recency"] <= data["T"]).all() and (data.loc[data["frequency"] == 0, "recency"] == 0).all()
    assert np.allclose(data["recency"] * 7, np.round(data["recency"] * 7))  # whole days


def _record(**fields):
    return {"record": "result", "status": "ok", **fields}


def test_summary_ratios_and_posterior_checks():
    truth = bench.TRUTH
    records = [
        {"record": "machine", "cores": 2},
        _record(compare="pnbd-mle", size=1000, tool="clvmodels", variant="clvmodels", seconds=2.0,
                params=dict(truth)),
        _record(compare="pnbd-mle", size=1000, tool="lifetimes", variant="lifetimes", seconds=200.0),
        _record(compare="pnbd-bayes-4x1000+1000", size=1000, tool="clvmodels", variant="clvmodels",
                seconds=10.0, max_rhat=1.004, posterior_mean={k: v * 1.01 for k, v in truth.items()},
                posterior_sd={k: v * 0.02 for k, v in truth.items()}, mle_params=dict(truth)),
        _record(compare="pnbd-bayes-4x1000+1000", size=1000, tool="pymc-marketing", variant="pymc-marketing",
                seconds=150.0, max_rhat=1.02, posterior_mean={k: v * 1.05 for k, v in truth.items()},
                posterior_sd={k: v * 0.02 for k, v in truth.items()}),
    ]
    out = bench.summary(records)
    assert {(r["peer"], r["ratio"]) for r in out["ratios"]} == {("lifetimes", 100.0), ("pymc-marketing", 15.0)}
    checks = {c["variant"]: c for c in out["bayes_checks"]}
    assert checks["clvmodels"]["rhat_ok"] and checks["clvmodels"]["means_within_one_sd_of_mle"]
    # the peer's means are 5% off and its sd 2%: outside one sd of the MLE at the same size
    assert not checks["pymc-marketing"]["rhat_ok"]
    assert checks["pymc-marketing"]["means_within_one_sd_of_mle"] is False


@pytest.mark.parametrize("quick", [True, False])
def test_plan_names_known_tasks_and_tools(quick):
    tools = {"mle_fit": {"clvmodels", "lifetimes", "lifetimes-weights"},
             "bayes_fit": {"clvmodels", "pymc-marketing", "pymc-marketing-nutpie"}}
    for task, params, limit in bench.plan(quick):
        module, name = task.split(":")
        assert module == "benchmarks.paretonbd" and params["tool"] in tools[name] and limit > 0
