"""The shifted-beta-geometric subscription model, described the way the optimiser and the Bayesian
engine need it.

The sBG is not a purchase family (its history is a tenure, renewals and whether the subscriber
has left, not a purchase record), so, like the spend models of :mod:`clvmodels.families.spend`,
it is a small descriptor: identity, the log-likelihood with gradient on distinct rows with
counts, a start point and :class:`~clvmodels.families.bayes_hooks.BayesHooks`. That is all
:func:`clvmodels.inference.bayes.fit_family_bayes` reads, so the sBG samples with nutpie through
the engine's generic numpy kernel (a handful of distinct rows: a cohort of any size has at most
one row per tenure) and with PyMC through the PyTensor likelihood below. The formulas live in
:mod:`clvmodels.formulas.sbg`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from clvmodels.families.bayes_hooks import BayesHooks
from clvmodels.formulas import sbg


@dataclass(frozen=True)
class SubscriptionFamily:
    """A contractual (subscription) model; fields as :class:`clvmodels.families.spend.SpendFamily`.

    Attributes
    ----------
    name, label, reference : str
    param_names : tuple of str
        Parameters in the order of the log-parameter vector.
    history_columns : tuple of str
        Tenure-table columns the likelihood reads, in the order the functions take them.
    example_params : mapping of str to float
        A typical point (Fader & Hardie 2007's regular segment).
    neg_log_likelihood_and_grad : (log_params, *history, weights) -> (float, ndarray (k,))
    start : (*history, weights) -> ndarray (k,)
    bayes : BayesHooks
    """

    name: str
    label: str
    param_names: tuple[str, ...]
    history_columns: tuple[str, ...]
    reference: str
    example_params: Mapping[str, float]
    neg_log_likelihood_and_grad: Callable
    start: Callable
    bayes: BayesHooks

    def __repr__(self) -> str:
        return f"SubscriptionFamily({self.name!r}: {self.label}, parameters {list(self.param_names)})"


def _start(renewals, churned, weights):
    """alpha = beta = 1 (theta uniform): the FH 2007 cohorts converge from it in a few steps."""
    return np.zeros(2)


def _pytensor_loglik(params, renewals, churned):
    """Elementwise sBG log-likelihood in PyTensor, the same terms as
    :func:`clvmodels.formulas.sbg.log_likelihood` (FH 2007 eq. 6 per customer)."""
    import pytensor.tensor as pt

    def betaln(a, b):
        return pt.gammaln(a) + pt.gammaln(b) - pt.gammaln(a + b)

    alpha, beta = params["alpha"], params["beta"]
    left = betaln(alpha + 1.0, beta + renewals)
    stayed = betaln(alpha, beta + renewals)
    return pt.switch(churned > 0.5, left, stayed) - betaln(alpha, beta)


SBG = SubscriptionFamily(
    name="sbg",
    label="shifted-beta-geometric",
    param_names=sbg.PARAM_NAMES,
    history_columns=("renewals", "churned"),
    reference="Fader & Hardie (2007), How to project customer retention",
    example_params={"alpha": 0.704, "beta": 1.182},
    neg_log_likelihood_and_grad=sbg.neg_log_likelihood_and_grad,
    start=_start,
    bayes=BayesHooks(
        # both are shapes of the Beta distribution of the leaving probability: Normal(0, 2.5) on
        # the log scale (median 1, 95% within 0.007-130), proper along the ridge alpha, beta -> inf
        # with alpha / (alpha + beta) fixed (no heterogeneity), which a flat prior would not be
        default_priors={"alpha": (0.0, 2.5), "beta": (0.0, 2.5)},
        pytensor_log_likelihood=_pytensor_loglik,
    ),
)
