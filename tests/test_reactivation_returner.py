"""The value of a returner (a purchase in the response window) against the individual posterior."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import hyp2f1

from clvmodels import BetaGeoModel, GammaGammaModel, lapsed_customers, winback_targets
from clvmodels.formulas import bgnbd, future_simulation, individual
from clvmodels.reactivation.returner import winback_values
from clvmodels.value.economics import Economics
from clvmodels.value.expected import future_margin


@pytest.fixture(scope="module")
def cdnow():
    from clvmodels.datasets import load_cdnow_summary

    return load_cdnow_summary()


@pytest.fixture(scope="module")
def models(cdnow):
    return BetaGeoModel().fit(cdnow), GammaGammaModel().fit(cdnow)


def _params(models):
    bg, gg = models
    return ({k: np.array([[v]]) for k, v in bg.params_.items()},
            {k: np.array([[v]]) for k, v in gg.params_.items()})


#: (x, t_x, T, mbar) in weeks: a one-time buyer lapsed 70 weeks (issue 14), FHL 2005's example
#: customer, a formerly frequent buyer silent for 28 weeks (P(alive) ~ 0.04), a steady buyer
HISTORIES = np.array([[0, 0.0, 70.0, 0.0], [2, 30.43, 38.86, 30.0], [10, 32.0, 60.0, 25.0],
                      [6, 35.0, 39.0, 50.0]])


@pytest.mark.parametrize("cost_to_serve", [0.0, 0.05])
def test_returners_and_non_buyers_add_up_to_the_future_margin(models, cost_to_serve):
    """Law of total expectation over "a purchase in the window or not":
    (1 - P0) V_return + P0 V_not = FM(x, t_x, T; H), with V_not = P(alive | no purchase) Vnot_alive,
    FM from the customer-value step and P0 from the model's P(no purchase): both independent of the
    route through the alive branch. Also with a cost to serve (charged while alive, the window's
    included)."""
    bg, gg = _params(models)
    econ = Economics(margin=0.3, horizon=104, discount_rate=0.1, cost_to_serve=cost_to_serve).resolve("W")
    x, t_x, T, mbar = HISTORIES.T
    w = 8.7
    v = winback_values(econ, bg, gg, x, t_x, T, mbar, w)
    p0 = bgnbd.prob_no_purchase(bg["r"], bg["alpha"], bg["a"], bg["b"], x, t_x, T, w)
    np.testing.assert_allclose(v.baseline, 1 - p0, rtol=1e-10)
    v_not = v.alive_non_buyer / p0 * v.value_if_not_alive
    fm, _ = future_margin(econ, bg, gg, x, t_x, T, mbar, with_alive_time=cost_to_serve > 0)
    np.testing.assert_allclose((1 - p0) * v.value_if_returned + p0 * v_not, fm, rtol=1e-9)
    assert np.all(v.value_if_returned > v.value_if_not_alive)


def _simulate(rng, bg, gg, history, econ, w, n):
    """n futures of one customer from their exact individual posterior: (margin over the horizon
    discounted to T, bought in the window, alive at T)."""
    x, t_x, T, mbar = (np.full(n, v) for v in history)
    r, alpha, a, b = (bg[k][0, 0] for k in ("r", "alpha", "a", "b"))
    p, q, gamma = (gg[k][0, 0] for k in ("p", "q", "gamma"))
    alive, lam, drop = individual.sample_bgnbd_latents(rng, r, alpha, a, b, x, t_x, T)
    nu = individual.sample_gg_nu(rng, p, q, gamma, x, mbar)
    d = econ.discount_rate
    first = future_simulation.simulate_discounted_purchases(rng, alive, lam, drop, w, d, spend_shape=p, nu=nu)
    # Poisson purchases and geometric dropout are memoryless: who is alive at T+w continues afresh
    alive_w = alive & (first.alive_time >= w)
    rest = future_simulation.simulate_discounted_purchases(rng, alive_w, lam, drop, econ.horizon - w, d,
                                                    spend_shape=p, nu=nu)
    margin = econ.margin * (first.discounted_spend + (1 + d) ** -w * rest.discounted_spend)
    margin -= econ.cost_to_serve * (first.discounted_alive_time + (1 + d) ** -w * rest.discounted_alive_time)
    return margin, first.count > 0, alive


def test_value_if_returned_matches_simulated_customers_who_buy_in_the_window(models):
    """Simulate 400,000 futures of each customer from the individual posterior
    (clvmodels.formulas.individual: lambda, p and nu drawn given the history, then purchases with
    their times and spends), keep those who buy in the 8.7-week window, and compare their mean
    discounted margin over 104 weeks (net of a cost to serve of 0.05 a week while alive) with
    V_return; likewise alive customers who do not buy with Vnot_alive, and the share who buy with
    the baseline. Tolerance: 4 standard errors of the simulated mean plus 0.3% (the quadrature is
    exact to ~1e-8)."""
    bg, gg = _params(models)
    econ = Economics(margin=0.3, horizon=104, discount_rate=0.1, cost_to_serve=0.05).resolve("W")
    w = 8.7
    x, t_x, T, mbar = HISTORIES.T
    v = winback_values(econ, bg, gg, x, t_x, T, mbar, w)
    rng = np.random.default_rng(2024)
    for i, history in enumerate(HISTORIES):
        margin, bought, alive = _simulate(rng, bg, gg, history, econ, w, 400_000)
        checks = ((margin[bought], v.value_if_returned[0, i]),
                  (margin[alive & ~bought], v.value_if_not_alive[0, i]))
        for sample, exact in checks:
            se = sample.std() / np.sqrt(sample.size)
            assert abs(sample.mean() - exact) < 4 * se + 3e-3 * abs(exact), (i, sample.mean(), exact, se)
        share, p = bought.mean(), v.baseline[0, i]
        assert abs(share - p) < 4 * np.sqrt(p * (1 - p) / bought.size) + 1e-4, (i, share, p)


def _one(x, t_x, T, mbar, last_purchase, only_lapsed=True):
    one = pd.DataFrame({"frequency": [x], "recency": [t_x], "T": [T], "monetary_value": [mbar],
                        "last_purchase": pd.to_datetime([last_purchase])}, index=pd.Index([7], name="customer_id"))
    one.attrs["clvmodels"] = {"time_unit": "W", "observation_end": "1997-09-30"}
    return lapsed_customers(one, window=182, only_lapsed=only_lapsed)


def test_value_of_one_returner_by_hand(models):
    """A one-time buyer first seen 70 weeks ago (issue 14, Why 4), margin 30%, 52 weeks, no
    discounting, a 60.87-day (8.696-week) window. By hand, with the CDNOW fit (r, alpha, a, b) and
    FHL 2005 eq. 10 divided by eq. 11 for E_alive(x, T, t), purchases in t given alive at T:

    * q = ((alpha+T)/(alpha+T+w))^(r+x): P(no purchase in the window | alive);
    * V_return = m s [E_alive(0, 70, 52) - q E_alive(0, 78.7, 43.3)] / (1 - q) with s = p gamma/(q_gg-1)
      the Gamma-Gamma population mean spend (x = 0), m = 0.3;
    * expected value = uplift x (V_return - m s E_alive(0, 78.7, 43.3)) - 0.8 with the whole uplift
      on this customer (alive with probability 1, P(no purchase) = q).

    Measured: q = 0.97354, V_return = 15.93 (one purchase alone is 0.3 x 35.17 = 10.55), value if
    not returned = 1.24, expected value at uplift 0.05: -0.066 (over a 10%-discounted lifetime
    instead: V_return 40.55, not returned 8.84, expected value 0.79)."""
    bg, gg = models
    r, alpha, a, b = bg.params_[["r", "alpha", "a", "b"]]
    p, q_gg, gamma = gg.params_[["p", "q", "gamma"]]
    w = 2 * 30.436875 / 7

    def e_alive(x, T, t):  # FHL 2005 eq. 10 / eq. 11 at t_x = T (x = 0: P(alive) = 1)
        z = t / (alpha + T + t)
        return (a + b + x - 1) / (a - 1) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x)
                                             * hyp2f1(r + x, b + x, a + b + x - 1, z))

    s = p * gamma / (q_gg - 1)
    q = ((alpha + 70) / (alpha + 70 + w)) ** r
    v_ret = 0.3 * s * (e_alive(0, 70, 52) - q * e_alive(0, 70 + w, 52 - w)) / (1 - q)
    v_not = 0.3 * s * e_alive(0, 70 + w, 52 - w)
    out = winback_targets(_one(0, 0.0, 70.0, 0.0, "1996-05-28"), bg, gg, uplift=0.05,
                          sequence=[("letter", 0.8, 0)], margin=0.3, horizon=52, discount_rate=0.0,
                          n_draws=50, include_rejected=True).iloc[0]
    assert out["baseline_response"] == pytest.approx(1 - q, rel=1e-9)
    assert out["value_if_returned"] == pytest.approx(v_ret, rel=1e-7)
    assert out["value_if_not_returned"] == pytest.approx(v_not, rel=1e-7)
    assert out["uplift"] == pytest.approx(0.05, rel=1e-12)
    assert out["expected_value"] == pytest.approx(0.05 * (v_ret - v_not) - 0.8, rel=1e-7)
    assert out["value_if_returned"] > 0.3 * s  # the returning purchase is counted
    assert out["value_if_returned_lower"] < v_ret < out["value_if_returned_upper"]


def test_stable_where_p_alive_underflows(models):
    """400 purchases in the first 10 weeks and none in the 300 since: P(alive) = 0 in floating
    point. The value if they return is finite, positive and the same as for that history with the
    last purchase at T (it conditions on being alive); no uplift can reach them; the contact is
    pure cost."""
    bg, gg = models
    settings = dict(uplift=0.05, sequence=[("letter", 0.8, 0)], margin=0.3, horizon=520,
                    discount_rate=0.1, n_draws=30, include_rejected=True)
    with pytest.warns(UserWarning, match="fewer alive non-buyers than the uplift needs"):
        gone = winback_targets(_one(400, 10.0, 310.0, 20.0, "1992-01-01"), bg, gg, **settings).iloc[0]
    assert gone["p_alive"] == 0.0 and gone["baseline_response"] == 0.0
    assert np.isfinite(gone["value_if_returned"]) and gone["value_if_returned"] > 0
    assert gone["uplift"] == 0.0 and gone["expected_value"] == pytest.approx(-0.8)
    recent = _one(400, 310.0, 310.0, 20.0, "1997-09-30", only_lapsed=False)
    recent["lapsed"], recent["lapsed_reason"] = True, "test"
    with pytest.warns(UserWarning, match="fewer alive non-buyers"):  # it buys anyway: q = 2e-5
        alive = winback_targets(recent, bg, gg, **settings).iloc[0]
    assert gone["value_if_returned"] == pytest.approx(alive["value_if_returned"], rel=1e-9)
