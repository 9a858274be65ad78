"""The ``value`` benchmark task: customer value and win-back targeting on simulated customers.

``value(size, tool, what, ...)`` times one operation (see :mod:`benchmarks.tasks` for the record
conventions: ``seconds`` covers the measured call only, after an untimed warm-up on 300 rows):

- ``none`` (both tools): customer value without intervals over 12 months (52.14 weeks at
  1.01^12 - 1 a year) against lifetimes' ``customer_lifetime_value`` (12 monthly steps of 4.345
  weeks at 1% a month), compare key ``value-clv``: the same economics, see ``CLV_NOTE``;
- ``expected`` / ``predictive`` (clvmodels): the same customer value with the interval of the
  expected value or the predictive interval, ``n_draws`` paired parameter draws;
- ``winback`` (clvmodels): :func:`clvmodels.winback_targets` on the lapsed candidates (no
  purchase in the last 26 weeks), a 3% uplift, one contact costing 1.0, ``n_draws`` draws.

Models are fitted (MLE) outside the timed region. Checksums: the sums of the point and interval
columns, so runs that should compute the same thing can be compared number for number.
"""

from __future__ import annotations

import os

import numpy as np

from benchmarks.tasks import (CLV_MONTHLY_RATE, CLV_MONTHS, CLV_NOTE, CLV_WEEKS_PER_MONTH, _compare,
                              _distinct, _fitted, _sums, _timed, _version)

VALUE_VARIANTS = ("none", "expected", "predictive", "winback")
_LABELS = {"none": "customer value, no intervals (12 months)",
           "expected": "customer value, expected intervals (12 months)",
           "predictive": "customer value, predictive intervals (12 months)",
           "winback": "winback_targets, lapsed 26+ weeks"}
_COMPARE = {"none": "value-clv", "expected": "value-expected", "predictive": "value-predictive",
            "winback": "value-winback"}
#: economics of the customer-value variants: lifetimes' 12 months at 1% a month, continuously
ECONOMICS = {"margin": 1.0, "horizon": CLV_MONTHS * CLV_WEEKS_PER_MONTH,
             "discount_rate": (1 + CLV_MONTHLY_RATE) ** 12 - 1}
LAPSED_WEEKS, UPLIFT, CONTACT_COST = 26.0, 0.03, 1.0


def _column_sums(frame, columns) -> dict:
    out = {}
    for c in columns:
        if c in frame.columns:
            values = frame[c].to_numpy(float)
            finite = np.isfinite(values)
            out[f"sum_{c}"] = round(float(values[finite].sum()), 4)
            if not finite.all():
                out[f"nonfinite_{c}"] = int((~finite).sum())
    return out


def _winback(bg, gg, summary, n_draws, seed):
    import clvmodels

    lapsed = clvmodels.lapsed_customers(summary, window=LAPSED_WEEKS * 7, window_unit="D")

    def run(s):
        return clvmodels.winback_targets(s, bg, gg, sequence=[("email", CONTACT_COST, 0)],
                                         uplift=UPLIFT, n_draws=n_draws, seed=seed,
                                         include_rejected=True, **ECONOMICS)
    seconds, out = _timed(run, lapsed)
    sums = _column_sums(out, ["expected_value", "expected_value_lower", "expected_value_upper",
                                 "value_if_returned", "value_if_returned_lower",
                                 "value_if_returned_upper", "uplift"])
    return seconds, {"candidates": len(lapsed), **sums}


def value(size: int, tool: str, what: str = "none", n_draws: int = 300, seed: int = 0,
          data: str = "compressible") -> dict:
    """Customer value / win-back targets of ``size`` simulated customers (see the module docstring).

    ``data``: see :data:`benchmarks.tasks.DATA_VARIANTS`. The record notes ``threads`` (the
    ``CLVMODELS_THREADS`` setting, or the package default).
    """
    import pandas as pd

    import clvmodels

    if what not in VALUE_VARIANTS:
        raise ValueError(f"what must be one of {VALUE_VARIANTS}; got {what!r}")
    if tool != "clvmodels" and what != "none":
        raise ValueError(f"{tool} has no {what!r} variant")
    summary, bg, gg, bg_params, gg_params = _fitted(size, seed, data)
    extra: dict = {}
    if tool == "clvmodels":
        from clvmodels.models.scoring import N_THREADS

        extra["threads"] = N_THREADS
        if what == "winback":
            seconds, sums = _winback(bg, gg, summary, n_draws, seed)
            extra.update(sums, n_draws=n_draws)
        else:
            uncertainty = None if what == "none" else what
            seconds, out = _timed(lambda s: clvmodels.customer_value(
                bg, gg, s, uncertainty=uncertainty, n_draws=n_draws, seed=seed, **ECONOMICS), summary)
            extra = {**extra, **_sums(clv=out["expected_future_margin"]),
                     **_column_sums(out, ["expected_future_margin_lower", "expected_future_margin_upper",
                                          "net_value", "net_value_lower", "net_value_upper"])}
            if uncertainty is not None:
                extra["n_draws"] = n_draws
            else:
                extra["note"] = CLV_NOTE
    else:
        from lifetimes import BetaGeoFitter, GammaGammaFitter

        b, g = BetaGeoFitter(), GammaGammaFitter()
        names = ["r", "alpha", "a", "b"]
        b.params_ = pd.Series([bg_params[k] for k in names], index=names)
        b.predict = b.conditional_expected_number_of_purchases_up_to_time  # set by fit() otherwise
        g.params_ = pd.Series({"p": gg_params["p"], "q": gg_params["q"], "v": gg_params["gamma"]})
        seconds, out = _timed(lambda s: g.customer_lifetime_value(
            b, s["frequency"], s["recency"], s["T"], s["monetary_value"], time=CLV_MONTHS,
            discount_rate=CLV_MONTHLY_RATE, freq="W"), summary)
        extra = {**_sums(clv=out), "note": CLV_NOTE}
    return {"group": "value", "tool": tool, "version": _version(tool), "method": "mle",
            "variant": _LABELS[what] if tool == "clvmodels" else "12-month CLV",
            "compare": _compare(_COMPARE[what], data), "data": data, "size": size,
            "distinct": _distinct(summary), "seconds": round(seconds, 4),
            "load_1min": round(os.getloadavg()[0], 2),
            "params": {k: round(v, 6) for k, v in {**bg_params, **gg_params}.items()}, **extra}
