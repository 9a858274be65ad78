"""Predictions for a newly acquired customer of a purchase model: the population's forecast.

A mixin of :class:`~clvmodels.models.purchase.PurchaseModel`: a customer acquired now has the empty
history (no repeat purchase, age 0), so these are the family's functions at that history, with
the same interval machinery as the per-customer predictions (parameter uncertainty only: a
population quantity has no predictive interval here).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from clvmodels.errors import DataError
from clvmodels.models.docstrings import interval_doc
from clvmodels.models.outputs import frame_of
from clvmodels.models.scoring import DEFAULT_N_DRAWS, CustomerData, evaluate


class NewCustomerPredictions:
    """``expected_purchases_new`` and ``purchase_probability_new`` for any purchase family."""

    def _new_customer_data(self, horizons, segment, uncertainty, what: str) -> CustomerData:
        """Checked horizons (and the segment's codes) as customer arrays ``{"t": (K,)}``."""
        self._check_fitted()
        self._no_predictive(uncertainty, f"{what} (a population quantity)")
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
        return CustomerData({"t": t}, segments)

    @interval_doc
    def expected_purchases_new(self, horizons, *, segment=None, uncertainty=None, level=0.9,
                               n_draws=DEFAULT_N_DRAWS, seed=None) -> pd.DataFrame:
        """Expected repeat purchases of a newly acquired customer within each horizon (BG/NBD: FHL 2005 eq. 9).

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
        data = self._new_customer_data(horizons, segment, uncertainty, "expected_purchases_new")
        family = self.family
        result = evaluate(lambda P, D: family.expected_purchases_new(P, D["t"]), [self], data,
                          uncertainty=uncertainty, level=level, n_draws=n_draws, seed=seed)
        return frame_of({"expected_purchases": result}, pd.Index(data.arrays["t"], name="horizon"),
                        uncertainty)

    @interval_doc
    def purchase_probability_new(self, horizons, n: int | Sequence[int] = 0, *, segment=None,
                                 uncertainty=None, level=0.9, n_draws=DEFAULT_N_DRAWS,
                                 seed=None) -> pd.DataFrame:
        """P(exactly n repeat purchases within each horizon) of a newly acquired customer.

        The family's conditional probability at the empty history (no repeat purchase, age 0);
        times the number of customers it is the expected period-transactions histogram of a
        cohort (e.g. FHS 2010's 3,454.9 donors with no repeat donation in 6 years).

        Parameters
        ----------
        horizons : float or array-like of float
            Periods since acquisition, each > 0, in the fit's time unit (whole opportunities for a
            discrete-opportunity family).
        n : int or sequence of int, default 0
            Purchase counts (whole numbers >= 0); one column ``p_<n>`` per count.
        segment : str or int, optional
            Required for a model pooled by segment (refused otherwise): whose new customer.
        <interval parameters>

        Returns
        -------
        DataFrame
            Indexed by ``horizon``: ``p_<n>`` for each n (and its bounds).

        Raises
        ------
        DataError
            If a horizon is not positive, an ``n`` is not a whole number >= 0, or ``segment`` is
            missing or not allowed.

        Examples
        --------
        >>> from clvmodels import BetaGeoModel
        >>> from clvmodels.datasets import load_cdnow_summary
        >>> bg = BetaGeoModel().fit(load_cdnow_summary())
        >>> p = bg.purchase_probability_new(39, n=range(50))
        >>> round(float(p.sum(axis=1).iloc[0]), 6)            # a distribution over n
        1.0
        """
        counts = [n] if np.isscalar(n) else list(n)
        if any((int(k) != k) or k < 0 for k in counts):
            raise DataError(f"n must be whole numbers >= 0; got {counts}")
        data = self._new_customer_data(horizons, segment, uncertainty, "purchase_probability_new")
        family = self.family
        empty = np.zeros(data.n)
        results = {}
        for k in counts:
            fn = (lambda k: lambda P, D: family.purchase_probability(
                P, *([empty[: D["t"].size]] * len(family.history_columns)), D["t"], k))(int(k))
            results[f"p_{int(k)}"] = evaluate(fn, [self], data, uncertainty=uncertainty,
                                              level=level, n_draws=n_draws, seed=seed)
        return frame_of(results, pd.Index(data.arrays["t"], name="horizon"), uncertainty)
