"""What a Bayesian fit is about, independent of the sampler: family, data rows, priors, segments."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from clvmodels.errors import DataError, describe_rows
from clvmodels.inference.bayes.priors import resolve_priors


@dataclass(frozen=True)
class ModelSpec:
    """A model family to fit on distinct rows with weights.

    Attributes
    ----------
    family : PurchaseFamily or SpendFamily
        What is fitted; the engine reads only its parameter names, history columns, likelihood,
        start point and optional :class:`~clvmodels.families.bayes_hooks.BayesHooks`.
    data : dict of str -> ndarray, shape (m,)
        The rows fitted, keyed and ordered by ``family.history_columns`` (only the rows the
        family's ``fit_rows`` keeps, e.g. Gamma-Gamma: repeat buyers).
    weights : ndarray, shape (m,)
        Number of customers of each distinct row.
    segment : ndarray of int, shape (m,), or None
        Segment code per row for a model pooled by segment.
    n_segments : int
        Number of segments (1 when pooled).
    priors : dict
        Resolved priors (see :func:`clvmodels.inference.bayes.priors.resolve_priors`).
    layout : SegmentLayout or None
        Models pooled by segment: how each segment is sampled, set by
        :func:`clvmodels.inference.bayes.layout_choice.choose_layout`.
    """

    family: object
    data: dict
    weights: np.ndarray
    segment: np.ndarray | None
    n_segments: int
    priors: dict
    layout: "SegmentLayout | None" = None  # noqa: F821 (hierarchical.SegmentLayout)

    @property
    def model(self) -> str:
        """The family's name (recorded in ``idata.attrs["model"]``)."""
        return self.family.name

    @property
    def names(self) -> tuple[str, ...]:
        """Parameter names, in the order of the log-parameter vector."""
        return tuple(self.family.param_names)

    @property
    def history(self) -> tuple[np.ndarray, ...]:
        """The data arrays in the order of ``family.history_columns``."""
        return tuple(self.data.values())

    @property
    def hierarchical(self) -> bool:
        return self.segment is not None

    @property
    def n_customers(self) -> float:
        return float(self.weights.sum())


def _as_1d(name: str, values, dtype, size: int | None) -> np.ndarray:
    arr = np.ascontiguousarray(values, dtype=dtype)
    if arr.ndim != 1 or (size is not None and arr.size != size):
        raise DataError(f"{name} must be a 1-d array of length {size}; got shape {arr.shape}")
    return arr


def _check_rows(data: dict, weights: np.ndarray, positive: tuple[str, ...]) -> None:
    """Inputs here come from the estimator's own validated summary; check only what would silently
    corrupt a fit (non-finite values, non-positive weights or times)."""
    for name, arr in {**data, "weights": weights}.items():
        bad = np.flatnonzero(~np.isfinite(arr) | (arr < 0))
        if name in positive or name == "weights":
            bad = np.flatnonzero(~np.isfinite(arr) | (arr <= 0))
        if bad.size:
            raise DataError(f"{name} has invalid values in {describe_rows(bad)}: it must be finite and "
                            f"{'> 0' if name in positive or name == 'weights' else '>= 0'}; "
                            "fix the summary rows at these positions")


def _segments(segment, n_segments, size: int) -> tuple[np.ndarray | None, int]:
    if segment is None:
        return None, 1
    segment = _as_1d("segment", segment, np.int64, size)
    n_segments = int(segment.max()) + 1 if n_segments is None else int(n_segments)
    bad = np.flatnonzero((segment < 0) | (segment >= n_segments))
    if bad.size:
        raise DataError(f"segment codes must lie in 0..{n_segments - 1}; {describe_rows(bad)} do not")
    return segment, n_segments


def family_spec(family, history, weights, priors=None, segment=None, n_segments=None) -> ModelSpec:
    """Build the :class:`ModelSpec` of a fit of ``family`` on distinct rows.

    Parameters
    ----------
    family : PurchaseFamily or SpendFamily
    history : sequence of array_like, shape (m,) each
        One array per name of ``family.history_columns``, in that order.
    weights : array_like, shape (m,)
        Customers per row.
    priors, segment, n_segments : see :func:`clvmodels.inference.bayes.fit_family_bayes`.
    """
    columns = tuple(family.history_columns)
    if len(history) != len(columns):
        raise DataError(f"the {family.label} model reads {len(columns)} history columns {list(columns)}; "
                        f"got {len(history)} arrays: pass them in that order")
    first = _as_1d(columns[0], history[0], float, None)
    data = {columns[0]: first}
    data.update({c: _as_1d(c, h, float, first.size) for c, h in zip(columns[1:], history[1:])})
    weights = _as_1d("weights", weights, float, first.size)
    segment, n_segments = _segments(segment, n_segments, first.size)
    hooks = family.bayes
    if hooks.fit_rows is not None:
        keep = np.asarray(hooks.fit_rows(*data.values()), bool)
        if not keep.any():
            raise DataError(f"the {family.label} model is fitted on {hooks.fit_rows_meaning}; there are none")
        data = {c: v[keep] for c, v in data.items()}
        weights = weights[keep]
        segment = None if segment is None else segment[keep]
    _check_rows(data, weights, positive=tuple(hooks.positive_columns))
    priors = resolve_priors(family, priors, tuple(data.values()), weights)
    return ModelSpec(family, data, weights, segment, n_segments, priors)


def posterior_names(spec: ModelSpec) -> list[str]:
    """Names of the posterior variables a fit returns."""
    names = list(spec.names)
    if spec.hierarchical:
        names += [f"{kind}_log_{n}" for kind in ("mu", "sigma") for n in spec.names]
    return names
