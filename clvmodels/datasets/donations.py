"""The donations data of Fader, Hardie & Shang (2010), read from the installed lifetimes wheel.

11,104 first-time supporters of a non-profit in 1995, observed at the yearly drives 1996-2001 (six
repeat opportunities), as a recency/frequency matrix of 22 distinct histories with counts
(``lifetimes/datasets/donations.csv``).
"""

from __future__ import annotations

import pandas as pd

from clvmodels.data.meta import set_summary_meta
from clvmodels.datasets.cdnow import cdnow_path

FILE = "donations.csv"


def load_donations() -> pd.DataFrame:
    """The donors' recency/frequency matrix as a discrete-opportunity summary with counts.

    Returns
    -------
    DataFrame, shape (22, 4)
        One row per distinct history, indexed ``0..21``: ``frequency`` (repeat years with a
        donation, x), ``recency`` (the last such year, t_x), ``n_periods`` (6 opportunities) and
        ``count`` (donors with that history; 11,104 in all). The metadata's time unit is the
        opportunity (``"Y"``), as :func:`clvmodels.opportunity_summary` states it. Fit with
        ``BetaGeoBetaBinomModel().fit(rows, weights="count")``.

    References
    ----------
    Fader, P. S., Hardie, B. G. S. & Shang, J. (2010). Customer-base analysis in a discrete-time
    noncontractual setting. Marketing Science 29(6), 1086-1108.

    Examples
    --------
    >>> from clvmodels.datasets import load_donations
    >>> rows = load_donations()
    >>> len(rows), int(rows["count"].sum())
    (22, 11104)
    """
    raw = pd.read_csv(cdnow_path().with_name(FILE))
    rows = pd.DataFrame({
        "frequency": raw["frequency"].astype("int64"),
        "recency": raw["recency"].astype("int64"),
        "n_periods": raw["periods"].astype("int64"),
        "count": raw["weights"].astype("int64"),
    })
    rows.index.name = "history"
    return set_summary_meta(rows, time_unit="Y", period="Y")
