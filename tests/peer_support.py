"""Helpers shared by the peer-test files (``tests/test_peer_tests_*.py``): a peer's bare arrays as a
clvmodels summary, the histories of a peer's grid that are histories at all, a model at given
parameters (as a peer sets ``params_`` on an unfitted fitter) and the family's likelihood."""

from __future__ import annotations

import numpy as np
import pandas as pd

import clvmodels


def as_weeks(frame: pd.DataFrame, unit: str = "W") -> pd.DataFrame:
    """A summary in ``unit`` from bare columns (as a peer passes arrays)."""
    frame = frame.reset_index(drop=True)
    frame.attrs = {}
    return clvmodels.as_summary(frame, time_unit=unit, observation_end="1997-09-30")


def history(frequency, recency, T, unit: str = "W") -> pd.DataFrame:
    """Broadcast (frequency, recency, T) values as a summary."""
    n = np.broadcast(np.asarray(frequency), np.asarray(recency), np.asarray(T)).shape
    cols = {k: np.broadcast_to(np.asarray(v, float), n).ravel()
            for k, v in (("frequency", frequency), ("recency", recency), ("T", T))}
    return as_weeks(pd.DataFrame(cols), unit)


def possible(rows) -> np.ndarray:
    """The rows of a peer's grid that are histories at all: lifetimes' grids include customers
    with no repeat purchase but a positive recency, which clvmodels refuses (DataError) rather
    than score; those rows are checked as refusals where a test builds them."""
    rows = np.asarray(rows, float)
    return rows[~((rows[:, 0] == 0) & (rows[:, 1] > 0))]


def model_at(model_class, params: dict):
    """An unfitted ``model_class`` given parameters in weeks (lifetimes ``fitter.params_ = ...``,
    pymc-marketing's mocked posterior at fixed values)."""
    model = model_class()
    model.params_ = pd.Series({k: params[k] for k in model_class.family.param_names}, name="estimate")
    model.time_unit_ = "W"
    return model


def family_nll(family, params, x, t_x, T, counts=None) -> float:
    """The family's negative log-likelihood of histories (contract's ``neg_log_likelihood_and_grad``
    on log-parameters), counts 1 by default."""
    lp = np.log([params[k] for k in family.param_names])
    x, t_x, T = (np.atleast_1d(np.asarray(v, float)) for v in (x, t_x, T))
    counts = np.ones_like(x) if counts is None else np.asarray(counts, float)
    return float(family.neg_log_likelihood_and_grad(lp, x, t_x, T, counts)[0])
