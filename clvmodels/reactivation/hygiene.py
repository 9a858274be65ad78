"""Sequence hygiene: who has come back (and must get no further steps), who is still in the sequence.

A customer on a campaign list *returns* with their first purchase after the list was made. From
that day on they receive none of the remaining steps: a step dated on or after the return date is
cancelled (a daily run sees the purchase before the step goes out). Purchases after ``as_of`` are
not yet known and are ignored.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from clvmodels.errors import DataError, describe_rows
from clvmodels.reactivation.ids import as_date, check_id_types
from clvmodels.reactivation.sequence import ContactSequence, as_sequence

#: values of the ``status`` column
STATUSES = ("returned", "in_sequence", "completed")


def _campaign_meta(campaign_list: pd.DataFrame) -> dict:
    return dict(campaign_list.attrs.get("clvmodels", {}).get("campaign", {}))


def _sequence_of_rows(campaign_list, meta, sequence) -> tuple[np.ndarray, dict[str, ContactSequence]]:
    """Name of the sequence each row follows, and the sequences by name.

    One sequence given for all rows, or each row's ``sequence`` name looked up in the list's attrs.
    """
    if sequence is not None:
        seq = as_sequence(sequence)
        return np.full(len(campaign_list), seq.name, dtype=object), {seq.name: seq}
    stored = {name: ContactSequence.from_dict(d) for name, d in meta.get("sequences", {}).items()}
    if "sequence" not in campaign_list.columns or not stored:
        raise DataError("the campaign list does not say which contact sequence its customers follow; "
                        "pass sequence=ContactSequence([...]) or use a list from winback_targets(...)")
    unknown = sorted(set(campaign_list["sequence"]) - set(stored))
    if unknown:
        raise DataError(f"the campaign list names sequences {unknown} it does not define; "
                        f"known: {sorted(stored)}. Pass sequence= explicitly")
    return campaign_list["sequence"].to_numpy(object), stored


def first_purchase_after(transactions: pd.DataFrame, ids: pd.Index, *, customer_col: str,
                         datetime_col: str, after, until) -> pd.Series:
    """Date of each customer's first purchase in ``(after, until]`` (NaT when none), indexed by ``ids``."""
    for col in (customer_col, datetime_col):
        if col not in transactions.columns:
            raise DataError(f"the transactions lack column {col!r}; they have {list(transactions.columns)[:10]}. "
                            f"Pass customer_col= and datetime_col=")
    dates = pd.to_datetime(transactions[datetime_col], errors="coerce")
    bad = dates.isna().to_numpy()
    if bad.any():
        raise DataError(f"{datetime_col!r} is missing or not a date in {describe_rows(np.flatnonzero(bad))} "
                        "of the transactions; fix or drop them")
    check_id_types(ids, transactions[customer_col], customer_col)
    window = (dates.dt.normalize() > after) & (dates.dt.normalize() <= until)
    window &= transactions[customer_col].isin(ids)
    firsts = dates[window].dt.normalize().groupby(transactions.loc[window, customer_col]).min()
    return firsts.reindex(ids)


def sequence_status(campaign_list: pd.DataFrame, transactions: pd.DataFrame, *, as_of,
                    customer_col: str | None = None, datetime_col: str = "date", start=None,
                    list_date=None, sequence=None) -> pd.DataFrame:
    """Where each customer of a campaign list stands in the contact sequence on ``as_of``.

    Parameters
    ----------
    campaign_list : DataFrame
        Indexed by customer id, e.g. from :func:`clvmodels.winback_targets` (which records the list
        date, campaign start and sequences in its attrs).
    transactions : DataFrame
        Purchases (the full log is fine: only campaign customers' purchases after the list date count).
    as_of : date
        The day of this status report (e.g. today's run); purchases after it are ignored.
    customer_col : str, optional
        Customer id column of ``transactions`` (default: the campaign list's index name).
    datetime_col : str
        Purchase date column of ``transactions``.
    start, list_date : date, optional
        Campaign start (day 0 of the sequence) and the date the list was made (purchases after it
        are returns); default: the list's attrs.
    sequence : ContactSequence, optional
        The sequence every customer follows (default: each row's ``sequence`` as stored in attrs).

    Returns
    -------
    DataFrame indexed like ``campaign_list`` with
        ``status`` ("returned": drop from the remaining steps; "in_sequence": keep sending;
        "completed": every step sent, no return), ``returned_on`` (date of the first purchase after
        the list date, NaT if none), ``steps_sent`` (count), ``next_step`` and ``next_step_date``
        (in_sequence only), ``steps_remaining`` (steps still to send, in_sequence only) and
        ``steps_cancelled`` (steps that must not be sent because the customer returned).

    Raises
    ------
    DataError
        If the list is empty or has repeated ids, ``as_of`` is before the list date, its
        sequence is neither given nor recorded in its attrs, or the transactions lack the id or
        date column.

    Examples
    --------
    A letter on 2 January, an e-mail two weeks later; ``a`` bought on 10 January, so the e-mail
    is cancelled for ``a``; ``b`` got both:

    >>> import pandas as pd
    >>> import clvmodels
    >>> from clvmodels.reactivation import ContactSequence
    >>> campaign = pd.DataFrame(index=pd.Index(["a", "b"], name="customer_id"))
    >>> log = pd.DataFrame({"customer_id": ["a"], "date": ["2024-01-10"]})
    >>> steps = ContactSequence([("letter", 1.0, 0), ("email", 0.1, 14)])
    >>> status = clvmodels.sequence_status(campaign, log, as_of="2024-01-20", start="2024-01-02",
    ...                                    list_date="2024-01-01", sequence=steps)
    >>> status["status"].tolist(), status["steps_sent"].tolist()
    (['returned', 'completed'], [1, 2])
    """
    if not isinstance(campaign_list, pd.DataFrame) or len(campaign_list) == 0:
        raise DataError("campaign_list must be a non-empty DataFrame indexed by customer id")
    if campaign_list.index.has_duplicates:
        dup = campaign_list.index[campaign_list.index.duplicated()]
        raise DataError(f"the campaign list has duplicated customer ids: {describe_rows(dup)}; each "
                        "customer must appear once")
    meta = _campaign_meta(campaign_list)
    as_of = as_date(as_of, "as_of")
    list_date = as_date(list_date if list_date is not None else meta.get("list_date"), "list_date "
                      "(pass list_date= for a campaign list not made by winback_targets)")
    start = as_date(start if start is not None else meta.get("start"), "start "
                  "(pass start= for a campaign list not made by winback_targets)")
    if as_of < list_date:
        raise DataError(f"as_of {as_of.date()} is before the campaign list was made ({list_date.date()})")
    row_sequence, sequences = _sequence_of_rows(campaign_list, meta, sequence)
    customer_col = customer_col or campaign_list.index.name
    if customer_col is None:
        raise DataError("the campaign list's index has no name; pass customer_col= (the id column of the transactions)")
    returned_on = first_purchase_after(transactions, campaign_list.index, customer_col=customer_col,
                                       datetime_col=datetime_col, after=list_date, until=as_of)

    parts = []
    for name, seq in sequences.items():
        rows = np.flatnonzero(row_sequence == name)
        parts.append(_status_rows(seq.schedule(start), returned_on.iloc[rows], as_of))
    out = pd.concat(parts).reindex(campaign_list.index)
    out.insert(1, "returned_on", pd.to_datetime(returned_on.to_numpy()))
    out.attrs["clvmodels"] = {"as_of": str(as_of.date()), "list_date": str(list_date.date()),
                              "start": str(start.date()),
                              "counts": out["status"].value_counts().reindex(STATUSES, fill_value=0).to_dict()}
    return out


def _status_rows(schedule: pd.DataFrame, returned_on: pd.Series, as_of: pd.Timestamp) -> pd.DataFrame:
    """Status of customers following one schedule, from their return dates (NaT if none) and ``as_of``.

    Vectorised over customers: masks are (n, k) for n customers and k steps.
    """
    step_dates = schedule["date"].to_numpy("datetime64[ns]")
    names = schedule["step"].to_numpy()
    ret = returned_on.to_numpy("datetime64[ns]")
    returned = ~np.isnat(ret)
    cancelled = returned[:, None] & (step_dates[None, :] >= ret[:, None])
    sent = (step_dates[None, :] <= np.datetime64(as_of, "ns")) & ~cancelled
    pending = ~sent & ~cancelled
    status = np.where(returned, "returned", np.where(pending.any(axis=1), "in_sequence", "completed"))
    first_pending = np.where(pending.any(axis=1), pending.argmax(axis=1), -1)
    labels = [f"{n} ({pd.Timestamp(d).date()})" for n, d in zip(names, step_dates)]
    return pd.DataFrame({
        "status": status,
        "steps_sent": sent.sum(axis=1).astype(np.int64),
        "next_step": [names[i] if i >= 0 else None for i in first_pending],
        "next_step_date": pd.to_datetime([step_dates[i] if i >= 0 else None for i in first_pending]),
        "steps_remaining": _joined_steps(labels, pending),
        "steps_cancelled": _joined_steps(labels, cancelled),
    }, index=returned_on.index)


def _joined_steps(labels: list[str], masks: np.ndarray) -> list[str]:
    """``"email (1998-01-14) > call (1998-01-30)"`` per row of an (n, k) step mask.

    Masks of one schedule take at most k + 1 distinct values, so each is joined once.
    """
    joined: dict[bytes, str] = {}
    out = []
    for mask in masks:
        key = mask.tobytes()
        if key not in joined:
            joined[key] = " > ".join(label for label, on in zip(labels, mask) if on)
        out.append(joined[key])
    return out
