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


def write_targets(campaign, path):
    """The selected win-back targets as CSV (rank order), atomically."""
    from clvmodels.export.files import atomic_write

    chosen = campaign[campaign["selected"].to_numpy(bool)].drop(columns=["selected", "why_not"])

    def write(tmp):
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            chosen.to_csv(fh, index_label="customer_id", lineterminator="\n")

    return atomic_write(path, write)


def execute(transactions, config, out_dir: Path, reporter) -> None:
    """Run the pipeline and write every output (nothing is written if a step fails)."""
    from clvmodels.export import export_scores
    from clvmodels.pipeline import run_pipeline

    settings = config.pipeline_settings()
    mapping = field_mapping(config)
    result = run_pipeline(transactions, settings, reporter=reporter)
    out_dir.mkdir(parents=True, exist_ok=True)
    targets = {"csv": out_dir / "scores.csv", "parquet": out_dir / "scores.parquet",
               "sql": out_dir / "clvmodels.db", **config.targets}
    with reporter("write CSV, Parquet and SQL"):
        written = export_scores(result.frame, result.run, field_mapping=mapping,
                                progress=reporter.rows("sql upsert"), **targets)
        if result.targets is not None:
            written["targets"] = write_targets(result.targets, out_dir / "winback_targets.csv")
    print_result(result, reporter, written)


@click.command()
@click.argument("transactions")  # a file or a glob of files; the data layer says when none is found
@click.option("-o", "--out", "out_dir", default="clvmodels-out", show_default=True,
              type=click.Path(file_okay=False), help="Directory for scores.csv, scores.parquet, clvmodels.db.")
@opt.config_option
@opt.data_options
@opt.value_options
@opt.reactivation_options
@opt.export_options
@opt.seed_option
@opt.verbosity
def run(transactions, out_dir, config_path, fields_path, **options):
    """Run the whole pipeline on a transaction log (CSV or Parquet) and export the scores.

    Summary -> BG/NBD and Gamma-Gamma fits -> predictions -> customer value -> win-back targets ->
    CSV, Parquet and SQL (by default into OUT; --csv/--parquet/--sql choose other targets).
    """
    reporter = opt.make_reporter()
    config = resolve_config(config_path, **options)
    if fields_path:
        config.fields = field_mapping(config, fields_path)
    execute(transactions, config, Path(out_dir), reporter)


@click.command()
@click.option("-o", "--out", "out_dir", default=DEMO_DIR, show_default=True, type=click.Path(file_okay=False),
              help="Directory for scores.csv, scores.parquet, clvmodels.db and winback_targets.csv.")
@opt.seed_option
@opt.verbosity
def demo(out_dir, seed):
    """Run the whole pipeline on the bundled CDNOW sample (2,357 customers) and write the outputs.

    A second run with the same seed writes identical files and updates the same database rows.
    """
    from clvmodels.cli.config import Config
    from clvmodels.datasets import load_cdnow_transactions

    reporter = opt.make_reporter()
    config = Config(settings={**DEMO_SETTINGS, "seed": 0 if seed is None else seed})
    with reporter("load CDNOW"):
        transactions = load_cdnow_transactions()
    execute(transactions, config, Path(out_dir), reporter)
