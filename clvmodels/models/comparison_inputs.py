"""What a model comparison is given: the candidate models (fitted here or already) and the holdout.

- :func:`fit_purchase_models`: the candidates as a dict label -> fitted model; models given
  unfitted (instances or classes) are fitted on the calibration summary, on a copy, so the
  caller's objects are not changed; fitted ones are used as they are.
- :func:`holdout_counts`, :func:`holdout_horizon`: each customer's holdout purchases and the
  holdout length, from the calibration/holdout summary or given separately, checked.

Models are recognised by their contract only (a ``family`` that is a
:class:`~clvmodels.families.PurchaseFamily`), never by a name.
"""

from __future__ import annotations

import copy
import inspect

import numpy as np
import pandas as pd

from clvmodels.data.checks import check_unique_ids
from clvmodels.data.meta import summary_meta, time_unit_of
from clvmodels.errors import DataError, describe_rows
from clvmodels.families.contract import PurchaseFamily
from clvmodels.models.registry import purchase_model_class, purchase_model_names


def default_model_classes() -> list[type]:
    """The registered purchase-model classes of continuous-time families (``not
    family.discrete_time``), in the registry's order: the default candidates."""
    classes = [purchase_model_class(name) for name in purchase_model_names()]
    return [cls for cls in classes if not cls.family.discrete_time]


def _check_candidate(model, where: str) -> None:
    family = getattr(model, "family", None)
    if not isinstance(family, PurchaseFamily):
        raise DataError(f"{where} is a {type(model).__name__}, not a purchase model (it has no "
                        "family of the purchase-model contract); pass e.g. clvmodels.BetaGeoModel()")
    if family.discrete_time or "T" not in family.history_columns:
        raise DataError(f"{where} is a {family.label} model of discrete purchase opportunities; "
                        "compare_models compares continuous-time models on a summary's T (compare "
                        "discrete-time models on an opportunity summary among themselves)")


def _label(model) -> str:
    """The family's label plus every setting that differs from the class default, e.g.
    ``"BG/NBD (penalizer=0.1)"``: read from the constructor's signature, so no setting is named."""
    signature = inspect.signature(type(model).__init__)
    changed = []
    for name, parameter in signature.parameters.items():
        if parameter.kind is not inspect.Parameter.KEYWORD_ONLY or not hasattr(model, name):
            continue
        value = getattr(model, name)
        simple = isinstance(value, (str, int, float, bool, type(None)))
        if simple and value != parameter.default:
            changed.append(f"{name}={value!r}")
        elif not simple and value is not parameter.default:  # e.g. a priors dict: named, not shown
            changed.append(f"{name}=...")
    return model.family.label + (f" ({', '.join(changed)})" if changed else "")


def _candidates(models) -> list[tuple[str | None, object]]:
    if models is None:
        return [(None, cls) for cls in default_model_classes()]
    if isinstance(models, dict):
        return [(str(label), model) for label, model in models.items()]
    if isinstance(models, (str, bytes)) or not hasattr(models, "__iter__"):
        raise DataError(f"models must be a list of purchase models (or classes) or a dict label -> "
                        f"model; got {type(models).__name__}")
    return [(None, model) for model in models]


def fit_purchase_models(calibration: pd.DataFrame, models=None) -> dict:
    """The candidate models of a comparison, fitted, under their labels.

    Parameters
    ----------
    calibration : DataFrame
        The calibration summary (the family's history columns, its time unit in its metadata).
    models : list or dict, optional
        Models (instances or classes) or a dict label -> model. A fitted model is used as it is;
        an unfitted instance is copied and the copy fitted on ``calibration``; a class is built
        with its default settings and fitted. Default: every registered continuous-time purchase
        model with its default settings (``clvmodels.models.registry``).

    Returns
    -------
    dict of str -> fitted model
        In the given order. Labels are the dict's keys, else the family's label plus the settings
        that differ from the defaults (``"BG/NBD (penalizer=0.1)"``), numbered when still equal.

    Raises
    ------
    DataError
        If a candidate is not a continuous-time purchase model, or a fitted one is in another time
        unit than ``calibration``.

    Examples
    --------
    >>> from clvmodels import BetaGeoModel
    >>> from clvmodels.datasets import load_cdnow_summary
    >>> models = fit_purchase_models(load_cdnow_summary(), [BetaGeoModel(), BetaGeoModel(penalizer=0.1)])
    >>> list(models)
    ['BG/NBD', 'BG/NBD (penalizer=0.1)']
    """
    return fit_candidates(calibration, models)[0]


def fit_candidates(calibration: pd.DataFrame, models=None) -> tuple[dict, dict]:
    """:func:`fit_purchase_models`, plus label -> whether the model was fitted here (bool)."""
    if not isinstance(calibration, pd.DataFrame):
        raise DataError(f"the calibration summary must be a DataFrame (one row per customer); got "
                        f"{type(calibration).__name__}")
    check_unique_ids(calibration)
    unit = time_unit_of(calibration)
    fitted: dict = {}
    here: dict = {}
    for i, (label, model) in enumerate(_candidates(models)):
        where = f"model {label!r}" if label is not None else f"models[{i}]"
        if isinstance(model, type):
            model = model()
        _check_candidate(model, where)
        missing = [c for c in model.family.history_columns if c not in calibration.columns]
        if missing:
            raise DataError(f"{where} ({model.family.label}) reads the summary columns "
                            f"{list(model.family.history_columns)}; the calibration summary lacks "
                            f"{missing}. Build it with clvmodels.calibration_holdout_summary(...)")
        if hasattr(model, "params_"):
            if getattr(model, "time_unit_", None) != unit:
                raise DataError(f"{where} was fitted in time unit {getattr(model, 'time_unit_', None)!r} "
                                f"but the calibration summary is in {unit!r}; refit it on this summary")
            was_fitted_here = False
        else:
            model = copy.deepcopy(model).fit(calibration)
            was_fitted_here = True
        label = label if label is not None else _label(model)
        base, n = label, 2
        while label in fitted:
            label, n = f"{base} #{n}", n + 1
        fitted[label] = model
        here[label] = was_fitted_here
    if not fitted:
        raise DataError("models is empty; pass at least one purchase model")
    return fitted, here


def holdout_horizon(calibration: pd.DataFrame, horizon) -> float:
    """The holdout length in the summary's time unit: ``horizon`` or the summary's
    ``duration_holdout`` (they must agree when both are known)."""
    recorded = summary_meta(calibration).get("duration_holdout")
    if horizon is None:
        if recorded is None:
            raise DataError("the summary does not say how long its holdout is (no 'duration_holdout' "
                            "in its metadata); pass horizon= (in the summary's time unit) or build it "
                            "with clvmodels.calibration_holdout_summary(...)")
        return float(recorded)
    number = isinstance(horizon, (int, float, np.number)) and not isinstance(horizon, bool)
    if not (number and np.isfinite(horizon) and horizon > 0):
        raise DataError(f"horizon must be a positive number of periods in the summary's time unit; "
                        f"got {horizon!r}")
    if recorded is not None and not np.isclose(float(horizon), float(recorded)):
        raise DataError(f"horizon={horizon!r} but the summary's holdout lasts {recorded!r} "
                        f"{time_unit_of(calibration)}; leave horizon out or pass the holdout's length")
    return float(horizon)


def holdout_counts(calibration: pd.DataFrame, holdout) -> np.ndarray:
    """Each calibration customer's purchases in the holdout, shape (n,) float, in row order.

    ``holdout`` is None (the summary's ``frequency_holdout`` column), a Series indexed by
    customer id covering exactly the summary's customers, or a frame with a
    ``frequency_holdout`` column indexed so.
    """
    if holdout is None:
        if "frequency_holdout" not in calibration.columns:
            raise DataError("the summary has no 'frequency_holdout' column; build it with "
                            "clvmodels.calibration_holdout_summary(...) or pass holdout= (a Series of "
                            "holdout purchases indexed by customer id)")
        values = calibration["frequency_holdout"]
    else:
        if isinstance(holdout, pd.DataFrame):
            if "frequency_holdout" not in holdout.columns:
                raise DataError(f"the holdout frame lacks 'frequency_holdout' (it has "
                                f"{list(holdout.columns)[:10]})")
            holdout = holdout["frequency_holdout"]
        if not isinstance(holdout, pd.Series):
            raise DataError(f"holdout must be a Series of holdout purchases indexed by customer id; "
                            f"got {type(holdout).__name__}")
        if holdout.index.has_duplicates:
            raise DataError(f"holdout has duplicate customer ids: "
                            f"{describe_rows(holdout.index[holdout.index.duplicated()].unique())}")
        missing = calibration.index.difference(holdout.index)
        extra = holdout.index.difference(calibration.index)
        if len(missing) or len(extra):
            raise DataError(
                "holdout must cover exactly the summary's customers: "
                + (f"missing {describe_rows(missing)} (a customer without holdout purchases needs 0: "
                   "holdout.reindex(summary.index, fill_value=0))" if len(missing) else "")
                + ("; " if len(missing) and len(extra) else "")
                + (f"{describe_rows(extra)} not in the summary (customers first seen in the holdout "
                   "are not part of the comparison: holdout.loc[summary.index])" if len(extra) else ""))
        values = holdout.reindex(calibration.index)
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(float)
    bad = ~(np.isfinite(numbers) & (numbers >= 0) & (numbers == np.round(numbers)))
    if bad.any():
        raise DataError(f"holdout purchases must be whole numbers >= 0; not so for "
                        f"{describe_rows(calibration.index[bad])}")
    return numbers
