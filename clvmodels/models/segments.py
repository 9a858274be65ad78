"""Maximum likelihood per segment (``pool_by=`` with ``method="mle"``), with optional empirical-Bayes
shrinkage toward the pooled fit.

Steps (distinct rows with counts throughout, as for a pooled fit):

1. the pooled fit on every customer: the centre ``c`` of the shrinkage;
2. each segment's own fit (started at ``c``), with its Laplace covariance;
3. with ``shrinkage="empirical_bayes"``: the scale ``tau`` of segment differences per log-parameter
   from the segments' deviations and variances (:mod:`clvmodels.inference.shrinkage`), then each
   segment refitted with the prior ``N(c, diag(tau**2))`` on its log-parameters. Its Laplace
   covariance is the inverse of (the segment's Hessian + the prior's precision).

Segments are fitted independently given ``c`` and ``tau``, so their Laplace draws are drawn
independently.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from clvmodels._warn import warn_user
from clvmodels.errors import ConvergenceError, DataError
from clvmodels.inference.compress import compress_rows
from clvmodels.inference.mle import MleResult
from clvmodels.inference.shrinkage import between_segment_scale, shrinkage_weight

SHRINKAGE = ("empirical_bayes", None)

#: fit_one(columns, counts, **fit_mle options) -> MleResult
FitOne = Callable[..., MleResult]


def _usable(result: MleResult | None) -> bool:
    """A fit whose Laplace covariance can describe the estimate's precision."""
    if result is None or not result.converged:
        return False
    eig = np.linalg.eigvalsh(result.cov_log)
    return bool(np.all(np.isfinite(eig)) and eig.min() > 0)


#: an own fit whose Laplace sd of a log-parameter exceeds this (a 90% interval wider than a factor
#: of e**(2 * 1.645 * 3) ~ 20,000) says little about that parameter: flagged "ill-determined"
ILL_DETERMINED_SD_LOG = 3.0
#: ... as is one more than this many powers of e away from the pooled fit (a factor ~ 1,100)
ILL_DETERMINED_DISTANCE_LOG = 7.0


def own_fit_status(own: MleResult | None, pooled: MleResult, n_customers: float) -> str:
    """One word on a segment's own fit: "ok", "ill-determined", "unusable" or "no customers".

    "unusable": failed, not converged, or a covariance that is not positive definite (a flat
    likelihood). "ill-determined": converged, but some log-parameter has a Laplace sd above
    :data:`ILL_DETERMINED_SD_LOG` or lies more than :data:`ILL_DETERMINED_DISTANCE_LOG` from the
    pooled fit (e.g. a spend fit with p = 1.2e7 on a handful of repeat buyers): its estimate
    should not be read as the segment's.
    """
    if n_customers == 0:
        return "no customers"
    if not _usable(own):
        return "unusable"
    sd = np.sqrt(np.diag(own.cov_log))
    far = np.abs(own.log_params - pooled.log_params)
    if np.any(sd > ILL_DETERMINED_SD_LOG) or np.any(far > ILL_DETERMINED_DISTANCE_LOG):
        return "ill-determined"
    return "ok"


def _prior_only(names, centre: np.ndarray, tau: np.ndarray) -> MleResult:
    """A segment with no customers in the likelihood: its posterior is the prior."""
    return MleResult(names=tuple(names), log_params=centre.copy(), cov_log=np.diag(tau ** 2),
                     log_likelihood=0.0, converged=True, max_abs_grad=0.0, n_customers=0.0,
                     attempts=["no customers in this segment's likelihood: the prior"])


@dataclass(frozen=True)
class SegmentFits:
    """Per-segment maximum likelihood fits.

    Attributes
    ----------
    labels : list
        Segment labels, in code order.
    pooled : MleResult
        The fit on every customer (the centre of the shrinkage).
    fits : tuple of MleResult, length G
        The final fit of each segment (shrunk when ``prior_sd`` is set).
    unshrunk : tuple of (MleResult or None), length G
        Each segment's own fit (None where it failed or the segment is empty).
    prior_sd : ndarray, shape (k,), or None
        ``tau`` per log-parameter (None without shrinkage).
    """

    labels: list
    pooled: MleResult
    fits: tuple
    unshrunk: tuple
    prior_sd: np.ndarray | None

    @property
    def log_params(self) -> np.ndarray:
        """(G, k) log-parameter estimates."""
        return np.stack([f.log_params for f in self.fits])

    @property
    def cov_log(self) -> np.ndarray:
        """(G, k, k) Laplace covariances of the log-parameters."""
        return np.stack([f.cov_log for f in self.fits])

    def table(self, pool_by: str) -> pd.DataFrame:
        """Per segment and parameter: how shrinkage combined the segment's own fit with the pooled one.

        Parameters
        ----------
        pool_by : str
            Name of the segment column (the first index level).

        Returns
        -------
        DataFrame
            Indexed by (segment, parameter): ``pooled``, ``unshrunk`` (the segment's own MLE)
            and ``estimate`` (the final one); ``own_fit`` (:func:`own_fit_status`: "ok",
            "ill-determined", "unusable" or "no customers"; read ``unshrunk`` only where it
            says "ok"); ``prior_sd_log`` (tau, log units; inf without shrinkage);
            ``shrinkage_factor``, the prior's share ``v / (v + tau**2)`` of the normal-normal
            model, always in [0, 1] (0 = own estimate kept, 1 = pooled fit; ``v`` the unshrunk
            Laplace variance; 1 for a segment with no customers, NaN where the own fit is
            unusable, since it has no variance); ``moved``, the share of the log-distance from
            the unshrunk estimate to the pooled fit that the shrunk estimate actually moved,
            clipped to [0, 1] and NaN unless ``own_fit`` is "ok" (unclipped it can leave [0, 1]
            when correlated parameters move together over a small distance); ``customers``.
        """
        names = list(self.pooled.names)
        k = len(names)
        tau = self.prior_sd if self.prior_sd is not None else np.full(k, np.inf)
        rows = []
        for label, fit, own in zip(self.labels, self.fits, self.unshrunk):
            own_lp = own.log_params if own is not None else np.full(k, np.nan)
            own_var = np.diag(own.cov_log) if _usable(own) else np.full(k, np.nan)
            if fit.n_customers == 0:
                own_var = np.full(k, np.inf)
            with np.errstate(invalid="ignore"):
                factor = np.where(np.isinf(own_var), 1.0, own_var / (own_var + tau ** 2))
            moved = (shrinkage_weight(own_lp, fit.log_params, self.pooled.log_params)
                     if self.prior_sd is not None else np.zeros(k))
            status = own_fit_status(own, self.pooled, fit.n_customers)
            moved = np.clip(moved, 0.0, 1.0) if status == "ok" else np.full(k, np.nan)
            for j, name in enumerate(names):
                rows.append({pool_by: label, "parameter": name,
                             "pooled": float(np.exp(self.pooled.log_params[j])),
                             "unshrunk": float(np.exp(own_lp[j])),
                             "estimate": float(np.exp(fit.log_params[j])),
                             "own_fit": status,
                             "prior_sd_log": float(tau[j]),
                             "shrinkage_factor": float(factor[j]),
                             "moved": float(moved[j]),
                             "customers": fit.n_customers})
        return pd.DataFrame(rows).set_index([pool_by, "parameter"])

    # ----- persistence (plain JSON types) ------------------------------------------------------
    def to_state(self) -> dict:
        return {"labels": list(self.labels), "pooled": result_state(self.pooled),
                "fits": [result_state(f) for f in self.fits],
                "unshrunk": [None if f is None else result_state(f) for f in self.unshrunk],
                "prior_sd": None if self.prior_sd is None else self.prior_sd.tolist()}

    @classmethod
    def from_state(cls, state: dict, names) -> SegmentFits:
        return cls(labels=list(state["labels"]), pooled=result_from_state(state["pooled"], names),
                   fits=tuple(result_from_state(f, names) for f in state["fits"]),
                   unshrunk=tuple(None if f is None else result_from_state(f, names)
                                  for f in state["unshrunk"]),
                   prior_sd=None if state["prior_sd"] is None else np.asarray(state["prior_sd"], float))


def result_state(result: MleResult) -> dict:
    """An MleResult as JSON-ready data."""
    return {"log_params": result.log_params.tolist(), "cov_log": result.cov_log.tolist(),
            "log_likelihood": result.log_likelihood, "converged": bool(result.converged),
            "max_abs_grad": result.max_abs_grad, "n_customers": result.n_customers,
            "attempts": list(result.attempts)}


def result_from_state(state: dict, names) -> MleResult:
    return MleResult(names=tuple(names), log_params=np.asarray(state["log_params"], float),
                     cov_log=np.asarray(state["cov_log"], float),
                     log_likelihood=state["log_likelihood"], converged=state["converged"],
                     max_abs_grad=state["max_abs_grad"], n_customers=state["n_customers"],
                     attempts=list(state["attempts"]))


def _own_fit(fit_one: FitOne, columns, counts, pooled: MleResult, label,
             quiet: bool) -> MleResult | None:
    """A segment's unpenalised fit, started at the pooled fit with the pooled covariance scaled
    to the segment's size as the optimiser's first curvature guess; with ``quiet`` (shrinkage
    follows) a failure gives None."""
    if counts.sum() == 0:
        return None
    start = pooled.log_params
    guess = pooled.cov_log * (pooled.n_customers / counts.sum()) if _usable(pooled) else None
    if not quiet:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                result = fit_one(columns, counts, start=start, cov_guess=guess)
            except ConvergenceError as exc:
                raise ConvergenceError(
                    f"segment {label!r} ({counts.sum():.0f} customers): {exc}. Small segments are "
                    "stabilised by shrinkage='empirical_bayes'", result=exc.result) from None
        n = counts.sum()
        for warning in caught:  # say which segment the warning is about
            warn_user(f"segment {label!r} ({n:.0f} customer{'' if n == 1 else 's'}): {warning.message}",
                      warning.category)
        return result
    with warnings.catch_warnings():  # only an intermediate step: shrinkage refits it
        warnings.simplefilter("ignore")
        try:
            return fit_one(columns, counts, start=start, cov_guess=guess)
        except ConvergenceError:
            return None


def _shrunk_start(own: MleResult | None, centre: np.ndarray, precision: np.ndarray) -> np.ndarray:
    """Where to start the penalised fit: one Newton step from the segment's own estimate (exact
    if its log-likelihood were quadratic, so the optimiser has little left to do), or the centre
    when the own fit is unusable."""
    if not _usable(own):
        return centre.copy()
    hessian = np.linalg.inv(own.cov_log) + np.diag(precision)
    return own.log_params - np.linalg.solve(hessian, precision * (own.log_params - centre))


def fit_by_segment(fit_one: FitOne, columns: list, counts: np.ndarray, codes: np.ndarray,
                   labels: list, shrinkage: str | None, pool_by: str) -> SegmentFits:
    """Fit the pooled model, then each segment (see module docstring).

    Parameters
    ----------
    fit_one : callable
        ``fit_one(columns, counts, start=None, prior_mean=None, prior_precision=None,
        cov_guess=None)`` fits the model on distinct rows with counts.
    columns : list of ndarray, each shape (m,)
        Distinct rows (segment included in the distinctness).
    counts : ndarray, shape (m,)
        Customers per distinct row.
    codes : ndarray of int, shape (m,)
        Segment code of each distinct row, ``0 <= code < len(labels)``.
    labels : list
        Segment labels.
    shrinkage : {"empirical_bayes", None}
    pool_by : str
        Name of the segment column (for messages).
    """
    # the pooled fit needs no segment: merging rows that differ only by segment leaves the
    # likelihood unchanged and shortens every evaluation
    merged = compress_rows(*columns)
    pooled = fit_one(list(merged.columns), np.bincount(merged.inverse, weights=counts,
                                                      minlength=merged.n_unique))
    parts = []
    for g, label in enumerate(labels):
        mask = codes == g
        parts.append(([c[mask] for c in columns], counts[mask]))
    own = tuple(_own_fit(fit_one, cols, cnt, pooled, label, shrinkage is not None)
                for (cols, cnt), label in zip(parts, labels))
    if shrinkage is None:
        empty = [label for label, fit in zip(labels, own) if fit is None]
        if empty:
            raise DataError(
                f"segment(s) {empty[:5]} of {pool_by!r} have no customers the model can learn from "
                "(e.g. no repeat buyers for the spend model); use shrinkage='empirical_bayes' "
                "(they then get the pooled fit) or merge them into another segment")
        return SegmentFits(list(labels), pooled, own, own, None)
    usable = [fit for fit in own if _usable(fit)]
    if not usable:
        raise ConvergenceError(
            f"no segment of {pool_by!r} could be fitted on its own, so the spread between segments "
            "cannot be estimated; merge small segments or fit without pool_by")
    centre = pooled.log_params
    deviations = np.stack([fit.log_params - centre for fit in usable])
    variances = np.stack([np.diag(fit.cov_log) for fit in usable])
    tau = between_segment_scale(deviations, variances)
    precision = 1.0 / tau ** 2
    fits = []
    for (cols, cnt), fit in zip(parts, own):
        if cnt.sum() == 0:
            fits.append(_prior_only(pooled.names, centre, tau))
            continue
        guess = ({"cov_guess": np.linalg.inv(np.linalg.inv(fit.cov_log) + np.diag(precision))}
                 if _usable(fit) else {})
        fits.append(fit_one(cols, cnt, start=_shrunk_start(fit, centre, precision),
                            prior_mean=centre, prior_precision=precision, **guess))
    return SegmentFits(list(labels), pooled, tuple(fits), own, tau)
