"""Benchmark contenders: each runs in a child process (see :mod:`benchmarks.harness`) and returns a
record. ``seconds`` times the measured operation only (data generation, fitting for scoring, and
imports excluded). Before it, the same operation runs untimed on a small slice of the data
(``warmup_seconds``), so one-off costs (lazy imports, JIT compilation, first-call caches) of
either tool stay out of ``seconds``. Every record has a ``variant`` (what exactly this tool did)
and a ``compare`` key: rows with the same ``compare`` and ``size`` measure the same work and are
compared (``rfm``, ``fit``, ``score-point-3``, ``score-clv``, ``score-expected``,
``score-predictive``, ``accuracy-fit``).

Simulated customers come from :func:`clvmodels.datasets.simulate_summary` at CDNOW-like weekly
parameters, so parameter errors against the truth are meaningful, in two data variants
(:data:`DATA_VARIANTS`): ``"compressible"`` (the original: 39-week window, first purchases over 12
weeks; few distinct rows) and ``"realistic"`` (52-week window, first purchases spread over a
quarter in whole days, a practically continuous Gamma-Gamma spend per purchase: about 15% of customers have
a distinct (frequency, recency, T) row and nearly every repeat buyer a distinct average spend).
Records of the realistic variant carry ``data`` and a compare key ending in ``@realistic``, so they
are only ever paired with each other.
"""

from __future__ import annotations

import numpy as np

TRUE_BG = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
TRUE_GG = {"p": 6.25, "q": 3.74, "gamma": 15.44}
HORIZON = 39.0


#: simulation settings of each data variant (days; see the module docstring)
DATA_VARIANTS = {
    "compressible": {"calibration_days": 273, "cohort_days": 84},
    "realistic": {"calibration_days": 364, "cohort_days": 91, "spend_decimals": 6},
}


def _simulated(size: int, seed: int = 0, data: str = "compressible"):
    from clvmodels.datasets import simulate_summary

    if data not in DATA_VARIANTS:
        raise ValueError(f"data must be one of {list(DATA_VARIANTS)}; got {data!r}")
    return simulate_summary(int(size), **TRUE_BG, **TRUE_GG, time_unit="W", seed=seed,
                            **DATA_VARIANTS[data])


def _fitted(size: int, seed: int, data: str):
    """Simulated customers and clvmodels' MLE fits on them, outside any timed region: (summary,
    BetaGeoModel, GammaGammaModel, BG/NBD parameters, Gamma-Gamma parameters), the parameters as
    plain dicts to copy into a peer's fitters."""
    import clvmodels

    summary = _simulated(size, seed, data)
    bg = clvmodels.BetaGeoModel().fit(summary)
    gg = clvmodels.GammaGammaModel().fit(summary)
    return (summary, bg, gg, {k: float(bg.params_[k]) for k in TRUE_BG},
            {k: float(gg.params_[k]) for k in TRUE_GG})


def _compare(key: str, data: str) -> str:
    """The pairing key of a record: the original variant keeps its key, others are suffixed."""
    return key if data == "compressible" else f"{key}@{data}"


def _distinct(summary) -> int:
    return len(summary[["frequency", "recency", "T"]].drop_duplicates())


def _rel_errors(estimates: dict, truth: dict) -> dict:
    return {f"rel_error_{k}": round(abs(float(estimates[k]) / v - 1), 4) for k, v in truth.items()}


WARMUP_ROWS = 300


def _timed(op, data, warmup_rows: int | None = WARMUP_ROWS):
    """(seconds, result) of ``op(data)``, after an untimed ``op(data[:warmup_rows])``; the harness
    notes the memory around it."""
    from benchmarks.harness import timed

    warmup = None if warmup_rows is None else (lambda: op(data.iloc[:warmup_rows]))
    return timed(lambda: op(data), warmup=warmup)


def _version(name: str) -> str:
    return __import__(name).__version__


# ----- rfm ---------------------------------------------------------------------------------------
def rfm(size: int, tool: str, seed: int = 0) -> dict:
    """Transaction log of ``size`` rows -> customer summary (days)."""
    from benchmarks.rfm import make_transactions

    tx = make_transactions(int(size), seed=seed)
    if tool == "clvmodels":
        import clvmodels

        seconds, out = _timed(lambda t: clvmodels.rfm_summary(t, monetary_value_col="amount"), tx, 2_000)
    else:
        from lifetimes.utils import summary_data_from_transaction_data

        seconds, out = _timed(lambda t: summary_data_from_transaction_data(
            t, "customer_id", "date", monetary_value_col="amount", freq="D"), tx, 2_000)
    return {"group": "rfm", "tool": tool, "version": _version(tool), "method": "summary",
            "variant": "transactions -> summary", "compare": "rfm", "size": size, "customers": len(out),
            "seconds": round(seconds, 4), "sum_frequency": int(out["frequency"].sum())}


# ----- fit ---------------------------------------------------------------------------------------
def fit(size: int, tool: str, weights: bool = False, seed: int = 0, data: str = "compressible") -> dict:
    """BG/NBD + Gamma-Gamma MLE on ``size`` simulated customers; compare key "fit" for every variant.

    clvmodels compresses to distinct rows inside its fit; lifetimes' ``weights=`` variant does the
    same compression (a pandas groupby, timed) and passes the counts as ``weights``; lifetimes'
    "all rows" variant fits one row per customer. ``data``: see :data:`DATA_VARIANTS`.
    """
    summary = _simulated(size, seed, data)
    if tool == "clvmodels":
        import clvmodels

        seconds, (bg, gg) = _timed(lambda s: (clvmodels.BetaGeoModel().fit(s),
                                              clvmodels.GammaGammaModel().fit(s)), summary)
        bg_params, gg_params, variant = bg.params_, gg.params_, "distinct rows"
    else:
        from lifetimes import BetaGeoFitter, GammaGammaFitter

        if weights:
            def run(s):
                repeat = s[s["frequency"] > 0]
                rows = s.groupby(["frequency", "recency", "T"]).size().rename("w").reset_index()
                spend = repeat.groupby(["frequency", "monetary_value"]).size().rename("w").reset_index()
                b = BetaGeoFitter().fit(rows["frequency"], rows["recency"], rows["T"], weights=rows["w"])
                g = GammaGammaFitter().fit(spend["frequency"], spend["monetary_value"], weights=spend["w"])
                return b, g
        else:
            def run(s):
                repeat = s[s["frequency"] > 0]
                b = BetaGeoFitter().fit(s["frequency"], s["recency"], s["T"])
                g = GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
                return b, g
        seconds, (b, g) = _timed(run, summary)
        bg_params, gg_params = b.params_, g.params_.rename({"v": "gamma"})
        variant = "weights= (distinct rows)" if weights else "all rows"
    return {"group": "fit", "tool": tool, "version": _version(tool), "method": "mle", "variant": variant,
            "compare": _compare("fit", data), "data": data, "size": size, "distinct": _distinct(summary),
            "seconds": round(seconds, 4),
            "params": {k: round(float(v), 6) for k, v in {**dict(bg_params), **dict(gg_params)}.items()
                       if k in TRUE_BG or k in TRUE_GG},
            **_rel_errors(bg_params, TRUE_BG), **_rel_errors(gg_params, TRUE_GG)}


# ----- score -------------------------------------------------------------------------------------
SCORE_VARIANTS = ("point-3", "predict", "expected", "predictive", "clv")
_SCORE_COMPARE = {"point-3": "score-point-3", "predict": "score-point-3", "expected": "score-expected",
                  "predictive": "score-predictive", "clv": "score-clv"}
#: lifetimes' customer_lifetime_value settings: 12 months of 4.345 weeks, 1% a month
CLV_MONTHS, CLV_WEEKS_PER_MONTH, CLV_MONTHLY_RATE = 12, 4.345, 0.01
CLV_NOTE = (
    "lifetimes: sum over 12 monthly steps of 4.345 weeks of (increase of expected purchases in the "
    "month) x expected spend / 1.01^month, i.e. every purchase of a month discounted as if at its end. "
    "clvmodels: customer_value(margin=1, horizon=52.14 weeks, discount_rate=1.01^12-1 a year), every "
    "purchase discounted continuously at its own time (a year = 52.18 weeks); it also computes realised "
    "margin, clv and net value columns. Same horizon and annual rate, so clvmodels' sum is expected "
    "slightly higher (about half a month of discount, ~0.5%)."
)


def _sums(p_alive=None, purchases=None, spend=None, clv=None) -> dict:
    """Checksums (rounded sums) of what was computed, and how many values were not finite."""
    out = {}
    for name, values in (("p_alive", p_alive), ("expected_purchases", purchases),
                         ("expected_spend", spend), ("clv", clv)):
        if values is None:
            continue
        values = np.asarray(values, float)
        finite = np.isfinite(values)
        out[f"sum_{name}"] = round(float(values[finite].sum()), 4)
        if not finite.all():
            out[f"nonfinite_{name}"] = int((~finite).sum())
    return out


def score(size: int, tool: str, what: str = "point-3", n_draws: int = 200, seed: int = 0,
          data: str = "compressible") -> dict:
    """Scoring every customer, both tools at IDENTICAL parameters: clvmodels' MLE fitted on the
    simulated summary outside the timed region, copied into lifetimes' fitters.

    ``what`` (the timed operation; the record's ``variant`` describes it):

    - ``point-3`` (both): P(alive), expected purchases over 39 periods, expected spend;
    - ``predict`` (clvmodels): ``bg.predict(summary, 39, spend_model=gg)``, all 7 quantities, shown
      against lifetimes' point-3 (same compare key);
    - ``expected`` / ``predictive`` (clvmodels): the same with intervals from ``n_draws`` draws;
    - ``clv`` (both): 12-month discounted value (see :data:`CLV_NOTE` for the difference).

    ``data``: see :data:`DATA_VARIANTS`.
    """
    import pandas as pd

    import clvmodels

    if what not in SCORE_VARIANTS:
        raise ValueError(f"what must be one of {SCORE_VARIANTS}; got {what!r}")
    if tool != "clvmodels" and what not in ("point-3", "clv"):
        raise ValueError(f"{tool} has no {what!r} variant")
    summary, bg, gg, bg_params, gg_params = _fitted(size, seed, data)
    extra: dict = {}
    label = {"point-3": "point-3: p_alive, purchases, spend", "predict": "full predict (7 quantities)",
             "expected": f"predict, expected intervals, {n_draws} draws",
             "predictive": f"predict, predictive intervals, {n_draws} draws",
             "clv": "12-month CLV"}[what]
    if tool == "clvmodels":
        if what == "point-3":
            def run(s):
                return bg.p_alive(s), bg.expected_purchases(s, HORIZON), gg.expected_spend(s)
            seconds, (alive, purchases, spend) = _timed(run, summary)
            extra = _sums(alive["p_alive"], purchases["expected_purchases"], spend["expected_spend"])
        elif what == "clv":
            horizon = CLV_MONTHS * CLV_WEEKS_PER_MONTH
            annual = (1 + CLV_MONTHLY_RATE) ** 12 - 1
            seconds, out = _timed(lambda s: clvmodels.customer_value(
                bg, gg, s, margin=1.0, horizon=horizon, discount_rate=annual, uncertainty=None), summary)
            extra = {**_sums(clv=out["expected_future_margin"]), "note": CLV_NOTE}
        else:
            uncertainty = None if what == "predict" else what
            seconds, out = _timed(lambda s: bg.predict(s, HORIZON, spend_model=gg, uncertainty=uncertainty,
                                                       n_draws=n_draws, seed=seed), summary)
            extra = _sums(out["p_alive"], out["expected_purchases"], out["expected_spend"])
            extra["columns"] = len(out.columns)
            if uncertainty is not None:
                extra["n_draws"] = n_draws
    else:
        from lifetimes import BetaGeoFitter, GammaGammaFitter

        b, g = BetaGeoFitter(), GammaGammaFitter()
        b.params_ = pd.Series([bg_params[k] for k in ("r", "alpha", "a", "b")], index=["r", "alpha", "a", "b"])
        b.predict = b.conditional_expected_number_of_purchases_up_to_time  # set by fit() otherwise
        g.params_ = pd.Series({"p": gg_params["p"], "q": gg_params["q"], "v": gg_params["gamma"]})
        if what == "point-3":
            # lifetimes takes arrays: columns -> numpy outside the timing (clvmodels takes the frame)
            arrays = pd.DataFrame({c: summary[c].to_numpy() for c in ("frequency", "recency", "T", "monetary_value")})

            def run(a):
                x, t_x, T, m = (a[c].to_numpy() for c in ("frequency", "recency", "T", "monetary_value"))
                alive = b.conditional_probability_alive(x, t_x, T)
                purchases = b.conditional_expected_number_of_purchases_up_to_time(HORIZON, x, t_x, T)
                spend = g.conditional_expected_average_profit(x, m)
                return alive, purchases, spend
            seconds, (alive, purchases, spend) = _timed(run, arrays)
            extra = _sums(alive, purchases, spend)
        else:
            seconds, out = _timed(lambda s: g.customer_lifetime_value(
                b, s["frequency"], s["recency"], s["T"], s["monetary_value"], time=CLV_MONTHS,
                discount_rate=CLV_MONTHLY_RATE, freq="W"), summary)
            extra = {**_sums(clv=out), "note": CLV_NOTE}
    return {"group": "score", "tool": tool, "version": _version(tool), "method": "mle",
            "variant": label, "compare": _compare(_SCORE_COMPARE[what], data), "data": data, "size": size,
            "distinct": _distinct(summary), "seconds": round(seconds, 4),
            "params": {k: round(v, 6) for k, v in {**bg_params, **gg_params}.items()}, **extra}


# ----- accuracy (CDNOW) --------------------------------------------------------------------------
def accuracy(tool: str) -> dict:
    """CDNOW, 39-week calibration and 39-week holdout: parameters, aggregate and per-customer error,
    and (clvmodels) coverage of 90% predictive intervals of holdout purchases."""
    from clvmodels.datasets import load_cdnow_summary

    cal = load_cdnow_summary()
    actual = cal["frequency_holdout"].to_numpy(float)
    x, t_x, T = (cal[c].to_numpy() for c in ("frequency", "recency", "T"))
    extra = {}
    if tool == "clvmodels":
        import clvmodels

        seconds, bg = _timed(lambda c: clvmodels.BetaGeoModel().fit(c), cal)
        pred = bg.expected_purchases(cal, 39.0, uncertainty="predictive", n_draws=500, seed=0)
        expected = pred["expected_purchases"].to_numpy()
        inside = (actual >= pred["expected_purchases_lower"]) & (actual <= pred["expected_purchases_upper"])
        extra["coverage_90_predictive"] = round(float(inside.mean()), 4)
        params = bg.params_
    else:
        from lifetimes import BetaGeoFitter

        seconds, b = _timed(lambda c: BetaGeoFitter().fit(c["frequency"].to_numpy(), c["recency"].to_numpy(),
                                                          c["T"].to_numpy()), cal)
        expected = b.conditional_expected_number_of_purchases_up_to_time(39.0, x, t_x, T)
        params = b.params_
    by_freq = {int(k): [round(float(actual[x == k].mean()), 3), round(float(expected[x == k].mean()), 3)]
               for k in range(7)}
    return {"group": "accuracy", "tool": tool, "version": _version(tool), "method": "mle",
            "variant": "CDNOW fit", "compare": "accuracy-fit", "size": len(cal),
            "seconds": round(seconds, 4), **_rel_errors(params, TRUE_BG),
            "holdout_actual": float(actual.sum()), "holdout_expected": round(float(np.sum(expected)), 1),
            "mae": round(float(np.mean(np.abs(actual - expected))), 4),
            "rmse": round(float(np.sqrt(np.mean((actual - expected) ** 2))), 4),
            "actual_vs_expected_by_frequency": by_freq, **extra}


# ----- value -------------------------------------------------------------------------------------
def value(size: int, tool: str, what: str = "none", n_draws: int = 300, seed: int = 0,
          data: str = "compressible") -> dict:
    """Customer value and win-back targeting; see :mod:`benchmarks.value` (compare keys
    ``value-clv``, ``value-expected``, ``value-predictive``, ``value-winback``)."""
    from benchmarks.value import value as run

    return run(size, tool, what=what, n_draws=n_draws, seed=seed, data=data)
