"""Referrals: who referred whom (attribution of value) and how many referrals to expect.

A referrals table has one row per referred customer: referrer id, referred customer id and date.
Referrals enter customer value in two separate ways (computed in
:mod:`clvmodels.value.customer_value`):

*Attribution of customers already in the base.* A referred customer's own value
(``clv``: realised + expected future margin) is theirs; with referral attribution, ``share`` of it
is **moved** to the referrer: the referred customer's ``credited_to_referrer`` and the referrer's
``referral_credit``. Moving, not copying, keeps every total equal to the sum of each customer's
own margin once (the conservation identity of :mod:`clvmodels.value.totals`). The acquisition
cost stays with the customer it was paid for.

*Future referrals: customers not acquired yet.* Their value is not in anybody's own margin, so it
is reported on its own (``future_referral_value``), never inside the conserving totals. Referrals
are modelled **per purchase occasion**: at each purchase a customer makes a Poisson(``rho_i``)
number of referrals, with ``rho_i ~ Gamma(k, beta)`` across customers (a negative-binomial count
model fitted by maximum likelihood to the referrals made so far, ``R_i``, over the purchases made
so far, ``n_i = frequency + 1``, the first included). A posteriori ``rho_i ~ Gamma(k + R_i,
beta + n_i)``: the customer's own rate per purchase shrunk toward the population rate
``k / beta``, the more the fewer purchases they have made. Then::

    E[discounted future referrals] = E[rho_i | R_i, n_i] * E[discounted future purchases]
    future_referral_value          = that * value of a new customer

(the future purchases of the purchase model, e.g. BG/NBD eq. 10 of Fader, Hardie & Lee 2005
with discounting; each referral is discounted at the time of the purchase that brings it).

Why per purchase, not per unit of time alive: in BG/NBD a customer can only drop out right after
a purchase, so a one-time buyer is "alive" with probability 1 forever, and the expected time alive
is longest for those who buy least. A referral rate per unit of alive time would therefore give a
one-time buyer several times the future referral credit of a customer with the same referrals
who buys every week. Tying referrals to purchase occasions lets a customer refer only as much as
they are expected to buy, so purchase-model artefacts cannot inflate it. Assumptions: the
referral rate is independent of the purchase and dropout rates given the history; referred
customers are valued as new customers (their own referrals are not counted: one generation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import digamma, gammaln

from clvmodels._warn import warn_user
from clvmodels.data.meta import summary_meta
from clvmodels.errors import ConvergenceWarning, DataError, describe_rows


@dataclass(frozen=True, eq=False)
class Referrals:
    """A referrals table and how to credit referrers.

    Parameters
    ----------
    table : DataFrame
        One row per referred customer, with columns ``referrer_col``, ``referred_col`` and
        (unless ``date_col`` is None) ``date_col``. Both ids must be customers of the summary.
    share : float
        Share in [0, 1] of a referred customer's own value (realised + expected future margin)
        that referral attribution moves to the referrer (1 = all of it). It is moved, never
        copied: the referred customer's ``attributed_net_value`` loses what the referrer's gains.
    referrer_col, referred_col, date_col : str
        Column names; ``date_col=None`` if the table has no dates.
    """

    table: pd.DataFrame
    share: float = 1.0
    referrer_col: str = "referrer_id"
    referred_col: str = "referred_id"
    date_col: str | None = "date"

    def __post_init__(self):
        if not isinstance(self.table, pd.DataFrame):
            raise DataError(f"referrals must be a DataFrame (referrer id, referred id, date); got "
                            f"{type(self.table).__name__}")
        share = self.share
        if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 <= share <= 1:
            raise DataError(f"share must be a number in [0, 1] (the part of a referred customer's "
                            f"margin credited to the referrer); got {share!r}")


@dataclass(frozen=True)
class ReferralLinks:
    """Validated referrals as positions in the summary (row numbers, not ids).

    Attributes
    ----------
    referrer_of : ndarray of int, shape (n,)
        For each customer, the row of whoever referred them, or -1.
    counts : ndarray of float, shape (n,)
        Referrals each customer made up to the observation end.
    share : float
        Share of a referred customer's margin credited to the referrer.
    """

    referrer_of: np.ndarray
    counts: np.ndarray
    share: float

    @property
    def referrers(self) -> np.ndarray:
        """Rows of the customers who referred someone, sorted."""
        return np.flatnonzero(self.counts > 0)


def _ids_not_in(ids: pd.Series, index: pd.Index) -> pd.Series:
    return ids[~ids.isin(index)]


def link_referrals(referrals: Referrals, summary: pd.DataFrame) -> ReferralLinks:
    """Validate a referrals table against the summary and map ids to rows.

    Raises a :class:`DataError` for missing columns or ids, self-referrals, duplicate rows,
    customers referred more than once, ids that are not customers of the summary and referrals
    dated after the observation end.
    """
    table, rc, dc = referrals.table, referrals.referrer_col, referrals.referred_col
    needed = [rc, dc] + ([referrals.date_col] if referrals.date_col else [])
    absent = [c for c in needed if c not in table.columns]
    if absent:
        raise DataError(f"the referrals table lacks column(s) {absent}; it has {list(table.columns)}. "
                        f"Name them with Referrals(table, referrer_col=..., referred_col=..., date_col=...)")
    null = table[[rc, dc]].isna().any(axis=1).to_numpy()
    if null.any():
        raise DataError(f"referrals with a missing referrer or referred id: "
                        f"{describe_rows(np.flatnonzero(null))} (row numbers); drop or complete them")
    own = (table[rc] == table[dc]).to_numpy()
    if own.any():
        raise DataError(f"self-referrals (a customer referring themselves): "
                        f"{describe_rows(table.loc[own, rc])}; remove them")
    dup = table.duplicated(subset=[rc, dc], keep="first").to_numpy()
    if dup.any():
        raise DataError(f"duplicate referral rows (same referrer and referred customer): "
                        f"{describe_rows(table.loc[dup, dc])}; keep one row per referral")
    twice = table[dc].duplicated(keep=False).to_numpy()
    if twice.any():
        raise DataError(f"customers referred by more than one referrer: "
                        f"{describe_rows(table.loc[twice, dc].unique())}; keep one referrer per "
                        "referred customer (e.g. the first)")
    for col, role in ((rc, "referrers"), (dc, "referred customers")):
        unknown = _ids_not_in(table[col], summary.index)
        if len(unknown):
            raise DataError(
                f"{role} that are not customers of the summary: {describe_rows(unknown.unique())}; "
                f"the summary's ids look like {list(summary.index[:3])}. Check the id type and the "
                "date window, or drop these referrals"
            )
    if referrals.date_col:
        _check_dates(table[referrals.date_col], table[dc], summary)
    referrer_rows = summary.index.get_indexer(table[rc])
    referred_rows = summary.index.get_indexer(table[dc])
    referrer_of = np.full(len(summary), -1, dtype=np.int64)
    referrer_of[referred_rows] = referrer_rows
    counts = np.bincount(referrer_rows, minlength=len(summary)).astype(float)
    return ReferralLinks(referrer_of=referrer_of, counts=counts, share=float(referrals.share))


def _check_dates(dates: pd.Series, referred: pd.Series, summary: pd.DataFrame) -> None:
    parsed = pd.to_datetime(dates, errors="coerce")
    bad = parsed.isna().to_numpy()
    if bad.any():
        raise DataError(f"referral dates that are missing or not dates for referred customers "
                        f"{describe_rows(referred[bad])}")
    end = summary_meta(summary).get("observation_end")
    if end is not None:
        late = (parsed > pd.Timestamp(end)).to_numpy()
        if late.any():
            raise DataError(f"referrals dated after the summary's observation end {end} for "
                            f"referred customers {describe_rows(referred[late])}; drop them or "
                            "rebuild the summary with a later observation end")


@dataclass(frozen=True)
class ReferralRates:
    """Gamma-Poisson (negative-binomial) model of referral counts, fitted by maximum likelihood.

    Attributes
    ----------
    shape, rate : float
        Population distribution of referral rates, ``Gamma(shape, rate)`` per unit of exposure
        (per purchase occasion in customer value);
        ``rate = inf`` with ``shape = 0`` encodes "no referrals observed at all" (all rates 0).
    """

    shape: float
    rate: float

    @property
    def population_rate(self) -> float:
        """Mean referral rate per unit of exposure of a customer with no history."""
        return 0.0 if self.shape == 0 else self.shape / self.rate

    def posterior_mean(self, counts: np.ndarray, exposure: np.ndarray) -> np.ndarray:
        """``E[rho | R, E] = (shape + R) / (rate + E)``, shape (n,)."""
        if self.shape == 0:
            return np.zeros(np.shape(counts))
        return (self.shape + counts) / (self.rate + exposure)

    def sample(self, rng: np.random.Generator, counts: np.ndarray, exposure: np.ndarray,
               n_draws: int) -> np.ndarray:
        """Rates drawn from each customer's posterior ``Gamma(shape + R, rate + E)``, shape (S, n)."""
        if self.shape == 0:
            return np.zeros((n_draws, np.size(counts)))
        return rng.gamma(self.shape + counts, 1.0 / (self.rate + exposure),
                         size=(n_draws, np.size(counts)))


def _nbd_neg_loglik(log_params, counts, exposure, weights):
    """Minus the NBD log-likelihood (terms free of the parameters dropped) and its gradient in
    log-parameters."""
    k, beta = np.exp(log_params)
    ll = weights * (gammaln(k + counts) - gammaln(k) + k * np.log(beta)
                    - (k + counts) * np.log(beta + exposure))
    d_k = weights * (digamma(k + counts) - digamma(k) + np.log(beta) - np.log(beta + exposure))
    d_beta = weights * (k / beta - (k + counts) / (beta + exposure))
    return -ll.sum(), -np.array([d_k.sum() * k, d_beta.sum() * beta])


def fit_referral_rates(counts: np.ndarray, exposure: np.ndarray) -> ReferralRates:
    """Maximum-likelihood Gamma-Poisson fit of referral counts over exposures.

    Parameters
    ----------
    counts : ndarray, shape (n,)
        Referrals made by each customer.
    exposure : ndarray, shape (n,)
        Opportunities each customer had to refer (>= 0): purchases made so far in customer value.

    Notes
    -----
    Without overdispersion the shape runs to its upper bound (e^15), which is a Poisson model
    with one common rate: the estimate stays usable.
    """
    counts, exposure = np.asarray(counts, float), np.asarray(exposure, float)
    if counts.sum() == 0:
        return ReferralRates(shape=0.0, rate=np.inf)
    rows = pd.DataFrame({"R": counts, "E": exposure}).value_counts().reset_index()
    c, e, w = (rows[k].to_numpy(float) for k in ("R", "E", "count"))
    mean_rate = counts.sum() / max(exposure.sum(), 1e-12)
    start = np.log([1.0, 1.0 / mean_rate])
    result = minimize(_nbd_neg_loglik, start, args=(c, e, w), jac=True, method="L-BFGS-B",
                      bounds=[(-10.0, 15.0), (-30.0, 30.0)])
    if not result.success:
        warn_user(f"the referral-rate fit did not converge ({result.message}); future referral "
                  "values may be off", ConvergenceWarning)
    k, beta = np.exp(result.x)
    return ReferralRates(shape=float(k), rate=float(beta))


def purchase_occasions(frequency: np.ndarray) -> np.ndarray:
    """Purchases made so far, the first included (``frequency + 1``): the referral exposure."""
    return np.asarray(frequency, float) + 1.0
