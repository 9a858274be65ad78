"""`clvmodels subscriptions`: a subscription log in, contractual value and break-even commission out.

The command is registered in clvmodels.cli.main by the lead; here it is invoked directly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from clvmodels.cli.cmd_subscriptions import subscriptions
from clvmodels.errors import DataError


@pytest.fixture
def log_csv(tmp_path):
    """A yearly plan, 2,000 subscribers started 2015-2019, theta ~ Beta(2, 4) (5 years on average),
    two channels, observed to 2024-12-31."""
    rng = np.random.default_rng(1)
    n = 2000
    start = pd.to_datetime("2015-01-01") + pd.to_timedelta(rng.integers(0, 365 * 5, n), unit="D")
    years = rng.geometric(rng.beta(2, 4, n))
    end = [s + pd.DateOffset(years=int(y)) for s, y in zip(start, years)]
    log = pd.DataFrame({"customer_id": [f"u{i}" for i in range(n)], "start": start.strftime("%Y-%m-%d"),
                        "end": [e.strftime("%Y-%m-%d") if e <= pd.Timestamp("2024-12-31") else "" for e in end],
                        "channel": rng.choice(["affiliate", "direct"], n), "cpa": rng.choice([50.0, 95.0], n)})
    path = tmp_path / "log.csv"
    log.to_csv(path, index=False)
    return path


def run(args):
    return CliRunner().invoke(subscriptions, [str(a) for a in args], catch_exceptions=True)


def test_value_and_break_even_files(log_csv, tmp_path):
    """The break-even commission is margin x price x DEL of each channel's fit; the value file has
    one row per subscriber whose net values add up to the groups' total; year 1 shows
    0.6 x 95.4 - 95 = -37.76 (the web host)."""
    out, be, groups = tmp_path / "value.csv", tmp_path / "be.csv", tmp_path / "groups.csv"
    result = run([log_csv, "--observation-end", "2024-12-31", "--channel-col", "channel", "--price", 95.4,
                  "--margin", 0.6, "--commission", 95, "--pool-by", "channel", "-o", out,
                  "--break-even", be, "--groups", groups])
    assert result.exit_code == 0, result.output
    value = pd.read_csv(out)
    assert len(value) == 2000 and value["customer_id"].is_unique
    table = pd.read_csv(be, index_col=0)
    assert list(table.index) == ["affiliate", "direct"]
    np.testing.assert_allclose(table["break_even_acquisition_cost"], 57.24 * table["del"], rtol=1e-12)
    np.testing.assert_allclose(table["first_period_net"], -37.76, atol=1e-9)
    assert ((table["break_even_acquisition_cost"] > 200) & (table["break_even_acquisition_cost"] < 400)).all()
    rolled = pd.read_csv(groups, index_col=0)
    assert rolled.loc["total", "net_value"] == pytest.approx(value["net_value"].sum(), rel=1e-9)
    assert rolled.loc["total", "customers"] == 2000
    np.testing.assert_allclose(value["clv"] - value["acquisition_cost"], value["net_value"], atol=1e-9)
    assert "break-even commission" in result.output


def test_commission_column_and_parquet_with_intervals(log_csv, tmp_path):
    out = tmp_path / "value.parquet"
    result = run([log_csv, "--observation-end", "2024-12-31", "--price", 95.4, "--margin", 0.6,
                  "--commission-col", "cpa", "--uncertainty", "predictive", "--draws", 50, "--discount-rate", 0.1,
                  "-o", out])
    assert result.exit_code == 0, result.output
    value = pd.read_parquet(out)
    assert set(value["acquisition_cost"]) == {50.0, 95.0}
    assert (value["future_margin_lower"] <= value["future_margin_upper"]).all()
    assert value["interval_level"].iloc[0] == 0.9


def test_refusals(log_csv, tmp_path):
    base = [log_csv, "--observation-end", "2024-12-31", "--margin", 0.6]
    result = run(base + ["-o", tmp_path / "v.csv"])
    assert isinstance(result.exception, DataError) and "price" in str(result.exception)
    result = run(base + ["--price", 10, "-o", tmp_path / "v.txt"])
    assert isinstance(result.exception, DataError) and ".csv or .parquet" in str(result.exception)
    result = run([tmp_path / "missing.csv", "--observation-end", "2024-12-31", "--margin", 0.6, "--price", 1,
                  "-o", tmp_path / "v.csv"])
    assert isinstance(result.exception, DataError) and "no such file" in str(result.exception)
    result = run([log_csv, "--observation-end", "2020-12-31", "--margin", 0.6, "--price", 1, "-o", tmp_path / "v.csv"])
    assert isinstance(result.exception, DataError) and "observation end" in str(result.exception)
    assert not (tmp_path / "v.csv").exists()
