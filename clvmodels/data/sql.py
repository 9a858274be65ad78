"""The transaction log -> per-customer totals aggregation, written once as portable SQL.

DuckDB runs it today (on files or on a normalised DataFrame); Spark SQL can run the same text later.
The core query uses only GROUP BY, MIN, MAX, COUNT, SUM, CASE and CAST, plus ``MIN_BY`` (present in
both DuckDB and Spark >= 3.0). What differs between dialects (turning a timestamp into a day number)
lives in :data:`DIALECTS` and nowhere else.

Input relation (built by :mod:`clvmodels.data.transactions`)::

    customer_id | day BIGINT (days since 1970-01-01) | amount_micro BIGINT | attr_0 ... attr_k

Output: one row per customer whose first purchase is on or before the calibration day, with the
columns of :data:`TOTALS_COLUMNS` (plus ``attr_i_min``, ``attr_i_max``); every value is an integer
(or an attribute), so both engines and any row order give identical results.
"""

from __future__ import annotations

import numpy as np

#: Amounts are summed as integers in millionths of the currency unit: exact and order-free.
AMOUNT_SCALE = 1_000_000

#: Per-dialect SQL fragments; ``{ts}`` is a DATE, TIMESTAMP or (UTC-session) TIMESTAMPTZ expression.
DIALECTS = {
    "duckdb": {"day_number": "CAST(CAST({ts} AS DATE) - DATE '1970-01-01' AS BIGINT)"},
    "spark": {"day_number": "CAST(DATEDIFF(CAST({ts} AS DATE), DATE '1970-01-01') AS BIGINT)"},
}

TOTALS_COLUMNS = (
    "customer_id",
    "first_day",  # first purchase day (always in the calibration period)
    "last_day",  # last purchase day in the calibration period
    "n_days",  # purchase days in the calibration period (frequency + 1)
    "total_micro",  # sum of the calibration purchase days' amounts (revenue_to_date)
    "first_micro",  # amount of the first purchase day (first_purchase_value)
    "n_holdout_days",  # purchase days after the calibration day
    "holdout_micro",  # sum of the holdout purchase days' amounts
)


def quote(identifier: str) -> str:
    """A quoted SQL identifier (standard double quotes; Spark maps them with ANSI mode)."""
    return '"' + str(identifier).replace('"', '""') + '"'


def literal(text: str) -> str:
    """A single-quoted SQL string literal."""
    return "'" + str(text).replace("'", "''") + "'"


def day_number_sql(ts_expr: str, dialect: str = "duckdb") -> str:
    """SQL for the day number (days since 1970-01-01) of a timestamp expression."""
    return DIALECTS[dialect]["day_number"].format(ts=ts_expr)


def micro_sql(amount_expr: str) -> str:
    """SQL turning a DOUBLE amount into integer micro-units; the same arithmetic as :func:`to_micro`."""
    return f"CAST(FLOOR({amount_expr} * {AMOUNT_SCALE} + 0.5) AS BIGINT)"


def to_micro(amount: np.ndarray) -> np.ndarray:
    """Amounts (float64) as int64 micro-units, rounded half up exactly as :func:`micro_sql` does."""
    scaled = np.asarray(amount, np.float64) * AMOUNT_SCALE
    scaled += 0.5
    return np.floor(scaled, out=scaled).astype(np.int64)


def customer_totals_sql(
    source: str, calibration_day: int, n_attributes: int = 0, net_returns: bool = False,
    keep_zero_days: bool = False,
) -> str:
    """The aggregation: transactions -> purchase days -> per-customer totals.

    Parameters
    ----------
    source : str
        Name of the input relation (see module docstring).
    calibration_day : int
        Last day of the calibration period; later days count as holdout purchases. For a plain
        summary pass the observation end (there is then no holdout).
    n_attributes : int
        Number of ``attr_i`` columns to carry. Each gets ``attr_i_min`` and ``attr_i_max`` over
        the customer's rows so that the caller can refuse customers with conflicting values.
    net_returns : bool
        Amounts may be negative (returns netted per day): a day whose net total is negative,
        or zero unless ``keep_zero_days``, is not a purchase day.
    keep_zero_days : bool
        Zero-value purchases are kept, so a day netting to exactly zero is still a purchase day.
    """
    cal = int(calibration_day)
    day_attrs = "".join(
        f",\n           MIN(attr_{i}) AS attr_{i}_min, MAX(attr_{i}) AS attr_{i}_max"
        for i in range(n_attributes)
    )
    customer_attrs = "".join(
        f",\n       MIN(attr_{i}_min) AS attr_{i}_min, MAX(attr_{i}_max) AS attr_{i}_max"
        for i in range(n_attributes)
    )
    at_least = ">=" if keep_zero_days else ">"
    having_net = f"\n    HAVING SUM(amount_micro) {at_least} 0" if net_returns else ""
    # Two group-bys: purchases on the same day merge into one purchase day (amounts summed),
    # then each customer's days are counted and summed for the calibration and holdout periods.
    return f"""
WITH purchase_days AS (
    SELECT customer_id, day,
           CAST(SUM(amount_micro) AS BIGINT) AS amount_micro{day_attrs}
    FROM {source}
    GROUP BY customer_id, day{having_net}
)
SELECT customer_id,
       MIN(day) AS first_day,
       MAX(CASE WHEN day <= {cal} THEN day END) AS last_day,
       COUNT(CASE WHEN day <= {cal} THEN 1 END) AS n_days,
       CAST(SUM(CASE WHEN day <= {cal} THEN amount_micro ELSE 0 END) AS BIGINT) AS total_micro,
       MIN_BY(amount_micro, day) AS first_micro,
       COUNT(CASE WHEN day > {cal} THEN 1 END) AS n_holdout_days,
       CAST(SUM(CASE WHEN day > {cal} THEN amount_micro ELSE 0 END) AS BIGINT) AS holdout_micro{customer_attrs}
FROM purchase_days
GROUP BY customer_id
HAVING MIN(day) <= {cal}
"""


#: sparse keys of logs up to this many rows are renumbered (a sort of a small log) so that the
#: kernel serves them too, and a warm-up call on a slice of a big log loads it
_RENUMBER_MAX_ROWS = 2**17


def customer_totals_numpy(
    customer: np.ndarray, day: np.ndarray, amount_micro: np.ndarray, attributes: list[np.ndarray],
    calibration_day: int, net_returns: bool = False, keep_zero_days: bool = False,
) -> dict[str, np.ndarray]:
    """:func:`customer_totals_sql` on in-memory arrays: the same result, column for column.

    Parameters
    ----------
    customer, day, amount_micro : ndarray of int64, shape (n,)
        Customer keys (>= 0), day numbers and amounts in micro-units.
    attributes : list of ndarray of int64, shape (n,)
        Attribute codes, -1 where missing (NULL in the SQL).
    calibration_day, net_returns, keep_zero_days
        As in :func:`customer_totals_sql`.

    Returns
    -------
    dict of ndarray
        The columns of :data:`TOTALS_COLUMNS` (``customer_id`` holds the keys, ascending) and
        ``attr_i_min``, ``attr_i_max`` (codes, -1 where every value is missing).

    Notes
    -----
    Dense keys (at most about two per row, as factorised ids and gap-free integer ids give) go to
    :func:`clvmodels.data.totals_kernel.customer_totals_dense`: a compiled counting sort by
    customer, no sort of the whole log (10M rows: 2.5-3.3 s -> 0.4-0.5 s on the 2-core machine);
    so do sparse keys of small logs, renumbered first. Otherwise one sort of a packed
    ``customer * span + day`` key puts the rows in (customer, day) order; purchase days and
    customers are then contiguous runs, summed through cumulative sums.
    Both give the same arrays (tests/test_rfm_speed_paths.py). Sums are over int64, so they are
    exact and do not depend on row order.
    """
    if len(customer):
        from clvmodels.data import totals_kernel  # numba loads on the first summary only

        n_keys = int(customer.max()) + 1
        if totals_kernel.usable(customer, n_keys):
            return totals_kernel.customer_totals_dense(
                customer, day, amount_micro, attributes, n_keys, calibration_day,
                net_returns, keep_zero_days)
        if len(customer) <= _RENUMBER_MAX_ROWS:  # few rows, sparse keys: number them densely
            keys, dense = np.unique(customer, return_inverse=True)
            totals = totals_kernel.customer_totals_dense(
                dense.astype(np.int64), day, amount_micro, attributes, len(keys),
                calibration_day, net_returns, keep_zero_days)
            totals["customer_id"] = keys[totals["customer_id"]]
            return totals
    return customer_totals_sorted(customer, day, amount_micro, attributes, calibration_day,
                                  net_returns, keep_zero_days)


def customer_totals_sorted(
    customer: np.ndarray, day: np.ndarray, amount_micro: np.ndarray, attributes: list[np.ndarray],
    calibration_day: int, net_returns: bool = False, keep_zero_days: bool = False,
) -> dict[str, np.ndarray]:
    """:func:`customer_totals_numpy` by one sort of the log (any keys >= 0; see its Notes)."""
    order, sorted_key, span, day_of_offset = _sort_by_customer_and_day(customer, day)
    new_day = np.empty(len(order), bool)
    new_day[0] = True
    np.not_equal(sorted_key[1:], sorted_key[:-1], out=new_day[1:])
    day_start = np.flatnonzero(new_day)  # rows starting a purchase day
    pair_customer, pair_day = np.divmod(sorted_key[day_start], span)
    pair_day = day_of_offset[pair_day]
    pair_micro = _run_sums(amount_micro[order], day_start, np.diff(np.r_[day_start, len(order)]))
    kept = None
    if net_returns:  # a day netting below zero (or to zero) is no purchase: drop it
        kept = pair_micro >= 0 if keep_zero_days else pair_micro > 0
        pair_customer, pair_day, pair_micro = pair_customer[kept], pair_day[kept], pair_micro[kept]
    if len(pair_customer) == 0:
        return {name: np.zeros(0, np.int64) for name in TOTALS_COLUMNS}

    # Each customer's purchase days are now a contiguous run, in day order, so the calibration
    # days are a prefix of the run: run sums and counts come from cumulative sums.
    start = np.flatnonzero(np.r_[True, pair_customer[1:] != pair_customer[:-1]])
    length = np.diff(np.r_[start, len(pair_customer)])
    all_micro = _run_sums(pair_micro, start, length)
    if pair_day.max() <= calibration_day:  # no holdout days: skip the split
        n_days, total_micro = length, all_micro
    else:
        in_cal = pair_day <= calibration_day
        n_days = _run_sums(in_cal.astype(np.int64), start, length)
        total_micro = _run_sums(np.where(in_cal, pair_micro, 0), start, length)
    totals = {
        "customer_id": pair_customer[start],
        "first_day": pair_day[start],
        "last_day": pair_day[start + np.maximum(n_days - 1, 0)],
        "n_days": n_days,
        "total_micro": total_micro,
        "first_micro": pair_micro[start],
        "n_holdout_days": length - n_days,
        "holdout_micro": all_micro - total_micro,
    }
    if attributes:
        row_kept = None if kept is None else np.repeat(kept, np.diff(np.r_[day_start, len(order)]))
        owner = np.searchsorted(totals["customer_id"], sorted_key // span)  # row -> customer run
        if row_kept is not None:  # a customer whose every day netted away has no run: its rows
            owner = np.where(row_kept, owner, 0)  # (codes -1 below) must not index past the end
        for i, codes in enumerate(attributes):
            codes = codes[order]
            if row_kept is not None:
                codes = np.where(row_kept, codes, -1)  # rows of dropped days count as missing
            low = np.full(len(start), np.iinfo(np.int64).max)
            np.minimum.at(low, owner, np.where(codes >= 0, codes, np.iinfo(np.int64).max))
            high = np.full(len(start), -1, np.int64)
            np.maximum.at(high, owner, codes)
            totals[f"attr_{i}_min"] = np.where(high < 0, -1, low)
            totals[f"attr_{i}_max"] = high
    keep = totals["first_day"] <= calibration_day
    return totals if keep.all() else {name: values[keep] for name, values in totals.items()}


def _run_sums(values: np.ndarray, start: np.ndarray, length: np.ndarray) -> np.ndarray:
    """Sums of int64 ``values`` over the runs ``[start, start + length)`` covering the array.

    The cumulative sum may wrap around int64 on huge logs, but each run's true sum fits in int64
    (checked at the boundary), and wrap-around subtraction recovers it exactly.
    """
    cumulative = np.cumsum(values)
    at_end = cumulative[start + length - 1]
    return at_end - np.r_[np.int64(0), at_end[:-1]]


def _sort_by_customer_and_day(customer: np.ndarray, day: np.ndarray):
    """Row order sorting by (customer, day), the sorted packed keys, the key span and day lookup.

    The key is ``customer * span + day offset``. When key and row number fit together in 63 bits,
    the row number is packed into the low bits and a plain (SIMD) sort replaces the slower argsort.
    """
    first = int(day.min())
    span = int(day.max()) - first + 1
    day_of_offset = np.arange(first, first + span, dtype=np.int64)
    offset = day - first
    if (int(customer.max()) + 1) * span >= 2**62:  # number the distinct days instead
        day_of_offset, offset = np.unique(day, return_inverse=True)
        span = len(day_of_offset)
    key = customer * span + offset
    row_bits = max(int(len(key) - 1).bit_length(), 1)
    if int(key.max()) < 2 ** (62 - row_bits):
        packed = (key << row_bits) | np.arange(len(key), dtype=np.int64)
        packed.sort()
        return packed & ((1 << row_bits) - 1), packed >> row_bits, span, day_of_offset
    order = np.argsort(key)
    return order, key[order], span, day_of_offset
