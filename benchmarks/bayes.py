"""Benchmark: Bayesian BG/NBD fits, clvmodels' engine against pymc-marketing 0.19.2.

Contenders (the ``tool`` argument of :func:`bayes_fit`, recorded as the ``variant``):

- ``clvmodels``: :func:`clvmodels.inference.bayes.fit_bgnbd_bayes` with ``sampler="nutpie"`` (the
  fused numba log density on distinct rows; the compression of customers to distinct rows is
  inside the timing);
- ``clvmodels-pymc``: the same engine's plain PyTensor reference model with PyMC's NUTS;
- ``pymc-marketing``: ``pymc_marketing.clv.BetaGeoModel`` with its default sampler (PyMC NUTS);
- ``pymc-marketing-nutpie``: the same with ``nuts_sampler="nutpie"``.

All use the same simulated customers (BG/NBD at the CDNOW estimates, first purchases spread over
39 weeks of days, weeks = days / 7), the same chains, draws and tuning steps, and at most
``min(chains, cores)`` processes or threads for the chains.

Each contender is the harness task ``benchmarks.bayes:bayes_fit`` (see :mod:`benchmarks.harness`):
it runs in its own process tree with a time limit (on timeout the whole tree is killed, PyMC's and
nutpie's worker processes included) and its peak resident memory is polled from outside
(``peak_rss_mb``; ``added_mb`` over the RSS just before the fit). ``seconds`` times the fit only
(model build, sampling and, for clvmodels, the compression to distinct rows), after an untimed
warm-up: the same fit on the first 300 customers with 50 tuning steps and 50 draws
(``warmup_seconds``), so costs a second fit in the same process does not pay again (imports,
clvmodels' numba compilation, cold caches) stay out of it; what every fit pays again stays in (e.g.
pymc-marketing with nutpie compiles each new model). The posterior diagnostics are computed after
the timing: min bulk and tail ESS over r, alpha, a, b, bulk ESS per second of the fit, max R-hat,
divergences and posterior means.
Records carry group ``"bayes"`` and compare key ``"bayes"``, so the harness's ratio is peer
seconds / clvmodels seconds at each size; ``tool`` is the library whose code ran (clvmodels for
``clvmodels-pymc``, which is therefore a second clvmodels row the pymc-marketing rows are also
compared with).

Two ways to run the same contenders:

- ``python -m benchmarks run --suite bayes``: the default :func:`plan` (every contender at 10,000
  and 100,000 customers except ``clvmodels-pymc``, which runs at 10,000 only; clvmodels alone at
  1,000,000), 4 chains of 1,000 draws after 1,000 tuning steps, 2,400 s per contender; writes
  ``results.jsonl`` and ``results.md`` to ``benchmarks/results/bayes/``;
- ``python -m benchmarks.bayes [--sizes ...] [--chains ...] [--out DIR]``: the same with other
  settings (``--help``); it also appends a table of the sampling diagnostics to ``results.md``.
  ``python -m benchmarks.bayes --table DIR`` prints that table from an existing ``results.jsonl``.

The committed results (``benchmarks/results/bayes/``) come from the suite; the earlier
``bayes.json`` of the previous standalone version was removed, since its peak memory (the child's
``ru_maxrss``, which carries the parent's RSS over) was not a valid measurement.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "results" / "bayes"
TASK = "benchmarks.bayes:bayes_fit"
TIME_LIMIT = 2_400.0
TRUTH = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
CONTENDERS = ("clvmodels", "clvmodels-pymc", "pymc-marketing", "pymc-marketing-nutpie")
#: untimed warm-up: the same fit on the first customers, few steps (see the module docstring)
WARMUP_CUSTOMERS, WARMUP_DRAWS, WARMUP_TUNE = 300, 50, 50


def simulate_summary(n: int, seed: int = 0, r=0.243, alpha=4.414, a=0.793, b=2.426):
    """BG/NBD customers: ``customer_id, frequency, recency, T`` in weeks of whole days.

    X(T) = min(Poisson(lambda T), Geometric(p)) (Fader, Hardie & Lee 2005, section 3); given N
    Poisson arrivals in (0, T] the x-th is the x-th uniform order statistic, T * Beta(x, N - x + 1),
    floored to whole days.
    """
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    T_days = rng.integers(91, 274, n)
    lam = rng.gamma(r, 1.0 / alpha, n)
    arrivals = rng.poisson(lam * T_days / 7.0)
    x = np.minimum(arrivals, rng.geometric(rng.beta(a, b, n)))
    last = rng.beta(np.maximum(x, 1), np.maximum(arrivals - x + 1, 1))
    t_x = np.where(x > 0, np.floor(last * T_days), 0.0)
    return pd.DataFrame({"customer_id": np.arange(n), "frequency": x, "recency": t_x / 7.0,
                         "T": T_days / 7.0})


def _cores(chains: int) -> int:
    """Processes/threads for the chains: clvmodels' own rule, applied to pymc-marketing too."""
    return max(1, min(chains, os.cpu_count() or 1))


def _fit_clvmodels(data, sampler: str, chains: int, draws: int, tune: int, seed: int):
    from clvmodels.inference.bayes import fit_bgnbd_bayes

    rows = data.groupby(["frequency", "recency", "T"]).size().reset_index(name="n")
    return fit_bgnbd_bayes(rows["frequency"].to_numpy(), rows["recency"].to_numpy(), rows["T"].to_numpy(),
                           rows["n"].to_numpy(), sampler=sampler, chains=chains, draws=draws, tune=tune,
                           seed=seed), len(rows)


def _fit_pymc_marketing(data, nuts_sampler: str, chains: int, draws: int, tune: int, seed: int):
    from pymc_marketing.clv import BetaGeoModel

    model = BetaGeoModel()
    idata = model.fit(data=data, chains=chains, draws=draws, tune=tune, random_seed=seed,
                      cores=_cores(chains), progressbar=False, nuts_sampler=nuts_sampler)
    return idata, len(data)


#: contender -> (library, sampler, fit function, its first argument)
_HOW = {
    "clvmodels": ("clvmodels", "nutpie", _fit_clvmodels, "nutpie"),
    "clvmodels-pymc": ("clvmodels", "pymc", _fit_clvmodels, "pymc"),
    "pymc-marketing": ("pymc-marketing", "pymc", _fit_pymc_marketing, "pymc"),
    "pymc-marketing-nutpie": ("pymc-marketing", "nutpie", _fit_pymc_marketing, "nutpie"),
}


def _cpu_seconds() -> float:
    """CPU of this process (all threads) and of its exited, waited-for children (PyMC's chains)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def bayes_fit(size: int, tool: str, chains: int = 4, draws: int = 1000, tune: int = 1000, seed: int = 0) -> dict:
    """Harness task: one contender's Bayesian BG/NBD fit of ``size`` simulated customers.

    ``tool`` is a contender of :data:`CONTENDERS`. Returns the record (see the module docstring);
    call it through :func:`benchmarks.harness.run_contender`, which adds time limit and memory.
    """
    import warnings
    from importlib.metadata import version

    import arviz as az

    from benchmarks.harness import timed

    if tool not in _HOW:
        raise ValueError(f"tool must be one of {CONTENDERS}; got {tool!r}")
    library, sampler, fit, how = _HOW[tool]
    warnings.simplefilter("ignore")
    data = simulate_summary(int(size), seed=seed)
    cpu = {}

    def run():
        cpu["start"] = _cpu_seconds()
        out = fit(data, how, chains, draws, tune, seed)
        cpu["seconds"] = _cpu_seconds() - cpu["start"]
        return out

    def warmup():
        fit(data.iloc[:WARMUP_CUSTOMERS], how, chains, WARMUP_DRAWS, WARMUP_TUNE, seed)

    seconds, (idata, rows) = timed(run, warmup=warmup)
    post = idata.posterior[list(TRUTH)]
    ess_bulk = float(az.ess(post, method="bulk").to_array().min())
    ess_tail = float(az.ess(post, method="tail").to_array().min())
    stats = idata.sample_stats
    divergences = int(stats["diverging"].sum()) if "diverging" in stats else None
    return {
        "group": "bayes", "tool": library, "version": version(library), "method": "nuts",
        "variant": tool, "compare": "bayes", "sampler": sampler, "sampler_version": version(sampler),
        "size": int(size), "distinct_rows": int(rows), "chains": chains, "draws": draws, "tune": tune,
        "seed": seed, "cores": _cores(chains), "warmup": {"customers": WARMUP_CUSTOMERS,
                                                          "draws": WARMUP_DRAWS, "tune": WARMUP_TUNE},
        "seconds": round(seconds, 3), "cpu_seconds": round(cpu["seconds"], 2),
        "min_ess_bulk": round(ess_bulk, 1), "min_ess_tail": round(ess_tail, 1),
        "ess_bulk_per_second": round(ess_bulk / seconds, 2),
        "max_rhat": round(float(az.rhat(post).to_array().max()), 4), "divergences": divergences,
        "posterior_mean": {k: round(float(post[k].mean()), 4) for k in TRUTH},
    }


# ----- plan and runs -----------------------------------------------------------------------------
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


def suite(sizes=(10_000, 100_000), clvmodels_only_sizes=(1_000_000,), reference_sizes=(10_000,),
          contenders=CONTENDERS, chains: int = 4, draws: int = 1000, tune: int = 1000, seed: int = 0,
          time_limit: float = TIME_LIMIT) -> list[tuple[str, dict, float]]:
    """The planned contenders as (task, parameters, time limit) for :func:`benchmarks.harness.run_suite`;
    the defaults are the ``bayes`` suite."""
    return [(TASK, {"size": int(size), "tool": tool, "chains": chains, "draws": draws, "tune": tune,
                    "seed": seed}, time_limit)
            for tool, size in plan(sizes, clvmodels_only_sizes, reference_sizes, contenders)]


def diagnostics_table(records: list[dict]) -> str:
    """Markdown: the sampling diagnostics of every bayes row, and clvmodels' bulk ESS per second
    over each row's (above 1: clvmodels draws effective samples faster)."""
    rows = [r for r in records if r.get("record") == "result" and r.get("group", "bayes") == "bayes"
            and (r.get("task") in (None, TASK))]
    ours = {r["size"]: r["ess_bulk_per_second"] for r in rows
            if r.get("status") == "ok" and r.get("variant") == "clvmodels"}
    out = ["sampling diagnostics (min over r, alpha, a, b; ESS per second of the timed fit)", "",
           ("| size | contender | chains x draws (tune) | seconds | warm-up s | distinct rows | min ESS bulk | "
            "min ESS tail | ESS bulk/s | clvmodels ESS/s ratio | max R-hat | divergences | r | alpha | a | b | "
            "status |"),
           "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        variant = r.get("variant", r.get("tool"))
        setting = f"{r.get('chains')} x {r.get('draws')} ({r.get('tune')})"
        if r.get("status") != "ok":
            out.append(f"| {r.get('size', 0):,} | {variant} | {setting} |" + " |" * 13 + f" {r.get('status')} |")
            continue
        means = r["posterior_mean"]
        ratio = ours.get(r["size"])
        ratio = (f"{ratio / r['ess_bulk_per_second']:.1f}x"
                 if ratio and r["ess_bulk_per_second"] and variant != "clvmodels" else "")
        out.append(f"| {r['size']:,} | {variant} | {setting} | {r['seconds']:.2f} | {r.get('warmup_seconds', 0):.1f} | "
                   f"{r['distinct_rows']:,} | {r['min_ess_bulk']:.0f} | {r['min_ess_tail']:.0f} | "
                   f"{r['ess_bulk_per_second']:.1f} | {ratio} | {r['max_rhat']:.3f} | {r['divergences']} | "
                   + " | ".join(f"{means[k]:.3f}" for k in TRUTH) + " | ok |")
    out += ["", "truth: " + ", ".join(f"{k} = {v}" for k, v in TRUTH.items())]
    return "\n".join(out)


def _read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def main(argv=None) -> int:
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
    parser.add_argument("--time-limit", type=float, default=TIME_LIMIT, help="seconds per contender")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="output folder for results.jsonl and results.md (default benchmarks/results/bayes)")
    parser.add_argument("--table", type=Path, metavar="DIR",
                        help="print the diagnostics table of DIR/results.jsonl and exit (no run)")
    args = parser.parse_args(argv)
    if args.table:
        print(diagnostics_table(_read_jsonl(args.table / "results.jsonl")))
        return 0
    from benchmarks.harness import run_suite

    records = run_suite(suite(args.sizes, args.clvmodels_only_sizes, args.reference_sizes, args.contenders,
                              args.chains, args.draws, args.tune, args.seed, args.time_limit), args.out)
    with (args.out / "results.md").open("a") as md:
        md.write("\n" + diagnostics_table(records) + "\n")
    print((args.out / "results.md").read_text())
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
