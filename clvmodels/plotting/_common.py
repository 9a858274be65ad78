"""What every plot shares: a fresh Axes when none is given, fitted-model checks, unit labels.

Matplotlib is imported inside :func:`new_axes` only, so importing :mod:`clvmodels.plotting`
stays cheap and a headless job can pick its backend before the first plot.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from clvmodels.data.timeunits import days_per_unit
from clvmodels.errors import DataError
from clvmodels.families.contract import PurchaseFamily

#: How the time units read on an axis.
UNIT_NAMES = {"D": "days", "W": "weeks", "M": "months", "Y": "years"}

#: Default colours: data in grey-black, the model in blue, so that every plot reads the same way.
ACTUAL_COLOR = "0.25"
MODEL_COLOR = "C0"


def new_axes(ax=None, figsize=(7.0, 4.5)):
    """Return ``ax``, or the Axes of a new figure of size ``figsize`` (inches)."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def format_date_axis(ax) -> None:
    """Date ticks with the year on every label, on the x axis of this Axes only.

    Every label carries its year ("Mar\\n1997") so that each panel of a multi-panel figure reads
    on its own (a concise formatter puts the year in an offset text that a neighbouring panel
    can hide). ``Figure.autofmt_xdate`` is not used: it would also strip the tick labels of the
    user's other subplots.
    """
    import matplotlib.dates as mdates

    low, high = ax.get_xlim()
    fmt = "%b\n%Y" if high - low > 60 else "%d %b\n%Y"  # limits are in days for date axes
    ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=3, maxticks=7))
    ax.xaxis.set_major_formatter(mdates.DateFormatter(fmt))


def currency_of(frame: pd.DataFrame | None, currency: str | None = None) -> str | None:
    """The currency of a frame's money columns: ``currency`` if given, else the frame's metadata
    (``attrs["clvmodels"]["currency"]`` or ``attrs["currency"]``), else None (unknown)."""
    if currency is not None:
        if not isinstance(currency, str) or not currency.strip():
            raise DataError(f"currency must be a non-empty string such as 'USD'; got {currency!r}")
        return currency
    if frame is None:
        return None
    meta = frame.attrs.get("clvmodels", {})
    found = meta.get("currency") or frame.attrs.get("currency")
    return str(found) if found else None


def money_label(label: str, currency: str | None) -> str:
    """An axis label for an amount of money: "CLV (USD)", or "(currency of the data)" if unknown."""
    return f"{label} ({currency})" if currency else f"{label} (currency of the data)"


def money_axis(axis) -> None:
    """Thousands separators on a money axis (``ax.xaxis`` or ``ax.yaxis``) with a linear scale."""
    from matplotlib.ticker import FuncFormatter

    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}" if abs(v) >= 10 else f"{v:,.2g}"))


def words(column: str) -> str:
    """A column name as words for a title or label: "expected_future_margin" -> "Expected future
    margin" (known names have hand-written labels in the plot modules)."""
    text = column.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def to_days(values) -> np.ndarray:
    """Dates or timestamps -> whole days since 1970-01-01 (int64).

    Time-zone-aware times are converted to UTC first, as :func:`clvmodels.rfm_summary` does.
    """
    stamps = pd.Series(pd.to_datetime([values] if np.ndim(values) == 0 else values))
    if getattr(stamps.dt, "tz", None) is not None:
        stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
    return stamps.to_numpy("datetime64[D]").astype(np.int64)


def days_to_index(days: np.ndarray, name: str = "date") -> pd.DatetimeIndex:
    """Whole days since 1970-01-01 -> a DatetimeIndex."""
    return pd.DatetimeIndex(np.asarray(days, np.int64).astype("datetime64[D]"), name=name)


def model_time_unit(model) -> str:
    """Time unit the model was fitted in ("D", "W", "M" or "Y")."""
    unit = getattr(model, "time_unit_", None)
    if unit is None:
        raise DataError(
            "the model does not know its time unit (it was fitted on a summary without metadata); "
            "refit it on a summary from clvmodels.rfm_summary(...)"
        )
    days_per_unit(unit)  # a clear error for an unknown unit
    return unit


def unit_name(unit: str) -> str:
    return UNIT_NAMES.get(unit, unit)


def require_columns(frame: pd.DataFrame, columns, what: str, hint: str) -> None:
    """A DataError naming the missing columns of ``frame`` and how to get them."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(f"{what} lacks the columns {missing} (it has {list(frame.columns)}); {hint}")


def purchase_family(model) -> PurchaseFamily:
    """The purchase family of a fitted purchase model (``model.family``), whatever the family.

    Raises DataError for anything else (e.g. a spend model) and NotFittedError for an unfitted
    model, so that every plot of the purchase process refuses the same way.
    """
    family = getattr(model, "family", None)
    if not isinstance(family, PurchaseFamily):
        raise DataError(f"this plot needs a fitted purchase model (one with a purchase family, such as "
                        f"BetaGeoModel or ParetoNBDModel); got {type(model).__name__}")
    model.point_draws()  # NotFittedError for an unfitted model
    return family


#: Summary columns that hold how long a customer has been observed: ``T`` in continuous time, the
#: opportunities ``n_periods`` in discrete time (:func:`clvmodels.data.opportunities.opportunity_summary`).
AGE_COLUMNS = ("T", "n_periods")


def age_column(family: PurchaseFamily) -> str:
    """The column of ``family.history_columns`` that measures the observation length."""
    found = [c for c in family.history_columns if c in AGE_COLUMNS]
    if len(found) != 1:
        raise DataError(f"the {family.label} history {list(family.history_columns)} has no single "
                        f"observation-length column (one of {list(AGE_COLUMNS)}), which this plot needs")
    return found[0]


def history_arrays(family: PurchaseFamily, frequency, recency, age) -> tuple:
    """Histories built from their parts, in the order of ``family.history_columns``.

    ``frequency`` (repeat purchases, or repeat opportunities taken), ``recency`` (time of the last
    one since the first purchase) and ``age`` (observation length) fill the summary columns of the
    same meaning; the family then reads them positionally, as the contract says.
    """
    by_column = {"frequency": frequency, "recency": recency, age_column(family): age}
    missing = [c for c in family.history_columns if c not in by_column]
    if missing:
        raise DataError(f"the {family.label} history reads {missing}, which this plot cannot build "
                        "from frequency, recency and observation length")
    return tuple(by_column[c] for c in family.history_columns)


def params_for_one(model, segment=None, draws=None) -> dict[str, np.ndarray]:
    """Parameters of one (hypothetical) customer through the public ``customer_params``.

    Returns arrays of shape (S, 1): S = 1 without ``draws``. A model pooled by segment needs the
    ``segment`` whose parameters to use.
    """
    pool_by = getattr(model, "pool_by", None)
    if pool_by is None:
        frame = pd.DataFrame(index=[0])
    else:
        if segment is None:
            raise DataError(
                f"this model is pooled by {pool_by!r}, so each segment has its own parameters; pass "
                f"segment= (one of {list(model.segments_)[:10]})"
            )
        frame = pd.DataFrame({pool_by: [segment]})
    return model.customer_params(frame, draws)


def bounds_columns(frame: pd.DataFrame, column: str) -> tuple[str, str] | None:
    """Names of ``column``'s interval bounds if the frame has them, else None."""
    lower, upper = f"{column}_lower", f"{column}_upper"
    return (lower, upper) if lower in frame.columns and upper in frame.columns else None
