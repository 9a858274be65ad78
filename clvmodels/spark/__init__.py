"""Aggregation and scoring on Apache Spark (optional extra ``clvmodels[spark]``).

Three calls: :func:`spark_rfm_summary` aggregates the log in Spark with the same SQL as the local
path; :func:`fit_on_spark` fits any continuous-time purchase model (and Gamma-Gamma) on distinct rows
with counts grouped by Spark (:func:`purchase_rows`); :func:`score_on_spark`
scores every customer per partition into the export schema (:func:`write_scores` writes it).
pyspark is imported only when these functions run.
"""

from clvmodels.spark.compress import bgnbd_rows, fit_on_spark, gamma_gamma_rows, purchase_rows
from clvmodels.spark.scoring import score_on_spark, scores_to_pandas, write_scores
from clvmodels.spark.session import local_session
from clvmodels.spark.summary import SparkSummary, spark_rfm_summary

__all__ = ["SparkSummary", "bgnbd_rows", "fit_on_spark", "gamma_gamma_rows", "local_session",
           "purchase_rows", "score_on_spark", "scores_to_pandas", "spark_rfm_summary", "write_scores"]
