"""Distinct likelihood rows with counts, grouped in Spark and collected to the driver for fitting.

The BG/NBD likelihood depends on a customer only through (frequency, recency, T) and the
Gamma-Gamma likelihood only through (frequency, monetary_value) of repeat buyers, so identical
customers contribute identical terms and a fit on distinct rows weighted by their counts equals
the fit on every customer (Fader, Hardie & Lee 2005 eq. 6 summed over customers). Databricks'
CLV accelerator fits the *unweighted* likelihood on distinct rows, which biases the estimates;
here every row carries its count.

The grouping is on the integer totals (days and micro-units), and the float columns are then made
by the local path's own code, so each distinct row equals the summary rows it stands for bit for bit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from clvmodels.data.meta import set_summary_meta
from clvmodels.data.summary import _mean_amount
from clvmodels.spark.summary import SparkSummary

COUNT = "n_customers"


def bgnbd_rows(summary: SparkSummary) -> pd.DataFrame:
    """Distinct (frequency, recency, T) rows with ``n_customers``, collected to the driver.

    Returns
    -------
    pandas.DataFrame
        Columns ``frequency`` (int64), ``recency``, ``T`` (float64) and ``n_customers`` (int64),
        sorted; ``attrs["clvmodels"]`` as in the summary.
    """
    grouped = (summary.totals.groupBy("n_days", "first_day", "last_day").count()
               .toPandas().sort_values(["n_days", "first_day", "last_day"], kind="stable"))
    rows = _float_columns(summary, grouped, ["frequency", "recency", "T"])
    rows[COUNT] = grouped["count"].to_numpy(np.int64)
    return set_summary_meta(rows.sort_values(["frequency", "recency", "T"], ignore_index=True),
                            **summary.meta())


def gamma_gamma_rows(summary: SparkSummary) -> pd.DataFrame:
    """Distinct (frequency, monetary_value) rows of repeat buyers with ``n_customers``.

    Raises
    ------
    DataError
        When the summary has no amounts (no ``monetary_value_col``).
    """
    if not summary.spec.monetary_value_col:
        from clvmodels.errors import DataError

        raise DataError("the Spark summary has no amounts; pass monetary_value_col= to spark_rfm_summary")
    grouped = (summary.totals.where("n_days > 1")
               .selectExpr("n_days", "total_micro - first_micro AS repeat_micro")
               .groupBy("n_days", "repeat_micro").count().toPandas())
    frequency = grouped["n_days"].to_numpy(np.int64) - 1

    rows = pd.DataFrame({
        "frequency": frequency,
        "monetary_value": _mean_amount(grouped["repeat_micro"].to_numpy(np.int64), frequency),
        COUNT: grouped["count"].to_numpy(np.int64),
    }).sort_values(["frequency", "monetary_value"], ignore_index=True)
    return set_summary_meta(rows, **summary.meta())


def _float_columns(summary: SparkSummary, grouped: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """frequency, recency and T of grouped totals, computed as the local summary computes them."""
    first_day = grouped["first_day"].to_numpy(np.int64)
    last_day = grouped["last_day"].to_numpy(np.int64)
    unit_days = summary.unit_days
    columns = {
        "frequency": grouped["n_days"].to_numpy(np.int64) - 1,
        "recency": (last_day - first_day) / unit_days,
        "T": (summary.window.calibration_day - first_day) / unit_days,
    }
    return pd.DataFrame({name: columns[name] for name in names})


def fit_on_spark(summary: SparkSummary, bg_model=None, spend_model=None):
    """Fit BG/NBD (and Gamma-Gamma) models on distinct rows grouped by Spark.

    Parameters
    ----------
    summary : SparkSummary
    bg_model : BetaGeoModel, optional
        An unfitted model with the settings to use (default ``BetaGeoModel()``, MLE).
    spend_model : GammaGammaModel, optional
        An unfitted spend model; fitted when given, or by default when the summary has amounts.

    Returns
    -------
    (BetaGeoModel, GammaGammaModel or None)
        Fitted models, equal to fitting the collected summary.
    """
    from clvmodels.models.beta_geo import BetaGeoModel
    from clvmodels.models.gamma_gamma import GammaGammaModel

    # distinct rows with their counts as weights: the same likelihood as one row per customer
    bg = (bg_model or BetaGeoModel()).fit(bgnbd_rows(summary), weights=COUNT)
    if spend_model is None and not summary.spec.monetary_value_col:
        return bg, None
    gg = (spend_model or GammaGammaModel()).fit(gamma_gamma_rows(summary), weights=COUNT)
    return bg, gg
