"""``clvmodels export`` (scores -> CSV / Parquet / SQL for a CRM) and ``clvmodels schema``."""

from __future__ import annotations

import click

from clvmodels.cli import options as opt
from clvmodels.cli.io import field_mapping, read_scores, resolve_config


@click.command()
@click.argument("scores", type=click.Path(dir_okay=False))  # io.read_scores names a missing file
@click.option("--csv", type=click.Path(dir_okay=False), help="Write the export as CSV to this file.")
@click.option("--parquet", type=click.Path(dir_okay=False), help="Write the export as Parquet to this file.")
@click.option("--sql", help="Upsert into this database (URL such as postgresql+psycopg://..., or a SQLite file).")
@click.option("--fields", "fields_path", type=click.Path(dir_okay=False),
              help="TOML file mapping export columns to CRM field names ([fields] table).")
@opt.config_option
@opt.verbosity
def export(scores, config_path, fields_path, **targets):
    """Export a scores file (from `clvmodels score`) to CSV, Parquet and/or a SQL table (upsert).

    All or nothing: every target is checked first, the database is written in one transaction, and
    the files are renamed into place only after it committed; on any failure no file is written.
    """
    from clvmodels.errors import DataError
    from clvmodels.export import export_scores
    from clvmodels.export.sql import check_database

    reporter = opt.make_reporter()
    config = resolve_config(config_path, **targets)
    if not config.targets:
        raise DataError("say where to export: --csv FILE, --parquet FILE and/or --sql URL (or [export] in --config)")
    if config.targets.get("sql") is not None:
        check_database(config.targets["sql"])  # a bad URL or an unreachable server, before reading the scores
    frame, run = read_scores(scores)
    with reporter("export"):
        written = export_scores(frame, run, field_mapping=field_mapping(config, fields_path),
                                progress=reporter.rows("sql upsert"), **config.targets)
    reporter.say(f"run id: {run.run_id}; {len(frame):,} customers")
    for kind, target in written.items():
        if kind == "sql":
            reporter.say(f"sql: {target.inserted:,} rows inserted, {target.updated:,} updated")
        else:
            reporter.say(f"{kind}: {target}")


@click.command()
@click.option("--fields", "fields_path", type=click.Path(dir_okay=False),
              help="Add a column with the CRM field names of this mapping (TOML).")
def schema(fields_path):
    """Print the export's column table (Markdown)."""
    from clvmodels.export.schema import load_field_mapping, schema_markdown

    click.echo(schema_markdown(load_field_mapping(fields_path) if fields_path else None), nl=False)
