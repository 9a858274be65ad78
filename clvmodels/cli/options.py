"""Options shared by several commands (declared once, so every command spells them the same)."""

from __future__ import annotations

import click

from clvmodels.cli.progress import NORMAL, QUIET, VERBOSE, Reporter

TIME_UNITS = click.Choice(["D", "W", "M", "Y"])


def verbosity(func):
    """``--quiet`` / ``--verbose``; passes ``reporter`` to the command."""

    def set_level(ctx, param, value):
        if value is not None:
            ctx.ensure_object(dict)["verbosity"] = value
        return value

    func = click.option("-q", "--quiet", "verbosity", flag_value=QUIET, default=None, expose_value=False,
                        callback=set_level, help="Print nothing but errors.")(func)
    return click.option("-v", "--verbose", "verbosity", flag_value=VERBOSE, default=None, expose_value=False,
                        callback=set_level,
                        help="Show every step and its duration, and the traceback of an error.")(func)


def make_reporter() -> Reporter:
    ctx = click.get_current_context()
    level = NORMAL
    while ctx is not None:  # the innermost explicit --quiet/--verbose wins
        if ctx.obj and "verbosity" in ctx.obj:
            level = ctx.obj["verbosity"]
            break
        ctx = ctx.parent
    reporter = Reporter(level)
    reporter.route_warnings()
    return reporter


def config_option(func):
    return click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False),
                        help="TOML configuration file (options given on the command line win).")(func)


def seed_option(func):
    return click.option("--seed", type=int, default=None,
                        help="Seed of every random draw (default 0): same seed, same numbers.")(func)


def data_options(func):
    """How to read a transaction log: column names, dates, time unit."""
    options = [
        click.option("--customer-id-col", help="Column of customer ids (default customer_id)."),
        click.option("--datetime-col", help="Column of purchase dates or times (default date)."),
        click.option("--monetary-value-col", "--amount-col", "monetary_value_col",
                     help="Column of purchase amounts (default amount)."),
        click.option("--datetime-format", help="strftime format of the dates, e.g. %Y%m%d (default ISO 8601)."),
        click.option("--observation-end", help="Last day of observation, YYYY-MM-DD (default: the last purchase)."),
        click.option("--time-unit", type=TIME_UNITS, help="Unit of recency, T and horizons (default W)."),
        click.option("--attribute-col", "attribute_cols", multiple=True,
                     help="Customer attribute column to carry (e.g. channel); repeat for several."),
        click.option("--acquisition-cost-col", help="Column of each customer's acquisition cost."),
        click.option("--late-purchases", type=click.Choice(["refuse", "drop"]),
                     help="Purchases after --observation-end: refuse (default) or drop."),
        click.option("--zero-amounts", type=click.Choice(["refuse", "keep", "drop"]),
                     help="Purchases worth 0: refuse (default), keep or drop."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def value_options(func):
    options = [
        click.option("--horizon", type=float, help="Prediction and value horizon in time units (default 52)."),
        click.option("--uncertainty", type=click.Choice(["expected", "predictive"]),
                     help="Interval kind: expected (parameter uncertainty, default) or predictive."),
        click.option("--level", type=float, help="Coverage of the intervals (default 0.9)."),
        click.option("--n-draws", type=int, help="Draws behind each interval (default 300)."),
        click.option("--margin", type=float, help="Gross-margin rate on revenue (default 0.3)."),
        click.option("--discount-rate", type=float, help="Annual discount rate (default 0.1)."),
        click.option("--currency", help="Currency code of the money columns (default USD)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def reactivation_options(func):
    options = [
        click.option("--lapsed-window", type=float, help="Lapsed after this long without a purchase (default 26)."),
        click.option("--lapsed-window-unit", type=TIME_UNITS, help="Unit of --lapsed-window (default W)."),
        click.option("--response-rate", type=float, help="Expected win-back response rate (default 0.05)."),
        click.option("--budget", type=float, help="Most to spend on win-back contacts."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def export_options(func):
    options = [
        click.option("--csv", type=click.Path(dir_okay=False), help="Write the export as CSV to this file."),
        click.option("--parquet", type=click.Path(dir_okay=False), help="Write the export as Parquet to this file."),
        click.option("--sql", help="Upsert into this database (URL, or a SQLite file path)."),
        click.option("--fields", "fields_path", type=click.Path(dir_okay=False),
                     help="TOML file mapping export columns to CRM field names ([fields] table)."),
        click.option("--run-id", help="Run id (default: derived from the inputs, so a rerun updates in place)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func
