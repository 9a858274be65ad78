"""Acquisition cost per customer: from a column of the summary, or from a cost table per channel
(and optionally per acquisition period) joined on the summary's channel column.

A customer without a cost is an error unless the user says what it means (``missing="zero"`` or
``missing="channel_mean"``); the error lists the channels (and periods) that have no cost.

A cost table that lists channels (or channel and period pairs) no customer has is accepted with
a warning that lists them: a finance table often covers more channels than a given window of
customers, but a typo ("Search" for "search") shows up there too, so it is never silent.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from clvmodels._warn import warn_user
from clvmodels.errors import DataError, check_choice, describe_rows

#: what a missing cost means: refuse, zero, or the mean known cost of the customer's channel
MISSING_POLICIES = ("error", "zero", "channel_mean")
#: default name of the cost column, in the summary and in a cost table
ACQUISITION_COST_COL = "acquisition_cost"
#: column of a cost table holding the acquisition period (e.g. "2024-01" for monthly costs)
PERIOD_COL = "period"


@dataclass(frozen=True, eq=False)
class AcquisitionCosts:
    """Where acquisition costs come from and what a missing one means.

    Give ``column`` (a per-customer cost column of the summary) or ``table`` (cost per channel).

    Parameters
    ----------
    column : str, optional
        Summary column with each customer's acquisition cost (carry it with
        ``rfm_summary(..., attribute_cols=["acquisition_cost"])``).
    table : DataFrame, optional
        One row per channel (per channel and period with ``period=``): the column named by ``on``,
        a ``period`` column when ``period`` is given, and ``cost_col`` with the cost of acquiring
        one customer.
    on : str
        The summary's channel column, joined with the table and used for channel means.
    period : str, optional
        A pandas period frequency ("M", "Q", "Y"): costs then vary by acquisition period, which
        is the period of each customer's ``first_purchase``; the table's ``period`` column holds
        values such as "1997-01" or ``pd.Period`` objects.
    missing : {"error", "zero", "channel_mean"}
        What a missing cost means: an error (default), zero, or the mean known cost of the
        customers of the same channel.
    cost_col : str
        Name of the cost column in ``table``.

    Examples
    --------
    >>> import pandas as pd
    >>> from clvmodels.value import AcquisitionCosts
    >>> summary = pd.DataFrame({"channel": ["search", "tv", "search"]},
    ...                        index=pd.Index(["a", "b", "c"], name="customer_id"))
    >>> costs = AcquisitionCosts(table=pd.DataFrame({"channel": ["search", "tv"],
    ...                                              "acquisition_cost": [12.0, 30.0]}))
    >>> costs.for_customers(summary)[0].tolist()
    [12.0, 30.0, 12.0]
    """

    column: str | None = None
    table: pd.DataFrame | None = None
    on: str = "channel"
    period: str | None = None
    missing: str = "error"
    cost_col: str = ACQUISITION_COST_COL

    def __post_init__(self):
        check_choice("missing", self.missing, MISSING_POLICIES)
        if (self.column is None) == (self.table is None):
            raise DataError("give acquisition costs either as a summary column (column=...) or as "
                            "a cost table per channel (table=...), exactly one of the two")
        if self.table is not None and not isinstance(self.table, pd.DataFrame):
            raise DataError(f"the acquisition cost table must be a DataFrame; got "
                            f"{type(self.table).__name__}")

    def for_customers(self, summary: pd.DataFrame) -> tuple[np.ndarray, str]:
        """Cost of each customer of ``summary`` and a one-line note of its source.

        Parameters
        ----------
        summary : DataFrame
            Customers, with the cost column or the table's key columns (e.g. ``channel``).

        Returns
        -------
        costs : ndarray, shape (n,)
            Acquisition cost per customer, in the log's currency.
        note : str
            Where the costs came from (column or table, missing values filled).
        """
        if self.column is not None:
            costs, note = self._from_column(summary), f"column {self.column!r}"
        else:
            costs, note = self._from_table(summary), f"table by {self._keys()}"
        costs, filled = self._fill_missing(summary, costs)
        if filled:
            note += f"; {filled} missing set to {'0' if self.missing == 'zero' else 'the channel mean'}"
        return costs, note

    # ----- sources -------------------------------------------------------------------------------
    def _keys(self) -> list[str]:
        return [self.on] + ([PERIOD_COL] if self.period else [])

    def _from_column(self, summary: pd.DataFrame) -> np.ndarray:
        if self.column not in summary.columns:
            raise DataError(
                f"the summary has no acquisition cost column {self.column!r}; its columns are "
                f"{list(summary.columns)}. Carry it with rfm_summary(..., attribute_cols="
                f"[{self.column!r}]) or give a cost table per channel"
            )
        costs = pd.to_numeric(summary[self.column], errors="coerce").to_numpy(float)
        bad = np.isinf(costs) | (costs < 0)
        if bad.any():
            raise DataError(f"acquisition costs must be finite amounts >= 0; not so in "
                            f"{describe_rows(summary.index[bad])}")
        return costs

    def _checked_table(self) -> pd.DataFrame:
        table, keys = self.table, self._keys()
        missing_cols = [c for c in keys + [self.cost_col] if c not in table.columns]
        if missing_cols:
            raise DataError(f"the acquisition cost table lacks column(s) {missing_cols}; it has "
                            f"{list(table.columns)}. It needs {keys + [self.cost_col]}")
        table = table[keys + [self.cost_col]].copy()
        if self.period:
            table[PERIOD_COL] = self._as_periods(table[PERIOD_COL], "the cost table")
        cost = pd.to_numeric(table[self.cost_col], errors="coerce")
        bad = ~np.isfinite(cost.to_numpy(float)) | (cost.to_numpy(float) < 0)
        if bad.any():
            raise DataError(f"the acquisition cost table has costs that are missing, negative or "
                            f"infinite in {describe_rows(np.flatnonzero(bad))} (row numbers)")
        dup = table.duplicated(subset=keys, keep=False).to_numpy()
        if dup.any():
            examples = table.loc[dup, keys].drop_duplicates().head(5).to_dict("records")
            raise DataError(f"the acquisition cost table lists some {keys} more than once "
                            f"({int(dup.sum())} rows, e.g. {examples}); keep one cost per key")
        table[self.cost_col] = cost.astype(float)
        return table

    def _as_periods(self, values: pd.Series, where: str) -> pd.Series:
        try:
            return values.map(lambda v: pd.Period(v, freq=self.period))
        except (ValueError, TypeError) as err:
            raise DataError(f"{where} has periods that are not {self.period!r} periods "
                            f"(e.g. '1997-01' for months): {err}") from None

    def _customer_keys(self, summary: pd.DataFrame) -> pd.DataFrame:
        if self.on not in summary.columns:
            raise DataError(f"the summary has no channel column {self.on!r} to join acquisition "
                            f"costs on; carry it with rfm_summary(..., attribute_cols=[{self.on!r}])")
        keys = pd.DataFrame({self.on: summary[self.on].to_numpy()})
        if self.period:
            if "first_purchase" not in summary.columns:
                raise DataError("acquisition costs per period need the summary's first_purchase "
                                "column (rfm_summary provides it)")
            keys[PERIOD_COL] = pd.to_datetime(summary["first_purchase"]).dt.to_period(
                self.period).to_numpy()
        return keys

    def _from_table(self, summary: pd.DataFrame) -> np.ndarray:
        table = self._checked_table()
        keys = self._customer_keys(summary)
        self._warn_unused(table, keys)
        joined = keys.merge(table, how="left", on=self._keys(), validate="many_to_one")
        return joined[self.cost_col].to_numpy(float)

    def _warn_unused(self, table: pd.DataFrame, keys: pd.DataFrame) -> None:
        """Warn, listing them, about cost-table keys that match no customer."""
        used = table[self._keys()].merge(keys.drop_duplicates(), how="left", on=self._keys(),
                                         indicator=True)["_merge"].eq("both").to_numpy()
        if used.all():
            return
        listed = table.loc[~used, self._keys()].astype(str)
        names = sorted(" / ".join(row) for row in listed.itertuples(index=False, name=None))
        warn_user(
            f"the acquisition cost table lists {len(names)} {' x '.join(self._keys())} value(s) "
            f"that no customer of the summary has: {names[:10]}{' ...' if len(names) > 10 else ''}. "
            f"They are ignored; check the spelling against the summary's {self.on!r} values "
            f"{sorted(map(str, keys[self.on].unique()))[:10]}"
        )

    # ----- missing costs ---------------------------------------------------------------------------
    def _fill_missing(self, summary: pd.DataFrame, costs: np.ndarray) -> tuple[np.ndarray, int]:
        missing = np.isnan(costs)
        if not missing.any():
            return costs, 0
        if self.missing == "zero":
            return np.where(missing, 0.0, costs), int(missing.sum())
        if self.missing == "channel_mean":
            channel = self._channel(summary)
            means = pd.Series(costs).groupby(channel.to_numpy()).mean()  # NaN ignored
            filled = channel.map(means).to_numpy(float)
            costs = np.where(missing, filled, costs)
            if not np.isnan(costs).any():
                return costs, int(missing.sum())
            missing = np.isnan(costs)
            hint = ("these channels have no known cost at all, so they have no channel mean; "
                    "add them to the costs or pass missing='zero'")
        else:
            hint = ("add their costs, or say what a missing cost means: missing='zero' or "
                    "missing='channel_mean'")
        raise DataError(f"{self._describe_missing(summary, missing)}: "
                        f"{describe_rows(summary.index[missing])}. {hint}")

    def _channel(self, summary: pd.DataFrame) -> pd.Series:
        if self.on not in summary.columns:
            raise DataError(f"missing='channel_mean' needs the channel column {self.on!r} in the "
                            "summary; pass on=<your channel column> or missing='zero'")
        return summary[self.on].reset_index(drop=True)

    def _describe_missing(self, summary: pd.DataFrame, missing: np.ndarray) -> str:
        if self.on not in summary.columns:
            return "customers without an acquisition cost"
        keys = self._customer_keys(summary) if self.table is not None else \
            pd.DataFrame({self.on: summary[self.on].to_numpy()})
        listed = keys[missing].drop_duplicates().astype(str)
        names = sorted(" / ".join(row) for row in listed.itertuples(index=False, name=None))
        return (f"no acquisition cost for {len(names)} {' x '.join(keys.columns)} value(s) "
                f"{names[:10]}{' ...' if len(names) > 10 else ''} covering customers")


def resolve_acquisition(summary: pd.DataFrame, acquisition) -> tuple[np.ndarray, str]:
    """Acquisition cost per customer from any accepted source.

    Parameters
    ----------
    acquisition : None, str, DataFrame or AcquisitionCosts
        None: the summary's ``acquisition_cost`` column if it has one, otherwise no acquisition
        cost (0, and the note says so); str: a summary column; DataFrame: a cost table per
        ``channel`` (see :class:`AcquisitionCosts`); or an :class:`AcquisitionCosts`.

    Returns
    -------
    costs : ndarray, shape (n,)
    note : str
    """
    if acquisition is None:
        if ACQUISITION_COST_COL not in summary.columns:
            return np.zeros(len(summary)), "none given (0)"
        acquisition = ACQUISITION_COST_COL
    if isinstance(acquisition, str):
        acquisition = AcquisitionCosts(column=acquisition)
    elif isinstance(acquisition, pd.DataFrame):
        acquisition = AcquisitionCosts(table=acquisition)
    elif not isinstance(acquisition, AcquisitionCosts):
        raise DataError(f"acquisition must be a column name, a cost table (DataFrame) or "
                        f"AcquisitionCosts(...); got {type(acquisition).__name__}")
    return acquisition.for_customers(summary)
