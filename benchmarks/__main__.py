"""``python -m benchmarks run --suite NAME [--out DIR]``: run a benchmark suite.

Suites: quick (CI, well under a minute; exits 1 if any contender fails), rfm, fit, fit_realistic
(the fit suite's realistic-data rows alone), score, score_realistic (its realistic-data rows alone),
accuracy, bayes (Bayesian BG/NBD fits against pymc-marketing, up to 2,400 s per contender; the same
contenders with other sizes or settings: ``python -m benchmarks.bayes --help``). Each contender
runs in its own process (time limit, peak memory polled from outside); rows are paired by their
``compare`` key and the ratio is peer seconds / clvmodels seconds. Writes ``results.jsonl`` and
``results.md`` into the output folder. The out-of-core 100M-row aggregation is
``python -m benchmarks.rfm``; every purchase family's predict at 1M is
``python -m benchmarks.families``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from benchmarks.harness import run_suite
from benchmarks.suites import SUITES


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a suite")
    run.add_argument("--suite", required=True, choices=sorted(SUITES))
    run.add_argument("--out", type=Path, default=None, help="output folder (default benchmarks/results/<suite>)")
    args = parser.parse_args(argv)
    out = args.out or Path(__file__).resolve().parent / "results" / args.suite
    print(f"suite {args.suite} -> {out}")
    records = run_suite(SUITES[args.suite](), out)
    failed = [r for r in records if r.get("record") == "result" and r["status"] != "ok"]
    print((out / "results.md").read_text())
    for r in failed:
        print(f"FAILED: {r['task']} {json.dumps({k: r[k] for k in ('size', 'tool') if k in r})}: {r['status']}",
              file=sys.stderr)
    return 1 if failed and args.suite == "quick" else 0


if __name__ == "__main__":
    sys.exit(main())
