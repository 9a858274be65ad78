"""Which estimator classes exist, by role: the only place that lists concrete model classes.

Persistence, the pipeline, the CLI and Spark look classes up here (by the family name stored in a
file or given on the command line, or by class name in a saved model) and never import a concrete
class themselves, so adding a family means adding one line here and one in
:mod:`clvmodels.families`.
"""

from __future__ import annotations

import importlib

from clvmodels.errors import check_choice

#: purchase-model family name -> (module, class); the names are those of clvmodels.families
_PURCHASE = {
    "bgnbd": ("clvmodels.models.beta_geo", "BetaGeoModel"),
    "pnbd": ("clvmodels.models.pareto_nbd", "ParetoNBDModel"),
    "mbgnbd": ("clvmodels.models.modified_beta_geo", "ModifiedBetaGeoModel"),
    "bgbb": ("clvmodels.models.beta_geo_beta_binom", "BetaGeoBetaBinomModel"),
}
#: spend-model name -> (module, class)
_SPEND = {"gammagamma": ("clvmodels.models.gamma_gamma", "GammaGammaModel")}
#: contractual (subscription) model name -> (module, class): renewals, not purchases
_CONTRACTUAL = {"sbg": ("clvmodels.models.shifted_beta_geo", "ShiftedBetaGeoModel")}


def _load(entry):
    module, name = entry
    return getattr(importlib.import_module(module), name)


def purchase_model_names(*, discrete_time: bool | None = None) -> list[str]:
    """Names of the purchase-model families with an estimator class, sorted.

    Parameters
    ----------
    discrete_time : bool, optional
        Keep only the discrete-opportunity families (True) or the continuous-time ones (False),
        e.g. for a transaction log summarised with :func:`clvmodels.rfm_summary`.
    """
    names = sorted(_PURCHASE)
    if discrete_time is None:
        return names
    return [n for n in names if purchase_model_class(n).family.discrete_time == discrete_time]


def purchase_model_class(name: str):
    """The estimator class of the purchase-model family ``name`` (DataError listing the names)."""
    check_choice("purchase model", name, sorted(_PURCHASE))
    return _load(_PURCHASE[name])


def spend_model_class(name: str = "gammagamma"):
    """The estimator class of the spend model ``name``."""
    check_choice("spend model", name, sorted(_SPEND))
    return _load(_SPEND[name])


def model_classes() -> dict:
    """Every estimator class by class name (what a saved model file records)."""
    entries = (*_PURCHASE.values(), *_SPEND.values(), *_CONTRACTUAL.values())
    classes = [_load(entry) for entry in entries]
    return {cls.__name__: cls for cls in classes}
