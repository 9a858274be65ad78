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


def load_expected_models(models_dir, config):
    """The (purchase, spend) models saved in ``models_dir``; a DataError when the configuration or
    ``--purchase-model`` names another purchase model than the saved one (scoring a Pareto/NBD
    fit while the run's record says BG/NBD would mislabel every score)."""
    purchase, spend = load_models(models_dir)
    wanted = config.settings.get("purchase_model")
    family = purchase.family
    if wanted is not None and wanted != family.name:
        raise DataError(f"{str(models_dir)!r} holds a {family.label} model ({family.name!r}), not {wanted!r}; "
                        f"fit it with `clvmodels fit SUMMARY -o {models_dir} --purchase-model {wanted}`, "
                        f"or leave out --purchase-model to use the saved model")
    return purchase, spend


@click.command()
@SUMMARY
@click.option("-o", "--out", "models_dir", required=True, type=click.Path(file_okay=False),
              help="Directory to save the two fitted models in (JSON).")
@opt.purchase_model_option
@opt.setting_option("--method", "method", "Maximum likelihood (default) or PyMC.")
@opt.setting_option("--penalizer", "penalizer", "L2 penalty on log-parameters (MLE; default 0).")
@opt.config_option
@opt.seed_option
@opt.verbosity
def fit(summary, models_dir, config_path, **options):
    """Fit a purchase model (purchases, dropout; BG/NBD unless --purchase-model names another) and
    Gamma-Gamma (spend) to a customer summary."""
    from clvmodels.pipeline import fit_models, fit_step_name, purchase_model_class

    reporter = opt.make_reporter()
    settings = resolve_config(config_path, **options).pipeline_settings()
    data = read_summary(summary)
    with reporter(fit_step_name(purchase_model_class(settings).family)):
        purchase, spend = fit_models(data, settings, progressbar=reporter.show_progress)
    paths = save_models(purchase, spend, models_dir)
    for model, path in zip((purchase, spend), paths):
        params = ", ".join(f"{k}={v:.4g}" for k, v in model.params_.items())
        reporter.say(f"{type(model).__name__} ({model.method}): {params}; log-likelihood "
                     f"{model.log_likelihood_:.2f} -> {path}")


@click.command()
@SUMMARY
@MODELS
@click.option("-o", "--out", required=True, type=click.Path(dir_okay=False),
              help="Scores file to write (.parquet, with the run metadata; export it with `clvmodels export`).")
@opt.config_option
@opt.purchase_model_option
@opt.value_options
@opt.reactivation_options
@opt.setting_option("--run-id", "run_id", "Run id (default: derived from the inputs).")
@opt.seed_option
@opt.verbosity
def score(summary, models_dir, out, config_path, **options):
    """Score every customer: predictions, value and win-back flags in the export's columns.

    The purchase model is the one saved in MODELS; --purchase-model (or the configuration's
    ``[model] purchase_model``) only checks that it is the expected one.
    """
    from clvmodels.export import write_parquet
    from clvmodels.pipeline import run_pipeline

    reporter = opt.make_reporter()
    if not out.lower().endswith(".parquet"):
        raise DataError(f"--out must be a .parquet file (the scores keep their run metadata there); got {out!r}")
    config = resolve_config(config_path, **options)
    settings = config.pipeline_settings()
    data = read_summary(summary)
    models = load_expected_models(models_dir, config)
    result = run_pipeline(None, settings, summary=data, models=models, reporter=reporter)
    path = write_parquet(result.frame, out, result.run)
    print_result(result, reporter, {"scores": path})


@click.command()
@SUMMARY
@MODELS
@click.option("-o", "--out", required=True, type=click.Path(dir_okay=False), help="Campaign list to write (CSV).")
@opt.config_option
@opt.purchase_model_option
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
    config = resolve_config(config_path, **options)
    settings = config.pipeline_settings()
    data = read_summary(summary)
    purchase, spend = load_expected_models(models_dir, config)
    with reporter("value lapsed customers"):
        campaign = pick_targets(data, purchase, spend, settings)
    write_targets(campaign, out)
    chosen = campaign[campaign["selected"].to_numpy(bool)]
    reporter.say(f"win-back targets: {len(chosen):,} of {len(campaign):,} lapsed customers; contact cost "
                 f"{chosen['contact_cost'].sum():,.2f}; expected incremental value "
                 f"{chosen['expected_value'].sum():,.2f} -> {out}")

