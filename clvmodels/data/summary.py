"""Transaction log -> one row per customer: the summary every model reads.

:func:`rfm_summary` and :func:`calibration_holdout_summary` check the log
(:mod:`clvmodels.data.transactions`), merge purchases on the same day into one purchase (amounts
summed, as Fader, Hardie & Lee 2005 do for CDNOW), aggregate per customer with pandas or with the
SQL of :mod:`clvmodels.data.sql` in DuckDB, and turn the integer totals into the summary:

- ``frequency``: purchase days after the first (repeat purchases), int64;
- ``recency``: first to last purchase day, ``T``: first purchase day to the observation end, both
  whole days divided by the days of the time unit (so equal histories give identical rows);
- ``monetary_value``: mean of the repeat purchase days' totals, 0.0 without repeats (the
  Gamma-Gamma convention, Fader & Hardie 2013 note); the first purchase is excluded;
- ``revenue_to_date``: sum of every purchase day's total in the (calibration) window, the first
  included, and ``first_purchase_value``: the first purchase day's total, so that
  ``revenue_to_date == first_purchase_value + frequency * monetary_value`` (up to rounding);
  amounts are after the returns and zero-amount policies, in the log's currency;
- ``first_purchase``, ``last_purchase`` (datetime64[us]) and the requested attribute columns.
"""

from __future__ import annotations

import contextlib
import tempfile

import numpy as np
import pandas as pd

from clvmodels.data import sql
from clvmodels.data.file_log import register_files
from clvmodels.data.frame_log import normalise_frame
from clvmodels.data.meta import set_summary_meta
from clvmodels.data.timeunits import days_per_unit
from clvmodels.data.transactions import LogSpec, Problems, Window, day_to_iso
from clvmodels.errors import DataError, check_choice
from clvmodels.settings import DEFAULT_TIME_UNIT

#: "pandas" aggregates a DataFrame in memory with numpy (sql.customer_totals_numpy), "duckdb" runs
#: the SQL. "auto" picks numpy for DataFrames (faster at every size measured, see benchmarks/rfm.py)
#: and DuckDB for files.
ENGINES = ("auto", "duckdb", "pandas")
SUMMARY_COLUMNS = ("frequency", "recency", "T", "monetary_value", "revenue_to_date",
                   "first_purchase_value", "first_purchase", "last_purchase")
HOLDOUT_COLUMNS = ("frequency_holdout", "monetary_value_holdout")


def rfm_summary(
    transactions,
    *,
    customer_id_col: str = "customer_id",
    datetime_col: str = "date",
    monetary_value_col: str | None = None,
    observation_period_end=None,
    time_unit: str = DEFAULT_TIME_UNIT,
    datetime_format: str | None = None,
    attribute_cols=None,
    returns: str = "refuse",
    zero_amounts: str = "refuse",
    late_purchases: str = "refuse",
    engine: str = "auto",
    duckdb_config: dict | None = None,
) -> pd.DataFrame:
    """Summarise a transaction log per customer (frequency, recency, T, monetary value).

    Parameters
    ----------
    transactions : pandas.DataFrame or path-like or list of path-likes
        One row per purchase. A path may be a CSV or Parquet file or a glob of them; files are
        aggregated out of core by DuckDB. A DataFrame and the same data as a file give identical
        summaries (or identical refusals).
    customer_id_col, datetime_col : str
        Columns holding the customer id and the purchase time. Time-zone-aware times are converted
        to UTC before the date is taken; mixing aware and naive times is an error.
    monetary_value_col : str, optional
        Column of purchase amounts; without it there are no ``monetary_value``,
        ``revenue_to_date`` and ``first_purchase_value`` columns. Amounts are summed exactly in
        millionths of the currency unit.
    observation_period_end : date-like, optional
        Last day of observation (inclusive); default the day of the last purchase. ISO text
        (``"1997-09-30"``), ``datetime.date``/``datetime``, ``pandas.Timestamp``, ``numpy.datetime64``
        or a ``pandas.Period`` (its last day); ``datetime_format`` does not apply to it.
    time_unit : {"D", "W", "M", "Y"}, default "D"
        Unit of ``recency`` and ``T`` and of every horizon given later to the models fitted on this
        summary: whole days divided by 1, 7, 365.2425/12 or 365.2425. Default days
        (``clvmodels.settings.DEFAULT_TIME_UNIT``), on the command line too. The published CDNOW
        numbers are in weeks (``time_unit="W"``): state the unit whenever horizons matter.
    datetime_format : str, optional
        strftime format of the log's text (or numeric, e.g. ``"%Y%m%d"``) timestamps. Without it a
        text column is read only when exactly one format reads every value (ISO 8601 first); a
        column that no format reads, or that both day-first and month-first read, is refused with
        both readings shown (see :mod:`clvmodels.data.timestamps`).
    attribute_cols : str or list of str, optional
        Customer attributes to carry (e.g. ``channel``, ``acquisition_cost``). Each customer must
        have one value (missing values are ignored); conflicting values are an error.
    returns : {"refuse", "net", "drop"}
        Negative amounts (returns): refuse them, net them against the same customer's purchases on
        the same day (a day netting below zero, or to zero unless ``zero_amounts="keep"``, is
        then no purchase), or drop them.
    zero_amounts : {"refuse", "keep", "drop"}
        Zero-value purchases (or below one millionth): refuse them, keep them as purchases worth
        0 (e.g. free items; they count in ``frequency`` and lower the mean spend), or drop them.
    late_purchases : {"refuse", "drop"}
        Purchases after ``observation_period_end``: refuse them or drop them.
    engine : {"auto", "duckdb", "pandas"}
        Aggregation engine for a DataFrame (files always use DuckDB). Both give identical results.
    duckdb_config : dict, optional
        Settings for the DuckDB connection, e.g. ``{"memory_limit": "1GB", "threads": 2}``.

    Returns
    -------
    pandas.DataFrame
        Indexed by customer id (sorted), with ``frequency`` (int64), ``recency``, ``T`` (float64,
        in ``time_unit``), ``monetary_value`` (mean spend per repeat purchase day),
        ``revenue_to_date`` (every purchase day in the window, the first included) and
        ``first_purchase_value`` (float64, currency of the log; the last three only with
        ``monetary_value_col``), ``first_purchase``, ``last_purchase`` and the attributes.
        ``df.attrs["clvmodels"]`` holds ``time_unit``, ``period`` ("D") and ``observation_end``.

    Raises
    ------
    DataError
        Listing every problem in the log, with row counts, example ids and what to do.

    See Also
    --------
    calibration_holdout_summary : the same plus what each customer did in a holdout period.
    as_summary : a summary built elsewhere (its time unit stated).

    Examples
    --------
    Two purchases after the first make ``a`` a repeat buyer with frequency 2; ``recency`` and
    ``T`` are in days (the default unit) from the first purchase:

    >>> import pandas as pd
    >>> from clvmodels import rfm_summary
    >>> log = pd.DataFrame({"customer_id": ["a", "a", "a", "b"],
    ...                     "date": ["2024-01-01", "2024-01-15", "2024-03-01", "2024-01-10"],
    ...                     "amount": [20.0, 30.0, 50.0, 10.0]})
    >>> summary = rfm_summary(log, monetary_value_col="amount", observation_period_end="2024-03-31")
    >>> summary[["frequency", "recency", "T", "monetary_value", "revenue_to_date"]]
                 frequency  recency     T  monetary_value  revenue_to_date
    customer_id
    a                    2     60.0  90.0            40.0            100.0
    b                    0      0.0  81.0             0.0             10.0
    """
    spec = _make_spec(customer_id_col, datetime_col, monetary_value_col, datetime_format,
                      attribute_cols, returns, zero_amounts, late_purchases)
    dates = {"observation_period_end": observation_period_end}
    return _summarise(transactions, spec, dates, time_unit, engine, duckdb_config)


def calibration_holdout_summary(
    transactions,
    *,
    calibration_period_end,
    observation_period_end=None,
    customer_id_col: str = "customer_id",
    datetime_col: str = "date",
    monetary_value_col: str | None = None,
    time_unit: str = DEFAULT_TIME_UNIT,
    datetime_format: str | None = None,
    attribute_cols=None,
    returns: str = "refuse",
    zero_amounts: str = "refuse",
    late_purchases: str = "refuse",
    engine: str = "auto",
    duckdb_config: dict | None = None,
) -> pd.DataFrame:
    """Calibration summary plus what each customer did in the holdout period, for validation.

    Customers whose first purchase is on or before ``calibration_period_end`` get the columns of
    :func:`rfm_summary` computed on the calibration period (T runs to the calibration end), plus
    ``frequency_holdout`` (purchase days in the holdout, int64) and ``monetary_value_holdout``
    (mean of those days' totals, 0.0 without any). ``revenue_to_date`` covers the calibration
    period only (holdout purchases are what the model is checked against). The holdout runs from the day after
    ``calibration_period_end`` to ``observation_period_end`` (default: the last purchase), both
    inclusive; ``df.attrs["clvmodels"]`` adds ``holdout_end`` and ``duration_holdout`` (in
    ``time_unit``).

    Parameters
    ----------
    transactions : pandas.DataFrame or path-like or list of path-likes
        One row per purchase (as :func:`rfm_summary`).
    calibration_period_end : date-like
        Last day of the calibration period (inclusive); required.
    observation_period_end : date-like, optional
        Last day of the holdout (inclusive); default the day of the last purchase.
    customer_id_col, datetime_col, monetary_value_col, datetime_format, attribute_cols : optional
        Columns and formats of the log, as in :func:`rfm_summary`.
    time_unit : {"D", "W", "M", "Y"}, default "D"
        Unit of ``recency``, ``T`` and ``duration_holdout``.
    returns, zero_amounts, late_purchases : str, default "refuse"
        What to do with negative amounts, zero amounts and purchases after the observation end,
        as in :func:`rfm_summary`.
    engine : {"auto", "duckdb", "pandas"}, default "auto"
        Aggregation engine, as in :func:`rfm_summary`.
    duckdb_config : dict, optional
        DuckDB settings (memory limit, threads), as in :func:`rfm_summary`.

    Returns
    -------
    pandas.DataFrame
        One row per customer acquired by the calibration end: the :func:`rfm_summary` columns
        plus ``frequency_holdout`` and ``monetary_value_holdout``.

    Raises
    ------
    DataError
        As :func:`rfm_summary`, and if the calibration end is not before the observation end.

    Examples
    --------
    >>> import pandas as pd
    >>> from clvmodels import calibration_holdout_summary
    >>> log = pd.DataFrame({"customer_id": ["a", "a", "a", "b"],
    ...                     "date": ["2024-01-01", "2024-01-15", "2024-03-01", "2024-01-10"]})
    >>> cal = calibration_holdout_summary(log, calibration_period_end="2024-01-31",
    ...                                   observation_period_end="2024-03-31", time_unit="D")
    >>> cal[["frequency", "recency", "T", "frequency_holdout"]]
                 frequency  recency     T  frequency_holdout
    customer_id
    a                    1     14.0  30.0                  1
    b                    0      0.0  21.0                  0
    """
    spec = _make_spec(customer_id_col, datetime_col, monetary_value_col, datetime_format,
                      attribute_cols, returns, zero_amounts, late_purchases)
    dates = {"observation_period_end": observation_period_end,
             "calibration_period_end": calibration_period_end}
    return _summarise(transactions, spec, dates, time_unit, engine, duckdb_config)


def _make_spec(customer_id_col, datetime_col, monetary_value_col, datetime_format, attribute_cols,
               returns, zero_amounts, late_purchases) -> LogSpec:
    if isinstance(attribute_cols, str):
        attribute_cols = [attribute_cols]
    attribute_cols = tuple(attribute_cols or ())
    reserved = [c for c in attribute_cols if c in SUMMARY_COLUMNS + HOLDOUT_COLUMNS]
    if reserved:
        raise DataError(f"attribute_cols {reserved} clash with summary column names; rename them")
    return LogSpec(customer_id_col, datetime_col, monetary_value_col, datetime_format,
                   attribute_cols, returns, late_purchases, zero_amounts)


def _summarise(transactions, spec, dates, time_unit, engine, duckdb_config) -> pd.DataFrame:
    unit_days = days_per_unit(time_unit)
    check_choice("engine", engine, ENGINES)
    holdout = "calibration_period_end" in dates
    options = {"net_returns": spec.returns == "net", "keep_zero_days": spec.zero_amounts == "keep"}
    if isinstance(transactions, pd.DataFrame):
        log = normalise_frame(transactions, spec, dates)
        window = log.window
        if engine == "duckdb":
            with _duckdb_session(duckdb_config) as con:
                con.register("clv_transactions", log.to_frame())
                totals = _run_totals(con, window, spec, options)
        else:
            totals = sql.customer_totals_numpy(  # dict of arrays, ascending keys
                log.customers.keys, log.day, log.amount_micro, log.attributes,
                window.calibration_day, **options)
        ids = log.customers.ids(np.asarray(totals["customer_id"]))  # keys sort like the ids
        values = log.attribute_values
    else:
        if engine == "pandas":
            raise DataError(
                "engine='pandas' needs a DataFrame; files are aggregated out of core with DuckDB "
                "(use engine='auto' or 'duckdb', or read the file with pandas first)"
            )
        with _duckdb_session(duckdb_config) as con:
            window = register_files(con, transactions, spec, dates)
            totals = _run_totals(con, window, spec, options)
        ids = pd.Index(totals["customer_id"])
        values = [None] * len(spec.attribute_cols)
    if len(ids) == 0:
        raise DataError(
            f"no customer has a purchase on or before {day_to_iso(window.calibration_day)} once "
            "returns, zero amounts and late purchases are dropped; check the dates and the policies"
        )
    attributes = {name: _attribute_column(totals, i, name, values[i], ids)
                  for i, name in enumerate(spec.attribute_cols)}
    summary = _sort_by_id(_summary_frame(totals, ids, attributes, window, unit_days, spec, holdout))
    meta = {"time_unit": time_unit, "period": "D",
            "observation_end": day_to_iso(window.calibration_day)}
    if holdout:
        meta |= {"holdout_end": day_to_iso(window.end_day),
                 "duration_holdout": (window.end_day - window.calibration_day) / unit_days}
    return set_summary_meta(summary, **meta)


@contextlib.contextmanager
def _duckdb_session(config: dict | None):
    """An in-memory DuckDB connection in UTC whose spill files go to a private temporary folder."""
    import duckdb

    with tempfile.TemporaryDirectory(prefix="clvmodels-duckdb-") as spill:
        settings = {"preserve_insertion_order": False, "temp_directory": spill, **(config or {})}
        con = duckdb.connect(config=settings)
        try:
            con.execute("SET TimeZone = 'UTC'")
            con.execute("SET enable_progress_bar = false")  # no progress output in scheduled runs
            yield con
        finally:
            con.close()


def _run_totals(con, window: Window, spec: LogSpec, options: dict) -> pd.DataFrame:
    import duckdb

    query = sql.customer_totals_sql("clv_transactions", window.calibration_day,
                                    len(spec.attribute_cols), **options)
    try:  # sorted here, not in SQL: a DataFrame's keys sort like its ids
        return con.execute(query).df().sort_values("customer_id", kind="stable")
    except (duckdb.ConversionException, duckdb.OutOfRangeException):  # a BIGINT sum overflowed
        raise DataError(
            "a customer's amounts sum to more than 9.2e12, beyond exact 64-bit sums of "
            "millionths; rescale the amounts"
        ) from None


def _attribute_column(totals, i: int, name: str, values: pd.Index | None, ids):
    """One value of attribute ``name`` per customer; conflicting values are refused.

    ``values`` maps codes to values for a DataFrame log (None: the totals hold the values;
    codes are -1, or NULL from DuckDB, where every value is missing).
    """
    low, high = pd.Series(totals[f"attr_{i}_min"]), pd.Series(totals[f"attr_{i}_max"])
    if values is not None:
        low = pd.Series(low.to_numpy(dtype=np.int64, na_value=-1))
        high = pd.Series(high.to_numpy(dtype=np.int64, na_value=-1))
        low, high = low.where(low >= 0), high.where(high >= 0)
    conflict = (low.notna() & (low != high)).to_numpy()
    if conflict.any():
        problems = Problems()
        problems.add(int(conflict.sum()), f"conflicting values of {name!r}",
                     list(ids[conflict][:5]),
                     f"Each customer must have one {name!r} (missing values are ignored); clean "
                     "the column or leave it out of attribute_cols.", noun="customer")
        problems.raise_if_any()
    if values is None:
        return low.to_numpy()
    codes = low.fillna(-1).to_numpy(np.int64)
    return values.take(codes, allow_fill=True, fill_value=None)


def _summary_frame(totals, ids, attributes, window: Window, unit_days: float, spec: LogSpec,
                   holdout: bool) -> pd.DataFrame:
    """Integer totals -> the summary columns (see module docstring)."""
    first_day = np.asarray(totals["first_day"], np.int64)
    last_day = np.asarray(totals["last_day"], np.int64)
    frequency = np.asarray(totals["n_days"], np.int64) - 1
    columns = {
        "frequency": frequency,
        "recency": (last_day - first_day) / unit_days,
        "T": (window.calibration_day - first_day) / unit_days,
    }
    if spec.monetary_value_col:
        total_micro = np.asarray(totals["total_micro"], np.int64)
        first_micro = np.asarray(totals["first_micro"], np.int64)
        columns["monetary_value"] = _mean_amount(total_micro - first_micro, frequency)
        # one division of an exact integer sum each, as for the mean: engine- and order-free
        columns["revenue_to_date"] = total_micro / float(sql.AMOUNT_SCALE)
        columns["first_purchase_value"] = first_micro / float(sql.AMOUNT_SCALE)
    columns["first_purchase"] = _day_stamps(first_day)
    columns["last_purchase"] = _day_stamps(last_day)
    for name, values in attributes.items():  # .array keeps the log's dtype (categorical, ...)
        columns[name] = values.array if isinstance(values, pd.Index) else values
    if holdout:
        n_holdout = np.asarray(totals["n_holdout_days"], np.int64)
        columns["frequency_holdout"] = n_holdout
        if spec.monetary_value_col:
            columns["monetary_value_holdout"] = _mean_amount(
                np.asarray(totals["holdout_micro"], np.int64), n_holdout)
    # copy=False: one block per column instead of stacking them (a copy of every column; at 2M
    # customers that copy cost more than the whole aggregation); the arrays are fresh and ours
    return pd.DataFrame(columns, index=pd.Index(ids, name=spec.customer_id_col), copy=False)


def _day_stamps(days: np.ndarray) -> np.ndarray:
    """Day numbers (int64) as datetime64[us] midnights: one multiplication (the same values as
    casting through datetime64[D], which converts value by value and is several times slower)."""
    return (days * 86_400_000_000).view("datetime64[us]")


def _mean_amount(total_micro: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Mean of ``count`` purchase-day totals summing to ``total_micro``; 0.0 where count is 0.

    One division of exact integers, so the result depends only on the multiset of amounts.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total_micro / (count * float(sql.AMOUNT_SCALE))
    return np.where(count > 0, mean, 0.0)


def _sort_by_id(summary: pd.DataFrame) -> pd.DataFrame:
    """Sort by customer id when ids are comparable; otherwise keep first-appearance order."""
    try:
        return summary.sort_index(kind="stable")
    except TypeError:
        return summary
