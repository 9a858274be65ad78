"""Which purchase model fits these data? Several models on one calibration/holdout split, side by side.

:func:`compare_models` fits (or takes already fitted) purchase models on the calibration part of
a calibration/holdout summary and returns one row per model: in-sample fit (log-likelihood, AIC,
BIC, chi-square of the period-transactions histogram) and out-of-sample accuracy (per-customer
and aggregate holdout error and, given the transaction log, the tracking error of the cohort's
cumulative repeat purchases). It picks nothing: no row is marked best unless ``rank_by=`` asks
for an ordering by one named criterion.

The tables behind the numbers (and behind :func:`clvmodels.plotting.plot_model_comparison`) are
public too: :func:`period_transactions_table`, :func:`holdout_by_frequency`,
:func:`tracking_table`. Every model is handled through the purchase-family contract
(``model.family``) and the shared model API, never by its name.

References
----------
Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting your customers" the easy way.
Marketing Science 24(2): Figure 3 (histogram), Figure 4 (tracking), Figure 5 (holdout by frequency).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from clvmodels.data.meta import iso_date, summary_meta, time_unit_of
from clvmodels.errors import DataError, check_choice
from clvmodels.models import comparison_metrics as metrics
from clvmodels.models.comparison_fit import calibration_log_likelihood, expected_histogram
from clvmodels.models.comparison_inputs import (
    fit_candidates,
    fit_purchase_models,
    holdout_counts,
    holdout_horizon,
)
from clvmodels.models.comparison_tracking import tracking_frame

#: criteria ``rank_by`` accepts, and whether lower values rank first (holdout_error_pct: by |value|)
RANKING = {"aic": True, "bic": True, "log_likelihood": False, "chi2": True, "holdout_mae": True,
           "holdout_rmse": True, "holdout_error_pct": True, "tracking_mape_holdout": True,
           "tracking_mape_calibration": True}

#: what each column of the comparison means (also in ``table.attrs["clvmodels"]["columns"]``)
COLUMNS = {
    "family": "the model family (its label)",
    "n_params": "estimated parameters k (per segment times segments for a model pooled by segment; "
                "shrinkage is not discounted)",
    "n_customers": "customers of the calibration summary (n of the BIC)",
    "log_likelihood": "log-likelihood of the calibration summary at the model's point estimate",
    "aic": "2k - 2 LL (lower is better)",
    "bic": "k ln(n) - 2 LL (lower is better)",
    "chi2": "Pearson chi-square of the period-transactions histogram (bins in attrs chi2_bins)",
    "chi2_df": "bins - 1 - k",
    "chi2_p_value": "P(chi-square(df) > chi2), approximate (parameters fitted on ungrouped data); "
                    "NaN when df < 1",
    "chi2_min_expected": "smallest expected count of a bin",
    "holdout_mae": "mean over customers of |E[holdout purchases | calibration] - actual|",
    "holdout_rmse": "root mean squared error of the same",
    "holdout_expected": "expected holdout purchases, summed over customers",
    "holdout_actual": "actual holdout purchases, summed over customers",
    "holdout_error": "holdout_expected - holdout_actual (positive: over-forecast)",
    "holdout_error_pct": "holdout_error in percent of holdout_actual",
    "tracking_mape_calibration": "MAPE (%) of the expected cumulative repeat purchases of the cohort "
                                 "at each period end in the calibration (points with none yet left out)",
    "tracking_mape_holdout": "the same at each period end of the holdout",
    "fitted_here": "True if compare_models fitted the model on this calibration summary",
}


def _bin_labels(k: int) -> list[str]:
    return [str(n) for n in range(k)] + [f"{k}+"]


def _check_max_frequency(max_frequency) -> None:
    if not (isinstance(max_frequency, (int, np.integer)) and not isinstance(max_frequency, bool)
            and max_frequency >= 1):
        raise DataError(f"max_frequency must be a whole number >= 1; got {max_frequency!r}")


def period_transactions_table(calibration: pd.DataFrame, models=None, *, max_frequency: int = 7) -> pd.DataFrame:
    """Customers by repeat purchases in the calibration window, observed and expected by each model.

    The expected count of bin n is ``sum_i P(X(T_i) = n)`` (FHL 2005 eq. 8 for BG/NBD, Figure 3).

    Parameters
    ----------
    calibration : DataFrame
        The calibration summary (``frequency``, ``T`` and each family's history columns).
    models : list or dict, optional
        Candidates as :func:`~clvmodels.models.comparison_inputs.fit_purchase_models` takes them
        (fitted ones are used as they are); default every continuous-time purchase model.
    max_frequency : int, default 7
        Customers with ``max_frequency`` or more repeat purchases share the last bin ("7+").

    Returns
    -------
    DataFrame, shape (max_frequency + 1, 1 + n_models)
        Index ``frequency`` ("0", ..., "7+"); columns ``observed`` and one per model label
        (numbers of customers; each column sums to the number of customers).
    """
    _check_max_frequency(max_frequency)
    fitted = fit_purchase_models(calibration, models)
    observed = np.bincount(np.minimum(calibration["frequency"].to_numpy(np.int64), max_frequency),
                           minlength=max_frequency + 1)
    table = pd.DataFrame({"observed": observed.astype(float)},
                         index=pd.Index(_bin_labels(max_frequency), name="frequency"))
    for label, model in fitted.items():
        table[label] = expected_histogram(model, calibration, max_frequency)
    return table


def holdout_by_frequency(calibration: pd.DataFrame, models=None, *, holdout=None, horizon=None,
                         max_frequency: int = 7) -> pd.DataFrame:
    """Mean holdout purchases by calibration frequency, observed and expected by each model.

    Each customer's expectation is the model's conditional expectation of purchases in the
    ``horizon`` after the calibration end given the calibration history (FHL 2005 eq. 10 for
    BG/NBD, Figure 5), averaged within each calibration-frequency group.

    Parameters
    ----------
    calibration : DataFrame
        A calibration/holdout summary (from :func:`clvmodels.calibration_holdout_summary`).
    models : list or dict, optional
        As for :func:`period_transactions_table`.
    holdout : Series, optional
        Holdout purchases by customer id; default the summary's ``frequency_holdout``.
    horizon : float, optional
        Holdout length in the summary's time unit; default its ``duration_holdout``.
    max_frequency : int, default 7
        Customers with ``max_frequency`` or more calibration purchases share the last group.

    Returns
    -------
    DataFrame
        Index ``frequency`` (group labels "0", ..., "7+"); columns ``customers``, ``observed``
        (mean holdout purchases) and one per model label (mean expected holdout purchases).
    """
    _check_max_frequency(max_frequency)
    fitted = fit_purchase_models(calibration, models)
    actual = holdout_counts(calibration, holdout)
    h = holdout_horizon(calibration, horizon)
    group = np.minimum(calibration["frequency"].to_numpy(np.int64), max_frequency)
    columns = {"observed": actual}
    for label, model in fitted.items():
        columns[label] = model.expected_purchases(calibration, h)["expected_purchases"].to_numpy()
    grouped = pd.DataFrame(columns).groupby(group)
    table = grouped.mean()
    table.insert(0, "customers", grouped.size())
    table.index = pd.Index([_bin_labels(max_frequency)[g] for g in table.index], name="frequency")
    return table


def tracking_table(calibration: pd.DataFrame, transactions: pd.DataFrame, models=None, *,
                   end=None, customer_id_col: str = "customer_id", datetime_col: str = "date") -> pd.DataFrame:
    """The cohort's cumulative repeat purchases per period, actual and expected by each model.

    Parameters
    ----------
    calibration : DataFrame
        A calibration summary with ``first_purchase`` and its ``observation_end`` (the
        calibration end) in the metadata.
    transactions : DataFrame
        The transaction log the summary was built from.
    models : list or dict, optional
        As for :func:`period_transactions_table`.
    end : date-like, optional
        Last day tracked; default the summary's ``holdout_end``, else the calibration end.
    customer_id_col, datetime_col : str
        Columns of the log.

    Returns
    -------
    DataFrame
        Indexed by ``date`` (the calibration end plus whole periods of the time unit); columns
        ``period`` (periods since the calibration end), ``actual`` and one per model label. See
        :mod:`clvmodels.models.comparison_tracking`.
    """
    fitted = fit_purchase_models(calibration, models)
    meta = summary_meta(calibration)
    if "first_purchase" not in calibration.columns or meta.get("observation_end") is None:
        raise DataError("tracking needs the summary's first_purchase column and its observation_end "
                        "(the calibration end) in its metadata; build it with "
                        "clvmodels.calibration_holdout_summary(...)")
    end = iso_date(end, "end") if end is not None else meta.get("holdout_end", meta["observation_end"])
    return tracking_frame(fitted, calibration, transactions, time_unit=time_unit_of(calibration),
                          calibration_end=meta["observation_end"], end=end,
                          customer_id_col=customer_id_col, datetime_col=datetime_col)


def compare_models(calibration: pd.DataFrame, holdout=None, models=None, *, horizon=None,
                   transactions: pd.DataFrame | None = None, max_frequency: int = 7,
                   min_expected: float = 5.0, rank_by: str | None = None,
                   customer_id_col: str = "customer_id", datetime_col: str = "date") -> pd.DataFrame:
    """Fit several purchase models on a calibration summary and evaluate them on its holdout.

    Parameters
    ----------
    calibration : DataFrame, n rows
        A calibration/holdout summary (from :func:`clvmodels.calibration_holdout_summary`):
        each family's history columns, in the time unit its metadata states.
    holdout : Series, optional
        Each customer's holdout purchases, indexed by customer id (exactly the summary's
        customers); default the summary's ``frequency_holdout``.
    models : list or dict, optional
        Models or classes, or a dict label -> model. Fitted models are used as they are (scored
        on this summary), unfitted ones are fitted on it (on a copy). Default: every registered
        continuous-time purchase model with default settings (``not family.discrete_time``).
    horizon : float, optional
        Holdout length in the summary's time unit; default its ``duration_holdout``.
    transactions : DataFrame, optional
        The transaction log the summary was built from; adds the tracking errors.
    max_frequency : int, default 7
        The histogram's widest tail start: bins 0, ..., max_frequency - 1, max_frequency+.
    min_expected : float, default 5
        The tail is widened (the same bins for every model) until every model expects at least
        this many customers in every bin, or the bins are "0" and "1+"; 0 keeps max_frequency.
    rank_by : str, optional
        Sort the rows by this criterion, best first, and add a ``rank`` column (1 = best, ties
        share a rank): lower is better for every criterion but ``log_likelihood``;
        ``holdout_error_pct`` ranks by its absolute value. One of :data:`RANKING`. Default: rows
        in the given order and no rank.
    customer_id_col, datetime_col : str
        Columns of ``transactions``.

    Returns
    -------
    DataFrame
        One row per model, indexed by ``model`` (its label); the columns of :data:`COLUMNS`
        (tracking only with ``transactions``). ``attrs["clvmodels"]``: ``horizon``,
        ``time_unit``, ``chi2_bins`` (bin labels), ``rank_by`` and ``columns`` (definitions).

    Raises
    ------
    DataError
        If the summary lacks the holdout or its length, a candidate is not a continuous-time
        purchase model, a fitted one is in another time unit, or ``rank_by`` is unknown.

    Examples
    --------
    >>> from clvmodels import BetaGeoModel
    >>> from clvmodels.datasets import load_cdnow_summary
    >>> from clvmodels.models.comparison import compare_models
    >>> summary = load_cdnow_summary()      # CDNOW: 39-week calibration and holdout, weeks
    >>> table = compare_models(summary, models=[BetaGeoModel(), BetaGeoModel(penalizer=0.1)])
    >>> table.index.tolist()
    ['BG/NBD', 'BG/NBD (penalizer=0.1)']
    >>> round(float(table.loc["BG/NBD", "log_likelihood"]), 1)    # FHL 2005: -9582.4
    -9582.4
    """
    if rank_by is not None:
        check_choice("rank_by", rank_by, list(RANKING))
    _check_max_frequency(max_frequency)
    if not (isinstance(min_expected, (int, float, np.number)) and np.isfinite(min_expected)
            and min_expected >= 0):
        raise DataError(f"min_expected must be a number >= 0; got {min_expected!r}")
    actual = holdout_counts(calibration, holdout)
    h = holdout_horizon(calibration, horizon)
    fitted, fitted_here = fit_candidates(calibration, models)
    histogram = period_transactions_table(calibration, fitted, max_frequency=max_frequency)
    k_tail = metrics.tail_start(histogram.drop(columns="observed").to_numpy().T, max_frequency,
                                min_expected)
    observed = metrics.pool_tail(histogram["observed"].to_numpy(), k_tail)
    n = len(calibration)
    rows = {}
    for label, model in fitted.items():
        ll = calibration_log_likelihood(model, calibration)
        k = int(np.size(model.params_))
        aic, bic = metrics.information_criteria(ll, k, n)
        expected_bins = metrics.pool_tail(histogram[label].to_numpy(), k_tail)
        chi = metrics.chi_square(observed, expected_bins, k)
        expected = model.expected_purchases(calibration, h)["expected_purchases"].to_numpy()
        rows[label] = {"family": model.family.label, "n_params": k, "n_customers": n,
                       "log_likelihood": ll, "aic": aic, "bic": bic, "chi2": chi.statistic,
                       "chi2_df": chi.df, "chi2_p_value": chi.p_value,
                       "chi2_min_expected": float(expected_bins.min()),
                       **metrics.holdout_errors(expected, actual)}
    if transactions is not None:
        track = tracking_table(calibration, transactions, fitted, customer_id_col=customer_id_col,
                               datetime_col=datetime_col)
        holdout_part = track["period"] > 0
        for label in fitted:
            rows[label]["tracking_mape_calibration"] = metrics.mape(track[label][~holdout_part],
                                                                    track["actual"][~holdout_part])
            rows[label]["tracking_mape_holdout"] = metrics.mape(track[label][holdout_part],
                                                                track["actual"][holdout_part])
    for label in fitted:
        rows[label]["fitted_here"] = fitted_here[label]
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "model"
    if rank_by is not None:
        table = _ranked(table, rank_by)
    table.attrs["clvmodels"] = {
        "horizon": h, "time_unit": time_unit_of(calibration), "chi2_bins": _bin_labels(k_tail),
        "rank_by": rank_by, "columns": {c: COLUMNS[c] for c in table.columns if c in COLUMNS}}
    return table


def _ranked(table: pd.DataFrame, rank_by: str) -> pd.DataFrame:
    values = table[rank_by].abs() if rank_by == "holdout_error_pct" else table[rank_by]
    rank = values.rank(method="min", ascending=RANKING[rank_by], na_option="bottom").astype(int)
    return table.assign(rank=rank).sort_values("rank", kind="stable")
