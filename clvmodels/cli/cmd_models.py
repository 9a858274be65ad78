"""``clvmodels fit``, ``score`` and ``targets``: models fitted once, used on schedule."""

from __future__ import annotations

import click

from clvmodels.cli import options as opt
from clvmodels.cli.io import load_models, print_result, read_summary, resolve_config, save_models
from clvmodels.errors import DataError

# existence is checked when the summary is read: a missing file is bad input (exit 1, one line
# naming it), like any other unreadable file, not a usage error
SUMMARY = click.argument("summary", type=click.Path())
MODELS = click.option("-m", "--models", "models_dir", required=True, type=click.Path(file_okay=False),
                      help="Directory of the fitted models (written by `clvmodels fit`).")


@click.command()
@SUMMARY
@click.option("-o", "--out", "models_dir", required=True, type=click.Path(file_okay=False),
              help="Directory to save the two fitted models in (JSON).")
@opt.setting_option("--method", "method", "Maximum likelihood (default) or PyMC.")
@opt.setting_option("--penalizer", "penalizer", "L2 penalty on log-parameters (MLE; default 0).")
@opt.config_option
@opt.seed_option
@opt.verbosity
def fit(summary, models_dir, config_path, **options):
    """Fit BG/NBD (purchases, dropout) and Gamma-Gamma (spend) to a customer summary."""
    from clvmodels.pipeline import fit_models

    reporter = opt.make_reporter()
    settings = resolve_config(config_path, **options).pipeline_settings()
    data = read_summary(summary)
    with reporter("fit BG/NBD and Gamma-Gamma"):
        bg, gg = fit_models(data, settings, progressbar=reporter.show_progress)
    paths = save_models(bg, gg, models_dir)
    for model, path in zip((bg, gg), paths):
        params = ", ".join(f"{k}={v:.4g}" for k, v in model.params_.items())
        reporter.say(f"{type(model).__name__} ({model.method}): {params}; log-likelihood "
                     f"{model.log_likelihood_:.2f} -> {path}")


@click.command()
@SUMMARY
@MODELS
@click.option("-o", "--out", required=True, type=click.Path(dir_okay=False),
              help="Scores file to write (.parquet, with the run metadata; export it with `clvmodels export`).")
@opt.config_option
@opt.value_options
@opt.reactivation_options
@opt.setting_option("--run-id", "run_id", "Run id (default: derived from the inputs).")
@opt.seed_option
@opt.verbosity
def score(summary, models_dir, out, config_path, **options):
    """Score every customer: predictions, value and win-back flags in the export's columns."""
    from clvmodels.export import write_parquet
    from clvmodels.pipeline import run_pipeline

    reporter = opt.make_reporter()
    if not out.lower().endswith(".parquet"):
        raise DataError(f"--out must be a .parquet file (the scores keep their run metadata there); got {out!r}")
    settings = resolve_config(config_path, **options).pipeline_settings()
    data = read_summary(summary)
    result = run_pipeline(None, settings, summary=data, models=load_models(models_dir), reporter=reporter)
    path = write_parquet(result.frame, out, result.run)
    print_result(result, reporter, {"scores": path})


@click.command()
@SUMMARY
@MODELS
@click.option("-o", "--out", required=True, type=click.Path(dir_okay=False), help="Campaign list to write (CSV).")
@opt.config_option
@opt.reactivation_options
@opt.setting_option("--min-return", "min_return", "Least expected return on contact cost (value / cost).")
@opt.setting_option("--margin", "margin", "Gross-margin rate on revenue (default 0.3).")
@opt.setting_option("--horizon", "horizon", "Value horizon in the summary's time units (default: one year).")
@opt.seed_option
@opt.verbosity
def targets(summary, models_dir, out, config_path, **options):
    """Pick the lapsed customers worth a win-back campaign and write the ranked list."""
    from clvmodels.cli.cmd_run import write_targets
    from clvmodels.pipeline import targets as pick_targets

    reporter = opt.make_reporter()
    settings = resolve_config(config_path, **options).pipeline_settings()
    data = read_summary(summary)
    bg, gg = load_models(models_dir)
    with reporter("value lapsed customers"):
        campaign = pick_targets(data, bg, gg, settings)
    write_targets(campaign, out)
    chosen = campaign[campaign["selected"].to_numpy(bool)]
    reporter.say(f"win-back targets: {len(chosen):,} of {len(campaign):,} lapsed customers; contact cost "
                 f"{chosen['contact_cost'].sum():,.2f}; expected incremental value "
                 f"{chosen['expected_value'].sum():,.2f} -> {out}")

