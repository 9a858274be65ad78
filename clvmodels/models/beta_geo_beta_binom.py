"""BG/BB model of discrete purchase opportunities (Fader, Hardie & Shang 2010) as an estimator."""

from __future__ import annotations

from clvmodels.families.bgbb import BGBB
from clvmodels.models.docstrings import document_settings
from clvmodels.models.purchase import PurchaseModel


@document_settings
class BetaGeoBetaBinomModel(PurchaseModel):
    """BG/BB model: transactions at discrete opportunities (yearly donations, annual events).

    At each opportunity an alive customer transacts with probability ``p ~ Beta(alpha, beta)``
    and, after it, drops out with probability ``theta ~ Beta(gamma, delta)`` (Fader, Hardie &
    Shang 2010). Histories are the discrete-opportunity summary of
    :func:`clvmodels.opportunity_summary`: ``frequency`` (repeat opportunities with a
    transaction), ``recency`` (the last of them) and ``n_periods`` (opportunities observed after
    the first transaction). The summary's time unit is the opportunity: horizons count whole
    future opportunities and discounting is per opportunity
    (see :mod:`clvmodels.families.bgbb`).

    Same API, settings and intervals as :class:`~clvmodels.BetaGeoModel`; identical histories are
    common (11,104 donors share 22 rows), so ``fit(rows, weights="count")`` on a recency/frequency
    matrix with counts is the natural input.

    References
    ----------
    Fader, P. S., Hardie, B. G. S. & Shang, J. (2010). Customer-base analysis in a discrete-time
    noncontractual setting. Marketing Science 29(6), 1086-1108.

    See Also
    --------
    BetaGeoModel : continuous-time purchasing.

    Examples
    --------
    >>> import pandas as pd
    >>> from clvmodels import BetaGeoBetaBinomModel, as_summary
    >>> from clvmodels.datasets import load_donations
    >>> rows = load_donations()                 # FHS 2010: 11,104 donors, 6 opportunities
    >>> bgbb = BetaGeoBetaBinomModel().fit(rows, weights="count")
    >>> bgbb.params_.round(3).to_dict()         # FHS 2010: 1.204, 0.750, 0.657, 2.783
    {'alpha': 1.204, 'beta': 0.75, 'gamma': 0.657, 'delta': 2.783}
    """

    family = BGBB
