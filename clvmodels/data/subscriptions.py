"""Subscription log -> per-customer tenures with right censoring, and cohort survival tables.

The sBG model (:mod:`clvmodels.formulas.sbg`) reads how many renewals each subscriber made and
whether they have left. :func:`subscription_tenures` derives both from a log with one row per
subscription: customer id, ``start`` (first day of service), ``end`` (the day service stopped,
empty while active), optionally a price per period and an acquisition channel.

Renewals fall on calendar anniversaries of the start: the same day of each following month
("M") or year ("Y"), clipped to the month's last day (31 January renews on 28/29 February); every
7 days ("W") or every day ("D"). A subscription *renewed* at an anniversary strictly before its
end (one ending on an anniversary did not renew there); one still active at the observation end
renewed at every anniversary up to and including it, and is right-censored. Hence

- ``renewals``: anniversaries passed while subscribed (``periods_paid = renewals + 1``);
- ``churned``: True where the subscription ended on or before the observation end;
- ``observable_renewals``: anniversaries up to the observation end, which a subscriber could
  have reached (equal to ``renewals`` for the censored);
- ``cohort``: the calendar period of the start (a ``pandas.Period``).

Loud refusals, all listed in one :class:`DataError` with counts and example ids: missing ids or
starts, unreadable dates (datetimes or ISO 8601 text only), an end on or before its start, a
start after the observation end, an end after it (unless ``late_ends="censor"``), a bad price,
overlapping subscriptions of one customer, and (unless ``repeat_subscriptions`` says otherwise)
a customer with several subscriptions. A plan change recorded as one subscription ending the
day the next starts is two subscriptions: merge them first if it is one relationship.

:func:`cohort_survival` turns the tenures into the survival counts of Fader & Hardie (2007):
customers of each start period (optionally per channel) still subscribed after t renewals, for
every t all of the cohort could have reached by the observation end.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from clvmodels.data.meta import set_summary_meta
from clvmodels.data.transactions import UTC_OFFSET_PATTERN, count_rows, day_of, day_to_iso
from clvmodels.errors import DataError, check_choice

PERIODS = ("D", "W", "M", "Y")
LATE_END_POLICIES = ("refuse", "censor")
REPEAT_POLICIES = ("refuse", "first", "spells")
_PANDAS_FREQ = {"D": "D", "W": "W-SUN", "M": "M", "Y": "Y"}
_DAYS = {"D": 1, "W": 7}


class _Problems:
    def __init__(self):
        self.lines: list[str] = []

    def add(self, mask, ids, what: str, hint: str, noun: str = "row") -> None:
        mask = np.asarray(mask, bool)
        if mask.any():
            examples = list(pd.unique(pd.Series(ids[mask]).dropna()))[:5]
            self.lines.append(f"{what} in {count_rows(int(mask.sum()), examples, noun)}. {hint}")

    def raise_if_any(self) -> None:
        if self.lines:
            raise DataError("the subscription log cannot be read (nothing was computed):\n- "
                            + "\n- ".join(self.lines))


def _days(column: pd.Series):
    """Days since 1970-01-01 (UTC date), and masks of missing, unreadable and mixed-zone values.

    Datetime columns are taken as they are (aware ones converted to UTC); text must be ISO 8601
    and date objects are read as dates. Aware and naive values mixed in one column would be read
    two ways, so the rarer kind is refused, as :func:`clvmodels.rfm_summary` does.
    """
    n = len(column)
    missing = column.isna().to_numpy()
    mixed = np.zeros(n, bool)
    if isinstance(column.dtype, pd.DatetimeTZDtype):
        stamps = column.dt.tz_convert("UTC").dt.tz_localize(None)
    elif pd.api.types.is_datetime64_dtype(column.dtype):
        stamps = column
    elif pd.api.types.is_numeric_dtype(column.dtype):
        return np.zeros(n, np.int64), missing, ~missing, mixed
    else:
        text = column.astype("string").str.strip()
        missing = missing | (text == "").fillna(False).to_numpy(bool)
        values = column.where(~missing)
        is_text = ~missing & values.map(lambda v: isinstance(v, str)).to_numpy(bool)
        is_date = ~missing & ~is_text & values.map(lambda v: hasattr(v, "year")).to_numpy(bool)
        aware = np.zeros(n, bool)
        aware[is_text] = text[is_text].str.contains(UTC_OFFSET_PATTERN, regex=True).to_numpy(bool)
        aware[is_date] = values[is_date].map(lambda v: getattr(v, "tzinfo", None) is not None).to_numpy(bool)
        dated = is_text | is_date
        n_aware = int(aware.sum())
        if 0 < n_aware < int(dated.sum()):
            mixed = aware if n_aware <= dated.sum() / 2 else dated & ~aware
        stamps = pd.Series(pd.NaT, index=column.index, dtype="datetime64[us]")
        for rows, source, fmt in ((is_text, text, "ISO8601"), (is_date, values, None)):
            if rows.any():
                parsed = pd.to_datetime(source[rows], format=fmt, errors="coerce", utc=True)
                stamps[rows] = parsed.dt.tz_localize(None).astype("datetime64[us]")
    unreadable = stamps.isna().to_numpy() & ~missing
    days = stamps.to_numpy().astype("datetime64[D]")
    days = np.where(np.isnat(days), np.datetime64(0, "D"), days).astype(np.int64)
    return days, missing, unreadable, mixed


def anniversaries_before(start, limit, period: str, strict: bool) -> np.ndarray:
    """Number of anniversaries k >= 1 of ``start`` before ``limit`` (``<`` if strict, else ``<=``).

    Parameters
    ----------
    start, limit : array_like of int, shape (n,)
        Days since 1970-01-01.
    period : {"D", "W", "M", "Y"}
    strict : bool

    Returns
    -------
    ndarray of int64, shape (n,), >= 0
    """
    start, limit = np.asarray(start, np.int64), np.asarray(limit, np.int64)
    if period in _DAYS:
        k = (limit - start - (1 if strict else 0)) // _DAYS[period]
        return np.maximum(k, 0)
    step = 12 if period == "Y" else 1
    d = start.astype("datetime64[D]")
    month = d.astype("datetime64[M]")
    day_in_month = (d - month.astype("datetime64[D]")).astype(np.int64)  # 0-based
    limit_month = limit.astype("datetime64[D]").astype("datetime64[M]")
    k = (limit_month - month).astype(np.int64) // step
    target = month + k * step
    length = ((target + 1).astype("datetime64[D]") - target.astype("datetime64[D]")).astype(np.int64)
    anniversary = target.astype("datetime64[D]").astype(np.int64) + np.minimum(day_in_month, length - 1)
    beyond = anniversary >= limit if strict else anniversary > limit
    return np.maximum(k - beyond, 0)


def subscription_tenures(
    log: pd.DataFrame,
    *,
    observation_end,
    period: str,
    customer_id_col: str = "customer_id",
    start_col: str = "start",
    end_col: str = "end",
    price_col: str | None = None,
    channel_col: str | None = None,
    late_ends: str = "refuse",
    repeat_subscriptions: str = "refuse",
) -> pd.DataFrame:
    """Per-subscriber renewals and censoring from a subscription log (see module docstring).

    Parameters
    ----------
    log : pandas.DataFrame, shape (n_subscriptions, k)
        One row per subscription.
    observation_end : date-like
        Last day observed (inclusive), as for :func:`clvmodels.rfm_summary`.
    period : {"D", "W", "M", "Y"}
        Billing period: renewals on daily, weekly, monthly or yearly anniversaries.
    customer_id_col, start_col, end_col : str
        Columns of the id, the first day of service and the day service stopped (empty: active).
    price_col : str, optional
        Price per period (>= 0, log currency), carried as ``price``.
    channel_col : str, optional
        Acquisition channel, carried as ``channel``.
    late_ends : {"refuse", "censor"}
        An end after ``observation_end`` (e.g. a cancellation effective next month): refuse it,
        or read the subscription as active at the observation end.
    repeat_subscriptions : {"refuse", "first", "spells"}
        Customers with several (non-overlapping) subscriptions: refuse, keep each customer's
        first (the sBG's leaving is for good), or keep every subscription as a spell (index
        ``(customer_id, spell)``, spell 0 the first).

    Returns
    -------
    pandas.DataFrame
        Indexed by customer id (sorted; or by customer and spell): ``start``, ``end``
        (datetime64[us], NaT while active or censored), ``renewals``, ``periods_paid``,
        ``observable_renewals`` (int64), ``churned`` (bool), ``cohort`` (Period of the start),
        ``price``, ``channel``. ``attrs["clvmodels"]``: ``time_unit`` and ``period`` (the billing
        period) and ``observation_end``.

    Raises
    ------
    DataError
        Every problem of the log in one message (counts, example ids, what to do).
    """
    check_choice("period", period, PERIODS)
    check_choice("late_ends", late_ends, LATE_END_POLICIES)
    check_choice("repeat_subscriptions", repeat_subscriptions, REPEAT_POLICIES)
    if not isinstance(log, pd.DataFrame):
        raise DataError(f"subscription_tenures needs a pandas DataFrame; got {type(log).__name__}")
    named = [customer_id_col, start_col, end_col] + [c for c in (price_col, channel_col) if c]
    missing_cols = [c for c in named if c not in log.columns]
    if missing_cols:
        raise DataError(f"the subscription log lacks column(s) {missing_cols}; it has "
                        f"{list(log.columns)[:20]}. Pass customer_id_col=, start_col=, end_col=, "
                        "price_col= or channel_col= to name yours")
    if len(log) == 0:
        raise DataError("the subscription log is empty")
    end_day = day_of(observation_end, "observation_end")
    ids = log[customer_id_col].to_numpy(dtype=object)
    start, no_start, bad_start, mixed_start = _days(log[start_col])
    end, active, bad_end, mixed_end = _days(log[end_col])
    problems = _Problems()
    problems.add(log[customer_id_col].isna(), np.array([f"row {i!r}" for i in log.index], object),
                 f"missing customer id (column {customer_id_col!r})", "Drop these rows or fill in the id.")
    problems.add(no_start, ids, f"missing start (column {start_col!r})",
                 "Every subscription needs its first day.")
    read_hint = "Give datetimes or ISO 8601 text (YYYY-MM-DD)."
    problems.add(bad_start, ids, f"start that cannot be read (column {start_col!r})", read_hint)
    problems.add(bad_end, ids, f"end that cannot be read (column {end_col!r}; leave it empty while active)",
                 read_hint)
    for mixed, col in ((mixed_start, start_col), (mixed_end, end_col)):
        problems.add(mixed, ids, f"time-zone-aware and naive dates mixed (column {col!r}); the rarer kind is",
                     "Give every date a UTC offset (they are converted to UTC) or none.")
    problems.raise_if_any()  # the rules below need readable dates
    dated = ~no_start & ~bad_start
    ended = dated & ~active & ~bad_end
    problems.add(ended & (end <= start), ids, "end on or before its start",
                 "Check the two columns (swapped?); a subscription lasts at least one day.")
    problems.add(dated & (start > end_day), ids, f"start after the observation end {day_to_iso(end_day)}",
                 "Pass a later observation_end or drop these subscriptions.")
    late = ended & (end > end_day)
    if late_ends == "refuse":
        problems.add(late, ids, f"end after the observation end {day_to_iso(end_day)}",
                     "Pass late_ends='censor' to read them as active at the observation end, or a "
                     "later observation_end.")
    price = None
    if price_col:
        price = pd.to_numeric(log[price_col], errors="coerce").to_numpy(float)
        problems.add(~(np.isfinite(price) & (price >= 0)), ids,
                     f"price missing, not a number or negative (column {price_col!r})",
                     "Give the price per period (0 for free plans).")
    active = active | late
    end = np.where(active, end_day, end)
    frame = _spells(log, ids, start, end, active, problems, repeat_subscriptions, customer_id_col)
    problems.raise_if_any()
    rows = frame["row"].to_numpy()
    s, e, alive = start[rows], end[rows], active[rows]
    observable = anniversaries_before(s, np.full(len(s), end_day), period, strict=False)
    renewals = np.where(alive, observable, anniversaries_before(s, e, period, strict=True))
    columns = {
        "start": s.astype("datetime64[D]").astype("datetime64[us]"),
        "end": np.where(alive, np.datetime64("NaT"), e.astype("datetime64[D]")).astype("datetime64[us]"),
        "renewals": renewals.astype(np.int64),
        "periods_paid": renewals.astype(np.int64) + 1,
        "observable_renewals": observable.astype(np.int64),
        "churned": ~alive,
        "cohort": pd.PeriodIndex(pd.DatetimeIndex(s.astype("datetime64[D]")), freq=_PANDAS_FREQ[period]),
    }
    if price is not None:
        columns["price"] = price[rows]
    if channel_col:
        columns["channel"] = log[channel_col].to_numpy()[rows]
    out = pd.DataFrame(columns, index=frame.index)
    meta = {"time_unit": period, "period": period, "observation_end": day_to_iso(end_day)}
    return set_summary_meta(out, **meta)


def _spells(log, ids, start, end, active, problems: _Problems, policy: str, id_col: str) -> pd.DataFrame:
    """Rows ordered by (customer, start) with their spell number; overlaps and repeats checked.

    Two subscriptions of one customer overlap when the later starts before the earlier ended
    (an active one never ends).
    """
    frame = pd.DataFrame({"customer": log[id_col].to_numpy(), "start": start, "end": end,
                          "active": active, "row": np.arange(len(log))})
    try:
        frame = frame.sort_values(["customer", "start"], kind="stable")
    except TypeError:  # ids of mixed types: group by first appearance instead
        frame["code"] = pd.factorize(frame["customer"])[0]
        frame = frame.sort_values(["code", "start"], kind="stable")
    same = frame["customer"].to_numpy(object)[1:] == frame["customer"].to_numpy(object)[:-1]
    ends = np.where(frame["active"].to_numpy(), np.iinfo(np.int64).max, frame["end"].to_numpy())
    previous_end = ends[:-1]
    overlap = np.r_[False, same & (frame["start"].to_numpy()[1:] < previous_end)]
    customers = frame["customer"].to_numpy(object)
    overlapping = pd.Series(customers).isin(set(customers[overlap])).to_numpy()
    problems.add(overlap, customers, "overlapping subscriptions of one customer (a start before the "
                 "previous subscription of that customer ended)",
                 "Merge or correct them: a customer holds one subscription at a time.", noun="subscription")
    frame["spell"] = frame.groupby("customer", sort=False).cumcount().to_numpy()
    repeat = (frame["spell"].to_numpy() > 0) & ~overlapping
    if policy == "refuse":
        problems.add(repeat, customers, "a customer's second or later subscription",
                     "Pass repeat_subscriptions='first' to keep each customer's first, or 'spells' "
                     "to keep every subscription as its own spell.", noun="subscription")
    if policy == "first":
        frame = frame[frame["spell"].to_numpy() == 0]
    if policy == "spells":
        return frame.set_index(["customer", "spell"]).rename_axis([id_col, "spell"])
    return frame.set_index("customer").rename_axis(id_col)


def cohort_survival(tenures: pd.DataFrame, by=None) -> pd.DataFrame:
    """Survival counts per start cohort: customers still subscribed after t renewals.

    Parameters
    ----------
    tenures : pandas.DataFrame
        The output of :func:`subscription_tenures`.
    by : str or list of str, optional
        Further columns to split cohorts by, e.g. ``"channel"``.

    Returns
    -------
    pandas.DataFrame
        One row per cohort (index ``cohort`` and the ``by`` columns), columns t = 0, 1, ...,
        nullable Int64: the count with ``renewals >= t``, for every t up to the smallest
        ``observable_renewals`` in the cohort (all of it could have got there by the observation
        end); NA beyond. Column 0 is the cohort size. A row's counts are the ``survivors`` of
        :func:`clvmodels.formulas.sbg.cohort_to_tenures`.
    """
    if not isinstance(tenures, pd.DataFrame) or len(tenures) == 0:
        raise DataError("cohort_survival needs a non-empty tenure table from subscription_tenures(...)")
    keys = ["cohort"] + ([by] if isinstance(by, str) else list(by or []))
    missing = [c for c in keys + ["renewals", "observable_renewals"] if c not in tenures.columns]
    if missing:
        raise DataError(f"cohort_survival needs column(s) {missing}; build the table with "
                        "clvmodels.data.subscriptions.subscription_tenures(...)")
    rows = {}
    for key, group in tenures.groupby(keys, sort=True, dropna=False, observed=True):
        reach = int(group["observable_renewals"].min())
        renewals = group["renewals"].to_numpy()
        rows[key] = [(renewals >= t).sum() for t in range(reach + 1)]
    width = max(len(v) for v in rows.values())
    table = pd.DataFrame([v + [pd.NA] * (width - len(v)) for v in rows.values()],
                         index=pd.MultiIndex.from_tuples([k if isinstance(k, tuple) else (k,) for k in rows],
                                                         names=keys),
                         columns=range(width)).astype("Int64")
    if len(keys) == 1:
        table.index = table.index.get_level_values(0)
    table.attrs = dict(tenures.attrs)
    return table


def tenures_from_cohorts(table: pd.DataFrame, period: str | None = None) -> pd.DataFrame:
    """A cohort survival table as weighted (renewals, churned) rows, for fitting the sBG on cohorts.

    Each cohort's counts ``n_0 >= n_1 >= ... >= n_k`` (customers still subscribed after t
    renewals; NA beyond the cohort's reach) become the rows of
    :func:`clvmodels.formulas.sbg.cohort_to_tenures`: ``n_{t-1} - n_t`` customers left after
    t - 1 renewals, ``n_k`` are still subscribed after k (right-censored), the Fader & Hardie
    (2007) eq. 6 likelihood. Rows with no customer are dropped.

    Parameters
    ----------
    table : pandas.DataFrame, shape (n_cohorts, k + 1)
        As :func:`cohort_survival` returns it (columns 0..k), or built by hand: index the cohort
        (and e.g. channel) labels, column 0 the cohort size.
    period : {"D", "W", "M", "Y"}, optional
        The billing period, when the table does not carry it in its metadata (a hand-built one).

    Returns
    -------
    pandas.DataFrame
        One row per (cohort, renewals, churned) with customers, RangeIndex: the index levels of
        ``table`` as columns, ``renewals`` (int64), ``churned`` (bool) and ``customers`` (int64,
        the weight to fit with: ``model.fit(rows, weights="customers")``). Metadata: the table's,
        with ``time_unit`` and ``period``.

    Raises
    ------
    DataError
        Counts that are not whole numbers >= 0, increase with t, have a gap (NA then a count), or
        a cohort of size 0; no billing period known.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame([[1000, 631, 468]], index=pd.Index(["regular"], name="cohort"))
    >>> rows = tenures_from_cohorts(table, period="Y")
    >>> rows[["renewals", "churned", "customers"]].values.tolist()
    [[0, True, 369], [1, True, 163], [2, False, 468]]
    """
    from clvmodels.formulas.sbg import cohort_to_tenures

    if not isinstance(table, pd.DataFrame) or table.empty:
        raise DataError("tenures_from_cohorts needs a non-empty cohort survival table (columns 0, 1, "
                        "..., one row per cohort), e.g. from cohort_survival(...)")
    unit = period or table.attrs.get("clvmodels", {}).get("period") or table.attrs.get(
        "clvmodels", {}).get("time_unit")
    if unit is None:
        raise DataError("the cohort table does not say its billing period; pass period='Y' (or 'M', "
                        "'W', 'D')")
    check_choice("period", unit, PERIODS)
    try:
        counts = table.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError):
        raise DataError("the cohort table's counts must be numbers") from None
    filled = np.isfinite(counts)
    bad = {
        "a count that is not a whole number >= 0": (filled & ((counts < 0) | (counts != np.round(counts)))).any(1),
        "a count after an empty (NA) column": (filled[:, 1:] & ~filled[:, :-1]).any(1),
        "more customers after t renewals than after t - 1": (
            filled[:, 1:] & filled[:, :-1] & (counts[:, 1:] > counts[:, :-1])).any(1),
        "no customer at t = 0 (column 0 is the cohort size)": ~filled[:, 0] | (np.nan_to_num(counts[:, 0]) <= 0),
    }
    lines = [f"{what} in {count_rows(int(mask.sum()), list(table.index[mask]), 'cohort')}"
             for what, mask in bad.items() if mask.any()]
    if lines:
        raise DataError("the cohort survival table cannot be read (nothing was fitted):\n- " + "\n- ".join(lines)
                        + "\nEach row holds the customers of one cohort still subscribed after 0, 1, ... renewals.")
    names = [n if n is not None else f"level_{i}" for i, n in enumerate(table.index.names)]
    if len(names) == 1 and table.index.names[0] is None:
        names = ["cohort"]
    parts = []
    for label, row in zip(table.index, counts):
        renewals, churned, weights = cohort_to_tenures(row[np.isfinite(row)])
        keys = label if isinstance(label, tuple) else (label,)
        part = pd.DataFrame({"renewals": renewals.astype(np.int64), "churned": churned,
                             "customers": weights.astype(np.int64)})
        for name, key in zip(names, keys):
            part[name] = [key] * len(part)
        parts.append(part[part["customers"] > 0])
    rows = pd.concat(parts, ignore_index=True)[names + ["renewals", "churned", "customers"]]
    rows.attrs = {k: (dict(v) if isinstance(v, dict) else v) for k, v in table.attrs.items()}
    return set_summary_meta(rows, time_unit=unit, period=unit)
