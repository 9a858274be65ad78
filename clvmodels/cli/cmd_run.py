"""``clvmodels run`` (the whole pipeline on a transaction log) and ``clvmodels demo`` (on CDNOW)."""

from __future__ import annotations

from pathlib import Path

import click

from clvmodels.cli import options as opt
from clvmodels.cli.io import field_mapping, print_result, resolve_config

DEMO_DIR = "clvmodels-demo"
#: CDNOW as in Fader, Hardie & Lee (2005): weeks, calibration to 1997-09-30, every purchase counted
DEMO_SETTINGS = {"observation_end": "1997-09-30", "time_unit": "W", "late_purchases": "drop",
                 "zero_amounts": "keep", "currency": "USD"}


def targets_writer(campaign):
    """``write(path)`` for the selected win-back targets as CSV (rank order), quoted as the export is."""
    from clvmodels.export.files import csv_writer

    chosen = campaign[campaign["selected"].to_numpy(bool)].drop(columns=["selected", "why_not"])
    return csv_writer(chosen, index_label="customer_id")


def write_targets(campaign, path):
    """The selected win-back targets as CSV (rank order), atomically (``clvmodels targets``)."""
    from clvmodels.export.staging import atomic_write

    return atomic_write(path, targets_writer(campaign))


def _missing_dirs(out_dir: Path) -> list[Path]:
    """The directories ``out_dir.mkdir(parents=True)`` would create (outermost first); checks the rest.

    Raises an ExportError when the nearest existing ancestor is not a writable directory, so a run
    that cannot write its outputs stops before the pipeline runs.
    """
    import os

    from clvmodels.errors import ExportError

    missing, probe = [], out_dir.absolute()
    while not probe.exists():
        missing.append(probe)
        probe = probe.parent
    if not probe.is_dir():
        raise ExportError(f"cannot write into {str(out_dir)!r}: {str(probe)!r} is a file, not a directory",
                          target=str(out_dir))
    if not os.access(probe, os.W_OK | os.X_OK):
        raise ExportError(f"cannot write into {str(out_dir)!r}: the directory {str(probe)!r} is not writable",
                          target=str(out_dir))
    return missing[::-1]


def _remove_dirs(created: list[Path]) -> None:
    # undo our mkdir after a failed export; a directory someone else filled meanwhile stays
    for directory in reversed(created):
        try:
            directory.rmdir()
        except OSError:
            break


def execute(transactions, config, out_dir: Path, reporter) -> None:
    """Run the pipeline and write every output, all or nothing.

    The targets are checked before the pipeline runs (output directory creatable, database URL
    usable, server reachable); :func:`clvmodels.export.export_scores` then checks them again, connects, writes the
    database first and renames scores.csv, scores.parquet and winback_targets.csv into place only
    after it succeeded. On any failure no file is left, and a directory this run created is removed.
    """
    from clvmodels.export import export_scores
    from clvmodels.export.sql import check_database
    from clvmodels.pipeline import run_pipeline

    settings = config.pipeline_settings()
    mapping = field_mapping(config)
    to_create = _missing_dirs(out_dir)
    if config.targets.get("sql") is not None:
        check_database(config.targets["sql"])  # a bad URL or an unreachable server stops before the pipeline
    result = run_pipeline(transactions, settings, reporter=reporter)
    targets = {"csv": out_dir / "scores.csv", "parquet": out_dir / "scores.parquet",
               "sql": out_dir / "clvmodels.db", **config.targets}
    files = {}
    if result.targets is not None:
        files["targets"] = (out_dir / "winback_targets.csv", targets_writer(result.targets))
    created = []
    try:
        for directory in to_create:
            try:
                directory.mkdir()
            except FileExistsError:  # made meanwhile by someone else: not ours to remove
                continue
            created.append(directory)
        with reporter("write CSV, Parquet and SQL"):
            written = export_scores(result.frame, result.run, field_mapping=mapping,
                                    progress=reporter.rows("sql upsert"), files=files, **targets)
    except BaseException:
        _remove_dirs(created)
        raise
    print_result(result, reporter, written)


@click.command()
@click.argument("transactions")  # a file or a glob of files; the data layer says when none is found
@click.option("-o", "--out", "out_dir", default="clvmodels-out", show_default=True,
              type=click.Path(file_okay=False), help="Directory for scores.csv, scores.parquet, clvmodels.db.")
@opt.config_option
@opt.data_options
@opt.purchase_model_option
@opt.value_options
@opt.reactivation_options
@opt.export_options
@opt.seed_option
@opt.verbosity
def run(transactions, out_dir, config_path, fields_path, **options):
    """Run the whole pipeline on a transaction log (CSV or Parquet) and export the scores.

    Summary -> purchase-model (BG/NBD unless --purchase-model names another) and Gamma-Gamma fits ->
    predictions -> customer value -> win-back targets -> CSV, Parquet and SQL (by default into OUT;
    --csv/--parquet/--sql choose other targets).
    """
    reporter = opt.make_reporter()
    config = resolve_config(config_path, **options)
    if fields_path:
        config.fields = field_mapping(config, fields_path)
    execute(transactions, config, Path(out_dir), reporter)


@click.command()
@click.option("-o", "--out", "out_dir", default=DEMO_DIR, show_default=True, type=click.Path(file_okay=False),
              help="Directory for scores.csv, scores.parquet, clvmodels.db and winback_targets.csv.")
@opt.purchase_model_option
@opt.seed_option
@opt.verbosity
def demo(out_dir, purchase_model, seed):
    """Run the whole pipeline on the bundled CDNOW sample (2,357 customers) and write the outputs.

    A second run with the same seed writes identical files and updates the same database rows.
    """
    from clvmodels.cli.config import Config
    from clvmodels.datasets import load_cdnow_transactions

    reporter = opt.make_reporter()
    config = Config(settings={**DEMO_SETTINGS, "seed": 0 if seed is None else seed}).with_options(
        purchase_model=purchase_model)
    with reporter("load CDNOW"):
        transactions = load_cdnow_transactions()
    execute(transactions, config, Path(out_dir), reporter)
