"""plot_posterior: no label sits on the density curve, the HDI bar or the reference line (issue 19:
"labels overlap in the posterior plot").

tests/test_plotting_render.py checks that text boxes do not overlap each other; here every text
box of every panel is also checked against the drawn lines (the density, the HDI bar and the
MLE reference line), sampled densely in display coordinates.
"""

from __future__ import annotations

import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from clvmodels import BetaGeoModel
from clvmodels import plotting as P


@pytest.fixture(scope="module")
def fits():
    from clvmodels.datasets import load_cdnow_summary

    summary = load_cdnow_summary()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # short chains
        bayes = BetaGeoModel(method="bayes", chains=2, draws=200, tune=200, seed=3).fit(summary)
    return bayes, BetaGeoModel().fit(summary)


def _line_points(panel) -> np.ndarray:
    """Display coordinates of every drawn line of ``panel``, ~1 point per pixel along each segment."""
    paths = [line.get_xydata() for line in panel.get_lines()]
    for collection in panel.collections:
        if hasattr(collection, "get_segments"):
            paths += [np.asarray(seg) for seg in collection.get_segments()]
    points = []
    for xy in paths:
        xy = panel.transData.transform(np.asarray(xy, float))
        for start, end in zip(xy[:-1], xy[1:]):
            n = int(np.ceil(np.hypot(*(end - start)))) + 2
            points.append(np.linspace(start, end, n))
    return np.concatenate(points) if points else np.empty((0, 2))


def _texts(panel):
    return [t for t in [panel.title, *panel.texts] if t.get_visible() and t.get_text().strip()]


def _crossings(axes):
    fig = axes.ravel()[0].figure
    fig.set_dpi(100)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    found = []
    for panel in axes.ravel():
        points = _line_points(panel)
        for text in _texts(panel):
            box = text.get_window_extent(renderer)
            inside = ((points[:, 0] > box.x0) & (points[:, 0] < box.x1)
                      & (points[:, 1] > box.y0) & (points[:, 1] < box.y1))
            if inside.any():
                found.append(text.get_text())
    return found


def test_no_label_touches_a_line(fits):
    bayes, mle = fits
    axes = P.plot_posterior(bayes, reference=mle)
    try:
        assert not _crossings(axes)
        for panel in axes.ravel():  # the numbers are there, in words
            assert "mean" in panel.get_title() and "90% HDI" in panel.get_title()
            assert any("below" in t.get_text() for t in panel.texts)
    finally:
        plt.close("all")


def test_the_checker_sees_a_label_on_the_line(fits):
    """Not vacuous: a text put on the reference line is reported."""
    bayes, mle = fits
    axes = P.plot_posterior(bayes, reference=mle, var_names=["r"])
    try:
        panel = axes.ravel()[0]
        panel.text(float(mle.params_["r"]), 0.5 * panel.get_ylim()[1], "on the line", ha="center")
        assert "on the line" in _crossings(axes)
    finally:
        plt.close("all")


def test_hdi_bar_spans_the_interval(fits):
    """The black bar on the x axis runs from the HDI's lower to its upper end (ArviZ's hdi)."""
    import arviz as az

    bayes, _ = fits
    axes = P.plot_posterior(bayes, var_names=["alpha"], hdi_prob=0.9)
    try:
        bar = [line for line in axes.ravel()[0].get_lines() if line.get_label() == "90% HDI"][0]
        low, high = az.hdi(bayes.idata_.posterior["alpha"].to_numpy().ravel(), hdi_prob=0.9)
        np.testing.assert_allclose(bar.get_xdata(), [low, high])
    finally:
        plt.close("all")
