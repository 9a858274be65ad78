"""The command line, run as a real subprocess on small files (``python -m clvmodels.cli.main``)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

N_CUSTOMERS = 80


def clv(*args, cwd=None):
    """Run ``clvmodels ARGS`` in a subprocess; returns the CompletedProcess."""
    return subprocess.run([sys.executable, "-m", "clvmodels.cli.main", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def make_log(n_customers=N_CUSTOMERS, seed=1) -> pd.DataFrame:
    """A small BG/NBD-like log: first purchases in Jan-Mar 2023, then Poisson purchases (rate ~
    Gamma per customer) until a dropout after any purchase (probability ~ Beta), to the year end."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_customers):
        rate, dropout, spend = rng.gamma(0.8, 1 / 20), rng.beta(1.0, 3.0), rng.lognormal(3, 0.4)
        day = int(rng.integers(0, 90))
        while day < 365:
            rows.append((f"c{i:03d}", (pd.Timestamp("2023-01-01") + pd.Timedelta(days=day)).date().isoformat(),
                         round(float(spend * rng.gamma(5, 1 / 5)), 2)))
            if rng.uniform() < dropout:
                break
            day += 1 + int(rng.exponential(1 / rate))
    return pd.DataFrame(rows, columns=["customer_id", "date", "amount"])


@pytest.fixture(scope="module")
def log_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("log") / "transactions.csv"
    make_log().to_csv(path, index=False)
    return path


def assert_one_line_error(result, *fragments):
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("clvmodels: error: ") and "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_help_starts_without_heavy_imports():
    code = ("import sys; from clvmodels.cli.main import main; main(['--help']); main(['demo', '--help']); "
            "print(sorted(m for m in ('pymc', 'pytensor', 'matplotlib', 'pandas', 'sqlalchemy', 'numba') "
            "if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "Commands:" in result.stdout and "--seed" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_summarise_writes_the_summary(log_file, tmp_path):
    out = tmp_path / "summary.parquet"
    result = clv("summarise", log_file, "-o", out, "--observation-end", "2023-12-31")
    assert result.returncode == 0, result.stderr
    summary = pd.read_parquet(out)
    assert len(summary) == N_CUSTOMERS and summary.index.name == "customer_id"
    assert summary.attrs["clvmodels"]["time_unit"] == "D"  # the Python API's default too
    assert summary.attrs["clvmodels"]["observation_end"] == "2023-12-31"
    assert f"customers: {N_CUSTOMERS}" in result.stdout


@pytest.mark.parametrize("problem, fragments", [
    ("missing column", ["amount"]),
    ("bad dates", ["date"]),
    ("missing file", ["no transaction file found"]),
])
def test_bad_files_fail_with_one_line_and_write_nothing(tmp_path, problem, fragments):
    log = make_log(10)
    if problem == "missing column":
        log = log.drop(columns="amount")
    elif problem == "bad dates":
        log.loc[[2, 5], "date"] = ["2023-13-45", "yesterday"]
    path = tmp_path / "log.csv"
    if problem != "missing file":
        log.to_csv(path, index=False)
    out = tmp_path / "summary.parquet"
    assert_one_line_error(clv("summarise", path, "-o", out), *fragments)
    assert not out.exists()


def test_verbose_shows_the_traceback(tmp_path):
    path = tmp_path / "log.csv"
    make_log(5).drop(columns="amount").to_csv(path, index=False)
    result = clv("summarise", path, "-o", tmp_path / "s.parquet", "--verbose")
    assert result.returncode == 1
    assert "Traceback" in result.stderr and result.stderr.strip().splitlines()[-1].startswith("clvmodels: error:")


def test_config_file_maps_columns_and_rejects_unknown_settings(tmp_path):
    log = make_log(20).rename(columns={"customer_id": "Kunde", "date": "Datum", "amount": "Betrag"})
    log["Datum"] = pd.to_datetime(log["Datum"]).dt.strftime("%d.%m.%Y")
    path = tmp_path / "umsatz.csv"
    log.to_csv(path, index=False)
    config = tmp_path / "clv.toml"
    config.write_text('[data]\ncustomer_id_col = "Kunde"\ndatetime_col = "Datum"\nmonetary_value_col = "Betrag"\n'
                      'datetime_format = "%d.%m.%Y"\ntime_unit = "D"\n', encoding="utf-8")
    out = tmp_path / "summary.parquet"
    result = clv("summarise", path, "-o", out, "--config", config)
    assert result.returncode == 0, result.stderr
    summary = pd.read_parquet(out)
    assert summary.index.name == "Kunde" and len(summary) == 20
    assert summary.attrs["clvmodels"]["time_unit"] == "D"

    config.write_text('[data]\ncustomer_col = "Kunde"\n', encoding="utf-8")
    assert_one_line_error(clv("summarise", path, "-o", out, "--config", config), "customer_col", "[data]")


def test_fit_score_export_targets_chain(log_file, tmp_path):
    summary, models, scores = tmp_path / "summary.parquet", tmp_path / "models", tmp_path / "scores.parquet"
    assert clv("summarise", log_file, "-o", summary, "--observation-end", "2023-12-31",
               "--time-unit", "W").returncode == 0
    result = clv("fit", summary, "-o", models)
    assert result.returncode == 0, result.stderr
    assert "BetaGeoModel (mle): r=" in result.stdout and (models / "purchase_model.json").is_file()

    result = clv("score", summary, "--models", models, "-o", scores, "--horizon", 26, "--seed", 3)
    assert result.returncode == 0, result.stderr
    frame = pd.read_parquet(scores)
    assert len(frame) == N_CUSTOMERS and frame["customer_id"].is_unique
    assert frame["p_alive"].between(0, 1).all() and (frame["horizon"] == 26).all()
    assert (frame["clv_lower"] <= frame["clv"]).all() and (frame["clv"] <= frame["clv_upper"]).all()

    fields = tmp_path / "crm.toml"
    fields.write_text('[fields]\ncustomer_id = "External_Id__c"\nnet_value = "Net_Value__c"\n', encoding="utf-8")
    db = tmp_path / "crm.db"
    for _ in range(2):  # the same run exported twice updates the same rows
        result = clv("export", scores, "--csv", tmp_path / "crm.csv", "--sql", db, "--fields", fields)
        assert result.returncode == 0, result.stderr
    assert "0 rows inserted, 80 updated" in result.stdout
    csv = pd.read_csv(tmp_path / "crm.csv")
    assert list(csv.columns[:1]) == ["External_Id__c"] and "Net_Value__c" in csv.columns and len(csv) == 80
    with sqlite3.connect(db) as conn:
        assert conn.execute('select count(*), count(distinct "External_Id__c") from clv_customer_scores').fetchone() == (80, 80)
        assert conn.execute("select count(*) from clv_model_runs").fetchone() == (1,)

    result = clv("targets", summary, "--models", models, "-o", tmp_path / "targets.csv", "--lapsed-window", 8)
    assert result.returncode == 0, result.stderr
    targets = pd.read_csv(tmp_path / "targets.csv")
    assert list(targets["rank"]) == list(range(1, len(targets) + 1))
    assert (targets["expected_value"] > 0).all()


def test_score_refuses_a_transaction_log_as_summary(log_file, tmp_path):
    pd.read_csv(log_file).to_parquet(tmp_path / "log.parquet")
    (tmp_path / "models").mkdir()
    result = clv("score", tmp_path / "log.parquet", "--models", tmp_path / "models", "-o", tmp_path / "s.parquet")
    assert_one_line_error(result, "not a customer summary")


def test_run_quiet_writes_every_output_and_prints_nothing(log_file, tmp_path):
    result = clv("run", log_file, "--out", tmp_path / "out", "--observation-end", "2023-12-31", "--quiet")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and result.stderr == ""
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["clvmodels.db", "scores.csv", "scores.parquet", "winback_targets.csv"]


def test_demo_twice_gives_identical_files_and_no_duplicate_rows(tmp_path):
    first = clv("demo", "--out", "demo", "--seed", 5, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "customers: 2,357" in first.stdout and "r=0.2426" in first.stdout  # FHL 2005: r = 0.243
    files = {name: (tmp_path / "demo" / name).read_bytes() for name in ("scores.csv", "scores.parquet",
                                                                        "winback_targets.csv")}
    second = clv("demo", "--out", "demo", "--seed", 5, cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "0 rows inserted, 2,357 updated" in second.stdout
    for name, content in files.items():
        assert (tmp_path / "demo" / name).read_bytes() == content, name
    with sqlite3.connect(tmp_path / "demo" / "clvmodels.db") as conn:
        assert conn.execute("select count(*), count(distinct customer_id) from clv_customer_scores").fetchone() == (2357, 2357)
        assert conn.execute("select count(*) from clv_model_runs").fetchone() == (1,)


def test_value_deciles_put_the_top_tenth_first():
    from clvmodels.pipeline import SEGMENT_OF_DECILE, value_deciles

    values = pd.Series([float(v) for v in range(20)] + [np.nan], index=[f"c{i}" for i in range(21)])
    deciles = value_deciles(values)
    assert deciles[["c19", "c18"]].tolist() == [1, 1] and deciles[["c1", "c0"]].tolist() == [10, 10]
    assert deciles.value_counts().tolist() == [2] * 10 and pd.isna(deciles["c20"])
    assert [SEGMENT_OF_DECILE[d] for d in (1, 2, 4, 8)] == ["top", "high", "medium", "low"]


def test_pipeline_frame_carries_the_published_cdnow_prediction():
    """Wiring check on CDNOW: the customer with x=2, t_x=30.43, T=38.86 expects
    1.226 purchases in the next 39 weeks (Fader, Hardie & Lee 2005, section 5); tolerance 0.002 for
    the MLE versus the paper's rounded parameters. The export columns are the stages' own numbers.
    A 10-point uplift makes some win-back contacts pay within the 39-week horizon (at the default
    5 points none does: 5% of a returner's ~12 of margin is below the 1.0 contact cost)."""
    from clvmodels.datasets import load_cdnow_summary
    from clvmodels.pipeline import PipelineSettings, run_pipeline

    summary = load_cdnow_summary(holdout=False)
    result = run_pipeline(None, PipelineSettings(horizon=39, uplift=0.1, seed=0), summary=summary)
    frame = result.frame
    row = frame.loc[1]
    assert (row["frequency"], round(row["recency"], 2), round(row["tenure"], 2)) == (2, 30.43, 38.86)
    assert abs(row["expected_purchases"] - 1.226) < 0.002
    pd.testing.assert_series_equal(frame["p_alive"], result.predictions["p_alive"])
    pd.testing.assert_series_equal(frame["net_value"], result.values["net_value"])
    pd.testing.assert_series_equal(frame["future_margin"], result.values["expected_future_margin"],
                                   check_names=False)
    chosen = result.targets[result.targets["selected"].to_numpy(bool)]
    assert frame["reactivation_target"].sum() == len(chosen) > 0
    assert frame.loc[chosen.index, "reactivation_rank"].tolist() == list(range(1, len(chosen) + 1))
    assert result.run.parameters["purchase"]["r"] == pytest.approx(0.243, abs=5e-4)  # FHL 2005 table
