"""BG/NBD purchase-and-dropout model (Fader, Hardie & Lee 2005) as a scikit-learn style estimator."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from clvmodels.data.checks import check_rfm_summary
from clvmodels.errors import DataError
from clvmodels.formulas import bgnbd
from clvmodels.models import histories
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


class BetaGeoModel(FittedParametricModel):
    """BG/NBD model of repeat purchasing and dropout.

    Purchases of an alive customer follow a Poisson process with rate ``lambda ~ Gamma(r, alpha)``;
    after each purchase the customer drops out with probability ``p ~ Beta(a, b)``
    (Fader, Hardie & Lee 2005, "Counting your customers the easy way").

    Settings are those of :class:`clvmodels.models.fitted.FittedParametricModel` (``method``,
    ``penalizer``, ``priors``, ``sampler``, ``chains``, ``draws``, ``tune``, ``pool_by``,
    ``shrinkage``, ``seed``). With ``pool_by="channel"`` each channel gets its own parameters under
    either method, so a channel's new customer, break-even acquisition cost and payback are its own.

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

    Examples
    --------
    >>> bg = BetaGeoModel().fit(summary)                              # doctest: +SKIP
    >>> bg.predict(summary, horizon=39, uncertainty="predictive")     # doctest: +SKIP
    """

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

    def p_alive(self, summary, *, uncertainty=None, level=0.9, n_draws=DEFAULT_N_DRAWS, seed=None):
        """Probability that each customer is still alive at the end of observation (FHL 2005 eq. 13,
        computed as expit of a log-odds)."""
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

    def p_dropped_out(self, summary, *, uncertainty=None, level=0.9, n_draws=DEFAULT_N_DRAWS, seed=None):
        """Probability that each customer has already dropped out at the end of observation,
        ``1 - P(alive)`` (churn *now*; FHL 2005 eq. 13). Column ``p_dropped_out``.

        Defaults: no interval (``uncertainty=None``); with ``uncertainty="expected"`` a 90%
        (``level=0.9``) parameter-uncertainty interval from ``n_draws=300`` draws.
        """
        self._no_predictive(uncertainty, "p_dropped_out")
        quantities = [("p_alive", _p_alive, None), ("p_dropped_out", "p_alive", None)]
        out = self._frame(summary, quantities, uncertainty=uncertainty, level=level, n_draws=n_draws,
                          seed=seed)
        return self._only(out, "p_dropped_out")

    def churn_probability(self, summary, horizon, *, uncertainty=None, level=0.9,
                          n_draws=DEFAULT_N_DRAWS, seed=None):
        """Probability that each customer has dropped out by the END of the next ``horizon``
        periods (summary time units), ``1 - P(alive at T + horizon)``: the quantity the export
        and :meth:`predict` call ``churn_probability``. Churn now (``horizon=0``) is
        :meth:`p_dropped_out`; this method gives the same number at ``horizon=0``.

        ``horizon`` has no default, since churn depends on it. Interval defaults as in
        :meth:`p_dropped_out`.
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

    def expected_purchases(self, summary, horizon, *, uncertainty=None, level=0.9,
                           n_draws=DEFAULT_N_DRAWS, seed=None):
        """Expected number of purchases in the next ``horizon`` periods (FHL 2005 eq. 10, in a form
        without the frequency in an exponent)."""
        h = _check_horizon(horizon)
        return self._frame(summary, [("expected_purchases", *_purchases(h))], uncertainty=uncertainty,
                           level=level, n_draws=n_draws, seed=seed)

    def purchase_probability(self, summary, horizon, n: int | Sequence[int] = 0, *, uncertainty=None,
                             level=0.9, n_draws=DEFAULT_N_DRAWS, seed=None):
        """P(exactly n purchases in the next ``horizon`` periods | history), one column ``p_<n>``
        per requested n."""
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

    def expected_purchases_new(self, horizons, *, segment=None, uncertainty=None, level=0.9,
                               n_draws=DEFAULT_N_DRAWS, seed=None) -> pd.DataFrame:
        """Expected repeat purchases of a newly acquired customer within each horizon (FHL 2005
        eq. 9), indexed by horizon (summary time units).

        ``segment`` (required for a model pooled by segment, refused otherwise) names the segment
        whose new customer is meant. Defaults: no interval; else ``level=0.9`` from
        ``n_draws=300`` parameter draws.
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

    def predict(self, summary, horizon, *, spend_model=None, uncertainty=None, level=0.9,
                n_draws=DEFAULT_N_DRAWS, seed=None) -> pd.DataFrame:
        """Every per-customer prediction in one frame.

        Columns, in this order: ``p_alive`` (alive at the end of observation), ``p_dropped_out``
        (already dropped out then: ``1 - p_alive``, churn *now*), ``churn_probability`` (dropped
        out by the END of the horizon, as in the export), ``prob_no_purchase`` (no purchase within
        the horizon), ``expected_purchases`` (within the horizon), and with a fitted
        :class:`GammaGammaModel` as ``spend_model`` also ``expected_spend`` (per purchase) and
        ``expected_revenue`` (over the horizon, undiscounted). ``horizon`` is in the summary's time
        unit. Defaults: no interval (``uncertainty=None``), else at ``level=0.9`` from
        ``n_draws=300`` parameter draws. Intervals as described in the class docstring; paired
        draws of both models are used for quantities that need both.
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
