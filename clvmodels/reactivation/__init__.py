"""Reactivation: which lapsed customers are worth winning back, and did the campaign work.

The steps, in the order a campaign runs:

1. :func:`lapsed_customers` flags customers with no purchase in a window and/or a low P(alive).
2. :func:`winback_targets` values winning each one back, crediting only the increment:
   uplift over the model's baseline x (value if they buy in the response window - value if
   not) - contact cost; it ranks them and selects a campaign list under a budget.
3. :class:`ContactSequence` describes the multi-step contact programme (letter, e-mail, call).
4. :func:`sequence_status` reports who has returned (and must get no further steps) and who is
   still in the sequence.
5. :func:`evaluate_campaign` measures response, uplift against a control group and incremental
   revenue with a Beta-Binomial posterior.

Names load lazily (PEP 562).
"""

from __future__ import annotations

from clvmodels._lazy import lazy_exports

_LAZY = {
    "lapsed_customers": "clvmodels.reactivation.lapsed",
    "winback_targets": "clvmodels.reactivation.targeting",
    "ContactSequence": "clvmodels.reactivation.sequence",
    "ContactStep": "clvmodels.reactivation.sequence",
    "sequence_status": "clvmodels.reactivation.hygiene",
    "evaluate_campaign": "clvmodels.reactivation.evaluation",
    "CampaignEvaluation": "clvmodels.reactivation.evaluation",
}


__getattr__, __dir__ = lazy_exports(__name__, globals(), _LAZY)

__all__ = list(_LAZY)
