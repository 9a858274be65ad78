"""BG/NBD purchase-and-dropout model (Fader, Hardie & Lee 2005) as a scikit-learn style estimator."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from clvmodels.data.checks import check_rfm_summary
from clvmodels.errors import DataError
from clvmodels.families.bgnbd import BGNBD
from clvmodels.formulas import bgnbd
from clvmodels.models import histories
from clvmodels.models.docstrings import document_settings, interval_doc
from clvmodels.models.fitted import FittedParametricModel
from clvmodels.models.outputs import add_columns
from clvmodels.models.paired import ProductQuantity, evaluate_product
from clvmodels.models.scoring import (
    DEFAULT_N_DRAWS,
    CustomerData,
    cheap,
    complement,
    evaluate,
)

_bg = histories.bg_params


def _hist(D):
    return D["x"], D["t_x"], D["T"]


@cheap
def _p_alive(P, D):
    return bgnbd.p_alive(*_bg(P), *_hist(D))


def _purchases(h: float):
    """Expected purchases in the next ``h`` periods and their simulator, as quantity functions."""
    return (lambda P, D: histories.expected_purchases(P, D, h),
            lambda rng, P, D: simulate_purchases(rng, P, D, h))


def _churn_by(h: float):
    """Probability of having dropped out by ``h`` periods after T, as a quantity function."""
    return lambda P, D: 1.0 - histories.p_alive_at(P, D, h)


def _check_horizon(horizon) -> float:
    if not (np.isscalar(horizon) and np.isfinite(horizon) and horizon > 0):
        raise DataError(
            f"horizon must be a positive number of periods in the summary's time unit; got {horizon!r}"
        )
    return float(horizon)


def simulate_purchases(rng, P, D, horizon):
    """Predictive draws of each customer's purchase count in the next ``horizon`` periods, (S, n)."""
    from clvmodels.formulas import individual

    alive, lam, p = individual.sample_bgnbd_latents(rng, *_bg(P), *_hist(D))
    return individual.simulate_purchase_counts(rng, alive, lam, p, horizon)


@document_settings
class BetaGeoModel(FittedParametricModel):
    """BG/NBD model of repeat purchasing and dropout.

    Purchases of an alive customer follow a Poisson process with rate ``lambda ~ Gamma(r, alpha)``;
    after each purchase the customer drops out with probability ``p ~ Beta(a, b)``
    (Fader, Hardie & Lee 2005, "Counting your customers the easy way").

    The settings below are keyword-only and stored as given (scikit-learn style); ``fit`` returns
    the model. With ``pool_by="channel"`` each channel gets its own parameters under either
    method, so a channel's new customer, break-even acquisition cost and payback are its own.
    Horizons are in the summary's time unit (``rfm_summary(..., time_unit="W")``: weeks).

    "Alive" means not yet dropped out. In BG/NBD a customer can drop out only right after a
    repeat purchase, so a customer who never bought again (frequency 0) is alive with
    probability 1 however long ago they bought; their expected purchases are still low, because
    a long silence points to a low purchase rate. The model is non-contractual: dropout is never
    observed; subscriptions need a contractual model. ``p_alive`` is P(alive) at the end of
    observation, ``p_dropped_out`` its complement (churn now) and ``churn_probability`` the
    probability of having dropped out by the END of a horizon.

    Every prediction method takes a customer summary and returns a DataFrame indexed by customer
    id. With ``uncertainty="expected"`` it adds ``<q>_lower``/``<q>_upper``: the interval of the
    expected value (parameter uncertainty; Laplace draws for MLE, posterior draws for Bayes). With
    ``uncertainty="predictive"`` outcome quantities (purchase counts) get the interval of what the
    customer will actually do, simulated from the exact individual-level posterior (once per
    distinct (frequency, recency, T) row, since customers with the same row have the same
    predictive distribution); probabilities are not outcomes, so their interval is always the
    expected-value one. Intervals are computed in chunks on a few threads and depend only on the
    seed, not on the number of threads or the order of the customers.

    References
    ----------
    Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting your customers" the easy way:
    an alternative to the Pareto/NBD model. Marketing Science 24(2), 275-284.

    See Also
    --------
    GammaGammaModel : spend per purchase, for revenue and value.
    clvmodels.customer_value : discounted value net of acquisition cost.

    Examples
    --------
    >>> from clvmodels import BetaGeoModel
    >>> from clvmodels.datasets import load_cdnow_summary
    >>> summary = load_cdnow_summary()          # CDNOW sample: 2,357 customers, weeks
    >>> bg = BetaGeoModel().fit(summary)
    >>> bg.params_.round(3).to_dict()           # Fader, Hardie & Lee (2005): 0.243, 4.414, 0.793, 2.426
    {'r': 0.243, 'alpha': 4.414, 'a': 0.793, 'b': 2.426}
    >>> out = bg.predict(summary, 39, uncertainty="expected", seed=0)   # 39 weeks ahead
    >>> list(out.columns[:3])
    ['p_alive', 'p_alive_lower', 'p_alive_upper']
    """

    family = BGNBD
    param_names = bgnbd.PARAM_NAMES

    def _check_summary(self, summary, fitting):
        check_rfm_summary(summary)

    def _customer_data(self, summary):
        return CustomerData({
            "x": summary["frequency"].to_numpy(float),
            "t_x": summary["recency"].to_numpy(float),
            "T": summary["T"].to_numpy(float),
        })

    def _mle(self, columns, counts, start=None, **prior):
        from clvmodels.inference.mle import fit_mle

        x, t_x, T = columns
        x = x.astype(np.int64)  # integer frequencies let the likelihood tabulate x-only terms once per value
        alpha0 = max(float(np.sum(counts * T) / max(np.sum(counts * x), 1.0)), 1e-3)
        return fit_mle(
            lambda lp: bgnbd.neg_log_likelihood_and_grad(lp, x, t_x, T, counts),
            np.log([1.0, alpha0, 1.0, 1.0]) if start is None else start,
            names=self.param_names,
            n_customers=float(counts.sum()),
            penalizer=self.penalizer,
            **prior,
        )

    def _bayes(self, columns, counts, segments, n_segments):
        from clvmodels.inference.bayes import fit_bgnbd_bayes

        x, t_x, T = columns
        return fit_bgnbd_bayes(
            x, t_x, T, counts, priors=self.priors, sampler=self.sampler, chains=self.chains,
            draws=self.draws, tune=self.tune, seed=self.seed, progressbar=self.progressbar,
            segment=segments, n_segments=n_segments or None,
        )

    def _total_log_likelihood(self, params, columns, counts):
        x, t_x, T = columns
        ll = bgnbd.log_likelihood(params["r"], params["alpha"], params["a"], params["b"], x, t_x, T)
        return float(np.sum(counts * ll))

    # ----- predictions ---------------------------------------------------------------------------
    def _frame(self, summary, quantities, *, uncertainty, level, n_draws, seed,
               spend_model=None) -> pd.DataFrame:
        """Evaluate named quantities into one DataFrame indexed like ``summary``.

        quantities : list of (column, what, simulator or None[, uses]). ``what`` is a quantity
            function, a :class:`~clvmodels.models.paired.ProductQuantity` of this model and the
            spend model (``column`` then names its two columns: the purchase factor and the
            product), or the name of an earlier column whose complement (1 - it) this column is.
            ``uses`` is "purchase" (default) or "spend": which model's parameters and data it reads.
        """
        self._check_scoring(summary)
        # one CustomerData per model, so each compresses its rows once for all quantities
        inputs = {"purchase": ([self], self._scoring_data(summary))}
        if spend_model is not None:
            spend_model._check_scoring(summary)
            inputs["spend"] = ([spend_model], spend_model._scoring_data(summary))
        out = pd.DataFrame(index=summary.index)
        results = {}
        for column, what, sim, *uses in quantities:
            is_outcome = sim is not None or isinstance(what, ProductQuantity)
            kind = uncertainty if (uncertainty != "predictive" or is_outcome) else "expected"
            if isinstance(what, str):
                result = complement(results[what])
            elif isinstance(what, ProductQuantity):  # two columns: the purchase factor and the product
                both = evaluate_product(what, [self, spend_model],
                                        [inputs["purchase"][1], inputs["spend"][1]],
                                        uncertainty=kind, level=level, n_draws=n_draws, seed=seed)
                first_column, column = column
                add_columns(out, first_column, both["first"], kind)
                result = both["product"]
            else:
                models, data = inputs[uses[0] if uses else "purchase"]
                result = evaluate(what, models, data, uncertainty=kind, level=level, n_draws=n_draws,
                                  seed=seed, sim=sim)
            results[column] = result
            add_columns(out, column, result, kind)
        out.attrs["clvmodels"] = {"uncertainty": uncertainty, "level": level, "n_draws": n_draws,
                                  "seed": seed, "method": self.method, "time_unit": self.time_unit_}
        return out

    def _no_predictive(self, uncertainty, what):
        if uncertainty == "predictive":
            raise DataError(
                f"{what} is a probability, not an outcome, so it has no predictive interval; use "
                "uncertainty='expected' for its parameter-uncertainty interval"
            )

    @interval_doc
    def p_alive(self, summary, *, uncertainty=None, level=0.9, n_draws=DEFAULT_N_DRAWS, seed=None):
        """Probability that each customer is still alive at the end of observation.

        FHL 2005 eq. 13, computed as expit of a log-odds so long histories stay finite.

        Parameters
        ----------
        summary : DataFrame
            Customers to score: ``frequency``, ``recency``, ``T`` in the fit's time unit (as
            :func:`clvmodels.rfm_summary` builds it), one row per customer.
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
        return self._frame(summary, [("p_alive", _p_alive, None)], uncertainty=uncertainty, level=level,
                           n_draws=n_draws, seed=seed)

    def _only(self, out: pd.DataFrame, column: str) -> pd.DataFrame:
        """Keep ``column`` (and its bounds) of a frame that computed helper columns too."""
        keep = [c for c in out.columns if c in (column, f"{column}_lower", f"{column}_upper")]
        kinds = {k: v for k, v in out.attrs.get("interval_kinds", {}).items() if k == column}
        result = out[keep]
        result.attrs = {**out.attrs, **({"interval_kinds": kinds} if kinds else {})}
        if not kinds:
            result.attrs.pop("interval_kinds", None)
        return result

    @interval_doc
    def p_dropped_out(self, summary, *, uncertainty=None, level=0.9, n_draws=DEFAULT_N_DRAWS, seed=None):
        """Probability that each customer has already dropped out at the end of observation.

        ``1 - P(alive)``: churn *now* (FHL 2005 eq. 13).

        Parameters
        ----------
        summary : DataFrame
            Customers to score (``frequency``, ``recency``, ``T`` in the fit's time unit).
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
        quantities = [("p_alive", _p_alive, None), ("p_dropped_out", "p_alive", None)]
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
            Customers to score (``frequency``, ``recency``, ``T`` in the fit's time unit).
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
            quantities = [("p_alive", _p_alive, None), ("churn_probability", "p_alive", None)]
        else:
            quantities = [("churn_probability", _churn_by(h), None)]
        out = self._frame(summary, quantities, uncertainty=uncertainty, level=level, n_draws=n_draws,
                          seed=seed)
        return self._only(out, "churn_probability")

    @interval_doc
    def expected_purchases(self, summary, horizon, *, uncertainty=None, level=0.9,
                           n_draws=DEFAULT_N_DRAWS, seed=None):
        """Expected number of purchases in the next ``horizon`` periods given each history.

        FHL 2005 eq. 10, in a form without the frequency in an exponent (stable for thousands of
        purchases).

        Parameters
        ----------
        summary : DataFrame
            Customers to score (``frequency``, ``recency``, ``T`` in the fit's time unit).
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
        return self._frame(summary, [("expected_purchases", *_purchases(h))], uncertainty=uncertainty,
                           level=level, n_draws=n_draws, seed=seed)

    @interval_doc
    def purchase_probability(self, summary, horizon, n: int | Sequence[int] = 0, *, uncertainty=None,
                             level=0.9, n_draws=DEFAULT_N_DRAWS, seed=None):
        """P(exactly n purchases in the next ``horizon`` periods | history).

        Parameters
        ----------
        summary : DataFrame
            Customers to score (``frequency``, ``recency``, ``T`` in the fit's time unit).
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
            (f"p_{int(k)}", (lambda k: lambda P, D: bgnbd.purchase_probability(*_bg(P), *_hist(D), h, k))(int(k)), None)
            for k in counts
        ]
        return self._frame(summary, quantities, uncertainty=uncertainty, level=level,
                           n_draws=n_draws, seed=seed)

    @interval_doc
    def expected_purchases_new(self, horizons, *, segment=None, uncertainty=None, level=0.9,
                               n_draws=DEFAULT_N_DRAWS, seed=None) -> pd.DataFrame:
        """Expected repeat purchases of a newly acquired customer within each horizon (FHL 2005 eq. 9).

        Parameters
        ----------
        horizons : float or array-like of float
            Periods since acquisition, each > 0, in the fit's time unit.
        segment : str or int, optional
            Required for a model pooled by segment (refused otherwise): whose new customer.
        <interval parameters>

        Returns
        -------
        DataFrame
            Indexed by ``horizon``: ``expected_purchases`` (and its bounds).

        Raises
        ------
        DataError
            If a horizon is not positive, or ``segment`` is missing or not allowed.

        Examples
        --------
        >>> from clvmodels import BetaGeoModel
        >>> from clvmodels.datasets import load_cdnow_summary
        >>> bg = BetaGeoModel().fit(load_cdnow_summary())
        >>> bg.expected_purchases_new([39, 78]).index.tolist()
        [39.0, 78.0]
        """
        self._check_fitted()
        self._no_predictive(uncertainty, "expected_purchases_new (a population mean)")
        t = np.atleast_1d(np.asarray(horizons, float))
        if not np.all(np.isfinite(t) & (t > 0)):
            raise DataError(f"horizons must be positive numbers of periods; got {list(t)}")
        if (self.pool_by is None) != (segment is None):
            raise DataError(
                f"segment= is needed for a model pooled by {self.pool_by!r} (one of "
                f"{list(self.segments_)[:10]})" if self.pool_by is not None else
                "segment= applies only to a model fitted with pool_by=")
        segments = (None,)
        if segment is not None:
            rows = pd.DataFrame({self.pool_by: [segment] * t.size})
            segments = (self._segment_codes(rows),)
        fn = lambda P, D: bgnbd.expected_purchases_new(*_bg(P), D["t"])
        result = evaluate(fn, [self], CustomerData({"t": t}, segments), uncertainty=uncertainty,
                          level=level, n_draws=n_draws, seed=seed)
        out = pd.DataFrame(index=pd.Index(t, name="horizon"))
        add_columns(out, "expected_purchases", result, uncertainty)
        return out

    @interval_doc
    def predict(self, summary, horizon, *, spend_model=None, uncertainty=None, level=0.9,
                n_draws=DEFAULT_N_DRAWS, seed=None) -> pd.DataFrame:
        """Every per-customer prediction in one frame.

        Parameters
        ----------
        summary : DataFrame
            Customers to score (``frequency``, ``recency``, ``T`` in the fit's time unit; with a
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
        quantities = [
            ("p_alive", _p_alive, None),
            ("p_dropped_out", "p_alive", None),
            ("churn_probability", _churn_by(h), None),
            ("prob_no_purchase", cheap(lambda P, D: bgnbd.prob_no_purchase(*_bg(P), *_hist(D), h)), None),
        ]
        if spend_model is None:
            quantities.append(("expected_purchases", *_purchases(h)))
            return self._frame(summary, quantities, uncertainty=uncertainty, level=level,
                               n_draws=n_draws, seed=seed)
        from clvmodels.models.gamma_gamma import revenue_quantity, spend_quantity

        # expected purchases come out of the revenue pass, which evaluates them anyway
        quantities += [(("expected_purchases", "expected_revenue"), revenue_quantity(*_purchases(h)), None),
                       spend_quantity()]
        out = self._frame(summary, quantities, uncertainty=uncertainty, level=level,
                          n_draws=n_draws, seed=seed, spend_model=spend_model)
        spend = [c for c in out.columns if c.startswith("expected_spend")]
        revenue = [c for c in out.columns if c.startswith("expected_revenue")]
        return out[[c for c in out.columns if c not in spend + revenue] + spend + revenue]
