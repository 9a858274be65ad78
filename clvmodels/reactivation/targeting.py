"""Which lapsed customers are worth winning back: value, ranking, budgeted selection, campaign list.

Expected incremental value of contacting customer i::

    value_i = P_i(respond) x E[future margin_i | alive] - cost of the contact sequence

* ``E[future margin | alive]`` is the value *if they return*: the customer-value step's expected
  discounted future margin (:func:`clvmodels.value.expected.future_margin`) divided by P(alive),
  because a dead customer buys nothing, so ``E[V] = P(alive) E[V | alive]``. Given alive, the
  BG/NBD posterior of (lambda, p) depends on (x, T) only (FHL 2005, sec. 5), so the ratio is
  evaluated at ``t_x = T``, where P(alive) is far from 0 and the division loses no precision
  even for customers whose current P(alive) underflows.
* ``P(respond)`` is a base rate or a past campaign's measured uplift, scaled by P(alive) unless
  ``scale_by_p_alive=False`` (:mod:`clvmodels.reactivation.response` states the assumptions).
  With the uplift, the value is incremental: customers who would have returned anyway are not
  credited.
* The cost is the whole sequence's (the planned cost; a responder who stops the sequence early
  costs less, so the cost is slightly overstated).

Intervals are over parameter draws (Laplace for MLE, posterior for Bayes) of both models and,
with a measured uplift, its posterior draws, paired draw by draw; a base rate is taken as known.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import pandas as pd

from clvmodels.data.checks import check_rfm_summary
from clvmodels.data.meta import summary_meta, time_unit_of
from clvmodels.errors import DataError, describe_rows
from clvmodels.models.intervals import chunk_size_for, iter_chunks, summarise_draws
from clvmodels.reactivation.ids import check_id_types
from clvmodels.reactivation.lapsed import reference_date
from clvmodels.reactivation.response import as_response_model
from clvmodels.reactivation.sequence import as_sequence

#: columns of the campaign list, in order (plus ``selected`` and ``why_not`` with include_rejected)
CAMPAIGN_COLUMNS = (
    "rank", "reason", "expected_value", "expected_value_lower", "expected_value_upper",
    "return_on_cost", "return_on_cost_lower", "return_on_cost_upper", "p_alive",
    "days_since_last_purchase", "sequence", "sequence_steps", "contact_cost", "response_probability",
    "value_if_returned", "value_if_returned_lower", "value_if_returned_upper", "cumulative_cost",
)


def alive_branch_margin(econ, bg: dict, gg: dict, x, T, mbar) -> np.ndarray:
    """Expected discounted future margin given the customer is alive at T, shape (S, n).

    ``future_margin(x, t_x, T) / P(alive | x, t_x, T)`` does not depend on t_x, so it is computed
    at ``t_x = T`` (see the module docstring).
    """
    from clvmodels.formulas import bgnbd
    from clvmodels.value.expected import future_margin

    margin, _ = future_margin(econ, bg, gg, x, T, T, mbar, with_alive_time=econ.cost_to_serve > 0)
    return margin / bgnbd.p_alive(bg["r"], bg["alpha"], bg["a"], bg["b"], x, T, T)


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


def _check_models(purchase_model, spend_model, time_unit: str) -> None:
    for model, names, what in ((purchase_model, ("r", "alpha", "a", "b"), "purchase_model (BetaGeoModel)"),
                               (spend_model, ("p", "q", "gamma"), "spend_model (GammaGammaModel)")):
        if tuple(getattr(model, "param_names", ())) != names:
            raise DataError(f"{what} must be a fitted model with parameters {list(names)}; got {type(model).__name__}")
        unit = getattr(model, "time_unit_", None)
        if unit and unit != time_unit:
            raise DataError(f"{what} was fitted in time unit {unit!r} but the summary is in {time_unit!r}; "
                            f"rebuild the summary with time_unit={unit!r}")


def _check_positive(name, value):
    """None, or a positive finite number (else a DataError)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value <= 0:
        raise DataError(f"{name} must be a positive amount; got {value!r}")
    return float(value)


def _customer_arrays(rows: pd.DataFrame) -> dict[str, np.ndarray]:
    x = rows["frequency"].to_numpy(float)
    if "monetary_value" not in rows.columns:
        raise DataError("the summary lacks monetary_value; pass monetary_value_col= to rfm_summary")
    mbar = pd.to_numeric(rows["monetary_value"], errors="coerce").to_numpy(float)
    bad = (x > 0) & ~(np.isfinite(mbar) & (mbar > 0))
    if bad.any():
        raise DataError(f"monetary_value must be positive for repeat buyers: {describe_rows(rows.index[bad])}")
    return {"x": x, "t_x": rows["recency"].to_numpy(float), "T": rows["T"].to_numpy(float),
            "mbar": np.where(x > 0, mbar, 0.0)}


def _alive_groups(chunk: pd.DataFrame, x, T, mbar, models) -> tuple[np.ndarray, np.ndarray]:
    """Customers of a chunk that share the value if they return: (first row of each group, inverse).

    That value depends on (x, T, mbar) and, for a model pooled by segment, on the segment; the
    expensive quadrature then runs once per group (most lapsed customers bought once: x = 0).
    """
    from clvmodels.inference.compress import compress_rows

    keys = [x, T, mbar] + [pd.factorize(chunk[m.pool_by])[0] for m in models if getattr(m, "pool_by", None)]
    inverse = compress_rows(*keys).inverse
    first = np.unique(inverse, return_index=True)[1]
    return first, inverse


def _value_draws(rows, arrays, sl, bg_model, gg_model, bg_draws, gg_draws, rate, response, reference,
                 econ, cost):
    """(value_if_returned, p_alive, response probability, incremental value) for rows[sl], each (S, n)."""
    from clvmodels.formulas import bgnbd

    chunk = rows.iloc[sl]
    x, t_x, T, mbar = (arrays[k][sl] for k in ("x", "t_x", "T", "mbar"))
    first, inverse = _alive_groups(chunk, x, T, mbar, (bg_model, gg_model))
    heads = chunk.iloc[first]
    if_returned = alive_branch_margin(econ, bg_model.customer_params(heads, bg_draws),
                                      gg_model.customer_params(heads, gg_draws),
                                      x[first], T[first], mbar[first])[:, inverse]
    bg = bg_model.customer_params(chunk, bg_draws)
    p_alive = bgnbd.p_alive(bg["r"], bg["alpha"], bg["a"], bg["b"], x, t_x, T)
    respond = response.per_customer(rate, p_alive, reference)
    return if_returned, p_alive, respond, respond * if_returned - cost


def winback_targets(lapsed: pd.DataFrame, purchase_model, spend_model, *, response, sequence,
                    economics=None, scale_by_p_alive: bool = True, reference_p_alive: float | None = None,
                    budget: float | None = None, min_return: float | None = None, candidates=None,
                    start=None, level: float = 0.9, n_draws: int = 300, seed=0,
                    include_rejected: bool = False, **economic_settings) -> pd.DataFrame:
    """Rank lapsed customers by the expected incremental value of winning them back; select a campaign.

    The model and its assumptions are in the module docstring.

    Parameters
    ----------
    lapsed : DataFrame
        Output of :func:`clvmodels.lapsed_customers` (a customer summary plus lapse columns).
    purchase_model, spend_model : BetaGeoModel, GammaGammaModel
        Fitted on the same time unit as the summary.
    response : float or CampaignEvaluation
        Base response rate in (0, 1], or a past campaign's evaluation (its uplift is used).
    sequence : ContactSequence or list of (name, cost, day)
        The contact sequence every selected customer receives.
    economics : Economics or dict, optional
        Margin, horizon and discounting of the value (:class:`clvmodels.value.economics.Economics`),
        or give them as keywords (``margin=0.3, horizon=52, discount_rate=0.1``).
    scale_by_p_alive : bool
        Scale the response rate by each customer's P(alive) relative to ``reference_p_alive``
        (default: the candidates' mean), so the candidates' mean response stays the given rate but a
        customer who has probably churned gets little of it (see
        :mod:`clvmodels.reactivation.response`). On by default: without it every lapsed customer
        gets the same response probability and the ranking follows the value if they return alone,
        which favours formerly frequent buyers who are most likely gone (on simulated data the top
        decile then holds 1.6x the random share of truly alive, high-value customers, against 4.2x
        with scaling; ``tests/test_reactivation_targeting.py`` states the setting).
    reference_p_alive : float, optional
        Mean P(alive) of the population the response rate was measured on.
    budget : float, optional
        Most that may be spent on contacts; customers are taken in rank order while it lasts.
    min_return : float, optional
        Least expected return on contact cost, ``value / cost`` (e.g. 1.0: value at least the cost).
    candidates : ids, optional
        Only these customers may be contacted (e.g. those with marketing consent).
    start : date, optional
        Day 0 of the sequence (default: the day after the lapse reference date).
    level, n_draws, seed
        Interval coverage, number of draws and their seed (same seed, same numbers).
    include_rejected : bool
        Return every candidate with ``selected`` and ``why_not`` instead of the selected only.

    Returns
    -------
    DataFrame
        The campaign list, indexed by customer id in rank order, columns :data:`CAMPAIGN_COLUMNS`:
        ``reason`` (why the customer is lapsed), ``expected_value`` (incremental, net of contact cost;
        point estimate for MLE, posterior mean for Bayes) with interval, ``return_on_cost``
        (value / cost) with interval, ``p_alive``, ``days_since_last_purchase``, ``sequence``
        (recommended sequence) and its steps, ``response_probability``, ``value_if_returned``
        (alive-branch future margin) with interval and ``cumulative_cost``.
        ``attrs["clvmodels"]["campaign"]`` records the list date, start, sequence and settings
        for :func:`clvmodels.sequence_status`.
    """
    from clvmodels.value.economics import as_economics

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
    if len(rows):
        check_rfm_summary(rows)
    unit = time_unit_of(lapsed)
    _check_models(purchase_model, spend_model, unit)
    econ = as_economics(economics, economic_settings).resolve(unit)
    model = as_response_model(response, scale_by_p_alive=scale_by_p_alive, reference_p_alive=reference_p_alive)
    scores, p_alive, reference = _score(rows, purchase_model, spend_model, model, econ, seq.cost_per_customer,
                                        level=level, n_draws=n_draws, seed=seed, reference=reference_p_alive)
    settings = {"response": model.describe(), "reference_p_alive": reference, "level": level,
                "n_draws": n_draws, "seed": seed, "economics": econ.as_attrs()}
    return _campaign_list(rows, scores, p_alive, seq, budget, min_return, include_rejected,
                          settings=settings, start=start, lapsed=lapsed)


def _score(rows, purchase_model, spend_model, model, econ, cost, *, level, n_draws, seed, reference):
    """Per-customer value, its interval, value if returned, response probability, chunk by chunk.

    Returns
    -------
    scores : dict of str -> ndarray, shape (n,)
    p_alive : ndarray, shape (n,)
        At the point estimate (MLE, or posterior means).
    reference : float
        Mean P(alive) used to scale the response rate (``reference`` when given).
    """
    from clvmodels.formulas import bgnbd

    arrays = _customer_arrays(rows)
    n = len(rows)
    p_alive = np.empty(n)
    for sl in iter_chunks(n, chunk_size_for(1)):
        bg = purchase_model.customer_params(rows.iloc[sl])
        p_alive[sl] = np.broadcast_to(bgnbd.p_alive(bg["r"], bg["alpha"], bg["a"], bg["b"], arrays["x"][sl],
                                                    arrays["t_x"][sl], arrays["T"][sl]), (1, sl.stop - sl.start))[0]
    reference = reference or (float(p_alive.mean()) if n else 1.0)
    bayes = "bayes" in (purchase_model.method, spend_model.method)
    names = ("value", "value_lower", "value_upper", "if_returned", "if_returned_lower", "if_returned_upper",
             "respond")
    scores = {k: np.empty(n) for k in names}
    from clvmodels.value.engine import _paired_draws

    # independent streams, as customer_value: the same seed for both models would correlate their draws
    bg_seed, gg_seed, response_seed = np.random.SeedSequence(seed).spawn(3)
    bg_draws, gg_draws = _paired_draws(purchase_model, spend_model, True, n_draws, bg_seed, gg_seed)
    rate_draws = model.draws(bg_draws.n_draws, response_seed)
    for sl in iter_chunks(n, chunk_size_for(n_draws, n_arrays=6)):
        if_ret, _, respond, value = _value_draws(rows, arrays, sl, purchase_model, spend_model, bg_draws,
                                                 gg_draws, rate_draws, model, reference, econ, cost)
        mean, scores["value_lower"][sl], scores["value_upper"][sl] = summarise_draws(value, level)
        ret_mean, scores["if_returned_lower"][sl], scores["if_returned_upper"][sl] = summarise_draws(
            np.broadcast_to(if_ret, value.shape), level)
        if bayes:
            scores["value"][sl], scores["if_returned"][sl] = mean, ret_mean
            scores["respond"][sl] = np.broadcast_to(respond, value.shape).mean(axis=0)
        else:
            pif, _, presp, pval = _value_draws(rows, arrays, sl, purchase_model, spend_model, None, None,
                                               model.rate, model, reference, econ, cost)
            scores["value"][sl], scores["if_returned"][sl] = pval[0], pif[0]
            scores["respond"][sl] = np.broadcast_to(presp, pval.shape)[0]
    return scores, p_alive, reference


def _campaign_list(rows, out, p_alive, seq, budget, min_return, include_rejected, *, settings,
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
        "p_alive": p_alive,
        "days_since_last_purchase": rows["days_since_last_purchase"].to_numpy(np.int64),
        "sequence": seq.name,
        "sequence_steps": seq.describe(),
        "contact_cost": cost,
        "response_probability": out["respond"],
        "value_if_returned": out["if_returned"],
        "value_if_returned_lower": out["if_returned_lower"],
        "value_if_returned_upper": out["if_returned_upper"],
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
