"""Customer value: discounted margin, acquisition cost, referral value, intervals and rollups.

Entry points: :func:`clvmodels.customer_value` (one row per customer), :func:`value_run` (the same
pass, keeping per-draw group totals) and :func:`clvmodels.value_rollup` (value by channel, cohort or
partner). Settings: :class:`Economics`, :class:`AcquisitionCosts`, :class:`Referrals`. A check of
Gamma-Gamma's independence of spend and frequency: :func:`spend_frequency_check`. What each value
column holds: docs/value_accounting.md. Subscriptions (sBG renewals): :func:`contractual_value`,
:func:`break_even_table`, :class:`ContractTerms` (docs/contractual_value.md).
"""

from __future__ import annotations

from clvmodels._lazy import lazy_exports

_LAZY = {
    "customer_value": "clvmodels.value.customer_value",
    "value_run": "clvmodels.value.customer_value",
    "ValueRun": "clvmodels.value.customer_value",
    "value_rollup": "clvmodels.value.rollup",
    "Economics": "clvmodels.value.economics",
    "AcquisitionCosts": "clvmodels.value.acquisition",
    "Referrals": "clvmodels.value.referrals",
    "spend_frequency_check": "clvmodels.value.checks",
    "contractual_value": "clvmodels.value.contractual",
    "break_even_table": "clvmodels.value.contractual",
    "ContractTerms": "clvmodels.value.contractual",
}


__getattr__, __dir__ = lazy_exports(__name__, globals(), _LAZY)

__all__ = list(_LAZY)
