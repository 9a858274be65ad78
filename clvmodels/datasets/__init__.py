"""Datasets for examples, tests and benchmarks.

- :func:`load_cdnow_transactions`, :func:`load_cdnow_summary`: the CDNOW data of Fader, Hardie &
  Lee (2005), read from the files inside the installed lifetimes wheel.
- :func:`simulate_transactions`, :func:`simulate_summary`: customers drawn from BG/NBD +
  Gamma-Gamma with known parameters (seeded).

Names load lazily (PEP 562), so ``import clvmodels.datasets`` stays cheap.
"""

from __future__ import annotations

import importlib

_LAZY = {
    "load_cdnow_transactions": "clvmodels.datasets.cdnow",
    "load_cdnow_summary": "clvmodels.datasets.cdnow",
    "simulate_transactions": "clvmodels.datasets.simulate",
    "simulate_summary": "clvmodels.datasets.simulate",
}


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'clvmodels.datasets' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(list(globals()) + list(_LAZY))


__all__ = list(_LAZY)
