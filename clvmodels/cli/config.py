"""The TOML configuration file of the command line, and how options override it.

Sections group the settings of :class:`clvmodels.pipeline.PipelineSettings` (keys are the
setting names); ``[export]`` also names the output targets and ``[export.fields]`` maps export
columns to CRM field names::

    seed = 0

    [data]
    customer_id_col = "customer"
    datetime_col = "ordered_at"
    monetary_value_col = "total"
    observation_end = "2024-06-30"
    time_unit = "W"

    [model]
    method = "mle"

    [value]
    horizon = 52
    margin = 0.3
    discount_rate = 0.1

    [reactivation]
    lapsed_window = 26
    response_rate = 0.05
    sequence = [{name = "letter", cost = 1.5, day = 0}, {name = "call", cost = 4.0, day = 14}]

    [export]
    currency = "EUR"
    sql = "postgresql+psycopg://crm@db.internal/analytics"

    [export.fields]
    customer_id = "Contact_External_Id__c"

Command-line options win over the file; the file wins over the defaults. Only the standard
library is imported here, so the command line starts fast.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from clvmodels.errors import DataError

SECTIONS: dict[str, tuple[str, ...]] = {
    "data": ("customer_id_col", "datetime_col", "monetary_value_col", "datetime_format", "observation_end",
             "time_unit", "attribute_cols", "late_purchases", "zero_amounts", "acquisition_cost_col"),
    "model": ("method", "penalizer"),
    "value": ("horizon", "uncertainty", "level", "n_draws", "margin", "discount_rate",
              "cost_per_transaction", "cost_to_serve"),
    "reactivation": ("lapsed_window", "lapsed_window_unit", "p_alive_below", "response_rate", "sequence",
                     "budget", "min_return"),
    "export": ("currency", "run_id"),
}
TOP_LEVEL = ("seed",)
EXPORT_TARGETS = ("csv", "parquet", "sql")


@dataclass
class Config:
    """What a configuration file (plus options) says: pipeline settings, export targets, CRM fields."""

    settings: dict = field(default_factory=dict)
    targets: dict = field(default_factory=dict)
    fields: dict = field(default_factory=dict)
    source: str | None = None

    def with_options(self, **options) -> "Config":
        """A copy where every option that was given (not None, not empty) overrides the file."""
        given = {k: v for k, v in options.items() if v is not None and v != ()}
        settings = {**self.settings, **{k: v for k, v in given.items() if k not in EXPORT_TARGETS}}
        targets = {**self.targets, **{k: v for k, v in given.items() if k in EXPORT_TARGETS}}
        return Config(settings, targets, dict(self.fields), self.source)

    def pipeline_settings(self):
        """The :class:`~clvmodels.pipeline.PipelineSettings` of this configuration."""
        from clvmodels.pipeline import PipelineSettings

        return PipelineSettings().replace(**self.settings)


def _sequence(steps, where: str) -> tuple:
    if not isinstance(steps, list) or not steps:
        raise DataError(f"{where}: sequence must be a list of steps such as "
                        "[{name = \"letter\", cost = 1.5, day = 0}]")
    out = []
    for step in steps:
        if not isinstance(step, dict) or not {"name", "cost"} <= set(step) or set(step) - {"name", "cost", "day"}:
            raise DataError(f"{where}: each sequence step needs name and cost (and optionally day); got {step!r}")
        out.append((step["name"], step["cost"], step.get("day", 0)))
    return tuple(out)


def parse_config(doc: dict, source: str = "<config>") -> Config:
    """Check a parsed TOML document against :data:`SECTIONS` and flatten it."""
    config = Config(source=source)
    for key, value in doc.items():
        if key in TOP_LEVEL:
            config.settings[key] = value
            continue
        if key not in SECTIONS:
            raise DataError(f"{source}: unknown section or key {key!r}; use sections {sorted(SECTIONS)} "
                            f"and top-level keys {list(TOP_LEVEL)}")
        if not isinstance(value, dict):
            raise DataError(f"{source}: [{key}] must be a table of settings")
        allowed = SECTIONS[key] + (EXPORT_TARGETS + ("fields",) if key == "export" else ())
        for name, setting in value.items():
            if name not in allowed:
                raise DataError(f"{source}: unknown setting {name!r} in [{key}]; allowed: {list(allowed)}")
            if name == "fields":
                config.fields = dict(setting)
            elif name in EXPORT_TARGETS:
                config.targets[name] = setting
            elif name == "sequence":
                config.settings[name] = _sequence(setting, f"{source} [{key}]")
            elif name == "attribute_cols":
                config.settings[name] = tuple([setting] if isinstance(setting, str) else setting)
            else:
                config.settings[name] = setting
    return config


def load_config(path) -> Config:
    """Read and check a TOML configuration file (an empty :class:`Config` for None)."""
    if path is None:
        return Config()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise DataError(f"cannot read the configuration file {str(path)!r}: {exc.strerror}") from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DataError(f"the configuration file {str(path)!r} is not valid TOML: {exc}") from None
    return parse_config(doc, str(path))
