"""Parameter draws shared by every prediction: Laplace draws (MLE) or posterior draws (Bayes)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ParameterDraws:
    """Draws of a model's parameters.

    Reuse one object for every chunk of customers so that sums over customers per draw are coherent.

    Attributes
    ----------
    names : tuple of str
        Parameter names, the last axis of ``values``.
    values : ndarray, shape (S, k) or (S, G, k)
        S draws; with G segments when the model is pooled by segment.
    kind : str
        "point" (S = 1, the estimate), "laplace" (normal on log-parameters around the MLE) or
        "posterior" (thinned MCMC draws).
    """

    names: tuple[str, ...]
    values: np.ndarray
    kind: str

    @property
    def n_draws(self) -> int:
        return int(self.values.shape[0])

    def for_customers(self, segment_codes: np.ndarray | None) -> dict[str, np.ndarray]:
        """Parameters per draw and customer.

        Parameters
        ----------
        segment_codes : ndarray of int, shape (n,), or None
            Segment of each customer for a model pooled by segment; None for a pooled model.

        Returns
        -------
        dict of str -> ndarray, shape (S, 1) for a pooled model or (S, n) by segment
        """
        if self.values.ndim == 2:
            return {name: self.values[:, [i]] for i, name in enumerate(self.names)}
        return {name: self.values[:, segment_codes, i] for i, name in enumerate(self.names)}


def laplace_draws(names, log_params: np.ndarray, cov_log: np.ndarray, n_draws: int, seed) -> ParameterDraws:
    """Draws ``exp(N(log_params, cov_log))``: the Laplace approximation on log-parameters.

    Parameters
    ----------
    log_params : ndarray, shape (k,)
    cov_log : ndarray, shape (k, k)
    n_draws : int
    seed : int or None
    """
    rng = np.random.default_rng(seed)
    log_draws = rng.multivariate_normal(log_params, cov_log, size=n_draws, method="eigh")
    return ParameterDraws(tuple(names), np.exp(log_draws), "laplace")


def segment_laplace_draws(names, log_params: np.ndarray, cov_log: np.ndarray, n_draws: int,
                          seed) -> ParameterDraws:
    """Laplace draws of each segment of a fit pooled by segment, independently per segment.

    Each segment draws from its own child of ``SeedSequence(seed)`` (in segment order), so a
    segment's draws do not depend on how many segments there are after it.

    Parameters
    ----------
    log_params : ndarray, shape (G, k)
    cov_log : ndarray, shape (G, k, k)
    n_draws : int
    seed : int, SeedSequence or None

    Returns
    -------
    ParameterDraws
        ``values`` of shape (S, G, k).
    """
    root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    streams = root.spawn(log_params.shape[0])
    log_draws = np.stack([
        np.random.default_rng(stream).multivariate_normal(mean, cov, size=n_draws, method="eigh")
        for stream, mean, cov in zip(streams, log_params, cov_log)
    ], axis=1)
    return ParameterDraws(tuple(names), np.exp(log_draws), "laplace")


def thin_posterior(names, posterior: np.ndarray, n_draws: int) -> ParameterDraws:
    """Evenly thin flattened posterior draws (chain x draw first axis) to at most ``n_draws``."""
    total = posterior.shape[0]
    take = np.linspace(0, total - 1, num=min(n_draws, total)).round().astype(int)
    return ParameterDraws(tuple(names), posterior[take], "posterior")
