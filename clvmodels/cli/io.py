"""Files the commands hand to each other: summaries, saved models, scores, and the run's outputs."""

from __future__ import annotations

from pathlib import Path

from clvmodels.cli.config import Config, load_config
from clvmodels.errors import DataError

PURCHASE_MODEL_FILE = "purchase_model.json"
SPEND_MODEL_FILE = "spend_model.json"


def resolve_config(config_path, **options) -> Config:
    """The configuration file overridden by the options given on the command line."""
    return load_config(config_path).with_options(**options)


def field_mapping(config: Config, fields_path=None) -> dict:
    from clvmodels.export.schema import check_field_mapping, load_field_mapping

    return load_field_mapping(fields_path) if fields_path else check_field_mapping(config.fields)


def write_summary(summary, path) -> Path:
    """Write a customer summary as Parquet (its metadata travels in the file) atomically."""
    from clvmodels.export.files import atomic_write

    if Path(path).suffix.lower() != ".parquet":
        raise DataError(f"write the summary to a .parquet file (it keeps the time unit and observation end); got {str(path)!r}")
    return atomic_write(path, lambda tmp: summary.to_parquet(tmp))


def _read_parquet(path, what: str, remedy: str):
    """A Parquet file as a DataFrame, or a one-line DataError naming the file and the problem."""
    import pandas as pd

    from clvmodels._read_errors import find_read_error, read_problem

    if not Path(path).is_file():
        problem = "it is a directory" if Path(path).is_dir() else "there is no such file"
        raise DataError(f"cannot read {what} {str(path)!r}: {problem}; check the path")
    try:
        return pd.read_parquet(path)
    except (OSError, ValueError) as exc:
        cause = find_read_error(exc)
        problem = read_problem(cause) if cause is not None else (getattr(exc, "strerror", None) or str(exc))
        raise DataError(f"cannot read {what} {str(path)!r}: {problem}; {remedy}") from exc


def read_summary(path):
    """Read a summary written by ``clvmodels summarise`` (a Parquet file with its metadata)."""
    from clvmodels.data.meta import summary_meta

    summary = _read_parquet(path, "the summary", "summarise the transaction log again")
    if not summary_meta(summary).get("time_unit"):
        raise DataError(f"{str(path)!r} is not a customer summary written by `clvmodels summarise` "
                        "(it has no time unit); summarise the transaction log first")
    return summary


def save_models(bg, gg, directory) -> tuple[Path, Path]:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    bg.save(directory / PURCHASE_MODEL_FILE)
    gg.save(directory / SPEND_MODEL_FILE)
    return directory / PURCHASE_MODEL_FILE, directory / SPEND_MODEL_FILE


def load_models(directory):
    from clvmodels.models.persistence import load_model

    directory = Path(directory)
    missing = [name for name in (PURCHASE_MODEL_FILE, SPEND_MODEL_FILE) if not (directory / name).is_file()]
    if missing:
        raise DataError(f"{str(directory)!r} lacks {missing}; fit the models first with "
                        f"`clvmodels fit SUMMARY -o {directory}`")
    return load_model(directory / PURCHASE_MODEL_FILE), load_model(directory / SPEND_MODEL_FILE)


def read_scores(path):
    """The export frame and run metadata of a scores Parquet file written by ``clvmodels score``."""
    from clvmodels.export.files import read_run_info

    frame = _read_parquet(path, "the scores file", "write it again with `clvmodels score`")
    run = read_run_info(path)
    if run is None:
        raise DataError(f"{str(path)!r} has no clvmodels run metadata; write it with `clvmodels score`")
    return frame, run


def print_result(result, reporter, written: dict | None = None) -> None:
    """A short human summary of a pipeline run (and of what was written)."""
    summary = result.summary
    meta = summary.attrs.get("clvmodels", {})
    reporter.say(f"customers: {len(summary):,} (observation end {meta.get('observation_end')}, "
                 f"time unit {meta.get('time_unit')})")
    for role, model in (("purchase", result.purchase_model), ("spend", result.spend_model)):
        if model is not None:
            params = ", ".join(f"{k}={v:.4g}" for k, v in model.params_.items())
            reporter.say(f"{role} model: {type(model).__name__} ({model.method}) {params}")
    frame = result.frame
    if result.values is not None:
        top = frame[frame["value_decile"] == 1]  # deciles rank future value
        reporter.say(f"net value: total {frame['net_value'].sum():,.2f} {result.run.currency}; future value: "
                     f"total {frame['future_value'].sum():,.2f}, of which the top decile ({len(top):,} "
                     f"customers) holds {top['future_value'].sum():,.2f}")
    if result.targets is not None:
        chosen = result.targets[result.targets["selected"].to_numpy(bool)]
        reporter.say(f"win-back targets: {len(chosen):,} of {len(result.targets):,} lapsed customers, expected "
                     f"incremental value {chosen['expected_value'].sum():,.2f} net of contact costs")
    reporter.say(f"run id: {result.run.run_id}")
    for kind, target in (written or {}).items():
        if kind == "sql":
            reporter.say(f"sql: {target.inserted:,} rows inserted, {target.updated:,} updated")
        else:
            reporter.say(f"{kind}: {target}")
