"""Lapsed customers: no purchase within a window, and/or a low probability of being alive.

Two criteria, each visible in the output so a marketer can see *why* a customer was flagged:

- **window**: the last purchase lies at least ``window`` time units before the reference date
  (``as_of``, by default the summary's observation end), i.e. the customer bought nothing in the
  last ``window``. Days are counted on calendar dates, so "12 months" and "365 days" differ by the
  fraction of a day the mean Gregorian year holds (see :mod:`clvmodels.data.timeunits`).
- **P(alive)**: the BG/NBD probability that the customer is still alive at the summary's
  observation end is below ``p_alive_below``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from clvmodels.data.meta import summary_meta, time_unit_of
from clvmodels.data.timeunits import DAYS_PER_UNIT, days_per_unit
from clvmodels.errors import DataError, check_choice, describe_rows

#: how the two criteria combine when both are given
COMBINE_CHOICES = ("any", "all")

_UNIT_NAMES = {"D": "days", "W": "weeks", "M": "months", "Y": "years"}

#: columns added by :func:`lapsed_customers`, in order
LAPSED_COLUMNS = ("days_since_last_purchase", "lapsed_by_window", "p_alive", "lapsed_by_p_alive",
                  "lapsed", "lapsed_reason")


def reference_date(summary: pd.DataFrame, as_of=None) -> pd.Timestamp:
    """The date from which days since the last purchase are counted.

    ``as_of`` when given, else the summary's observation end (``attrs["clvmodels"]``).
    """
    if as_of is not None:
        try:
            return pd.Timestamp(as_of)
        except (TypeError, ValueError):
            raise DataError(f"as_of must be a date such as '1998-06-30'; got {as_of!r}") from None
    end = summary_meta(summary).get("observation_end")
    if end is None:
        raise DataError(
            "the summary carries no observation end, so 'days since last purchase' has no reference "
            "date; build it with clvmodels.rfm_summary(...) or pass as_of='YYYY-MM-DD'"
        )
    return pd.Timestamp(end)


def days_since_last_purchase(summary: pd.DataFrame, as_of=None) -> pd.Series:
    """Whole days from each customer's last purchase to the reference date (int64 Series).

    Read from the ``last_purchase`` column when present; otherwise from ``T - recency`` (the time
    from the last purchase to the observation end, in the summary's unit), which equals it for
    summaries built by :func:`clvmodels.rfm_summary`.
    """
    ref = reference_date(summary, as_of)
    if "last_purchase" in summary.columns:
        last = pd.to_datetime(summary["last_purchase"], errors="coerce")
        missing = last.isna().to_numpy()
        if missing.any():
            raise DataError(f"last_purchase is missing or not a date in {describe_rows(summary.index[missing])}; "
                            "rebuild the summary with clvmodels.rfm_summary(...)")
        days = (ref.normalize() - last.dt.normalize()).dt.days.to_numpy()
    else:
        if as_of is not None:
            raise DataError("as_of needs the summary's last_purchase column (the T - recency fallback "
                            "measures from the observation end only); rebuild it with rfm_summary(...)")
        for col in ("recency", "T"):
            if col not in summary.columns:
                raise DataError(f"the summary has neither last_purchase nor {col}; build it with "
                                "clvmodels.rfm_summary(...)")
        gap = (summary["T"].to_numpy(float) - summary["recency"].to_numpy(float))
        days = np.rint(gap * days_per_unit(time_unit_of(summary)))
    days = np.asarray(days, dtype=np.int64)
    future = days < 0
    if future.any():
        raise DataError(
            f"the last purchase is after the reference date {ref.date()} in "
            f"{describe_rows(summary.index[future])}; pass an as_of on or after the last purchases"
        )
    return pd.Series(days, index=summary.index, name="days_since_last_purchase")


def _window_in_days(window, window_unit: str) -> float:
    check_choice("window_unit", window_unit, list(DAYS_PER_UNIT))
    if isinstance(window, bool) or not isinstance(window, (int, float, np.integer, np.floating)) \
            or not np.isfinite(window) or window <= 0:
        raise DataError(f"window must be a positive number of {window_unit!r} units, e.g. 365 with "
                        f"window_unit='D' or 12 with window_unit='M'; got {window!r}")
    return float(window) * days_per_unit(window_unit)


def _p_alive_values(summary, model, p_alive) -> pd.Series:
    if model is not None and p_alive is not None:
        raise DataError("pass either model= (a fitted BetaGeoModel) or p_alive= (a Series), not both")
    if model is not None:
        return model.p_alive(summary)["p_alive"]
    if not isinstance(p_alive, pd.Series):
        raise DataError(f"p_alive must be a pandas Series indexed by customer id; got {type(p_alive).__name__}")
    missing = summary.index.difference(p_alive.index)
    if len(missing):
        raise DataError(f"p_alive has no value for {describe_rows(missing)} of the summary; compute it "
                        "for every customer, e.g. model.p_alive(summary)['p_alive']")
    values = pd.to_numeric(p_alive.reindex(summary.index), errors="coerce")
    bad = ~values.between(0.0, 1.0).to_numpy()
    if bad.any():
        raise DataError(f"p_alive must be a probability in [0, 1]; not so for {describe_rows(summary.index[bad])}")
    return values


def lapsed_customers(summary: pd.DataFrame, *, window: float | None = None, window_unit: str = "D",
                     p_alive_below: float | None = None, model=None, p_alive: pd.Series | None = None,
                     combine: str = "any", as_of=None, only_lapsed: bool = True) -> pd.DataFrame:
    """Flag customers who have lapsed, by a purchase window and/or by P(alive).

    Parameters
    ----------
    summary : DataFrame
        Customer summary from :func:`clvmodels.rfm_summary` (``last_purchase`` and the observation
        end in its attrs; or ``recency``/``T`` with its time unit).
    window : float, optional
        Lapsed when nothing was bought in the last ``window`` units: days since the last purchase
        ``>= window`` converted to days. ``None`` disables the criterion.
    window_unit : {"D", "W", "M", "Y"}
        Unit of ``window`` (independent of the summary's time unit): ``window=12, window_unit="M"``.
    p_alive_below : float, optional
        Lapsed when P(alive) ``< p_alive_below``. Needs ``model`` or ``p_alive``.
    model : BetaGeoModel, optional
        Fitted purchase model giving P(alive) at the observation end (FHL 2005 eq. 13).
    p_alive : Series, optional
        P(alive) per customer, if already computed (e.g. ``bg.predict(...)["p_alive"]``). When a
        model or a series is given, the ``p_alive`` column is filled even without a threshold.
    combine : {"any", "all"}
        With both criteria: lapsed when either holds ("any") or when both hold ("all").
    as_of : date, optional
        Reference date for the window (default: the observation end). P(alive) is always at the
        observation end, the last date the model has seen.
    only_lapsed : bool
        Return only lapsed customers (default) or every customer with the flags.

    Returns
    -------
    DataFrame
        The summary's rows (all columns and attrs kept, so it can be scored by the models) plus
        ``days_since_last_purchase`` (int), ``lapsed_by_window`` and ``lapsed_by_p_alive``
        (bool, or missing where the criterion was not used), ``p_alive`` (float or NaN),
        ``lapsed`` (bool) and ``lapsed_reason`` (text such as "no purchase in 365 days;
        P(alive) 0.08 < 0.2"). ``attrs["clvmodels"]["lapsed_rule"]`` records the rule.

    Examples
    --------
    >>> import clvmodels
    >>> from clvmodels.datasets import load_cdnow_summary
    >>> summary = load_cdnow_summary()
    >>> bg = clvmodels.BetaGeoModel().fit(summary)
    >>> lapsed = clvmodels.lapsed_customers(summary, window=26, window_unit="W", p_alive_below=0.3,
    ...                                     model=bg)
    >>> len(lapsed), lapsed["lapsed_reason"].iloc[0]
    (1685, 'no purchase in 26 weeks; P(alive) 0.21 < 0.3')
    """
    check_choice("combine", combine, COMBINE_CHOICES)
    if window is None and p_alive_below is None:
        raise DataError("give a lapse rule: window= (e.g. 365 days) and/or p_alive_below= (e.g. 0.3)")
    if p_alive_below is not None:
        if not (isinstance(p_alive_below, (int, float)) and 0.0 < p_alive_below <= 1.0):
            raise DataError(f"p_alive_below must be a probability in (0, 1]; got {p_alive_below!r}")
        if model is None and p_alive is None:
            raise DataError("p_alive_below needs P(alive): pass model= (a fitted BetaGeoModel) or p_alive=")
    if not isinstance(summary, pd.DataFrame) or len(summary) == 0:
        raise DataError("summary must be a non-empty customer summary from clvmodels.rfm_summary(...)")

    out = summary.copy()
    out.attrs = dict(summary.attrs)
    days = days_since_last_purchase(summary, as_of)
    out["days_since_last_purchase"] = days
    reasons = [[] for _ in range(len(out))]
    flags = []

    if window is not None:
        window_days = _window_in_days(window, window_unit)
        by_window = days.to_numpy() >= window_days
        out["lapsed_by_window"] = by_window
        flags.append(by_window)
        label = f"{window:g} {_UNIT_NAMES[window_unit]}"
        for i in np.flatnonzero(by_window):
            reasons[i].append(f"no purchase in {label}")
    else:
        out["lapsed_by_window"] = pd.array([pd.NA] * len(out), dtype="boolean")

    if model is not None or p_alive is not None:
        pa = _p_alive_values(summary, model, p_alive).to_numpy(float)
        out["p_alive"] = pa
    else:
        pa = np.full(len(out), np.nan)
        out["p_alive"] = pa
    if p_alive_below is not None:
        by_p = pa < p_alive_below
        out["lapsed_by_p_alive"] = by_p
        flags.append(by_p)
        for i in np.flatnonzero(by_p):
            reasons[i].append(f"P(alive) {pa[i]:.2f} < {p_alive_below:g}")
    else:
        out["lapsed_by_p_alive"] = pd.array([pd.NA] * len(out), dtype="boolean")

    lapsed = np.logical_or.reduce(flags) if combine == "any" else np.logical_and.reduce(flags)
    out["lapsed"] = lapsed
    out["lapsed_reason"] = ["; ".join(r) if lapse else "" for r, lapse in zip(reasons, lapsed)]
    rule = {"window": window, "window_unit": window_unit if window is not None else None,
            "p_alive_below": p_alive_below, "combine": combine,
            "as_of": str(reference_date(summary, as_of).date())}
    out.attrs["clvmodels"] = {**summary_meta(summary), "lapsed_rule": rule}
    if only_lapsed:
        out = out[lapsed]
    return out
