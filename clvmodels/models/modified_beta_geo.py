"""MBG/NBD purchase-and-dropout model (Batislam, Denizel & Filiztekin 2007) as an estimator."""

from __future__ import annotations

from clvmodels.families.mbgnbd import MBGNBD
from clvmodels.models.docstrings import document_settings
from clvmodels.models.purchase import PurchaseModel


@document_settings
class ModifiedBetaGeoModel(PurchaseModel):
    """MBG/NBD model: BG/NBD with dropout possible at time zero.

    Purchases of an alive customer follow a Poisson process with rate ``lambda ~ Gamma(r, alpha)``;
    the customer may drop out right after their first purchase and after each repeat purchase,
    with probability ``p ~ Beta(a, b)`` (Batislam, Denizel & Filiztekin 2007). This removes
    BG/NBD's artefact that a customer who never bought again is alive with probability 1: here a
    one-time buyer's P(alive) is below 1 and falls with their silence.

    Same API, settings and intervals as :class:`~clvmodels.BetaGeoModel` (summary columns
    ``frequency, recency, T``; horizons in the summary's time unit).

    References
    ----------
    Batislam, E. P., Denizel, M. & Filiztekin, A. (2007). Empirical validation and comparison of
    models for customer base analysis. International Journal of Research in Marketing 24(3),
    201-209.

    See Also
    --------
    BetaGeoModel, ParetoNBDModel

    Examples
    --------
    >>> from clvmodels import ModifiedBetaGeoModel
    >>> from clvmodels.datasets import load_cdnow_summary
    >>> summary = load_cdnow_summary()
    >>> mbg = ModifiedBetaGeoModel().fit(summary)
    >>> mbg.params_.round(3).to_dict()          # lifetimes and BTYDplus: 0.525, 6.183, 0.891, 1.614
    {'r': 0.525, 'alpha': 6.183, 'a': 0.891, 'b': 1.614}
    >>> once = summary[summary["frequency"] == 0].head(1)
    >>> float(mbg.p_alive(once)["p_alive"].iloc[0]) < 1      # one-time buyers can be gone
    True
    """

    family = MBGNBD
