"""Benchmark: Bayesian BG/NBD fits, clvmodels' engine against pymc-marketing 0.19.2.

Contenders, each run in its own subprocess with a time limit (``python -m benchmarks.bayes --help``):

- ``clvmodels``: :func:`clvmodels.inference.bayes.fit_bgnbd_bayes` with ``sampler="nutpie"`` (the
  fused numba log density on distinct rows; the compression of customers to distinct rows is
  inside the timing);
- ``clvmodels-pymc``: the same engine's plain PyTensor reference model with PyMC's NUTS;
- ``pymc-marketing``: ``pymc_marketing.clv.BetaGeoModel`` with its default sampler (PyMC NUTS);
- ``pymc-marketing-nutpie``: the same with ``nuts_sampler="nutpie"``.

All use the same simulated customers (BG/NBD at the CDNOW estimates, first purchases spread over
39 weeks of days, weeks = days / 7), the same chains, draws and tuning steps, and at most two
cores (the machine has two). Recorded per run: wall seconds of the fit, min bulk and tail ESS over
r, alpha, a, b and bulk ESS per second, max R-hat, divergences, posterior means, peak resident
memory of the child (``ru_maxrss``), and the load average (the machine is shared).

Results go to ``benchmarks/results/bayes.json`` (or ``--out``) and are printed as a table with the
speed ratio of each contender against clvmodels. The harness calls :func:`run`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "results" / "bayes.json"
TRUTH = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
CONTENDERS = ("clvmodels", "clvmodels-pymc", "pymc-marketing", "pymc-marketing-nutpie")


def simulate_summary(n: int, seed: int = 0, r=0.243, alpha=4.414, a=0.793, b=2.426) -> pd.DataFrame:
    """BG/NBD customers: ``customer_id, frequency, recency, T`` in weeks of whole days.

    X(T) = min(Poisson(lambda T), Geometric(p)) (Fader, Hardie & Lee 2005, section 3); given N
    Poisson arrivals in (0, T] the x-th is the x-th uniform order statistic, T * Beta(x, N - x + 1),
    floored to whole days.
    """
    rng = np.random.default_rng(seed)
    T_days = rng.integers(91, 274, n)
    lam = rng.gamma(r, 1.0 / alpha, n)
    arrivals = rng.poisson(lam * T_days / 7.0)
    x = np.minimum(arrivals, rng.geometric(rng.beta(a, b, n)))
    last = rng.beta(np.maximum(x, 1), np.maximum(arrivals - x + 1, 1))
    t_x = np.where(x > 0, np.floor(last * T_days), 0.0)
    return pd.DataFrame({"customer_id": np.arange(n), "frequency": x, "recency": t_x / 7.0,
                         "T": T_days / 7.0})


def _fit_clvmodels(data: pd.DataFrame, sampler: str, chains: int, draws: int, tune: int, seed: int):
    from clvmodels.inference.bayes import fit_bgnbd_bayes

    rows = data.groupby(["frequency", "recency", "T"]).size().reset_index(name="n")
    return fit_bgnbd_bayes(rows["frequency"].to_numpy(), rows["recency"].to_numpy(), rows["T"].to_numpy(),
                           rows["n"].to_numpy(), sampler=sampler, chains=chains, draws=draws, tune=tune,
                           seed=seed), len(rows)


def _fit_pymc_marketing(data: pd.DataFrame, nuts_sampler: str, chains: int, draws: int, tune: int, seed: int):
    from pymc_marketing.clv import BetaGeoModel

    model = BetaGeoModel()
    idata = model.fit(data=data, chains=chains, draws=draws, tune=tune, random_seed=seed,
                      cores=min(chains, 2), progressbar=False, nuts_sampler=nuts_sampler)
    return idata, len(data)


def _child(params: dict) -> dict:
    """Fit in this process and measure; the parent runs this in a fresh interpreter."""
    import warnings

    import arviz as az

    warnings.simplefilter("ignore")
    data = simulate_summary(params["size"], seed=params["seed"])
    options = {k: params[k] for k in ("chains", "draws", "tune", "seed")}
    started = time.perf_counter()
    cpu = time.process_time()
    if params["tool"] == "clvmodels":
        idata, rows = _fit_clvmodels(data, "nutpie", **options)
    elif params["tool"] == "clvmodels-pymc":
        idata, rows = _fit_clvmodels(data, "pymc", **options)
    elif params["tool"] == "pymc-marketing":
        idata, rows = _fit_pymc_marketing(data, "pymc", **options)
    else:
        idata, rows = _fit_pymc_marketing(data, "nutpie", **options)
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu
    post = idata.posterior[list(TRUTH)]
    ess_bulk = float(az.ess(post, method="bulk").to_array().min())
    ess_tail = float(az.ess(post, method="tail").to_array().min())
    divergences = int(idata.sample_stats["diverging"].sum()) if "diverging" in idata.sample_stats else None
    return {
        "fit_seconds": round(wall, 2), "cpu_seconds": round(cpu, 2), "distinct_rows": rows,
        "min_ess_bulk": round(ess_bulk, 1), "min_ess_tail": round(ess_tail, 1),
        "ess_bulk_per_second": round(ess_bulk / wall, 2),
        "max_rhat": round(float(az.rhat(post).to_array().max()), 4), "divergences": divergences,
        "posterior_mean": {k: round(float(post[k].mean()), 4) for k in TRUTH},
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def run_contender(params: dict, time_limit: float) -> dict:
    """Run one contender in a subprocess; status "ok", "timeout" or "error: ..."."""
    record = {"benchmark": "bayes_bgnbd", **params, "time_limit": time_limit,
              "load_average_1min_before": round(os.getloadavg()[0], 2)}
    started = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, "-m", "benchmarks.bayes", "--child", json.dumps(params)],
                              capture_output=True, text=True, timeout=time_limit, cwd=HERE.parent)
    except subprocess.TimeoutExpired:
        return {**record, "status": "timeout", "process_seconds": round(time.perf_counter() - started, 1)}
    record["process_seconds"] = round(time.perf_counter() - started, 1)
    record["load_average_1min_after"] = round(os.getloadavg()[0], 2)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {**record, "status": f"error: {tail[:300]}"}
    return {**record, **json.loads(lines[-1]), "status": "ok"}


def plan(sizes=(10_000, 100_000), clvmodels_only_sizes=(1_000_000,), reference_sizes=(10_000,),
         contenders=CONTENDERS) -> list[tuple[str, int]]:
    """(tool, size) pairs: every contender at ``sizes``, clvmodels alone at the larger sizes, and
    the slow reference model (``clvmodels-pymc``) only at ``reference_sizes``."""
    pairs = []
    for size in sizes:
        for tool in contenders:
            if tool != "clvmodels-pymc" or size in reference_sizes:
                pairs.append((tool, size))
    pairs += [("clvmodels", size) for size in clvmodels_only_sizes if "clvmodels" in contenders]
    return pairs


def run(sizes=(10_000, 100_000), clvmodels_only_sizes=(1_000_000,), reference_sizes=(10_000,),
        contenders=CONTENDERS, chains: int = 4, draws: int = 1000, tune: int = 1000, seed: int = 0,
        time_limit: float = 1800.0, out: Path | str | None = DEFAULT_OUT) -> list[dict]:
    """Run every planned contender, write JSON to ``out`` (None: do not write), return the records."""
    machine = {"python": platform.python_version(), "cpus": os.cpu_count(), "machine": platform.machine()}
    records = []
    for tool, size in plan(sizes, clvmodels_only_sizes, reference_sizes, contenders):
        params = {"tool": tool, "size": int(size), "chains": chains, "draws": draws, "tune": tune, "seed": seed}
        record = run_contender(params, time_limit)
        record["machine"] = machine
        records.append(record)
        print(_line(record), flush=True)
        if out is not None:  # write as we go: a long run interrupted keeps what it measured
            Path(out).parent.mkdir(parents=True, exist_ok=True)
            Path(out).write_text(json.dumps(records, indent=2) + "\n")
    return records


def _line(r: dict) -> str:
    head = f"{r['tool']:<22} {r['size']:>9,}"
    if r["status"] != "ok":
        return f"{head}  {r['status']} (after {r.get('process_seconds', '?')} s)"
    return (f"{head}  fit {r['fit_seconds']:8.1f} s  ESS bulk {r['min_ess_bulk']:7.0f} "
            f"({r['ess_bulk_per_second']:7.1f}/s)  R-hat {r['max_rhat']:.3f}  div {r['divergences']}  "
            f"RSS {r['peak_rss_mb']:6.0f} MB  load {r['load_average_1min_before']:.1f}")


def ratios(records: list[dict]) -> list[dict]:
    """Per size: each peer's fit seconds and ESS/s relative to clvmodels (above 1: clvmodels better)."""
    out = []
    ok = [r for r in records if r["status"] == "ok"]
    for size in sorted({r["size"] for r in ok}):
        ours = next((r for r in ok if r["size"] == size and r["tool"] == "clvmodels"), None)
        if ours is None:
            continue
        for peer in (r for r in ok if r["size"] == size and r["tool"] != "clvmodels"):
            out.append({"size": size, "peer": peer["tool"],
                        "speedup_wall": round(peer["fit_seconds"] / ours["fit_seconds"], 1),
                        "ess_per_second_ratio": round(ours["ess_bulk_per_second"] / peer["ess_bulk_per_second"], 1)})
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bayes", description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000],
                        help="customers, every contender (default: 10000 100000)")
    parser.add_argument("--clvmodels-only-sizes", type=int, nargs="*", default=[1_000_000])
    parser.add_argument("--reference-sizes", type=int, nargs="*", default=[10_000],
                        help="sizes at which the slow clvmodels-pymc reference runs")
    parser.add_argument("--contenders", nargs="*", default=list(CONTENDERS), choices=CONTENDERS)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--time-limit", type=float, default=1800.0, help="seconds per contender")
    parser.add_argument("--out", default=str(DEFAULT_OUT))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(_child(json.loads(args.child))))
        return
    records = run(args.sizes, args.clvmodels_only_sizes, args.reference_sizes, args.contenders, args.chains,
                  args.draws, args.tune, args.seed, args.time_limit, args.out)
    for r in ratios(records):
        print(f"{r['size']:>9,} customers: {r['peer']} takes {r['speedup_wall']}x the wall time of clvmodels; "
              f"clvmodels has {r['ess_per_second_ratio']}x its bulk ESS per second")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
