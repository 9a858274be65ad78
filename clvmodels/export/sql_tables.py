"""The two tables of the SQL export and the rows written into them (SQLAlchemy Core).

- ``clv_customer_scores``: the export columns of :mod:`clvmodels.export.schema` (renamed by a field
  mapping), primary key ``customer_id``, one row per customer.
- ``clv_model_runs``: one row per run id (time written, package version, model types and methods,
  parameters, diagnostics, seed, data window, configuration).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from clvmodels.export import schema
from clvmodels.export.runmeta import RunInfo

SCORES_TABLE = "clv_customer_scores"
RUNS_TABLE = "clv_model_runs"


# ----- tables ------------------------------------------------------------------------------------
def _sql_type(logical: str):
    import sqlalchemy as sa

    return {"text": sa.Text(), "date": sa.Date(), "integer": sa.BigInteger(), "float": sa.Double(),
            "boolean": sa.Boolean()}[logical]


def scores_table(metadata, field_mapping: dict | None = None, name: str = SCORES_TABLE, schema_name=None):
    """The current-scores table: the export columns (renamed by ``field_mapping``), key first."""
    import sqlalchemy as sa

    mapping = schema.check_field_mapping(field_mapping)
    columns = [
        sa.Column(mapping.get(c.name, c.name), _sql_type(c.type), primary_key=c.name == schema.KEY,
                  nullable=c.name != schema.KEY, comment=c.meaning)
        for c in schema.EXPORT_COLUMNS
    ]
    return sa.Table(name, metadata, *columns, schema=schema_name)


def runs_table(metadata, name: str = RUNS_TABLE, schema_name=None):
    """The run history table, one row per run id."""
    import sqlalchemy as sa

    return sa.Table(
        name, metadata,
        sa.Column("run_id", sa.Text(), primary_key=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False, comment="time of the last write (UTC)"),
        sa.Column("package_version", sa.Text()),
        sa.Column("purchase_model", sa.Text()), sa.Column("purchase_method", sa.Text()),
        sa.Column("spend_model", sa.Text()), sa.Column("spend_method", sa.Text()),
        sa.Column("parameters", sa.JSON()), sa.Column("diagnostics", sa.JSON()),
        sa.Column("seed", sa.BigInteger()),
        sa.Column("first_purchase", sa.Date()), sa.Column("observation_end", sa.Date()),
        sa.Column("n_customers", sa.BigInteger()), sa.Column("n_scores", sa.BigInteger()),
        sa.Column("time_unit", sa.Text()), sa.Column("horizon", sa.Double()),
        sa.Column("interval_level", sa.Double()), sa.Column("currency", sa.Text()),
        sa.Column("configuration", sa.JSON()),
        schema=schema_name,
    )


# ----- rows --------------------------------------------------------------------------------------
def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    return value


def records(conformed: pd.DataFrame, names: list[str]) -> list[dict]:
    """Rows of a conformed frame as dicts of plain Python values (None for null)."""
    columns = []
    for col in schema.EXPORT_COLUMNS:
        series = conformed[col.name]
        if col.type == "date":
            values = [None if pd.isna(v) else v.date() for v in series]
        else:
            values = [_plain(v) for v in series.to_numpy(dtype=object, na_value=None)]
        columns.append(values)
    return [dict(zip(names, row)) for row in zip(*columns)]


def run_record(run: RunInfo, n_scores: int) -> dict:
    def date(value):
        return None if value is None else dt.date.fromisoformat(value)

    models = run.models or {}
    return {
        "run_id": run.run_id,
        "recorded_at": dt.datetime.now(dt.timezone.utc),
        "package_version": run.package_version,
        "purchase_model": models.get("purchase", {}).get("type"),
        "purchase_method": models.get("purchase", {}).get("method"),
        "spend_model": models.get("spend", {}).get("type"),
        "spend_method": models.get("spend", {}).get("method"),
        "parameters": run.parameters,
        "diagnostics": run.diagnostics,
        "seed": run.seed,
        "first_purchase": date(run.data_window.get("first_purchase")),
        "observation_end": date(run.data_window.get("observation_end")),
        "n_customers": run.data_window.get("n_customers"),
        "n_scores": n_scores,
        "time_unit": run.time_unit,
        "horizon": run.horizon,
        "interval_level": run.interval_level,
        "currency": run.currency,
        "configuration": {"models": run.models, **run.configuration},
    }
