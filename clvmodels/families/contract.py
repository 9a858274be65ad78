"""The purchase-model family contract: what every latent-attrition model provides, as pure functions.

Every model family of the package (BG/NBD today; Pareto/NBD, MBG/NBD, BG/BB and sBG next) is one
:class:`PurchaseFamily`: a name, its parameters, the summary columns it reads, and a small set of
pure array functions. Predictions with both interval kinds, customer value, win-back targeting,
export, Spark scoring, persistence and the CLI are to be written once against this contract and
never ask which family they hold (compare CLVTools' per-model strategy objects).

Every latent-attrition model factorises the same way::

    E[future | history] = P(alive | history) x E[future | alive, key]

where the *alive key* is a short part of the history (``(frequency, T)`` for BG/NBD, MBG/NBD and
Pareto/NBD: given alive, the recency no longer matters; ``(frequency, n)`` for BG/BB; the tenure
for sBG). Functions of the alive branch take the key columns only, so callers may evaluate them
once per distinct key (a few thousand for a million customers) and gather.

Conventions shared by every function of a family:

* ``params`` maps each name of ``param_names`` to an array broadcasting over a leading axis of
  parameter draws: shape (S, 1) with customer arrays of shape (n,) gives (S, n); scalars work.
* ``history`` arrays come positionally in the order of ``history_columns``, ``key`` arrays in the
  order of ``alive_key``; times are in the summary's time unit; nothing validates its input.
* ``discount_rate`` is per time unit: a cash flow ``s`` units ahead is worth ``(1 + d) ** -s``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from clvmodels.families.bayes_hooks import NO_HOOKS, BayesHooks
from clvmodels.families.mixing import Mixing

Params = Mapping[str, np.ndarray]


def on_params(function: Callable, names: tuple[str, ...]) -> Callable:
    """A contract function from a formula taking the parameters positionally first:
    ``on_params(f, ("r", "alpha"))(params, *rest) == f(params["r"], params["alpha"], *rest)``,
    the adapter every family module would otherwise write out by hand."""
    def adapted(params: Params, *rest):
        return function(*(params[name] for name in names), *rest)

    adapted.__name__ = adapted.__qualname__ = getattr(function, "__name__", "adapted")
    adapted.__doc__ = function.__doc__
    return adapted


@dataclass(frozen=True)
class PurchaseFamily:
    """One purchase-and-dropout model family, as pure functions (see the module docstring).

    Identity
    --------
    name : str
        Short identifier used in files, the CLI and run metadata (e.g. ``"bgnbd"``).
    label : str
        Name for people (e.g. ``"BG/NBD"``).
    param_names : tuple of str
        Population parameters, in the order of the log-parameter vector of the fit.
    history_columns : tuple of str
        Summary columns that make up a customer's history (e.g. frequency, recency, T).
    alive_key : tuple of str
        The part of the history the alive branch depends on.
    reference : str
        The paper the formulas implement.
    example_params : mapping of str to float
        A typical point (e.g. the published CDNOW fit), for tests, docs and examples.
    discrete_time : bool
        True for models of discrete purchase opportunities (BG/BB): the time unit is one
        opportunity, horizons count whole opportunities, histories are whole numbers, discounting
        is per opportunity and the discounted alive time is a sum over the coming opportunities.

    Fitting
    -------
    neg_log_likelihood_and_grad : (log_params, *history, weights) -> (float, ndarray (k,))
        Minus the total log-likelihood of distinct rows with ``weights`` (counts), and its gradient
        with respect to the log-parameters.
    start : (*history, weights) -> ndarray (k,)
        A starting point (log-parameters) for the optimiser.

    Prediction
    ----------
    p_alive : (params, *history) -> P(alive at T | history)
    survival_if_alive : (params, *key, t) -> P(alive at T + t | alive at T)
    expected_purchases_if_alive : (params, *key, t) -> E[purchases in (T, T+t] | alive at T]
    expected_discounted_purchases_if_alive : (params, *key, horizon, discount_rate)
    discounted_alive_time_if_alive : (params, *key, horizon, discount_rate)
        ``int_0^H P(alive at T+s | alive at T) (1+d)^-s ds``, in time units.
    prob_no_purchase : (params, *history, t) -> P(no purchase in (T, T+t] | history)
    purchase_probability : (params, *history, t, n) -> P(n purchases in (T, T+t] | history)
    expected_purchases_new : (params, t) -> E[repeat purchases in (0, t]] of a new customer

    Individual level
    ----------------
    sample_latents : (rng, params, *history) -> dict of ndarray
        Latent traits drawn from each customer's exact posterior (always including ``alive``).
    simulate_purchases : (rng, latents, t) -> ndarray of int64
        Purchase counts in the next ``t`` time units of customers with those traits.
    simulate_future : (rng, params, *history, horizon, discount_rate, *, spend_shape=None, \
nu_shape=None, nu_rate=None) -> FuturePurchases
        One future per parameter draw and customer with its timing, for predictive value:
        :class:`~clvmodels.formulas.future_simulation.FuturePurchases` of ``count``,
        ``discounted_count`` (``sum_k (1+d)^-s_k``), ``alive_time``, ``discounted_alive_time``
        (``int`` over the time alive of ``(1+d)^-s``; for discrete-time families ``sum_{k=1}^{J}
        (1+d)^-k`` over the J coming opportunities alive) and, given the Gamma-Gamma spend shape
        and each customer's spend-rate posterior ``nu ~ Gamma(nu_shape, rate nu_rate)``,
        ``discounted_spend`` (else None). Latents from the exact individual posterior; the
        means are the closed forms' (``p_alive`` x the alive-branch functions).

    Population simulation (optional)
    --------------------------------
    simulate_histories : (rng, params, T) -> (history, latents), or None
        New customers drawn from the population at one parameter point (``params`` maps each
        name to a float): latents from the mixing distributions, then purchases up to each
        customer's observation length ``T`` (ndarray (n,), the last history column: time units
        after the first purchase, or whole opportunities for discrete-time families), in the
        model's own time (continuous for continuous-time families: exact times, no day rounding
        or merging; per opportunity for discrete-time ones). ``history`` is the tuple of history
        arrays in the order of ``history_columns`` (``T`` last, unchanged); ``latents`` are the
        true traits at the end of observation in the form ``simulate_purchases`` takes (``alive``
        at T and the rates or probabilities), so ``simulate_purchases(rng, latents, t)`` draws
        each customer's true future: the oracle of parameter-recovery and calibration tests.

    Bayesian extras (optional)
    --------------------------
    bayes : BayesHooks
        Priors, a fused numba kernel and a PyTensor log-likelihood, each optional (see
        :mod:`clvmodels.families.bayes_hooks`); without them the Bayesian engine falls back on
        ``neg_log_likelihood_and_grad`` and priors centred on ``start``.

    Description (optional)
    ----------------------
    heterogeneity : tuple of Mixing
        The distributions the family mixes over (how customers differ), each a
        :class:`~clvmodels.families.mixing.Mixing`; empty when not described.
    """

    name: str
    label: str
    param_names: tuple[str, ...]
    history_columns: tuple[str, ...]
    alive_key: tuple[str, ...]
    reference: str
    example_params: Mapping[str, float]
    neg_log_likelihood_and_grad: Callable
    start: Callable
    p_alive: Callable
    survival_if_alive: Callable
    expected_purchases_if_alive: Callable
    expected_discounted_purchases_if_alive: Callable
    discounted_alive_time_if_alive: Callable
    prob_no_purchase: Callable
    purchase_probability: Callable
    expected_purchases_new: Callable
    sample_latents: Callable
    simulate_purchases: Callable
    simulate_future: Callable
    bayes: BayesHooks = NO_HOOKS
    discrete_time: bool = False
    heterogeneity: tuple[Mixing, ...] = ()
    simulate_histories: Callable | None = None

    def key_of(self, *history):
        """The alive-key arrays picked out of the history arrays (same order as ``alive_key``)."""
        by_name = dict(zip(self.history_columns, history))
        return tuple(by_name[column] for column in self.alive_key)

    def alive_history(self, *key):
        """The history with this alive key whose last purchase falls at the end of observation
        (recency = age; ``history_columns`` read frequency, recency, age): P(alive) is bounded
        away from 0 there, so alive-branch quantities derived from functions of the history (e.g.
        P(no purchase in a window | alive at T) from ``prob_no_purchase``) divide out exactly."""
        by_name = dict(zip(self.alive_key, key))
        return tuple(by_name.get(column, key[-1]) for column in self.history_columns)

    def prob_no_purchase_if_alive(self, params: Params, *key_and_t):
        """P(no purchase in (T, T+t] | alive at T, key): a function of the alive key only, so
        callers evaluate it once per distinct key. From ``prob_no_purchase`` at
        :meth:`alive_history`, where ``P0 = (1 - P(alive)) + P(alive) q`` is solved for ``q``."""
        *key, t = key_and_t
        history = self.alive_history(*key)
        alive = self.p_alive(params, *history)
        return (self.prob_no_purchase(params, *history, t) - (1.0 - alive)) / alive

    def purchase_probability_if_alive(self, params: Params, *key_t_n):
        """P(n purchases in (T, T+t] | alive at T, key), a function of the alive key only: for
        n >= 1 ``purchase_probability / P(alive)`` at :meth:`alive_history` (a customer gone at T
        buys nothing), for n = 0 :meth:`prob_no_purchase_if_alive`."""
        *key, t, n = key_t_n
        if n == 0:
            return self.prob_no_purchase_if_alive(params, *key, t)
        history = self.alive_history(*key)
        return self.purchase_probability(params, *history, t, n) / self.p_alive(params, *history)

    def aged(self, *history_and_t):
        """The history ``t`` time units (opportunities) later without a purchase: the age, the
        last of ``history_columns``, grows by ``t``; frequency and recency stay."""
        *history, t = history_and_t
        return (*history[:-1], history[-1] + t)

    def expected_purchases(self, params: Params, *history_and_t):
        """E[purchases in (T, T+t] | history] = P(alive) x the alive branch (history..., t)."""
        *history, t = history_and_t
        return self.p_alive(params, *history) * self.expected_purchases_if_alive(
            params, *self.key_of(*history), t)

    def p_alive_at(self, params: Params, *history_and_t):
        """P(alive at T + t | history) = P(alive) x survival if alive; 1 minus it is churn by T + t."""
        *history, t = history_and_t
        return self.p_alive(params, *history) * self.survival_if_alive(
            params, *self.key_of(*history), t)

    def __repr__(self) -> str:
        return f"PurchaseFamily({self.name!r}: {self.label}, parameters {list(self.param_names)})"
