"""Run metadata: what produced an export (models, parameters, diagnostics, seed, data, settings).

A :class:`RunInfo` holds only values that are fixed by the inputs, never the wall-clock time or a
fit's duration, so the same inputs and seed give byte-identical files. Its default ``run_id`` is a
hash of that content: re-running the same job is the *same run*, and an upsert of it replaces its
rows instead of adding new ones. Pass an explicit ``run_id`` (e.g. the scheduler's job id) to
record reruns separately. The SQL writer adds the time of writing (``recorded_at``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from clvmodels.data.meta import summary_meta
from clvmodels.errors import DataError

#: key of the run metadata in a Parquet file's key-value metadata
PARQUET_KEY = b"clvmodels.run"


def jsonable(value):
    """``value`` as plain JSON data: numpy scalars and arrays to numbers and lists, non-finite
    floats to None (PostgreSQL's JSON has no NaN), dates to ISO text, mappings with text keys."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, np.ndarray, pd.Index, pd.Series)):
        items = sorted(value) if isinstance(value, set) else list(value)
        return [jsonable(v) for v in items]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, (pd.Timestamp, dt.date)):
        return value.isoformat()
    if value is None or isinstance(value, str):
        return value
    return str(value)


def canonical_json(value) -> str:
    """Deterministic JSON text (sorted keys, no spaces) of :func:`jsonable` data."""
    return json.dumps(jsonable(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class RunInfo:
    """Metadata of one scoring run (build it with :func:`new_run`).

    Parameters
    ----------
    run_id : str
        Identifier; the key of table ``clv_model_runs``.
    package_version : str
        Version of clvmodels that computed the scores.
    models : dict
        Role ("purchase", "spend") -> {"type": class name, "method": "mle" | "bayes"}, plus
        ``"family"`` (its registry name, e.g. ``"pnbd"``) and ``"label"`` (e.g. ``"Pareto/NBD"``)
        for a model with a family (every purchase model).
    parameters : dict
        Role -> parameter estimates ({name: value}, or {segment: {name: value}} when pooled).
    diagnostics : dict
        Role -> fit diagnostics (log-likelihood, convergence, customers, ...).
    seed : int or None
        Seed of the prediction draws.
    data_window : dict
        ``first_purchase``, ``observation_end`` (ISO dates) and ``n_customers``.
    configuration : dict
        The settings of the run (horizon, economics, targeting, ...).
    time_unit : str or None
        Unit of recency, tenure and horizon (D, W, M or Y).
    horizon : float or None
        Prediction horizon in ``time_unit``.
    interval_level : float or None
        Coverage of every exported interval (None without intervals).
    currency : str or None
        Currency of every money column.
    """

    run_id: str
    package_version: str
    models: dict = field(default_factory=dict)
    parameters: dict = field(default_factory=dict)
    diagnostics: dict = field(default_factory=dict)
    seed: int | None = None
    data_window: dict = field(default_factory=dict)
    configuration: dict = field(default_factory=dict)
    time_unit: str | None = None
    horizon: float | None = None
    interval_level: float | None = None
    currency: str | None = None

    @property
    def snapshot_date(self) -> str | None:
        return self.data_window.get("observation_end")

    def column_values(self) -> dict:
        """Values of the run-level export columns (see :mod:`clvmodels.export.schema`)."""
        return {
            "snapshot_date": self.snapshot_date,
            "run_id": self.run_id,
            "time_unit": self.time_unit,
            "horizon": self.horizon,
            "interval_level": self.interval_level,
            "currency": self.currency,
        }

    def to_dict(self) -> dict:
        """The metadata as plain JSON-serialisable values (dict of str to str, number, list, dict).

        Returns
        -------
        dict
        """
        return jsonable(dataclasses.asdict(self))

    def to_json(self) -> str:
        """The metadata as canonical JSON (sorted keys), as stored in ``clv_model_runs``.

        Returns
        -------
        str
        """
        return canonical_json(self.to_dict())

    @classmethod
    def from_json(cls, text: str | bytes) -> "RunInfo":
        try:
            doc = json.loads(text)
            return cls(**doc)
        except (ValueError, TypeError) as exc:
            raise DataError(f"the run metadata cannot be read ({exc})") from None


def describe_model(model) -> tuple[dict, dict, dict]:
    """(model entry, parameters, diagnostics) of a fitted estimator, read from its learned state.

    The entry names the model for people and programs alike: its class, method, and the name and
    label of its family (``model.family``, when it has one), so an export says which model
    scored it without anyone having to recognise the class or its parameter names.
    """
    entry = {"type": type(model).__name__, "method": getattr(model, "method", None)}
    family = getattr(model, "family", None)
    if family is not None:
        entry["family"], entry["label"] = family.name, family.label
    params = model.params_
    if isinstance(params, pd.DataFrame):  # pooled by segment: one row per segment
        parameters = {str(seg): row.to_dict() for seg, row in params.iterrows()}
    else:
        parameters = params.to_dict()
    diagnostics = {
        "log_likelihood": getattr(model, "log_likelihood_", None),
        "converged": getattr(model, "converged_", None),
        "n_customers": getattr(model, "n_customers_", None),
        "n_distinct_rows": getattr(model, "n_distinct_rows_", None),
    }
    if getattr(model, "pool_by", None):
        entry["pool_by"] = model.pool_by
    if hasattr(model, "diagnostics_"):  # Bayes: R-hat, ESS, divergences
        diagnostics["sampler"] = model.diagnostics_
    return entry, jsonable(parameters), jsonable(diagnostics)


def data_window(summary: pd.DataFrame) -> dict:
    """First purchase, observation end and customer count of a customer summary."""
    meta = summary_meta(summary)
    first = summary["first_purchase"].min() if "first_purchase" in summary.columns else None
    end = meta.get("observation_end")
    return {
        "first_purchase": None if first is None or pd.isna(first) else pd.Timestamp(first).date().isoformat(),
        "observation_end": None if end is None else pd.Timestamp(end).date().isoformat(),
        "n_customers": int(len(summary)),
    }


def derive_run_id(content: dict) -> str:
    """``"run-"`` + 16 hex digits of the SHA-256 of the canonical JSON of ``content``."""
    return "run-" + hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()[:16]


def new_run(*, summary: pd.DataFrame, models: dict | None = None, seed: int | None = None,
            configuration: dict | None = None, horizon: float | None = None,
            interval_level: float | None = None, currency: str | None = None,
            run_id: str | None = None) -> RunInfo:
    """Build the metadata of a run.

    Parameters
    ----------
    summary : pandas.DataFrame
        The customer summary that was scored (gives the data window and time unit).
    models : dict, optional
        Role -> fitted estimator, e.g. ``{"purchase": bg, "spend": gg}``; None entries are skipped.
    seed, configuration, horizon, interval_level, currency
        As recorded in :class:`RunInfo`.
    run_id : str, optional
        Explicit id; by default derived from everything else (:func:`derive_run_id`).
    """
    from clvmodels import __version__

    entries, parameters, diagnostics = {}, {}, {}
    for role, model in (models or {}).items():
        if model is not None:
            entries[role], parameters[role], diagnostics[role] = describe_model(model)
    content = {
        "package_version": __version__,
        "models": entries,
        "parameters": parameters,
        "diagnostics": diagnostics,
        "seed": None if seed is None else int(seed),
        "data_window": data_window(summary),
        "configuration": jsonable(configuration or {}),
        "time_unit": summary_meta(summary).get("time_unit"),
        "horizon": None if horizon is None else float(horizon),
        "interval_level": None if interval_level is None else float(interval_level),
        "currency": currency,
    }
    if run_id is not None and (not isinstance(run_id, str) or not run_id.strip()):
        raise DataError(f"run_id must be non-empty text; got {run_id!r}")
    return RunInfo(run_id=run_id or derive_run_id(content), **content)
