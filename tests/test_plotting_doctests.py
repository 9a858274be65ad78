"""The Examples sections of clvmodels.plotting run as doctests, and every public function has one."""

from __future__ import annotations

import doctest
import importlib
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest

from clvmodels import plotting as P

MODULES = sorted({getattr(P, name).__module__ for name in P.__all__})


def test_every_public_function_has_an_example():
    missing = [name for name in P.__all__ if "\n    Examples\n    --------\n" not in (getattr(P, name).__doc__ or "")]
    assert not missing


@pytest.mark.parametrize("module", MODULES)
def test_examples_run(module):
    """The bayes module's examples fit short NUTS chains (2 x 200 draws on CDNOW, about a second)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # short chains' ConvergenceWarning, ArviZ deprecation notices
        result = doctest.testmod(importlib.import_module(module), optionflags=doctest.NORMALIZE_WHITESPACE)
    plt.close("all")
    assert result.attempted > 0 and result.failed == 0
