"""The customer summary of a transaction log held by Spark (a DataFrame or a table).

The log is checked and normalised to the aggregation's input relation inside Spark, then the one
aggregation, :func:`clvmodels.data.sql.customer_totals_sql` (Spark dialect for the day number),
runs in Spark SQL. The result, one row of integer totals per customer, stays in Spark:

- :meth:`SparkSummary.to_pandas` collects it and builds the summary with the local path's own
  code (:mod:`clvmodels.data.summary`), so the columns equal :func:`clvmodels.rfm_summary`'s;
- :mod:`clvmodels.spark.compress` groups it to distinct rows with counts for fitting;
- :mod:`clvmodels.spark.scoring` turns it into scores partition by partition.

Validation follows the DuckDB file path (:func:`clvmodels.data.file_log.register_files`): every
problem is counted in one scan and reported in one :class:`~clvmodels.errors.DataError`.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pandas as pd

from clvmodels.data import sql
from clvmodels.data.meta import set_summary_meta
from clvmodels.data.summary import (
    _attribute_column,
    _make_spec,
    _sort_by_id,
    _summary_frame,
)
from clvmodels.data.timeunits import days_per_unit
from clvmodels.data.transactions import (
    N_EXAMPLES,
    UTC_OFFSET_PATTERN,
    LogSpec,
    Problems,
    Window,
    day_to_iso,
    kept_rows_sql,
    late_purchase_problem,
    problem_tests_sql,
    resolve_window,
    row_checks,
)
from clvmodels.errors import DataError
from clvmodels.spark.session import require_pyspark

_view_numbers = itertools.count()


def spark_quote(identifier: str) -> str:
    """A Spark SQL identifier in backticks (Spark reads double quotes as strings by default)."""
    return "`" + str(identifier).replace("`", "``") + "`"


@dataclass
class SparkSummary:
    """Per-customer integer totals computed by Spark, with what is needed to read them.

    Attributes
    ----------
    totals : pyspark.sql.DataFrame
        Columns of :data:`clvmodels.data.sql.TOTALS_COLUMNS` (``customer_id`` holds the user's
        ids) and ``attr_i_min``, ``attr_i_max`` per attribute; one row per customer.
    spec : LogSpec
        Column names and policies.
    window : Window
        Observation (and calibration) end, as day numbers.
    time_unit : str
        Unit of ``recency`` and ``T``.
    holdout : bool
        A calibration/holdout split (adds the holdout columns).
    """

    totals: object
    spec: LogSpec
    window: Window
    time_unit: str
    holdout: bool = False

    @property
    def unit_days(self) -> float:
        return days_per_unit(self.time_unit)

    def meta(self) -> dict:
        """The summary metadata (``df.attrs["clvmodels"]``) of the local path."""
        meta = {"time_unit": self.time_unit, "period": "D",
                "observation_end": day_to_iso(self.window.calibration_day)}
        if self.holdout:
            meta |= {"holdout_end": day_to_iso(self.window.end_day),
                     "duration_holdout": (self.window.end_day - self.window.calibration_day) / self.unit_days}
        return meta

    def summary_of_totals(self, totals: pd.DataFrame, sort: bool = True) -> pd.DataFrame:
        """Collected totals (pandas, any subset of customers) -> the summary rows of the local path."""
        if sort:
            totals = totals.sort_values("customer_id", kind="stable")
        ids = pd.Index(totals["customer_id"])
        attributes = {name: _attribute_column(totals, i, name, None, ids)
                      for i, name in enumerate(self.spec.attribute_cols)}
        frame = _summary_frame(totals, ids, attributes, self.window, self.unit_days, self.spec,
                               self.holdout)
        frame = _sort_by_id(frame) if sort else frame
        return set_summary_meta(frame, **self.meta())

    def to_pandas(self) -> pd.DataFrame:
        """Collect the summary to the driver: the DataFrame :func:`clvmodels.rfm_summary` returns.

        Only for summaries that fit in the driver's memory; for fitting use
        :func:`clvmodels.spark.purchase_rows`, which collects distinct rows only.
        """
        totals = self.totals.toPandas()
        if len(totals) == 0:
            raise DataError(
                f"no customer has a purchase on or before {day_to_iso(self.window.calibration_day)} "
                "once returns, zero amounts and late purchases are dropped; check the dates and policies"
            )
        return self.summary_of_totals(totals)


def spark_rfm_summary(
    transactions,
    *,
    customer_id_col: str = "customer_id",
    datetime_col: str = "date",
    monetary_value_col: str | None = None,
    observation_period_end=None,
    calibration_period_end=None,
    time_unit: str = "D",
    attribute_cols=None,
    returns: str = "refuse",
    zero_amounts: str = "refuse",
    late_purchases: str = "refuse",
    spark=None,
) -> SparkSummary:
    """Aggregate a transaction log in Spark with the same SQL as the local DuckDB path.

    Parameters
    ----------
    transactions : pyspark.sql.DataFrame or str
        The log, or the name of a table (read with ``spark.table``). Timestamps must be DATE,
        TIMESTAMP or ISO 8601 text (text with a UTC offset is converted to UTC); convert other
        formats with ``to_timestamp`` first.
    calibration_period_end : date-like, optional
        Makes a calibration/holdout summary (as :func:`clvmodels.calibration_holdout_summary`).
    spark : pyspark.sql.SparkSession, optional
        Needed only when ``transactions`` is a table name and no session is active.
    Other parameters
        As in :func:`clvmodels.rfm_summary` (``datetime_format`` is not supported here).

    Returns
    -------
    SparkSummary
        Lazy per-customer totals in Spark; ``.to_pandas()`` gives the summary DataFrame.

    Raises
    ------
    DataError
        Listing every problem in the log, with row counts, example ids and what to do.
    """
    pyspark_sql = require_pyspark()
    if isinstance(transactions, str):
        spark = spark or pyspark_sql.SparkSession.getActiveSession()
        if spark is None:
            raise DataError(f"reading table {transactions!r} needs a Spark session; pass spark=")
        transactions = spark.table(transactions)
    elif not isinstance(transactions, pyspark_sql.DataFrame):
        raise DataError(
            f"spark_rfm_summary needs a Spark DataFrame or table name; got {type(transactions).__name__} "
            "(use clvmodels.rfm_summary for pandas DataFrames and files)"
        )
    spark = transactions.sparkSession
    spec = _make_spec(customer_id_col, datetime_col, monetary_value_col, None, attribute_cols,
                      returns, zero_amounts, late_purchases)
    dates = {"observation_period_end": observation_period_end}
    if calibration_period_end is not None:
        dates["calibration_period_end"] = calibration_period_end
    days_per_unit(time_unit)  # validates the unit before any Spark job
    window, normalised = _checked_relation(spark, transactions, spec, dates)
    view = f"clv_transactions_{next(_view_numbers)}"
    normalised.createOrReplaceTempView(view)
    query = sql.customer_totals_sql(view, window.calibration_day, len(spec.attribute_cols),
                                    net_returns=spec.returns == "net",
                                    keep_zero_days=spec.zero_amounts == "keep")
    return SparkSummary(spark.sql(query), spec, window, time_unit,
                        holdout="calibration_period_end" in dates)


def _timestamp_expr(column: str, data_type) -> tuple[str, str]:
    """Spark expressions (parsed timestamp, is-aware flag) for the timestamp column."""
    q = spark_quote(column)
    name = data_type.typeName()
    if name in ("date", "timestamp", "timestamp_ntz"):
        return q, "FALSE"
    if name == "string":
        return f"TRY_CAST({q} AS TIMESTAMP)", f"{q} RLIKE {sql.literal(UTC_OFFSET_PATTERN)}"
    raise DataError(
        f"timestamps in column {column!r} are of type {data_type.simpleString()}; store them as dates, "
        "timestamps or ISO 8601 text (convert with pyspark.sql.functions.to_timestamp first)"
    )


def _checked_relation(spark, frame, spec: LogSpec, dates: dict):
    """Check the log (one scan) and return the window and the aggregation's input relation."""
    missing = [c for c in spec.columns if c not in frame.columns]
    if missing:
        raise DataError(
            f"the transaction log lacks column(s) {missing}; it has {frame.columns[:20]}. Pass "
            "customer_id_col=, datetime_col=, monetary_value_col= or attribute_cols= to name yours"
        )
    types = {f.name: f.dataType for f in frame.schema.fields}
    ts, aware = _timestamp_expr(spec.datetime_col, types[spec.datetime_col])
    amount_col = spec.monetary_value_col
    if amount_col:
        cast = "TRY_CAST" if types[amount_col].typeName() == "string" else "CAST"
        amount, amount_raw = f"{cast}({spark_quote(amount_col)} AS DOUBLE)", spark_quote(amount_col)
    else:
        amount, amount_raw = "CAST(NULL AS DOUBLE)", "NULL"
    raw = frame.selectExpr(
        f"{spark_quote(spec.customer_id_col)} AS customer_id",
        f"{spark_quote(spec.datetime_col)} AS ts_raw", f"{ts} AS ts", f"{aware} AS ts_aware",
        f"{amount_raw} AS amount_raw", f"{amount} AS amount",
        *[f"{spark_quote(c)} AS attr_{i}" for i, c in enumerate(spec.attribute_cols)],
    )
    day = sql.day_number_sql("ts", "spark")
    tests = problem_tests_sql(is_infinite="abs(amount) = double('infinity')", double_suffix="D")
    row = raw.selectExpr(
        "COUNT(*) AS n_rows", f"MIN({day}) AS first_day", f"MAX({day}) AS last_day",
        *[f"COUNT_IF(COALESCE({test}, FALSE)) AS {key}" for key, test in tests.items()],
    ).collect()[0].asDict()
    if row["n_rows"] == 0:
        raise DataError("the transaction log is empty; there is nothing to summarise")
    n_aware, n_naive = row["aware"], row["naive"]
    row["mixed_tz"] = min(n_aware, n_naive) if n_aware and n_naive else 0
    tests["mixed_tz"] = tests["aware"] if n_aware <= n_naive else tests["naive"]

    def examples(test: str) -> list:
        found = raw.where(f"({test}) AND customer_id IS NOT NULL").select("customer_id").distinct()
        return sorted((r[0] for r in found.limit(N_EXAMPLES).collect()), key=str)

    problems = Problems()
    for key, (what, hint) in row_checks(spec).items():
        if row[key]:
            problems.add(row[key], what, [] if key == "null_id" else examples(tests[key]), hint)
    problems.raise_if_any()

    window = resolve_window(row["first_day"], row["last_day"], dates)
    late = f"{day} > {window.end_day}"
    if spec.late_purchases == "refuse" and window.end_day < row["last_day"]:
        n_late = raw.where(late).count()
        what, hint = late_purchase_problem(window.end_day)
        problems.add(n_late, what, examples(late), hint)
        problems.raise_if_any()
    keep = kept_rows_sql(spec, day, window.end_day, bool(amount_col), double_suffix="D")
    micro = sql.micro_sql("amount") if amount_col else "CAST(0 AS BIGINT)"
    normalised = raw.where(" AND ".join(keep)).selectExpr(
        "customer_id", f"{day} AS day", f"{micro} AS amount_micro",
        *[f"attr_{i}" for i in range(len(spec.attribute_cols))],
    )
    return window, normalised

