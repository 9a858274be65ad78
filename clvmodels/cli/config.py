"""The TOML configuration file of the command line, and how options override it.

Sections group the settings of :class:`clvmodels.settings.PipelineSettings` (keys are the
setting names); ``[export]`` also names the output targets and ``[export.fields]`` maps export
columns to CRM field names::

    seed = 0

    [data]
    customer_id_col = "customer"
    datetime_col = "ordered_at"
    monetary_value_col = "total"
    observation_end = "2024-06-30"
    time_unit = "W"
    returns = "net"          # refuse (default), net or drop negative amounts

    [model]
    purchase_model = "pnbd"  # bgnbd (default), pnbd or mbgnbd: clvmodels.models.registry
    method = "mle"

    [value]
    horizon = 52
    margin = 0.3
    discount_rate = 0.1

    [reactivation]
    lapsed_window = 26
    uplift = 0.05            # a contact raises P(purchase in the window) by 5 points
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
from clvmodels.settings import check_setting

SECTIONS: dict[str, tuple[str, ...]] = {
    "data": ("customer_id_col", "datetime_col", "monetary_value_col", "datetime_format", "observation_end",
             "time_unit", "attribute_cols", "returns", "late_purchases", "zero_amounts", "acquisition_cost_col"),
    "model": ("purchase_model", "method", "penalizer"),
    "value": ("horizon", "uncertainty", "level", "n_draws", "margin", "discount_rate",
              "cost_per_transaction", "cost_to_serve"),
    "reactivation": ("lapsed_window", "lapsed_window_unit", "p_alive_below", "uplift", "sequence",
                     "budget", "min_return"),
    "export": ("currency", "run_id"),
}
TOP_LEVEL = ("seed",)
EXPORT_TARGETS = ("csv", "parquet", "sql")


@dataclass
class Config:
    """What a configuration file (plus options) says: pipeline settings, export targets, CRM fields.

    Every setting is checked (type and range, :data:`clvmodels.settings.RULES`) when the file is
    read, so a wrong value is refused naming the file, the section and the key.
    """

    settings: dict = field(default_factory=dict)
    targets: dict = field(default_factory=dict)
    fields: dict = field(default_factory=dict)
    source: str | None = None

    def with_options(self, **options) -> "Config":
        """A copy where every option that was given (not None, not empty) overrides the file.

        Options come checked from the command line's option types (:mod:`clvmodels.cli.options`).
        """
        given = {k: v for k, v in options.items() if v is not None and v != ()}
        settings = {**self.settings, **{k: v for k, v in given.items() if k not in EXPORT_TARGETS}}
        targets = {**self.targets, **{k: v for k, v in given.items() if k in EXPORT_TARGETS}}
        return Config(settings, targets, dict(self.fields), self.source)

    def pipeline_settings(self):
        """The :class:`~clvmodels.pipeline.PipelineSettings` of this configuration."""
        from clvmodels.settings import PipelineSettings

        return PipelineSettings().replace(**self.settings)


def _section_of(name: str) -> str | None:
    return next((section for section, names in SECTIONS.items() if name in names), None)


#: settings that were renamed: old name -> (new name, why)
RENAMED = {"response_rate": ("uplift", "the win-back value credits only what a contact adds over the "
                                       "purchases the model expects without it")}


def _unknown(source: str, name: str, where: str, allowed) -> DataError:
    if name in RENAMED:
        new, why = RENAMED[name]
        return DataError(f"{source}: {name!r} in {where} is now called {new!r} ({why}); rename it")
    home = _section_of(name)
    hint = (f"; {name} belongs in [{home}]" if home else
            "; seed is a top-level key (before any [section])" if name in TOP_LEVEL else "")
    return DataError(f"{source}: unknown setting {name!r} in {where}{hint}; allowed: {list(allowed)}")


def _text_table(value, what: str) -> dict:
    if not isinstance(value, dict) or not all(isinstance(v, str) and v.strip() for v in value.values()):
        raise DataError(f"{what} must be a table of texts such as customer_id = \"External_Id__c\"; got {value!r}")
    return dict(value)


def parse_config(doc: dict, source: str = "<config>") -> Config:
    """Check a parsed TOML document against :data:`SECTIONS` and the settings' rules, and flatten it."""
    config = Config(source=source)
    for key, value in doc.items():
        if key in TOP_LEVEL:
            config.settings[key] = check_setting(key, value, f"{source}: {key}")
            continue
        if key not in SECTIONS:
            if _section_of(key):
                raise _unknown(source, key, "the top level", TOP_LEVEL)
            raise DataError(f"{source}: unknown section or key {key!r}; use sections {sorted(SECTIONS)} "
                            f"and top-level keys {list(TOP_LEVEL)}")
        if not isinstance(value, dict):
            raise DataError(f"{source}: [{key}] must be a table of settings; got {key} = {value!r}")
        allowed = SECTIONS[key] + (EXPORT_TARGETS + ("fields",) if key == "export" else ())
        for name, setting in value.items():
            label = f"{source}: [{key}] {name}"
            if name not in allowed:
                raise _unknown(source, name, f"[{key}]", allowed)
            if name == "fields":
                config.fields = _text_table(setting, f"{source}: [export.fields]")
            elif name in EXPORT_TARGETS:
                if not isinstance(setting, str) or not setting.strip():
                    raise DataError(f"{label} must be a file path or URL (text); got {setting!r}")
                config.targets[name] = setting
            else:
                config.settings[name] = check_setting(name, setting, label)
    return config


def load_config(path) -> Config:
    """Read and check a TOML configuration file (an empty :class:`Config` for None)."""
    if path is None:
        return Config()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise DataError(f"cannot read the configuration file {str(path)!r}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise DataError(f"the configuration file {str(path)!r} is not UTF-8 text (byte {exc.start}); "
                        "save it as UTF-8") from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DataError(f"the configuration file {str(path)!r} is not valid TOML: {exc}") from None
    return parse_config(doc, str(path))
