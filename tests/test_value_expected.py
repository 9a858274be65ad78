"""Expected discounted value for given parameters: quadrature, composition of the formulas."""

import numpy as np
import pytest
from scipy.integrate import quad

from clvmodels.formulas import bgnbd, gammagamma
from clvmodels.value.economics import Economics
from clvmodels.value.expected import (
    discounted_alive_time,
    discounted_alive_time_if_alive,
    future_margin,
    new_customer_value,
)

CDNOW_BG = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
CDNOW_GG = {"p": 6.25, "q": 3.74, "gamma": 15.44}


@pytest.mark.parametrize(
    "params, x, t_x, T, horizon, rate",
    [
        (CDNOW_BG, 2, 30.43, 38.86, 39.0, 0.0),
        (CDNOW_BG, 0, 0.0, 0.0, 5218.0, 0.0018),        # a new customer, a century of weeks
        (CDNOW_BG, 10, 38.0, 38.86, np.inf, 0.0018),
        (CDNOW_BG, 0, 0.0, 38.86, 5218.0, 0.0),         # undiscounted century
        ({"r": 2.0, "alpha": 10.0, "a": 1.0001, "b": 3.0}, 200, 300.0, 310.0, 520.0, 0.002),
        ({"r": 0.5, "alpha": 3.0, "a": 0.3, "b": 0.4}, 5, 600.0, 700.0, 36500.0, 0.0003),
        ({"r": 3.0, "alpha": 1.0, "a": 5.0, "b": 1.0}, 1000, 3600.0, 3650.0, 3650.0, 0.0003),
    ],
)
def test_discounted_alive_time_matches_adaptive_quadrature(params, x, t_x, T, horizon, rate):
    """E[A] = int_0^H P(alive at T+s) (1+d)^-s ds, checked against scipy.integrate.quad of
    bgnbd.p_alive_at to 1e-7 relative (the rule is documented as ~1e-8)."""
    P = tuple(params.values())
    got = float(discounted_alive_time(*P, x, t_x, T, horizon, rate))
    end = horizon if np.isfinite(horizon) else 40 / np.log1p(rate)
    ref = quad(lambda s: float(bgnbd.p_alive_at(*P, x, t_x, T, s)) * (1 + rate) ** -s, 0, end,
               limit=1000, epsabs=0, epsrel=1e-12)[0]
    assert got == pytest.approx(ref, rel=1e-7)


def test_undiscounted_alive_time_is_consistent_with_purchases_when_rates_are_fixed():
    """With a near-degenerate purchase rate lambda = 1 (r = alpha = 1e3 rounds alive time to the
    number of purchases made) the expected alive time over a century equals E[1/p] purchases:
    (a + b - 1)/(a - 1) = 4 for a = 21, b = 60 (Beta moments)."""
    params = (1000.0, 1000.0, 21.0, 60.0)
    assert float(discounted_alive_time_if_alive(*params, 0.0, 0.0, 100.0, 0.0)) == pytest.approx(
        4.0, rel=2e-3)


def _customers():
    x = np.array([0, 0, 1, 3, 3, 3, 12, 40], float)
    T = np.array([10, 38, 20, 38, 38, 30, 38, 38], float)
    t_x = np.array([0, 0, 5, 10, 37, 29, 30, 38], float)
    mbar = np.array([0, 0, 12.0, 30.0, 30.0, 18.0, 25.0, 40.0])
    return x, t_x, T, mbar


def _draws(seed, S=5):
    rng = np.random.default_rng(seed)
    bg = {k: v * np.exp(rng.normal(0, 0.1, (S, 1))) for k, v in CDNOW_BG.items()}
    gg = {k: v * np.exp(rng.normal(0, 0.05, (S, 1))) for k, v in CDNOW_GG.items()}
    return bg, gg


def test_undiscounted_future_margin_is_margin_times_purchases_times_spend():
    """With no discounting E[D] is the expected number of purchases (FHL 2005 eq. 10, computed by
    a different route in bgnbd.expected_purchases) and E[spend] the Gamma-Gamma conditional mean
    (Fader & Hardie 2013 eq. 5); repeated histories share work and must not change the result."""
    bg, gg = _draws(1)
    x, t_x, T, mbar = _customers()
    econ = Economics(margin=0.3, horizon=39, discount_rate=0.0, cost_per_transaction=2.0).resolve("W")
    margin, alive = future_margin(econ, bg, gg, x, t_x, T, mbar, with_alive_time=False)
    P = (bg["r"], bg["alpha"], bg["a"], bg["b"])
    expected = bgnbd.expected_purchases(*P, x, t_x, T, 39.0) * (
        0.3 * gammagamma.expected_spend(gg["p"], gg["q"], gg["gamma"], x, mbar) - 2.0)
    assert alive is None and margin.shape == (5, 8)
    np.testing.assert_allclose(margin, expected, rtol=1e-8)


def test_cost_to_serve_is_charged_on_discounted_alive_time():
    bg, gg = _draws(2)
    x, t_x, T, mbar = _customers()
    kwargs = dict(margin=0.3, horizon="lifetime", discount_rate=0.1)
    econ = Economics(**kwargs).resolve("W")
    served = Economics(**kwargs, cost_to_serve=0.5).resolve("W")
    base, _ = future_margin(econ, bg, gg, x, t_x, T, mbar, with_alive_time=False)
    net, alive = future_margin(served, bg, gg, x, t_x, T, mbar, with_alive_time=True)
    P = (bg["r"], bg["alpha"], bg["a"], bg["b"])
    direct = discounted_alive_time(*P, x, t_x, T, served.horizon, served.discount_rate)
    np.testing.assert_allclose(alive, direct, rtol=1e-12)
    np.testing.assert_allclose(net, base - 0.5 * direct, rtol=1e-10)
    # discounting: the customer alive for sure (x = 0) is worth at most 1/ln(1+d) periods
    assert np.all(alive < 1 / np.log1p(served.discount_rate))


def test_new_customer_value_counts_the_first_purchase_and_the_repeat_ones():
    """Undiscounted, a new customer is worth margin x population mean spend x (1 + E[X(t)]) with
    E[X(t)] from FHL 2005 eq. 9 (bgnbd.expected_purchases_new)."""
    bg, gg = _draws(3)
    econ = Economics(margin=0.4, horizon=52, discount_rate=0.0).resolve("W")
    value = new_customer_value(econ, bg, gg)
    P = (bg["r"], bg["alpha"], bg["a"], bg["b"])
    spend = gammagamma.population_mean_spend(gg["p"], gg["q"], gg["gamma"])
    np.testing.assert_allclose(value, 0.4 * spend * (1 + bgnbd.expected_purchases_new(*P, 52.0)),
                               rtol=1e-8)
    # horizons as a column with point parameters give one row per horizon
    point = {k: np.array([[v]]) for k, v in CDNOW_BG.items()}
    spend_point = {k: np.array([[v]]) for k, v in CDNOW_GG.items()}
    curve = new_customer_value(econ, point, spend_point, horizon=np.array([[0.0], [10.0], [52.0]]))
    assert curve.shape == (3, 1)
    assert curve[0, 0] == pytest.approx(0.4 * 6.25 * 15.44 / 2.74)  # the first purchase alone
    assert curve[0, 0] < curve[1, 0] < curve[2, 0]


def test_new_customer_value_without_the_first_purchase_when_costs_net_it_out():
    """Economics(first_purchase="excluded"): the break-even cost follows the same accounting as
    the margin to date, so a new customer is worth the repeat purchases only,
    margin x mean spend x E[X(t)] (FHL 2005 eq. 9), i.e. one first-purchase margin less."""
    bg, gg = _draws(3)
    settings = dict(margin=0.4, horizon=52, discount_rate=0.0)
    with_first = new_customer_value(Economics(**settings).resolve("W"), bg, gg)
    without = new_customer_value(Economics(**settings, first_purchase="excluded").resolve("W"),
                                 bg, gg)
    P = (bg["r"], bg["alpha"], bg["a"], bg["b"])
    spend = gammagamma.population_mean_spend(gg["p"], gg["q"], gg["gamma"])
    np.testing.assert_allclose(without, 0.4 * spend * bgnbd.expected_purchases_new(*P, 52.0),
                               rtol=1e-8)
    np.testing.assert_allclose(with_first - without, 0.4 * spend, rtol=1e-12)
