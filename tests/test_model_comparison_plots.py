"""clvmodels.plotting.comparison: what is drawn is the comparison tables' numbers (Agg backend)."""

from __future__ import annotations

import doctest

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from clvmodels import BetaGeoModel
from clvmodels.datasets import load_cdnow_summary, load_cdnow_transactions
from clvmodels.models.comparison import holdout_by_frequency, period_transactions_table, tracking_table
from clvmodels.models.comparison_inputs import fit_purchase_models
from clvmodels.plotting import comparison as plots


@pytest.fixture(scope="module")
def cdnow():
    return load_cdnow_summary()


@pytest.fixture(scope="module")
def two(cdnow):
    return fit_purchase_models(cdnow, [BetaGeoModel(), BetaGeoModel(penalizer=0.1)])


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_histogram_bars_are_the_table(cdnow, two):
    table = period_transactions_table(cdnow, two)
    ax = plots.plot_period_transactions_comparison(cdnow, two)
    heights = np.array([p.get_height() for p in ax.patches]).reshape(3, 8)  # one container per column
    np.testing.assert_allclose(heights, table.to_numpy().T)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["observed", *two]
    assert [t.get_text() for t in ax.get_xticklabels()] == list(table.index)


def test_holdout_lines_are_the_table(cdnow, two):
    table = holdout_by_frequency(cdnow, two)
    ax = plots.plot_holdout_comparison(cdnow, two)
    lines = ax.get_lines()
    assert len(lines) == 3
    np.testing.assert_allclose(lines[0].get_ydata(), table["observed"])
    for line, label in zip(lines[1:], two):
        np.testing.assert_allclose(line.get_ydata(), table[label])
    assert ax.get_xticklabels()[0].get_text() == "0\nn=1411"


def test_model_comparison_figure_with_tracking(cdnow, two):
    log = load_cdnow_transactions()
    axes = plots.plot_model_comparison(cdnow, two, transactions=log)
    assert axes.shape == (3,) and len(axes[0].figure.axes) == 3
    track = tracking_table(cdnow, log, two)
    actual, *models, calibration_end = axes[2].get_lines()
    np.testing.assert_allclose(actual.get_ydata(), track["actual"])
    np.testing.assert_allclose(models[1].get_ydata(), track["BG/NBD (penalizer=0.1)"])
    assert pd.Timestamp(calibration_end.get_xdata()[0]) == pd.Timestamp("1997-09-30")
    axes[0].figure.savefig(__import__("io").BytesIO(), format="png")  # renders


def test_examples_run():
    result = doctest.testmod(plots, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
