"""A check users can run on Gamma-Gamma's key assumption: spend independent of frequency.

The Gamma-Gamma model of spend per purchase (Fader & Hardie 2013, "The Gamma-Gamma Model of
Monetary Value", section 1) assumes that a customer's mean spend per purchase does not depend on
how often they buy. The note suggests looking at the correlation between the number of repeat
purchases and the average spend per purchase among repeat buyers: on the CDNOW 1/10 sample it is
0.11, small enough to proceed. A strong correlation means the product E[purchases] x E[spend] in
customer value is biased (a joint model of spend and frequency is then needed).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from clvmodels.errors import DataError, describe_rows

#: |correlation| above which the note flags the assumption as doubtful (a rule of thumb)
DOUBTFUL_CORRELATION = 0.3


@dataclass(frozen=True)
class SpendFrequencyCheck:
    """Result of :func:`spend_frequency_check`.

    Attributes
    ----------
    correlation : float
        Pearson correlation of ``frequency`` and ``monetary_value`` among repeat buyers.
    rank_correlation : float
        Spearman rank correlation of the same (robust to a few very large spenders).
    n_repeat_buyers : int
        Customers with frequency > 0 (the ones Gamma-Gamma is fitted on).
    note : str
        What the numbers mean for the Gamma-Gamma model.
    """

    correlation: float
    rank_correlation: float
    n_repeat_buyers: int
    note: str


def spend_frequency_check(summary: pd.DataFrame) -> SpendFrequencyCheck:
    """Correlation of purchase frequency and average spend among repeat buyers.

    Parameters
    ----------
    summary : DataFrame
        A customer summary with ``frequency`` (repeat purchases) and ``monetary_value`` (mean
        spend of the repeat purchases, currency), e.g. from :func:`clvmodels.rfm_summary`.

    Returns
    -------
    SpendFrequencyCheck

    References
    ----------
    Fader, P. S. & Hardie, B. G. S. (2013). The Gamma-Gamma Model of Monetary Value.
    http://brucehardie.com/notes/025/ (CDNOW: correlation 0.11).
    """
    for column in ("frequency", "monetary_value"):
        if column not in summary.columns:
            raise DataError(f"the summary has no {column!r} column; build it with "
                            "rfm_summary(..., monetary_value_col=...)")
    x = pd.to_numeric(summary["frequency"], errors="coerce").to_numpy(float)
    m = pd.to_numeric(summary["monetary_value"], errors="coerce").to_numpy(float)
    repeat = x > 0
    bad = repeat & ~(np.isfinite(m) & (m > 0))
    if bad.any():
        raise DataError(f"monetary_value must be a positive amount for repeat buyers; not so in "
                        f"{describe_rows(summary.index[bad])}")
    n = int(repeat.sum())
    if n < 3 or np.ptp(x[repeat]) == 0 or np.ptp(m[repeat]) == 0:
        raise DataError(f"the correlation needs at least 3 repeat buyers with differing "
                        f"frequencies and spends; the summary has {n} repeat buyers")
    xs, ms = pd.Series(x[repeat]), pd.Series(m[repeat])
    pearson, spearman = float(xs.corr(ms)), float(xs.corr(ms, method="spearman"))
    strongest = max(abs(pearson), abs(spearman))
    if strongest > DOUBTFUL_CORRELATION:
        verdict = (f"|correlation| above {DOUBTFUL_CORRELATION}: spend depends on frequency, so "
                   "Gamma-Gamma's independence assumption is doubtful and customer values built "
                   "on it are biased; consider segmenting customers or a joint spend model")
    else:
        verdict = ("weak correlation: consistent with Gamma-Gamma's assumption that spend per "
                   "purchase is independent of frequency (Fader & Hardie 2013 report 0.11 on CDNOW)")
    return SpendFrequencyCheck(pearson, spearman, n,
                               f"{n} repeat buyers; Pearson {pearson:.3f}, Spearman {spearman:.3f}: "
                               f"{verdict}")
