"""Spend-per-transaction models, described the way the Bayesian engine and the optimiser need them.

A spend model is not a purchase family (it has no dropout process and no alive branch), so it is a
smaller descriptor: identity, the log-likelihood with gradient on distinct rows with counts, a
start point, and the optional :class:`~clvmodels.families.bayes_hooks.BayesHooks`. The formulas
live in :mod:`clvmodels.formulas.gammagamma`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from clvmodels.families.bayes_hooks import NO_HOOKS, BayesHooks
from clvmodels.families.mixing import Mixing
from clvmodels.formulas import gammagamma


@dataclass(frozen=True)
class SpendFamily:
    """One spend model (see the module docstring).

    Attributes
    ----------
    name, label, reference : str
        Identifier, name for people, and the paper implemented.
    param_names : tuple of str
        Parameters in the order of the log-parameter vector.
    history_columns : tuple of str
        Summary columns the likelihood reads, in the order the functions take them.
    example_params : mapping of str to float
        A typical point (the published CDNOW fit).
    neg_log_likelihood_and_grad : (log_params, *history, weights) -> (float, ndarray (k,))
        Minus the weighted total log-likelihood of the rows ``fit_rows`` keeps, and its gradient
        with respect to the log-parameters.
    start : (*history, weights) -> ndarray (k,)
        Starting log-parameters for the optimiser.
    bayes : BayesHooks
    heterogeneity : tuple of Mixing
        How customers' spending differs (see :mod:`clvmodels.families.mixing`); empty when not
        described.
    """

    name: str
    label: str
    param_names: tuple[str, ...]
    history_columns: tuple[str, ...]
    reference: str
    example_params: Mapping[str, float]
    neg_log_likelihood_and_grad: Callable
    start: Callable
    bayes: BayesHooks = NO_HOOKS
    heterogeneity: tuple[Mixing, ...] = ()

    def __repr__(self) -> str:
        return f"SpendFamily({self.name!r}: {self.label}, parameters {list(self.param_names)})"


def _gg_start(x, mbar, weights):
    """p = 1, q = 2 and gamma at the weighted mean spend (the MLE fit's start)."""
    return np.log([1.0, 2.0, float(np.sum(weights * mbar) / weights.sum())])


def _gg_fast_kernel(x, mbar, weights, segment, n_segments):
    from clvmodels.inference.bayes import fast_loglik

    rows = fast_loglik.prepare_gammagamma(x, mbar, weights, segment, n_segments)
    return fast_loglik.gammagamma_loglik_grad, rows.args()


def _gg_pytensor(params, x, mbar):
    from clvmodels.inference.bayes.pytensor_loglik import gammagamma_loglik

    return gammagamma_loglik(params["p"], params["q"], params["gamma"], x, mbar)


GAMMAGAMMA = SpendFamily(
    name="gammagamma",
    label="Gamma-Gamma",
    param_names=gammagamma.PARAM_NAMES,
    history_columns=("frequency", "monetary_value"),
    reference="Fader & Hardie (2013), The Gamma-Gamma model of monetary value",
    example_params={"p": 6.25, "q": 3.74, "gamma": 15.44},  # CDNOW, 946 repeat buyers
    neg_log_likelihood_and_grad=gammagamma.neg_log_likelihood_and_grad,
    start=_gg_start,
    bayes=BayesHooks(
        # shapes Normal(0, 2.5) on the log scale, gamma (money) centred on the mean spend
        default_priors={"p": (0.0, 2.5), "q": (0.0, 2.5), "gamma": (None, 3.0)},
        prior_scale=lambda x, mbar, weights: float(np.average(mbar, weights=weights)),
        positive_columns=("frequency", "monetary_value"),
        fit_rows=lambda x, mbar: x > 0,
        fit_rows_meaning="repeat buyers (frequency > 0)",
        fast_kernel=_gg_fast_kernel,
        pytensor_log_likelihood=_gg_pytensor,
    ),
    # FH 2013 eq. 1-2: the mean spend p / nu with nu ~ Gamma(q, gamma) is inverse-Gamma(q, p gamma)
    heterogeneity=(
        Mixing("Mean spend per transaction (p / nu)", "{money}Mean spend per transaction",
               "inverse_gamma", ("p", "q", "gamma"),
               arguments=lambda params: (params["q"], params["p"] * params["gamma"])),
    ),
)

_SPEND = {"gammagamma": GAMMAGAMMA}


def spend_model_names() -> list[str]:
    """Names of every spend model."""
    return sorted(_SPEND)


def get_spend_model(name: str) -> SpendFamily:
    """The spend model called ``name`` (DataError listing the names otherwise)."""
    from clvmodels.errors import check_choice

    check_choice("spend model", name, spend_model_names())
    return _SPEND[name]
