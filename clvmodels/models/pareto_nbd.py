"""Pareto/NBD purchase-and-dropout model (Schmittlein, Morrison & Colombo 1987) as an estimator."""

from __future__ import annotations

from clvmodels.families.paretonbd import PARETONBD
from clvmodels.models.docstrings import document_settings
from clvmodels.models.purchase import PurchaseModel


@document_settings
class ParetoNBDModel(PurchaseModel):
    """Pareto/NBD model of repeat purchasing and dropout, in continuous time.

    While alive a customer buys as a Poisson process with rate ``lambda ~ Gamma(r, alpha)``; their
    lifetime is exponential with dropout rate ``mu ~ Gamma(s, beta)``, independent of ``lambda``
    (Schmittlein, Morrison & Colombo 1987). Unlike BG/NBD, dropout can happen at any time, also
    before a first repeat purchase, so a one-time buyer's P(alive) falls with the time since their
    purchase. The log-likelihood is evaluated stably on both branches of its hypergeometric term
    (alpha above and below beta; :mod:`clvmodels.formulas.paretonbd`).

    Same API, settings and intervals as :class:`~clvmodels.BetaGeoModel`: ``fit(summary,
    weights=)`` on ``frequency, recency, T`` (as :func:`clvmodels.rfm_summary` builds them; horizons
    in the summary's time unit), ``p_alive``, ``p_dropped_out``, ``churn_probability``,
    ``expected_purchases``, ``purchase_probability``, ``expected_purchases_new``, ``predict``, and
    every value and win-back function of the package.

    References
    ----------
    Schmittlein, D. C., Morrison, D. G. & Colombo, R. (1987). Counting your customers: who are they
    and what will they do next? Management Science 33(1), 1-24.
    Fader, P. S. & Hardie, B. G. S. (2005). A note on deriving the Pareto/NBD model and related
    expressions. http://brucehardie.com/notes/009/
    Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). RFM and CLV: using iso-value curves for
    customer base analysis. Journal of Marketing Research 42(4), 415-430 (discounted expected
    residual transactions).

    See Also
    --------
    BetaGeoModel, ModifiedBetaGeoModel
    clvmodels.compare_models : which family fits a customer base best.

    Examples
    --------
    >>> from clvmodels import ParetoNBDModel
    >>> from clvmodels.datasets import load_cdnow_summary
    >>> summary = load_cdnow_summary()          # CDNOW sample, 39 weeks of calibration
    >>> pnbd = ParetoNBDModel().fit(summary)
    >>> round(pnbd.log_likelihood_, 3)          # BTYD vignette: -9594.976
    -9594.976
    >>> pnbd.params_.round(2).to_dict()         # BTYD: 0.5534, 10.580, 0.6061, 11.656 (flat in beta)
    {'r': 0.55, 'alpha': 10.58, 's': 0.61, 'beta': 11.67}
    """

    family = PARETONBD
