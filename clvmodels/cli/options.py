"""Options shared by several commands (declared once, so every command spells them the same).

Every option that sets a pipeline setting has the type :class:`Setting`, which checks its value
with the same rule as the TOML configuration and :class:`~clvmodels.settings.PipelineSettings`
(:data:`clvmodels.settings.RULES`); a bad value exits 1 with one line naming the flag, the value
and the valid range.
"""

from __future__ import annotations

import click

from clvmodels.cli.progress import NORMAL, QUIET, VERBOSE, Reporter
from clvmodels.settings import RULES, check_setting, parse_setting


class Setting(click.ParamType):
    """The click type of an option that sets the pipeline setting ``setting``.

    A value breaking the setting's rule raises :class:`~clvmodels.errors.DataError` (exit 1, like
    a bad value in the configuration file), not click's usage error (exit 2: wrong command line).
    ``rule`` names another setting whose rule applies (e.g. a column rule for each
    ``--attribute-col``).
    """

    name = "setting"

    def __init__(self, setting: str, rule: str | None = None):
        self.setting, self.rule = setting, rule or setting

    def get_metavar(self, param, ctx=None) -> str:
        return RULES[self.rule].metavar

    def convert(self, value, param, ctx):
        label = max(param.opts, key=len) if param is not None and param.opts else self.setting
        if isinstance(value, str):
            checked = parse_setting(self.rule, value, label)
            # a word meaning None (--uncertainty none) stays a word: None would mean "not given"
            # and leave the configuration file's value in force; the settings map it to None
            return value if checked is None else checked
        return check_setting(self.rule, value, label)


def setting_option(flag: str, setting: str, help: str, **kwargs):
    """``--flag VALUE`` setting ``setting`` (checked by its rule; see :class:`Setting`)."""
    return click.option(flag, setting, type=Setting(setting, kwargs.pop("rule", None)), help=help, **kwargs)


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
    return setting_option("--seed", "seed", "Seed of every random draw (default 0): same seed, same numbers.")(func)


def purchase_model_option(func):
    """``--purchase-model NAME``: which purchase-and-dropout model to fit (or to expect when scoring).

    The valid names are the registered continuous-time purchase models; they are looked up only
    when a value is checked, so ``--help`` stays fast (the help names the usual ones)."""
    return setting_option("--purchase-model", "purchase_model",
                          "Purchase-and-dropout model: bgnbd (BG/NBD, default), pnbd (Pareto/NBD), mbgnbd "
                          "(MBG/NBD), or any other registered continuous-time model.")(func)


def data_options(func):
    """How to read a transaction log: column names, dates, time unit, what to do with odd rows."""
    options = [
        setting_option("--customer-id-col", "customer_id_col", "Column of customer ids (default customer_id)."),
        setting_option("--datetime-col", "datetime_col", "Column of purchase dates or times (default date)."),
        click.option("--monetary-value-col", "--amount-col", "monetary_value_col",
                     type=Setting("monetary_value_col"), help="Column of purchase amounts (default amount)."),
        setting_option("--datetime-format", "datetime_format",
                       "strftime format of the dates, e.g. %Y%m%d (default ISO 8601)."),
        setting_option("--observation-end", "observation_end",
                       "Last day of observation, YYYY-MM-DD (default: the last purchase)."),
        setting_option("--time-unit", "time_unit", "Unit of recency, T and horizons: D, W, M or Y (default D, as the Python API)."),
        setting_option("--attribute-col", "attribute_cols", "Customer attribute column to carry (e.g. channel); "
                       "repeat for several.", rule="customer_id_col", multiple=True),
        setting_option("--acquisition-cost-col", "acquisition_cost_col", "Column of each customer's acquisition cost."),
        setting_option("--returns", "returns", "Negative amounts (returns): refuse (default), net them against the "
                       "same customer's purchases on the same day, or drop them."),
        setting_option("--late-purchases", "late_purchases",
                       "Purchases after --observation-end: refuse (default) or drop."),
        setting_option("--zero-amounts", "zero_amounts", "Purchases worth 0: refuse (default), keep or drop."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def value_options(func):
    options = [
        setting_option("--horizon", "horizon", "Prediction and value horizon in the summary's time units (default: one year)."),
        setting_option("--uncertainty", "uncertainty", "Interval kind: expected (parameter uncertainty, default), "
                       "predictive, or none (no intervals)."),
        setting_option("--level", "level", "Coverage of the intervals (default 0.9)."),
        setting_option("--n-draws", "n_draws", "Draws behind each interval (default 300)."),
        setting_option("--margin", "margin", "Gross-margin rate on revenue (default 0.3)."),
        setting_option("--discount-rate", "discount_rate", "Annual discount rate (default 0.1)."),
        setting_option("--currency", "currency", "Currency code of the money columns (default USD)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def reactivation_options(func):
    options = [
        setting_option("--lapsed-window", "lapsed_window", "Lapsed after this long without a purchase (default 26)."),
        setting_option("--lapsed-window-unit", "lapsed_window_unit", "Unit of --lapsed-window (default W)."),
        setting_option("--uplift", "uplift", "How much a win-back contact raises the probability of a "
                       "purchase in the response window (default 0.05, i.e. 5 points)."),
        setting_option("--budget", "budget", "Most to spend on win-back contacts."),
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
        setting_option("--run-id", "run_id", "Run id (default: derived from the inputs, so a rerun updates in place)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func
