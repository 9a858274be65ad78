"""Errors at the command line speak its language and keep their shape (issue 17, item 8):
``--returns net`` instead of ``returns='net'``, and a list of problems stays one problem per line."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from clvmodels.cli.failures import cli_words, error_lines

# c1: two purchase days; c2: a purchase of 8.00 and a return of 3.00 on the same day; c3: a free item
LOG = ("customer_id,date,amount\n"
       "c1,2023-01-05,10.00\nc1,2023-02-07,12.00\n"
       "c2,2023-01-20,8.00\nc2,2023-01-20,-3.00\nc2,2023-03-01,6.00\n"
       "c3,2023-01-21,0\n")


def clv(*args):
    return subprocess.run([sys.executable, "-m", "clvmodels.cli.main", *map(str, args)],
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("library, cli", [
    ("Pass returns='net' to subtract returns, or returns='drop' to ignore them.",
     "Pass --returns net to subtract returns, or --returns drop to ignore them."),
    ("Pass zero_amounts='keep' to count them", "Pass --zero-amounts keep to count them"),
    ("Pass late_purchases='drop' to ignore them, or a later observation_period_end.",
     "Pass --late-purchases drop to ignore them, or a later --observation-end."),
    ("pass datetime_format= with strftime codes (e.g. '%Y-%m-%d %H:%M')",
     "pass --datetime-format with strftime codes (e.g. '%Y-%m-%d %H:%M')"),
    ("they do not match datetime_format='%d.%m.%Y %H:%M'", "they do not match --datetime-format '%d.%m.%Y %H:%M'"),
    ("Pass customer_id_col=, datetime_col=, monetary_value_col= or attribute_cols= to name yours",
     "Pass --customer-id-col, --datetime-col, --monetary-value-col or --attribute-col to name yours"),
    ("rebuild the summary with time_unit='W'", "rebuild the summary with --time-unit W"),
    ("(try penalizer=0.01 or more data)", "(try --penalizer 0.01 or more data)"),
    ("column 'returns' and my_returns='x' stay as they are", "column 'returns' and my_returns='x' stay as they are"),
])
def test_library_keyword_hints_become_flags(library, cli):
    assert cli_words(library) == cli
    assert cli_words(cli) == cli  # idempotent: a message already in flags is unchanged


def test_error_lines_keep_a_list_and_join_a_single_problem():
    several = "the log cannot be summarised:\n- first problem.\n- second problem."
    assert error_lines(several) == ["the log cannot be summarised:", "  - first problem.", "  - second problem."]
    assert error_lines("the log cannot be summarised:\n- only problem.") == \
        ["the log cannot be summarised: only problem."]
    assert error_lines("one line") == ["one line"]


@pytest.fixture()
def log(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text(LOG, encoding="utf-8")
    return path


def test_several_problems_stay_a_readable_list_in_flag_words(log, tmp_path):
    out = tmp_path / "s.parquet"
    result = clv("summarise", log, "-o", out)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    lines = result.stderr.rstrip("\n").splitlines()
    assert lines[0].startswith("clvmodels: error: ") and len(lines) == 3, result.stderr
    assert all(line.startswith("  - ") for line in lines[1:])
    problems = "\n".join(lines[1:])
    assert "--returns net" in problems and "--zero-amounts keep" in problems
    assert "returns='net'" not in result.stderr and "zero_amounts=" not in result.stderr
    assert not out.exists()


def test_returns_and_zero_amounts_flags_reach_the_summary(log, tmp_path):
    """Hand check: with returns netted and zero amounts dropped, c2 has two purchase days, the first
    worth 8.00 - 3.00 = 5.00 and the repeat worth 6.00 (mean repeat spend 6.00); c3 bought nothing
    of value and is not a customer; c1's repeat is worth 12.00."""
    out = tmp_path / "s.parquet"
    result = clv("summarise", log, "-o", out, "--returns", "net", "--zero-amounts", "drop", "--time-unit", "D")
    assert result.returncode == 0, result.stderr
    summary = pd.read_parquet(out)
    assert sorted(summary.index) == ["c1", "c2"]
    assert summary.loc["c2", "frequency"] == 1 and summary.loc["c2", "monetary_value"] == pytest.approx(6.0)
    assert summary.loc["c1", "frequency"] == 1 and summary.loc["c1", "monetary_value"] == pytest.approx(12.0)
    assert summary.loc["c2", "recency"] == pytest.approx(40.0)  # 2023-01-20 -> 2023-03-01 in days


def test_returns_drop_ignores_the_return(log, tmp_path):
    """With returns dropped (zero amounts kept) c2's first day is worth 8.00 and c3 stays with one
    purchase worth 0."""
    out = tmp_path / "s.parquet"
    result = clv("summarise", log, "-o", out, "--returns", "drop", "--zero-amounts", "keep")
    assert result.returncode == 0, result.stderr
    summary = pd.read_parquet(out)
    assert sorted(summary.index) == ["c1", "c2", "c3"] and summary.loc["c3", "frequency"] == 0


def test_late_purchase_hint_names_the_flags(log, tmp_path):
    result = clv("summarise", log, "-o", tmp_path / "s.parquet", "--returns", "net", "--zero-amounts", "drop",
                 "--observation-end", "2023-02-01")
    assert result.returncode == 1
    assert "--late-purchases drop" in result.stderr and "late_purchases=" not in result.stderr
