"""The end-to-end job behind ``clvmodels demo`` and ``clvmodels run``: a thin composition of the API.

transactions -> :func:`clvmodels.rfm_summary` -> the purchase model named by
``settings.purchase_model`` (looked up in :mod:`clvmodels.models.registry`; BG/NBD by default) +
:class:`GammaGammaModel` -> ``predict`` -> :func:`clvmodels.customer_value` ->
:func:`clvmodels.lapsed_customers` + :func:`clvmodels.winback_targets` -> the export frame
(:mod:`clvmodels.export.schema`) and its run metadata.

Nothing here asks which purchase model it holds: every step uses the model's public methods, and
its family (``model.family``) only for its label and whether it reads continuous time.

Every setting lives in :class:`PipelineSettings` (the TOML config of the command line maps onto it
one to one), so a run is reproducible from its recorded configuration.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from clvmodels import progress
from clvmodels._read_errors import file_named_in, find_read_error, read_problem
from clvmodels.data.meta import time_unit_of
from clvmodels.errors import DataError
from clvmodels.settings import DEFAULT_SEQUENCE, PipelineSettings  # noqa: F401  (re-exported)

#: bands of value deciles for ``value_segment`` (decile 1 = the top 10% by net value)
SEGMENT_OF_DECILE = {1: "top", 2: "high", 3: "high", 4: "medium", 5: "medium", 6: "medium", 7: "medium",
                     8: "low", 9: "low", 10: "low"}

@dataclass
class PipelineResult:
    """Everything a run produced: the summary, the fitted models, each stage's output, the export
    frame (``frame``) with its run metadata (``run``) and each step's duration in seconds."""

    summary: pd.DataFrame
    purchase_model: object = None
    spend_model: object = None
    predictions: pd.DataFrame | None = None
    values: pd.DataFrame | None = None
    targets: pd.DataFrame | None = None
    frame: pd.DataFrame | None = None
    run: object = None
    seconds: dict[str, float] = field(default_factory=dict)


@contextlib.contextmanager
def _silent(name):
    yield


# ----- the steps ---------------------------------------------------------------------------------
def _file_names(transactions) -> list[str] | None:
    """The path(s) of a file input as text; None for a DataFrame."""
    if isinstance(transactions, (str, os.PathLike)):
        return [os.fspath(transactions)]
    if isinstance(transactions, (list, tuple)) and all(isinstance(t, (str, os.PathLike)) for t in transactions):
        return [os.fspath(t) for t in transactions]
    return None


def _refuse_empty_files(names: list[str]) -> None:
    """A 0-byte file has no header, so DuckDB would report it as a log without the columns."""
    empty = [n for n in names if os.path.isfile(n) and os.path.getsize(n) == 0]
    if empty:
        raise DataError(f"the transaction file {empty[0]!r} is empty (0 bytes)"
                        + (f", and {len(empty) - 1} more" if len(empty) > 1 else "")
                        + "; export the log again, with a header row")


def summarise(transactions, settings: PipelineSettings) -> pd.DataFrame:
    """The customer summary of a transaction log (DataFrame or CSV/Parquet path).

    A file DuckDB or pyarrow cannot read (not UTF-8, not CSV, truncated Parquet) raises a
    :class:`DataError` naming the file and the problem in one line; the library's own message
    stays attached as the cause.
    """
    from clvmodels.data.summary import rfm_summary

    attributes = list(settings.attribute_cols)
    if settings.acquisition_cost_col and settings.acquisition_cost_col not in attributes:
        attributes.append(settings.acquisition_cost_col)
    names = _file_names(transactions)
    if names:
        _refuse_empty_files(names)
    try:
        return rfm_summary(
            transactions, customer_id_col=settings.customer_id_col, datetime_col=settings.datetime_col,
            monetary_value_col=settings.monetary_value_col, observation_period_end=settings.observation_end,
            time_unit=settings.time_unit, datetime_format=settings.datetime_format,
            attribute_cols=attributes or None, late_purchases=settings.late_purchases,
            zero_amounts=settings.zero_amounts, returns=settings.returns,
        )
    except Exception as exc:
        cause = find_read_error(exc) if names and not isinstance(exc, DataError) else None
        if cause is None:
            raise
        where = file_named_in(cause) or ", ".join(names)
        raise DataError(f"cannot read the transaction file {where!r}: {read_problem(cause)}") from exc


def purchase_model_class(settings: PipelineSettings) -> type:
    """The purchase-model class named by ``settings.purchase_model`` (:mod:`clvmodels.models.registry`)."""
    from clvmodels.models.registry import purchase_model_class as registered

    return registered(settings.purchase_model)


def fit_step_name(purchase_family) -> str:
    """The progress label of the fitting step, e.g. "fit Pareto/NBD and Gamma-Gamma"."""
    return f"fit {purchase_family.label} and Gamma-Gamma"


def fit_models(summary: pd.DataFrame, settings: PipelineSettings, progressbar: bool = False):
    """(purchase model, spend model) fitted to the summary.

    The purchase model is the class named by ``settings.purchase_model`` with the run's method,
    penalizer and seed; ``progressbar`` shows the sampler's bars (Bayes).
    """
    from clvmodels.models.registry import spend_model_class

    model_class, spend_class = purchase_model_class(settings), spend_model_class()
    options = {"method": settings.method, "penalizer": settings.penalizer, "seed": settings.seed,
               "progressbar": progressbar}
    # the sampler draws its own live bars; two live displays on one terminal garble each other
    with progress.paused() if progressbar and settings.method == "bayes" else contextlib.nullcontext():
        return model_class(**options).fit(summary), spend_class(**options).fit(summary)


def fitted_settings(settings: PipelineSettings, purchase_model) -> PipelineSettings:
    """``settings`` recording what was fitted: the purchase model's registry name (its family's
    name), method and penalizer, so the run metadata describes the models that scored.

    Raises
    ------
    DataError
        When the model's family counts discrete purchase opportunities (BG/BB): the pipeline
        scores summaries of transaction logs, whose histories are in continuous time.
    """
    from clvmodels.settings import RULES

    family = purchase_model.family
    if family.discrete_time:
        raise DataError(
            f"the pipeline scores summaries of transaction logs (frequency, recency, T in a time unit); "
            f"a {family.label} model counts discrete purchase opportunities; fit one of "
            f"{list(RULES['purchase_model'].choices)} instead")
    return settings.replace(purchase_model=family.name, method=purchase_model.method,
                            penalizer=purchase_model.penalizer)


def predict(summary, purchase, spend, settings: PipelineSettings) -> pd.DataFrame:
    return purchase.predict(summary, settings.horizon_in(time_unit_of(summary)), spend_model=spend,
                            uncertainty=settings.uncertainty, level=settings.level, n_draws=settings.n_draws,
                            seed=settings.seed)


def value(summary, purchase, spend, settings: PipelineSettings) -> pd.DataFrame:
    from clvmodels.value.customer_value import customer_value

    acquisition = settings.acquisition_cost_col
    return customer_value(purchase, spend, summary, settings.economics(time_unit_of(summary)), acquisition=acquisition,
                          uncertainty=settings.uncertainty, level=settings.level,
                          n_draws=settings.n_draws, seed=settings.seed)


def targets(summary, purchase, spend, settings: PipelineSettings) -> pd.DataFrame:
    """Every lapsed candidate with its win-back value, ``selected`` and ``rank`` (rank order)."""
    from clvmodels.reactivation.lapsed import lapsed_customers
    from clvmodels.reactivation.targeting import winback_targets

    lapsed = lapsed_customers(summary, window=settings.lapsed_window, window_unit=settings.lapsed_window_unit,
                              p_alive_below=settings.p_alive_below, model=purchase)
    return winback_targets(lapsed, purchase, spend, uplift=settings.uplift, sequence=list(settings.sequence),
                           economics=settings.economics(time_unit_of(summary)), budget=settings.budget,
                           min_return=settings.min_return, level=settings.level, n_draws=settings.n_draws,
                           seed=settings.seed, include_rejected=True)


# ----- the export frame --------------------------------------------------------------------------
def value_deciles(value: pd.Series) -> pd.Series:
    """Decile of each customer's value (the export ranks ``future_value``), 1 = the top 10%; ties
    broken by order (deterministic)."""
    known = value.dropna()
    out = pd.Series(pd.NA, index=value.index, dtype="Int64")
    if len(known):
        position = known.rank(ascending=False, method="first").to_numpy()  # 1 .. n
        out.loc[known.index] = np.ceil(position * 10 / len(known)).astype(np.int64)
    return out


def export_frame(summary: pd.DataFrame, predictions=None, values=None, campaign=None) -> pd.DataFrame:
    """One row per customer with the export schema's names; a stage output given as None (not
    computed) leaves its columns null."""
    frame = pd.DataFrame(index=summary.index)
    frame["frequency"] = summary["frequency"]
    frame["recency"] = summary["recency"]
    frame["tenure"] = summary["T"]
    for column in ("monetary_value", "revenue_to_date"):
        if column in summary.columns:
            frame[column] = summary[column]
    if "last_purchase" in summary.columns:
        frame["last_purchase_date"] = summary["last_purchase"]
    if predictions is not None:
        frame["p_alive"] = predictions["p_alive"]
        frame["churn_probability"] = predictions["churn_probability"]  # churn by the horizon end, as in the export
        for column in ("expected_purchases", "expected_purchases_lower", "expected_purchases_upper",
                       "expected_spend"):
            if column in predictions.columns:
                frame[column] = predictions[column]
    if values is not None:
        renamed = {"expected_future_margin": "future_margin", "expected_future_margin_lower": "future_margin_lower",
                   "expected_future_margin_upper": "future_margin_upper"}
        for column in ("expected_future_margin", "expected_future_margin_lower", "expected_future_margin_upper",
                       "realised_margin", "clv", "clv_lower", "clv_upper", "acquisition_cost",
                       "net_value", "net_value_lower", "net_value_upper", "referral_credit",
                       "attributed_net_value", "future_referral_value", "future_value",
                       "future_value_lower", "future_value_upper"):
            if column in values.columns:
                frame[renamed.get(column, column)] = values[column]
        # segments rank on what is still to come: high past spend with P(alive) near 0 is no "top"
        frame["value_decile"] = value_deciles(values["future_value"])
        frame["value_segment"] = frame["value_decile"].map(SEGMENT_OF_DECILE).astype("string")
    if campaign is not None:
        selected = campaign[campaign["selected"].to_numpy(bool)]
        frame["reactivation_target"] = pd.Series(frame.index.isin(selected.index), index=frame.index)
        frame["reactivation_rank"] = pd.Series(np.arange(1, len(selected) + 1), index=selected.index).astype("Int64")
        frame["reactivation_expected_value"] = campaign["expected_value"]
    return frame


def run_pipeline(transactions, settings: PipelineSettings | None = None, *, summary=None,
                 models=None, reporter=None) -> PipelineResult:
    """Run every stage: summary, fits, predictions, value, win-back targets, export frame.

    Parameters
    ----------
    transactions : DataFrame or path, or None when ``summary`` is given
    settings : PipelineSettings
    summary : DataFrame, optional
        A ready customer summary (skips summarising).
    models : (purchase model, GammaGammaModel), optional
        Fitted models (skips fitting); the purchase model may be of any continuous-time family
        (its family's name replaces ``settings.purchase_model`` in the run's record).
    reporter : callable, optional
        ``reporter(step_name)`` returns a context manager around each step (progress display).

    A bar counts the steps (:func:`clvmodels.progress.progress_bar`; shown in a terminal or a
    notebook, see :func:`clvmodels.progress.set_progress`).
    """
    from clvmodels.export.runmeta import new_run

    settings = settings or PipelineSettings()
    reporter = reporter or _silent
    seconds = {}

    n_steps = 4 + (summary is None) + (models is None)
    with progress.progress_bar(n_steps, "clvmodels pipeline", unit="steps") as advance:

        @contextlib.contextmanager
        def step(name):
            started = time.perf_counter()
            with reporter(name):
                yield
            seconds[name] = time.perf_counter() - started
            advance(1)

        if summary is None:
            with step("summarise transactions"):
                summary = summarise(transactions, settings)
        result = PipelineResult(summary=summary, seconds=seconds)
        if models is None:
            with step(fit_step_name(purchase_model_class(settings).family)):
                models = fit_models(summary, settings, progressbar=getattr(reporter, "show_progress", False))
        purchase, spend = result.purchase_model, result.spend_model = models
        settings = fitted_settings(settings, purchase)  # record what was fitted
        with step("predict purchases and spend"):
            result.predictions = predict(summary, purchase, spend, settings)
        with step("customer value"):
            result.values = value(summary, purchase, spend, settings)
        with step("reactivation targets"):
            result.targets = targets(summary, purchase, spend, settings)
        with step("build export"):
            result.frame = export_frame(summary, result.predictions, result.values, result.targets)
            result.run = new_run(
                summary=summary, models={"purchase": purchase, "spend": spend}, seed=settings.seed,
                configuration=dataclasses.asdict(settings), horizon=settings.horizon_in(time_unit_of(summary)),
                interval_level=settings.level if settings.uncertainty else None,
                currency=settings.currency, run_id=settings.run_id,
            )
    return result
