"""Every public plot of clvmodels.plotting, rendered with Agg: it has a title, labelled axes, no text
box overlapping another and none cut off at the figure's edge.

The cases are listed by function name; a test fails when a public ``plot_*`` function has no case,
so a new plot cannot skip the check.
"""

from __future__ import annotations

import itertools
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from clvmodels import BetaGeoModel, GammaGammaModel
from clvmodels import plotting as P

pytestmark = pytest.mark.filterwarnings("ignore:Passing a dict or None as alias_mapping")

#: Two text boxes overlap when they share more than this many pixels in both directions (at
#: 100 dpi): touching neighbours (e.g. adjacent tick labels) are fine.
TOLERANCE_PX = 1.0


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def data():
    from clvmodels.datasets import load_cdnow_summary, load_cdnow_transactions
    from clvmodels.value import value_run

    cal = load_cdnow_summary()
    tx = load_cdnow_transactions()
    bg, gg = BetaGeoModel().fit(cal), GammaGammaModel().fit(cal)
    summary = cal.copy()
    summary["channel"] = np.where(summary.index % 3 == 0, "search",
                                  np.where(summary.index % 3 == 1, "social", "email"))
    summary["acquisition_cost"] = summary["channel"].map({"search": 20.0, "social": 30.0, "email": 5.0})
    run = value_run(bg, gg, summary, margin=0.3, horizon=52, discount_rate=0.1, n_draws=50,
                    rollup_by=["channel"])
    rng = np.random.default_rng(0)
    value = np.sort(rng.lognormal(0.0, 1.2, 300))[::-1] - 1.0
    campaign = pd.DataFrame({"rank": np.arange(1, 301), "expected_value": value, "contact_cost": 0.1},
                            index=pd.Index(np.arange(300), name="customer_id"))
    from clvmodels.models.registry import purchase_model_class

    candidates = {"BG/NBD": bg, "MBG/NBD": purchase_model_class("mbgnbd")().fit(cal)}
    return {"cal": cal, "tx": tx, "bg": bg, "gg": gg, "values": run.customers, "candidates": candidates,
            "rollup": run.rollup("channel", per_customer=True), "campaign": campaign}


@pytest.fixture(scope="module")
def bayes(data):
    with warnings.catch_warnings():  # short chains: a ConvergenceWarning about ESS is expected
        warnings.simplefilter("ignore")
        return BetaGeoModel(method="bayes", chains=2, draws=200, tune=200, seed=3).fit(data["cal"])


CASES = {
    "plot_period_transactions": lambda d, **kw: P.plot_period_transactions(d["bg"], d["cal"], n_draws=50, **kw),
    "plot_calibration_vs_holdout": lambda d, **kw: P.plot_calibration_vs_holdout(d["bg"], d["cal"], **kw),
    "plot_cumulative_transactions": lambda d, **kw: P.plot_cumulative_transactions(d["bg"], d["cal"], d["tx"],
                                                                                   **kw),
    "plot_incremental_transactions": lambda d, **kw: P.plot_incremental_transactions(d["bg"], d["cal"], d["tx"],
                                                                                     **kw),
    "plot_frequency_recency_matrix": lambda d, **kw: P.plot_frequency_recency_matrix(d["bg"], d["cal"],
                                                                                     horizon=52, **kw),
    "plot_probability_alive_matrix": lambda d, **kw: P.plot_probability_alive_matrix(d["bg"], d["cal"], **kw),
    "plot_history_alive": lambda d, **kw: P.plot_history_alive(d["bg"], d["tx"], 1, end="1998-06-30",
                                                               calibration_end=d["cal"], n_draws=50, **kw),
    "plot_heterogeneity": lambda d, **kw: P.plot_heterogeneity(d["bg"], n_draws=50, **kw),
    "plot_spend_fit": lambda d, **kw: P.plot_spend_fit(d["gg"], d["cal"], n_draws=50, currency="USD", **kw),
    "plot_value_distribution": lambda d, **kw: P.plot_value_distribution(d["values"], "net_value",
                                                                         currency="USD", **kw),
    "plot_lorenz_curve": lambda d, **kw: P.plot_lorenz_curve(d["values"], "clv", **kw),
    "plot_value_by_group": lambda d, **kw: P.plot_value_by_group(d["rollup"], "breakeven_acquisition_cost",
                                                                 reference_column="acquisition_cost", **kw),
    "plot_winback_gains": lambda d, **kw: P.plot_winback_gains(d["campaign"], budget=20.0, currency="USD",
                                                               **kw),
    "plot_period_transactions_comparison": lambda d, **kw: P.plot_period_transactions_comparison(
        d["cal"], d["candidates"], **kw),
    "plot_holdout_comparison": lambda d, **kw: P.plot_holdout_comparison(d["cal"], d["candidates"], **kw),
    "plot_tracking_comparison": lambda d, **kw: P.plot_tracking_comparison(d["cal"], d["tx"], d["candidates"],
                                                                           **kw),
}
#: Plots that make their own multi-panel figure (no ax=): readable only.
FIGURE_CASES = {
    "plot_model_comparison": lambda d: P.plot_model_comparison(d["cal"], d["candidates"], transactions=d["tx"]),
}
#: Plots that draw one panel per parameter or mixing distribution: how many Axes they take.
PANELS = {"plot_heterogeneity": 2}
BAYES_CASES = {
    "plot_trace": lambda m, d: P.plot_trace(m),
    "plot_rank": lambda m, d: P.plot_rank(m),
    "plot_posterior": lambda m, d: P.plot_posterior(m, reference=d["bg"]),
    "plot_energy": lambda m, d: P.plot_energy(m),
}


def _in_view(axis, label, lo, hi) -> bool:
    """A tick label whose tick lies inside the axis' view limits (only those are drawn)."""
    x, y = label.get_position()
    value = x if axis.axis_name == "x" else y
    low, high = sorted((lo, hi))
    span = high - low
    return low - 1e-9 * span <= value <= high + 1e-9 * span


def text_boxes(fig) -> list[tuple[str, object]]:
    """(description, window extent) of every visible, non-empty text of the figure."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    texts = [("suptitle", fig._suptitle)] if fig._suptitle is not None else []
    for i, ax in enumerate(fig.axes):
        if not ax.get_visible():
            continue
        own = [("title", ax.title), ("left title", ax._left_title), ("right title", ax._right_title),
               ("x label", ax.xaxis.label), ("y label", ax.yaxis.label),
               ("x offset", ax.xaxis.get_offset_text()), ("y offset", ax.yaxis.get_offset_text())]
        for axis, limits in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):
            own += [(f"{axis.axis_name} tick", t) for t in axis.get_ticklabels()
                    if _in_view(axis, t, *limits)]
        own += [("text", t) for t in ax.texts]
        if ax.get_legend() is not None:
            own += [("legend", t) for t in ax.get_legend().get_texts()]
        texts += [(f"axes {i} {kind}", t) for kind, t in own]
    return [(f"{name} {t.get_text()!r}", t.get_window_extent(renderer)) for name, t in texts
            if t.get_visible() and t.get_text().strip()]


def overlaps(boxes) -> list[tuple[str, str]]:
    found = []
    for (a, box_a), (b, box_b) in itertools.combinations(boxes, 2):
        width = min(box_a.x1, box_b.x1) - max(box_a.x0, box_b.x0)
        height = min(box_a.y1, box_b.y1) - max(box_a.y0, box_b.y0)
        if width > TOLERANCE_PX and height > TOLERANCE_PX:
            found.append((a, b))
    return found


def cut_off(fig, boxes) -> list[str]:
    edge = fig.bbox
    return [name for name, box in boxes
            if box.x0 < edge.x0 - TOLERANCE_PX or box.y0 < edge.y0 - TOLERANCE_PX
            or box.x1 > edge.x1 + TOLERANCE_PX or box.y1 > edge.y1 + TOLERANCE_PX]


def check_figure(result) -> None:
    fig = np.ravel(result)[0].figure
    fig.set_dpi(100)
    boxes = text_boxes(fig)
    for ax in fig.axes:
        if not ax.get_visible() or hasattr(ax, "_colorbar"):
            continue  # a colour bar has a label but needs no title
        assert ax.get_title() or fig._suptitle is not None, f"an Axes has no title: {ax}"
        assert ax.get_xlabel().strip(), f"the panel {ax.get_title()!r} has no x label"
        assert ax.get_ylabel().strip(), f"the panel {ax.get_title()!r} has no y label"
    assert not overlaps(boxes), f"overlapping text boxes: {overlaps(boxes)}"
    assert not cut_off(fig, boxes), f"text cut off at the figure's edge: {cut_off(fig, boxes)}"


def test_every_public_plot_has_a_render_case():
    public = {name for name in P.__all__ if name.startswith("plot_")}
    assert public == set(CASES) | set(BAYES_CASES) | set(FIGURE_CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_plot_is_readable(name, data):
    check_figure(CASES[name](data))


@pytest.mark.parametrize("name", sorted(FIGURE_CASES))
def test_figure_plot_is_readable(name, data):
    check_figure(FIGURE_CASES[name](data))


@pytest.mark.parametrize("name", sorted(CASES))
def test_plot_draws_into_the_given_axes(name, data):
    """Every plot takes ax= and returns what it drew on, so it composes into a user's figure."""
    fig, axes = plt.subplots(1, PANELS.get(name, 1), figsize=(6.0 * PANELS.get(name, 1), 4.5),
                             layout="constrained", squeeze=False)
    given = axes[0] if name in PANELS else axes[0, 0]
    result = CASES[name](data, ax=given)
    assert result is given or np.array_equal(np.ravel(result), np.ravel(given))
    assert all(ax.figure is fig for ax in np.ravel(result))
    check_figure(result)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(BAYES_CASES))
def test_bayesian_plot_is_readable(name, bayes, data):
    check_figure(BAYES_CASES[name](bayes, data))


@pytest.mark.slow
def test_bayesian_period_transactions_says_posterior_predictive_check(bayes, data):
    ax = P.plot_period_transactions(bayes, data["cal"], n_draws=50)
    assert ax.get_title().startswith("Posterior predictive check")
    check_figure(ax)


def test_the_checker_sees_an_overlap_and_a_cut_off_label():
    """The checker itself: two texts at one place overlap; a label past the edge is cut off."""
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.set_title("title")
    ax.text(0.5, 0.5, "first label", transform=ax.transAxes)
    ax.text(0.5, 0.5, "second label", transform=ax.transAxes)
    ax.text(1.3, 0.5, "far outside the figure", transform=ax.transAxes)
    boxes = text_boxes(fig)
    assert ("axes 0 text 'first label'", "axes 0 text 'second label'") in overlaps(boxes)
    assert cut_off(fig, boxes) == ["axes 0 text 'far outside the figure'"]


@pytest.mark.slow
def test_heterogeneity_of_a_bayesian_fit_bands_the_posterior(bayes):
    """The band of a Bayesian fit is over thinned posterior draws (no seed involved)."""
    table = P.heterogeneity_table(bayes, n_draws=100)
    draws = bayes.parameter_draws(100)
    assert draws.kind == "posterior"
    r, alpha = draws.values[:, 0], draws.values[:, 1]
    from scipy import stats

    density = stats.gamma.pdf(table[0]["x"][100], r, scale=1.0 / alpha)
    assert table[0]["lower"][100] == pytest.approx(np.quantile(density, 0.05), rel=1e-9)
    check_figure(P.plot_heterogeneity(bayes, n_draws=100))
