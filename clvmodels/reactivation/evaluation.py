"""Did the campaign work? Response rates, uplift and incremental revenue with a Beta-Binomial model.

Model (per segment, independently)::

    theta_treated ~ Beta(a, b),  responders_treated ~ Binomial(n_treated, theta_treated)
    theta_control ~ Beta(a, b),  responders_control ~ Binomial(n_control, theta_control)
    uplift = theta_treated - theta_control

so the posteriors are ``Beta(a + k, b + n - k)`` (conjugacy) and the uplift is sampled as the
difference of independent draws. A *responder* is a campaign customer with at least one purchase
in ``[start, end]``.

Revenue. A responder's revenue is the sum of their purchases in the window. The mean revenue per
responder ``S`` is given a Bayesian-bootstrap posterior (Rubin 1981: Dirichlet(1, ..., 1) weights
over the observed responders), so skewed spend needs no distributional assumption. With
``spend="pooled"`` (default) treated and control responders share ``S``: the campaign is assumed
to change *whether* customers return, not how much a returning customer spends, and then::

    incremental revenue = n_treated * uplift * S

With ``spend="by_group"`` each group has its own ``S_g`` and the incremental revenue is
``n_treated * (theta_treated * S_treated - theta_control * S_control)`` (needs responders in both
groups). Margin is ``margin * revenue``; cost is the campaign's total cost, split across segments
in proportion to treated customers.

Without a control group nothing separates customers the campaign brought back from those who
would have come back anyway, so the uplift cannot be estimated; ``raw_only=True`` then reports the
gross response and revenue of the treated group, clearly labelled as such.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from clvmodels.errors import DataError, check_choice, describe_rows
from clvmodels.models.intervals import interval_quantiles
from clvmodels.reactivation.ids import as_date, as_ids, check_id_types

SPEND_CHOICES = ("pooled", "by_group")
ALL = "all"
#: draws of the mean spend per responder processed at once (bounds memory: block x responders)
_BOOTSTRAP_BLOCK = 256


@dataclass(frozen=True)
class CampaignEvaluation:
    """Result of :func:`evaluate_campaign`.

    Parameters
    ----------
    table : DataFrame
        One row per segment (``"all"`` first).
    posteriors : dict
        Segment -> Beta posteriors of the response rates.
    has_control : bool
        Whether an uplift was estimated.
    settings : dict, optional
        The inputs that shaped the result.

    Attributes
    ----------
    table : DataFrame
        One row per segment (``"all"`` first), columns described in :func:`evaluate_campaign`.
    posteriors : dict
        Segment -> {"treated": (alpha, beta), "control": (alpha, beta) or None}: the Beta posteriors
        of the response rates.
    has_control : bool
        Whether an uplift was estimated.
    settings : dict
        The inputs that shaped the result (window, prior, level, seed, spend, note).
    """

    table: pd.DataFrame
    posteriors: dict
    has_control: bool
    settings: dict = field(default_factory=dict)

    def response_draws(self, group: str = "treated", n_draws: int = 4000, seed=0,
                       segment=ALL) -> np.ndarray:
        """Posterior draws of a group's response rate.

        Parameters
        ----------
        group : {"treated", "control"}, default "treated"
            Whose response rate.
        n_draws : int, default 4000
            Number of draws.
        seed : int, default 0
            Seed of the draws.
        segment : str, default "all"
            A segment of the evaluation (``"all"``: every customer).

        Returns
        -------
        ndarray, shape (n_draws,)
            Draws of P(purchase in the window) from the group's Beta posterior.

        Raises
        ------
        DataError
            If there is no control group (``group="control"``) or the segment is unknown.
        """
        check_choice("group", group, ["treated", "control"])
        params = self._posterior(segment)[group]
        if params is None:
            raise DataError("this campaign had no control group, so there is no control response rate")
        return np.random.default_rng(seed).beta(*params, size=n_draws)

    def uplift_draws(self, n_draws: int = 4000, seed=0, segment=ALL) -> np.ndarray:
        """Posterior draws of the uplift (treated minus control response rate).

        Parameters
        ----------
        n_draws : int, default 4000
            Number of draws.
        seed : int, default 0
            Seed of the draws.
        segment : str, default "all"
            A segment of the evaluation.

        Returns
        -------
        ndarray, shape (n_draws,)
            Treated-rate draws minus independent control-rate draws.

        Raises
        ------
        DataError
            If the campaign had no control group or the segment is unknown.
        """
        if not self.has_control:
            raise DataError(_NO_CONTROL)
        post = self._posterior(segment)
        rng = np.random.default_rng(seed)
        return rng.beta(*post["treated"], size=n_draws) - rng.beta(*post["control"], size=n_draws)

    def _posterior(self, segment):
        if segment not in self.posteriors:
            raise DataError(f"unknown segment {segment!r}; segments are {list(self.posteriors)}")
        return self.posteriors[segment]

    def _repr_html_(self) -> str:
        return f"<p>{self.settings.get('note', '')}</p>" + self.table.to_html(float_format="{:,.4g}".format)

    def __repr__(self) -> str:
        return f"CampaignEvaluation(has_control={self.has_control})\n{self.table.T}"


_NO_CONTROL = (
    "a campaign without a control group cannot measure uplift: some of the treated customers would "
    "have come back anyway, and only a comparable untreated group shows how many. Hold out a random "
    "control group next time; to see the treated group's gross response now, call "
    "evaluate_campaign(..., control=None, raw_only=True)"
)


def _real(name: str, value, low: float, high: float = math.inf, hint: str = "") -> float:
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not (low <= value <= high) \
            or not math.isfinite(value):
        raise DataError(f"{name} must be a number in [{low:g}, {high:g}]; got {value!r}. {hint}".strip())
    return float(value)


def _prior(prior) -> tuple[float, float]:
    if not (isinstance(prior, (tuple, list)) and len(prior) == 2
            and all(isinstance(v, numbers.Real) and math.isfinite(v) and v > 0 for v in prior)):
        raise DataError(f"prior must be a pair (alpha, beta) of positive numbers, e.g. (1, 1) for a "
                        f"uniform prior on the response rate; got {prior!r}")
    return float(prior[0]), float(prior[1])


def responder_revenue(responses: pd.DataFrame, campaign_ids: pd.Index, *, customer_col: str,
                      datetime_col: str, amount_col: str | None, start: pd.Timestamp,
                      end: pd.Timestamp | None) -> pd.Series:
    """Revenue in ``[start, end]`` of each campaign customer with a purchase there (NaN without amounts).

    Raises a DataError for campaign customers' purchases dated before ``start`` (they cannot be
    responses). Purchases of other customers and after ``end`` are ignored.
    """
    needed = [customer_col, datetime_col] + ([amount_col] if amount_col else [])
    missing = [c for c in needed if c not in responses.columns]
    if missing:
        raise DataError(f"the responses lack column(s) {missing}; they have {list(responses.columns)[:10]}. "
                        "Pass customer_col=, datetime_col= and amount_col=")
    check_id_types(campaign_ids, responses[customer_col], customer_col)
    mine = responses[responses[customer_col].isin(campaign_ids)]
    dates = pd.to_datetime(mine[datetime_col], errors="coerce")
    if dates.isna().any():
        raise DataError(f"{datetime_col!r} is missing or not a date in {describe_rows(mine.index[dates.isna()])}")
    early = (dates < start).to_numpy()
    if early.any():
        who = mine.loc[early, customer_col].unique()
        raise DataError(
            f"{early.sum()} responses are dated before the campaign start {start.date()}, from "
            f"{describe_rows(who)}: a purchase before the campaign cannot respond to it. Pass only "
            "purchases on or after the start (e.g. log[log.date >= start]) or check start="
        )
    inside = mine[(dates.dt.normalize() <= end).to_numpy()] if end is not None else mine  # end day included
    if amount_col is None:
        return pd.Series(np.nan, index=pd.Index(inside[customer_col].unique()))
    amounts = pd.to_numeric(inside[amount_col], errors="coerce")
    bad = ~(np.isfinite(amounts.to_numpy(float)) & (amounts.to_numpy(float) >= 0))
    if bad.any():
        raise DataError(f"{amount_col!r} must be a finite amount >= 0; not so in "
                        f"{describe_rows(inside.index[bad])} of the responses")
    return amounts.groupby(inside[customer_col].to_numpy()).sum()


def _bootstrap_mean(rng: np.random.Generator, values: np.ndarray, n_draws: int) -> np.ndarray:
    """Bayesian-bootstrap draws of the mean of ``values`` (Rubin 1981), shape (n_draws,)."""
    if len(values) == 0:
        return np.full(n_draws, np.nan)
    out = np.empty(n_draws)
    for lo in range(0, n_draws, _BOOTSTRAP_BLOCK):
        hi = min(lo + _BOOTSTRAP_BLOCK, n_draws)
        weights = rng.standard_exponential((hi - lo, len(values)))
        out[lo:hi] = weights @ values / weights.sum(axis=1)
    return out


def _add_interval(row: dict, name: str, draws: np.ndarray, q: tuple[float, float]) -> None:
    row[name] = float(np.mean(draws))
    row[f"{name}_lower"], row[f"{name}_upper"] = (float(v) for v in np.quantile(draws, q))


def _segment_row(k_t, n_t, k_c, n_c, rev_t, rev_c, *, cost, margin, value_per_responder, prior,
                 q, n_draws, rng, spend) -> tuple[dict, dict]:
    """Table row and Beta posteriors for one segment.

    ``k_c``/``n_c`` are None without a control group; ``rev_t``/``rev_c`` (revenue of each
    responder) are None without amounts.
    """
    a, b = prior
    post = {"treated": (a + k_t, b + n_t - k_t), "control": None if n_c is None else (a + k_c, b + n_c - k_c)}
    row = {"n_treated": n_t, "responders_treated": k_t, "response_rate_treated": k_t / n_t}
    theta_t = rng.beta(*post["treated"], size=n_draws)
    _add_interval(row, "response_rate_treated_posterior", theta_t, q)
    if rev_t is not None:
        row["revenue_treated"] = float(np.sum(rev_t))
        row["revenue_per_responder"] = float(np.mean(rev_t)) if k_t else np.nan
    row["cost"] = cost
    if n_c is None:  # raw response only: gross figures of the treated group
        if rev_t is not None:
            row["gross_revenue_per_cost"] = row["revenue_treated"] / cost if cost > 0 else np.nan
            if margin is not None:
                row["gross_margin"] = margin * row["revenue_treated"]
        if value_per_responder is not None:
            row["projected_value_treated"] = k_t * value_per_responder
        return row, post
    row.update({"n_control": n_c, "responders_control": k_c, "response_rate_control": k_c / n_c})
    theta_c = rng.beta(*post["control"], size=n_draws)
    _add_interval(row, "response_rate_control_posterior", theta_c, q)
    uplift = theta_t - theta_c
    _add_interval(row, "uplift", uplift, q)
    row["p_uplift_positive"] = float(np.mean(uplift > 0))
    _add_interval(row, "incremental_responders", n_t * uplift, q)
    if rev_t is not None and k_t + k_c > 0:
        if spend == "pooled":
            spend_draws = _bootstrap_mean(rng, np.concatenate([rev_t, rev_c]), n_draws)
            incremental_revenue = n_t * uplift * spend_draws
        else:
            incremental_revenue = n_t * (theta_t * _bootstrap_mean(rng, rev_t, n_draws)
                                         - theta_c * _bootstrap_mean(rng, rev_c, n_draws))
        _add_interval(row, "incremental_revenue", incremental_revenue, q)
        if cost > 0:
            _add_interval(row, "revenue_per_cost", incremental_revenue / cost, q)
        if margin is not None:
            _add_interval(row, "incremental_margin", margin * incremental_revenue, q)
            if cost > 0:
                _add_interval(row, "margin_roi", (margin * incremental_revenue - cost) / cost, q)
    if value_per_responder is not None:
        _add_interval(row, "incremental_projected_value", n_t * uplift * value_per_responder, q)
    return row, post


def _segment_labels(segments, campaign_ids: pd.Index) -> pd.Series | None:
    if segments is None:
        return None
    if not isinstance(segments, pd.Series):
        raise DataError(f"segments must be a Series mapping customer id -> segment; got {type(segments).__name__}")
    unknown = campaign_ids.difference(segments.index)
    if len(unknown):
        raise DataError(f"segments has no entry for {describe_rows(unknown)} of the campaign's customers "
                        "(unknown customer ids); give every treated and control customer a segment")
    labels = segments[~segments.index.duplicated()].reindex(campaign_ids)
    if labels.isna().any():
        raise DataError(f"the segment is missing for {describe_rows(campaign_ids[labels.isna().to_numpy()])}; "
                        "fill it (e.g. 'unknown')")
    return labels


def evaluate_campaign(responses: pd.DataFrame, *, treated, control, start, end=None,
                      customer_col: str = "customer_id", datetime_col: str = "date",
                      amount_col: str | None = None, cost: float = 0.0, margin: float | None = None,
                      value_per_responder: float | None = None, segments: pd.Series | None = None,
                      prior=(1.0, 1.0), level: float = 0.9, n_draws: int = 20_000, seed=0,
                      spend: str = "pooled", raw_only: bool = False) -> CampaignEvaluation:
    """Response rates, uplift, incremental revenue, margin and return of a campaign.

    The model and its assumptions are in the module docstring.

    Parameters
    ----------
    responses : DataFrame
        Purchases on or after ``start`` (those of customers outside the campaign are ignored; a
        campaign customer's purchase before ``start`` is an error).
    treated, control : ids
        Customers who received the campaign, and a comparable untreated group (a list, Index,
        Series of ids, or a DataFrame indexed by id such as a campaign list). ``control=None``
        refuses the uplift unless ``raw_only=True``.
    start, end : date
        Response window ``[start, end]`` (``end=None``: every purchase given).
    customer_col, datetime_col, amount_col : str
        Columns of ``responses``; without ``amount_col`` only response rates are reported.
    cost : float
        Total cost of the campaign (>= 0), e.g. 3000.
    margin : float, optional
        Gross-margin rate on revenue in [0, 1]; adds incremental margin and its return on cost.
    value_per_responder : float, optional
        Projected value of a returned customer beyond the window (e.g. a year of revenue, or the
        alive-branch value from the customer-value step); adds projected value columns.
    segments : Series, optional
        Customer id -> segment; adds one row per segment after ``"all"``.
    prior : (alpha, beta)
        Beta prior of both response rates; (1, 1) is uniform.
    level : float
        Coverage of the equal-tailed credible intervals.
    n_draws, seed : int
        Posterior draws and their seed (same seed, same numbers).
    spend : {"pooled", "by_group"}
        Whether treated and control responders share the mean revenue per responder.
    raw_only : bool
        Report only the treated group's gross response (required when ``control=None``).

    Returns
    -------
    CampaignEvaluation
        ``.table`` has, per segment: ``n_treated``, ``responders_treated``,
        ``response_rate_treated`` (observed k/n) and its posterior (``..._posterior`` with
        ``_lower``/``_upper``), ``revenue_treated`` (gross, in the window),
        ``revenue_per_responder``, ``cost``; with a control group also the control's counts and
        rates, ``uplift`` (posterior mean, interval), ``p_uplift_positive``,
        ``incremental_responders``, ``incremental_revenue``, ``revenue_per_cost``
        (incremental revenue / cost), ``incremental_margin`` and ``margin_roi``
        ((incremental margin - cost) / cost), ``incremental_projected_value``, each with an interval.
        Without a control group: ``gross_revenue_per_cost``, ``gross_margin``,
        ``projected_value_treated`` (gross, not caused-by-the-campaign figures).

    Raises
    ------
    DataError
        If ids overlap between the groups, a campaign customer bought before ``start``, a
        setting is out of range, or ``control=None`` without ``raw_only=True``.

    See Also
    --------
    clvmodels.winback_targets : takes this result as ``uplift=``.

    Examples
    --------
    10 of 100 contacted and 5 of 100 held-out customers bought: with the uniform prior the
    posterior means are 11/102 and 6/102, an uplift of 5/102 = 0.049 (here from 20,000 draws):

    >>> import pandas as pd
    >>> import clvmodels
    >>> treated = [f"t{i}" for i in range(100)]
    >>> control = [f"c{i}" for i in range(100)]
    >>> bought = pd.DataFrame({"customer_id": treated[:10] + control[:5], "date": "2024-02-10",
    ...                        "amount": 40.0})
    >>> result = clvmodels.evaluate_campaign(bought, treated=treated, control=control,
    ...                                      start="2024-02-01", end="2024-03-31",
    ...                                      amount_col="amount", cost=100.0)
    >>> round(float(result.table.loc["all", "uplift"]), 2)
    0.05
    """
    check_choice("spend", spend, SPEND_CHOICES)
    cost = _real("cost", cost, 0.0, hint="It is the campaign's total cost")
    if margin is not None:
        margin = _real("margin", margin, 0.0, 1.0, "It is the gross-margin rate on revenue, e.g. 0.3")
    if value_per_responder is not None:
        value_per_responder = _real("value_per_responder", value_per_responder, 0.0)
    prior = _prior(prior)
    level = _real("level", level, 0.0, 1.0)
    if not 0 < level < 1:
        raise DataError(f"level must be strictly between 0 and 1, e.g. 0.9; got {level!r}")
    if not isinstance(n_draws, numbers.Integral) or n_draws < 100:
        raise DataError(f"n_draws must be a whole number >= 100; got {n_draws!r}")
    start = as_date(start, "start")
    end = as_date(end, "end") if end is not None else None
    if end is not None and end < start:
        raise DataError(f"the response window ends ({end.date()}) before it starts ({start.date()})")
    if not isinstance(responses, pd.DataFrame):
        raise DataError(f"responses must be a DataFrame of purchases; got {type(responses).__name__}")

    treated_ids = as_ids("treated", treated)
    if control is None and not raw_only:
        raise DataError(_NO_CONTROL)
    control_ids = None if control is None else as_ids("control", control)
    if control_ids is not None:
        both = treated_ids.intersection(control_ids)
        if len(both):
            raise DataError(f"{describe_rows(both)} are in both the treated and the control group; a "
                            "customer is either contacted or held out. Fix the group assignment")
        if spend == "by_group" and amount_col is None:
            raise DataError("spend='by_group' compares revenue, which needs amount_col=")
    has_control = control_ids is not None and not raw_only
    campaign_ids = treated_ids.append(control_ids) if control_ids is not None else treated_ids
    revenue = responder_revenue(responses, campaign_ids, customer_col=customer_col,
                                datetime_col=datetime_col, amount_col=amount_col, start=start, end=end)
    labels = _segment_labels(segments, campaign_ids)
    groups = [ALL] + ([] if labels is None else sorted(pd.unique(labels), key=str))
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(len(groups))]
    q = interval_quantiles(level)
    rows, posteriors = {}, {}
    for group, rng in zip(groups, rngs):
        t_ids = treated_ids if group == ALL else treated_ids[(labels.loc[treated_ids] == group).to_numpy()]
        rev_t = revenue.reindex(t_ids.intersection(revenue.index)).to_numpy(float)
        k_c = n_c = rev_c = None
        if has_control:
            c_ids = control_ids if group == ALL else control_ids[(labels.loc[control_ids] == group).to_numpy()]
            rev_c = revenue.reindex(c_ids.intersection(revenue.index)).to_numpy(float)
            k_c, n_c = len(rev_c), len(c_ids)
            if n_c == 0:
                raise DataError(f"segment {group!r} has no control customers, so its uplift cannot be "
                                "estimated; merge it with another segment or add control customers")
        if len(t_ids) == 0:
            raise DataError(f"segment {group!r} has no treated customers; drop it from segments")
        if spend == "by_group" and has_control and (len(rev_t) == 0 or k_c == 0):
            raise DataError(f"segment {group!r}: spend='by_group' needs responders in both groups; "
                            "use spend='pooled'")
        share = len(t_ids) / len(treated_ids)
        rows[group], posteriors[group] = _segment_row(
            len(rev_t), len(t_ids), k_c, n_c, rev_t if amount_col else None,
            rev_c if amount_col else None, cost=cost * share, margin=margin,
            value_per_responder=value_per_responder, prior=prior, q=q, n_draws=n_draws, rng=rng, spend=spend)
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "segment"
    note = ("uplift estimated against the control group" if has_control else
            "no control group: gross response of the treated group, NOT the effect of the campaign "
            "(some would have returned anyway)")
    settings = {"start": str(start.date()), "end": None if end is None else str(end.date()),
                "prior": prior, "level": level, "n_draws": n_draws, "seed": seed, "spend": spend,
                "margin": margin, "cost": cost, "note": note}
    table.attrs["clvmodels"] = settings
    return CampaignEvaluation(table, posteriors, has_control, settings)
