"""How customers differ in a model family: its mixing (heterogeneity) distributions, described.

A latent-attrition family mixes individual-level processes over distributions of their traits:
BG/NBD's transaction rate ``lambda ~ Gamma(r, alpha)`` and dropout probability ``p ~ Beta(a, b)``,
Pareto/NBD's dropout rate ``mu ~ Gamma(s, beta)``, BG/BB's transaction and dropout probabilities,
Gamma-Gamma's mean spend. Each family declares them in its own module as a tuple of
:class:`Mixing` (the ``heterogeneity`` field of the contract), so that plots and reports can draw
"how customers differ" for any family without knowing which one they hold.

A :class:`Mixing` names a standard distribution (``kind``) and how its two arguments are made from
the population parameters; densities and quantiles are left to the caller (scipy), so this module
stays a leaf with numpy only.

Distribution arguments, as scipy.stats reads them:

* ``"gamma"``: (shape, rate), density ``rate^k x^(k-1) e^(-rate x) / Gamma(k)``, mean shape / rate;
* ``"beta"``: (a, b), mean a / (a + b);
* ``"inverse_gamma"``: (shape, scale), density ``scale^k x^(-k-1) e^(-scale/x) / Gamma(k)``, mean
  scale / (shape - 1) for shape > 1 (infinite otherwise).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

#: The distribution kinds a :class:`Mixing` may name, and the meaning of their two arguments.
KINDS = {"gamma": ("shape", "rate"), "beta": ("a", "b"), "inverse_gamma": ("shape", "scale")}


@dataclass(frozen=True)
class Mixing:
    """One mixing distribution of a family: a trait that varies across customers.

    Attributes
    ----------
    label : str
        What varies, in words, with its symbol: "Transaction rate while alive (lambda)".
    xlabel : str
        Axis label of the trait; ``{unit}`` stands for the time unit in words (singular),
        ``{money}`` at the start marks a money axis (the caller adds the currency).
    kind : {"gamma", "beta", "inverse_gamma"}
        The distribution (see the module docstring for its arguments).
    parameters : tuple of str
        The population parameters it depends on, e.g. ``("r", "alpha")``.
    arguments : callable, optional
        ``arguments(params) -> (first, second)``: the distribution's two arguments from the
        family's ``params`` dict (arrays broadcasting as in the contract). Default: the two
        ``parameters`` themselves, in order.
    latent : str, optional
        The key of this trait in the family's ``sample_latents`` output (e.g. ``"lam"``), so that
        a test can check the declaration against the family's own sampler at an empty history.
    """

    label: str
    xlabel: str
    kind: str
    parameters: tuple[str, ...]
    arguments: Callable | None = None
    latent: str | None = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {sorted(KINDS)}; got {self.kind!r}")
        if self.arguments is None and len(self.parameters) != 2:
            raise ValueError("a Mixing without arguments= needs exactly two parameters")

    def args(self, params: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """The two distribution arguments (see :data:`KINDS`) at ``params``."""
        if self.arguments is not None:
            first, second = self.arguments(params)
        else:
            first, second = (params[name] for name in self.parameters)
        return np.asarray(first, float), np.asarray(second, float)

    def mean(self, params: Mapping[str, np.ndarray]) -> np.ndarray:
        """The mean trait across customers at ``params`` (inf where it does not exist)."""
        first, second = self.args(params)
        if self.kind == "gamma":
            return first / second
        if self.kind == "beta":
            return first / (first + second)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(first > 1.0, second / np.maximum(first - 1.0, 1e-300), np.inf)


def gamma_rate(label: str, xlabel: str, shape: str, rate: str, latent: str | None = None) -> Mixing:
    """A Gamma(shape, rate) trait (e.g. purchases per time unit) named by two parameters."""
    return Mixing(label, xlabel, "gamma", (shape, rate), latent=latent)


def beta_probability(label: str, xlabel: str, a: str, b: str, latent: str | None = None) -> Mixing:
    """A Beta(a, b) probability named by two parameters."""
    return Mixing(label, xlabel, "beta", (a, b), latent=latent)
