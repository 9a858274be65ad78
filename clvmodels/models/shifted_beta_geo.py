"""The shifted-beta-geometric subscription model (Fader & Hardie 2007, 2010) as an estimator.

Fitted on a tenure table, one row per subscriber with ``renewals`` and ``churned`` as
:func:`clvmodels.subscription_tenures` builds it (exact right censoring: a subscriber still
active contributes ``S(renewals)``, one who left ``P(T = renewals + 1)``), or on a cohort survival
table as :func:`clvmodels.cohort_survival` builds it (Fader & Hardie 2007 eq. 6), pooled or one
fit per cohort or channel (``pool_by=``). The shared estimator machinery
(:class:`~clvmodels.models.fitted.FittedParametricModel`) gives it MLE with Laplace draws, nutpie,
``summary()``, ``save``/``load``; the predictions are the quantities of
:mod:`clvmodels.models.sbg_quantities` through :func:`clvmodels.models.scoring.evaluate`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from clvmodels.errors import DataError, describe_rows
from clvmodels.families.subscription import SBG
from clvmodels.formulas import sbg
from clvmodels.models import sbg_quantities as q
from clvmodels.models.docstrings import document_settings, interval_doc
from clvmodels.models.entry import fit_weights
from clvmodels.models.fitted import FittedParametricModel
from clvmodels.models.outputs import frame_of
from clvmodels.models.scoring import DEFAULT_N_DRAWS, CustomerData, check_uncertainty, evaluate

TENURE_COLUMNS = ("renewals", "churned")


def is_cohort_table(frame: pd.DataFrame) -> bool:
    """Whether ``frame`` is a cohort survival table (columns 0, 1, ..., k) rather than tenures."""
    cols = list(frame.columns)
    return bool(cols) and "renewals" not in cols and all(
        isinstance(c, (int, np.integer)) and c == i for i, c in enumerate(cols))


@document_settings
class ShiftedBetaGeoModel(FittedParametricModel):
    """Shifted-beta-geometric model of subscription renewals (contractual, discrete periods).

    Each subscriber renews at the end of every period with probability ``1 - theta`` until they
    leave for good; ``theta ~ Beta(alpha, beta)`` across subscribers (Fader & Hardie 2007).
    Periods are the billing period of the tenure table (its ``time_unit``: "D", "W", "M" or
    "Y"); every horizon and discount rate of the methods is per such period.

    References
    ----------
    Fader, P. S. & Hardie, B. G. S. (2007). How to project customer retention. Journal of
    Interactive Marketing 21(1), 76-90.
    Fader, P. S. & Hardie, B. G. S. (2010). Customer-base valuation in a contractual setting: the
    perils of ignoring heterogeneity. Marketing Science 29(1), 85-93.

    See Also
    --------
    clvmodels.subscription_tenures, clvmodels.cohort_survival : the tables it is fitted on.
    clvmodels.value.contractual.contractual_value : value, acquisition cost and break-even.

    Examples
    --------
    >>> import pandas as pd
    >>> from clvmodels.models.shifted_beta_geo import ShiftedBetaGeoModel
    >>> regular = [1000, 631, 468, 382, 326, 289, 262, 241]      # FH 2007, Table 1 (per 1,000)
    >>> table = pd.DataFrame([regular], index=pd.Index(["regular"], name="cohort"))
    >>> table.attrs["clvmodels"] = {"time_unit": "Y", "period": "Y"}
    >>> sbg = ShiftedBetaGeoModel().fit(table)
    >>> sbg.params_.round(3).to_dict()                          # FH 2007: 0.704, 1.182
    {'alpha': 0.704, 'beta': 1.182}
    """

    family = SBG
    param_names = SBG.param_names
    reads_time = True

    # ----- entry ---------------------------------------------------------------------------------
    def _check_summary(self, summary, fitting):
        if not isinstance(summary, pd.DataFrame):
            raise DataError(f"the sBG model reads a tenure table (DataFrame); got {type(summary).__name__}")
        missing = [c for c in TENURE_COLUMNS if c not in summary.columns]
        if missing:
            raise DataError(f"the tenure table lacks column(s) {missing}; build it with "
                            "clvmodels.subscription_tenures(log, observation_end=..., period=...) or "
                            "pass a cohort survival table (columns 0, 1, ...) from cohort_survival(...)")

    def _prepared(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The columns the model reads, validated: renewals (whole, >= 0), churned (bool), and
        the ``pool_by`` column as text when it holds periods or other objects (segment labels
        are stored as text, so a ``cohort`` column of ``pandas.Period`` matches at scoring)."""
        self._check_summary(frame, True)
        renewals = pd.to_numeric(frame["renewals"], errors="coerce").to_numpy(float)
        bad = ~(np.isfinite(renewals) & (renewals >= 0) & (renewals == np.round(renewals)))
        if bad.any():
            raise DataError(f"renewals must be whole numbers >= 0 (renewals made so far); not so in "
                            f"{describe_rows(frame.index[bad])}")
        churned = frame["churned"]
        if churned.dtype != bool:
            values = pd.to_numeric(churned, errors="coerce")
            wrong = ~values.isin([0, 1]).to_numpy()
            if wrong.any():
                raise DataError(f"churned must be True/False (or 1/0): whether the subscriber has left; "
                                f"not so in {describe_rows(frame.index[wrong])}")
            churned = values.astype(bool)
        out = pd.DataFrame({"renewals": renewals, "churned": churned.to_numpy(bool)}, index=frame.index)
        if self.pool_by is not None and self.pool_by in frame.columns:
            seg = frame[self.pool_by]
            keep = pd.api.types.is_string_dtype(seg.dtype) or pd.api.types.is_integer_dtype(seg.dtype)
            out[self.pool_by] = seg if keep else seg.map(lambda v: v if pd.isna(v) else str(v))
        out.attrs = {k: (dict(v) if isinstance(v, dict) else v) for k, v in frame.attrs.items()}
        return out

    def _customer_data(self, summary):
        return CustomerData({"renewals": summary["renewals"].to_numpy(float),
                             "churned": summary["churned"].to_numpy(float)})

    # ----- fitting -------------------------------------------------------------------------------
    def fit(self, summary: pd.DataFrame, weights=None):
        """Fit the sBG to a tenure table or a cohort survival table; returns ``self``.

        Parameters
        ----------
        summary : DataFrame
            Either one row per subscriber (unique index) with ``renewals`` and ``churned`` and
            the billing period as its time unit, as :func:`clvmodels.subscription_tenures`
            returns; or a cohort survival table (columns 0..k: customers still subscribed after
            t renewals, one row per cohort; :func:`clvmodels.cohort_survival`), whose index
            levels (e.g. ``cohort``, ``channel``) can be ``pool_by`` columns.
        weights : array-like, Series or str, optional
            Tenure tables only: how many identical subscribers each row stands for.

        Returns
        -------
        self

        Raises
        ------
        DataError
            Bad settings, a malformed table (renewals not whole, churned not boolean, no time
            unit, duplicate ids), weights given with a cohort table, an unknown ``pool_by``.
        ConvergenceError
            If the likelihood cannot be maximised (e.g. nobody ever left).
        """
        if isinstance(summary, pd.DataFrame) and is_cohort_table(summary):
            if weights is not None:
                raise DataError("weights= is for tenure tables; a cohort table's counts are its weights")
            from clvmodels.data.subscriptions import tenures_from_cohorts

            summary, weights = tenures_from_cohorts(summary), "customers"
        if isinstance(summary, pd.DataFrame) and weights is not None:
            weights = fit_weights(summary, weights)
        return super().fit(self._prepared(summary), weights)

    def _mle(self, columns, counts, start=None, **prior):
        from clvmodels.inference.mle import fit_mle

        renewals, churned = columns
        return fit_mle(
            lambda lp: sbg.neg_log_likelihood_and_grad(lp, renewals, churned, counts),
            SBG.start(renewals, churned, counts) if start is None else start,
            names=self.param_names, n_customers=float(counts.sum()), penalizer=self.penalizer, **prior,
        )

    def _bayes(self, columns, counts, segments, n_segments):
        from clvmodels.inference.bayes import fit_family_bayes

        return fit_family_bayes(
            SBG, tuple(columns), counts, priors=self.priors, sampler=self.sampler, chains=self.chains,
            draws=self.draws, tune=self.tune, seed=self.seed, progressbar=self.progressbar,
            segment=segments, n_segments=n_segments or None,
        )

    def _total_log_likelihood(self, params, columns, counts):
        renewals, churned = columns
        return float(np.sum(counts * sbg.log_likelihood(params["alpha"], params["beta"], renewals, churned)))

    # ----- per-subscriber predictions ------------------------------------------------------------
    def _score(self, summary, column, fn, sim, uncertainty, level, n_draws, seed) -> pd.DataFrame:
        self._check_fitted()
        frame = self._prepared(summary)
        self._check_scoring(frame)
        data = self._scoring_data(frame)
        kind = "expected" if uncertainty == "predictive" and sim is None else uncertainty
        result = evaluate(fn, [self], data, uncertainty=kind, level=level, n_draws=n_draws, seed=seed, sim=sim)
        return frame_of({column: result}, summary.index, kind)

    @interval_doc
    def p_still_subscribed(self, summary, periods: float = 1, *, uncertainty=None, level=0.9,
                           n_draws=DEFAULT_N_DRAWS, seed=None) -> pd.DataFrame:
        """Probability that each subscriber is still subscribed ``periods`` renewals from now.

        ``P(T > n + k | T > n) = B(alpha, beta + n + k) / B(alpha, beta + n)`` for a subscriber
        active after ``n`` renewals (FH 2007); 0 for one who has left. ``periods=1`` is the
        probability of making the next renewal.

        Parameters
        ----------
        summary : DataFrame
            Tenure table (``renewals``, ``churned``; and the ``pool_by`` column).
        periods : float, default 1
            Renewal decisions ahead (whole periods; a fraction counts the whole periods in it).
        <interval parameters>

        Returns
        -------
        DataFrame
            Indexed like ``summary``: ``p_still_subscribed`` (and its expected-value interval; a
            probability has no predictive interval).
        """
        return self._score(summary, "p_still_subscribed", q.still_subscribed(periods), None,
                           uncertainty, level, n_draws, seed)

    @interval_doc
    def expected_renewals(self, summary, horizon: float = np.inf, *, discount_rate: float = 0.0,
                          uncertainty=None, level=0.9, n_draws=DEFAULT_N_DRAWS, seed=None) -> pd.DataFrame:
        """Expected (discounted) number of future renewals of each subscriber.

        ``sum_{k=1}^{H} S(n + k) / S(n) (1 + d)^-k`` for a subscriber active after ``n``
        renewals: the k-th future renewal is k periods after the start of the current period
        (already paid, not counted); 0 for one who has left.

        Parameters
        ----------
        summary : DataFrame
            Tenure table.
        horizon : float, default inf
            Renewal decisions ahead (periods); inf for the whole remaining lifetime (finite
            undiscounted only when alpha > 1).
        discount_rate : float, default 0
            Per period (an annual rate r over monthly periods is ``(1 + r) ** (1/12) - 1``).
        <interval parameters>

        Returns
        -------
        DataFrame
            ``expected_renewals``; with ``uncertainty="predictive"`` the interval of the number
            of (discounted) renewals the subscriber will make, simulated from their posterior
            ``theta ~ Beta(alpha, beta + n)`` given survival to their tenure.
        """
        fn, sim = q.renewals(horizon, discount_rate)
        return self._score(summary, "expected_renewals", fn, sim, uncertainty, level, n_draws, seed)

    @interval_doc
    def derl(self, summary, discount_rate: float, *, uncertainty=None, level=0.9,
             n_draws=DEFAULT_N_DRAWS, seed=None) -> pd.DataFrame:
        """Discounted expected residual lifetime of each subscriber (Fader & Hardie 2010).

        ``DERL = (beta + n)/(alpha + beta + n) 2F1(1, beta + n + 1; alpha + beta + n + 1; 1/(1+d))``
        after ``n`` renewals: the expected discounted payments still to come, valued at the next
        renewal decision (the next payment undiscounted), i.e. ``(1 + d)`` times
        :meth:`expected_renewals` at an infinite horizon. 0 for a subscriber who has left.

        Parameters
        ----------
        summary : DataFrame
            Tenure table.
        discount_rate : float
            Per period, > 0.
        <interval parameters>

        Returns
        -------
        DataFrame
            ``derl`` in payments (multiply by the margin per period for money).
        """
        fn, sim = q.derl(discount_rate)
        return self._score(summary, "derl", fn, sim, uncertainty, level, n_draws, seed)

    # ----- population curves and a new customer --------------------------------------------------
    def _population(self, column, fn, sim, t, uncertainty, level, n_draws, seed) -> pd.DataFrame:
        self._check_fitted()
        check_uncertainty(uncertainty, level)
        t = np.atleast_1d(np.asarray(t, float))
        labels = self.segments_ if self.pool_by is not None else [None]
        codes = np.repeat(np.arange(len(labels)), t.size)
        data = CustomerData({"t": np.tile(t, len(labels)), "renewals": np.zeros(codes.size)},
                            (codes if self.pool_by is not None else None,))
        kind = "expected" if uncertainty == "predictive" and sim is None else uncertainty
        result = evaluate(fn, [self], data, uncertainty=kind, level=level, n_draws=n_draws, seed=seed, sim=sim)
        if self.pool_by is None:
            index = pd.Index(t, name="t")
        else:
            index = pd.MultiIndex.from_arrays([np.repeat(labels, t.size), np.tile(t, len(labels))],
                                              names=[self.pool_by, "t"])
        return frame_of({column: result}, index, kind)

    @interval_doc
    def survival(self, t, *, uncertainty=None, level=0.9, n_draws=DEFAULT_N_DRAWS, seed=None) -> pd.DataFrame:
        """Share of a cohort still subscribed after ``t`` renewal decisions, ``S(t)`` (FH 2007 eq. 5).

        Parameters
        ----------
        t : array_like of float
            Whole periods >= 0.
        <interval parameters>

        Returns
        -------
        DataFrame
            Index ``t`` (``pool_by, t`` per segment); column ``survival`` in (0, 1].
        """
        return self._population("survival", q.survival_curve, None, t, uncertainty, level, n_draws, seed)

    @interval_doc
    def retention(self, t, *, uncertainty=None, level=0.9, n_draws=DEFAULT_N_DRAWS, seed=None) -> pd.DataFrame:
        """Retention rate of period ``t``, ``r_t = S(t)/S(t-1) = (beta+t-1)/(alpha+beta+t-1)`` (FH 2007 eq. 7).

        Parameters
        ----------
        t : array_like of float
            Periods >= 1.
        <interval parameters>

        Returns
        -------
        DataFrame
            Index ``t`` (``pool_by, t`` per segment); column ``retention``.
        """
        t = np.atleast_1d(np.asarray(t, float))
        if (t < 1).any():
            raise DataError(f"retention is defined from period 1 on (r_1 = S(1)/S(0)); got t = {t[t < 1][:5].tolist()}")
        return self._population("retention", q.retention_curve, None, t, uncertainty, level, n_draws, seed)

    @interval_doc
    def discounted_expected_lifetime(self, discount_rate: float = 0.0, *, uncertainty=None, level=0.9,
                                     n_draws=DEFAULT_N_DRAWS, seed=None) -> pd.DataFrame:
        """DEL of a new customer: ``sum_{t>=0} S(t) (1+d)^-t = 2F1(1, beta; alpha+beta; 1/(1+d))``.

        The first payment at acquisition (undiscounted), the t-th renewal t periods later
        (Fader & Hardie 2010). Times the margin per period it is a new customer's expected
        lifetime value, the break-even acquisition cost.

        Parameters
        ----------
        discount_rate : float, default 0
            Per period (with 0 finite only for alpha > 1: then ``(alpha+beta-1)/(alpha-1)``).
        <interval parameters>

        Returns
        -------
        DataFrame
            One row (per segment with ``pool_by``): ``del`` in payments; with
            ``uncertainty="predictive"`` the interval of the discounted number of payments one
            new customer will make.
        """
        fn, sim = q.new_customer_lifetime(discount_rate)
        out = self._population("del", fn, sim, [0.0], uncertainty, level, n_draws, seed)
        return out.droplevel("t") if self.pool_by is not None else out.reset_index(drop=True)
