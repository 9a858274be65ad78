"""What a model family may give the Bayesian engine beyond the contract: priors and fast kernels.

Every field is optional. A family without any of them is still sampled by
:func:`clvmodels.inference.bayes.fit_family_bayes`: the engine then builds its log density from the
family's numpy ``neg_log_likelihood_and_grad`` (the generic fallback) and centres a Normal(., 3)
prior of each log-parameter on the family's own ``start`` point. The hooks exist to make a family
faster (a fused numba kernel), checkable against PyMC (a PyTensor log-likelihood), or to give it
priors chosen for its parameters.

This module is a leaf: it imports nothing of the package, and the callables it holds import the
heavy libraries (numba, PyTensor) only when called.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class BayesHooks:
    """Optional Bayesian extras of a model family.

    Attributes
    ----------
    default_priors : mapping of str to (float or None, float), optional
        ``{name: (mu, sigma)}`` of a normal prior on ``log(name)``, one entry per parameter. A
        ``mu`` of None means "centred on the data's scale", ``log(prior_scale(...))``.
    prior_scale : (*history, weights) -> float, optional
        The data's scale (e.g. the weighted mean age ``T``, in time units), needed when a
        ``default_priors`` mean is None.
    positive_columns : tuple of str
        History columns that must be > 0 (the others must be >= 0); rows breaking this are refused
        before fitting.
    fit_rows : (*history) -> ndarray of bool, optional
        Which rows the model is fitted on (e.g. Gamma-Gamma: repeat buyers only); all when None.
    fit_rows_meaning : str
        Those rows in words, for the error when none is left (e.g. "repeat buyers (frequency > 0)").
    fast_kernel : (*history, weights, segment, n_segments) -> (kernel, args), optional
        A compiled log-likelihood: ``kernel(log_theta, *args) -> (loglik, grad)`` with
        ``log_theta`` of shape (n_segments, k) (one row when pooled; ``segment`` is None then) and
        the gradient of the weighted total log-likelihood with respect to it, shape
        (n_segments, k). It must release the GIL to run chains in parallel.
    pytensor_log_likelihood : (params, *history) -> tensor, optional
        Elementwise log-likelihood in PyTensor; ``params`` maps names to PyTensor variables that
        broadcast with the history arrays. Enables ``sampler="pymc"`` and ``"advi"``.
    """

    default_priors: Mapping[str, tuple] | None = None
    prior_scale: Callable | None = None
    positive_columns: tuple[str, ...] = ()
    fit_rows: Callable | None = None
    fit_rows_meaning: str = ""
    fast_kernel: Callable | None = None
    pytensor_log_likelihood: Callable | None = None


#: hooks of a family that provides none (the engine's generic fallback throughout)
NO_HOOKS = BayesHooks()
