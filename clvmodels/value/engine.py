"""The chunk loop behind :func:`clvmodels.customer_value` and :func:`clvmodels.value_rollup`.

Customers stream through in chunks (sorted by history so that identical customers share a chunk).
For each chunk the value of every customer is computed for S paired draws of the purchase and
spend models' parameters (draw s of one model with draw s of the other), giving (S, chunk)
arrays that are summarised per customer, added into per-draw group totals, and dropped.

Referral attribution couples customers: ``share`` of a referred customer's own value moves to
their referrer, who may sit in another chunk. Per-draw sums are therefore kept for the referrers
only (two (S, number of referrers) arrays) and summarised after the last chunk. Every other
customer's attributed value is a non-decreasing affine map of their own future margin, so its
interval is the margin's mapped (quantiles commute with such maps).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from clvmodels.models import scoring
from clvmodels.models.intervals import chunk_size_for, interval_bounds, iter_chunks
from clvmodels.progress import progress_bar
from clvmodels.value.expected import FutureFlows, distinct_rows, family_alive_branch, family_flows
from clvmodels.value.expected import new_customer_value
from clvmodels.value.referrals import purchase_occasions
from clvmodels.value.run_parts import (ValueInputs, ValueOutputs, _alive_branch_threaded, _in_order,
                                       paired_draws)
from clvmodels.value.totals import GroupTotals, group_codes


def _bounds(values: np.ndarray, level: float, predictive: bool) -> tuple[np.ndarray, np.ndarray]:
    # predictive bounds are simulated values
    return interval_bounds(values, level, "inverted_cdf" if predictive else "linear")


@dataclass(frozen=True)
class _ChunkDraws:
    """Per-draw values of one chunk (``rows``: summary rows, shape (m,)) waiting to be summed."""

    rows: np.ndarray
    margin_p: np.ndarray
    margin_d: np.ndarray
    ref_p: np.ndarray | float
    ref_d: np.ndarray
    vnew: np.ndarray
    vnew_p: np.ndarray


class _Run:
    """State of one pass over the customers."""

    def __init__(self, purchase_model, spend_model, inputs: ValueInputs, *, uncertainty, level,
                 n_draws, seed, rollup_by, chunk_size):
        self.bg_model, self.gg_model, self.inputs = purchase_model, spend_model, inputs
        self.family = purchase_model.family  # checked by role at the entry point
        self.econ, self.level = inputs.econ, level
        self.predictive = uncertainty == "predictive"
        self.bayes = "bayes" in (purchase_model.method, spend_model.method)
        self.intervals = uncertainty is not None
        use_draws = self.intervals or self.bayes
        # independent streams: BG draws, GG draws, simulation (the models' draws must not share
        # their standard normals, or the paired draws would be correlated)
        seed_bg, seed_gg, self.seed_sim = np.random.SeedSequence(seed).spawn(3)
        self.bg_draws, self.gg_draws = paired_draws(purchase_model, spend_model, use_draws,
                                                    n_draws, seed_bg, seed_gg)
        self.S = self.bg_draws.n_draws
        self.plugin = use_draws and not self.bayes  # point columns at the MLE, not the draw mean
        rates = inputs.rates
        self.refer = rates is not None and rates.population_rate > 0
        self.need_alive = self.econ.cost_to_serve > 0
        n = len(inputs.summary)
        # the simulation's temporaries per chunk are budgeted at ~200 MB (48 arrays), so a few
        # threads' chunks at once stay well inside memory (the size must not depend on the
        # number of threads: the chunks' random streams are keyed by chunk)
        self.chunk_size = chunk_size or chunk_size_for(self.S, n_arrays=48 if self.predictive else 12)
        # the family's history columns in order (frequency first), its alive key, the mean spend
        self.hist = inputs.purchase_history(self.family.history_columns)
        self.key = self.family.key_of(*self.hist)
        self.x, self.mbar = self.hist[0], inputs.mean_spend
        self.totals = {}
        for by in rollup_by:
            codes, labels = group_codes(inputs.summary, by)
            self.totals[by] = GroupTotals(by, codes, labels, self.S)
        self.cols = {k: np.zeros(n) for k in ("future", "future_referrals", "vnew")}
        self.bnd = {k: (np.full(n, np.nan), np.full(n, np.nan))
                    for k in ("future", "future_referrals", "future_value", "clv", "net",
                              "attributed")} if self.intervals else {}
        links = inputs.links
        self.slot = np.full(n, -1, dtype=np.int64)
        if links is not None:
            referrers = links.referrers
            self.slot[referrers] = np.arange(referrers.size)
            self.credit_acc = np.zeros((self.S, referrers.size))  # referral credit per draw
            self.own_acc = np.zeros((self.S, referrers.size))  # own value kept, per draw

    # ----- one chunk -------------------------------------------------------------------------------
    def _params(self, part: pd.DataFrame, point: bool) -> tuple[dict, dict]:
        if point:
            return self.bg_model.customer_params(part), self.gg_model.customer_params(part)
        return (self.bg_model.customer_params(part, self.bg_draws),
                self.gg_model.customer_params(part, self.gg_draws))

    def _precompute_alive_branch(self, for_draws: bool) -> None:
        """The alive-branch integrals of every distinct (x, T) at once (per segment too, for a
        model pooled by segment, whose parameters differ between segments): customers of all
        chunks share them, so chunks need not redo them. Skipped when the (S, distinct) tables
        would exceed ~400 MB (then each chunk computes its own)."""
        self.branch = {}
        segments = None
        if self.bg_draws.values.ndim != 2:  # pooled by segment: the segment is part of the key
            segments = self.bg_model.segment_codes(self.inputs.summary)
            first, self.branch_row = distinct_rows(*self.key, segments)
        else:
            first, self.branch_row = distinct_rows(*self.key)
        if 2 * 8 * (self.S + 1) * first.size > 400e6:
            return
        keyd = tuple(k[first] for k in self.key)
        at = None if segments is None else segments[first]
        if for_draws:
            draws = self.bg_draws.for_customers(at)
            self.branch[False] = _alive_branch_threaded(self.econ, self.family, draws, keyd,
                                                        self.need_alive)
        if self.plugin:
            point = self.bg_model.point_draws().for_customers(at)
            self.branch[True] = family_alive_branch(self.econ, self.family, point, keyd,
                                                    self.need_alive)

    def _future(self, rows, bg, gg, point: bool = False):
        """Expected discounted future purchases and margin, per draw (S, m)."""
        hist = tuple(h[rows] for h in self.hist)
        branch = None
        if point in self.branch:
            purchases, alive = self.branch[point]
            at = self.branch_row[rows]
            branch = purchases[:, at], None if alive is None else alive[:, at]
        return family_flows(self.econ, self.family, bg, gg, hist, self.mbar[rows],
                            with_alive_time=self.need_alive, branch=branch)

    def _referral_rate(self, rows) -> np.ndarray:
        """Posterior mean referrals per purchase occasion, shape (m,)."""
        links, rates = self.inputs.links, self.inputs.rates
        return rates.posterior_mean(links.counts[rows], purchase_occasions(self.x[rows]))

    def chunk(self, index: int, rows: np.ndarray) -> None:
        """Value one chunk and add it into the shared per-draw sums (the sequential path)."""
        self.accumulate(self.compute(index, rows))

    def compute(self, index: int, rows: np.ndarray) -> _ChunkDraws:
        """Everything of one chunk that touches no shared state: fills the chunk's rows of the
        per-customer columns and bounds (disjoint between chunks, so threads may run it at
        once) and returns the per-draw values that :meth:`accumulate` adds into shared sums."""
        part = self.inputs.summary.iloc[rows]
        bg, gg = self._params(part, point=False)
        vnew = new_customer_value(self.econ, bg, gg, family=self.family)
        # per-draw expectations give the expected interval, and the point value of Bayesian fits;
        # a predictive run of an MLE fit needs neither
        flows_e = distinct = None
        if not (self.predictive and self.plugin):
            distinct = self._distinct_rows(rows, bg, gg)
            if distinct is None:
                flows_e = self._future(rows, bg, gg)
            else:  # identical histories have identical expectations: compute them once
                first, inverse = distinct
                flows_u = self._future(rows[first], bg, gg)
                flows_e = FutureFlows(flows_u.purchases[:, inverse], flows_u.margin[:, inverse], None)
                distinct = (flows_u.margin, inverse)
        if self.plugin:
            bg_point, gg_point = self._params(part, point=True)
            flows_p = self._future(rows, bg_point, gg_point, point=True)
            margin_p = flows_p.margin[0]
            vnew_p = np.broadcast_to(new_customer_value(self.econ, bg_point, gg_point,
                                                        family=self.family)[0], rows.shape)
        else:
            margin_p, vnew_p = flows_e.margin.mean(axis=0), np.broadcast_to(vnew.mean(axis=0),
                                                                            rows.shape)
        ref_e = ref_p = 0.0
        if self.refer:  # referrals per purchase occasion x discounted future purchases
            rate = self._referral_rate(rows)
            if flows_e is not None:
                ref_e = rate * flows_e.purchases * vnew
            ref_p = (rate * flows_p.purchases * vnew_p)[0] if self.plugin else ref_e.mean(axis=0)
        margin_d, ref_d = (None, ref_e) if flows_e is None else (flows_e.margin, ref_e)
        if self.predictive:
            from clvmodels.value.simulate import simulate_chunk

            child = np.random.SeedSequence(self.seed_sim.entropy,
                                           spawn_key=self.seed_sim.spawn_key + (index,))
            rng = np.random.default_rng(child)
            links, rates = self.inputs.links, self.inputs.rates
            margin_d, ref_d = simulate_chunk(
                rng, self.econ, bg, gg, *(h[rows] for h in self.hist), self.mbar[rows],
                rates=rates if self.refer else None,
                referral_counts=None if links is None else links.counts[rows], vnew=vnew,
                family=self.family)
        self.cols["future"][rows] = margin_p
        self.cols["future_referrals"][rows] = ref_p
        self.cols["vnew"][rows] = vnew_p
        margin_d = np.broadcast_to(margin_d, (self.S, rows.size))
        ref_d = np.broadcast_to(ref_d, (self.S, rows.size))
        self._per_customer(rows, margin_d, ref_d, None if self.predictive else distinct)
        return _ChunkDraws(rows, margin_p, margin_d, ref_p, ref_d, vnew, vnew_p)

    def accumulate(self, c: _ChunkDraws) -> None:
        """Add one chunk into the shared per-draw sums; called in chunk order, so the sums are
        the same whatever the number of threads."""
        self._referral_credit(c.rows, c.margin_d)
        self._group_totals(c.rows, c.margin_p, c.margin_d, c.ref_p, c.ref_d, c.vnew, c.vnew_p)

    def _moved_share(self, rows) -> np.ndarray:
        """Share of each customer's own value that attribution moves to a referrer, shape (m,)."""
        links = self.inputs.links
        if links is None:
            return np.zeros(rows.size)
        return np.where(links.referrer_of[rows] >= 0, links.share, 0.0)

    def _distinct_rows(self, rows, bg: dict, gg: dict) -> tuple[np.ndarray, np.ndarray] | None:
        """Runs of identical histories (the family's history columns and mbar) among the chunk's
        rows (sorted by history, so one-time buyers of one age are adjacent): the first row of each run and,
        per row, its run; None when parameters differ between customers (models pooled by
        segment) or when too few rows repeat to pay for the bookkeeping."""
        if self.S < 8 or any(np.shape(v)[-1] > 1 for v in (*bg.values(), *gg.values())):
            return None  # a point run: finding the runs costs more than it saves
        keys = (*(h[rows] for h in self.hist), self.mbar[rows])
        new = np.ones(rows.size, dtype=bool)
        new[1:] = np.logical_or.reduce([k[1:] != k[:-1] for k in keys])
        first = np.flatnonzero(new)
        if first.size > 0.8 * rows.size:
            return None
        return first, np.cumsum(new) - 1

    def _per_customer(self, rows, margin_d, ref_d, distinct=None) -> None:
        realised, acq = self.inputs.realised[rows], self.inputs.acquisition[rows]
        moved = self._moved_share(rows)
        links = self.inputs.links
        if links is not None:
            mine = self.slot[rows] >= 0
            if mine.any():  # each referrer sits in one chunk: disjoint columns
                kept = (1.0 - moved[mine]) * (realised[mine] + margin_d[:, mine]) - acq[mine]
                self.own_acc[:, self.slot[rows][mine]] = kept
        if not self.intervals:
            return
        predictive = self.predictive
        if distinct is None:
            lower, upper = _bounds(margin_d, self.level, predictive)
        else:  # the bounds of identical histories' (identical) draws, computed once
            margin_u, inverse = distinct
            lower, upper = (b[inverse] for b in _bounds(margin_u, self.level, predictive))
        # the own value columns are the margin shifted by per-customer constants; the attributed
        # value of a customer who refers nobody is (1 - moved) x clv - acquisition cost
        shifted = {"future": (1.0, 0.0), "clv": (1.0, realised), "net": (1.0, realised - acq),
                   "attributed": (1.0 - moved, (1.0 - moved) * realised - acq)}
        for key, (scale, shift) in shifted.items():
            self.bnd[key][0][rows], self.bnd[key][1][rows] = scale * lower + shift, scale * upper + shift
        if self.refer:  # future referrals vary by draw: their own quantiles
            for key, draws in (("future_referrals", ref_d), ("future_value", margin_d + ref_d)):
                self.bnd[key][0][rows], self.bnd[key][1][rows] = _bounds(draws, self.level, predictive)
        else:
            self.bnd["future_referrals"][0][rows] = self.bnd["future_referrals"][1][rows] = 0.0
            self.bnd["future_value"][0][rows], self.bnd["future_value"][1][rows] = lower, upper

    def _referral_credit(self, rows, margin_d) -> None:
        """Credit the referrers of this chunk's referred customers, draw by draw (shared sums:
        referrers may sit in any chunk)."""
        links = self.inputs.links
        if links is None:
            return
        referred = links.referrer_of[rows] >= 0
        if referred.any():
            slots = self.slot[links.referrer_of[rows][referred]]
            clv_d = self.inputs.realised[rows][referred] + margin_d[:, referred]
            np.add.at(self.credit_acc.T, slots, (links.share * clv_d).T)

    def _group_totals(self, rows, margin_p, margin_d, ref_p, ref_d, vnew, vnew_p) -> None:
        links, realised = self.inputs.links, self.inputs.realised[rows]
        for totals in self.totals.values():
            totals.add("customers", rows, np.ones(rows.size))
            totals.add("realised_margin", rows, realised)
            totals.add("acquisition_cost", rows, self.inputs.acquisition[rows])
            totals.add("future_margin_point", rows, margin_p)
            totals.add("new_customer_value_point", rows, vnew_p)
            totals.add("future_margin", rows, margin_d)
            totals.add("new_customer_value", rows, vnew)
            totals.add("future_referral_value_point", rows, np.broadcast_to(ref_p, rows.shape))
            totals.add("future_referral_value", rows, ref_d)
            if links is not None:  # attribution: moved from the referred to the referrer's group
                referred = links.referrer_of[rows] >= 0
                if referred.any():
                    src, to = rows[referred], links.referrer_of[rows][referred]
                    credit_p = links.share * (realised + margin_p)[referred]
                    credit_d = links.share * (realised + margin_d)[:, referred]
                    totals.add("referral_attribution_point", src, -credit_p)
                    totals.add("referral_attribution_point", to, credit_p)
                    totals.add("referral_attribution", src, -credit_d)
                    totals.add("referral_attribution", to, credit_d)

    # ----- after the last chunk ----------------------------------------------------------------------
    def finish(self) -> ValueOutputs:
        inputs = self.inputs
        realised, acq = inputs.realised, inputs.acquisition
        future, future_refs = self.cols["future"], self.cols["future_referrals"]
        n = len(realised)
        clv = realised + future
        links = inputs.links
        credit, given, made = np.zeros(n), np.zeros(n), np.zeros(n, dtype=np.int64)
        if links is not None:
            referred = np.flatnonzero(links.referrer_of >= 0)
            given[referred] = links.share * clv[referred]
            credit = np.bincount(links.referrer_of[referred], weights=given[referred], minlength=n)
            made = links.counts.astype(np.int64)
            if self.intervals and links.referrers.size:
                lower, upper = _bounds(self.own_acc + self.credit_acc, self.level, self.predictive)
                self.bnd["attributed"][0][links.referrers] = lower
                self.bnd["attributed"][1][links.referrers] = upper
        columns = {"realised_margin": realised, "expected_future_margin": future}
        self._add_bounds(columns, "expected_future_margin", "future")
        columns["clv"] = clv
        self._add_bounds(columns, "clv", "clv")
        columns["acquisition_cost"] = acq
        columns["net_value"] = clv - acq
        self._add_bounds(columns, "net_value", "net")
        columns["referrals_made"] = made
        columns["referral_credit"] = credit
        columns["credited_to_referrer"] = given
        columns["attributed_net_value"] = clv - acq + credit - given
        self._add_bounds(columns, "attributed_net_value", "attributed")
        columns["future_referral_value"] = future_refs
        self._add_bounds(columns, "future_referral_value", "future_referrals")
        columns["future_value"] = future + future_refs
        self._add_bounds(columns, "future_value", "future_value")
        return ValueOutputs(columns, self.totals, self.S, self.intervals)

    def _add_bounds(self, columns, name, key) -> None:
        if self.intervals:
            columns[f"{name}_lower"], columns[f"{name}_upper"] = self.bnd[key]

    def run(self) -> ValueOutputs:
        # a predictive run of an MLE fit needs no per-draw expectations (see chunk)
        self._precompute_alive_branch(for_draws=not (self.predictive and self.plugin))
        n = self.x.size
        if not (self.intervals or self.totals or self.predictive) and n <= self.chunk_size:
            # one chunk, no random numbers and nothing summed over customers: every value is
            # computed customer by customer, so the order of the customers changes nothing
            order = np.arange(n)
        else:  # identical histories adjacent (shared work), chunks and streams fixed by history
            order = np.lexsort(self.hist[::-1])  # by frequency, then recency, then age
        chunks = [order[sl] for sl in iter_chunks(order.size, self.chunk_size)]
        with progress_bar(order.size, "customer value", unit="customers") as advance:
            for result in _in_order(self.compute, chunks, scoring.N_THREADS):
                self.accumulate(result)
                advance(result.rows.size)
        return self.finish()


def run_value(purchase_model, spend_model, inputs: ValueInputs, *, uncertainty, level: float,
              n_draws: int, seed, rollup_by=(), chunk_size: int | None = None) -> ValueOutputs:
    """Value every customer of ``inputs.summary`` in one pass over chunks of customers.

    Parameters
    ----------
    uncertainty : {None, "expected", "predictive"}
        No interval, the interval of the expected value (parameter uncertainty of both models),
        or the predictive interval (simulated futures, one per parameter draw).
    rollup_by : sequence of (None, str or tuple of str)
        Groupings to accumulate per-draw group totals for (None: all customers as one group; a
        tuple: one group per combination of the columns' values).
    chunk_size : int, optional
        Customers per chunk; by default so that a dozen (S, chunk) arrays take ~400 MB.

    Returns
    -------
    ValueOutputs
    """
    run = _Run(purchase_model, spend_model, inputs, uncertainty=uncertainty, level=level,
               n_draws=n_draws, seed=seed, rollup_by=list(rollup_by), chunk_size=chunk_size)
    return run.run()
