"""Suites: lists of (task, parameters, time limit in seconds) for :func:`benchmarks.harness.run_suite`.

Pairing is by each record's ``compare`` key (see :mod:`benchmarks.tasks`), not by these lists.
"""

from __future__ import annotations

PEERS = ("clvmodels", "lifetimes")


def _pairs(task, sizes, limit, **extra):
    return [(task, {"size": s, "tool": t, **extra}, limit) for s in sizes for t in PEERS]


def _fit(sizes, limit, data="compressible"):
    """clvmodels, lifetimes on all rows and lifetimes with weights= on distinct rows."""
    return [("fit", {"size": s, "tool": t, "data": data, **({"weights": True} if w else {})}, limit)
            for s in sizes for t, w in (("clvmodels", False), ("lifetimes", False), ("lifetimes", True))]


def _score(sizes, limit, n_draws=300, data="compressible"):
    """Both tools' 3 point quantities and 12-month CLV; clvmodels' full predict and intervals."""
    out = []
    for s in sizes:
        common = {"size": s, "data": data}
        out += [("score", {**common, "tool": t, "what": "point-3"}, limit) for t in PEERS]
        out.append(("score", {**common, "tool": "clvmodels", "what": "predict"}, limit))
        out += [("score", {**common, "tool": "clvmodels", "what": u, "n_draws": n_draws}, limit)
                for u in ("expected", "predictive")]
        out += [("score", {**common, "tool": t, "what": "clv"}, limit) for t in PEERS]
    return out


def _value(sizes, limit, n_draws=300, data="compressible"):
    """Both tools' 12-month value without intervals; clvmodels' intervals and win-back targets."""
    out = []
    for s in sizes:
        common = {"size": s, "data": data}
        out += [("value", {**common, "tool": t, "what": "none"}, limit) for t in PEERS]
        out += [("value", {**common, "tool": "clvmodels", "what": w, "n_draws": n_draws}, limit)
                for w in ("expected", "predictive", "winback")]
    return out


def quick():
    """Seconds: every task at a small size, both data variants, so the harness never rots (CI)."""
    return (_pairs("rfm", [20_000], 120) + _fit([5_000], 120) + _score([5_000], 120)
            + _fit([5_000], 120, data="realistic") + _score([5_000], 120, data="realistic")
            + _value([5_000], 120) + _value([5_000], 120, data="realistic")
            + [("accuracy", {"tool": t}, 120) for t in PEERS])


def rfm():
    return _pairs("rfm", [100_000, 1_000_000, 10_000_000], 1_800)


def fit():
    return (_fit([10_000, 100_000, 1_000_000, 10_000_000], 1_800)
            + _fit([1_000_000, 10_000_000], 1_800, data="realistic"))


def fit_realistic():
    """The fit suite's realistic-data rows alone (1M and 10M customers), for re-measuring them."""
    return _fit([1_000_000, 10_000_000], 1_800, data="realistic")


def score():
    return _score([10_000, 100_000, 1_000_000], 1_800) + _score([1_000_000], 1_800, data="realistic")


def score_realistic():
    """The score suite's realistic-data rows alone (1M customers), for re-measuring them."""
    return _score([1_000_000], 1_800, data="realistic")


def value():
    """Customer value and win-back targets at 1,000,000 customers, both data variants."""
    return _value([1_000_000], 1_800) + _value([1_000_000], 1_800, data="realistic")


def accuracy():
    return [("accuracy", {"tool": t}, 600) for t in PEERS]


def bayes():
    """Bayesian BG/NBD fits against pymc-marketing (see :mod:`benchmarks.bayes`): all contenders at
    10,000 and 100,000 customers (clvmodels-pymc at 10,000 only), clvmodels alone at 1,000,000."""
    from benchmarks.bayes import suite

    return suite(time_limit=2_400)


SUITES = {"quick": quick, "rfm": rfm, "fit": fit, "fit_realistic": fit_realistic, "score": score,
          "score_realistic": score_realistic, "value": value, "accuracy": accuracy, "bayes": bayes}
