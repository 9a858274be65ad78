"""One scikit-learn style estimator for every purchase-and-dropout family of the contract.

:class:`PurchaseModel` is written once against :class:`~clvmodels.families.PurchaseFamily`: fitting
(the family's negative log-likelihood on distinct rows with counts; Bayes through
:func:`~clvmodels.inference.bayes.fit_family_bayes`), every prediction with both interval kinds
(the family's P(alive) times its alive branch, evaluated once per distinct alive key), and the
predictive simulator (latents from each customer's exact posterior, then futures). It never asks
which family it holds. A concrete model (:class:`~clvmodels.BetaGeoModel`,
:class:`~clvmodels.ParetoNBDModel`, ...) only names its family and documents it.

Customer arrays are keyed by the family's ``history_columns`` (summary column names) and passed
to the family positionally in that order.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from clvmodels.data.checks import check_history_columns
from clvmodels.errors import DataError
from clvmodels.families.contract import PurchaseFamily
from clvmodels.models.docstrings import interval_doc
from clvmodels.models.fitted import FittedParametricModel
from clvmodels.models.grouped import GroupMember
from clvmodels.models.new_customer import NewCustomerPredictions
from clvmodels.models.purchase_quantities import PurchaseQuantities
from clvmodels.models.scoring import DEFAULT_N_DRAWS, CustomerData


def _check_horizon(horizon) -> float:
    if not (np.isscalar(horizon) and np.isfinite(horizon) and horizon > 0):
        raise DataError(
            f"horizon must be a positive number of periods in the summary's time unit; got {horizon!r}"
        )
    return float(horizon)


class PurchaseModel(PurchaseQuantities, NewCustomerPredictions, FittedParametricModel):
    """A purchase-and-dropout model of any family of the contract (see the module docstring).

    Subclasses set the class attribute ``family``; the settings are those of every model class
    (keyword-only, stored as given; ``fit`` returns the model). Every prediction method takes a
    customer summary with the family's ``history_columns`` and returns a DataFrame indexed by
    customer id; intervals are described in each concrete class's docstring.
    """

    #: the family's formulas (a :class:`~clvmodels.families.PurchaseFamily`); set by subclasses
    family: PurchaseFamily

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "family" in cls.__dict__:
            cls.param_names = tuple(cls.family.param_names)

    def _check_summary(self, summary, fitting):
        check_history_columns(summary, self.family)

    def _customer_data(self, summary):
        return CustomerData({column: summary[column].to_numpy(float)
                             for column in self.family.history_columns})

    def _mle(self, columns, counts, start=None, **prior):
        from clvmodels.inference.mle import fit_mle

        family = self.family
        return fit_mle(
            lambda lp: family.neg_log_likelihood_and_grad(lp, *columns, counts),
            family.start(*columns, counts) if start is None else start,
            names=self.param_names,
            n_customers=float(counts.sum()),
            penalizer=self.penalizer,
            **prior,
        )

    def _bayes(self, columns, counts, segments, n_segments):
        from clvmodels.inference.bayes import fit_family_bayes

        return fit_family_bayes(
            self.family, columns, counts, priors=self.priors, sampler=self.sampler,
            chains=self.chains, draws=self.draws, tune=self.tune, seed=self.seed,
            progressbar=self.progressbar, segment=segments, n_segments=n_segments or None,
        )

    def _total_log_likelihood(self, params, columns, counts):
        log_params = np.log([float(params[name]) for name in self.param_names])
        value, _ = self.family.neg_log_likelihood_and_grad(log_params, *columns, counts)
        return -float(value)

    @interval_doc
    def p_alive(self, summary, *, uncertainty=None, level=0.9, n_draws=DEFAULT_N_DRAWS, seed=None):
        """Probability that each customer is still alive at the end of observation.

        The family's P(alive | history) (for BG/NBD FHL 2005 eq. 13, computed as expit of a
        log-odds so long histories stay finite).

        Parameters
        ----------
        summary : DataFrame
            Customers to score: the family's ``history_columns`` (``frequency``, ``recency``,
            ``T`` in the fit's time unit, as :func:`clvmodels.rfm_summary` builds it, for the
            continuous-time families), one row per customer.
        <interval parameters>

        Returns
        -------
        DataFrame
            Indexed like ``summary``: ``p_alive`` (and ``p_alive_lower``/``p_alive_upper`` with
            ``uncertainty="expected"``).

        Raises
        ------
        NotFittedError
            If the model is not fitted.
        DataError
            If the summary is malformed or in another time unit, or ``uncertainty="predictive"``.

        See Also
        --------
        p_dropped_out : its complement, churn now.
        churn_probability : dropped out by the end of a horizon.

        Examples
        --------
        >>> from clvmodels import BetaGeoModel
        >>> from clvmodels.datasets import load_cdnow_summary
        >>> summary = load_cdnow_summary()
        >>> bg = BetaGeoModel().fit(summary)
        >>> bool(bg.p_alive(summary)["p_alive"].between(0, 1).all())
        True
        """
        self._no_predictive(uncertainty, "p_alive")
        return self._frame(summary, [("p_alive", self._p_alive_fn(), None)], uncertainty=uncertainty, level=level,
                           n_draws=n_draws, seed=seed)

    @interval_doc
    def p_dropped_out(self, summary, *, uncertainty=None, level=0.9, n_draws=DEFAULT_N_DRAWS, seed=None):
        """Probability that each customer has already dropped out at the end of observation.

        ``1 - P(alive)``: churn *now*.

        Parameters
        ----------
        summary : DataFrame
            Customers to score (the family's history columns, in the fit's time unit).
        <interval parameters>

        Returns
        -------
        DataFrame
            Indexed like ``summary``: ``p_dropped_out`` (and its ``_lower``/``_upper`` bounds).

        Raises
        ------
        DataError
            If the summary is malformed or ``uncertainty="predictive"``.

        See Also
        --------
        p_alive, churn_probability

        Examples
        --------
        >>> from clvmodels import BetaGeoModel
        >>> from clvmodels.datasets import load_cdnow_summary
        >>> summary = load_cdnow_summary()
        >>> bg = BetaGeoModel().fit(summary)
        >>> both = bg.p_dropped_out(summary)["p_dropped_out"] + bg.p_alive(summary)["p_alive"]
        >>> bool(np.allclose(both, 1.0))
        True
        """
        self._no_predictive(uncertainty, "p_dropped_out")
        quantities = [("p_alive", self._p_alive_fn(), None), ("p_dropped_out", "p_alive", None)]
        out = self._frame(summary, quantities, uncertainty=uncertainty, level=level, n_draws=n_draws,
                          seed=seed)
        return self._only(out, "p_dropped_out")

    @interval_doc
    def churn_probability(self, summary, horizon, *, uncertainty=None, level=0.9,
                          n_draws=DEFAULT_N_DRAWS, seed=None):
        """Probability that each customer has dropped out by the END of the next ``horizon`` periods.

        ``1 - P(alive at T + horizon)``: the quantity the export and :meth:`predict` call
        ``churn_probability``. Churn now (``horizon=0``) is :meth:`p_dropped_out`; this method
        gives the same number at ``horizon=0``.

        Parameters
        ----------
        summary : DataFrame
            Customers to score (the family's history columns, in the fit's time unit).
        horizon : float
            Periods after the end of observation, >= 0, in the summary's time unit (weeks for a
            ``time_unit="W"`` summary). No default, since churn depends on it.
        <interval parameters>

        Returns
        -------
        DataFrame
            Indexed like ``summary``: ``churn_probability`` (and its bounds).

        Raises
        ------
        DataError
            If ``horizon`` is negative or not a number, or ``uncertainty="predictive"``.

        See Also
        --------
        p_dropped_out : churn now.

        Examples
        --------
        >>> from clvmodels import BetaGeoModel
        >>> from clvmodels.datasets import load_cdnow_summary
        >>> summary = load_cdnow_summary()
        >>> bg = BetaGeoModel().fit(summary)
        >>> later = bg.churn_probability(summary, 52)["churn_probability"]
        >>> bool((later >= bg.p_dropped_out(summary)["p_dropped_out"] - 1e-12).all())
        True
        """
        self._no_predictive(uncertainty, "churn_probability")
        number = isinstance(horizon, (int, float, np.number)) and not isinstance(horizon, bool)
        h = horizon if number else np.nan
        if not (np.isfinite(h) and h >= 0):
            raise DataError(f"horizon must be a number of periods >= 0 in the summary's time unit; "
                            f"got {horizon!r}")
        h = float(h)
        if h == 0:  # dropped out by now: the complement of P(alive), no survival function needed
            quantities = [("p_alive", self._p_alive_fn(), None), ("churn_probability", "p_alive", None)]
        else:
            quantities = [("churn_probability", self._churn_by(h), None)]
        out = self._frame(summary, quantities, uncertainty=uncertainty, level=level, n_draws=n_draws,
                          seed=seed)
        return self._only(out, "churn_probability")

    @interval_doc
    def expected_purchases(self, summary, horizon, *, uncertainty=None, level=0.9,
                           n_draws=DEFAULT_N_DRAWS, seed=None):
        """Expected number of purchases in the next ``horizon`` periods given each history.

        P(alive) times the family's alive-branch expectation (for BG/NBD FHL 2005 eq. 10, in a
        form without the frequency in an exponent, stable for thousands of purchases).

        Parameters
        ----------
        summary : DataFrame
            Customers to score (the family's history columns, in the fit's time unit).
        horizon : float
            Periods after the end of observation, > 0, in the summary's time unit.
        <interval parameters>

        Returns
        -------
        DataFrame
            Indexed like ``summary``: ``expected_purchases`` (and its bounds).

        Raises
        ------
        DataError
            If ``horizon`` is not a positive number or the summary is malformed.

        See Also
        --------
        predict : every prediction in one frame.

        Examples
        --------
        The customer of FHL (2005) with x=2, t_x=30.43, T=38.86 (weeks) expects 1.226 purchases
        in the next 39 weeks:

        >>> from clvmodels import BetaGeoModel, as_summary
        >>> from clvmodels.datasets import load_cdnow_summary
        >>> bg = BetaGeoModel().fit(load_cdnow_summary())
        >>> one = as_summary(pd.DataFrame({"frequency": [2], "recency": [30.43], "T": [38.86]}),
        ...                  time_unit="W", observation_end="1997-09-30")
        >>> round(float(bg.expected_purchases(one, 39)["expected_purchases"].iloc[0]), 3)
        1.226
        """
        h = _check_horizon(horizon)
        return self._frame(summary, [("expected_purchases", *self._purchases(h))], uncertainty=uncertainty,
                           level=level, n_draws=n_draws, seed=seed)

    @interval_doc
    def purchase_probability(self, summary, horizon, n: int | Sequence[int] = 0, *, uncertainty=None,
                             level=0.9, n_draws=DEFAULT_N_DRAWS, seed=None):
        """P(exactly n purchases in the next ``horizon`` periods | history).

        Parameters
        ----------
        summary : DataFrame
            Customers to score (the family's history columns, in the fit's time unit).
        horizon : float
            Periods after the end of observation, > 0, in the summary's time unit.
        n : int or sequence of int, default 0
            Purchase counts (whole numbers >= 0); one column per count.
        <interval parameters>

        Returns
        -------
        DataFrame
            Indexed like ``summary``: one column ``p_<n>`` per requested n (and its bounds).

        Raises
        ------
        DataError
            If an ``n`` is not a whole number >= 0, or ``uncertainty="predictive"``.

        Examples
        --------
        >>> from clvmodels import BetaGeoModel
        >>> from clvmodels.datasets import load_cdnow_summary
        >>> summary = load_cdnow_summary()
        >>> bg = BetaGeoModel().fit(summary)
        >>> list(bg.purchase_probability(summary, 39, n=[0, 1, 2]).columns)
        ['p_0', 'p_1', 'p_2']
        """
        self._no_predictive(uncertainty, "purchase_probability")
        h = _check_horizon(horizon)
        counts = [n] if np.isscalar(n) else list(n)
        if any((int(k) != k) or k < 0 for k in counts):
            raise DataError(f"n must be whole numbers >= 0; got {counts}")
        quantities = [
            (f"p_{int(k)}", self._probability_of(h, int(k)), None)
            for k in counts
        ]
        return self._frame(summary, quantities, uncertainty=uncertainty, level=level,
                           n_draws=n_draws, seed=seed)

    @interval_doc
    def predict(self, summary, horizon, *, spend_model=None, uncertainty=None, level=0.9,
                n_draws=DEFAULT_N_DRAWS, seed=None) -> pd.DataFrame:
        """Every per-customer prediction in one frame.

        Parameters
        ----------
        summary : DataFrame
            Customers to score (the family's history columns in the fit's time unit; with a
            ``spend_model`` also ``monetary_value``).
        horizon : float
            Periods after the end of observation, > 0, in the summary's time unit (e.g. 39 for 39
            weeks of a ``time_unit="W"`` summary).
        spend_model : GammaGammaModel, optional
            A fitted spend model; adds ``expected_spend`` and ``expected_revenue``.
        <interval parameters>

        Returns
        -------
        DataFrame
            Indexed like ``summary``, columns as below (each with ``_lower``/``_upper`` when
            ``uncertainty`` is given); ``attrs["clvmodels"]`` records uncertainty, level, draws,
            seed, method and time unit.

        Raises
        ------
        NotFittedError
            If this model or ``spend_model`` is not fitted.
        DataError
            If ``horizon`` is not positive or the summary is malformed.

        See Also
        --------
        clvmodels.customer_value : discounted value net of acquisition cost.

        Notes
        -----
        Columns, in this order: ``p_alive`` (alive at the end of observation), ``p_dropped_out``
        (already dropped out then: ``1 - p_alive``, churn *now*), ``churn_probability`` (dropped
        out by the END of the horizon, as in the export), ``prob_no_purchase`` (no purchase within
        the horizon), ``expected_purchases`` (within the horizon), and with a fitted
        :class:`GammaGammaModel` as ``spend_model`` also ``expected_spend`` (per purchase) and
        ``expected_revenue`` (over the horizon, undiscounted). ``horizon`` is in the summary's time
        unit. Defaults: no interval (``uncertainty=None``), else at ``level=0.9`` from
        ``n_draws=300`` parameter draws. Intervals as described in the class docstring; paired
        draws of both models are used for quantities that need both.

        Examples
        --------
        >>> from clvmodels import BetaGeoModel, GammaGammaModel
        >>> from clvmodels.datasets import load_cdnow_summary
        >>> summary = load_cdnow_summary()
        >>> bg, gg = BetaGeoModel().fit(summary), GammaGammaModel().fit(summary)
        >>> out = bg.predict(summary, 39, spend_model=gg)
        >>> list(out.columns)
        ['p_alive', 'p_dropped_out', 'churn_probability', 'prob_no_purchase', 'expected_purchases', 'expected_spend', 'expected_revenue']
        """
        h = _check_horizon(horizon)
        # the probabilities (and, without a spend model, the expected purchases) share P(alive):
        # one pass over the draws computes them together (models/grouped.py; same numbers)
        group = self._predict_group(h, with_purchases=spend_model is None)
        quantities = [
            (None, group, None),
            ("p_alive", GroupMember("p_alive"), None),
            ("p_dropped_out", "p_alive", None),
            ("churn_probability", GroupMember("churn_probability"), None),
            ("prob_no_purchase", GroupMember("prob_no_purchase"), None),
        ]
        if spend_model is None:
            quantities.append(("expected_purchases", GroupMember("expected_purchases"),
                               group.sims["expected_purchases"]))
            return self._frame(summary, quantities, uncertainty=uncertainty, level=level,
                               n_draws=n_draws, seed=seed)
        from clvmodels.models.gamma_gamma import revenue_quantity, spend_quantity

        # expected purchases come out of the revenue pass, which evaluates them anyway
        quantities += [(("expected_purchases", "expected_revenue"), revenue_quantity(*self._purchases(h)), None),
                       spend_quantity()]
        out = self._frame(summary, quantities, uncertainty=uncertainty, level=level,
                          n_draws=n_draws, seed=seed, spend_model=spend_model)
        spend = [c for c in out.columns if c.startswith("expected_spend")]
        revenue = [c for c in out.columns if c.startswith("expected_revenue")]
        return out[[c for c in out.columns if c not in spend + revenue] + spend + revenue]
