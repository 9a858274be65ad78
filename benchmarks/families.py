"""Every purchase family's predictions with both interval kinds at 1M customers (issue #15 goal:
predictive intervals of every family at 1M customers in <= 30 s).

``python -m benchmarks.families [--size N] [--quick] [--out DIR]``. For each registered family the
worker draws customers from the family's own population simulator at its ``example_params``
(``family.simulate_histories``: purchases in continuous time, then recency and T rounded to whole
days as a log records them; acquisition spread over the first quarter of a 52-week window; 6
yearly opportunities for BG/BB), fits the family's estimator by
MLE (untimed), then times ``predict(summary, horizon, uncertainty=..., n_draws=300)`` (the purchase
model's five quantities, no spend model). There is no peer at this size for the interval kinds
(lifetimes has none; pymc-marketing's predictive sampling of 1M customers does not finish in a
session), so the records state seconds and memory against the goal, not ratios. Checksums (sum of
expected purchases and of the interval bounds) show that runs compute the same numbers.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HORIZON = {False: 52.0, True: 5.0}  # weeks ahead; opportunities ahead for a discrete-time family
N_DRAWS = 300


def _summary(family, size: int, seed: int):
    import numpy as np
    import pandas as pd

    from clvmodels.data.meta import set_summary_meta

    rng = np.random.default_rng(seed)
    if family.discrete_time:
        age = np.full(size, 6.0)
        unit = "Y"
    else:  # acquired over a quarter, observed to the end of week 52, in continuous time
        age = 52.0 - rng.uniform(0.0, 13.0, size)
        unit = "W"
    history, _ = family.simulate_histories(rng, dict(family.example_params), age)
    summary = pd.DataFrame(dict(zip(family.history_columns, history)),
                           index=pd.RangeIndex(size, name="customer_id"))
    if not family.discrete_time:  # a log records days: recency and T in whole days, as weeks
        summary["T"] = np.round(summary["T"] * 7.0) / 7.0
        summary["recency"] = np.minimum(np.round(summary["recency"] * 7.0) / 7.0, summary["T"])
    return set_summary_meta(summary, time_unit=unit)


def predict(size: int, family: str, uncertainty: str, seed: int = 0) -> dict:
    """Time one family's ``predict`` with ``uncertainty`` on ``size`` simulated customers."""
    import clvmodels
    from benchmarks.harness import timed
    from clvmodels.models.registry import purchase_model_class

    cls = purchase_model_class(family)
    summary = _summary(cls.family, size, seed)
    model = cls().fit(summary)
    horizon = HORIZON[cls.family.discrete_time]

    def run(s):
        return model.predict(s, horizon, uncertainty=uncertainty, n_draws=N_DRAWS, seed=seed)

    seconds, out = timed(lambda: run(summary), warmup=lambda: run(summary.iloc[:300]))
    sums = {f"sum_{c}": round(float(out[c].sum()), 3) for c in out.columns
            if c.startswith("expected_purchases")}
    return {"group": "families", "tool": "clvmodels", "version": clvmodels.__version__,
            "method": "mle", "variant": f"{family} predict ({uncertainty})",
            "compare": f"families-predict-{uncertainty}-{family}", "size": size,
            "distinct": int(len(summary.drop_duplicates())), "seconds": round(seconds, 3),
            "n_draws": N_DRAWS, "params": {k: round(float(v), 6) for k, v in model.params_.items()},
            **sums}


def contenders(size: int, limit: float) -> list[tuple[str, dict, float]]:
    """One contender per registered family and interval kind."""
    from clvmodels.models.registry import purchase_model_names

    task = f"{Path(__file__).resolve()}:predict"
    return [(task, {"size": size, "family": name, "uncertainty": kind}, limit)
            for name in purchase_model_names() for kind in ("expected", "predictive")]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.families", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="20,000 customers (CI, seconds)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    from benchmarks.harness import run_suite

    size = 20_000 if args.quick else args.size
    out = args.out or Path(__file__).resolve().parent / "results" / ("families_quick" if args.quick
                                                                    else "families")
    records = run_suite(contenders(size, 600.0), out)
    print((out / "results.md").read_text())
    failed = [r for r in records if r.get("record") == "result" and r["status"] != "ok"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
