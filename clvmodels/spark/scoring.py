"""Per-customer scores computed by Spark, partition by partition, in the export schema.

The fitted models (a few parameters, or a thinned posterior) travel to the workers inside the
``mapInPandas`` function; each Arrow batch of per-customer totals becomes summary rows through the
local path's code (:meth:`SparkSummary.summary_of_totals`), is scored by the models' own public
``predict`` and conformed to :mod:`clvmodels.export.schema`. Any continuous-time purchase family
scores the same way: nothing here asks which one it is (``model.family`` is read only to check
that a transaction log's summary holds its history columns). So point scores and the intervals of
the expected value equal the local scores customer for customer (the Laplace draws depend only on
the seed; a thinned posterior is deterministic).

Predictive intervals simulate each distinct customer row of a batch; each batch gets its own
random stream derived from (seed, partition, batch), so they are reproducible for a given seed and
partitioning and agree in distribution with a local run, but not draw for draw. (With a Laplace fit this also means each
batch uses its own parameter draws for the simulation, which is equally valid.)
"""

from __future__ import annotations

import uuid

import numpy as np
import pandas as pd

from clvmodels.errors import DataError
from clvmodels.spark.session import require_pyspark
from clvmodels.spark.summary import SparkSummary

#: export schema logical types -> Spark SQL types (dates leave the workers as timestamps, see below)
SPARK_TYPES = {"text": "string", "date": "date", "integer": "bigint", "float": "double",
               "boolean": "boolean"}


def _spark_schema(date_as: str) -> str:
    from clvmodels.export.schema import EXPORT_COLUMNS

    types = dict(SPARK_TYPES, date=date_as)
    return ", ".join(f"`{c.name}` {types[c.type]}" for c in EXPORT_COLUMNS)


def _require_fitted(model) -> None:
    """A NotFittedError on the driver, before any Spark job, for a model that was never fitted."""
    model.point_draws()


def score_on_spark(summary: SparkSummary, purchase_model=None, spend_model=None, *, horizon: float,
                   uncertainty=None, level: float = 0.9, n_draws: int = 300, seed: int = 0,
                   run_id: str | None = None, currency: str | None = None, bg_model=None):
    """Score every customer of a Spark summary; a lazy Spark DataFrame in the export schema.

    Parameters
    ----------
    summary : SparkSummary
        From :func:`clvmodels.spark.spark_rfm_summary`.
    purchase_model : fitted purchase model
        Of any continuous-time family (BG/NBD, Pareto/NBD, MBG/NBD, ...; e.g. from
        :func:`clvmodels.spark.fit_on_spark`).
    spend_model : GammaGammaModel, optional
        Fitted spend model; adds ``expected_spend``.
    horizon : float
        Prediction horizon in the summary's time unit.
    uncertainty : {None, "expected", "predictive"}
        Interval kind of ``expected_purchases`` (see the purchase model's ``predict``).
    level, n_draws, seed
        Interval level, parameter draws and seed, as in the purchase model's ``predict``.
    run_id, currency : str, optional
        Run-level export columns (``run_id`` defaults to a new random id).
    bg_model : fitted purchase model, optional
        Deprecated name of ``purchase_model``.

    Returns
    -------
    pyspark.sql.DataFrame
        One row per customer with the columns of :data:`clvmodels.export.schema.EXPORT_COLUMNS`;
        value and reactivation columns are null (those stages run on the driver).
    """
    from clvmodels.spark.compress import check_spark_history

    require_pyspark()
    if bg_model is not None:
        from clvmodels._warn import warn_user

        if purchase_model is not None:
            raise DataError("pass purchase_model= only (bg_model= is its deprecated name)")
        warn_user("score_on_spark(bg_model=...) is deprecated; pass purchase_model=", FutureWarning)
        purchase_model = bg_model
    if purchase_model is None:
        raise DataError("score_on_spark needs a fitted purchase model (e.g. from fit_on_spark)")
    if summary.holdout:
        raise DataError("score a plain summary (spark_rfm_summary without calibration_period_end)")
    _require_fitted(purchase_model)
    check_spark_history(purchase_model.family)
    if spend_model is not None:
        _require_fitted(spend_model)
    run_values = {"snapshot_date": summary.meta()["observation_end"], "time_unit": summary.time_unit,
                  "horizon": float(horizon), "interval_level": level if uncertainty else None,
                  "run_id": run_id or uuid.uuid4().hex, "currency": currency}
    options = {"uncertainty": uncertainty, "level": level, "n_draws": n_draws, "seed": seed}
    # the Spark DataFrame itself cannot travel to the workers; everything else of the summary can
    summary_reader = SparkSummary(None, summary.spec, summary.window, summary.time_unit)

    def batch_seed(partition: int, batch_number: int) -> dict:
        """The seed of one batch. Expected-value intervals must use the same parameter draws
        everywhere (the user's seed); predictive simulations need a stream of their own per batch,
        derived from the seed, the partition and the batch, else partitions would repeat draws."""
        if uncertainty != "predictive" or seed is None:
            return {}
        state = np.random.SeedSequence([seed, partition, batch_number]).generate_state(2, np.uint64)
        return {"seed": int(state[0] >> np.uint64(1))}

    def score_batches(batches):
        from pyspark import TaskContext

        from clvmodels.export.schema import EXPORT_COLUMNS, conform
        from clvmodels.pipeline import export_frame

        dates = [c.name for c in EXPORT_COLUMNS if c.type == "date"]
        partition = TaskContext.get().partitionId()
        for batch_number, totals in enumerate(batches):
            if len(totals) == 0:
                continue
            rows = summary_reader.summary_of_totals(totals, sort=False)
            predictions = purchase_model.predict(rows, horizon, spend_model=spend_model,
                                                 **options | batch_seed(partition, batch_number))
            scores = conform(export_frame(rows, predictions), run_values)
            for name in dates:  # Arrow turns datetime64 into TIMESTAMP; cast to DATE after
                scores[name] = scores[name].astype("datetime64[us]")
            yield scores

    scored = summary.totals.mapInPandas(score_batches, _spark_schema(date_as="timestamp"))
    from clvmodels.export.schema import EXPORT_COLUMNS

    return scored.selectExpr(*[f"CAST(`{c.name}` AS DATE) AS `{c.name}`" if c.type == "date"
                               else f"`{c.name}`" for c in EXPORT_COLUMNS])


def write_scores(scores, *, path: str | None = None, table: str | None = None,
                 mode: str = "overwrite") -> None:
    """Write scores to Parquet files at ``path`` or to the Spark table ``table``.

    Spark writes the output of a job atomically per job commit; ``mode`` is Spark's save mode.
    """
    if (path is None) == (table is None):
        raise DataError("pass exactly one of path= (Parquet) or table= (a Spark table)")
    writer = scores.write.mode(mode)
    if path is not None:
        writer.parquet(str(path))
    else:
        writer.saveAsTable(table)


def scores_to_pandas(scores) -> pd.DataFrame:
    """Collect scores and conform them again (typed exactly as a local export frame)."""
    from clvmodels.export.schema import conform

    return conform(scores.toPandas())
