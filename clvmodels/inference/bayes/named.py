"""Bayesian fits and priors looked up by a model's registered name.

The engine itself (:mod:`.spec`, :mod:`.priors`, :mod:`.log_density`, ...) takes family objects;
this module is the one place that turns a name (``"bgnbd"``, ``"gammagamma"``) into a family, so
the engine never imports the family registry (whose families import the engine's kernels).
"""

from __future__ import annotations

from clvmodels.errors import check_choice
from clvmodels.families import family_names, get_family
from clvmodels.families.spend import GAMMAGAMMA, get_spend_model, spend_model_names
from clvmodels.inference.bayes.priors import SEGMENT_SD, family_defaults
from clvmodels.inference.bayes.spec import ModelSpec, family_spec


def model_named(name: str):
    """The purchase family or spend model registered as ``name`` (DataError listing the names)."""
    check_choice("model", name, family_names() + spend_model_names())
    return get_family(name) if name in family_names() else get_spend_model(name)


def default_priors(model="bgnbd") -> dict:
    """The default priors, as ``{name: (mu, sigma)}`` of a normal on ``log(name)``.

    A ``mu`` of ``None`` means "centred on the data's scale" (``alpha``: log of the weighted mean
    ``T``; ``gamma``: log of the weighted mean spend of repeat buyers; for a family without priors
    of its own, every parameter, at the family's start point); it is resolved when fitting.
    ``"segment_sd"`` is the prior mean of the between-segment sd of each log-parameter (models
    pooled by segment; a Gamma(2) prior).

    Parameters
    ----------
    model : str or family object
        A registered purchase family's or spend model's name (``"bgnbd"``, ``"gammagamma"``, see
        :func:`clvmodels.families.family_names`), or the family object itself.

    Examples
    --------
    >>> default_priors("bgnbd")
    {'r': (0.0, 2.5), 'alpha': (None, 3.0), 'a': (0.0, 2.5), 'b': (0.0, 2.5), 'segment_sd': 1.0}

    Replace some of them when fitting: ``priors={"b": (1.0, 1.0)}``; the others keep their default.
    """
    family = model_named(model) if isinstance(model, str) else model
    return {**family_defaults(family), "segment_sd": SEGMENT_SD}


def bgnbd_spec(x, t_x, T, weights, priors=None, segment=None, n_segments=None) -> ModelSpec:
    """The :class:`ModelSpec` of a BG/NBD fit (rows of frequency, recency, age)."""
    return family_spec(get_family("bgnbd"), (x, t_x, T), weights, priors, segment, n_segments)


def gammagamma_spec(x, mbar, weights, priors=None, segment=None, n_segments=None) -> ModelSpec:
    """The :class:`ModelSpec` of a Gamma-Gamma fit; rows with ``x == 0`` are dropped (the model is
    conditional on at least one repeat purchase)."""
    return family_spec(GAMMAGAMMA, (x, mbar), weights, priors, segment, n_segments)
