"""winback_targets: incremental value, uplift sources, ranking, budgeted selection, hygiene."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clvmodels import BetaGeoModel, DataError, GammaGammaModel, evaluate_campaign, lapsed_customers, \
    sequence_status, winback_targets
from clvmodels.reactivation import ContactSequence

SEQ = ContactSequence([("letter", 0.8, 0), ("email", 0.05, 10), ("call", 3.0, 25)], name="3-step")
#: CDNOW customers buy CDs (mean spend ~35): a phone call rarely pays, a letter and an e-mail may
CHEAP = ContactSequence([("letter", 0.75, 0), ("email", 0.05, 10)], name="letter+email")


@pytest.fixture(scope="module")
def cdnow():
    from clvmodels.datasets import load_cdnow_summary

    return load_cdnow_summary()


@pytest.fixture(scope="module")
def models(cdnow):
    return BetaGeoModel().fit(cdnow), GammaGammaModel().fit(cdnow)


@pytest.fixture(scope="module")
def lapsed(cdnow):
    # no purchase in the last 26 weeks of the 39-week calibration
    return lapsed_customers(cdnow, window=182)


def _targets(lapsed, models, **kw):
    bg, gg = models
    settings = dict(uplift=0.05, sequence=CHEAP, margin=0.3, horizon=520, discount_rate=0.1,
                    n_draws=40)
    return winback_targets(lapsed, bg, gg, **{**settings, **kw})


def test_value_is_the_uplift_times_the_gain_of_a_return_minus_the_cost(lapsed, models):
    """expected_value = uplift x (value_if_returned - value_if_not_returned) - cost of the whole
    sequence, with the baseline the model's P(purchase in the window) (1 - P(0 purchases), here from
    the model's own predict(), a different code path) and P(alive) as the model predicts."""
    bg, _ = models
    out = _targets(lapsed, models, sequence=SEQ, horizon=52, discount_rate=0.0, include_rejected=True)
    window = out.attrs["clvmodels"]["campaign"]["response_window_units"]
    assert window == pytest.approx(2 * 30.436875 / 7)  # two months by default
    pred = bg.predict(lapsed, window).reindex(out.index)
    np.testing.assert_allclose(out["baseline_response"], 1 - pred["prob_no_purchase"], rtol=1e-9)
    np.testing.assert_allclose(out["p_alive"], pred["p_alive"], rtol=1e-12)
    gain = out["value_if_returned"] - out["value_if_not_returned"]
    np.testing.assert_allclose(out["expected_value"], out["uplift"] * gain - 3.85, rtol=1e-12)
    np.testing.assert_allclose(out["response_with_contact"], out["baseline_response"] + out["uplift"])
    np.testing.assert_allclose(out["return_on_cost"], out["expected_value"] / 3.85)
    assert out["uplift"].mean() == pytest.approx(0.05, rel=1e-9)  # the stated uplift, on average
    assert (out["uplift"] <= out["p_alive"]).all()  # only the alive can be converted
    assert (out["expected_value_lower"] <= out["expected_value_upper"]).all()
    assert (out["value_if_returned_lower"] < out["value_if_returned_upper"]).all()
    # every lapsed customer is ranked, highest value first
    assert len(out) == len(lapsed)
    assert out["expected_value"].is_monotonic_decreasing
    assert out["rank"].tolist() == list(range(1, len(out) + 1))


def test_budget_and_minimum_return_select_in_rank_order(lapsed, models):
    everyone = _targets(lapsed, models, include_rejected=True)
    positive = everyone[everyone["expected_value"] > 0]
    assert 0 < len(positive) < len(everyone)
    assert set(everyone.loc[everyone["expected_value"] <= 0, "why_not"]) == {"expected value <= 0"}
    budgeted = _targets(lapsed, models, budget=10.0)
    assert len(budgeted) == int(10.0 // 0.8) == 12
    assert list(budgeted.index) == list(positive.index[:12])
    assert budgeted["cumulative_cost"].iloc[-1] == pytest.approx(12 * 0.8)
    assert budgeted.attrs["clvmodels"]["campaign"]["total_cost"] == pytest.approx(12 * 0.8)
    demanding = _targets(lapsed, models, min_return=1.0)
    assert (demanding["return_on_cost"] >= 1.0).all()
    assert 0 < len(demanding) == int((everyone["return_on_cost"] >= 1.0).sum()) < len(positive)
    consenting = list(positive.index[3:9])
    assert list(_targets(lapsed, models, candidates=consenting).index) == consenting
    # the list carries what the CRM needs
    for col in ("reason", "expected_value", "expected_value_lower", "expected_value_upper", "p_alive",
                "days_since_last_purchase", "sequence", "sequence_steps"):
        assert col in budgeted.columns
    assert (budgeted["reason"] == "no purchase in 182 days").all()
    assert (budgeted["days_since_last_purchase"] >= 182).all()


def test_measured_uplift_carries_its_uncertainty(lapsed, models):
    """A measured uplift (5% treated against 2% control) is the candidates' mean uplift, and its
    posterior widens the value's interval compared with the same uplift stated as known."""
    treated, control = [f"t{i}" for i in range(2000)], [f"c{i}" for i in range(1000)]
    log = pd.DataFrame({"customer_id": treated[:100] + control[:20], "date": pd.Timestamp("1997-11-01")})
    ev = evaluate_campaign(log, treated=treated, control=control, start="1997-10-01", end="1997-11-30",
                           seed=4)
    uplift = ev.table.loc["all", "uplift"]
    measured = _targets(lapsed, models, uplift=ev, include_rejected=True, n_draws=100)
    assert measured["uplift"].mean() == pytest.approx(uplift, rel=1e-9)
    # the window the uplift was measured on (61 days, both ends included) is used
    assert measured.attrs["clvmodels"]["campaign"]["response_window_days"] == 61
    base = _targets(lapsed, models, uplift=float(uplift), response_window=61, include_rejected=True,
                    n_draws=100)
    np.testing.assert_allclose(measured["expected_value"], base["expected_value"].reindex(measured.index))
    width = lambda t: (t["expected_value_upper"] - t["expected_value_lower"]).median()  # noqa: E731
    assert width(measured) > 1.2 * width(base)
    no_control = evaluate_campaign(log[log.customer_id.str.startswith("t")], treated=treated, control=None,
                                   raw_only=True, start="1997-10-01")
    with pytest.raises(DataError, match="no control group, so it measured no uplift"):
        _targets(lapsed, models, uplift=no_control)
    with pytest.raises(DataError, match="uplift was measured over 61 days"):
        _targets(lapsed, models, uplift=ev, response_window=30)


def test_a_gross_response_rate_is_net_of_the_baseline(lapsed, models):
    """response_with_contact is the share of contacted customers who buy in the window; the model's
    baseline is subtracted. On CDNOW's lapsed customers the baseline over two months is 5.1%, so a
    5% gross response adds nothing and is refused; 8% means an uplift of 8% - 5.1%."""
    with pytest.raises(DataError, match="not above what the model expects"):
        _targets(lapsed, models, uplift=None, response_with_contact=0.05)
    out = _targets(lapsed, models, uplift=None, response_with_contact=0.08, include_rejected=True)
    assert out["baseline_response"].mean() == pytest.approx(0.0515, abs=5e-4)
    assert out["response_with_contact"].mean() == pytest.approx(0.08, rel=1e-9)
    with pytest.warns(FutureWarning, match="response=<rate> is deprecated and read as uplift"):
        old = _targets(lapsed, models, uplift=None, response=0.08 - 0.0515, include_rejected=True)
    assert old["uplift"].mean() == pytest.approx(0.08 - 0.0515, rel=1e-9)
    with pytest.warns(FutureWarning, match="scale_by_p_alive and reference_p_alive are deprecated"):
        _targets(lapsed, models, scale_by_p_alive=False)


def test_uplift_by_segment_and_equal_allocation(lapsed, models):
    """Each candidate takes its segment's measured uplift (named by segment_col); a segment the
    evaluation did not measure is refused with the ids; allocate_uplift="equal" gives every
    candidate the segment's uplift, capped at their P(alive and no purchase in the window)."""
    treated, control = [f"t{i}" for i in range(2000)], [f"c{i}" for i in range(1000)]
    log = pd.DataFrame({"customer_id": treated[:60] + treated[1000:1100] + control[:10] + control[500:520],
                        "date": pd.Timestamp("1997-11-01")})
    bands = pd.Series(["recent"] * 1000 + ["long"] * 1000 + ["recent"] * 500 + ["long"] * 500,
                      index=treated + control)
    ev = evaluate_campaign(log, treated=treated, control=control, start="1997-10-01", end="1997-11-30",
                           segments=bands, seed=1)
    frame = lapsed.copy()
    frame["band"] = np.where(frame["days_since_last_purchase"] < 240, "recent", "long")
    out = _targets(frame, models, uplift=ev, segment_col="band", include_rejected=True)
    for band in ("recent", "long"):
        mine = frame.loc[out.index, "band"].to_numpy() == band
        assert out.loc[mine, "uplift"].mean() == pytest.approx(ev.table.loc[band, "uplift"], rel=1e-9)
    equal = _targets(frame, models, uplift=ev, segment_col="band", allocate_uplift="equal",
                     include_rejected=True)
    reachable = equal["p_alive"] - equal["baseline_response"]  # P(alive and no purchase in the window)
    target = frame.loc[equal.index, "band"].map(ev.table["uplift"])
    np.testing.assert_allclose(equal["uplift"], np.minimum(target, reachable), rtol=1e-9)
    frame.loc[frame.index[:3], "band"] = "unheard of"
    with pytest.raises(DataError, match=r"3 rows \(e\.g\. .*segment .*did not measure"):
        _targets(frame, models, uplift=ev, segment_col="band")
    with pytest.raises(DataError, match="segment_col 'nope' is not a column"):
        _targets(frame, models, uplift=ev, segment_col="nope")


def test_same_seed_same_list(lapsed, models):
    a = _targets(lapsed, models, budget=200.0, seed=5)
    b = _targets(lapsed, models, budget=200.0, seed=5)
    pd.testing.assert_frame_equal(a, b)


def test_returned_customer_is_dropped_from_the_remaining_steps(lapsed, models):
    """A customer who buys after the campaign list was made is reported as returned and gets none of
    the remaining steps; the others stay in the sequence."""
    campaign = _targets(lapsed, models, budget=8.0)
    meta = campaign.attrs["clvmodels"]["campaign"]
    assert meta["list_date"] == "1997-09-30" and meta["start"] == "1997-10-01"
    first, second = campaign.index[:2]
    later = pd.DataFrame({"customer_id": [first, second], "date": pd.to_datetime(["1997-10-05", "1997-09-01"]),
                          "sales": [30.0, 12.0]})
    status = sequence_status(campaign, later, as_of="1997-10-08")
    assert len(status) == 10
    assert status.loc[first, "status"] == "returned"
    assert status.loc[first, "steps_sent"] == 1
    assert status.loc[first, "steps_cancelled"] == "email (1997-10-11)"
    assert status.loc[second, "status"] == "in_sequence"  # its purchase predates the list
    assert (status.drop(index=first)["next_step"] == "email").all()


@pytest.mark.parametrize("kw, message", [
    ({"budget": 0}, "budget must be a positive amount"),
    ({"budget": -10.0}, "budget must be a positive amount"),
    ({"candidates": [1, 2, 999_999]}, r"unknown customer ids.*999999"),
    ({"uplift": 1.5}, r"uplift must be a probability in \(0, 1\]"),
    ({"uplift": 0.0}, r"uplift must be a probability in \(0, 1\]"),
    ({"uplift": None}, "give exactly one of uplift"),
    ({"response_with_contact": 0.1}, "give exactly one of uplift"),
    ({"segment_col": "channel"}, "segment_col needs uplift=<evaluate_campaign"),
    ({"allocate_uplift": "all"}, r"allocate_uplift must be one of \['alive_non_buyers', 'equal'\]"),
    ({"horizon": 4}, "must be longer than the response window"),
    ({"response_window": 0}, "response_window must be a positive number"),
    ({"min_return": 1.0, "sequence": [("email", 0.0, 0)]}, "this one is free"),
    ({"margin": 3.0}, "margin must be a gross-margin rate"),
    ({"sequence": []}, "at least one step"),
])
def test_bad_settings_are_refused(lapsed, models, kw, message):
    with pytest.raises(DataError, match=message):
        _targets(lapsed, models, **kw)


def test_needs_the_lapsed_frame_and_matching_units(cdnow, lapsed, models):
    bg, gg = models
    with pytest.raises(DataError, match="output of lapsed_customers"):
        winback_targets(cdnow, bg, gg, uplift=0.05, sequence=SEQ, margin=0.3)
    days = lapsed.copy()
    days.attrs = {"clvmodels": {**lapsed.attrs["clvmodels"], "time_unit": "D"}}
    with pytest.raises(DataError, match="fitted in time unit 'W'"):
        winback_targets(days, bg, gg, uplift=0.05, sequence=SEQ, margin=0.3)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::clvmodels.ConvergenceWarning")  # short chains, on purpose
def test_bayesian_models_give_the_same_ranking_as_mle(cdnow, lapsed, models):
    """With posterior draws (short NUTS runs) the values are posterior means; on CDNOW they agree
    with the MLE plug-in values (correlation 0.9997, median ratio 0.986 when measured)."""
    bayes = tuple(cls(method="bayes", chains=2, draws=300, tune=300, seed=1).fit(cdnow)
                  for cls in (BetaGeoModel, GammaGammaModel))
    b = _targets(lapsed, bayes, include_rejected=True)
    m = _targets(lapsed, models, include_rejected=True).reindex(b.index)
    assert np.corrcoef(b["expected_value"], m["expected_value"])[0, 1] > 0.99
    assert np.median(b["value_if_returned"] / m["value_if_returned"]) == pytest.approx(1.0, abs=0.05)
    assert (b["expected_value_lower"] <= b["expected_value"]).all()
    assert (b["expected_value"] <= b["expected_value_upper"]).all()
