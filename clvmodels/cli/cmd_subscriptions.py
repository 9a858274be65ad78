"""``clvmodels subscriptions``: from a subscription log to contractual value and the break-even commission.

Reads a log with one row per subscription (CSV or Parquet), builds the tenure table
(:func:`clvmodels.subscription_tenures`: renewals on anniversaries, exact right censoring), fits
the sBG (:class:`~clvmodels.models.shifted_beta_geo.ShiftedBetaGeoModel`, per cohort or channel
with ``--pool-by``), and writes each subscriber's contractual value in the CRM export's columns
plus a table of what a new customer is worth per segment: the break-even acquisition cost
(commission). Timing: payment at the start of each billing period (see
:mod:`clvmodels.value.contractual`).
"""

from __future__ import annotations

from pathlib import Path

import click

from clvmodels.cli import options as opt
from clvmodels.errors import DataError

UNCERTAINTY = ("none", "expected", "predictive")


def read_log(path):
    """A subscription log from a CSV or Parquet file (ids read as text from CSV)."""
    import pandas as pd

    from clvmodels.cli.io import _read_parquet

    suffix = Path(path).suffix.lower()
    if suffix == ".parquet":
        return _read_parquet(path, "the subscription log", "check the file")
    if suffix != ".csv":
        raise DataError(f"the subscription log must be a .csv or .parquet file; got {str(path)!r}")
    if not Path(path).is_file():
        raise DataError(f"cannot read the subscription log {str(path)!r}: there is no such file; check the path")
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read the subscription log {str(path)!r}: {exc}") from exc


def _write_table(table, path) -> Path:
    from clvmodels.export.files import atomic_write

    if Path(path).suffix.lower() != ".csv":
        raise DataError(f"write the break-even and group tables as .csv files; got {str(path)!r}")
    return atomic_write(path, lambda tmp: table.to_csv(tmp))


@click.command()
@click.argument("log", type=click.Path())
@click.option("--observation-end", required=True, help="Last day observed, inclusive (YYYY-MM-DD).")
@click.option("--period", type=click.Choice(["D", "W", "M", "Y"]), default="Y", show_default=True,
              help="Billing period: renewals on daily, weekly, monthly or yearly anniversaries of the start.")
@click.option("--customer-id-col", default="customer_id", show_default=True, help="Column of customer ids.")
@click.option("--start-col", default="start", show_default=True, help="Column of the first day of service.")
@click.option("--end-col", default="end", show_default=True, help="Column of the day service stopped (empty: active).")
@click.option("--price-col", default=None, help="Column of the price per period (else --price).")
@click.option("--channel-col", default=None, help="Column of the acquisition channel (carried as `channel`).")
@click.option("--commission-col", default=None, help="Column of each customer's acquisition cost (else --commission).")
@click.option("--price", type=float, default=None, help="Price per period, for every subscriber and a new one.")
@click.option("--margin", type=float, required=True, help="Share of the price kept, 0-1 (0.6 for 60%).")
@click.option("--commission", type=float, default=0.0, show_default=True,
              help="Acquisition cost of a customer (e.g. an affiliate commission).")
@click.option("--discount-rate", type=float, default=0.0, show_default=True, help="Annual discount rate, 0-1.")
@click.option("--pool-by", default=None, help="Fit one sBG per `cohort` or `channel` (a tenure-table column).")
@click.option("--by", "by", default=None, help="Roll the value up by this column (default: --pool-by).")
@click.option("--method", type=click.Choice(["mle", "bayes"]), default="mle", show_default=True)
@click.option("--uncertainty", type=click.Choice(UNCERTAINTY), default="none", show_default=True,
              help="Interval of the future margin: parameter uncertainty or what subscribers will do.")
@click.option("--level", type=float, default=0.9, show_default=True, help="Coverage of the intervals.")
@click.option("--draws", "n_draws", type=int, default=300, show_default=True, help="Draws behind an interval.")
@click.option("--late-ends", type=click.Choice(["refuse", "censor"]), default="refuse", show_default=True,
              help="An end after the observation end: refuse, or read as active.")
@click.option("--repeat-subscriptions", type=click.Choice(["refuse", "first"]), default="refuse", show_default=True,
              help="Customers with several subscriptions: refuse, or keep each one's first.")
@click.option("--currency", default=None, help="Currency of the money columns (recorded in the export).")
@click.option("-o", "--out", required=True, type=click.Path(dir_okay=False),
              help="Per-subscriber value in the export's columns (.csv or .parquet).")
@click.option("--break-even", "break_even_out", default=None, type=click.Path(dir_okay=False),
              help="Break-even commission table per segment (.csv).")
@click.option("--groups", "groups_out", default=None, type=click.Path(dir_okay=False),
              help="Value rolled up by --by (.csv).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of every random draw.")
@opt.verbosity
def subscriptions(log, observation_end, period, customer_id_col, start_col, end_col, price_col, channel_col,
                  commission_col, price, margin, commission, discount_rate, pool_by, by, method, uncertainty,
                  level, n_draws, late_ends, repeat_subscriptions, currency, out, break_even_out, groups_out, seed):
    """Fit the sBG to a subscription log and write contractual value and the break-even commission.

    Each subscription row has a customer id, a start, an end (empty while active) and optionally
    a price and a channel. Payment is at the start of each period, the first at acquisition.
    """
    from clvmodels.data.subscriptions import subscription_tenures
    from clvmodels.export import new_run, write_csv, write_parquet
    from clvmodels.models.shifted_beta_geo import ShiftedBetaGeoModel
    from clvmodels.value.contractual import ContractTerms, break_even_table, contractual_value, export_frame

    reporter = opt.make_reporter()
    suffix = Path(out).suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise DataError(f"--out must be a .csv or .parquet file; got {out!r}")
    if price is None and price_col is None:
        raise DataError("give the price per period: --price 95.4, or --price-col naming the log's column")
    raw = read_log(log)
    with reporter("tenures"):
        tenures = subscription_tenures(raw, observation_end=observation_end, period=period,
                                       customer_id_col=customer_id_col, start_col=start_col, end_col=end_col,
                                       price_col=price_col, channel_col=channel_col, late_ends=late_ends,
                                       repeat_subscriptions=repeat_subscriptions)
    if commission_col is not None:
        if commission_col not in raw.columns:
            raise DataError(f"--commission-col {commission_col!r} is not a column of the log; columns are "
                            f"{list(raw.columns)[:12]}")
        costs = raw.set_index(customer_id_col)[commission_col]
        tenures["acquisition_cost"] = costs[~costs.index.duplicated()].reindex(tenures.index).to_numpy()
    terms = ContractTerms(margin=margin, price=price, discount_rate=discount_rate,
                          acquisition_cost="acquisition_cost" if commission_col else commission)
    with reporter("sBG fit"):
        model = ShiftedBetaGeoModel(method=method, pool_by=pool_by, seed=seed,
                                    progressbar=reporter.show_progress).fit(tenures)
    kind = None if uncertainty == "none" else uncertainty
    with reporter("contractual value"):
        value = contractual_value(model, tenures, terms, by=by or pool_by, uncertainty=kind, level=level,
                                  n_draws=n_draws, seed=seed)
    run = new_run(summary=tenures, models={"subscription": model}, seed=seed,
                  interval_level=level if kind else None, currency=currency,
                  configuration={"period": period, "margin": margin, "discount_rate": discount_rate,
                                 "commission": commission_col or commission, "pool_by": pool_by})
    frame = export_frame(value)
    path = (write_parquet if suffix == ".parquet" else write_csv)(frame, out, run)
    params = model.params_
    reporter.say(f"subscribers: {len(tenures):,} ({int(tenures['churned'].sum()):,} left), billing period {period}")
    reporter.say(f"sBG ({method}): " + (", ".join(f"{k}={v:.4g}" for k, v in params.items())
                                        if params.ndim == 1 else f"{len(params)} segments"))
    total = value.groups.loc["total"]
    reporter.say(f"lifetime value {total['lifetime_value']:,.2f}, acquisition cost {total['acquisition_cost']:,.2f}, "
                 f"net {total['net_value']:,.2f}" + (f" {currency}" if currency else ""))
    reporter.say(f"value: {path}")
    if price is not None:
        table = break_even_table(model, ContractTerms(margin=margin, price=price, discount_rate=discount_rate,
                                                      acquisition_cost=commission),
                                 uncertainty=kind, level=level, n_draws=n_draws, seed=seed)
        for label, row in table.iterrows():
            name = "" if pool_by is None else f"{label}: "
            reporter.say(f"{name}break-even commission {row['break_even_acquisition_cost']:,.2f} "
                         f"(commission {commission:,.2f}, first period net {row['first_period_net']:,.2f}, "
                         f"paid back after {row['payback_periods']:g} payments with probability {row['p_payback']:.3f})")
        if break_even_out:
            reporter.say(f"break-even: {_write_table(table, break_even_out)}")
    elif break_even_out:
        raise DataError("--break-even needs --price (a new customer's price per period)")
    if groups_out:
        reporter.say(f"groups: {_write_table(value.groups, groups_out)}")
