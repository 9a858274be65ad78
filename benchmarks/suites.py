"""Suites: lists of (task, parameters, time limit in seconds) for :func:`benchmarks.harness.run_suite`."""

from __future__ import annotations

PEERS = ("clvmodels", "lifetimes")


def _pairs(task, sizes, limit, **extra):
    return [(task, {"size": s, "tool": t, **extra}, limit) for s in sizes for t in PEERS]


def quick():
    """Seconds: every task at a small size, so the harness never rots (runs in CI)."""
    return (_pairs("rfm", [20_000], 120) + _pairs("fit", [5_000], 120)
            + _pairs("score", [5_000], 120)
            + [("score", {"size": 5_000, "tool": "clvmodels", "uncertainty": u}, 120)
               for u in ("expected", "predictive")]
            + [("accuracy", {"tool": t}, 120) for t in PEERS])


def rfm():
    return _pairs("rfm", [100_000, 1_000_000, 10_000_000], 1_800)


def fit():
    sizes = [10_000, 100_000, 1_000_000, 10_000_000]
    return (_pairs("fit", sizes, 1_800)
            + [("fit", {"size": s, "tool": "lifetimes", "weights": True}, 1_800) for s in sizes])


def score():
    sizes = [10_000, 100_000, 1_000_000]
    return (_pairs("score", sizes, 1_800)
            + [("score", {"size": s, "tool": "clvmodels", "uncertainty": u}, 1_800)
               for s in sizes for u in ("expected", "predictive")])


def accuracy():
    return [("accuracy", {"tool": t}, 600) for t in PEERS]


SUITES = {"quick": quick, "rfm": rfm, "fit": fit, "score": score, "accuracy": accuracy}
