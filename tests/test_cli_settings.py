"""Every setting is type- and range-checked, from command-line flags and from the TOML config alike
(issue 17, item 8): exit 1, one line naming the flag or key, the value and the valid range.

The command-line cases run ``python -m clvmodels.cli.main`` in a subprocess; settings are checked
before any data is read, so each takes about a second.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

from clvmodels.errors import DataError
from clvmodels.settings import RULES, PipelineSettings, check_setting, parse_setting

LOG = "customer_id,date,amount\nc1,2023-01-05,10.5\nc1,2023-02-07,12.0\nc2,2023-01-20,8.0\n"


def clv(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "clvmodels.cli.main", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def assert_bad_setting(result, *fragments):
    """Exit 1 (bad input, not 3 = bug, not 2 = usage), exactly one stderr line, no traceback."""
    assert result.returncode == 1, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("clvmodels: error: ") and "Traceback" not in result.stderr
    assert "internal error" not in lines[0]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.fixture()
def log(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text(LOG, encoding="utf-8")
    return path


@pytest.mark.parametrize("flag, value, valid", [
    ("--n-draws", "0", ">= 2"),
    ("--n-draws", "2.5", "whole number"),
    ("--n-draws", "many", "whole number"),
    ("--horizon", "fifty-two", "> 0"),
    ("--horizon", "-1", "> 0"),
    ("--horizon", "nan", "> 0"),
    ("--level", "1.5", "strictly between 0 and 1"),
    ("--level", "0", "strictly between 0 and 1"),
    ("--seed", "abc", ">= 0"),
    ("--seed", "-3", ">= 0"),
    ("--budget", "-100", "> 0"),
    ("--margin", "30", "between 0 and 1"),
    ("--discount-rate", "1", "< 1"),
    ("--uplift", "0", "> 0 and <= 1"),
    ("--lapsed-window", "0", "> 0"),
    ("--time-unit", "weeks", "'D', 'W', 'M', 'Y'"),
    ("--uncertainty", "bayesian", "'expected', 'predictive', 'none'"),
    ("--returns", "keep", "'refuse', 'net', 'drop'"),
    ("--zero-amounts", "yes", "'refuse', 'keep', 'drop'"),
    ("--late-purchases", "keep", "'refuse', 'drop'"),
    ("--observation-end", "30/09/1997", "YYYY-MM-DD"),
    ("--currency", "", "currency code"),
])
def test_a_bad_flag_value_exits_1_naming_flag_value_and_range(log, tmp_path, flag, value, valid):
    result = clv("run", log, "-o", tmp_path / "out", flag, value)
    assert_bad_setting(result, flag, repr(value), valid)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", ["fit", "score", "targets"])
def test_model_commands_check_their_flags_too(tmp_path, command):
    summary = tmp_path / "s.parquet"
    summary.write_bytes(b"")  # never read: the flag is refused first
    extra = {"fit": ["-o", tmp_path / "m", "--penalizer", "-0.1"],
             "score": ["-m", tmp_path / "m", "-o", tmp_path / "x.parquet", "--n-draws", "1"],
             "targets": ["-m", tmp_path / "m", "-o", tmp_path / "t.csv", "--min-return", "inf"]}[command]
    result = clv(command, summary, *extra)
    assert_bad_setting(result, extra[-2], repr(extra[-1]))


@pytest.mark.parametrize("toml, fragments", [
    ('[value]\nhorizon = "fifty-two"\n', ["[value] horizon", "'fifty-two'", "> 0", "without quotes"]),
    ('seed = "abc"\n', ["seed", "'abc'", ">= 0"]),
    ('seed = 1.5\n', ["seed", "1.5", "whole number"]),
    ('[value]\nn_draws = 2.5\n', ["[value] n_draws", "2.5", ">= 2"]),
    ('[value]\nlevel = true\n', ["[value] level", "True", "between 0 and 1"]),
    ('[reactivation]\nbudget = -5\n', ["[reactivation] budget", "-5", "> 0"]),
    ('[value]\nlevel = 1.5\n', ["[value] level", "1.5"]),
    ('[data]\ntime_unit = 7\n', ["[data] time_unit", "7", "'W'"]),
    ('[data]\nattribute_cols = [1, 2]\n', ["[data] attribute_cols", "[1, 2]"]),
    ('[data]\nobservation_end = "yesterday"\n', ["[data] observation_end", "'yesterday'", "YYYY-MM-DD"]),
    ('[reactivation]\nsequence = [{name = "letter"}]\n', ["[reactivation] sequence", "cost"]),
    ('[reactivation]\nsequence = [{name = "letter", cost = -1}]\n', ["[reactivation] sequence", "cost >= 0"]),
    ('[data]\nhorizon = 52\n', ["unknown setting 'horizon' in [data]", "belongs in [value]"]),
    ('horizon = 52\n', ["'horizon'", "belongs in [value]"]),
    ('[values]\nhorizon = 52\n', ["unknown section or key 'values'"]),
    ('value = 52\n', ["[value] must be a table"]),
    ('[export]\ncsv = 3\n', ["[export] csv", "3"]),
    ('[export]\nfields = 3\n', ["[export.fields]", "3"]),
    ('[export.fields]\ncustomer_id = 7\n', ["[export.fields]", "7"]),
    ('[value\nhorizon = 52\n', ["not valid TOML"]),
])
def test_a_bad_config_value_exits_1_naming_file_key_value_and_range(log, tmp_path, toml, fragments):
    config = tmp_path / "clv.toml"
    config.write_text(toml, encoding="utf-8")
    result = clv("run", log, "-o", tmp_path / "out", "--config", config)
    assert_bad_setting(result, "clv.toml", *fragments)
    assert not (tmp_path / "out").exists()


def test_a_config_file_not_in_utf8_is_refused_in_one_line(log, tmp_path):
    config = tmp_path / "clv.toml"
    config.write_bytes('[data]\ncustomer_id_col = "Kundennummer für"\n'.encode("latin-1"))
    assert_bad_setting(clv("run", log, "-o", tmp_path / "out", "--config", config), "clv.toml", "UTF-8")


def test_config_values_reach_the_summary_and_flags_override_them(log, tmp_path):
    """returns and zero_amounts from the file reach rfm_summary; a flag wins over the file."""
    log.write_text(LOG + "c2,2023-01-20,-3.0\nc3,2023-01-21,0\n", encoding="utf-8")
    config = tmp_path / "clv.toml"
    config.write_text('[data]\nreturns = "net"\nzero_amounts = "drop"\ntime_unit = "D"\n', encoding="utf-8")
    out = tmp_path / "s.parquet"
    result = clv("summarise", log, "-o", out, "--config", config, "--time-unit", "W")
    assert result.returncode == 0, result.stderr
    import pandas as pd

    summary = pd.read_parquet(out)
    assert summary.attrs["clvmodels"]["time_unit"] == "W"  # the flag won
    assert sorted(summary.index) == ["c1", "c2"]  # c3's only purchase was worth 0: dropped
    # c2 bought 8.00 and returned 3.00 the same day: one purchase day worth 5.00, no repeat
    assert summary.loc["c2", "frequency"] == 0
    assert summary.loc["c1", "monetary_value"] == pytest.approx(12.0)  # the repeat purchase


def test_every_pipeline_setting_has_a_rule_and_the_defaults_pass():
    names = {f.name for f in dataclasses.fields(PipelineSettings)}
    assert names == set(RULES)
    defaults = PipelineSettings()
    assert all(check_setting(name, getattr(defaults, name)) == getattr(defaults, name) for name in names)


@pytest.mark.parametrize("changes, fragment", [
    ({"n_draws": 2.5}, "n_draws must be a whole number >= 2"),
    ({"horizon": "52"}, "horizon must be a number of time units > 0"),
    ({"seed": True}, "seed must be a whole number >= 0"),
    ({"returns": "keep"}, "returns must be one of 'refuse', 'net', 'drop'"),
    ({"sequence": ()}, "sequence must be a non-empty list"),
])
def test_pipeline_settings_refuse_bad_values_in_python(changes, fragment):
    with pytest.raises(DataError, match=fragment.replace("(", r"\(")):
        PipelineSettings(**changes)
    with pytest.raises(DataError, match=fragment.replace("(", r"\(")):
        PipelineSettings().replace(**changes)


def test_settings_are_stored_in_one_canonical_form():
    """An int horizon is a float, a TOML date is ISO text, TOML step tables are (name, cost, day)."""
    import datetime as dt

    settings = PipelineSettings(horizon=39, observation_end=dt.date(1997, 9, 30), attribute_cols="channel",
                                sequence=[{"name": "letter", "cost": 1}, ("call", 4.0, 14)], uncertainty="none")
    assert settings.horizon == 39.0 and isinstance(settings.horizon, float)
    assert settings.observation_end == "1997-09-30"
    assert settings.attribute_cols == ("channel",)
    assert settings.sequence == (("letter", 1.0, 0), ("call", 4.0, 14))
    assert settings.uncertainty is None
    import numpy as np
    import pandas as pd

    for day in (np.datetime64("1997-09-30"), pd.Period("1997-09-30", "D"), pd.Timestamp("1997-09-30")):
        assert PipelineSettings(observation_end=day).observation_end.startswith("1997-09-30")
    with pytest.raises(DataError, match="observation_end must be a date YYYY-MM-DD"):
        PipelineSettings(observation_end=pd.Period("1997-09", "M"))  # which day of September?


def test_flag_text_is_quoted_as_typed():
    with pytest.raises(DataError) as info:
        parse_setting("budget", "-5", "--budget")
    assert str(info.value) == "--budget must be an amount > 0; got '-5'"


def test_one_time_unit_default_and_a_one_year_horizon():
    """API and command line share the time-unit default (days); the pipeline's default horizon is
    one year in the summary's unit, so it means the same span whatever the unit."""
    import inspect

    import clvmodels
    from clvmodels.settings import DEFAULT_TIME_UNIT, PipelineSettings

    assert inspect.signature(clvmodels.rfm_summary).parameters["time_unit"].default == DEFAULT_TIME_UNIT
    settings = PipelineSettings()
    assert settings.time_unit == DEFAULT_TIME_UNIT == "D"
    assert settings.horizon_in("D") == 365.2425
    assert settings.horizon_in("W") == 365.2425 / 7
    assert settings.horizon_in("M") == 12.0
    assert PipelineSettings(horizon=39).horizon_in("D") == 39.0  # a stated horizon is kept
    assert settings.economics("W")["horizon"] == 365.2425 / 7
