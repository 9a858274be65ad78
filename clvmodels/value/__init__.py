"""Customer value: discounted margin, acquisition cost, referral value, intervals and rollups.

Entry points: :func:`clvmodels.customer_value` (one row per customer), :func:`value_run` (the same
pass, keeping per-draw group totals) and :func:`clvmodels.value_rollup` (value by channel, cohort or
partner). Settings: :class:`Economics`, :class:`AcquisitionCosts`, :class:`Referrals`.
"""

from __future__ import annotations

import importlib

_LAZY = {
    "customer_value": "clvmodels.value.customer_value",
    "value_run": "clvmodels.value.customer_value",
    "ValueRun": "clvmodels.value.customer_value",
    "value_rollup": "clvmodels.value.rollup",
    "Economics": "clvmodels.value.economics",
    "AcquisitionCosts": "clvmodels.value.acquisition",
    "Referrals": "clvmodels.value.referrals",
}


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'clvmodels.value' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(list(globals()) + list(_LAZY))


__all__ = list(_LAZY)
