"""Which lapsed customers are worth winning back: incremental value, ranking, budget, campaign list.

Expected incremental value of contacting customer i::

    value_i = uplift_i x (value_if_returned_i - value_if_not_returned_i) - contact cost

* ``value_if_returned`` is the value of a customer who makes a purchase in the response window
  (T, T+w]: that purchase's margin plus the future margin with it in the history
  (:mod:`clvmodels.reactivation.returner` derives it exactly from the future margin and the
  probability of no purchase in the window). ``value_if_not_returned`` is the value of the same
  customer, alive, buying nothing in the window: the customer a contact can convert. Both are
  discounted to the observation end T, over the economics' horizon H (H > w).
* ``baseline_response`` is the model's P(purchase in the window | no contact) = 1 - P0: those
  purchases happen anyway and are not credited. ``uplift`` is what the contact adds to that
  probability: measured against a control group, stated, or a stated response with contact minus
  the baseline, and allocated to the customers who can still be converted (alive, not buying
  anyway); :mod:`clvmodels.reactivation.response` states the sources and their assumptions.
* The cost is the whole sequence's (the planned cost; a responder who stops the sequence early
  costs less, so the cost is slightly overstated).

Assumptions: the window starts at the observation end (the list date; a later start would need
the model to see the gap); a converted customer behaves afterwards like any customer who bought
in the window; the purchase process is any family of the contract (BG/NBD, MBG/NBD, Pareto/NBD,
BG/BB: the model's ``family``) and spend Gamma-Gamma (independent of purchases), as in the
customer-value step. Intervals are over parameter draws (Laplace for MLE, posterior for
Bayes) of both models and, with a measured uplift, its posterior draws, paired draw by draw.

Deprecated: ``response=`` (read as ``uplift=``, which it meant: "the probability that a
contacted customer comes back because of the campaign") and ``scale_by_p_alive=`` and
``reference_p_alive=`` (ignored): the old value, a response rate times the value if alive,
credited the campaign with purchases the model expects without any contact.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import pandas as pd

from clvmodels._warn import warn_user
from clvmodels.data.checks import check_history_columns
from clvmodels.data.meta import summary_meta, time_unit_of
from clvmodels.data.timeunits import DAYS_PER_UNIT, days_per_unit
from clvmodels.errors import DataError, check_choice, describe_rows
from clvmodels.reactivation.ids import check_id_types
from clvmodels.reactivation.incremental import Candidates, score
from clvmodels.reactivation.lapsed import reference_date
from clvmodels.reactivation.response import as_uplift_source
from clvmodels.reactivation.returner import check_models
from clvmodels.reactivation.sequence import as_sequence

#: columns of the campaign list, in order (plus ``selected`` and ``why_not`` with include_rejected)
CAMPAIGN_COLUMNS = (
    "rank", "reason", "expected_value", "expected_value_lower", "expected_value_upper",
    "return_on_cost", "return_on_cost_lower", "return_on_cost_upper", "p_alive",
    "days_since_last_purchase", "sequence", "sequence_steps", "contact_cost", "baseline_response",
    "uplift", "uplift_lower", "uplift_upper", "response_with_contact", "value_if_returned",
    "value_if_returned_lower", "value_if_returned_upper", "value_if_not_returned", "cumulative_cost",
)

#: response window when neither it nor a measured campaign's window is given: two months
DEFAULT_RESPONSE_WINDOW_DAYS = 2 * DAYS_PER_UNIT["M"]


def _candidates(lapsed: pd.DataFrame, candidates) -> pd.DataFrame:
    """Lapsed customers to value: rows flagged lapsed, restricted to ``candidates`` when given."""
    if not isinstance(lapsed, pd.DataFrame) or "lapsed_reason" not in lapsed.columns:
        raise DataError("winback_targets takes the output of lapsed_customers(summary, ...): it needs "
                        "the lapse reason and days since the last purchase of each customer")
    rows = lapsed[lapsed["lapsed"].to_numpy(bool)] if "lapsed" in lapsed.columns else lapsed
    if candidates is not None:
        ids = pd.Index(candidates)
        check_id_types(rows.index, pd.Series(ids), "candidates")
        unknown = ids.difference(lapsed.index)
        if len(unknown):
            raise DataError(f"candidates has unknown customer ids, not in the lapsed summary: "
                            f"{describe_rows(unknown)}. Pass ids of the summary's customers (build it "
                            "with lapsed_customers(..., only_lapsed=False) to pass ids of customers "
                            "who may not be lapsed; those are then skipped)")
        rows = rows[rows.index.isin(ids)]
    return rows


def _check_positive(name, value):
    """None, or a positive finite number (else a DataError)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value <= 0:
        raise DataError(f"{name} must be a positive amount; got {value!r}")
    return float(value)


def _customer_arrays(rows: pd.DataFrame, family) -> Candidates:
    """The candidates' history (the purchase family's ``history_columns``) and mean spend."""
    x = rows["frequency"].to_numpy(float)
    if "monetary_value" not in rows.columns:
        raise DataError("the summary lacks monetary_value; pass monetary_value_col= to rfm_summary")
    mbar = pd.to_numeric(rows["monetary_value"], errors="coerce").to_numpy(float)
    bad = (x > 0) & ~(np.isfinite(mbar) & (mbar > 0))
    if bad.any():
        raise DataError(f"monetary_value must be positive for repeat buyers: {describe_rows(rows.index[bad])}")
    x, t_x, T = (rows[c].to_numpy(float) for c in family.history_columns)
    return Candidates(rows, x, t_x, T, np.where(x > 0, mbar, 0.0))


def _deprecated(response, scale_by_p_alive, reference_p_alive, uplift, response_with_contact):
    """Map the deprecated ``response=`` onto the new arguments, warning once per call."""
    from clvmodels.reactivation.evaluation import CampaignEvaluation

    if scale_by_p_alive is not None or reference_p_alive is not None:
        warn_user("scale_by_p_alive and reference_p_alive are deprecated and ignored: winback_targets now "
                  "credits only the uplift over the model's baseline (see its docstring)", FutureWarning)
    if response is None:
        return uplift, response_with_contact
    if uplift is not None or response_with_contact is not None:
        raise DataError("response= is deprecated: give uplift= or response_with_contact= alone")
    if isinstance(response, CampaignEvaluation):
        warn_user("response=<evaluation> is deprecated; pass uplift=<evaluation>", FutureWarning)
        return response, None
    # the old rate was documented as the probability of coming back *because of* the campaign
    warn_user("response=<rate> is deprecated and read as uplift=<rate> (the rise in P(purchase in the "
              "window) the contact causes); for a gross response rate pass response_with_contact=<rate>, "
              "from which the model's baseline is subtracted", FutureWarning)
    return response, None


def _window_days(window, unit, source) -> float:
    """Length of the response window in days: given, or the measured campaign's, or two months."""
    if window is not None:
        check_choice("response_window_unit", unit, list(DAYS_PER_UNIT))
        if isinstance(window, bool) or not isinstance(window, numbers.Real) or not math.isfinite(window) \
                or window <= 0:
            raise DataError(f"response_window must be a positive number of {unit!r} units, e.g. 2 with "
                            f"response_window_unit='M'; got {window!r}")
        days = float(window) * days_per_unit(unit)
    else:
        days = DEFAULT_RESPONSE_WINDOW_DAYS
    if source.kind != "measured":
        return days
    settings = source.evaluation.settings
    if settings.get("end") is None:
        if window is None:
            raise DataError("the evaluation's response window has no end (end=None), so the length of the "
                            "window its uplift applies to is unknown; pass response_window= (e.g. 2 with "
                            "response_window_unit='M')")
        return days
    measured = float((pd.Timestamp(settings["end"]) - pd.Timestamp(settings["start"])).days + 1)
    if window is not None and abs(measured - days) > 1.0:
        raise DataError(f"response_window is {days:.4g} days but the uplift was measured over "
                        f"{measured:.0f} days ({settings['start']} to {settings['end']}); an uplift "
                        "holds for the window it was measured on. Drop response_window= to use it")
    return measured


def winback_targets(lapsed: pd.DataFrame, purchase_model, spend_model, *, sequence, uplift=None,
                    response_with_contact: float | None = None, segment_col: str | None = None,
                    allocate_uplift: str = "alive_non_buyers", response_window: float | None = None,
                    response_window_unit: str = "D", economics=None, budget: float | None = None,
                    min_return: float | None = None, candidates=None, start=None, level: float = 0.9,
                    n_draws: int = 300, seed=0, include_rejected: bool = False, response=None,
                    scale_by_p_alive: bool | None = None, reference_p_alive: float | None = None,
                    **economic_settings) -> pd.DataFrame:
    """Rank lapsed customers by the expected incremental value of a win-back; select a campaign.

    The model and its assumptions are in the module docstring.

    Parameters
    ----------
    lapsed : DataFrame
        Output of :func:`clvmodels.lapsed_customers` (a customer summary plus lapse columns).
    purchase_model, spend_model : purchase model, GammaGammaModel
        Fitted on the same time unit as the summary; the purchase model is any model whose
        ``family`` is a :class:`~clvmodels.families.PurchaseFamily` (BetaGeoModel, ParetoNBDModel,
        ModifiedBetaGeoModel, BetaGeoBetaBinomModel).
    sequence : ContactSequence or list of (name, cost, day)
        The contact sequence every selected customer receives; its cost per customer is charged.
    uplift : CampaignEvaluation or float, optional
        A past campaign's :func:`clvmodels.evaluate_campaign` result with a control group (its
        posterior uplift, per segment with ``segment_col``), or the uplift itself: the average
        rise over the candidates of P(purchase in the window), e.g. 0.03.
    response_with_contact : float, optional
        Instead of ``uplift``: the share of contacted customers who buy in the window (e.g. 0.05);
        the uplift is this minus the model's mean baseline over the candidates.
    segment_col : str, optional
        Column of ``lapsed`` with each candidate's segment, labelled as the evaluation's
        ``segments`` (e.g. a recency or P(alive) band); only with ``uplift=<evaluation>``.
    allocate_uplift : {"alive_non_buyers", "equal"}
        How a segment's uplift is shared among its candidates (see
        :mod:`clvmodels.reactivation.response`); default: in proportion to each one's
        P(alive and no purchase in the window).
    response_window, response_window_unit : float, str
        Length of the window in which a purchase counts as a return. Default: the measured
        campaign's window (start to end, both days included), else two months (60.9 days).
    economics : Economics or dict, optional
        Margin, horizon and discounting of the value (:class:`clvmodels.value.economics.Economics`),
        or give them as keywords (``margin=0.3, horizon=52, discount_rate=0.1``); the horizon
        (default "lifetime", 100 years, at 10% a year) must exceed the response window.
    budget : float, optional
        Most that may be spent on contacts; customers are taken in rank order while it lasts.
    min_return : float, optional
        Least expected *net* return on contact cost, ``expected_value / cost`` (the value is already
        net of the cost; e.g. 1.0: the increment is at least twice the cost).
    candidates : ids, optional
        Only these customers may be contacted (e.g. those with marketing consent).
    start : date, optional
        Day 0 of the sequence (default: the day after the lapse reference date).
    level, n_draws, seed
        Interval coverage (default 0.9), number of parameter draws (300) and their seed (same
        seed, same numbers).
    include_rejected : bool
        Return every candidate with ``selected`` and ``why_not`` instead of the selected only.
    response, scale_by_p_alive, reference_p_alive
        Deprecated (see the module docstring).
    **economic_settings
        The economic settings as keywords instead of ``economics`` (``margin=0.3``,
        ``horizon=52``, ``discount_rate=0.1``).

    Returns
    -------
    DataFrame
        The campaign list, indexed by customer id in rank order, columns :data:`CAMPAIGN_COLUMNS`:
        ``expected_value`` (incremental, net of contact cost; point estimate for MLE, posterior
        mean for Bayes) with interval, ``return_on_cost`` (value / cost) with interval,
        ``p_alive``, ``baseline_response`` (P(purchase in the window) without contact),
        ``uplift`` (what the contact adds to it) with interval, ``response_with_contact``
        (their sum), ``value_if_returned`` with interval and ``value_if_not_returned`` (money
        discounted to the observation end), ``cumulative_cost``. So that
        ``expected_value = uplift x (value_if_returned - value_if_not_returned) - contact_cost``.
        ``attrs["clvmodels"]["campaign"]`` records the list date, start, sequence and settings
        for :func:`clvmodels.sequence_status`.

    Raises
    ------
    DataError
        If ``lapsed`` is not a lapsed-customer table, neither ``uplift`` nor
        ``response_with_contact`` is given (or both are), the horizon is not longer than the
        response window, or a setting is invalid.

    See Also
    --------
    clvmodels.lapsed_customers : the candidates.
    clvmodels.sequence_status : who has returned and must get no further contact.
    clvmodels.evaluate_campaign : measure the uplift of a past campaign.

    Examples
    --------
    Customers silent for 26 weeks, a 1.00 letter, an assumed 5-point uplift, a 200 budget:

    >>> from clvmodels import BetaGeoModel, GammaGammaModel, lapsed_customers, winback_targets
    >>> from clvmodels.datasets import load_cdnow_summary
    >>> summary = load_cdnow_summary()
    >>> bg, gg = BetaGeoModel().fit(summary), GammaGammaModel().fit(summary)
    >>> lapsed = lapsed_customers(summary, window=26, window_unit="W")
    >>> targets = winback_targets(lapsed, bg, gg, sequence=[("letter", 1.0, 0)], uplift=0.05,
    ...                           margin=0.3, horizon=52, budget=200, n_draws=100)
    >>> len(targets), float(targets["cumulative_cost"].max())
    (200, 200.0)
    >>> increment = targets["uplift"] * (targets["value_if_returned"] - targets["value_if_not_returned"])
    >>> bool(np.allclose(targets["expected_value"], increment - targets["contact_cost"]))
    True
    """
    from clvmodels.value.economics import as_economics

    uplift, response_with_contact = _deprecated(response, scale_by_p_alive, reference_p_alive, uplift,
                                                response_with_contact)
    source = as_uplift_source(uplift=uplift, response_with_contact=response_with_contact,
                              segment_col=segment_col, allocate_uplift=allocate_uplift)
    seq = as_sequence(sequence)
    budget = _check_positive("budget", budget)
    if min_return is not None and (isinstance(min_return, bool) or not isinstance(min_return, numbers.Real)
                                   or not math.isfinite(min_return)):
        raise DataError(f"min_return must be a number such as 1.0 (value at least the contact cost); "
                        f"got {min_return!r}")
    if min_return is not None and seq.cost_per_customer == 0:
        raise DataError("min_return needs a sequence with a cost; this one is free, so every return is infinite")
    if not 0 < level < 1:
        raise DataError(f"level must be strictly between 0 and 1, e.g. 0.9; got {level!r}")
    rows = _candidates(lapsed, candidates)
    unit = time_unit_of(lapsed)
    check_models(purchase_model, spend_model, unit)  # by role: the purchase model has a family
    family = purchase_model.family
    if len(rows):
        check_history_columns(rows, family)
    econ = as_economics(economics, economic_settings).resolve(unit)
    days = _window_days(response_window, response_window_unit, source)
    window = days / days_per_unit(unit)
    if econ.horizon <= window:
        raise DataError(f"the horizon ({econ.horizon:g} {unit}) must be longer than the response window "
                        f"({window:.4g} {unit}); value returners over a longer horizon")
    scores, notes = score(_customer_arrays(rows, family), purchase_model, spend_model, source, econ, window,
                          seq.cost_per_customer, level=level, n_draws=n_draws, seed=seed)
    settings = {"uplift": source.describe(), "response_window_days": days, "response_window_units": window,
                "level": level, "seed": seed, "economics": econ.as_attrs(), **notes}
    return _campaign_list(rows, scores, seq, budget, min_return, include_rejected,
                          settings=settings, start=start, lapsed=lapsed)


def _campaign_list(rows, out, seq, budget, min_return, include_rejected, *, settings,
                   start, lapsed) -> pd.DataFrame:
    """Rank, select under the budget and minimum return, and lay out the campaign list."""
    value, cost = out["value"], seq.cost_per_customer
    order = np.argsort(-value, kind="stable")  # ties keep the summary's order: deterministic

    def per_cost(v):  # return on contact cost; undefined for a free sequence
        return v / cost if cost > 0 else np.full_like(v, np.nan)

    table = pd.DataFrame({
        "reason": rows["lapsed_reason"].to_numpy(),
        "expected_value": value,
        "expected_value_lower": out["value_lower"],
        "expected_value_upper": out["value_upper"],
        "return_on_cost": per_cost(value),
        "return_on_cost_lower": per_cost(out["value_lower"]),  # value / cost is increasing in value
        "return_on_cost_upper": per_cost(out["value_upper"]),
        "p_alive": out["p_alive"],
        "days_since_last_purchase": rows["days_since_last_purchase"].to_numpy(np.int64),
        "sequence": seq.name,
        "sequence_steps": seq.describe(),
        "contact_cost": cost,
        "baseline_response": out["baseline"],
        "uplift": out["uplift"],
        "uplift_lower": out["uplift_lower"],
        "uplift_upper": out["uplift_upper"],
        "response_with_contact": out["baseline"] + out["uplift"],
        "value_if_returned": out["if_returned"],
        "value_if_returned_lower": out["if_returned_lower"],
        "value_if_returned_upper": out["if_returned_upper"],
        "value_if_not_returned": out["if_not"],
    }, index=rows.index).iloc[order]
    table.insert(0, "rank", np.arange(1, len(table) + 1, dtype=np.int64))

    positive = table["expected_value"].to_numpy() > 0
    enough_return = (np.ones(len(table), bool) if min_return is None
                     else table["return_on_cost"].to_numpy() >= min_return)
    eligible = positive & enough_return
    cumulative = np.cumsum(np.where(eligible, cost, 0.0))
    affordable = np.ones(len(table), bool) if budget is None else cumulative <= budget
    selected = eligible & affordable
    table["cumulative_cost"] = np.where(selected, cumulative, np.nan)
    why_not = np.select([~positive, ~enough_return, ~affordable],
                        ["expected value <= 0", f"return on cost below {min_return}", "over budget"], "")
    list_date = reference_date(lapsed, summary_meta(lapsed).get("lapsed_rule", {}).get("as_of"))
    start = pd.Timestamp(start).normalize() if start is not None else list_date + pd.Timedelta(days=1)
    if start < list_date:
        raise DataError(f"start {start.date()} is before the list date {list_date.date()}")
    campaign = {"list_date": str(list_date.date()), "start": str(start.date()),
                "sequences": {seq.name: seq.to_dict()}, "budget": budget, "min_return": min_return,
                "selected": int(selected.sum()), "candidates": int(len(table)),
                "total_cost": float(selected.sum() * cost), **settings}
    if include_rejected:
        table["selected"] = selected
        table["why_not"] = why_not
    else:
        table = table[selected]
    table.attrs["clvmodels"] = {**summary_meta(lapsed), "campaign": campaign}
    return table
