"""Purchase-model families on one contract (:class:`PurchaseFamily`), looked up by name.

The registry is the only place that knows which families exist; code elsewhere takes a family
object (or its name from a file or the CLI) and never switches on it.
"""

from __future__ import annotations

from clvmodels.families.contract import PurchaseFamily

#: family name -> module defining it (imported on first use, so listing families stays cheap)
_MODULES = {
    "bgbb": ("clvmodels.families.bgbb", "BGBB"),
    "bgnbd": ("clvmodels.families.bgnbd", "BGNBD"),
    "mbgnbd": ("clvmodels.families.mbgnbd", "MBGNBD"),
    "pnbd": ("clvmodels.families.paretonbd", "PARETONBD"),
}


def family_names() -> list[str]:
    """Names of every registered purchase-model family."""
    return sorted(_MODULES)


def get_family(name: str) -> PurchaseFamily:
    """The family registered as ``name`` (DataError listing the names otherwise)."""
    import importlib

    from clvmodels.errors import check_choice

    check_choice("purchase model", name, family_names())
    module, attribute = _MODULES[name]
    return getattr(importlib.import_module(module), attribute)


__all__ = ["PurchaseFamily", "family_names", "get_family"]
