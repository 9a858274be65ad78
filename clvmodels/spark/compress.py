"""Distinct likelihood rows with counts, grouped in Spark and collected to the driver for fitting.

A purchase family's likelihood depends on a customer only through its ``history_columns`` and the
Gamma-Gamma likelihood only through (frequency, monetary_value) of repeat buyers, so identical
customers contribute identical terms and a fit on distinct rows weighted by their counts
(``fit(rows, weights="n_customers")``) equals the fit on every customer (e.g. Fader, Hardie & Lee
2005 eq. 6 summed over customers); no row is expanded back. Databricks' CLV accelerator fits the
*unweighted* likelihood on distinct rows, which biases the estimates; here every row carries its
count.

The grouping is on the integer totals (days and micro-units) behind each history column, and the
float columns are then made as the local path makes them, so each distinct row equals the summary
rows it stands for bit for bit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from clvmodels.data.meta import set_summary_meta
from clvmodels.data.summary import _mean_amount
from clvmodels.data.transactions import N_EXAMPLES, count_rows
from clvmodels.errors import DataError
from clvmodels.spark.summary import SparkSummary

COUNT = "n_customers"

#: summary column -> (its integer total as Spark SQL, whether it is days to divide by the days
#: per time unit). The columns of a transaction log's summary that a purchase family may read as
#: its history, computed as :func:`clvmodels.data.summary._summary_frame` computes them.
HISTORY_TOTALS = {
    "frequency": ("n_days - 1", False),
    "recency": ("last_day - first_day", True),
    "T": ("{calibration_day} - first_day", True),
}


def check_spark_history(family) -> None:
    """Refuse a family whose history a Spark summary of a transaction log does not hold.

    Parameters
    ----------
    family : PurchaseFamily
        The family to fit or score (``model.family``).

    Raises
    ------
    DataError
        Naming the missing columns, the family and the columns a Spark summary has.
    """
    missing = [c for c in family.history_columns if c not in HISTORY_TOTALS]
    if missing:
        raise DataError(
            f"the {family.label} model reads {list(family.history_columns)}, but a Spark summary of a "
            f"transaction log has {list(HISTORY_TOTALS)} (no {missing}); use a continuous-time purchase "
            "model, or summarise the opportunities locally"
        )


def _segment_select(summary: SparkSummary, segment: str | None) -> list[str]:
    """Spark SQL selecting the pooling attribute ``segment`` under its own name ([] for None).

    Customers with conflicting or missing values of it are refused first (counted in Spark, with
    example ids), as the local summary and a pooled local fit refuse them.
    """
    if segment is None:
        return []
    names = list(summary.spec.attribute_cols)
    if segment not in names:
        raise DataError(f"the model is pooled by {segment!r}, which is not an attribute of the Spark summary "
                        f"(attributes: {names}); pass attribute_cols=[{segment!r}] to spark_rfm_summary")
    low, high = f"attr_{names.index(segment)}_min", f"attr_{names.index(segment)}_max"
    tests = {
        f"conflicting values of {segment!r}": (f"{low} IS NOT NULL AND {low} != {high}",
                                              f"each customer must have one {segment!r}; clean the column"),
        f"no {segment!r}": (f"{low} IS NULL", f"a fit pooled by {segment!r} needs every customer's "
                                              "segment; fill the column or fit without pool_by"),
    }
    counts = summary.totals.selectExpr(
        *[f"COUNT_IF({test}) AS c{i}" for i, (test, _) in enumerate(tests.values())]).collect()[0]
    lines = []
    for i, (what, (test, hint)) in enumerate(tests.items()):
        if counts[i]:
            found = summary.totals.where(test).select("customer_id").limit(N_EXAMPLES).collect()
            examples = sorted((r[0] for r in found), key=str)
            lines.append(f"{what} in {count_rows(counts[i], examples, 'customer')}; {hint}")
    if lines:
        raise DataError(f"cannot fit a model pooled by {segment!r} on this Spark summary:\n- "
                        + "\n- ".join(lines))
    return [f"{low} AS `{segment}`"]


def purchase_rows(summary: SparkSummary, family, segment: str | None = None) -> pd.DataFrame:
    """Distinct rows of a purchase family's history columns with ``n_customers``, on the driver.

    Parameters
    ----------
    summary : SparkSummary
        From :func:`clvmodels.spark.spark_rfm_summary` (no holdout columns are read).
    family : PurchaseFamily
        The family to fit (``model.family``); its ``history_columns`` are grouped on.
    segment : str, optional
        An attribute of the summary to group on too, for a model pooled by it (``pool_by``).

    Returns
    -------
    pandas.DataFrame
        One row per distinct history (and segment): the ``history_columns`` in their order
        (``frequency`` int64, times float64 in the summary's unit), ``segment`` when given, and
        ``n_customers`` (int64, summing to the number of customers), sorted; ``attrs["clvmodels"]``
        as in the summary.

    Raises
    ------
    DataError
        When the family reads a column a transaction-log summary does not have (BG/BB's
        ``n_periods``), or customers have no or conflicting values of ``segment``.
    """
    check_spark_history(family)
    columns = list(family.history_columns)
    day = summary.window.calibration_day
    totals = [HISTORY_TOTALS[c][0].format(calibration_day=int(day)) + f" AS `{c}`" for c in columns]
    keys = columns + ([segment] if segment is not None else [])
    grouped = (summary.totals.selectExpr(*totals, *_segment_select(summary, segment))
               .groupBy(*keys).count().toPandas())
    rows = pd.DataFrame({
        c: (grouped[c].to_numpy(np.int64) / summary.unit_days if HISTORY_TOTALS[c][1]
            else grouped[c].to_numpy(np.int64))
        for c in columns
    })
    if segment is not None:
        rows[segment] = grouped[segment].to_numpy()
    rows[COUNT] = grouped["count"].to_numpy(np.int64)
    order = ([segment] if segment is not None else []) + columns
    return set_summary_meta(rows.sort_values(order, ignore_index=True), **summary.meta())


def bgnbd_rows(summary: SparkSummary) -> pd.DataFrame:
    """Deprecated: ``purchase_rows(summary, BetaGeoModel.family)``, distinct (frequency, recency, T).

    Returns
    -------
    pandas.DataFrame
        As :func:`purchase_rows` for the BG/NBD family.
    """
    from clvmodels._warn import warn_user
    from clvmodels.families import get_family

    warn_user("bgnbd_rows(summary) is deprecated; use purchase_rows(summary, model.family), which "
              "groups the history columns of any purchase family", FutureWarning)
    return purchase_rows(summary, get_family("bgnbd"))


def gamma_gamma_rows(summary: SparkSummary, segment: str | None = None) -> pd.DataFrame:
    """Distinct (frequency, monetary_value) rows of repeat buyers with ``n_customers``.

    Parameters
    ----------
    summary : SparkSummary
        With amounts (``monetary_value_col``).
    segment : str, optional
        An attribute of the summary to group on too, for a spend model pooled by it.

    Raises
    ------
    DataError
        When the summary has no amounts (no ``monetary_value_col``), or customers have no or
        conflicting values of ``segment``.
    """
    if not summary.spec.monetary_value_col:
        raise DataError("the Spark summary has no amounts; pass monetary_value_col= to spark_rfm_summary")
    keys = ["n_days", "repeat_micro"] + ([segment] if segment is not None else [])
    grouped = (summary.totals.where("n_days > 1")
               .selectExpr("n_days", "total_micro - first_micro AS repeat_micro",
                           *_segment_select(summary, segment))
               .groupBy(*keys).count().toPandas())
    frequency = grouped["n_days"].to_numpy(np.int64) - 1

    rows = pd.DataFrame({
        "frequency": frequency,
        "monetary_value": _mean_amount(grouped["repeat_micro"].to_numpy(np.int64), frequency),
    })
    if segment is not None:
        rows[segment] = grouped[segment].to_numpy()
    rows[COUNT] = grouped["count"].to_numpy(np.int64)
    order = ([segment] if segment is not None else []) + ["frequency", "monetary_value"]
    return set_summary_meta(rows.sort_values(order, ignore_index=True), **summary.meta())


def unfitted_purchase_model(purchase_model=None):
    """An unfitted purchase model from a registry name, a class or an instance.

    Parameters
    ----------
    purchase_model : str, class, model or None
        A name of :mod:`clvmodels.models.registry` (None: the pipeline's default, BG/NBD), a
        purchase-model class (built with its default settings) or a model (used as given).

    Returns
    -------
    purchase model
        With a ``family``; fitted by the caller.
    """
    from clvmodels.models.registry import purchase_model_class
    from clvmodels.settings import DEFAULT_PURCHASE_MODEL

    if purchase_model is None or isinstance(purchase_model, str):
        return purchase_model_class(purchase_model or DEFAULT_PURCHASE_MODEL)()
    if isinstance(purchase_model, type):
        return purchase_model()
    if not hasattr(purchase_model, "family"):
        raise DataError(f"purchase_model must be a registered name (e.g. 'pnbd'), a purchase-model class or "
                        f"an unfitted purchase model; got {type(purchase_model).__name__}")
    return purchase_model


def fit_on_spark(summary: SparkSummary, purchase_model=None, spend_model=None, *, bg_model=None):
    """Fit a purchase model (and Gamma-Gamma) on distinct rows with counts grouped by Spark.

    Parameters
    ----------
    summary : SparkSummary
    purchase_model : str, class or unfitted model, optional
        A name of :mod:`clvmodels.models.registry` (``"bgnbd"``, ``"pnbd"``, ``"mbgnbd"``), a
        purchase-model class, or an unfitted model with the settings to use (default BG/NBD, MLE).
        Any continuous-time family: its ``history_columns`` are grouped on, and its ``pool_by``
        attribute too when it is pooled by segment.
    spend_model : GammaGammaModel, optional
        An unfitted spend model; fitted when given, or by default when the summary has amounts.
    bg_model : unfitted purchase model, optional
        Deprecated name of ``purchase_model``.

    Returns
    -------
    (purchase model, GammaGammaModel or None)
        Fitted models, equal to fitting the collected summary: ``fit(rows, weights="n_customers")``
        on :func:`purchase_rows` and :func:`gamma_gamma_rows`, with no row expanded.
    """
    from clvmodels.models.registry import spend_model_class

    if bg_model is not None:
        from clvmodels._warn import warn_user

        if purchase_model is not None:
            raise DataError("pass purchase_model= only (bg_model= is its deprecated name)")
        warn_user("fit_on_spark(bg_model=...) is deprecated; pass purchase_model=", FutureWarning)
        purchase_model = bg_model
    model = unfitted_purchase_model(purchase_model)
    # distinct rows with their counts as weights: the same likelihood as one row per customer
    purchase = model.fit(purchase_rows(summary, model.family, getattr(model, "pool_by", None)), weights=COUNT)
    if spend_model is None and not summary.spec.monetary_value_col:
        return purchase, None
    spend = spend_model or spend_model_class()()
    return purchase, spend.fit(gamma_gamma_rows(summary, getattr(spend, "pool_by", None)), weights=COUNT)
