"""The CDNOW transaction data (Fader, Hardie & Lee 2005), read from the installed lifetimes wheel.

The full file holds every purchase to 1998-06-30 of the 23,570 customers who made their first
purchase at CDNOW in the first quarter of 1997; the sample is a 1/10 systematic sample of them
(2,357 customers) used throughout the BG/NBD and Gamma-Gamma papers.

Both files ship inside ``lifetimes/datasets/`` (``CDNOW_master.txt``, ``CDNOW_sample.txt``).
They are located through the import system without importing lifetimes (which costs about a
second and imports ``pkg_resources``).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd

from clvmodels.errors import ClvError

SAMPLE_FILE = "CDNOW_sample.txt"
MASTER_FILE = "CDNOW_master.txt"
#: The published 39-week calibration period and 39-week holdout (Fader, Hardie & Lee 2005).
CALIBRATION_END = "1997-09-30"
HOLDOUT_END = "1998-06-30"


def cdnow_path(sample: bool = True) -> Path:
    """Path of the CDNOW text file inside the installed lifetimes package."""
    spec = importlib.util.find_spec("lifetimes")
    locations = list(spec.submodule_search_locations or []) if spec else []
    name = SAMPLE_FILE if sample else MASTER_FILE
    for folder in locations:
        path = Path(folder) / "datasets" / name
        if path.is_file():
            return path
    raise ClvError(f"the CDNOW file {name} was not found; install lifetimes (pip install lifetimes)")


def load_cdnow_transactions(sample: bool = True) -> pd.DataFrame:
    """Load the CDNOW purchase records.

    Parameters
    ----------
    sample : bool
        True: the 2,357-customer sample (6,919 records; ``customer_id`` is the sample id 1..2357).
        False: the full file (23,570 customers, 69,659 records; ``customer_id`` 1..23570).

    Returns
    -------
    pandas.DataFrame
        One row per purchase record, in file order: ``customer_id`` (int64), ``date``
        (datetime64, the day of purchase), ``n_cds`` (int64, CDs bought) and ``amount``
        (float64, dollars; a few records are 0.00).

    Examples
    --------
    >>> from clvmodels.datasets import load_cdnow_transactions
    >>> load_cdnow_transactions().shape          # the 1/10 sample: 6,919 records of 2,357 customers
    (6919, 4)
    """
    path = cdnow_path(sample)
    if sample:  # full-file id, sample id, yyyymmdd, CDs, dollars; no header
        names = ["full_id", "customer_id", "date", "n_cds", "amount"]
        raw = pd.read_csv(path, sep=r"\s+", header=None, names=names)
    else:  # header: customer_id date number_of_cds dollar_value
        raw = pd.read_csv(path, sep=r"\s+", header=0, names=["customer_id", "date", "n_cds", "amount"])
    return pd.DataFrame({
        "customer_id": raw["customer_id"].astype("int64"),
        "date": pd.to_datetime(raw["date"].astype(str), format="%Y%m%d"),
        "n_cds": raw["n_cds"].astype("int64"),
        "amount": raw["amount"].astype("float64"),
    })


def load_cdnow_summary(sample: bool = True, *, holdout: bool = True, time_unit: str = "W") -> pd.DataFrame:
    """The CDNOW customer summary of the papers: 39-week calibration to 1997-09-30.

    Parameters
    ----------
    sample : bool
        Use the 2,357-customer sample (True) or the full file (False).
    holdout : bool
        True: :func:`~clvmodels.calibration_holdout_summary` with the 39-week holdout to 1998-06-30
        (``frequency_holdout``, ``monetary_value_holdout``). False: the calibration summary only,
        later purchases dropped.
    time_unit : str
        Unit of ``recency`` and ``T``; weeks ("W", days / 7) as in the papers.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``customer_id``, with ``monetary_value`` from the dollar amounts. The few
        zero-dollar records are kept as purchases worth 0 (``zero_amounts="keep"``), as the papers
        count every purchase.

    Examples
    --------
    >>> from clvmodels.datasets import load_cdnow_summary
    >>> summary = load_cdnow_summary()
    >>> len(summary), int((summary["frequency"] > 0).sum())   # FHL 2005; 946 repeat buyers (F&H 2013)
    (2357, 946)
    """
    from clvmodels.data.summary import calibration_holdout_summary, rfm_summary

    transactions = load_cdnow_transactions(sample)
    options = {"customer_id_col": "customer_id", "datetime_col": "date", "monetary_value_col": "amount",
                   "time_unit": time_unit, "zero_amounts": "keep"}
    if holdout:
        return calibration_holdout_summary(
            transactions, calibration_period_end=CALIBRATION_END,
            observation_period_end=HOLDOUT_END, **options,
        )
    return rfm_summary(transactions, observation_period_end=CALIBRATION_END,
                       late_purchases="drop", **options)
