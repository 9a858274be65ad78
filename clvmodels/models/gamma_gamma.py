"""Gamma-Gamma model of spend per transaction (Fader & Hardie 2013) as a scikit-learn style estimator."""

from __future__ import annotations

import numpy as np
import pandas as pd

from clvmodels.data.checks import check_monetary_summary
from clvmodels.errors import DataError
from clvmodels.families.spend import GAMMAGAMMA
from clvmodels.formulas import gammagamma
from clvmodels.models.docstrings import document_settings, interval_doc
from clvmodels.models.fitted import FittedParametricModel
from clvmodels.models.outputs import FrameColumns
from clvmodels.models.paired import ProductQuantity
from clvmodels.models.scoring import DEFAULT_N_DRAWS, CustomerData, cheap, evaluate


def _gg(P):
    return P["p"], P["q"], P["gamma"]


def _spend(D):
    return D["x"], D["mbar"]


@cheap
def _expected_spend(P, D):
    return gammagamma.expected_spend(*_gg(P), *_spend(D))


def _simulate_one_spend(rng, P, D):
    """Predictive draws of the value of the customer's next purchase, shape (S, n)."""
    from clvmodels.formulas import individual

    return individual.simulate_spend_given_history(rng, None, *_gg(P), *_spend(D))


def spend_quantity():
    """(column, quantity, simulator, uses) of expected spend per purchase, for combined predictions."""
    return ("expected_spend", _expected_spend, _simulate_one_spend, "spend")


def revenue_quantity(purchases, simulate_purchases) -> ProductQuantity:
    """Revenue over a horizon (BG/NBD x Gamma-Gamma) as a product of the two models.

    Expected revenue is E[purchases] x E[spend per purchase], since the purchase and spend processes
    are independent; its predictive draws sum simulated spends over simulated purchases.

    Parameters
    ----------
    purchases, simulate_purchases : callable
        The purchase model's expected purchases over the horizon ``(params, data) -> (S, n)`` and
        their simulator ``(rng, params, data) -> (S, n)`` counts.
    """

    def spend_of(rng, P, D, counts):
        """Total spend of ``counts`` purchases (S, n), drawn only where a customer buys, since most
        simulated customers buy nothing in the horizon."""
        from clvmodels.formulas import individual

        return individual.simulate_spend_given_history(rng, counts, *_gg(P), *_spend(D))

    return ProductQuantity(purchases, _expected_spend, simulate_purchases, spend_of)


@document_settings
class GammaGammaModel(FittedParametricModel):
    """Gamma-Gamma model of the value of a customer's transactions.

    Each transaction's value is ``Gamma(p, nu)`` with a customer-level rate ``nu ~ Gamma(q, gamma)``;
    fitted on the mean repeat spend of customers with at least one repeat purchase
    (Fader & Hardie 2013, "The Gamma-Gamma model of monetary value"). The model assumes spend is
    independent of purchase frequency; check ``summary[["frequency", "monetary_value"]].corr()``.

    Intervals as in :class:`clvmodels.BetaGeoModel`; the settings are listed below (keyword-only,
    stored as given).

    References
    ----------
    Fader, P. S. & Hardie, B. G. S. (2013). The Gamma-Gamma model of monetary value.
    http://www.brucehardie.com/notes/025/

    See Also
    --------
    BetaGeoModel : purchases and dropout.

    Examples
    --------
    >>> from clvmodels import GammaGammaModel
    >>> from clvmodels.datasets import load_cdnow_summary
    >>> gg = GammaGammaModel().fit(load_cdnow_summary())   # 946 repeat buyers enter the fit
    >>> gg.params_.round(2).to_dict()                      # Fader & Hardie (2013): 6.25, 3.74, 15.44
    {'p': 6.25, 'q': 3.74, 'gamma': 15.44}
    """

    #: the spend family's formulas (identifies the model's role: the spend model)
    family = GAMMAGAMMA
    param_names = gammagamma.PARAM_NAMES

    #: spend per purchase does not depend on the time unit, so a summary need not state one
    reads_time = False

    def _check_summary(self, summary, fitting):
        if fitting:
            check_monetary_summary(summary)
        elif not isinstance(summary, pd.DataFrame) or "frequency" not in summary.columns:
            raise DataError("the summary to score needs a frequency column (repeat purchases); build "
                            "it with clvmodels.rfm_summary(..., monetary_value_col=...)")

    def _fit_mask(self, summary):
        return summary["frequency"].to_numpy() > 0

    def _customer_data(self, summary):
        return CustomerData({
            "x": summary["frequency"].to_numpy(float),
            "mbar": summary["monetary_value"].to_numpy(float),
        })

    def _scoring_data(self, summary):
        if "monetary_value" not in summary.columns:
            raise DataError("the summary lacks monetary_value; pass monetary_value_col= to rfm_summary")
        from clvmodels.data.summary_kernel import repeat_spends  # numba loads on first use

        data = self._customer_data(summary)
        x, m = data.arrays["x"], data.arrays["mbar"]
        data.arrays["mbar"], n_bad = repeat_spends(x, m)  # one pass: zeroed for x == 0, checked
        if n_bad:
            from clvmodels.errors import describe_rows

            bad = (x > 0) & ~(np.isfinite(m) & (m > 0))
            raise DataError(f"monetary_value must be positive for repeat buyers: {describe_rows(summary.index[bad])}")
        return CustomerData(data.arrays, (self._segment_codes(summary),))

    def _mle(self, columns, counts, start=None, **prior):
        from clvmodels.inference.mle import fit_mle

        x, mbar = columns
        mean_spend = float(np.sum(counts * mbar) / counts.sum())
        return fit_mle(
            gammagamma.negative_log_likelihood(x, mbar, counts),
            np.log([1.0, 2.0, mean_spend]) if start is None else start,
            names=self.param_names,
            n_customers=float(counts.sum()),
            penalizer=self.penalizer,
            **prior,
        )

    def _bayes(self, columns, counts, segments, n_segments):
        from clvmodels.inference.bayes import fit_gammagamma_bayes

        x, mbar = columns
        return fit_gammagamma_bayes(
            x, mbar, counts, priors=self.priors, sampler=self.sampler, chains=self.chains,
            draws=self.draws, tune=self.tune, seed=self.seed, progressbar=self.progressbar,
            segment=segments, n_segments=n_segments or None,
        )

    def _total_log_likelihood(self, params, columns, counts):
        x, mbar = columns
        ll = gammagamma.log_likelihood(params["p"], params["q"], params["gamma"], x, mbar)
        return float(np.sum(counts * ll))

    @interval_doc
    def expected_spend(self, summary, *, uncertainty=None, level=0.9, n_draws=DEFAULT_N_DRAWS,
                       seed=None) -> pd.DataFrame:
        """Expected spend per purchase given each customer's history (Fader & Hardie 2013 eq. 5).

        Customers without repeat purchases get the population mean ``p gamma / (q - 1)``.

        Parameters
        ----------
        summary : DataFrame
            Customers to score: ``frequency`` (repeat purchases) and ``monetary_value`` (mean spend
            per repeat purchase, in the log's currency).
        <interval parameters>

        Returns
        -------
        DataFrame
            Indexed like ``summary``: ``expected_spend`` per purchase, in the log's currency (and
            its bounds; with ``uncertainty="predictive"`` the interval of the value of the
            customer's next purchase).

        Raises
        ------
        NotFittedError
            If the model is not fitted.
        DataError
            If the summary lacks ``frequency``.

        See Also
        --------
        population_mean_spend : a new customer's expected spend per purchase.

        Examples
        --------
        >>> from clvmodels import GammaGammaModel
        >>> from clvmodels.datasets import load_cdnow_summary
        >>> summary = load_cdnow_summary()
        >>> spend = GammaGammaModel().fit(summary).expected_spend(summary)
        >>> bool((spend["expected_spend"] > 0).all())
        True
        """
        self._check_scoring(summary)
        data = self._scoring_data(summary)
        result = evaluate(_expected_spend, [self], data, uncertainty=uncertainty, level=level,
                          n_draws=n_draws, seed=seed, sim=_simulate_one_spend)
        out = FrameColumns()
        out.add("expected_spend", result, uncertainty)
        return out.frame(summary.index)

    def population_mean_spend(self) -> float | pd.Series:
        """Mean spend per purchase in the population, ``p gamma / (q - 1)`` (inf when q <= 1).

        At the estimate; for a model pooled by segment one value per segment, each segment's
        new customer's expected spend per purchase (Fader & Hardie 2013).

        Returns
        -------
        float or Series
            In the log's currency; a Series indexed by segment for a model pooled by segment.

        Raises
        ------
        NotFittedError
            If the model is not fitted.

        Examples
        --------
        >>> from clvmodels import GammaGammaModel
        >>> from clvmodels.datasets import load_cdnow_summary
        >>> gg = GammaGammaModel().fit(load_cdnow_summary())
        >>> round(gg.population_mean_spend(), 2)       # 6.25 x 15.44 / (3.74 - 1) dollars
        35.17
        """
        self._check_fitted()
        P = self.params_
        values = gammagamma.population_mean_spend(P["p"], P["q"], P["gamma"])
        if self.pool_by is not None:
            return pd.Series(np.asarray(values, float), index=P.index, name="population_mean_spend")
        return float(values)
