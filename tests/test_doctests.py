"""The Examples sections of the public API run as doctests (issue 19, item 2).

Each docstring with examples is one test, so a failure names the function. The examples use the
CDNOW sample (2,357 customers) or tiny frames and take seconds in all; the plotting examples run
in tests/test_plotting_doctests.py.
"""

from __future__ import annotations

import doctest
import importlib
import warnings

import pytest

MODULES = (
    "clvmodels.data.summary", "clvmodels.data.external", "clvmodels.data.meta",
    "clvmodels.models.fitted", "clvmodels.models.purchase", "clvmodels.models.beta_geo",
    "clvmodels.models.pareto_nbd", "clvmodels.models.modified_beta_geo",
    "clvmodels.models.beta_geo_beta_binom", "clvmodels.models.gamma_gamma", "clvmodels.datasets.donations",
    "clvmodels.models.comparison", "clvmodels.models.comparison_inputs",
    "clvmodels.models.persistence", "clvmodels.models.report", "clvmodels.models.segments",
    "clvmodels.value.customer_value", "clvmodels.value.rollup", "clvmodels.value.economics",
    "clvmodels.value.acquisition", "clvmodels.value.referrals",
    "clvmodels.reactivation.targeting", "clvmodels.reactivation.lapsed",
    "clvmodels.reactivation.evaluation", "clvmodels.reactivation.hygiene",
    "clvmodels.reactivation.sequence", "clvmodels.reactivation.response",
    "clvmodels.export", "clvmodels.export.files", "clvmodels.export.sql",
    "clvmodels.datasets.cdnow", "clvmodels.datasets.simulate",
)
FLAGS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS


def _examples():
    finder = doctest.DocTestFinder(exclude_empty=True)
    found = {}
    for name in MODULES:
        module = importlib.import_module(name)
        for test in finder.find(module, name):
            # a class's inherited methods are found once, under the module that defines them
            if test.examples and all(not ex.options.get(doctest.SKIP) for ex in test.examples):
                found.setdefault(test.name, test)
    return found


EXAMPLES = _examples()


def test_examples_are_found():
    """Not vacuous: the models, value and reactivation entry points carry runnable examples."""
    for name in ("clvmodels.models.purchase.PurchaseModel.predict",
                 "clvmodels.models.fitted.FittedParametricModel.summary",
                 "clvmodels.value.customer_value.customer_value",
                 "clvmodels.value.rollup.value_rollup"):
        assert name in EXAMPLES, name


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_example_runs(name):
    test = EXAMPLES[name]
    failures: list[str] = []
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # deprecation notices of dependencies
        runner.run(test, out=lambda text: failures.append(text))
    result = runner.summarize(verbose=False)
    assert result.attempted > 0
    assert result.failed == 0, "".join(failures)

