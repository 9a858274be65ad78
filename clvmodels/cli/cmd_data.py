"""``clvmodels summarise``: transaction log -> customer summary."""

from __future__ import annotations

import click

from clvmodels.cli import options as opt
from clvmodels.cli.io import resolve_config, write_summary


@click.command()
@click.argument("transactions")  # a file or a glob of files; the data layer says when none is found
@click.option("-o", "--out", required=True, type=click.Path(dir_okay=False),
              help="Summary file to write (.parquet; keeps the time unit and observation end).")
@opt.config_option
@opt.data_options
@opt.verbosity
def summarise(transactions, out, config_path, **options):
    """Summarise a transaction log (CSV or Parquet file, or a glob of them) into one row per customer."""
    from clvmodels.pipeline import summarise as summarise_log

    reporter = opt.make_reporter()
    settings = resolve_config(config_path, **options).pipeline_settings()
    with reporter("summarise transactions"):
        summary = summarise_log(transactions, settings)
    write_summary(summary, out)
    meta = summary.attrs.get("clvmodels", {})
    repeat = int((summary["frequency"] > 0).sum())
    reporter.say(f"customers: {len(summary):,} ({repeat:,} with repeat purchases); observation end "
                 f"{meta.get('observation_end')}; time unit {meta.get('time_unit')}")
    reporter.say(f"summary: {out}")
