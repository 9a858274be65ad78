"""What BG/NBD and Gamma-Gamma estimators share: settings, fitting on distinct rows, draws, reports.

Each model class supplies only its maths: the parameter names, the columns it reads from a
summary, the likelihood objective, a starting point and its Bayesian engine.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from clvmodels.data.meta import summary_meta
from clvmodels.errors import DataError, NotFittedError, check_choice, describe_rows
from clvmodels.inference.compress import compress_rows
from clvmodels.models.docstrings import document_settings
from clvmodels.models.draws import ParameterDraws, laplace_draws, segment_laplace_draws, thin_posterior
from clvmodels.models.entry import check_entry, fit_weights
from clvmodels.models.scoring import DEFAULT_N_DRAWS, CustomerData
from clvmodels.models.segments import SHRINKAGE, fit_by_segment

METHODS = ("mle", "bayes")


@document_settings
class FittedParametricModel:
    """Shared estimator machinery (scikit-learn contract: settings stored as given, ``fit`` returns
    self, learned state ends in ``_``).

    Every summary entering a model (``fit`` and every prediction) must have unique customer ids
    and, for a model that reads times (purchase models), state its time unit in its metadata, as
    :func:`clvmodels.rfm_summary` does; a frame built elsewhere or re-read from CSV states it with
    ``clvmodels.as_summary(frame, time_unit=..., observation_end=...)``. A summary in another unit
    than the fit's is refused, not converted (see :mod:`clvmodels.models.entry`).

    """

    #: parameter names in the order the formulas take them (set by subclasses)
    param_names: tuple[str, ...] = ()
    #: whether the model reads times (recency, T), so that a summary must state its time unit
    reads_time: bool = True

    def __init__(self, *, method: str = "mle", penalizer: float = 0.0, priors: dict | None = None,
                 sampler: str = "nutpie", chains: int = 4, draws: int = 1000, tune: int = 1000,
                 pool_by: str | None = None, shrinkage: str | None = "empirical_bayes",
                 seed: int | None = None, progressbar: bool = False):
        self.method = method
        self.penalizer = penalizer
        self.priors = priors
        self.sampler = sampler
        self.chains = chains
        self.draws = draws
        self.tune = tune
        self.pool_by = pool_by
        self.shrinkage = shrinkage
        self.seed = seed
        self.progressbar = progressbar

    # ----- hooks a model class implements ---------------------------------------------------------
    def _check_summary(self, summary: pd.DataFrame, fitting: bool) -> None:
        """The family's checks of the columns it reads (at fit, or at scoring)."""
        raise NotImplementedError

    def _customer_data(self, summary: pd.DataFrame) -> CustomerData:
        """Arrays the quantities read (without segments)."""
        raise NotImplementedError

    def _fit_mask(self, summary: pd.DataFrame) -> np.ndarray:
        """Which customers the likelihood uses, shape (n,) bool (all, or only repeat buyers for spend)."""
        return np.ones(len(summary), dtype=bool)

    def _mle(self, columns, counts, start=None, **prior):
        """MleResult of the fit on distinct rows with counts; ``start`` log-parameters and a
        ``prior_mean``/``prior_precision`` as :func:`clvmodels.inference.mle.fit_mle` takes them."""
        raise NotImplementedError

    def _bayes(self, columns, counts, segments, n_segments):
        raise NotImplementedError

    def _total_log_likelihood(self, params: dict, columns, counts) -> float:
        raise NotImplementedError

    # ----- fitting -------------------------------------------------------------------------------
    def _validate_settings(self) -> None:
        check_choice("method", self.method, METHODS)
        check_choice("shrinkage", self.shrinkage, SHRINKAGE)
        if not (np.isfinite(self.penalizer) and self.penalizer >= 0):
            raise DataError(f"penalizer must be a finite number >= 0; got {self.penalizer!r}")

    def _segment_codes_for_fit(self, summary: pd.DataFrame,
                               rows: np.ndarray) -> tuple[np.ndarray | None, int]:
        """Segment code of each customer of the fit (``rows``, a mask of ``summary``) and the
        number of segments. Bayes numbers the segments of the fitted rows; MLE those of the whole
        summary, so a segment none of whose customers enters the likelihood (no repeat buyer, for
        the spend model) still gets parameters (the pooled fit's, under shrinkage)."""
        if self.pool_by is None:
            return None, 0
        if self.pool_by not in summary.columns:
            raise DataError(
                f"pool_by={self.pool_by!r} is not a column of the summary; columns are "
                f"{list(summary.columns)}. Carry it with rfm_summary(..., attribute_cols=[{self.pool_by!r}])"
            )
        seg = summary[self.pool_by] if self.method == "mle" else summary[self.pool_by][rows]
        if seg.isna().any():
            raise DataError(
                f"segment column {self.pool_by!r} is missing for {describe_rows(seg.index[seg.isna()])}; "
                "fill it (e.g. 'unknown') before fitting"
            )
        codes, labels = pd.factorize(seg, sort=True)
        self.segments_ = [int(s) if isinstance(s, (int, np.integer)) else str(s) for s in labels]
        return (codes[rows] if self.method == "mle" else codes), len(labels)

    def fit(self, summary: pd.DataFrame, weights=None):
        """Fit the model to a customer summary; returns ``self``.

        Customers with identical rows are compressed to distinct rows with counts first, so the
        cost follows the number of distinct rows, not of customers; the likelihood is unchanged.

        Parameters
        ----------
        summary : DataFrame
            One row per customer (unique index), with its time unit in its metadata (as
            :func:`clvmodels.rfm_summary` and ``clvmodels.as_summary`` set it).
        weights : array-like of shape (n,), Series aligned with ``summary``, or str, optional
            How many identical customers each row stands for (whole numbers >= 0), or the name of
            a summary column holding that; the fit then equals the fit on the summary with each
            row repeated that many times (e.g. distinct rows with counts grouped elsewhere, such as
            in Spark). Rows with weight 0 are left out.

        Returns
        -------
        self
            The fitted model (``params_``, ``cov_log_`` or ``idata_``, and the fit facts).

        Raises
        ------
        DataError
            If a setting is invalid, the summary is malformed (duplicate ids, missing columns,
            no time unit) or ``pool_by`` is not a column.
        ConvergenceError
            If the likelihood cannot be maximised.

        Examples
        --------
        >>> from clvmodels import BetaGeoModel
        >>> from clvmodels.datasets import load_cdnow_summary
        >>> bg = BetaGeoModel().fit(load_cdnow_summary())
        >>> bg.n_customers_, bg.time_unit_
        (2357, 'W')
        """
        self._validate_settings()
        check_entry(self, summary, fitting=True)
        w = fit_weights(summary, weights)
        keep = self._fit_mask(summary)
        if w is not None:
            keep &= w > 0
        started = time.perf_counter()
        data = self._customer_data(summary[keep])
        segments, n_segments = self._segment_codes_for_fit(summary, keep)
        columns = list(data.arrays.values()) + ([segments] if segments is not None else [])
        compressed = compress_rows(*columns)
        counts = (compressed.counts if w is None
                  else np.bincount(compressed.inverse, weights=w[keep], minlength=compressed.n_unique))
        arrays = compressed.columns[: len(data.arrays)]
        seg_rows = compressed.columns[-1].astype(np.int64) if segments is not None else None
        for attr in ("mle_", "cov_log_", "idata_", "diagnostics_", "segment_fits_", "shrinkage_"):
            self.__dict__.pop(attr, None)
        if self.method == "mle" and self.pool_by is not None:
            self._set_segment_fits(fit_by_segment(self._mle, list(arrays), counts, seg_rows,
                                                  self.segments_, self.shrinkage, self.pool_by))
        elif self.method == "mle":
            result = self._mle(arrays, counts)
            self.mle_ = result
            self.cov_log_ = result.cov_log
            self.params_ = pd.Series(result.params, index=list(self.param_names), name="estimate")
            self.log_likelihood_ = result.log_likelihood
            self.converged_ = result.converged
        else:
            idata = self._bayes(arrays, counts, seg_rows, n_segments)
            self.idata_ = idata
            self._posterior_means_from_idata()
            self.converged_ = self._check_bayes_diagnostics()
            if self.pool_by is None:
                self.log_likelihood_ = self._total_log_likelihood(
                    {k: float(v) for k, v in self.params_.items()}, arrays, counts)
            else:
                self.log_likelihood_ = float("nan")  # per-segment fits: see summary()
        total = float(counts.sum())
        self.n_customers_ = int(total) if total == round(total) else total
        self.n_distinct_rows_ = compressed.n_unique
        self.time_unit_ = summary_meta(summary).get("time_unit")
        self.fit_seconds_ = time.perf_counter() - started
        return self

    def _set_segment_fits(self, fits) -> None:
        """State of an MLE fit pooled by segment (also used when loading a saved model)."""
        self.segment_fits_ = fits
        self.cov_log_ = fits.cov_log
        self.params_ = pd.DataFrame(np.exp(fits.log_params), index=pd.Index(fits.labels, name=self.pool_by),
                                    columns=list(self.param_names))
        self.log_likelihood_ = float(sum(f.log_likelihood for f in fits.fits))
        self.converged_ = bool(all(f.converged for f in fits.fits))
        self.shrinkage_ = fits.table(self.pool_by)

    def _posterior_stack(self) -> np.ndarray:
        """Posterior draws, shape (chains*draws, k) or (chains*draws, G, k)."""
        post = self.idata_.posterior
        stacked = [post[name].stack(sample=("chain", "draw")).transpose("sample", ...).to_numpy()
                   for name in self.param_names]
        return np.stack(stacked, axis=-1)

    def _posterior_means_from_idata(self) -> None:
        means = self._posterior_stack().mean(axis=0)
        if means.ndim == 1:
            self.params_ = pd.Series(means, index=list(self.param_names), name="estimate")
        else:
            self.params_ = pd.DataFrame(means, index=pd.Index(self.segments_, name=self.pool_by),
                                        columns=list(self.param_names))

    def _check_bayes_diagnostics(self) -> bool:
        from clvmodels.inference.bayes import diagnose

        self.diagnostics_ = diagnose(self.idata_)
        return bool(self.diagnostics_.get("ok", True))

    # ----- state ---------------------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "params_"):
            raise NotFittedError(
                f"this {type(self).__name__} is not fitted yet; call .fit(summary) first"
            )

    def point_draws(self) -> ParameterDraws:
        """The point estimate as a single draw (MLE, or posterior means).

        Returns
        -------
        ParameterDraws
            ``values`` of shape (1, k), or (1, G, k) for a model pooled by segment.

        Examples
        --------
        >>> from clvmodels import BetaGeoModel
        >>> from clvmodels.datasets import load_cdnow_summary
        >>> BetaGeoModel().fit(load_cdnow_summary()).point_draws().values.shape
        (1, 4)
        """
        self._check_fitted()
        values = np.asarray(self.params_.to_numpy(), float)[None, ...]
        return ParameterDraws(self.param_names, values, "point")

    def parameter_draws(self, n_draws: int = DEFAULT_N_DRAWS, seed=None) -> ParameterDraws:
        """Draws of the parameters: Laplace draws (MLE) or evenly thinned posterior draws (Bayes).

        Parameters
        ----------
        n_draws : int
            Number of draws S (at most the number of posterior draws for Bayes).
        seed : int, optional
            Seed of the Laplace draws (posterior thinning is deterministic).

        Returns
        -------
        ParameterDraws
            ``values`` of shape (S, k), or (S, G, k) for a model pooled by segment.

        Examples
        --------
        >>> from clvmodels import BetaGeoModel
        >>> from clvmodels.datasets import load_cdnow_summary
        >>> BetaGeoModel().fit(load_cdnow_summary()).parameter_draws(100, seed=0).values.shape
        (100, 4)
        """
        self._check_fitted()
        if self.method == "mle" and self.pool_by is not None:
            fits = self.segment_fits_
            return segment_laplace_draws(self.param_names, fits.log_params, fits.cov_log, n_draws, seed)
        if self.method == "mle":
            return laplace_draws(self.param_names, self.mle_.log_params, self.cov_log_, n_draws, seed)
        return thin_posterior(self.param_names, self._posterior_stack(), n_draws)

    def _segment_codes(self, summary: pd.DataFrame) -> np.ndarray | None:
        if self.pool_by is None:
            return None
        if self.pool_by not in summary.columns:
            raise DataError(f"the summary lacks the segment column {self.pool_by!r} the model was pooled by")
        lookup = pd.Index(self.segments_)
        codes = lookup.get_indexer(summary[self.pool_by])
        unknown = codes < 0
        if unknown.any():
            bad = summary.index[unknown]
            raise DataError(
                f"{unknown.sum()} customers belong to segments the model was not fitted on "
                f"(e.g. ids {list(bad[:5])}, segments {sorted(set(summary[self.pool_by][unknown]))[:5]}); "
                f"known segments: {list(self.segments_)[:10]}. Refit including them"
            )
        return codes

    def segment_codes(self, summary: pd.DataFrame) -> np.ndarray | None:
        """Each customer's segment code, for a model pooled by segment.

        Customers with equal codes share every parameter draw, so work that depends on the
        history and the parameters only can be shared among them.

        Parameters
        ----------
        summary : DataFrame
            Customers with the segment column the model was pooled by.

        Returns
        -------
        ndarray of int, shape (n,), or None
            The index into ``segments_``, ``params_`` rows and axis 1 of
            ``parameter_draws().values``; None for a model not pooled by segment.

        Raises
        ------
        DataError
            If a customer's segment was not seen by the fit, or the column is missing.

        Examples
        --------
        >>> import numpy as np
        >>> from clvmodels import BetaGeoModel
        >>> from clvmodels.datasets import load_cdnow_summary
        >>> summary = load_cdnow_summary()
        >>> summary["channel"] = np.where(summary["frequency"] > 0, "repeat", "once")   # made up
        >>> bg = BetaGeoModel(pool_by="channel").fit(summary)
        >>> bg.segments_, bg.segment_codes(summary.head(3)).tolist()
        (['once', 'repeat'], [1, 1, 0])
        """
        self._check_fitted()
        return self._segment_codes(summary)

    def _scoring_data(self, summary: pd.DataFrame) -> CustomerData:
        data = self._customer_data(summary)
        return CustomerData(data.arrays, (self._segment_codes(summary),))

    def customer_params(self, summary_chunk: pd.DataFrame, draws: ParameterDraws | None = None) -> dict:
        """Parameters for the customers of ``summary_chunk``.

        Parameters
        ----------
        summary_chunk : DataFrame
            Customers (with the segment column for a model pooled by segment).
        draws : ParameterDraws, optional
            Parameter draws (from :meth:`parameter_draws`); default the point estimate.

        Returns
        -------
        dict of str -> ndarray
            Shape (S, 1) for a pooled model or (S, n) for a model pooled by segment; with
            ``draws=None`` the point estimate (S = 1).
        """
        self._check_fitted()
        draws = draws if draws is not None else self.point_draws()
        return draws.for_customers(self._segment_codes(summary_chunk))

    # ----- reporting -----------------------------------------------------------------------------
    def summary(self, level: float = 0.9) -> pd.DataFrame:
        """Parameter table, the same layout for MLE and Bayes.

        Parameters
        ----------
        level : float, default 0.9
            Probability of the interval (the same default as predictions, value and targeting).

        Returns
        -------
        DataFrame
            Columns ``estimate, sd, lower, upper, level``; index ``parameter`` (``segment,
            parameter`` for a fit pooled by segment). MLE: the estimate, its standard error by the
            delta method and the interval ``exp(log estimate +- z * sd_log)`` (Laplace on
            log-parameters). Bayes: posterior mean, posterior sd and highest-density interval.
            Facts about the fit as a whole are in ``table.attrs["clvmodels"]`` and
            :meth:`fit_summary`, not on the rows.

        Raises
        ------
        NotFittedError
            If the model is not fitted.
        DataError
            If ``level`` is not strictly between 0 and 1.

        See Also
        --------
        fit_summary : method, log-likelihood, convergence, sizes and diagnostics of the fit.

        Examples
        --------
        >>> from clvmodels import BetaGeoModel
        >>> from clvmodels.datasets import load_cdnow_summary
        >>> table = BetaGeoModel().fit(load_cdnow_summary()).summary()
        >>> list(table.columns)
        ['estimate', 'sd', 'lower', 'upper', 'level']
        >>> round(float(table.loc["r", "estimate"]), 3)    # Fader, Hardie & Lee (2005): r = 0.243
        0.243
        """
        self._check_fitted()
        from clvmodels.models.report import parameter_table

        return parameter_table(self, level)

    def fit_summary(self) -> pd.DataFrame:
        """Facts about the fit as a whole, as a one-row DataFrame.

        Returns
        -------
        DataFrame
            One row indexed by the model's class name; columns ``method, customers,
            distinct_rows, time_unit, log_likelihood, converged, fit_seconds`` and, by method,
            ``max_abs_grad`` (MLE), ``pool_by, segments, shrinkage`` (MLE by segment) or the
            sampler's ``sampler, chains, draws, max_rhat, min_ess_bulk, min_ess_tail,
            n_divergences, ok, problems`` (Bayes).

        Raises
        ------
        NotFittedError
            If the model is not fitted.

        See Also
        --------
        summary : the parameter table.

        Examples
        --------
        >>> from clvmodels import BetaGeoModel
        >>> from clvmodels.datasets import load_cdnow_summary
        >>> facts = BetaGeoModel().fit(load_cdnow_summary()).fit_summary()
        >>> round(float(facts["log_likelihood"].iloc[0]), 1)    # FHL 2005: LL = -9582.4
        -9582.4
        """
        self._check_fitted()
        from clvmodels.models.report import fit_summary

        return fit_summary(self)

    def _repr_html_(self) -> str:
        from clvmodels.models.report import model_html

        return model_html(self)

    def __repr__(self) -> str:
        state = "unfitted"
        if hasattr(self, "params_"):
            if isinstance(self.params_, pd.Series):
                state = ", ".join(f"{k}={v:.4g}" for k, v in self.params_.items())
            else:
                state = f"{len(self.params_)} segments"
        return f"{type(self).__name__}(method={self.method!r}) [{state}]"

    def save(self, path) -> None:
        """Save the fitted model as JSON (plus a netCDF file of the posterior for Bayes); no pickle.

        Parameters
        ----------
        path : str or path-like
            The JSON file to write; a Bayesian fit also writes ``<path>.posterior.nc``.

        See Also
        --------
        clvmodels.load_model : read it back.
        """
        from clvmodels.models.persistence import save_model

        save_model(self, path)

    # ----- helpers for prediction methods --------------------------------------------------------
    def _check_scoring(self, summary: pd.DataFrame) -> None:
        """Entry checks of a summary to score (see :mod:`clvmodels.models.entry`)."""
        self._check_fitted()
        check_entry(self, summary, fitting=False)
