"""Benchmark contenders: each runs in a child process (see :mod:`benchmarks.harness`) and returns a
record. ``seconds`` times the measured operation only (data generation and imports excluded).

Simulated customers come from :func:`clvmodels.datasets.simulate_summary` at CDNOW-like weekly
parameters, so parameter errors against the truth are meaningful.
"""

from __future__ import annotations

import time

import numpy as np

TRUE_BG = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
TRUE_GG = {"p": 6.25, "q": 3.74, "gamma": 15.44}
HORIZON = 39.0


def _simulated(size: int, seed: int = 0):
    from clvmodels.datasets import simulate_summary

    return simulate_summary(int(size), **TRUE_BG, **TRUE_GG, time_unit="W", seed=seed)


def _distinct(summary) -> int:
    return int(len(summary[["frequency", "recency", "T"]].drop_duplicates()))


def _rel_errors(estimates: dict, truth: dict) -> dict:
    return {f"rel_error_{k}": round(abs(float(estimates[k]) / v - 1), 4) for k, v in truth.items()}


def _timed(function):
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def _version(name: str) -> str:
    return __import__(name).__version__


# ----- rfm ---------------------------------------------------------------------------------------
def rfm(size: int, tool: str, seed: int = 0) -> dict:
    """Transaction log of ``size`` rows -> customer summary."""
    from benchmarks.rfm import make_transactions

    tx = make_transactions(int(size), seed=seed)
    if tool == "clvmodels":
        import clvmodels

        seconds, out = _timed(lambda: clvmodels.rfm_summary(tx, monetary_value_col="amount"))
    else:
        from lifetimes.utils import summary_data_from_transaction_data

        seconds, out = _timed(lambda: summary_data_from_transaction_data(
            tx, "customer_id", "date", monetary_value_col="amount", freq="D"))
    return {"group": "rfm", "tool": tool, "version": _version(tool), "method": "summary",
            "size": size, "customers": len(out), "seconds": round(seconds, 4)}


# ----- fit ---------------------------------------------------------------------------------------
def fit(size: int, tool: str, weights: bool = False, seed: int = 0) -> dict:
    """BG/NBD + Gamma-Gamma MLE on ``size`` simulated customers."""
    summary = _simulated(size, seed)
    repeat = summary[summary["frequency"] > 0]
    if tool == "clvmodels":
        import clvmodels

        seconds, (bg, gg) = _timed(lambda: (clvmodels.BetaGeoModel().fit(summary),
                                            clvmodels.GammaGammaModel().fit(summary)))
        bg_params, gg_params, variant = bg.params_, gg.params_, "distinct rows"
    else:
        from lifetimes import BetaGeoFitter, GammaGammaFitter

        if weights:
            rows = summary.groupby(["frequency", "recency", "T"]).size().rename("w").reset_index()
            spend = repeat.groupby(["frequency", "monetary_value"]).size().rename("w").reset_index()

            def run():
                b = BetaGeoFitter().fit(rows["frequency"], rows["recency"], rows["T"], weights=rows["w"])
                g = GammaGammaFitter().fit(spend["frequency"], spend["monetary_value"], weights=spend["w"])
                return b, g
        else:
            def run():
                b = BetaGeoFitter().fit(summary["frequency"], summary["recency"], summary["T"])
                g = GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
                return b, g
        seconds, (b, g) = _timed(run)
        bg_params, gg_params = b.params_, g.params_.rename({"v": "gamma"})
        variant = "weights=" if weights else "all rows"
    return {"group": "fit", "tool": tool, "version": _version(tool), "method": "mle", "variant": variant,
            "size": size, "distinct": _distinct(summary), "seconds": round(seconds, 4),
            **_rel_errors(bg_params, TRUE_BG), **_rel_errors(gg_params, TRUE_GG)}


# ----- score -------------------------------------------------------------------------------------
def score(size: int, tool: str, uncertainty: str | None = None, n_draws: int = 200, seed: int = 0) -> dict:
    """P(alive), expected purchases (39 periods) and expected spend for every customer, at the
    true parameters (so only scoring is timed)."""
    summary = _simulated(size, seed)
    x, t_x, T = (summary[c].to_numpy() for c in ("frequency", "recency", "T"))
    if tool == "clvmodels":
        import clvmodels

        bg = clvmodels.BetaGeoModel().fit(summary)
        gg = clvmodels.GammaGammaModel().fit(summary)
        seconds, out = _timed(lambda: bg.predict(summary, HORIZON, spend_model=gg, uncertainty=uncertainty,
                                                 n_draws=n_draws, seed=seed))
        checksum = float(out["expected_purchases"].sum())
    else:
        from lifetimes import BetaGeoFitter, GammaGammaFitter

        b, g = BetaGeoFitter(), GammaGammaFitter()
        b.fit(x[:20_000], t_x[:20_000], T[:20_000])
        g.params_ = __import__("pandas").Series({"p": 6.25, "q": 3.74, "v": 15.44})

        def run():
            alive = b.conditional_probability_alive(x, t_x, T)
            purchases = b.conditional_expected_number_of_purchases_up_to_time(HORIZON, x, t_x, T)
            spend = g.conditional_expected_average_profit(summary["frequency"], summary["monetary_value"])
            return alive, purchases, spend
        seconds, (alive, purchases, spend) = _timed(run)
        checksum = float(np.nansum(purchases))
    return {"group": "score", "tool": tool, "version": _version(tool), "method": "mle",
            "variant": uncertainty or "point", "size": size, "distinct": _distinct(summary),
            "seconds": round(seconds, 4), "sum_expected_purchases": round(checksum, 2)}


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

        seconds, bg = _timed(lambda: clvmodels.BetaGeoModel().fit(cal))
        pred = bg.expected_purchases(cal, 39.0, uncertainty="predictive", n_draws=500, seed=0)
        expected = pred["expected_purchases"].to_numpy()
        inside = (actual >= pred["expected_purchases_lower"]) & (actual <= pred["expected_purchases_upper"])
        extra["coverage_90_predictive"] = round(float(inside.mean()), 4)
        params = bg.params_
    else:
        from lifetimes import BetaGeoFitter

        seconds, b = _timed(lambda: BetaGeoFitter().fit(x, t_x, T))
        expected = b.conditional_expected_number_of_purchases_up_to_time(39.0, x, t_x, T)
        params = b.params_
    by_freq = {int(k): [round(float(actual[x == k].mean()), 3), round(float(expected[x == k].mean()), 3)]
               for k in range(0, 7)}
    return {"group": "accuracy", "tool": tool, "version": _version(tool), "method": "mle", "size": len(cal),
            "seconds": round(seconds, 4), **_rel_errors(params, TRUE_BG),
            "holdout_actual": float(actual.sum()), "holdout_expected": round(float(np.sum(expected)), 1),
            "mae": round(float(np.mean(np.abs(actual - expected))), 4),
            "rmse": round(float(np.sqrt(np.mean((actual - expected) ** 2))), 4),
            "actual_vs_expected_by_frequency": by_freq, **extra}
