"""clvmodels: probabilistic customer-lifetime-value models with a business layer.

Transaction log -> :func:`rfm_summary` -> a purchase model (:class:`BetaGeoModel`,
:class:`ParetoNBDModel`, :class:`ModifiedBetaGeoModel`; :class:`BetaGeoBetaBinomModel` for
discrete opportunities) and :class:`GammaGammaModel` -> predictions with intervals -> :func:`customer_value` -> reactivation targets -> CRM export.

Importing the package is cheap: heavy modules (PyMC, matplotlib, DuckDB) load on first use.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# public name -> module that defines it; resolved lazily by __getattr__ (PEP 562)
_LAZY = {
    "rfm_summary": "clvmodels.data.summary",
    "calibration_holdout_summary": "clvmodels.data.summary",
    "as_summary": "clvmodels.data.external",
    "summary_meta": "clvmodels.data.meta",
    "opportunity_summary": "clvmodels.data.opportunities",
    "subscription_tenures": "clvmodels.data.subscriptions",
    "cohort_survival": "clvmodels.data.subscriptions",
    "BetaGeoModel": "clvmodels.models.beta_geo",
    "ParetoNBDModel": "clvmodels.models.pareto_nbd",
    "ModifiedBetaGeoModel": "clvmodels.models.modified_beta_geo",
    "BetaGeoBetaBinomModel": "clvmodels.models.beta_geo_beta_binom",
    "GammaGammaModel": "clvmodels.models.gamma_gamma",
    "ShiftedBetaGeoModel": "clvmodels.models.shifted_beta_geo",
    "tenures_from_cohorts": "clvmodels.data.subscriptions",
    "contractual_value": "clvmodels.value.contractual",
    "break_even_table": "clvmodels.value.contractual",
    "ContractTerms": "clvmodels.value.contractual",
    "load_model": "clvmodels.models.persistence",
    "compare_models": "clvmodels.models.comparison",
    "fit_purchase_models": "clvmodels.models.comparison_inputs",
    "customer_value": "clvmodels.value.customer_value",
    "value_rollup": "clvmodels.value.rollup",
    "lapsed_customers": "clvmodels.reactivation.lapsed",
    "winback_targets": "clvmodels.reactivation.targeting",
    "sequence_status": "clvmodels.reactivation.hygiene",
    "evaluate_campaign": "clvmodels.reactivation.evaluation",
    "datasets": "clvmodels.datasets",
    "plotting": "clvmodels.plotting",
}
_SUBMODULES = {"datasets", "plotting"}

from clvmodels.errors import (  # noqa: E402  (light, no heavy imports)
    ClvError,
    ConvergenceError,
    ConvergenceWarning,
    DataError,
    NotFittedError,
)


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'clvmodels' has no attribute {name!r}")
    module = importlib.import_module(_LAZY[name])
    value = module if name in _SUBMODULES else getattr(module, name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(list(globals()) + list(_LAZY))


__all__ = [
    "ClvError",
    "ConvergenceError",
    "ConvergenceWarning",
    "DataError",
    "NotFittedError",
    "__version__",
    *_LAZY,
]
