"""The command line with every continuous-time purchase model (issue 15, item 5).

``clvmodels run/demo/fit/score --purchase-model NAME`` (or ``[model] purchase_model``): the names
come from :mod:`clvmodels.models.registry`, the exported columns are the same whatever the model,
and the run metadata names the model that scored (family name and label). The whole pipeline runs
as a real subprocess on the bundled CDNOW sample (2,357 customers; a few seconds a run).
"""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from clvmodels.errors import DataError
from clvmodels.models.registry import purchase_model_class, purchase_model_names

CONTINUOUS = purchase_model_names(discrete_time=False)
#: CDNOW as in Fader, Hardie & Lee (2005): weeks, calibration to 1997-09-30
CDNOW_FLAGS = ["--observation-end", "1997-09-30", "--time-unit", "W", "--late-purchases", "drop",
               "--zero-amounts", "keep"]


def clv(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "clvmodels.cli.main", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def assert_one_line_error(result, *fragments):
    """Exit 1 (bad input), one stderr line, no traceback, each fragment in it."""
    assert result.returncode == 1, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("clvmodels: error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.fixture(scope="module")
def cdnow_csv(tmp_path_factory):
    from clvmodels.datasets import load_cdnow_transactions

    path = tmp_path_factory.mktemp("cdnow") / "cdnow.csv"
    load_cdnow_transactions().to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def runs(cdnow_csv, tmp_path_factory):
    """``runs(name)``: ``clvmodels run --purchase-model name`` on CDNOW, run once per family
    -> (scores frame, run metadata, what it printed: --verbose step lines go to stderr)."""
    from clvmodels.export.files import read_run_info

    done = {}

    def run(name):
        if name not in done:
            directory = tmp_path_factory.mktemp(f"run_{name}")
            result = clv("run", cdnow_csv, "-o", directory, "--purchase-model", name, *CDNOW_FLAGS,
                         "--n-draws", 50, "--verbose")
            assert result.returncode == 0, (name, result.stderr)
            path = directory / "scores.parquet"
            done[name] = (pd.read_parquet(path), read_run_info(path), result.stdout + result.stderr)
        return done[name]

    return run


def test_the_choices_are_the_registrys_continuous_families():
    from clvmodels.settings import RULES

    assert set(CONTINUOUS) >= {"bgnbd", "pnbd", "mbgnbd"}
    assert RULES["purchase_model"].choices == tuple(CONTINUOUS)
    assert not set(purchase_model_names(discrete_time=True)) & set(CONTINUOUS)


@pytest.mark.parametrize("name", CONTINUOUS)
def test_run_fits_the_named_model_and_the_metadata_names_it(runs, name):
    """The run fitted the named family (step label, printed class), the metadata records its
    registry name, label, class and parameters, and every customer is scored once."""
    frame, run, stdout = runs(name)
    model_class = purchase_model_class(name)
    family = model_class.family
    entry = run.models["purchase"]
    assert (entry["family"], entry["label"], entry["type"]) == (family.name, family.label, model_class.__name__)
    assert entry["method"] == "mle" and run.configuration["purchase_model"] == name
    assert sorted(run.parameters["purchase"]) == sorted(family.param_names)  # canonical JSON sorts keys
    assert run.models["spend"]["type"] == "GammaGammaModel"
    assert f"fit {family.label} and Gamma-Gamma" in stdout
    assert f"purchase model: {model_class.__name__} (mle)" in stdout
    assert len(frame) == 2357 and frame["customer_id"].is_unique
    assert frame["p_alive"].between(0, 1).all()
    assert (frame["expected_purchases_lower"] <= frame["expected_purchases"]).all()


def test_scored_columns_and_types_are_the_same_for_every_model(runs):
    """Only the numbers depend on the model: the same columns, in the same order and types, and
    the same customers and history columns; the run ids differ (the model is part of the run)."""
    from clvmodels.export.schema import COLUMN_NAMES

    frames = {name: runs(name)[0] for name in CONTINUOUS}
    reference = frames["bgnbd"]
    assert tuple(reference.columns) == COLUMN_NAMES
    for name, frame in frames.items():
        pd.testing.assert_series_equal(frame.dtypes, reference.dtypes, obj=name)
        pd.testing.assert_frame_equal(frame[["customer_id", "frequency", "recency", "tenure"]],
                                      reference[["customer_id", "frequency", "recency", "tenure"]])
    assert len({runs(name)[1].run_id for name in CONTINUOUS}) == len(CONTINUOUS)
    assert not frames["pnbd"]["p_alive"].equals(reference["p_alive"])


def test_fit_then_score_keeps_the_saved_model_and_refuses_another(cdnow_csv, tmp_path):
    """fit --purchase-model pnbd saves a Pareto/NBD model; score uses it (metadata says pnbd) and
    refuses, in one line, a --purchase-model or a configuration naming another model."""
    from clvmodels.export.files import read_run_info

    summary, models, scores = tmp_path / "s.parquet", tmp_path / "models", tmp_path / "scores.parquet"
    assert clv("summarise", cdnow_csv, "-o", summary, *CDNOW_FLAGS).returncode == 0
    result = clv("fit", summary, "-o", models, "--purchase-model", "pnbd")
    assert result.returncode == 0, result.stderr
    assert "ParetoNBDModel (mle): r=" in result.stdout

    result = clv("score", summary, "-m", models, "-o", scores, "--n-draws", 20)
    assert result.returncode == 0, result.stderr
    entry = read_run_info(scores).models["purchase"]
    assert (entry["family"], entry["label"]) == ("pnbd", "Pareto/NBD")
    assert read_run_info(scores).configuration["purchase_model"] == "pnbd"

    refused = clv("score", summary, "-m", models, "-o", tmp_path / "x.parquet", "--purchase-model", "mbgnbd")
    assert_one_line_error(refused, "Pareto/NBD", "'pnbd'", "'mbgnbd'", "--purchase-model mbgnbd")
    assert not (tmp_path / "x.parquet").exists()
    config = tmp_path / "clv.toml"
    config.write_text('[model]\npurchase_model = "bgnbd"\n', encoding="utf-8")
    refused = clv("targets", summary, "-m", models, "-o", tmp_path / "t.csv", "--config", config)
    assert_one_line_error(refused, "Pareto/NBD", "not 'bgnbd'")


def test_the_configuration_key_chooses_the_model_and_the_flag_wins(cdnow_csv, tmp_path):
    summary, models = tmp_path / "s.parquet", tmp_path / "models"
    assert clv("summarise", cdnow_csv, "-o", summary, *CDNOW_FLAGS).returncode == 0
    config = tmp_path / "clv.toml"
    config.write_text('[model]\npurchase_model = "mbgnbd"\n', encoding="utf-8")
    result = clv("fit", summary, "-o", models, "--config", config)
    assert result.returncode == 0 and "ModifiedBetaGeoModel (mle)" in result.stdout, result.stderr
    result = clv("fit", summary, "-o", models, "--config", config, "--purchase-model", "bgnbd")
    assert result.returncode == 0 and "BetaGeoModel (mle)" in result.stdout, result.stderr


def test_demo_takes_the_flag(tmp_path):
    from clvmodels.export.files import read_run_info

    result = clv("demo", "-o", tmp_path / "demo", "--purchase-model", "mbgnbd", "-q")
    assert result.returncode == 0, result.stderr
    assert read_run_info(tmp_path / "demo" / "scores.parquet").models["purchase"]["label"] == "MBG/NBD"


@pytest.mark.parametrize("where", ["flag", "config"])
def test_an_unknown_or_discrete_time_model_is_refused_naming_the_choices(cdnow_csv, tmp_path, where):
    """BG/BB counts discrete opportunities: no choice for a transaction log. Refused before any
    data is read, in one line listing the valid names, naming the flag or the file and key."""
    choices = ", ".join(repr(n) for n in CONTINUOUS)
    if where == "flag":
        result = clv("run", cdnow_csv, "-o", tmp_path / "out", "--purchase-model", "bgbb")
        assert_one_line_error(result, "--purchase-model must be one of", choices, "got 'bgbb'")
    else:
        config = tmp_path / "clv.toml"
        config.write_text('[model]\npurchase_model = "weibull"\n', encoding="utf-8")
        result = clv("run", cdnow_csv, "-o", tmp_path / "out", "--config", config)
        assert_one_line_error(result, "clv.toml: [model] purchase_model must be one of", choices, "'weibull'")
    assert not (tmp_path / "out").exists()


def test_the_pipeline_refuses_a_given_discrete_time_model():
    """A BG/BB model handed to the pipeline is refused before any scoring, naming the choices."""
    from clvmodels.pipeline import PipelineSettings, fitted_settings

    discrete = purchase_model_names(discrete_time=True)[0]
    with pytest.raises(DataError, match="discrete purchase opportunities.*'pnbd'"):
        fitted_settings(PipelineSettings(), purchase_model_class(discrete)())
    recorded = fitted_settings(PipelineSettings(), purchase_model_class("pnbd")(penalizer=0.5))
    assert (recorded.purchase_model, recorded.penalizer) == ("pnbd", 0.5)


def test_help_names_the_option_without_loading_the_models():
    code = ("import sys; from clvmodels.cli.main import main; main(['run', '--help']); "
            "print(sorted(m for m in ('pandas', 'scipy', 'clvmodels.models.registry') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "--purchase-model NAME" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "[]"
