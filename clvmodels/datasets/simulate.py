"""Customers drawn from BG/NBD + Gamma-Gamma with known parameters, as summaries or transaction logs.

Each customer gets a purchase rate ``lam ~ Gamma(r, rate alpha)`` and a dropout probability
``p ~ Beta(a, b)`` (Fader, Hardie & Lee 2005), and with spend parameters a spend rate
``nu ~ Gamma(q, rate gamma)``; each purchase is worth ``Gamma(p_spend, rate nu)`` (Fader & Hardie
2013 note), rounded to the cent (at least one cent, so no purchase is a zero amount). Parameters are
per time unit (a weekly rate when ``time_unit="W"``).

Day 0 is :data:`START_DATE`. The first purchase happens at a uniform continuous time in the first
``cohort_days`` days; repeat purchases follow a Poisson process with rate ``lam`` until the customer
drops out right after purchase ``M ~ Geometric(p)`` on {1, 2, ...}. Times are floored to the day and
purchases on the same day merge (amounts summed), as :func:`clvmodels.rfm_summary` does with a real
log. The calibration period is days ``0 .. calibration_days - 1`` (its last day is the summary's
``observation_end``), the holdout the next ``holdout_days`` days.

One core generator draws each block of customers (its own seeded stream, so the result does not
depend on how it is consumed); :func:`simulate_summary` aggregates the purchase days without building
a log, :func:`simulate_transactions` and :func:`iter_transaction_chunks` write them out. So
``rfm_summary(simulate_transactions(...))`` equals ``simulate_summary(...)`` for the same arguments.

Day flooring makes the data slightly different from the continuous-time model (T and recency are
known to the day only), as with real data; with rates per day near or above 1 same-day merging
removes purchases too.
"""

from __future__ import annotations

from collections.abc import Iterator
import dataclasses
from dataclasses import dataclass
from numbers import Integral, Real
from typing import NamedTuple

import numpy as np
import pandas as pd

from clvmodels.data.meta import set_summary_meta
from clvmodels.data.sql import AMOUNT_SCALE
from clvmodels.data.timeunits import days_per_unit
from clvmodels.errors import DataError, check_choice
from clvmodels.formulas.individual import draw_geometric

#: Calendar date of day 0 of every simulation.
START_DATE = np.datetime64("2020-01-01", "D")
#: Customers per block; each block has its own random stream (seed, block number).
BLOCK_CUSTOMERS = 250_000
_MAX_POISSON_MEAN = 1e15  # rng.poisson's limit is ~9e18; the dropout draw bounds the count anyway


@dataclass(frozen=True)
class _Setup:
    """Validated arguments of a simulation."""

    n_customers: int
    r: float
    alpha: float
    a: float
    b: float
    spend: tuple[float, float, float] | None  # (p, q, gamma)
    time_unit: str
    unit_days: float
    calibration_days: int
    holdout_days: int
    cohort_days: int
    seed: int
    id_offset: int
    continuous: bool = False  # summary in exact time, no same-day merging
    spend_decimals: int = 2  # purchase amounts rounded to 10 ** -spend_decimals (2: cents)

    @property
    def end_days(self) -> int:
        return self.calibration_days + self.holdout_days

    def iso(self, day: int) -> str:
        return str(START_DATE + day)


class _Block(NamedTuple):
    """One block of customers: traits, and every purchase (first included) in time order."""

    lam: np.ndarray
    p: np.ndarray
    nu: np.ndarray | None
    first_time: np.ndarray  # continuous, days since START_DATE
    dropout_time: np.ndarray  # continuous, days since START_DATE (inf: never)
    counts: np.ndarray  # purchases per customer in the whole window, first one included
    owner: np.ndarray  # block position of each purchase
    time: np.ndarray  # continuous time of each purchase, days
    day: np.ndarray  # int64 day of each purchase
    micro: np.ndarray | None  # int64 amount of each purchase, in millionths (rfm_summary's unit)


def _simulate_block(rng: np.random.Generator, m: int, s: _Setup) -> _Block:
    """Draw m customers and their purchases up to the end of the holdout (the core generator)."""
    lam = rng.standard_gamma(s.r, m) / s.alpha
    p = rng.beta(s.a, s.b, m)
    last = draw_geometric(rng, p, m)  # dropout right after this repeat purchase
    first_time = rng.random(m) * s.cohort_days
    window_days = s.end_days - first_time
    potential = rng.poisson(np.minimum(lam * window_days / s.unit_days, _MAX_POISSON_MEAN))
    repeats = np.minimum(potential, last).astype(np.int64)
    # first `repeats` of `potential` uniform order statistics as normalised exponential spacings;
    # Gamma(K + 1 - N) stands for the spacings after the last one used
    rest = rng.standard_gamma(potential + 1.0 - repeats)
    spacings = rng.standard_exponential(int(repeats.sum()))
    counts = repeats + 1
    owner = np.repeat(np.arange(m), counts)
    is_first = np.zeros(owner.size, bool)
    starts = np.cumsum(counts) - counts
    is_first[starts] = True
    cumulative = np.zeros(owner.size)
    cumulative[~is_first] = spacings
    cumulative = np.cumsum(cumulative)
    cumulative -= np.repeat(cumulative[starts], counts)  # restart at each customer
    total = cumulative[starts + repeats]
    fraction = cumulative / (total + rest)[owner]
    time = first_time[owner] + window_days[owner] * fraction
    day = np.minimum(np.floor(time).astype(np.int64), s.end_days - 1)
    # dropout: at the last simulated purchase if M <= K, else after M - K more purchases
    beyond = last > potential
    with np.errstate(invalid="ignore", divide="ignore"):
        more = rng.standard_gamma(np.where(beyond & np.isfinite(last), last - potential, 1.0)) / lam
    dropout_time = np.where(beyond, s.end_days + more * s.unit_days, time[starts + repeats])
    dropout_time[~np.isfinite(last)] = np.inf
    nu = micro = None
    if s.spend is not None:
        shape, q, gamma = s.spend
        nu = rng.standard_gamma(q, m) / gamma
        amount = rng.standard_gamma(shape, owner.size) / nu[owner]
        step = 10.0 ** s.spend_decimals  # amounts to the cent by default; at least one step
        micro = np.maximum(np.rint(amount * step), 1.0).astype(np.int64) * (AMOUNT_SCALE // int(step))
    return _Block(lam, p, nu, first_time, dropout_time, counts, owner, time, day, micro)


def _blocks(s: _Setup) -> Iterator[tuple[int, _Block]]:
    """(first position, block) for consecutive blocks, each from stream (seed, block number)."""
    for number, first in enumerate(range(0, s.n_customers, BLOCK_CUSTOMERS)):
        m = min(BLOCK_CUSTOMERS, s.n_customers - first)
        rng = np.random.default_rng(np.random.SeedSequence(s.seed, spawn_key=(number,)))
        yield first, _simulate_block(rng, m, s)


def _summary_columns(block: _Block, s: _Setup) -> dict[str, np.ndarray]:
    """The summary columns of one block, with rfm_summary's arithmetic (whole days, micro-units),
    or in continuous time (``s.continuous``: exact times, no same-day merging)."""
    m, owner, day = block.lam.size, block.owner, block.day
    starts = np.cumsum(block.counts) - block.counts
    first_day = day[starts]
    if s.continuous:  # every purchase is its own event, timed exactly
        calibration = block.time < s.calibration_days
        new_event = np.ones(day.size, bool)
        is_first = np.zeros(day.size, bool)
        is_first[starts] = True
    else:  # purchases on the same day merge, times are whole days
        calibration = day < s.calibration_days
        new_event = np.ones(day.size, bool)
        new_event[1:] = day[1:] != day[:-1]
        new_event[starts] = True
        is_first = day == first_day[owner]
    n_events = np.bincount(owner, new_event & calibration, m).astype(np.int64)
    n_rows = np.bincount(owner, calibration, m).astype(np.int64)
    last = starts + n_rows - 1
    if s.continuous:
        first_time = block.time[starts]
        recency = (block.time[last] - first_time) / s.unit_days
        tenure = (s.calibration_days - first_time) / s.unit_days
    else:
        recency = (day[last] - first_day) / s.unit_days
        tenure = (s.calibration_days - 1 - first_day) / s.unit_days
    columns = {"frequency": n_events - 1, "recency": recency, "T": tenure}
    if block.micro is not None:
        repeat = calibration & ~is_first
        columns["monetary_value"] = _mean_amount(block.micro, repeat, owner, n_events - 1)
        columns["revenue_to_date"] = _total_amount(block.micro, calibration, owner, m)
        columns["first_purchase_value"] = _total_amount(block.micro, is_first, owner, m)
    columns["first_purchase"] = _as_timestamps(first_day)
    columns["last_purchase"] = _as_timestamps(day[last])
    if s.holdout_days:
        n_holdout = np.bincount(owner, new_event & ~calibration, m).astype(np.int64)
        columns["frequency_holdout"] = n_holdout
        if block.micro is not None:
            columns["monetary_value_holdout"] = _mean_amount(block.micro, ~calibration, owner, n_holdout)
    return columns


def _mean_amount(micro, selected, owner, n_days) -> np.ndarray:
    """Mean over each customer's selected purchase days, in rfm_summary's exact arithmetic."""
    micro = np.bincount(owner, np.where(selected, micro, 0), n_days.size)  # exact below 2**53
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = micro / (n_days * float(AMOUNT_SCALE))
    return np.where(n_days > 0, mean, 0.0)


def _total_amount(micro, selected, owner, m) -> np.ndarray:
    """Sum of each customer's selected purchases, in rfm_summary's exact arithmetic (micro-units)."""
    return np.bincount(owner, np.where(selected, micro, 0), m) / float(AMOUNT_SCALE)  # exact < 2**53


def _as_timestamps(day: np.ndarray) -> np.ndarray:
    return (START_DATE + day).astype("datetime64[us]")


def _truth_columns(block: _Block, s: _Setup) -> dict[str, np.ndarray]:
    """True traits of one block; times in time units after the customer's first purchase."""
    columns = {"lam": block.lam, "p_dropout": block.p}
    if block.nu is not None:
        columns["nu"] = block.nu
    columns["dropout_time"] = (block.dropout_time - block.first_time) / s.unit_days
    columns["alive_at_end"] = block.dropout_time >= s.calibration_days
    if s.holdout_days:
        columns["alive_at_holdout_end"] = block.dropout_time >= s.end_days
    return columns


def _frame(parts: list[dict], ids: np.ndarray) -> pd.DataFrame:
    names = list(parts[0])
    data = {name: np.concatenate([part[name] for part in parts]) for name in names}
    return pd.DataFrame(data, index=pd.Index(ids, name="customer_id"))


def _transactions(first: int, block: _Block, s: _Setup) -> pd.DataFrame:
    """The purchase log of one block: customer_id, date (to the second), amount."""
    seconds = np.floor((block.time - block.day) * 86_400.0).astype(np.int64)
    seconds = np.clip(seconds, 0, 86_399)  # keep each purchase on its day despite rounding
    stamps = (START_DATE + block.day).astype("datetime64[s]") + seconds
    columns = {"customer_id": s.id_offset + first + block.owner, "date": stamps}
    if block.micro is not None:
        columns["amount"] = block.micro / float(AMOUNT_SCALE)
    return pd.DataFrame(columns)


def simulate_summary(n_customers, *, r, alpha, a, b, p=None, q=None, gamma=None, time_unit="W",
                     calibration_days=273, holdout_days=0, cohort_days=84, seed=0, id_offset=0,
                     return_truth=False, time_resolution="day", spend_decimals=2):
    """Simulate a customer summary from BG/NBD (+ Gamma-Gamma) with known parameters.

    Vectorised per block of customers and without a transaction log: 1M customers take a few
    seconds, and memory grows with the customers (about 100 bytes each), not their purchases.

    Parameters
    ----------
    n_customers : int
        Number of customers (>= 1).
    r, alpha, a, b : float
        BG/NBD parameters, per ``time_unit`` (> 0).
    p, q, gamma : float, optional
        Gamma-Gamma parameters (all three or none); without them there is no monetary value.
    time_unit : {"D", "W", "M", "Y"}
        Unit of the parameters and of ``recency``/``T``.
    calibration_days, holdout_days, cohort_days : int
        Lengths in days of the calibration period, the holdout period (0: none) and the span over
        which first purchases are spread (1 <= cohort_days <= calibration_days).
    seed : int
        Seed (>= 0); the same arguments give the same numbers.
    id_offset : int
        Customer ids are ``id_offset, id_offset + 1, ...``.
    return_truth : bool
        Also return the true traits.
    spend_decimals : int
        Purchase amounts are rounded to ``10 ** -spend_decimals`` (default 2: cents; 6: millionths,
        practically continuous, so nearly every repeat buyer has a distinct average spend).
    time_resolution : {"day", "continuous"}
        ``"day"`` (default): times floored to the day and same-day purchases merged, exactly as
        :func:`clvmodels.rfm_summary` treats a real log. ``"continuous"``: the model's own data,
        exact purchase times and no merging (``T`` runs to the end of the calibration period);
        use it to test parameter recovery without discretisation bias (day merging removes about
        1.6% of repeat purchases at CDNOW-like rates, mostly from heavy buyers).

    Returns
    -------
    summary : pandas.DataFrame
        The contract of :func:`clvmodels.rfm_summary`: index ``customer_id``, ``frequency``,
        ``recency``, ``T``, ``monetary_value``, ``revenue_to_date`` (every purchase in the
        calibration period, the first included), ``first_purchase_value`` (the first purchase
        day's total), ``first_purchase``, ``last_purchase``, and with a
        holdout ``frequency_holdout``, ``monetary_value_holdout``; attrs ``time_unit``,
        ``period`` ("D"), ``observation_end`` (and ``holdout_end``, ``duration_holdout``).
    truth : pandas.DataFrame, only with ``return_truth=True``
        Same index; ``lam`` (purchase rate per unit), ``p_dropout``, ``nu`` (spend
        rate, with spend), ``dropout_time`` (units after the first purchase; inf: never),
        ``alive_at_end`` (at the end of the calibration period) and, with a holdout,
        ``alive_at_holdout_end``.

    Raises
    ------
    DataError
        If a count is not a whole number in range or a parameter is not positive.

    Examples
    --------
    >>> from clvmodels import BetaGeoModel
    >>> from clvmodels.datasets import simulate_summary
    >>> world = simulate_summary(1000, r=0.24, alpha=4.4, a=0.79, b=2.4, seed=1)
    >>> len(world), world.attrs["clvmodels"]["time_unit"]
    (1000, 'W')
    >>> sorted(BetaGeoModel().fit(world).params_.index)
    ['a', 'alpha', 'b', 'r']
    """
    check_choice("time_resolution", time_resolution, ("day", "continuous"))
    s = _setup(n_customers, r, alpha, a, b, p, q, gamma, time_unit, calibration_days, holdout_days,
               cohort_days, seed, id_offset, spend_decimals)
    s = dataclasses.replace(s, continuous=time_resolution == "continuous")
    summary_parts, truth_parts = [], []
    for _, block in _blocks(s):
        summary_parts.append(_summary_columns(block, s))
        if return_truth:
            truth_parts.append(_truth_columns(block, s))
    ids = np.arange(s.id_offset, s.id_offset + s.n_customers, dtype=np.int64)
    summary = _frame(summary_parts, ids)
    meta = {"time_unit": s.time_unit, "period": "D", "observation_end": s.iso(s.calibration_days - 1)}
    if s.holdout_days:
        meta |= {"holdout_end": s.iso(s.end_days - 1), "duration_holdout": s.holdout_days / s.unit_days}
    set_summary_meta(summary, **meta)
    return (summary, _frame(truth_parts, ids)) if return_truth else summary


def iter_transaction_chunks(n_customers, *, r, alpha, a, b, p=None, q=None, gamma=None,
                            time_unit="W", calibration_days=273, holdout_days=0, cohort_days=84,
                            seed=0, id_offset=0, spend_decimals=2) -> Iterator[pd.DataFrame]:
    """The log of :func:`simulate_transactions`, one DataFrame per block of
    :data:`BLOCK_CUSTOMERS` customers, for logs too large for memory (e.g. a Parquet file written
    chunk by chunk). Arguments as in :func:`simulate_summary`.
    """
    s = _setup(n_customers, r, alpha, a, b, p, q, gamma, time_unit, calibration_days, holdout_days,
               cohort_days, seed, id_offset, spend_decimals)
    for first, block in _blocks(s):
        yield _transactions(first, block, s)


def simulate_transactions(n_customers, *, r, alpha, a, b, p=None, q=None, gamma=None,
                          time_unit="W", calibration_days=273, holdout_days=0, cohort_days=84,
                          seed=0, id_offset=0, return_truth=False, spend_decimals=2):
    """Simulate a transaction log whose summary is :func:`simulate_summary` with the same arguments.

    Parameters
    ----------
    n_customers : int
        Number of customers (>= 1).
    r, alpha, a, b : float
        BG/NBD parameters, per ``time_unit`` (> 0).
    p, q, gamma : float, optional
        Gamma-Gamma parameters (all three or none); without them the log has no ``amount``.
    time_unit : {"D", "W", "M", "Y"}, default "W"
        Unit of the parameters (and of the summary the attrs describe).
    calibration_days, holdout_days, cohort_days : int, default 273, 0, 84
        Lengths in days of the calibration period, the holdout (0: none) and the span over which
        first purchases are spread.
    seed : int, default 0
        Seed (>= 0); the same arguments give the same log.
    id_offset : int, default 0
        Customer ids are ``id_offset, id_offset + 1, ...``.
    return_truth : bool, default False
        Also return the true traits.
    spend_decimals : int, default 2
        Amounts are rounded to ``10 ** -spend_decimals`` (2: cents).

    Returns
    -------
    log : pandas.DataFrame
        ``customer_id`` (int64), ``date`` (datetime64[s], continuous time floored to the second),
        ``amount`` (with spend parameters; cents), sorted by customer and time, covering the
        calibration and holdout periods. ``log.attrs["clvmodels"]`` holds the arguments for the
        summary: ``time_unit``, ``observation_period_end`` and, with a holdout,
        ``calibration_period_end`` (ISO dates), e.g.
        ``rfm_summary(log, monetary_value_col="amount", **log.attrs["clvmodels"])``.
    truth : pandas.DataFrame, only with ``return_truth=True``
        As in :func:`simulate_summary`.

    Raises
    ------
    DataError
        If a count is not a whole number in range or a parameter is not positive.

    Examples
    --------
    >>> from clvmodels import rfm_summary
    >>> from clvmodels.datasets import simulate_transactions
    >>> log = simulate_transactions(200, r=0.24, alpha=4.4, a=0.79, b=2.4, p=6.25, q=3.74,
    ...                             gamma=15.44, seed=1)
    >>> summary = rfm_summary(log, monetary_value_col="amount", **log.attrs["clvmodels"])
    >>> len(summary), summary.attrs["clvmodels"]["time_unit"]
    (200, 'W')
    """
    s = _setup(n_customers, r, alpha, a, b, p, q, gamma, time_unit, calibration_days, holdout_days,
               cohort_days, seed, id_offset, spend_decimals)
    logs, truth_parts = [], []
    for first, block in _blocks(s):
        logs.append(_transactions(first, block, s))
        if return_truth:
            truth_parts.append(_truth_columns(block, s))
    log = pd.concat(logs, ignore_index=True) if len(logs) > 1 else logs[0]
    log.attrs["clvmodels"] = {"time_unit": s.time_unit, "observation_period_end": s.iso(s.end_days - 1)}
    if s.holdout_days:
        log.attrs["clvmodels"]["calibration_period_end"] = s.iso(s.calibration_days - 1)
    if not return_truth:
        return log
    ids = np.arange(s.id_offset, s.id_offset + s.n_customers, dtype=np.int64)
    return log, _frame(truth_parts, ids)


def _setup(n_customers, r, alpha, a, b, p, q, gamma, time_unit, calibration_days, holdout_days,
           cohort_days, seed, id_offset, spend_decimals=2) -> _Setup:
    """Validate the arguments (DataError saying what to pass) and bundle them."""
    def integer(name, value, low):
        if isinstance(value, bool) or not isinstance(value, Integral) or value < low:
            raise DataError(f"{name} must be an integer >= {low}; got {value!r}")
        return int(value)

    def positive(name, value):
        if isinstance(value, bool) or not isinstance(value, Real) or not (0 < value < np.inf):
            raise DataError(f"{name} must be a positive number (finite); got {value!r}")
        return float(value)

    spend_args = {"p": p, "q": q, "gamma": gamma}
    given = [name for name, value in spend_args.items() if value is not None]
    if given and len(given) < 3:
        missing = [name for name in spend_args if name not in given]
        raise DataError(f"spend needs all of p, q, gamma; got {given} without {missing}. "
                        "Pass all three for monetary values, or none")
    spend = tuple(positive(name, value) for name, value in spend_args.items()) if given else None
    calibration_days = integer("calibration_days", calibration_days, 1)
    cohort_days = integer("cohort_days", cohort_days, 1)
    if cohort_days > calibration_days:
        raise DataError(f"cohort_days ({cohort_days}) must not exceed calibration_days "
                        f"({calibration_days}): every first purchase is in the calibration period")
    return _Setup(
        n_customers=integer("n_customers", n_customers, 1),
        r=positive("r", r), alpha=positive("alpha", alpha), a=positive("a", a), b=positive("b", b),
        spend=spend, time_unit=time_unit, unit_days=days_per_unit(time_unit),
        calibration_days=calibration_days, holdout_days=integer("holdout_days", holdout_days, 0),
        cohort_days=cohort_days, seed=integer("seed", seed, 0),
        id_offset=integer("id_offset", id_offset, 0),
        spend_decimals=_spend_decimals(spend_decimals),
    )


def _spend_decimals(value) -> int:
    """Decimals of the simulated amounts: 0 (whole units) to 6 (millionths, rfm_summary's exact
    unit, i.e. practically continuous spends)."""
    if isinstance(value, bool) or not isinstance(value, Integral) or not 0 <= value <= 6:
        raise DataError(f"spend_decimals must be a whole number from 0 to 6 (2: cents, 6: practically "
                        f"continuous amounts); got {value!r}")
    return int(value)
