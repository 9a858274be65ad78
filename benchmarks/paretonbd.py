"""Benchmark: Pareto/NBD maximum likelihood against lifetimes, and NUTS against pymc-marketing 0.19.2.

Contenders (harness tasks, each in its own process with a time limit and its memory polled from
outside, see :mod:`benchmarks.harness`; ``seconds`` times the fit only, after an untimed warm-up on
the first 300 customers):

- ``mle_fit``: ``clvmodels.ParetoNBDModel().fit(summary)`` (compression to distinct rows inside
  the timing); lifetimes' ``ParetoNBDFitter().fit`` on every customer row (``lifetimes``) and on
  the distinct rows with ``weights=`` (``lifetimes-weights``, the same likelihood, lifetimes at its
  fastest). Compare key ``pnbd-mle``.
- ``bayes_fit``: clvmodels' :func:`clvmodels.inference.bayes.fit_family_bayes` with nutpie on the
  fused kernel of :mod:`clvmodels.inference.bayes.fast_loglik_pnbd` (compression inside the
  timing); ``pymc_marketing.clv.ParetoNBDModel`` with PyMC's NUTS (``pymc-marketing``) or nutpie
  (``pymc-marketing-nutpie``). Same chains, draws and tuning steps, at most ``min(chains, cores)``
  processes or threads. Compare key ``pnbd-bayes``. Diagnostics after the timing: max R-hat, min
  bulk/tail ESS over r, alpha, s, beta, divergences, posterior means and sds.

Data: Pareto/NBD customers at the CDNOW estimates of the BTYD vignette (weeks), simulated in
continuous time (:func:`clvmodels.formulas.population.simulate_paretonbd_population`), first
purchases spread over 12 weeks of days and a 39-week window, the last purchase floored to whole
days (weeks = days / 7), as a transaction log summarised by day would give.

Usage::

    python -m benchmarks.paretonbd                # the full run (minutes to hours), writes
                                                  # benchmarks/results/paretonbd/
    python -m benchmarks.paretonbd --quick --out DIR   # CI: small sizes, well under a minute

pymc-marketing is an optional peer (``pip install -e .[bench]``); without it its rows fail with
the import error and the rest still runs. Each record carries the 1-minute load average before and
after it (``load_1min``), since the machine may be shared.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "results" / "paretonbd"
TRUTH = {"r": 0.5534, "alpha": 10.580, "s": 0.6061, "beta": 11.656}  # BTYD vignette, CDNOW weeks
WARMUP_CUSTOMERS = 300
WARMUP_DRAWS = WARMUP_TUNE = 50


def simulate_summary(n: int, seed: int = 0, calibration_days: int = 273, cohort_days: int = 84):
    """Pareto/NBD customers: ``customer_id, frequency, recency, T`` in weeks of whole days."""
    import numpy as np
    import pandas as pd

    from clvmodels.formulas.population import simulate_paretonbd_population

    rng = np.random.default_rng(seed)
    T_days = calibration_days - rng.integers(0, cohort_days, n)
    x, t_x, _, _, _ = simulate_paretonbd_population(rng, *TRUTH.values(), T_days / 7.0)
    recency_days = np.floor(t_x * 7.0)
    return pd.DataFrame({"customer_id": np.arange(n), "frequency": x.astype(np.int64),
                         "recency": recency_days / 7.0, "T": T_days / 7.0})


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def _version(name: str) -> str:
    from importlib.metadata import version

    return version(name)


def _distinct(data):
    return data.groupby(["frequency", "recency", "T"]).size().reset_index(name="n")


def _rel_errors(estimates: dict) -> dict:
    return {k: round(abs(float(estimates[k]) / v - 1.0), 4) for k, v in TRUTH.items()}


# ----- maximum likelihood ------------------------------------------------------------------------
def _mle_clvmodels(data):
    import clvmodels

    model = clvmodels.ParetoNBDModel().fit(data)
    return {k: float(model.params_[k]) for k in TRUTH}, None


def _log_likelihood(data, params: dict) -> float:
    """Total log-likelihood at ``params`` by clvmodels' numpy formula (note 009 eq. 18)."""
    from clvmodels.formulas.paretonbd import log_likelihood

    rows = _distinct(data)
    ll = log_likelihood(*(params[k] for k in TRUTH), rows["frequency"].to_numpy(float),
                        rows["recency"].to_numpy(float), rows["T"].to_numpy(float))
    return float(rows["n"].to_numpy(float) @ ll)


def _mle_lifetimes(data, weights: bool):
    from lifetimes import ParetoNBDFitter

    if weights:
        rows = _distinct(data)
        fitter = ParetoNBDFitter().fit(rows["frequency"], rows["recency"], rows["T"], weights=rows["n"])
    else:
        fitter = ParetoNBDFitter().fit(data["frequency"], data["recency"], data["T"])
    return {k: float(fitter.params_[k]) for k in TRUTH}, None


def mle_fit(size: int, tool: str, seed: int = 0) -> dict:
    """Harness task: one contender's Pareto/NBD maximum-likelihood fit of ``size`` customers."""
    import warnings

    from benchmarks.harness import timed

    warnings.simplefilter("ignore")
    fits = {"clvmodels": _mle_clvmodels, "lifetimes": lambda d: _mle_lifetimes(d, False),
            "lifetimes-weights": lambda d: _mle_lifetimes(d, True)}
    if tool not in fits:
        raise ValueError(f"tool must be one of {sorted(fits)}; got {tool!r}")
    data = simulate_summary(int(size), seed=seed)
    if tool == "clvmodels":  # the time unit travels with a clvmodels summary (untimed, no copy of data)
        import clvmodels

        data = clvmodels.as_summary(data, time_unit="W", observation_end="2025-01-01", customer_id_col="customer_id")
    load_before = _load()
    seconds, (params, ll) = timed(lambda: fits[tool](data), warmup=lambda: fits[tool](data.iloc[:WARMUP_CUSTOMERS]))
    library = "clvmodels" if tool == "clvmodels" else "lifetimes"
    ll = _log_likelihood(data, params)  # every tool's estimate scored by one function, untimed
    return {"group": "pnbd-mle", "tool": library, "version": _version(library), "method": "mle",
            "variant": tool, "compare": "pnbd-mle", "size": int(size), "distinct_rows": len(_distinct(data)),
            "seconds": round(seconds, 3), "params": {k: round(v, 5) for k, v in params.items()},
            "log_likelihood": round(ll, 3), "rel_error": _rel_errors(params),
            "load_1min": [load_before, _load()]}


# ----- Bayes -------------------------------------------------------------------------------------
def _cores(chains: int) -> int:
    return max(1, min(chains, os.cpu_count() or 1))


def _bayes_clvmodels(data, chains, draws, tune, seed):
    from clvmodels.families import get_family
    from clvmodels.inference.bayes import fit_family_bayes

    rows = _distinct(data)
    family = get_family("pnbd")
    history = [rows[c].to_numpy(float) for c in family.history_columns]
    return fit_family_bayes(family, history, rows["n"].to_numpy(float), chains=chains, draws=draws,
                            tune=tune, seed=seed), len(rows)


def _bayes_pymc_marketing(data, chains, draws, tune, seed, sampler):
    from pymc_marketing.clv import ParetoNBDModel

    model = ParetoNBDModel(data=data)
    idata = model.fit(method="mcmc", chains=chains, draws=draws, tune=tune, random_seed=seed, cores=_cores(chains),
                      progressbar=False, nuts_sampler=sampler)
    return idata, len(data)


def bayes_fit(size: int, tool: str, chains: int = 4, draws: int = 1000, tune: int = 1000, seed: int = 0) -> dict:
    """Harness task: one contender's NUTS fit of the Pareto/NBD on ``size`` customers."""
    import warnings

    import arviz as az

    from benchmarks.harness import timed

    fits = {"clvmodels": _bayes_clvmodels,
            "pymc-marketing": lambda *a: _bayes_pymc_marketing(*a, sampler="pymc"),
            "pymc-marketing-nutpie": lambda *a: _bayes_pymc_marketing(*a, sampler="nutpie")}
    if tool not in fits:
        raise ValueError(f"tool must be one of {sorted(fits)}; got {tool!r}")
    warnings.simplefilter("ignore")
    data = simulate_summary(int(size), seed=seed)
    load_before = _load()
    seconds, (idata, rows) = timed(
        lambda: fits[tool](data, chains, draws, tune, seed),
        warmup=lambda: fits[tool](data.iloc[:WARMUP_CUSTOMERS], chains, WARMUP_DRAWS, WARMUP_TUNE, seed))
    post = idata.posterior[list(TRUTH)]
    stats = idata.sample_stats
    library = "clvmodels" if tool == "clvmodels" else "pymc-marketing"
    # the maximum-likelihood estimate on the same customers (untimed), to check the posterior against
    import clvmodels

    mle = clvmodels.ParetoNBDModel().fit(clvmodels.as_summary(
        data, time_unit="W", observation_end="2025-01-01", customer_id_col="customer_id"))
    sampler = "pymc" if tool == "pymc-marketing" else "nutpie"
    return {"group": "pnbd-bayes", "tool": library, "version": _version(library), "method": "nuts",
            "variant": tool, "compare": f"pnbd-bayes-{chains}x{draws}+{tune}", "sampler": sampler, "sampler_version": _version(sampler),
            "size": int(size), "distinct_rows": int(rows), "chains": chains, "draws": draws, "tune": tune,
            "seed": seed, "cores": _cores(chains), "seconds": round(seconds, 3),
            "min_ess_bulk": round(float(az.ess(post, method="bulk").to_array().min()), 1),
            "min_ess_tail": round(float(az.ess(post, method="tail").to_array().min()), 1),
            "max_rhat": round(float(az.rhat(post).to_array().max()), 4),
            "divergences": int(stats["diverging"].sum()) if "diverging" in stats else None,
            "posterior_mean": {k: round(float(post[k].mean()), 5) for k in TRUTH},
            "posterior_sd": {k: round(float(post[k].std()), 5) for k in TRUTH},
            "mle_params": {k: round(float(mle.params_[k]), 5) for k in TRUTH},
            "load_1min": [load_before, _load()]}


# ----- plan and summary --------------------------------------------------------------------------
def plan(quick: bool = False, mle_sizes=(1_000_000,), lifetimes_sizes=(1_000_000,), bayes_sizes=(100_000,),
         peer_bayes_sizes=(10_000,), chains: int = 4, draws: int = 1000, tune: int = 1000,
         time_limit: float = 7_200.0) -> list[tuple[str, dict, float]]:
    """(task, parameters, time limit) for :func:`benchmarks.harness.run_suite`.

    Full run: the MLE of every contender at ``mle_sizes`` (lifetimes on every row only at
    ``lifetimes_sizes``); clvmodels' NUTS at ``bayes_sizes`` and ``peer_bayes_sizes``, the
    pymc-marketing samplers at ``peer_bayes_sizes``. Quick: 5,000 customers, 2 chains x 100 draws,
    pymc-marketing left out (its model compiles for longer than the whole quick suite may take).
    """
    if quick:
        return [("benchmarks.paretonbd:mle_fit", {"size": 5_000, "tool": t}, 120)
                for t in ("clvmodels", "lifetimes-weights")] + [
            ("benchmarks.paretonbd:bayes_fit", {"size": 5_000, "tool": "clvmodels", "chains": 2,
                                                "draws": 100, "tune": 100}, 120)]
    out = [("benchmarks.paretonbd:mle_fit", {"size": size, "tool": t}, time_limit)
           for size in mle_sizes for t in ("clvmodels", "lifetimes-weights")]
    bayes = {"chains": chains, "draws": draws, "tune": tune}
    task = "benchmarks.paretonbd:bayes_fit"
    for size in sorted(set(bayes_sizes) | set(peer_bayes_sizes)):
        tools = ["clvmodels"] + (["pymc-marketing"] if size in peer_bayes_sizes else [])
        out += [(task, {"size": size, "tool": t, **bayes}, time_limit) for t in tools]
    # pymc-marketing's model through nutpie samples slower than through PyMC (measured: 2 x 100
    # draws + 100 tuning took 173 s at 10,000 customers), so it runs short, beside clvmodels alike
    short = {"chains": chains, "draws": 100, "tune": 100}
    for size in peer_bayes_sizes:
        out += [(task, {"size": size, "tool": t, **short}, time_limit) for t in ("clvmodels", "pymc-marketing-nutpie")]
    # lifetimes on every customer row is the longest run: last
    out += [("benchmarks.paretonbd:mle_fit", {"size": size, "tool": "lifetimes"}, time_limit)
            for size in mle_sizes if size in lifetimes_sizes]
    return out


def summary(records: list[dict]) -> dict:
    """Headline ratios (peer seconds / clvmodels seconds at the same size) and the checks of the
    Bayesian rows: R-hat <= 1.01 and clvmodels' posterior means within one posterior sd of its MLE
    at the same size when both ran."""
    ok = [r for r in records if r.get("record") == "result" and r.get("status") == "ok"]
    ours = {(r["compare"], r["size"]): r for r in ok if r["tool"] == "clvmodels"}
    ratios = []
    for r in ok:
        mine = ours.get((r["compare"], r["size"]))
        if r["tool"] != "clvmodels" and mine:
            ratios.append({"compare": r["compare"], "size": r["size"], "peer": r["variant"],
                           "peer_seconds": r["seconds"], "clvmodels_seconds": mine["seconds"],
                           "ratio": round(r["seconds"] / mine["seconds"], 1)})
    for r in records:  # a peer that ran out of time: its limit over clvmodels' seconds is a lower bound
        mine = ours.get((r.get("compare"), r.get("size")))
        if r.get("record") == "result" and r.get("status") == "timeout" and mine is None:
            key = f"pnbd-bayes-{r.get('chains')}x{r.get('draws')}+{r.get('tune')}" if "draws" in r else "pnbd-mle"
            mine = ours.get((key, r.get("size")))
        if r.get("record") == "result" and r.get("status") == "timeout" and mine:
            ratios.append({"compare": mine["compare"], "size": r["size"], "peer": r["tool"],
                           "peer_seconds": f"> {r['time_limit']:.0f} (timeout)", "clvmodels_seconds": mine["seconds"],
                           "ratio": f"> {r['time_limit'] / mine['seconds']:.1f}"})
    checks = []
    for r in ok:
        if not r["compare"].startswith("pnbd-bayes"):
            continue
        mle = r.get("mle_params") or ours.get(("pnbd-mle", r["size"]), {}).get("params")
        within = None if mle is None else all(
            abs(r["posterior_mean"][k] - mle[k]) <= r["posterior_sd"][k] for k in TRUTH)
        checks.append({"size": r["size"], "variant": r["variant"], "max_rhat": r["max_rhat"],
                       "rhat_ok": r["max_rhat"] <= 1.01, "means_within_one_sd_of_mle": within})
    machine = next((r for r in records if r.get("record") != "result"), {})
    return {"ratios": ratios, "bayes_checks": checks, "truth": TRUTH, "machine": machine,
            "uptime_at_end": os.popen("uptime").read().strip()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.paretonbd", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes for CI (well under a minute)")
    parser.add_argument("--mle-sizes", type=int, nargs="*", default=[1_000_000])
    parser.add_argument("--lifetimes-sizes", type=int, nargs="*", default=[1_000_000],
                        help="sizes at which lifetimes also fits every customer row (not only distinct rows)")
    parser.add_argument("--bayes-sizes", type=int, nargs="*", default=[100_000])
    parser.add_argument("--peer-bayes-sizes", type=int, nargs="*", default=[10_000],
                        help="sizes at which pymc-marketing samples too")
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=1000)
    parser.add_argument("--time-limit", type=float, default=3_600.0, help="seconds per contender")
    parser.add_argument("--out", type=Path, default=None, help=f"output folder (default {DEFAULT_OUT})")
    parser.add_argument("--summarize", type=Path, metavar="DIR",
                        help="rewrite DIR/summary.json from DIR/results.jsonl and exit (no run)")
    args = parser.parse_args(argv)
    if args.summarize:
        records = [json.loads(line) for line in (args.summarize / "results.jsonl").read_text().splitlines() if line]
        (args.summarize / "summary.json").write_text(json.dumps(summary(records), indent=1) + "\n")
        print((args.summarize / "summary.json").read_text())
        return 0
    from benchmarks.harness import run_suite

    out = args.out or (DEFAULT_OUT / "quick" if args.quick else DEFAULT_OUT)
    contenders = plan(args.quick, args.mle_sizes, args.lifetimes_sizes, args.bayes_sizes,
                      args.peer_bayes_sizes, args.chains, args.draws, args.tune, args.time_limit)
    records = run_suite(contenders, out)
    result = summary(records)
    (out / "summary.json").write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))
    failed = [r for r in records if r.get("record") == "result" and r["status"] != "ok"]
    for r in failed:
        print(f"FAILED: {r['task']} {r.get('size')} {r.get('tool')}: {r['status']}", file=sys.stderr)
    return 1 if failed and args.quick else 0


if __name__ == "__main__":
    sys.exit(main())
