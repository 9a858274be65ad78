"""What a Bayesian fit is about, independent of the sampler: model, data rows, priors, segments."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from clvmodels.errors import DataError, describe_rows
from clvmodels.inference.bayes.priors import BGNBD_PARAMS, GAMMAGAMMA_PARAMS, resolve_priors


@dataclass(frozen=True)
class ModelSpec:
    """A model to fit on distinct rows with weights.

    Attributes
    ----------
    model : {"bgnbd", "gammagamma"}
    names : tuple of str
        Parameter names, in the formulas' order.
    data : dict of str -> ndarray, shape (m,)
        ``x, t_x, T`` (BG/NBD) or ``x, mbar`` (Gamma-Gamma); Gamma-Gamma keeps repeat buyers only.
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
        :func:`clvmodels.inference.bayes.hierarchical.choose_layout`.
    """

    model: str
    names: tuple[str, ...]
    data: dict
    weights: np.ndarray
    segment: np.ndarray | None
    n_segments: int
    priors: dict
    layout: "SegmentLayout | None" = None  # noqa: F821 (hierarchical.SegmentLayout)

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


def bgnbd_spec(x, t_x, T, weights, priors=None, segment=None, n_segments=None) -> ModelSpec:
    """Build the :class:`ModelSpec` of a BG/NBD fit (rows of frequency, recency, age)."""
    x = _as_1d("x", x, float, None)
    data = {"x": x, "t_x": _as_1d("t_x", t_x, float, x.size), "T": _as_1d("T", T, float, x.size)}
    weights = _as_1d("weights", weights, float, x.size)
    _check_rows(data, weights, positive=("T",))
    segment, n_segments = _segments(segment, n_segments, x.size)
    scale = float(np.average(data["T"], weights=weights))
    return ModelSpec("bgnbd", BGNBD_PARAMS, data, weights, segment, n_segments,
                     resolve_priors("bgnbd", priors, scale))


def gammagamma_spec(x, mbar, weights, priors=None, segment=None, n_segments=None) -> ModelSpec:
    """Build the :class:`ModelSpec` of a Gamma-Gamma fit; rows with ``x == 0`` are dropped (the
    model is conditional on at least one repeat purchase)."""
    x = _as_1d("x", x, float, None)
    mbar = _as_1d("mbar", mbar, float, x.size)
    weights = _as_1d("weights", weights, float, x.size)
    segment, n_segments = _segments(segment, n_segments, x.size)
    keep = x > 0
    if not keep.any():
        raise DataError("the Gamma-Gamma model needs repeat buyers (frequency > 0); there are none")
    data = {"x": x[keep], "mbar": mbar[keep]}
    weights = weights[keep]
    segment = None if segment is None else segment[keep]
    _check_rows(data, weights, positive=("x", "mbar"))
    scale = float(np.average(data["mbar"], weights=weights))
    return ModelSpec("gammagamma", GAMMAGAMMA_PARAMS, data, weights, segment, n_segments,
                     resolve_priors("gammagamma", priors, scale))
