"""Datasets for examples, tests and benchmarks.

- :func:`load_cdnow_transactions`, :func:`load_cdnow_summary`: the CDNOW data of Fader, Hardie &
  Lee (2005), read from the files inside the installed lifetimes wheel.
- :func:`load_donations`: the donations recency/frequency matrix of Fader, Hardie & Shang (2010),
  from the same wheel (for BG/BB).
- :func:`simulate_transactions`, :func:`simulate_summary`: customers drawn from BG/NBD +
  Gamma-Gamma with known parameters (seeded).

Names load lazily (PEP 562), so ``import clvmodels.datasets`` stays cheap.
"""

from __future__ import annotations

from clvmodels._lazy import lazy_exports

_LAZY = {
    "load_cdnow_transactions": "clvmodels.datasets.cdnow",
    "load_cdnow_summary": "clvmodels.datasets.cdnow",
    "load_donations": "clvmodels.datasets.donations",
    "simulate_transactions": "clvmodels.datasets.simulate",
    "simulate_summary": "clvmodels.datasets.simulate",
}


__getattr__, __dir__ = lazy_exports(__name__, globals(), _LAZY)

__all__ = list(_LAZY)
