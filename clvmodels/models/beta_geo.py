"""BG/NBD purchase-and-dropout model (Fader, Hardie & Lee 2005) as a scikit-learn style estimator.

The estimator machinery is :class:`~clvmodels.models.purchase.PurchaseModel`, shared by every
family; this class names the BG/NBD family (:mod:`clvmodels.families.bgnbd`) and documents it.
"""

from __future__ import annotations

from clvmodels.families.bgnbd import BGNBD
from clvmodels.models.docstrings import document_settings
from clvmodels.models.purchase import PurchaseModel


@document_settings
class BetaGeoModel(PurchaseModel):
    """BG/NBD model of repeat purchasing and dropout.

    Purchases of an alive customer follow a Poisson process with rate ``lambda ~ Gamma(r, alpha)``;
    after each purchase the customer drops out with probability ``p ~ Beta(a, b)``
    (Fader, Hardie & Lee 2005, "Counting your customers the easy way").

    The settings below are keyword-only and stored as given (scikit-learn style); ``fit`` returns
    the model. With ``pool_by="channel"`` each channel gets its own parameters under either
    method, so a channel's new customer, break-even acquisition cost and payback are its own.
    Horizons are in the summary's time unit (``rfm_summary(..., time_unit="W")``: weeks).

    "Alive" means not yet dropped out. In BG/NBD a customer can drop out only right after a
    repeat purchase, so a customer who never bought again (frequency 0) is alive with
    probability 1 however long ago they bought; their expected purchases are still low, because
    a long silence points to a low purchase rate. The model is non-contractual: dropout is never
    observed; subscriptions need a contractual model. ``p_alive`` is P(alive) at the end of
    observation, ``p_dropped_out`` its complement (churn now) and ``churn_probability`` the
    probability of having dropped out by the END of a horizon.

    Every prediction method takes a customer summary and returns a DataFrame indexed by customer
    id. With ``uncertainty="expected"`` it adds ``<q>_lower``/``<q>_upper``: the interval of the
    expected value (parameter uncertainty; Laplace draws for MLE, posterior draws for Bayes). With
    ``uncertainty="predictive"`` outcome quantities (purchase counts) get the interval of what the
    customer will actually do, simulated from the exact individual-level posterior (once per
    distinct (frequency, recency, T) row, since customers with the same row have the same
    predictive distribution); probabilities are not outcomes, so their interval is always the
    expected-value one. Intervals are computed in chunks on a few threads and depend only on the
    seed, not on the number of threads or the order of the customers.

    References
    ----------
    Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting your customers" the easy way:
    an alternative to the Pareto/NBD model. Marketing Science 24(2), 275-284.

    See Also
    --------
    GammaGammaModel : spend per purchase, for revenue and value.
    clvmodels.customer_value : discounted value net of acquisition cost.

    Examples
    --------
    >>> from clvmodels import BetaGeoModel
    >>> from clvmodels.datasets import load_cdnow_summary
    >>> summary = load_cdnow_summary()          # CDNOW sample: 2,357 customers, weeks
    >>> bg = BetaGeoModel().fit(summary)
    >>> bg.params_.round(3).to_dict()           # Fader, Hardie & Lee (2005): 0.243, 4.414, 0.793, 2.426
    {'r': 0.243, 'alpha': 4.414, 'a': 0.793, 'b': 2.426}
    >>> out = bg.predict(summary, 39, uncertainty="expected", seed=0)   # 39 weeks ahead
    >>> list(out.columns[:3])
    ['p_alive', 'p_alive_lower', 'p_alive_upper']
    """

    family = BGNBD
