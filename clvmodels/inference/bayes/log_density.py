"""The log posterior density on an unconstrained vector, with its gradient, for the fast path.

The log-likelihood comes from the family: its fused numba kernel when it has one
(:class:`~clvmodels.families.bayes_hooks.BayesHooks` ``fast_kernel``), else the generic kernel of
:mod:`.fallback` built from its numpy ``neg_log_likelihood_and_grad``; the priors and the
hierarchical layout below are the same for both.

Pooled model (k parameters): ``u = log(theta)``, shape (k,), prior ``u_j ~ Normal(mu_j, sd_j)``.
Model pooled by segment: the layout of :mod:`.hierarchical`.

The density, with all normalising constants, equals the log density PyMC computes for the
reference model of :mod:`.pytensor_loglik` at the same point (tests/test_bayes_loglik.py checks
value and gradient).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numba
import numpy as np

from clvmodels.inference.bayes import hierarchical
from clvmodels.inference.bayes.fallback import NumpyKernel
from clvmodels.inference.bayes.fast_math import SCALAR_JIT
from clvmodels.inference.bayes.priors import prior_arrays
from clvmodels.inference.bayes.spec import ModelSpec

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


@numba.njit(**SCALAR_JIT)
def pooled_prior_and_chain_rule(u, grad_log_theta, prior_mu, prior_sd):
    """Normal log prior on the log-parameters, and d log posterior / d u."""
    grad = np.empty(u.size)
    lp = 0.0
    for j in range(u.size):
        dev = (u[j] - prior_mu[j]) / prior_sd[j]
        lp += -0.5 * dev * dev - math.log(prior_sd[j]) - _LOG_SQRT_2PI
        grad[j] = grad_log_theta[0, j] - dev / prior_sd[j]
    return lp, grad


@dataclass(frozen=True)
class LogDensity:
    """Log posterior density of a :class:`ModelSpec` on the unconstrained vector.

    Call it with ``u`` of shape (n_dim,) to get ``(logp, grad)``; :meth:`expand` turns ``u`` into
    the named parameters stored in the posterior.
    """

    spec: ModelSpec
    kernel: object
    kernel_args: tuple
    prior_mu: np.ndarray
    prior_sd: np.ndarray

    @property
    def k(self) -> int:
        return len(self.spec.names)

    @property
    def n_dim(self) -> int:
        return self.k * (2 + self.spec.n_segments) if self.spec.hierarchical else self.k

    def log_theta(self, u: np.ndarray) -> np.ndarray:
        """Log-parameters per segment at ``u``, shape (n_segments, k)."""
        if not self.spec.hierarchical:
            return u.reshape(1, self.k)
        return hierarchical.unpack(u, self.k, self.spec.n_segments, *self._layout_arrays())[2]

    def _layout_arrays(self) -> tuple:
        layout = self.spec.layout
        return layout.centred, layout.shift, layout.chol

    def __call__(self, u: np.ndarray) -> tuple[float, np.ndarray]:
        spec = self.spec
        ll, grad_log_theta = self.kernel(self.log_theta(u), *self.kernel_args)
        if not spec.hierarchical:
            lp, grad = pooled_prior_and_chain_rule(u, grad_log_theta, self.prior_mu, self.prior_sd)
        else:
            lp, grad = hierarchical.hierarchical_prior_and_chain_rule(
                u, grad_log_theta, self.k, spec.n_segments, *self._layout_arrays(), spec.layout.log_det,
                self.prior_mu, self.prior_sd, spec.priors["segment_sd"])
        return ll + lp, grad

    def log_likelihood(self, log_theta: np.ndarray) -> tuple[float, np.ndarray]:
        """Weighted log-likelihood and gradient at log-parameters of shape (n_segments, k)."""
        return self.kernel(np.ascontiguousarray(log_theta, float), *self.kernel_args)

    def expand(self, u: np.ndarray) -> dict[str, np.ndarray]:
        """Named parameters at ``u``: scalars when pooled; per segment (shape (n_segments,)) plus
        the population ``mu_log_<name>`` and ``sigma_log_<name>`` when pooled by segment."""
        names = self.spec.names
        if not self.spec.hierarchical:
            return {name: np.asarray(math.exp(u[j])) for j, name in enumerate(names)}
        m, s, log_theta = hierarchical.unpack(u, self.k, self.spec.n_segments, *self._layout_arrays())
        # the order must match expanded_shapes(): nutpie checks the keys in order
        out = {name: np.exp(log_theta[:, j]) for j, name in enumerate(names)}
        out.update({f"mu_log_{name}": np.asarray(m[j]) for j, name in enumerate(names)})
        out.update({f"sigma_log_{name}": np.asarray(s[j]) for j, name in enumerate(names)})
        return out

    def expanded_shapes(self) -> dict[str, tuple[int, ...]]:
        """Shape of each expanded variable (see :meth:`expand`)."""
        names = self.spec.names
        if not self.spec.hierarchical:
            return {name: () for name in names}
        shapes = {name: (self.spec.n_segments,) for name in names}
        shapes.update({f"{kind}_log_{name}": () for kind in ("mu", "sigma") for name in names})
        return shapes


def log_likelihood_kernel(spec: ModelSpec) -> tuple:
    """``(kernel, args)`` with ``kernel(log_theta, *args) -> (loglik, grad)``: the family's fused
    kernel when it has one, else the generic numpy fallback of :mod:`.fallback`."""
    fast = spec.family.bayes.fast_kernel
    if fast is not None:
        return fast(*spec.history, spec.weights, spec.segment, spec.n_segments)
    return NumpyKernel(spec.family, spec.history, spec.weights, spec.segment, spec.n_segments), ()


def uses_fallback(spec: ModelSpec) -> bool:
    """True when ``spec`` is sampled through the generic numpy kernel (no fused kernel)."""
    return spec.family.bayes.fast_kernel is None


def make_log_density(spec: ModelSpec) -> LogDensity:
    """Prepare the kernel inputs of ``spec`` and return its :class:`LogDensity`.

    A model pooled by segment needs ``spec.layout`` (see :func:`.layout_choice.choose_layout`).
    """
    if spec.hierarchical and spec.layout is None:
        raise ValueError("a model pooled by segment needs spec.layout; call choose_layout first")
    kernel, args = log_likelihood_kernel(spec)
    mu, sd = prior_arrays(spec.priors, spec.names)
    return LogDensity(spec, kernel, args, mu, sd)


def pooled_spec(spec: ModelSpec) -> ModelSpec:
    """The same data without segments."""
    return replace(spec, segment=None, n_segments=1, layout=None)
